"""The effect of each property on each classifier: mean impact score over identities with its 95 % interval.

One panel per classifier; one row per property (intervention axis), one marker per emotion, horizontal bars the
Student-t intervals of the properties table (:func:`facesym.interventions.properties.properties_table`). Hollow
markers: the intensity-adjusted score of the two symmetry axes, what they do beyond the intensity-matched control.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from facesym.emotions import EMOTIONS
from facesym.figures.style import new_figure, styled
from facesym.figures.writer import write_figure

__all__ = ["plot_properties"]


@styled
def plot_properties(table: pd.DataFrame, *, pdf: str | Path, png: str | Path, csv: str | Path) -> None:
    """Draw :func:`facesym.interventions.properties.properties_table`'s rows and write PDF, PNG and the values."""
    classifiers = list(dict.fromkeys(table["classifier"]))
    properties = list(dict.fromkeys(table["property"]))
    emotions = [e for e in EMOTIONS if e in set(table["emotion"])]
    fig = new_figure(2.6 * len(classifiers) + 0.8, 0.32 * len(properties) + 1.2)
    axes = fig.subplots(1, len(classifiers), sharey=True, squeeze=False)[0]
    colors = {e: f"C{i}" for i, e in enumerate(emotions)}
    offsets = {e: (i - (len(emotions) - 1) / 2) * 0.11 for i, e in enumerate(emotions)}
    rows = np.arange(len(properties))
    for ax, classifier in zip(axes, classifiers, strict=True):
        part = table[table["classifier"] == classifier]
        for emotion in emotions:
            sub = part[part["emotion"] == emotion].set_index("property").reindex(properties)
            y = rows + offsets[emotion]
            ax.errorbar(sub["score"], y, xerr=[sub["score"] - sub["ci_low"], sub["ci_high"] - sub["score"]],
                        fmt="o", ms=3, lw=0.7, color=colors[emotion], label=emotion)
            ax.plot(sub["adjusted"], y, "o", ms=4, mfc="none", color=colors[emotion], lw=0)
        ax.axvline(0.0, color="0.6", lw=0.6)
        ax.set_title(classifier)
    units = table["units"].iloc[0] if "units" in table else "per step of a"
    fig.supxlabel(f"impact score ({units})")
    axes[0].set_yticks(rows, properties)
    axes[0].invert_yaxis()
    axes[-1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    write_figure(fig, pdf=pdf, png=png, values=table, csv=csv)
