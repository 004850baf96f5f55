"""Experiment 1's tables from the per-classifier outputs: accuracy per subject group (and palsy side) and the
paper's Table 1."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

__all__ = ["DEPENDENT", "INDEPENDENT", "MAJORITY", "accuracy_table", "palsy_sides", "table1"]

DEPENDENT = "✓"
"""Table 1's mark for a majority decision of dependence (p < alpha in at least two of three tests)."""

INDEPENDENT = "✗"

MAJORITY = "majority"
"""The ``test`` value of the majority vote's rows."""


def accuracy_table(
    predictions: Sequence[pd.DataFrame], excluded: pd.DataFrame, palsy_sides: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Accuracy per subject group for each classifier and pooled per training set, and per palsy side.

    Parameters
    ----------
    predictions
        Each classifier's cohort predictions (columns ``cohort, training_set, classifier, subject, group,
        correct``).
    excluded
        The images face quality control left out (a ``face_qc.csv``; columns ``subject, group``).
    palsy_sides
        Patient -> the side of the palsy (``"left"`` / ``"right"``, the subject's own half), e.g. the synthetic
        cohort's ``subjects.csv`` (:func:`palsy_sides`). ``None`` or empty: no side is known (a user manifest),
        the ``palsy_side`` column stays empty.

    Returns
    -------
    pandas.DataFrame
        One row per (cohort, training set, classifier, group), then the rows with ``classifier = "all"`` that pool
        the classifiers of one training set as the paper does (97.40 % for probands, 58.25 % for patients over its
        FER2013 models): ``n_classifiers, n_images, n_excluded`` (the group's images face quality control left
        out: a group whose faces fail more often is visible beside its accuracy), ``n_correct, accuracy`` and the
        exact (Clopper–Pearson) 95 % interval ``ci_low, ci_high`` of the pooled images, which treats images as
        independent although each subject contributes several. After each row of a group with known sides, one
        row per side (``palsy_side`` = ``left`` / ``right``; empty on the rows of the whole group), counted the
        same way.
    """
    from scipy.stats import binomtest

    sides = dict(palsy_sides or {})
    combined = pd.concat(list(predictions), ignore_index=True)
    combined["palsy_side"] = combined["subject"].astype(str).map(sides)
    excluded = excluded.assign(palsy_side=excluded["subject"].astype(str).map(sides)) if len(excluded) else excluded

    def row(values: dict, part: pd.DataFrame, pooled: bool, side: str | None) -> dict:
        count, hits = len(part), int(part["correct"].sum())
        interval = binomtest(hits, count).proportion_ci(0.95, method="exact")
        left_out = excluded[excluded["group"].astype(str) == str(values["group"])] if len(excluded) else excluded
        if side is not None and len(left_out):
            left_out = left_out[left_out["palsy_side"] == side]
        return {
            "cohort": values["cohort"],
            "training_set": values["training_set"],
            "classifier": "all" if pooled else values["classifier"],
            "n_classifiers": part["classifier"].nunique(),
            "group": values["group"],
            "palsy_side": side,
            "n_images": count,
            "n_excluded": len(left_out),
            "n_correct": hits,
            "accuracy": hits / count,
            "ci_low": interval.low,
            "ci_high": interval.high,
        }

    rows = []
    for pooled in (False, True):
        keys = ["cohort", "training_set", "group"] if pooled else ["cohort", "training_set", "classifier", "group"]
        for key, part in combined.groupby(keys, sort=False):
            values = dict(zip(keys, key, strict=True))
            rows.append(row(values, part, pooled, None))
            for side in ("left", "right"):
                of_side = part[part["palsy_side"] == side]
                if len(of_side):
                    rows.append(row(values, of_side, pooled, side))
    return pd.DataFrame(rows)


def palsy_sides(subjects: pd.DataFrame) -> dict[str, str]:
    """Patient -> palsy side from the synthetic cohort's ``subjects.csv`` (columns ``subject, palsy, weak_side``).

    Probands have a ``weak_side`` too (their small asymmetry has to sit somewhere), but no palsy: they get none.

    Raises
    ------
    ValueError
        A column missing, or a patient's side other than ``left`` / ``right``, named with its row.
    """
    missing = [c for c in ("subject", "palsy", "weak_side") if c not in subjects]
    if missing:
        raise ValueError(f"subjects table: no column {missing[0]!r} (columns: {list(subjects.columns)})")
    patients = subjects[subjects["palsy"].astype(int) == 1]
    bad = patients[~patients["weak_side"].isin(["left", "right"])]
    if len(bad):
        raise ValueError(f"subjects table, subject {bad['subject'].iloc[0]!r}: weak_side "
                         f"{bad['weak_side'].iloc[0]!r} is not 'left' or 'right'")
    return dict(zip(patients["subject"].astype(str), patients["weak_side"].astype(str), strict=True))


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
