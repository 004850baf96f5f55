"""Experiment 1's tables from the per-classifier outputs: accuracy per subject group and the paper's Table 1."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

__all__ = ["DEPENDENT", "INDEPENDENT", "MAJORITY", "accuracy_table", "table1"]

DEPENDENT = "✓"
"""Table 1's mark for a majority decision of dependence (p < alpha in at least two of three tests)."""

INDEPENDENT = "✗"

MAJORITY = "majority"
"""The ``test`` value of the majority vote's rows."""


def accuracy_table(predictions: Sequence[pd.DataFrame], excluded: pd.DataFrame) -> pd.DataFrame:
    """Accuracy per subject group for each classifier and pooled per training set.

    Parameters
    ----------
    predictions
        Each classifier's cohort predictions (columns ``cohort, training_set, classifier, group, correct``).
    excluded
        The images face quality control left out (a ``face_qc.csv``; column ``group``).

    Returns
    -------
    pandas.DataFrame
        One row per (cohort, training set, classifier, group), then the rows with ``classifier = "all"`` that pool
        the classifiers of one training set as the paper does (97.40 % for probands, 58.25 % for patients over its
        FER2013 models): ``n_classifiers, n_images, n_excluded`` (the group's images face quality control left
        out: a group whose faces fail more often is visible beside its accuracy), ``n_correct, accuracy`` and the
        exact (Clopper–Pearson) 95 % interval ``ci_low, ci_high`` of the pooled images, which treats images as
        independent although each subject contributes several.
    """
    from scipy.stats import binomtest

    combined = pd.concat(list(predictions), ignore_index=True)
    counts = excluded["group"].astype(str).value_counts()
    rows = []
    for pooled in (False, True):
        keys = ["cohort", "training_set", "group"] if pooled else ["cohort", "training_set", "classifier", "group"]
        for key, part in combined.groupby(keys, sort=False):
            values = dict(zip(keys, key, strict=True))
            count, hits = len(part), int(part["correct"].sum())
            interval = binomtest(hits, count).proportion_ci(0.95, method="exact")
            rows.append(
                {
                    "cohort": values["cohort"],
                    "training_set": values["training_set"],
                    "classifier": "all" if pooled else values["classifier"],
                    "n_classifiers": part["classifier"].nunique(),
                    "group": values["group"],
                    "n_images": count,
                    "n_excluded": int(counts.get(str(values["group"]), 0)),
                    "n_correct": hits,
                    "accuracy": hits / count,
                    "ci_low": interval.low,
                    "ci_high": interval.high,
                }
            )
    return pd.DataFrame(rows)


def table1(tests: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The paper's Table 1: ✓/✗ majority decisions, classifiers as columns grouped by training set.

    Row ``training set`` names each classifier's training data (the config entry's ``group``), row ``cohort``
    the data tested, row ``face QC excluded`` how many of the cohort's images face quality control left out
    (``k of N``), then one row per property. Classifiers of one training set stand side by side, training sets
    in the order they first appear in ``tests`` (the config's order).

    Parameters
    ----------
    tests
        Each classifier's test rows (``test, classifier, training_set, cohort, property, decision, n_images,
        n_excluded``).
    """
    votes = pd.concat(list(tests), ignore_index=True)
    votes = votes[votes["test"] == MAJORITY]
    first = votes.drop_duplicates("classifier").set_index("classifier")
    sets = list(dict.fromkeys(first["training_set"]))
    ordered = [c for s in sets for c in first.index if first.loc[c, "training_set"] == s]
    first["excluded"] = [f"{row.n_excluded} of {row.n_images + row.n_excluded}" for row in first.itertuples()]
    header = first.loc[ordered, ["training_set", "cohort", "excluded"]].T.set_axis(
        ["training set", "cohort", "face QC excluded"]
    )
    decisions = votes.pivot(index="property", columns="classifier", values="decision")
    table = pd.concat([header, decisions.loc[list(dict.fromkeys(votes["property"])), ordered]])
    table.index.name = "classifier"
    return table
