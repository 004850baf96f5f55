"""Fig. 2 analogue: the optimised expressions φ^(e) of one classifier and identity, and an onset strip at s = 0."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from facesym.emotions import NEUTRAL
from facesym.figures.style import EMOTION_COLORS, new_figure, styled

__all__ = ["expression_panels", "expressions_figure", "onset_indices", "render_panels"]


def onset_indices(n_time: int, n_panels: int) -> np.ndarray:
    """Indices of ``n_panels`` onset steps spread evenly over a grid of ``n_time`` steps, first and last included.

    Panels show grid steps (not new t values) so every probability printed under a face is a value of the
    surfaces file. Fewer grid steps than panels gives one panel per step.
    """
    if n_time < 1 or n_panels < 1:
        raise ValueError(f"need at least one onset step and one panel, got {n_time} and {n_panels}")
    return np.unique(np.round(np.linspace(0, n_time - 1, min(n_panels, n_time))).astype(int))


def expression_panels(
    *,
    phi: np.ndarray,
    emotions: Sequence[str],
    parameters: Sequence[str],
    softmax: np.ndarray,
    target_class: Sequence[int],
    classes: Sequence[str],
    s: np.ndarray,
    t: np.ndarray,
    onset_emotion: str,
    n_onset: int = 7,
) -> pd.DataFrame:
    """What each face of the figure shows and what the classifier said about it, read off the surfaces.

    Parameters
    ----------
    phi
        Optimised expressions, shape ``(E, d)``.
    emotions, parameters
        Names of the E emotions and the d expression parameters.
    softmax
        The surfaces, shape ``(E, S, T, K)``, on the grid ``s`` ``(S,)`` × ``t`` ``(T,)`` (both ascending to 1).
    target_class
        Class index of each emotion, shape ``(E,)``.
    classes
        The K class names.
    onset_emotion
        The emotion whose onset the strip shows.
    n_onset
        Faces in the onset strip.

    Returns
    -------
    pandas.DataFrame
        One row per face, in drawing order: ``row`` ("optimised" then "onset"), ``emotion`` (whose φ is shown;
        "neutral" is φ = 0), ``s``, ``t``, ``probability`` (the shown emotion's softmax; NaN for the neutral face
        of a classifier without a neutral class), ``predicted_class``, ``predicted_probability`` and one column
        ``phi_<parameter>`` per expression parameter (the φ rendered, before the onset scaling t).

    Notes
    -----
    The neutral face is φ = 0, which renders the same at every (s, t); its classifier output is the surface at
    t = 0. A grid without t = 0 (one onset step) leaves it NaN.
    """
    phi, softmax, s, t = (np.asarray(a) for a in (phi, softmax, s, t))
    if not (np.isclose(s[-1], 1.0) and np.isclose(s[0], 0.0) and np.isclose(t[-1], 1.0)):
        raise ValueError(f"the surface grid must span s = 0 … 1 and end at t = 1; got s = {s}, t = {t}")
    emotions = [str(e) for e in emotions]
    if onset_emotion not in emotions:
        raise ValueError(f"onset emotion {onset_emotion!r} is not one of {emotions}")
    classes = [str(c) for c in classes]
    target = np.asarray(target_class)

    def row(kind: str, emotion: str, vector: np.ndarray, s_index: int, t_index: int | None, cls: int | None) -> dict:
        out = {"row": kind, "emotion": emotion, "s": float(s[s_index]), "t": float(t[t_index] if t_index is not None
               else 1.0)}  # fmt: skip
        if t_index is None:
            out |= {"probability": np.nan, "predicted_class": "", "predicted_probability": np.nan}
        else:
            # φ = 0 looks the same for every emotion's surface; take the first.
            scores = softmax[emotions.index(emotion) if emotion in emotions else 0, s_index, t_index]
            best = int(np.argmax(scores))
            out |= {
                "probability": float(scores[cls]) if cls is not None else np.nan,
                "predicted_class": classes[best],
                "predicted_probability": float(scores[best]),
            }
        return out | {f"phi_{name}": float(value) for name, value in zip(parameters, vector, strict=True)}

    last_s, last_t = len(s) - 1, len(t) - 1
    neutral_t = 0 if np.isclose(t[0], 0.0) else None
    neutral_class = classes.index(NEUTRAL) if NEUTRAL in classes else None
    rows = [row("optimised", NEUTRAL, np.zeros(phi.shape[1]), last_s, neutral_t, neutral_class)]
    rows += [row("optimised", e, phi[i], last_s, last_t, int(target[i])) for i, e in enumerate(emotions)]
    k = emotions.index(onset_emotion)
    rows += [row("onset", onset_emotion, phi[k], 0, int(j), int(target[k])) for j in onset_indices(len(t), n_onset)]
    return pd.DataFrame(rows)


def render_panels(scene, panels: pd.DataFrame) -> np.ndarray:
    """Render every face of ``panels`` with a :class:`facesym.interventions.scene.Scene`.

    Returns
    -------
    np.ndarray
        Images ``(P, H, W, C)`` in ``[0, 1]``, C = 1 (gray) or 3 (rgb).
    """
    phi = panels.filter(like="phi_").to_numpy(dtype=np.float32, copy=True)
    s, t = (panels[axis].to_numpy(dtype=np.float32, copy=True) for axis in ("s", "t"))
    images = scene.images(phi, s, t)
    return images.permute(0, 2, 3, 1).cpu().numpy()


def _caption(panel: pd.Series) -> str:
    lines = []
    if not np.isnan(panel["probability"]):
        lines.append(f"p({panel['emotion']}) = {panel['probability']:.2f}")
    if panel["predicted_class"] and panel["predicted_class"] != panel["emotion"]:
        lines.append(f"argmax: {panel['predicted_class']} {panel['predicted_probability']:.2f}")
    return "\n".join(lines)


@styled
def expressions_figure(images: np.ndarray, panels: pd.DataFrame, *, classifier: str, identity: str) -> Figure:
    """Top row: neutral and φ^(e) of each emotion at s = 1, t = 1; bottom row: one emotion's onset at s = 0.

    Parameters
    ----------
    images
        Renders of the panels, shape ``(P, H, W, C)`` in ``[0, 1]``.
    panels
        :func:`expression_panels` (P rows, same order).
    classifier, identity
        For the title.

    Returns
    -------
    Figure
        Under each face the classifier's probability of the shown emotion, and its argmax class when that is
        another class.
    """
    top = panels.index[panels["row"] == "optimised"]
    bottom = panels.index[panels["row"] == "onset"]
    n_cols = max(len(top), len(bottom))
    fig = new_figure(1.15 * n_cols + 0.6, 3.5)
    axes = fig.subplots(2, n_cols, squeeze=False)
    gray = images.shape[-1] == 1
    for r, indices in enumerate((top, bottom)):
        for c in range(n_cols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(indices):
                ax.set_axis_off()
                continue
            panel = panels.loc[indices[c]]
            picture = images[indices[c]]
            ax.imshow(picture[..., 0] if gray else picture, cmap="gray" if gray else None, vmin=0.0, vmax=1.0)
            heading = panel["emotion"] if r == 0 else f"t = {panel['t']:.2f}"
            ax.set_title(heading, color=EMOTION_COLORS.get(panel["emotion"], "black") if r == 0 else "black")
            ax.set_xlabel(_caption(panel), fontsize="small")
            # A red frame marks an optimised face the classifier puts in another class; early onset faces are
            # meant to look neutral, so the strip is not framed.
            wrong = r == 0 and panel["predicted_class"] and panel["predicted_class"] != panel["emotion"]
            for spine in ax.spines.values():
                spine.set_edgecolor("#C00000" if wrong else "0.6")
                spine.set_linewidth(1.5 if wrong else 0.5)
    onset = panels.loc[bottom[0], "emotion"] if len(bottom) else ""
    axes[0, 0].set_ylabel("optimised φ(e)\ns = 1, t = 1")
    axes[1, 0].set_ylabel(f"onset of {onset}\ns = 0")
    fig.suptitle(f"{classifier}, {identity}: optimised expressions and the {onset} onset with the left half frozen")
    return fig
