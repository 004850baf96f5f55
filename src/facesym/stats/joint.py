"""The joint permutation null: one relabelling of the symmetry levels shared by every onset column.

The paper's null (:func:`facesym.stats.permutation_test`, ``statistics.permutation_null: columns``) permutes the
``S`` values along ``s`` independently within each of the ``T`` onset columns, as if the columns were independent
replicates. A surface is a deterministic, smooth function of ``t``, so a pattern along ``s`` that has no trend but
repeats in every column (the same random bump in each) is "significant" under that null: it tests *does s matter at
all, column by column*, and rejects for any reproducible s-dependence.

The joint null (``statistics.permutation_null: joint``) applies **one** permutation of the ``S`` levels to every
column at once: whole rows of the surface are exchanged. It asks whether the *order* of the symmetry levels matters
for the statistic, treating the ``S`` levels (not the ``S·T`` cells) as the units: a trendless pattern shared by all
columns is then just one of the ``S!`` equally likely orderings.

Because the statistic is linear, ``score = sum_s w[s] · mean_t F[s, t]``, the joint null only needs the row
means ``G[s] = mean_t F[s, t]``: the statistic of a relabelled surface is ``sum_j w[l_j] · G[τ_j]`` over the
levels ``l_j`` with non-zero weight. Its distribution has at most ``P = S!/(S - m)!`` distinct values (``m`` = the
number of weighted levels: 4 for the paper's gradient, so ``P = 5040`` for ``S = 10``; ``S`` for the slope, so
``P = 10! = 3,628,800``). When ``P`` is small (``<= EXACT_LIMIT``) every relabelling is enumerated and the
p-value is exact; otherwise ``K`` random permutations give the Monte-Carlo ``(1 + b)/(K + 1)``.

Resolution: both statistics have antisymmetric weights (``w[S-1-i] = -w[i]``), so reversing the levels gives
``-score`` and the smallest exact p-value is ``2 / P`` (see :func:`smallest_pvalue`): ``3.97e-4`` for the
gradient on 10 levels. Holm at ``δ = 0.01`` over ``N = 200`` identities needs ``p <= 5e-5`` for its first
rejection, so **the joint null with the paper's gradient statistic can never reject at the paper's scale**; the
slope statistic (``2/10! = 5.5e-7``) can, given ``K >= 20,000`` Monte-Carlo permutations.

Power: use the joint null with the **slope** statistic. The gradient's weights (``-1.5, +0.5, …, -0.5, +1.5``
over ``S`` at levels ``0, 1, S-2, S-1``) reward moving a high value to level 1, so even a perfectly linear
surface is not the most extreme relabelling (exact p = 0.16 on 10 levels; the test suite checks it), while for
the slope it is (``p = 2/S!``).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from facesym.stats.permutation import PVALUE_METHODS, PermutationResult, _tuples, monte_carlo_pvalues
from facesym.stats.score import as_surface, impact_score, score_weights

__all__ = ["EXACT_LIMIT", "NULLS", "joint_permutation_test", "smallest_pvalue"]

EXACT_LIMIT = 1 << 17
"""Largest number of distinct relabellings enumerated exactly (131,072); beyond, Monte Carlo."""

NULLS: tuple[str, ...] = ("columns", "joint")
"""Names accepted by ``statistics.permutation_null``."""

_TIE_RTOL = 1e-12


def _n_relabellings(n_levels: int, statistic: str) -> int:
    m = int(np.count_nonzero(score_weights(n_levels, statistic)))
    return math.perm(n_levels, m)


def smallest_pvalue(
    null: str, n_levels: int, statistic: str, n_permutations: int, pvalue: str = "plus-one"
) -> float:
    """The smallest p-value a per-surface test can give, whatever the surface.

    Parameters
    ----------
    null : {"columns", "joint"}
        Which permutation null.
    n_levels : int
        ``S``.
    statistic : {"gradient", "slope"}
    n_permutations : int
        ``K`` (Monte-Carlo draws).
    pvalue : {"plus-one", "paper"}
        The Monte-Carlo p-value.

    Returns
    -------
    float
        ``0`` with the paper's ``b/K``. ``columns``: ``1/(K + 1)``. ``joint``: ``2/P`` when the ``P``
        relabellings are enumerated; otherwise the larger of ``1/(K + 1)`` and ``2/P`` (a valid Monte-Carlo
        p-value cannot stay below the exact one it estimates).
    """
    if null not in NULLS:
        raise ValueError(f"null={null!r} is not one of {', '.join(map(repr, NULLS))}")
    if pvalue == "paper":  # b/K with a strict ">" is zero when no permutation is more extreme
        return 0.0
    monte_carlo = 1.0 / (n_permutations + 1)
    if null == "columns":
        return monte_carlo
    total = _n_relabellings(n_levels, statistic)
    exact = min(1.0, 2.0 / total)
    return exact if total <= EXACT_LIMIT else max(monte_carlo, exact)


def joint_permutation_test(
    surface: ArrayLike,
    n_permutations: int,
    rng: np.random.Generator,
    spacing: str = "step",
    statistic: str = "gradient",
    pvalue: str = "plus-one",
) -> PermutationResult:
    """Permutation test of the impact score under the joint null (one relabelling of s for all columns).

    Parameters
    ----------
    surface : array_like, shape (..., S, T)
        Outputs over the grid, symmetry ascending on axis -2. Leading entries are tested independently.
    n_permutations : int
        ``K`` random relabellings when there are more than :data:`EXACT_LIMIT`; ignored when the
        distribution is enumerated.
    rng : numpy.random.Generator
        Randomness of the Monte-Carlo case (untouched when exact).
    spacing, statistic
        As for :func:`facesym.stats.impact_score`.
    pvalue : {"plus-one", "paper"}
        Monte-Carlo p-value (as :func:`facesym.stats.permutation_test`). Exact enumeration includes the
        observed labelling, so its p-value ``#{|null| >= |score|} / P`` is never zero; with ``"paper"`` it is
        ``#{|null| > |score|} / P``.

    Returns
    -------
    PermutationResult
        ``null`` (..., K') holds every relabelling's statistic (``K' = P``, ``method = "exact"``) or the
        ``K`` random ones (``method = "monte-carlo"``).
    """
    arr = as_surface(surface)
    if pvalue not in PVALUE_METHODS:
        raise ValueError(f"pvalue={pvalue!r} is not one of {', '.join(map(repr, PVALUE_METHODS))}")
    k = int(n_permutations)
    if k != n_permutations or k < 1:
        raise ValueError(f"n_permutations must be a positive integer, got {n_permutations!r}")
    lead, n_levels = arr.shape[:-2], arr.shape[-2]
    w = score_weights(n_levels, statistic, spacing)
    levels = np.flatnonzero(w)
    score = impact_score(arr, spacing=spacing, statistic=statistic).reshape(-1)
    rows = arr.reshape(-1, *arr.shape[-2:]).mean(axis=-1)  # (L, S): G[s] = mean_t F[s, t]
    total = math.perm(n_levels, len(levels))
    if total <= EXACT_LIMIT:
        null = rows[:, _tuples(n_levels, len(levels))] @ w[levels]  # (L, P)
        method = "exact"
    else:
        order = rng.permuted(np.broadcast_to(np.arange(n_levels), (rows.shape[0], k, n_levels)), axis=-1)
        null = np.take_along_axis(rows[:, None, :], order, axis=-1) @ w
        method = "monte-carlo"
    tol = (_TIE_RTOL * np.abs(w).sum() * np.abs(rows).max(axis=-1, initial=0.0))[:, None]
    abs_null, abs_score = np.abs(null), np.abs(score)[:, None]
    n = null.shape[-1]
    if method == "exact":
        extreme = abs_null >= abs_score - tol if pvalue == "plus-one" else abs_null > abs_score + tol
        p = np.count_nonzero(extreme, axis=-1) / n
    else:
        p = monte_carlo_pvalues(null, score, tol, pvalue)
    return PermutationResult(
        score=score.reshape(lead),
        null=null.reshape(*lead, n),
        pvalue=p.reshape(lead),
        n_permutations=n,
        statistic=statistic,
        spacing=spacing,
        pvalue_method=pvalue,
        method=method,
    )
