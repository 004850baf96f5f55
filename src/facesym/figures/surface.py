"""Fig. 3 analogue: one activation surface F^(e) over (s, t) beside its derivative ∂F/∂s."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure

from facesym.figures.style import new_figure, styled
from facesym.stats import units

__all__ = ["derivative_along_s", "surface_figure", "surface_values"]


def derivative_along_s(surface: np.ndarray, s: np.ndarray, spacing: str = "step") -> np.ndarray:
    """∂F/∂s on the grid, estimated as in the impact score (``numpy.gradient`` along s).

    Parameters
    ----------
    surface
        F over the grid, shape ``(S, T)``, symmetry ascending on axis 0.
    s
        Symmetry levels, shape ``(S,)``, equidistant in ``[0, 1]``.
    spacing
        ``"step"``: change per symmetry step (unit spacing, the paper's unit); ``"unit"``: per unit of s.

    Returns
    -------
    np.ndarray
        Shape ``(S, T)``; its mean is the gradient impact score of Eq. 6 in the same unit.
    """
    if spacing not in ("step", "unit"):
        raise ValueError(f"spacing={spacing!r} is not one of 'step', 'unit'")
    surface = np.asarray(surface, dtype=np.float64)
    if spacing == "step":
        return np.gradient(surface, axis=0)
    return np.gradient(surface, np.asarray(s, dtype=np.float64), axis=0)


def surface_values(s: np.ndarray, t: np.ndarray, surface: np.ndarray, derivative: np.ndarray) -> pd.DataFrame:
    """The plotted numbers in long form: one row per grid point with columns ``s, t, F, dF_ds``."""
    s_grid, t_grid = np.meshgrid(s, t, indexing="ij")
    return pd.DataFrame(
        {"s": s_grid.ravel(), "t": t_grid.ravel(), "F": np.ravel(surface), "dF_ds": np.ravel(derivative)}
    )


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges around grid values in ``[0, 1]``: each cell is centred on its grid point and clipped to the
    domain, so the axes end at s, t = 0 and 1 instead of half a (possibly coarse) step beyond them."""
    centres = np.asarray(centres, dtype=np.float64)
    if centres.size == 1:
        return np.clip([centres[0] - 0.5, centres[0] + 0.5], 0.0, 1.0)
    middle = (centres[1:] + centres[:-1]) / 2
    return np.clip(np.concatenate([[2 * centres[0] - middle[0]], middle, [2 * centres[-1] - middle[-1]]]), 0.0, 1.0)


@styled
def surface_figure(
    s: np.ndarray,
    t: np.ndarray,
    surface: np.ndarray,
    derivative: np.ndarray,
    *,
    emotion: str,
    classifier: str,
    identity: str,
    spacing: str = "step",
    score: float | None = None,
    pvalue: float | None = None,
    statistic: str = "gradient",
) -> Figure:
    """(a) F^(e)(s, t) and (b) ∂F^(e)/∂s as maps over the symmetry × onset grid.

    Parameters
    ----------
    s, t
        Grid values, shapes ``(S,)`` and ``(T,)`` in ``[0, 1]``.
    surface
        Softmax probability of the target emotion, shape ``(S, T)``.
    derivative
        ∂F/∂s, shape ``(S, T)`` (:func:`derivative_along_s`), in the unit of ``spacing``.
    emotion, classifier, identity
        What is shown, for the titles.
    spacing
        Unit of ``derivative``: ``"step"`` or ``"unit"``.
    score, pvalue
        The identity's impact score and permutation p-value (from the permutations file), shown in the title.
    statistic
        Which statistic ``score`` is (``"gradient"`` is the mean of panel (b)).

    Returns
    -------
    Figure
        Two panels side by side. (a) uses a fixed 0–1 probability scale so surfaces of different figures compare;
        (b) a diverging scale centred on zero and symmetric, so blue and red mean the same size of change.
    """
    s, t = np.asarray(s), np.asarray(t)
    surface, derivative = np.asarray(surface), np.asarray(derivative)
    expected = (s.size, t.size)
    if surface.shape != expected or derivative.shape != expected:
        raise ValueError(f"surface {surface.shape} and derivative {derivative.shape} must both be (S, T) = {expected}")
    fig = new_figure(7.2, 3.3)
    ax_f, ax_d = fig.subplots(1, 2)
    s_edges, t_edges = _edges(s), _edges(t)

    # Arrays are (S, T) but s is on the x axis: pcolormesh wants (rows = y = t, columns = x = s).
    mesh = ax_f.pcolormesh(s_edges, t_edges, surface.T, cmap="viridis", norm=Normalize(0.0, 1.0))
    fig.colorbar(mesh, ax=ax_f, label=f"softmax probability F({emotion})")
    ax_f.set_title(f"(a) classifier output F({emotion})")

    limit = float(np.max(np.abs(derivative))) or 1e-6  # a flat surface still needs a non-empty scale
    mesh = ax_d.pcolormesh(
        s_edges, t_edges, derivative.T, cmap="RdBu_r", norm=TwoSlopeNorm(0.0, vmin=-limit, vmax=limit)
    )
    unit = units(spacing)
    fig.colorbar(mesh, ax=ax_d, label=f"∂F/∂s (probability {unit})")
    ax_d.set_title(f"(b) ∂F({emotion})/∂s; mean = {derivative.mean():+.3g}")

    for ax in (ax_f, ax_d):
        ax.set_xlabel("symmetry s (0: left half frozen, 1: symmetric)")
        ax.set_xlim(s_edges[0], s_edges[-1])
        ax.set_ylim(t_edges[0], t_edges[-1])
        ax.set_ylabel("expression onset t (0: neutral, 1: full)")
    title = f"{classifier}, {identity}: {emotion}"
    if score is not None:
        title += f"\nimpact score Ŝ ({statistic}) = {score:+.3g} {unit}"
        if pvalue is not None:
            title += f", permutation p = {pvalue:.3g}"
    fig.suptitle(title)
    return fig
