"""Interventions beyond symmetry through the paper's machinery: surfaces over (axis value a, onset t) and a table.

Each axis of :mod:`facesym.interventions.axes` takes the place of ``s`` in the grid; ``t`` stays the second axis,
so the paper's impact score (Eq. 6, :func:`facesym.stats.impact_score`) and the population tests of the statistics
(sign flips across identities, Student-t intervals) apply unchanged. Two axes need no rendering of their own: the
paper's surfaces already hold ``symmetry_left`` (``softmax``) and ``intensity`` (``softmax_sham``, the
intensity-matched control).

The table, per classifier × emotion × property: the mean score over identities with its 95 % t-interval and
sign-flip p-value and, for the two symmetry axes, the **intensity-adjusted** score, the per-identity difference to
the ``intensity`` axis, which removes as much movement from both halves: what the asymmetry does beyond the loss of
movement. The palsy axes freeze only part of a half, so ``intensity`` (half of all movement at a = 0) is no match
for them and they get no adjusted score. A positive score: the output rises towards the reference face (a = 1).
Identities whose φ^(e) reached a probability below ``statistics.min_reached_probability`` are left out of the table
and counted (``n_flagged``), as in Table 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from facesym.emotions import EMOTIONS
from facesym.io.records import PropertySurfaces, Surfaces
from facesym.stats import impact_score
from facesym.stats.population import sign_flip_test, t_interval

__all__ = [
    "ADJUSTED_AXES",
    "PAPER_AXES",
    "flag_scores",
    "property_scores",
    "properties_table",
]

PAPER_AXES = {"symmetry_left": "softmax", "intensity": "softmax_sham"}
"""Axes read from the paper's surfaces files (dataset name), not rendered again."""

ADJUSTED_AXES = ("symmetry_left", "symmetry_right")
"""Axes whose intensity-adjusted score (minus the ``intensity`` axis, which removes as much movement) is reported."""


def property_scores(
    paper: Sequence[Surfaces],
    rendered: Sequence[PropertySurfaces],
    *,
    spacing: str = "step",
    statistic: str = "gradient",
) -> pd.DataFrame:
    """Per-identity impact scores of every property.

    Parameters
    ----------
    paper
        The paper's surfaces (``symmetry_left`` and ``intensity``), one per (classifier, identity).
    rendered
        The surfaces of the other axes (:func:`facesym.pipeline.properties.property_surfaces_job`).
    spacing, statistic
        As in :func:`facesym.stats.impact_score`.

    Returns
    -------
    pandas.DataFrame
        Columns classifier, identity, property, emotion, score.
    """
    rows = []

    def add(classifier: str, identity: str, prop: str, target: np.ndarray) -> None:
        scores = impact_score(target, spacing=spacing, statistic=statistic)
        for emotion, score in zip(EMOTIONS, np.atleast_1d(scores), strict=True):
            rows.append({"classifier": classifier, "identity": identity, "property": prop, "emotion": emotion,
                         "score": float(score)})

    for surfaces in paper:
        for prop, dataset in PAPER_AXES.items():
            add(surfaces.classifier, surfaces.identity, prop, surfaces.target(dataset))
    for axis in rendered:
        add(axis.classifier, axis.identity, axis.property, axis.target())
    return pd.DataFrame(rows)


def _population(values: np.ndarray, resamples: int, rng: np.random.Generator) -> dict[str, float]:
    if values.size == 0:
        return {"mean": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan}
    low, high = t_interval(values)
    p, _ = sign_flip_test(values, resamples, rng)
    return {"mean": float(values.mean()), "ci_low": float(low), "ci_high": float(high), "p": float(p)}


def flag_scores(scores: pd.DataFrame, reached: pd.DataFrame, min_reached_probability: float) -> pd.DataFrame:
    """``scores`` with ``reached_probability`` and ``flagged`` added, as Table 2 flags its identities.

    Parameters
    ----------
    scores
        :func:`property_scores`.
    reached
        Columns classifier, identity, emotion, reached_probability: the probability φ^(e) reached at s = 1, t = 1
        (:class:`facesym.io.records.Expressions`). Every property of a (classifier, identity, emotion) shares φ^(e),
        so one flag holds for all of them.
    min_reached_probability
        Identities below it are flagged: the classifier never read the face as this emotion, so its scores say little.

    Raises
    ------
    ValueError
        A (classifier, identity, emotion) of ``scores`` without a reached probability.
    """
    keys = ["classifier", "identity", "emotion"]
    merged = scores.merge(reached[[*keys, "reached_probability"]], on=keys, how="left", validate="many_to_one")
    missing = merged[merged["reached_probability"].isna()]
    if len(missing):
        first = missing.iloc[0]
        raise ValueError(f"no expressions file for classifier '{first['classifier']}', identity '{first['identity']}'")
    merged["flagged"] = merged["reached_probability"] < min_reached_probability
    return merged


def properties_table(scores: pd.DataFrame, resamples: int, rng: np.random.Generator) -> pd.DataFrame:
    """Classifier × emotion × property: mean score, 95 % t-interval, sign-flip p; the intensity-adjusted ones.

    Identities flagged in ``scores`` (:func:`flag_scores`) are left out of every number and counted, as in Table 2.

    Parameters
    ----------
    scores
        :func:`property_scores`, optionally with a boolean ``flagged`` column (:func:`flag_scores`).
    resamples
        Monte-Carlo sign flips when the identities are too many for the exact test.
    rng
        Randomness of the Monte-Carlo sign flips.

    Returns
    -------
    pandas.DataFrame
        Columns classifier, emotion, property, n_identities (kept), n_flagged, score, ci_low, ci_high, p, adjusted,
        adjusted_ci_low, adjusted_ci_high, adjusted_p (NaN where no adjustment applies, the intensity axis was not
        run, or every identity is flagged).
    """
    keys = ["classifier", "emotion", "identity"]
    wide = scores.pivot_table(index=keys, columns="property", values="score")
    if "flagged" in scores:
        flagged = scores.groupby(keys)["flagged"].any().astype(bool).reindex(wide.index)
    else:
        flagged = pd.Series(False, index=wide.index)
    rows = []
    for (classifier, emotion), block in wide.groupby(level=["classifier", "emotion"], sort=False):
        bad = flagged.loc[block.index].to_numpy()
        kept = block[~bad]
        for prop in [p for p in scores["property"].unique() if p in block]:
            values = kept[prop].dropna().to_numpy()
            row: dict[str, Any] = {"classifier": classifier, "emotion": emotion, "property": prop,
                                   "n_identities": len(values), "n_flagged": int(block.loc[bad, prop].notna().sum())}
            row.update({"score" if k == "mean" else k: v for k, v in _population(values, resamples, rng).items()})
            adjusted = {"mean": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan}
            if prop in ADJUSTED_AXES and "intensity" in block:
                difference = (kept[prop] - kept["intensity"]).dropna().to_numpy()
                adjusted = _population(difference, resamples, rng)
            row.update({"adjusted" if k == "mean" else f"adjusted_{k}": v for k, v in adjusted.items()})
            rows.append(row)
    return pd.DataFrame(rows)
