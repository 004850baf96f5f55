"""Permutation test of the impact score (paper Sec. 3.3, supplementary Alg. 1), vectorised and memory-bounded.

Null hypothesis: the classifier's output does not depend on symmetry, so within each expression-onset column
``t`` the ``S`` values along ``s`` are exchangeable. Each permutation shuffles the values along ``s``
**independently within every t column** (``t`` stays fixed), and the statistic is recomputed. Leading axes
(e.g. the six emotions of one job) are tested independently, each with its own permutations.

How it is fast, and why it is still exact
-----------------------------------------
The statistic is linear, ``score = mean_t sum_s w[s] F[s, t]`` (:func:`facesym.stats.score_weights`), so the
statistic of a permuted surface only needs the permuted values at the ``m`` levels where ``w`` is non-zero
(``m = 4`` for the paper's gradient statistic, whatever ``S``: the telescoping property). Two strategies
compute it, and both give, for every drawn permutation, the value of the statistic recomputed on the permuted
surface (up to floating-point rounding; the test suite checks this against ``numpy.gradient`` on the full
permuted surfaces, see ``return_permutations``):

``method="table"``
    The values a uniformly random permutation puts at the ``m`` weighted levels form a uniformly random
    *ordered m-tuple of distinct levels*. There are ``P = S! / (S - m)!`` of them (5040 for the paper's
    ``S = 10``). For every t column the weighted sum of all ``P`` tuples is tabulated once; a permutation then
    costs one random integer and one table look-up per column. This is an exact reparametrisation of the
    permutation distribution, not an approximation.
``method="shuffle"``
    Draws, for every (permutation, column), the levels whose values move to the ``m`` weighted levels: by
    sequential sampling without replacement when ``m < S`` (the gradient statistic), by a full Fisher-Yates
    shuffle of the ``S`` levels otherwise (the slope statistic). Used when the table would be too large (large
    ``S``, or the slope statistic with ``S > 8``) or costlier than the work it saves (few permutations).
``method="auto"`` picks the cheaper one. Both draw from ``rng`` and are reproducible for the same
``rng`` state, input shape, ``method`` and ``max_memory`` (the chunking decides the order of the draws).

Memory: the permutations are processed in chunks, so the working memory (tables plus chunk arrays, not
counting the input surface and the returned ``null``) stays below ``max_memory`` (default 256 MiB).

p-values
--------
``pvalue="plus-one"`` (default): ``p = (1 + #{k : |null_k| >= |score|}) / (K + 1)``, the valid Monte-Carlo
p-value (Phipson & Smyth 2010): ``P(p <= a) <= a`` under the null, never zero.
``pvalue="paper"``: the paper's ``p = #{k : |null_k| > |score|} / K`` (strict inequality; can be zero, and
counts ties as not extreme, so it is anti-conservative when the surface has ties, e.g. saturated outputs).
Comparisons treat values that differ by less than ``1e-12 * sum|w| * max|F|`` (floating-point rounding of the
same exact value) as ties, like :func:`scipy.stats.permutation_test`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from facesym.stats.score import as_surface, impact_score, score_weights, weighted_column_sum

PValueMethod = Literal["plus-one", "paper"]
PVALUE_METHODS: tuple[str, ...] = ("plus-one", "paper")
METHODS: tuple[str, ...] = ("auto", "table", "shuffle")

DEFAULT_MAX_MEMORY = 256 * 2**20
"""Default bound on the working memory of :func:`permutation_test`, in bytes."""

_CHUNK_BYTES = 8 * 2**20  # target working set of one chunk: large enough to amortise Python, small for cache
_MAX_TABLE_ROWS = 1 << 17  # largest number of ordered tuples P for the table method
_TIE_RTOL = 1e-12

__all__ = ["DEFAULT_MAX_MEMORY", "PVALUE_METHODS", "PermutationResult", "permutation_test"]


@dataclass(frozen=True)
class PermutationResult:
    """Outcome of :func:`permutation_test`.

    Attributes
    ----------
    score : ndarray, shape (...)
        Observed impact score of each surface (same units as ``spacing``).
    null : ndarray, shape (..., K)
        Statistic of each of the ``K`` permuted surfaces (the null distribution), same units.
    pvalue : ndarray, shape (...)
        Two-sided permutation p-value (absolute values compared), computed as ``pvalue_method`` says.
    n_permutations : int
        ``K``.
    statistic, spacing, pvalue_method, method : str
        The options that produced the result (``method`` is the strategy actually used, never ``"auto"``).
    permutations : ndarray of unsigned int, shape (..., K, S, T), or None
        Only with ``return_permutations=True``: the permutations behind ``null``.
        ``permutations[..., k, s, t]`` is the symmetry index of the original value that sits at ``(s, t)`` in
        the k-th permuted surface, i.e. ``np.take_along_axis(surface, permutations[..., k, :, :], axis=-2)``
        is that surface and ``impact_score`` of it equals ``null[..., k]``. With ``method="table"`` only the
        levels with non-zero weight are drawn; the other levels receive the remaining values in ascending
        order (they do not affect the statistic).
    """

    score: NDArray[np.float64]
    null: NDArray[np.float64]
    pvalue: NDArray[np.float64]
    n_permutations: int
    statistic: str
    spacing: str
    pvalue_method: str
    method: str
    permutations: NDArray[np.unsignedinteger] | None = field(default=None, repr=False)


@lru_cache(maxsize=8)
def _ordered_tuples(n_levels: int, levels: tuple[int, ...]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """All ordered tuples of distinct levels for the weighted ``levels``, and a full permutation for each.

    Returns ``tuples`` (P, m), lexicographic, and ``completions`` (P, S) with ``completions[p, levels] =
    tuples[p]`` and the remaining values, ascending, at the remaining levels.
    """
    m = len(levels)
    count = math.perm(n_levels, m)
    flat = itertools.chain.from_iterable(itertools.permutations(range(n_levels), m))
    tuples = np.fromiter(flat, dtype=np.intp, count=count * m).reshape(count, m)
    unused = np.ones((count, n_levels), dtype=bool)
    np.put_along_axis(unused, tuples, False, axis=1)
    rest = np.nonzero(unused)[1].reshape(count, n_levels - m)
    completions = np.empty((count, n_levels), dtype=np.intp)
    completions[:, list(levels)] = tuples
    completions[:, [i for i in range(n_levels) if i not in levels]] = rest
    tuples.setflags(write=False)
    completions.setflags(write=False)
    return tuples, completions


def _choose_method(method: str, n_levels: int, m: int, n_time: int, k: int, max_memory: int) -> str:
    count = math.perm(n_levels, m)
    table_fits = count <= _MAX_TABLE_ROWS and 3 * n_time * count * 8 <= max_memory // 2
    if method == "table":
        if not table_fits:
            raise ValueError(
                f"method='table' needs a table of {count} ordered tuples x {n_time} columns, more than "
                f"max_memory={max_memory} bytes allows; use method='shuffle' or 'auto'"
            )
        return "table"
    if method == "shuffle":
        return "shuffle"
    # auto: the table costs P*m per column once, a shuffle costs about S per column and permutation
    return "table" if table_fits and count * m <= 4 * k * n_levels else "shuffle"


def permutation_test(
    surface: ArrayLike,
    n_permutations: int,
    rng: np.random.Generator,
    spacing: str = "step",
    statistic: str = "gradient",
    *,
    pvalue: str = "plus-one",
    method: str = "auto",
    max_memory: int = DEFAULT_MAX_MEMORY,
    return_permutations: bool = False,
) -> PermutationResult:
    """Permutation test of the impact score, permuting along s independently within each t column.

    Parameters
    ----------
    surface : array_like, shape (..., S, T)
        Classifier outputs over the symmetry x time grid (symmetry ascending on axis -2). Every surface in the
        leading axes is tested independently with its own permutations.
    n_permutations : int
        Number ``K`` of random permutations (the paper uses 10,000).
    rng : numpy.random.Generator
        Source of randomness; the result is a deterministic function of its state.
    spacing : {"step", "unit"}
        Unit of ``score`` and ``null`` (see :func:`facesym.stats.impact_score`). It does not change p-values.
    statistic : {"gradient", "slope"}
        Test statistic (see :func:`facesym.stats.impact_score`).
    pvalue : {"plus-one", "paper"}
        ``"plus-one"`` (default): ``(1 + #{|null| >= |score|}) / (K + 1)``. ``"paper"``: ``#{|null| > |score|}
        / K`` as in the paper.
    method : {"auto", "table", "shuffle"}
        Computation strategy (see the module docstring); all give the same null distribution.
    max_memory : int
        Bound on the working memory in bytes (default 256 MiB); permutations are processed in chunks.
    return_permutations : bool
        Also return the drawn permutations, shape (..., K, S, T), for auditing (memory ``K*S*T`` bytes per
        surface for ``S <= 256``).

    Returns
    -------
    PermutationResult
        ``score`` (...), ``null`` (..., K), ``pvalue`` (...), and the options used.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> s = np.linspace(0, 1, 10)[:, None]
    >>> surface = 0.5 + 0.3 * s + 0.1 * rng.standard_normal((6, 10, 90))   # six emotions, rising with s
    >>> result = permutation_test(surface, 999, rng)
    >>> result.null.shape, bool(np.all(result.pvalue == 1 / 1000))
    ((6, 999), True)
    """
    arr = as_surface(surface)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng)}")
    k = int(n_permutations)
    if k != n_permutations or k < 1:
        raise ValueError(f"n_permutations must be a positive integer, got {n_permutations!r}")
    if pvalue not in PVALUE_METHODS:
        raise ValueError(f"pvalue={pvalue!r} is not one of {', '.join(map(repr, PVALUE_METHODS))}")
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not one of {', '.join(map(repr, METHODS))}")
    max_memory = int(max_memory)
    if max_memory < 2**20:
        raise ValueError(f"max_memory must be at least 1 MiB, got {max_memory} bytes")

    lead = arr.shape[:-2]
    n_levels, n_time = arr.shape[-2:]
    n_surf = math.prod(lead)
    w = score_weights(n_levels, statistic, spacing)
    levels = tuple(int(i) for i in np.flatnonzero(w))
    lw = w[list(levels)]
    used = _choose_method(method, n_levels, len(levels), n_time, k, max_memory)

    score = impact_score(arr, spacing=spacing, statistic=statistic).reshape(n_surf)
    # (L, T, S): one contiguous row of S levels per column, the layout both strategies gather from
    cols = np.ascontiguousarray(np.swapaxes(arr.reshape(n_surf, n_levels, n_time), -1, -2))
    null = np.empty((n_surf, k), dtype=np.float64)
    perms: NDArray[np.unsignedinteger] | None = None
    if return_permutations:
        perms = np.empty((n_surf, k, n_levels, n_time), dtype=np.min_scalar_type(n_levels - 1))

    if used == "table":
        _null_by_table(cols, levels, lw, k, rng, max_memory, null, perms)
    else:
        _null_by_shuffle(cols, levels, lw, k, rng, max_memory, null, perms)

    scale = np.abs(w).sum() * np.abs(arr.reshape(n_surf, -1)).max(axis=-1)
    tol = (_TIE_RTOL * scale)[:, None]
    abs_null = np.abs(null)
    abs_score = np.abs(score)[:, None]
    if pvalue == "plus-one":
        p = (1.0 + np.count_nonzero(abs_null >= abs_score - tol, axis=-1)) / (k + 1.0)
    else:
        p = np.count_nonzero(abs_null > abs_score + tol, axis=-1) / float(k)

    return PermutationResult(
        score=score.reshape(lead),
        null=null.reshape(*lead, k),
        pvalue=p.reshape(lead),
        n_permutations=k,
        statistic=statistic,
        spacing=spacing,
        pvalue_method=pvalue,
        method=used,
        permutations=None if perms is None else perms.reshape(*lead, k, n_levels, n_time),
    )


def _null_by_table(
    cols: NDArray[np.float64],
    levels: tuple[int, ...],
    lw: NDArray[np.float64],
    k: int,
    rng: np.random.Generator,
    max_memory: int,
    null: NDArray[np.float64],
    perms: NDArray[np.unsignedinteger] | None,
) -> None:
    n_surf, n_time, n_levels = cols.shape
    tuples, completions = _ordered_tuples(n_levels, levels)
    count = tuples.shape[0]
    table_bytes = 3 * n_time * count * 8  # the table, one gathered term and the sum being formed
    chunk_budget = min(_CHUNK_BYTES, max_memory // 2)
    block = max(1, min(n_surf, chunk_budget // table_bytes))  # small tables: several surfaces at once
    for l0 in range(0, n_surf, block):
        sub = cols[l0 : l0 + block]
        # table[l, t, p] = sum_j lw[j] * F[l, tuples[p, j], t]: the statistic's column term for tuple p
        table = weighted_column_sum(lw, (np.take(sub, tuples[:, j], axis=-1) for j in range(len(levels))))
        offsets = np.arange(n_time) * count
        per_k = n_time * (40 + (8 * n_levels if perms is not None else 0))
        kc = max(1, min(k, chunk_budget // per_k))
        # one surface at a time, so that the look-ups stay inside its table (cache)
        for i in range(table.shape[0]):
            flat = table[i].reshape(-1)
            for k0 in range(0, k, kc):
                k1 = min(k, k0 + kc)
                draw = rng.integers(0, count, size=(k1 - k0, n_time))
                if perms is not None:
                    perms[l0 + i, k0:k1] = np.swapaxes(completions[draw], -1, -2)
                draw += offsets
                null[l0 + i, k0:k1] = np.take(flat, draw).mean(axis=-1)


def _draw_distinct(rng: np.random.Generator, n_levels: int, m: int, shape: tuple[int, ...]) -> NDArray[np.intp]:
    """Uniformly random ordered m-tuples of distinct levels, shape ``shape + (m,)``.

    Sequential sampling without replacement: value j is uniform on the ``S - j`` levels not yet taken, which is
    exactly the law of the entries of a uniformly random permutation at m given positions.
    """
    taken: list[NDArray[np.intp]] = []
    for j in range(m):
        # the u-th level not yet taken: v = u + #{taken <= v}, a fixed point reached in at most j steps
        u = rng.integers(0, n_levels - j, size=shape)
        v = u
        for _ in range(j):
            nxt = u.copy()
            for prev in taken:
                nxt += prev <= v
            v = nxt
        taken.append(v)
    return np.stack(taken, axis=-1)


def _null_by_shuffle(
    cols: NDArray[np.float64],
    levels: tuple[int, ...],
    lw: NDArray[np.float64],
    k: int,
    rng: np.random.Generator,
    max_memory: int,
    null: NDArray[np.float64],
    perms: NDArray[np.unsignedinteger] | None,
) -> None:
    n_surf, n_time, n_levels = cols.shape
    m = len(levels)
    partial = m < n_levels  # only the weighted levels need values: draw m distinct levels, not a permutation
    flat = cols.reshape(-1)
    identity = np.arange(n_levels, dtype=np.intp)
    chunk_budget = min(_CHUNK_BYTES, max_memory // 2)
    per_lk = n_time * (8 * n_levels * (2 if perms is not None else 1) + 48)
    # chunk over surfaces and permutations together so that many small surfaces share one draw
    if per_lk * k <= chunk_budget:
        block, kc = max(1, min(n_surf, chunk_budget // (per_lk * k))), k
    else:
        block, kc = 1, max(1, chunk_budget // per_lk)
    for l0 in range(0, n_surf, block):
        nb = min(block, n_surf - l0)
        offsets = ((np.arange(l0, l0 + nb)[:, None] * n_time + np.arange(n_time)) * n_levels)[:, None, :]
        for k0 in range(0, k, kc):
            k1 = min(k, k0 + kc)
            shape = (nb, k1 - k0, n_time)
            if partial:
                # src[..., j]: the level whose value moves to weighted level levels[j]
                src = _draw_distinct(rng, n_levels, m, shape)
                if perms is not None:
                    perms[l0 : l0 + nb, k0:k1] = np.swapaxes(_complete(src, levels, n_levels), -1, -2)
            else:
                # Fisher-Yates per (surface, permutation, column): src[..., s] is the level moving to level s
                src = rng.permuted(np.broadcast_to(identity, (*shape, n_levels)), axis=-1)
                if perms is not None:
                    perms[l0 : l0 + nb, k0:k1] = np.swapaxes(src, -1, -2)
            picks = range(m) if partial else levels
            terms = (np.take(flat, offsets + src[..., j]) for j in picks)
            null[l0 : l0 + nb, k0:k1] = weighted_column_sum(lw, terms).mean(axis=-1)


def _complete(src: NDArray[np.intp], levels: tuple[int, ...], n_levels: int) -> NDArray[np.intp]:
    """Full permutations from the values at the weighted ``levels``; the other levels get the rest, ascending."""
    unused = np.ones((*src.shape[:-1], n_levels), dtype=bool)
    np.put_along_axis(unused, src, False, axis=-1)
    full = np.empty((*src.shape[:-1], n_levels), dtype=np.intp)
    full[..., list(levels)] = src
    others = [i for i in range(n_levels) if i not in levels]
    full[..., others] = np.nonzero(unused)[-1].reshape(*src.shape[:-1], len(others))
    return full
