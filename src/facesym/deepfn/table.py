"""The DeepFN table: condition × normalisation -> within- and cross-group score, gap, paired tests.

The unit of every test is one trained model (a condition's repetition and training group): its *within* score
is the mean over its within-group test subjects, its *cross* score the mean over its cross-group test subjects,
both computed on the same model, so the within-vs-cross test is paired (``scipy.stats.ttest_rel``). The
normalisations use the same subject draws and training seeds, so "normalised vs unnormalised" is paired by unit
too. Scores are percentages (the paper's mean of F1 and accuracy over AUs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from facesym import __version__
from facesym.deepfn.protocol import CONDITIONS

__all__ = ["PAPER_GAP", "deepfn_table", "symmetry_table", "unit_scores"]

PAPER_GAP: dict[str, float] = {"person": 5.3, "face_shape": 2.4, "skin": 5.3, "dataset": 9.4}
"""DeepFN's unnormalised gaps (percentage points, Sec. 5); its gender split stands beside our face shape."""

_UNIT = ["normalisation", "condition", "repetition", "train_group"]


def unit_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per trained model: columns ``normalisation, condition, repetition, train_group, within, cross``
    (mean subject score of each scope, percent) and ``gap = within - cross``."""
    means = scores.groupby([*_UNIT, "scope"])["score"].mean().unstack("scope") * 100.0
    units = means[["within", "cross"]].reset_index()
    units["gap"] = units["within"] - units["cross"]
    return units


def _se(values: pd.Series) -> float:
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")


def _paired_p(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2 or np.allclose(a, b):
        return float("nan") if len(a) < 2 else 1.0
    return float(stats.ttest_rel(a, b).pvalue)


def deepfn_table(scores: pd.DataFrame, provenance: Mapping[str, Any]) -> pd.DataFrame:
    """The table of the experiment.

    Parameters
    ----------
    scores
        The protocol's long tables of every normalisation, concatenated (:func:`run_protocol`).
    provenance
        ``seed`` and ``config_digest`` written into every row.

    Returns
    -------
    pandas.DataFrame
        One row per (condition, normalisation): ``units`` (trained models), ``within, within_se, cross, cross_se,
        gap, gap_se`` (percent / percentage points, standard errors over units), ``p_gap`` (paired t-test within
        vs cross), ``cross_change, p_cross_vs_none, gap_change, p_gap_vs_none`` (paired against the unnormalised
        run of the same units; empty for ``none``), ``paper_gap`` (DeepFN's unnormalised gap for that condition),
        ``seed, config_digest, facesym_version``.
    """
    units = unit_scores(scores)
    baseline = units[units["normalisation"] == "none"].set_index(_UNIT[1:])
    normalisations = list(dict.fromkeys(scores["normalisation"]))
    rows = []
    for condition in CONDITIONS:
        for normalisation in normalisations:
            part = units[(units["condition"] == condition) & (units["normalisation"] == normalisation)]
            if part.empty:
                continue
            row: dict[str, Any] = {
                "condition": condition, "normalisation": normalisation, "units": len(part),
                "within": part["within"].mean(), "within_se": _se(part["within"]),
                "cross": part["cross"].mean(), "cross_se": _se(part["cross"]),
                "gap": part["gap"].mean(), "gap_se": _se(part["gap"]),
                "p_gap": _paired_p(part["within"].to_numpy(), part["cross"].to_numpy()),
            }
            if normalisation != "none" and not baseline.empty:
                base = baseline.reindex(part.set_index(_UNIT[1:]).index)
                for column in ("cross", "gap"):
                    ours, theirs = part[column].to_numpy(), base[column].to_numpy()
                    row[f"{column}_change"] = float(np.mean(ours - theirs))
                    row[f"p_{column}_vs_none"] = _paired_p(ours, theirs)
            row["paper_gap"] = PAPER_GAP.get(condition, float("nan"))
            rows.append(row)
    table = pd.DataFrame(rows)
    for column in ("cross_change", "p_cross_vs_none", "gap_change", "p_gap_vs_none"):
        if column not in table:
            table[column] = np.nan
    table = table[["condition", "normalisation", "units", "within", "within_se", "cross", "cross_se", "gap",
                   "gap_se", "p_gap", "cross_change", "p_cross_vs_none", "gap_change", "p_gap_vs_none",
                   "paper_gap"]]
    return table.assign(seed=provenance["seed"], config_digest=provenance["config_digest"],
                        facesym_version=__version__)


def symmetry_table(scores: pd.DataFrame, provenance: Mapping[str, Any], unit: str) -> pd.DataFrame:
    """Mean AU impact score per normalisation and AU, tested against zero and against no normalisation.

    The unit of the tests is the palsy subject (its scores averaged over the repetitions' models).

    Returns
    -------
    pandas.DataFrame
        Columns ``normalisation, au`` (``"all"`` = mean over AUs), ``subjects, score, score_se, p_zero``
        (one-sample t-test), ``score_change, p_vs_none`` (paired by subject against ``none``),
        ``p_symmetric, p_frozen_half`` (mean AU probability at s = 1 and s = 0, full onset), ``unit``, ``seed,
        config_digest, facesym_version``.
    """
    per_subject = scores.groupby(["normalisation", "au", "subject"], sort=False)[
        ["score", "p_symmetric", "p_frozen_half"]].mean().reset_index()
    overall = per_subject.groupby(["normalisation", "subject"], sort=False)[
        ["score", "p_symmetric", "p_frozen_half"]].mean().reset_index().assign(au="all")
    per_subject = pd.concat([per_subject, overall], ignore_index=True)
    rows = []
    for (normalisation, au), part in per_subject.groupby(["normalisation", "au"], sort=False):
        values = part["score"].to_numpy()
        row = {"normalisation": normalisation, "au": au, "subjects": len(part), "score": values.mean(),
               "score_se": _se(part["score"]),
               "p_zero": float(stats.ttest_1samp(values, 0.0).pvalue) if len(values) > 1 else float("nan"),
               "score_change": np.nan, "p_vs_none": np.nan,
               "p_symmetric": part["p_symmetric"].mean(), "p_frozen_half": part["p_frozen_half"].mean()}
        base = per_subject[(per_subject["normalisation"] == "none") & (per_subject["au"] == au)]
        if normalisation != "none" and not base.empty:
            theirs = base.set_index("subject")["score"].reindex(part["subject"]).to_numpy()
            row["score_change"] = float(np.mean(values - theirs))
            row["p_vs_none"] = _paired_p(values, theirs)
        rows.append(row)
    return pd.DataFrame(rows).assign(unit=unit, seed=provenance["seed"], config_digest=provenance["config_digest"],
                                     facesym_version=__version__)
