"""Figures of the DeepFN experiment: within- vs cross-group bars (DeepFN's Fig. 3) and example normalised faces."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from facesym.figures.style import new_figure, styled

__all__ = ["NORMALISATION_LABELS", "bars_figure", "examples_figure"]

NORMALISATION_LABELS: dict[str, str] = {
    "none": "original",
    "histeq": "hist. equalised",
    "deepfn": "DeepFN",
    "supervised": "supervised AE",
    "oracle": "template render",
}

CONDITION_LABELS: dict[str, tuple[str, str]] = {
    "person": ("person-dependent", "person-independent"),
    "skin": ("skin-dependent", "skin-independent"),
    "face_shape": ("shape-dependent", "shape-independent"),
    "dataset": ("dataset-dependent", "dataset-independent"),
    "palsy": ("healthy test", "palsy test"),
}

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
_COLORS = ("#999999", "#56B4E9", "#E69F00", "#009E73", "#CC79A7")


@styled
def bars_figure(table: pd.DataFrame) -> Figure:
    """Mean score with standard-error bars, within vs cross group, per condition and normalisation.

    Parameters
    ----------
    table
        :func:`facesym.deepfn.table.deepfn_table`.
    """
    conditions = list(dict.fromkeys(table["condition"]))
    normalisations = list(dict.fromkeys(table["normalisation"]))
    fig = new_figure(3.0 * len(conditions), 3.4)
    axes = fig.subplots(1, len(conditions), sharey=True, squeeze=False)[0]
    width = 0.8 / len(normalisations)
    for ax, condition in zip(axes, conditions, strict=True):
        part = table[table["condition"] == condition].set_index("normalisation")
        for k, normalisation in enumerate(normalisations):
            if normalisation not in part.index:
                continue
            row = part.loc[normalisation]
            x = np.arange(2) - 0.4 + width * (k + 0.5)
            ax.bar(x, [row["within"], row["cross"]], width, yerr=[row["within_se"], row["cross_se"]], capsize=2,
                   color=_COLORS[k % len(_COLORS)], label=NORMALISATION_LABELS.get(normalisation, normalisation))
        ax.set_xticks([0, 1], CONDITION_LABELS.get(condition, ("within", "cross")), rotation=15)
        gap = part.loc["none", "gap"] if "none" in part.index else np.nan
        ax.set_title(f"{condition}: gap {gap:.1f} pts (original)")
        low = np.nanmin(table[["within", "cross"]].to_numpy()) - 5.0
        ax.set_ylim(max(0.0, low), min(100.0, np.nanmax(table[["within", "cross"]].to_numpy()) + 5.0))
    axes[0].set_ylabel("mean of F1 and accuracy over AUs (%)")
    axes[-1].legend(loc="lower right", frameon=False)
    return fig


@styled
def examples_figure(columns: Mapping[str, Sequence[np.ndarray]], row_labels: Sequence[str],
                    template: np.ndarray) -> Figure:
    """A grid of faces: one row per example subject, one column per normalisation, the template on the right.

    Parameters
    ----------
    columns
        Normalisation -> one image ``(H, W)`` in [0, 1] per row.
    row_labels
        Text beside each row (subject and its groups).
    template
        One image of the template ``(H, W)``.
    """
    names = list(columns)
    n_rows = len(row_labels)
    fig = new_figure(1.3 * (len(names) + 1), 1.35 * n_rows + 0.3)
    axes = fig.subplots(n_rows, len(names) + 1, squeeze=False)
    for r in range(n_rows):
        for c, name in enumerate(names):
            axes[r, c].imshow(columns[name][r], cmap="gray", vmin=0.0, vmax=1.0)
            if r == 0:
                axes[r, c].set_title(NORMALISATION_LABELS.get(name, name), fontsize=7)
        axes[r, 0].set_ylabel(row_labels[r], fontsize=7)
    axes[0, -1].imshow(template, cmap="gray", vmin=0.0, vmax=1.0)
    axes[0, -1].set_title("template", fontsize=7)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[1:, -1]:
        ax.set_axis_off()
    return fig
