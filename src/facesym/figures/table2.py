"""Table 2 as a heat map: mean impact score per classifier × emotion, with the share of significant identities."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from facesym.emotions import EMOTIONS
from facesym.figures.style import new_figure, styled

__all__ = ["table2_figure", "table2_html", "table2_values"]


def table2_values(summary: pd.DataFrame) -> pd.DataFrame:
    """The heat map's cells from the summary table (:func:`facesym.tables.summary_table`).

    Classifiers in file order, emotions in EMOTIONS order.

    Returns
    -------
    pandas.DataFrame
        One row per cell: ``classifier, group, emotion, mean_score, ci_low, ci_high, n_significant,
        n_identities, ratio_significant, majority_significant`` (more than half of the identities significant
        after Holm–Bonferroni), ``significant_population`` (the mean differs from zero across identities),
        ``mean_specific`` and ``significant_population_specific`` (the symmetry-specific impact).
    """
    order = list(dict.fromkeys(summary["classifier"]))
    cells = summary.copy()
    cells["classifier"] = pd.Categorical(cells["classifier"], order, ordered=True)
    cells["emotion"] = pd.Categorical(cells["emotion"], list(EMOTIONS), ordered=True)
    cells = cells.sort_values(["classifier", "emotion"]).reset_index(drop=True)
    cells["classifier"] = cells["classifier"].astype(str)
    cells["emotion"] = cells["emotion"].astype(str)
    cells["group"] = cells["group"].fillna("").astype(str)
    cells["majority_significant"] = cells["n_significant"] * 2 > cells["n_identities"]
    columns = ["classifier", "group", "emotion", "mean_score", "ci_low", "ci_high", "n_significant", "n_identities",
               "ratio_significant", "majority_significant", "significant_population", "mean_specific",
               "significant_population_specific"]  # fmt: skip
    return cells[columns]


def _row_label(classifier: str, group: str) -> str:
    return f"{classifier} ({group})" if group else classifier


@styled
def table2_figure(cells: pd.DataFrame, *, unit: str, delta: float, statistic: str = "gradient") -> Figure:
    """Heat map of Table 2 with each cell's score and significant identities written in it.

    Parameters
    ----------
    cells
        :func:`table2_values`.
    unit
        Unit of the scores (``facesym.stats.units(spacing)``), for the colour bar.
    delta
        The Holm–Bonferroni level, for the legend.
    statistic
        The impact statistic the scores are (``"gradient"``: the paper's Eq. 6).

    Returns
    -------
    Figure
        Colour: the mean score on a diverging scale centred on zero (red: output rises with symmetry, blue:
        falls), symmetric so equal distances from zero look equally strong. Text: the score and ``k/N``
        identities significant; hatched cells are significant for at most half of the identities.
    """
    classifiers = list(dict.fromkeys(cells["classifier"]))
    emotions = list(dict.fromkeys(cells["emotion"]))
    grid = cells.pivot(index="classifier", columns="emotion", values="mean_score").loc[classifiers, emotions]
    values = grid.to_numpy(dtype=np.float64)
    groups = cells.drop_duplicates("classifier").set_index("classifier")["group"]
    fig = new_figure(1.0 * len(emotions) + 2.8, 0.42 * len(classifiers) + 1.9)
    ax = fig.subplots()
    limit = float(np.nanmax(np.abs(values))) or 1e-6
    norm = TwoSlopeNorm(0.0, vmin=-limit, vmax=limit)
    image = ax.imshow(values, cmap="RdBu_r", norm=norm, aspect="auto")
    for _, cell in cells.iterrows():
        r, c = classifiers.index(cell["classifier"]), emotions.index(cell["emotion"])
        # Dark text on pale cells, white on saturated ones.
        colour = "white" if abs(norm(cell["mean_score"]) - 0.5) > 0.3 else "black"
        weak = not cell["majority_significant"]
        # Hatched cells get a box behind the text so the hatching does not cross the digits.
        box = {"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5} if weak else None
        mark = "*" if cell["significant_population"] else ""
        ax.text(c, r, f"{cell['mean_score']:.3g}{mark}\n{cell['n_significant']}/{cell['n_identities']}", ha="center",
                va="center", color="black" if weak else colour, fontsize="small", linespacing=1.1, bbox=box,
                zorder=3)  # fmt: skip
        if weak:
            ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, hatch="///", edgecolor="0.35",
                                   linewidth=0))  # fmt: skip
    # A rule between training-data groups, as in the paper's table.
    for r in range(1, len(classifiers)):
        if groups[classifiers[r]] != groups[classifiers[r - 1]]:
            ax.axhline(r - 0.5, color="black", linewidth=1.0)
    ax.set_xticks(range(len(emotions)), emotions)
    ax.set_yticks(range(len(classifiers)), [_row_label(c, groups[c]) for c in classifiers])
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    n = int(cells["n_identities"].max())
    fig.colorbar(image, ax=ax, label=f"mean impact score Ŝ\n(Δ probability {unit})", shrink=0.9)
    ax.set_xlabel(
        f"cell: Ŝ ({statistic}, mean over {n} identities) and k/N identities significant after Holm–Bonferroni "
        f"(δ = {delta:g});\nhatched: significant for at most half of the identities; *: mean ≠ 0 across identities "
        f"(sign-flip test, Holm across emotions)",
        fontsize="small",
    )
    return fig


def table2_html(cells: pd.DataFrame, *, unit: str, delta: float, statistic: str = "gradient") -> str:
    """Table 2 and supplementary Table 1 as one HTML table for the report: score, 95% CI and k/N significant.

    Parameters
    ----------
    cells
        :func:`table2_values`.
    unit, delta, statistic
        As in :func:`table2_figure`, for the table's caption.

    Returns
    -------
    str
        A complete HTML page.
    """
    emotions = list(dict.fromkeys(cells["emotion"]))
    head = "".join(f"<th>{html.escape(e)}</th>" for e in emotions)
    body = []
    for (classifier, group), rows in cells.groupby(["classifier", "group"], sort=False):
        by_emotion = rows.set_index("emotion")
        tds = []
        for emotion in emotions:
            cell = by_emotion.loc[emotion]
            style = "" if cell["majority_significant"] else ' class="weak"'
            mark = "*" if cell["significant_population"] else ""
            specific_mark = "*" if cell["significant_population_specific"] else ""
            tds.append(
                f"<td{style}><b>{cell['mean_score']:.3g}{mark}</b><br><small>[{cell['ci_low']:.3g}, "
                f"{cell['ci_high']:.3g}]<br>{cell['n_significant']}/{cell['n_identities']} significant<br>"
                f"specific {cell['mean_specific']:.3g}{specific_mark}</small></td>"
            )
        body.append(f"<tr><th>{html.escape(group)}</th><th>{html.escape(classifier)}</th>{''.join(tds)}</tr>")
    n = int(cells["n_identities"].max())
    caption = (
        f"Mean facial-symmetry impact score Ŝ ({html.escape(statistic)}, Δ softmax probability {html.escape(unit)}) "
        f"over {n} identities, its Student-t 95% confidence interval, and the identities whose score stays "
        f"significant after Holm–Bonferroni at δ = {delta:g}. Grey cells: significant for at most half of them. "
        f"Specific: the symmetry-specific impact (score minus the intensity-matched control's). *: the mean differs "
        f"from zero across identities (sign-flip test, Holm across the classifier's emotions)."
    )
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>facesym Table 2</title><style>"
        "body{font-family:sans-serif;font-size:14px}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:center}td.weak{color:#888;background:#f4f4f4}"
        "caption{caption-side:top;text-align:left;max-width:60em;padding-bottom:6px}"
        f"</style></head><body><table><caption>{caption}</caption>"
        f"<tr><th>group</th><th>classifier</th>{head}</tr>{''.join(body)}</table></body></html>\n"
    )
