"""The facial-symmetry impact score of one logit surface (paper Eq. 6) and its least-squares alternative.

A *surface* is an array ``F`` of shape ``(..., S, T)``: a classifier's output (softmax probability of one
emotion) on the grid of ``S`` symmetry levels ``s = linspace(0, 1, S)`` (ascending, second to last axis) by
``T`` expression-onset steps ``t`` (last axis). Leading axes (emotions, identities, classifiers) are carried
along untouched.

Statistics
----------
``statistic="gradient"`` (default, the paper's score)
    The mean over the ``S x T`` grid of ``numpy.gradient(F, axis=-2)``: second-order central differences
    inside, first-order one-sided differences at the two edges.

``statistic="slope"``
    The ordinary least-squares slope of ``F[:, t]`` against the symmetry level, per ``t`` column, averaged over
    the columns. It uses every symmetry level with weight proportional to its distance from the centre.

Both are exact for surfaces that are linear in ``s``, and both return the true mean derivative for surfaces
that are quadratic in ``s`` on the paper's equidistant grid; they differ on anything else.

Units (``spacing``)
-------------------
``spacing="step"`` (default)
    Change of the output **per symmetry step** (the paper's unit: "increasing the symmetry by one step ...
    increased the softmax output by 3.7 percentage points" for a score of 0.0373).
``spacing="unit"``
    Change per unit of ``s``, i.e. the per-step value divided by the grid step ``1 / (S - 1)``.

The telescoping property of the paper's score
---------------------------------------------
Both statistics are *linear* in the surface: ``score = mean_t sum_s w[s] * F[s, t]`` with fixed weights ``w``
(see :func:`score_weights`). For the gradient statistic, the interior central differences telescope and the
mean over ``s`` of ``numpy.gradient`` collapses, per ``t`` column and per symmetry step, to::

    (1.5 * F[S-1] - 0.5 * F[S-2] + 0.5 * F[1] - 1.5 * F[0]) / S

(for ``S = 2`` the four terms fall on two levels and give ``F[1] - F[0]``; for ``S = 3`` the middle level
cancels). **Only the two lowest and the two highest symmetry levels enter the paper's score**: the outputs at
every intermediate level ``2 .. S-3`` have no influence at all. We keep it as the default because it
reproduces the paper; ``statistic="slope"`` is the alternative that uses every level.

Linearity is also what makes the permutation test fast (:mod:`facesym.stats.permutation`): the null statistic
of a permuted surface only needs the permuted values at the levels with non-zero weight.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Statistic = Literal["gradient", "slope"]
Spacing = Literal["step", "unit"]

STATISTICS: tuple[str, ...] = ("gradient", "slope")
"""Names accepted by ``statistic=``."""

SPACINGS: tuple[str, ...] = ("step", "unit")
"""Names accepted by ``spacing=``."""

__all__ = ["SPACINGS", "STATISTICS", "Spacing", "Statistic", "impact_score", "score_weights", "units"]


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(map(repr, choices))}")
    return value


def units(spacing: str = "step") -> str:
    """Human-readable unit of a score computed with ``spacing`` (for table headers and axis labels).

    Parameters
    ----------
    spacing : {"step", "unit"}

    Returns
    -------
    str
        ``"per symmetry step"`` or ``"per unit of symmetry"``.
    """
    _check_choice("spacing", spacing, SPACINGS)
    return "per symmetry step" if spacing == "step" else "per unit of symmetry"


def score_weights(n_levels: int, statistic: str = "gradient", spacing: str = "step") -> NDArray[np.float64]:
    """Weights ``w`` such that the score of a surface ``F`` is ``mean_t sum_s w[s] * F[s, t]``.

    Parameters
    ----------
    n_levels : int
        Number of symmetry levels ``S`` (at least 2).
    statistic : {"gradient", "slope"}
        ``"gradient"``: mean of ``numpy.gradient`` along s (the paper's score); the weights are non-zero only at
        the levels ``0, 1, S-2, S-1`` (telescoping, see the module docstring). ``"slope"``: least-squares slope,
        weights ``(i - (S-1)/2) / sum_j (j - (S-1)/2)**2``.
    spacing : {"step", "unit"}
        ``"step"``: per symmetry step; ``"unit"``: per unit of ``s`` (weights multiplied by ``S - 1``).

    Returns
    -------
    ndarray, shape (S,)
        The weights. They sum to zero (a surface that is constant along ``s`` scores zero) and
        ``sum_i w[i] * i == 1`` per step (a surface rising by one per step scores one).
    """
    _check_choice("statistic", statistic, STATISTICS)
    _check_choice("spacing", spacing, SPACINGS)
    n = int(n_levels)
    if n != n_levels or n < 2:
        raise ValueError(f"need at least 2 symmetry levels to estimate a derivative along s, got {n_levels!r}")
    w = np.zeros(n, dtype=np.float64)
    if statistic == "gradient":
        # mean over s of numpy.gradient (edge_order=1, unit spacing), collected per level; for n = 2 or 3 the
        # four contributions overlap and the sums below give exactly numpy's result.
        w[0] -= 1.5
        w[1] += 0.5
        w[n - 2] -= 0.5
        w[n - 1] += 1.5
        w /= n
    else:
        x = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
        w = x / np.dot(x, x)
    if spacing == "unit":
        w = w * (n - 1)
    return w


def as_surface(surface: ArrayLike, name: str = "surface") -> NDArray[np.float64]:
    """Validate a surface ``(..., S, T)`` and return it as float64 (no copy if it already is)."""
    arr = np.asarray(surface, dtype=np.float64)
    if arr.ndim < 2:
        raise ValueError(f"{name} must have shape (..., S, T) with symmetry then time last, got {arr.shape}")
    if arr.shape[-2] < 2:
        raise ValueError(f"{name} needs at least 2 symmetry levels (axis -2), got shape {arr.shape}")
    if arr.shape[-1] < 1:
        raise ValueError(f"{name} needs at least 1 time step (axis -1), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name} contains a non-finite value (first at index {tuple(int(i) for i in bad)})")
    return arr


def weighted_column_sum(weights: NDArray[np.float64], values: Iterable[NDArray[np.float64]]) -> NDArray[np.float64]:
    """``sum_j weights[j] * values[j]``, accumulated in the given order, consuming ``values`` lazily.

    The permutation null uses this routine with the same order of levels, so the identity permutation
    reproduces the observed score bit for bit. At most two arrays of the result's size are alive at once.
    """
    acc: NDArray[np.float64] | None = None
    for w, v in zip(weights, values, strict=True):
        term = np.multiply(v, w, dtype=np.float64)
        if acc is None:
            acc = term
        else:
            acc += term
    if acc is None:
        raise ValueError("no weights given")
    return acc


def impact_score(
    surface: ArrayLike, spacing: str = "step", statistic: str = "gradient"
) -> NDArray[np.float64]:
    """Facial-symmetry impact score ``Ŝ(F | I)`` of one or many surfaces (paper Eq. 6).

    Parameters
    ----------
    surface : array_like, shape (..., S, T)
        Classifier outputs over the symmetry x time grid, symmetry ascending from 0 to 1 on axis -2.
        ``S >= 2``; values must be finite.
    spacing : {"step", "unit"}
        Unit of the score: per symmetry step (default, the paper's) or per unit of ``s``.
    statistic : {"gradient", "slope"}
        ``"gradient"`` (default): mean over the grid of ``numpy.gradient`` along s, the paper's score; only the
        two lowest and two highest symmetry levels enter it (see the module docstring). ``"slope"``:
        least-squares slope along s per t column, averaged over t.

    Returns
    -------
    ndarray of float64, shape (...)
        One score per surface (0-d for a single surface). Positive: the output rises with symmetry.

    Examples
    --------
    >>> import numpy as np
    >>> s = np.linspace(0, 1, 10)[:, None]
    >>> surface = 0.2 + 0.09 * s + np.zeros((1, 90))   # rises by 0.01 per symmetry step
    >>> float(np.round(impact_score(surface), 12))
    0.01
    >>> float(np.round(impact_score(surface, spacing="unit"), 12))
    0.09
    """
    arr = as_surface(surface)
    w = score_weights(arr.shape[-2], statistic, spacing)
    levels = np.flatnonzero(w)
    per_column = weighted_column_sum(w[levels], (arr[..., i, :] for i in levels))
    return np.asarray(per_column.mean(axis=-1))
