"""Fig. 5 analogue: mean ± std activation at full onset (t = 1) across identities versus symmetry.

Beside each emotion's curve under the paper's intervention (one half frozen by ``1 - s``) the figure draws the
intensity-matched control (both halves at ``(1 + s)/2``): the same loss of movement without the asymmetry. The gap
between the two curves is what symmetry itself does to the output.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from facesym.figures.style import EMOTION_COLORS, new_figure, styled

__all__ = ["symmetry_curves", "symmetry_figure"]


def symmetry_curves(
    softmax: np.ndarray,
    target_class: Sequence[int],
    s: np.ndarray,
    emotions: Sequence[str],
    classes: Sequence[str],
    classifier: str,
    softmax_sham: np.ndarray | None = None,
) -> pd.DataFrame:
    """Mean and std over identities of each emotion's own output at the last onset step, per symmetry level.

    Parameters
    ----------
    softmax
        Softmax at full onset for every identity, shape ``(N, E, S, K)``: identities, emotions (the expression
        φ^(e) shown), symmetry levels, classes.
    target_class
        Class index of each emotion, shape ``(E,)``.
    s
        Symmetry levels, shape ``(S,)``.
    emotions, classes
        Names along the E and K axes.
    classifier
        Written into every row.
    softmax_sham
        The intensity-matched control at full onset, shape ``(N, E, S, K)``, or None.

    Returns
    -------
    pandas.DataFrame
        One row per (emotion, s): ``classifier, emotion, s, n_identities, mean, std, predicted_class,
        misclassified``. ``std`` is the sample standard deviation (ddof = 1; 0 for one identity).
        ``predicted_class`` is the argmax of the softmax averaged over identities, and ``misclassified`` says it is
        not the emotion's class: the mean prediction for that face is another class. With ``softmax_sham``
        also ``sham_mean, sham_std``: the same for the intensity-matched control.
    """
    softmax = np.asarray(softmax, dtype=np.float64)
    n_identities, n_emotions, n_levels, n_classes = softmax.shape
    target = np.asarray(target_class)
    if target.shape != (n_emotions,) or len(emotions) != n_emotions or len(classes) != n_classes:
        raise ValueError(
            f"softmax {softmax.shape} needs {n_emotions} emotions and target classes and {n_classes} class names"
        )
    mean, std = _own_mean_std(softmax, target)
    sham = None if softmax_sham is None else _own_mean_std(np.asarray(softmax_sham, dtype=np.float64), target)
    predicted = softmax.mean(axis=0).argmax(axis=-1)  # (E, S)
    rows = []
    for e, emotion in enumerate(emotions):
        for i, level in enumerate(np.asarray(s, dtype=np.float64)):
            rows.append(
                {
                    "classifier": classifier,
                    "emotion": str(emotion),
                    "s": level,
                    "n_identities": n_identities,
                    "mean": mean[e, i],
                    "std": std[e, i],
                    "predicted_class": str(classes[predicted[e, i]]),
                    "misclassified": bool(predicted[e, i] != target[e]),
                    **({} if sham is None else {"sham_mean": sham[0][e, i], "sham_std": sham[1][e, i]}),
                }
            )
    return pd.DataFrame(rows)


def _own_mean_std(softmax: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample std over identities of each emotion's own probability, ``(N, E, S, K)`` -> ``(E, S)``."""
    own = np.take_along_axis(softmax, np.broadcast_to(target[None, :, None, None], (*softmax.shape[:3], 1)), -1)
    own = own[..., 0]
    std = own.std(axis=0, ddof=1) if own.shape[0] > 1 else np.zeros(own.shape[1:])
    return own.mean(axis=0), std


@styled
def symmetry_figure(curves: pd.DataFrame, *, classifier: str, onset: float = 1.0) -> Figure:
    """One line per emotion: mean ± std of F^(e) at full onset against symmetry, x axis inverted as in the paper.

    Parameters
    ----------
    curves
        The output of :func:`symmetry_curves` for one classifier.
    classifier
        Name for the title.
    onset
        The onset t the curves were taken at (for the labels).

    Returns
    -------
    Figure
        Symmetry falls from left (1, symmetric) to right (0, left half frozen); the std band is clipped to
        [0, 1]. Filled circles: the mean prediction is the emotion; crosses: it is another class (a
        misclassification); the line is dashed between two misclassified levels. Where the curves carry the
        intensity-matched control (``sham_mean``), it is drawn as a thin dotted line of the same colour.
    """
    fig = new_figure(6.4, 3.6)
    ax = fig.subplots()
    n_identities = int(curves["n_identities"].iloc[0])
    for emotion, rows in curves.groupby("emotion", sort=False):
        rows = rows.sort_values("s")
        colour = EMOTION_COLORS.get(str(emotion), "grey")
        level, mean, std = rows["s"].to_numpy(), rows["mean"].to_numpy(), rows["std"].to_numpy()
        wrong = rows["misclassified"].to_numpy(dtype=bool)
        # A probability band beyond [0, 1] would suggest impossible values; the CSV keeps mean and std as computed.
        band = np.clip(mean - std, 0.0, 1.0), np.clip(mean + std, 0.0, 1.0)
        ax.fill_between(level, *band, color=colour, alpha=0.15, linewidth=0)
        # Between two misclassified levels the mean prediction is wrong throughout: that stretch is dashed.
        points = np.column_stack([level, mean])
        segments = np.stack([points[:-1], points[1:]], axis=1)
        dashed = wrong[:-1] & wrong[1:]
        ax.add_collection(
            LineCollection(segments, colors=colour, linewidths=1.6, linestyles=["--" if d else "-" for d in dashed])
        )
        ax.plot([], [], color=colour, linewidth=1.6, label=str(emotion))
        if "sham_mean" in rows:
            ax.plot(level, rows["sham_mean"].to_numpy(), ":", color=colour, linewidth=1.2)
        ax.plot(level[~wrong], mean[~wrong], "o", color=colour, markersize=4)
        ax.plot(level[wrong], mean[wrong], "X", color=colour, markeredgecolor="black", markeredgewidth=0.5,
                markersize=7)  # fmt: skip
    ax.set_xlim(1.02, -0.02)  # inverted: high symmetry first, as in the paper
    ax.set_ylim(-0.02, 1.02)  # a margin, so markers at probability 0 or 1 are not cut in half
    ax.set_xlabel("symmetry s (1: symmetric → 0: left half frozen)")
    ax.set_ylabel(f"softmax F(e) at t = {onset:g}")
    ax.grid(alpha=0.3, linewidth=0.5)
    ax.set_title(f"{classifier}: mean ± std over {n_identities} identities")
    handles, _ = ax.get_legend_handles_labels()
    if "sham_mean" in curves:
        sham_label = "intensity-matched\ncontrol (both\nhalves at (1+s)/2)"
        handles.append(Line2D([], [], color="grey", linestyle=":", label=sham_label))
    handles += [
        Line2D([], [], color="grey", marker="o", markersize=4, label="mean prediction\n= emotion"),
        Line2D([], [], color="grey", marker="X", markeredgecolor="black", markeredgewidth=0.5, linestyle="--",
               markersize=7, label="mean prediction\n≠ emotion\n(misclassified)"),
    ]  # fmt: skip
    fig.legend(handles=handles, loc="outside right center", frameon=False)
    return fig
