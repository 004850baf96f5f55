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
    low, high = t_interval(values)
    p, _ = sign_flip_test(values, resamples, rng)
    return {"mean": float(values.mean()), "ci_low": float(low), "ci_high": float(high), "p": float(p)}


def properties_table(scores: pd.DataFrame, resamples: int, rng: np.random.Generator) -> pd.DataFrame:
    """Classifier × emotion × property: mean score, 95 % t-interval, sign-flip p; the intensity-adjusted ones.

    Parameters
    ----------
    scores
        :func:`property_scores`.
    resamples
        Monte-Carlo sign flips when the identities are too many for the exact test.
    rng
        Randomness of the Monte-Carlo sign flips.

    Returns
    -------
    pandas.DataFrame
        Columns classifier, emotion, property, n, score, ci_low, ci_high, p, adjusted, adjusted_ci_low,
        adjusted_ci_high, adjusted_p (NaN where no adjustment applies or the intensity axis was not run).
    """
    wide = scores.pivot_table(index=["classifier", "emotion", "identity"], columns="property", values="score")
    rows = []
    for (classifier, emotion), block in wide.groupby(level=["classifier", "emotion"], sort=False):
        for prop in [p for p in scores["property"].unique() if p in block]:
            values = block[prop].dropna().to_numpy()
            row: dict[str, Any] = {"classifier": classifier, "emotion": emotion, "property": prop, "n": len(values)}
            row.update(_population(values, resamples, rng))
            row["score"] = row.pop("mean")
            adjusted = {"mean": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan}
            if prop in ADJUSTED_AXES and "intensity" in block:
                difference = (block[prop] - block["intensity"]).dropna().to_numpy()
                adjusted = _population(difference, resamples, rng)
            row.update({"adjusted" if k == "mean" else f"adjusted_{k}": v for k, v in adjusted.items()})
            rows.append(row)
    return pd.DataFrame(rows)
