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
    gradient statistic on ``S = 10`` levels). For every t column the weighted sum of all ``P`` tuples is
    tabulated once; a permutation then costs one random integer and one table look-up per column. When ``P``
    is large (the slope statistic, ``m = S``: 10! tuples), the weighted levels are split into two halves: a
    random ordered tuple for the first half (table A), then a random ordering of the levels left for the second
    (table B, indexed through a small look-up table): two integers and two look-ups, tables of
    ``2 * S! / (S - m/2)!`` entries (60,480 for the slope on 10 levels). Either way this is an exact
    reparametrisation of the permutation distribution, not an approximation.
``method="shuffle"``
    Draws, for every (permutation, column), the levels whose values move to the ``m`` weighted levels: by
    sequential sampling without replacement when ``m < S`` (the gradient statistic), by a full Fisher-Yates
    shuffle of the ``S`` levels otherwise (the slope statistic). Used when the tables would be too large (the
    slope statistic with ``S > 10``) or cost more to build than the work they save (few permutations).
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
_SINGLE_TABLE_ROWS = 8192  # up to this many ordered tuples, one table; beyond, two half tables
_MAX_TABLE_ROWS = 1 << 17  # largest number of tuples in one (half) table
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


@lru_cache(maxsize=16)
def _tuples(n: int, q: int) -> NDArray[np.intp]:
    """All ordered q-tuples of distinct values in ``range(n)``, lexicographic, shape ``(n!/(n-q)!, q)``."""
    flat = itertools.chain.from_iterable(itertools.permutations(range(n), q))
    out = np.fromiter(flat, dtype=np.intp, count=math.perm(n, q) * q).reshape(-1, q)
    out.setflags(write=False)
    return out


def _tuple_index(values: NDArray[np.intp], n: int) -> NDArray[np.intp]:
    """Lexicographic index of ordered tuples of distinct values of ``range(n)`` among all such tuples."""
    q = values.shape[-1]
    index = np.zeros(values.shape[:-1], dtype=np.intp)
    for j in range(q):
        rank = values[..., j] - np.sum(values[..., :j] < values[..., j : j + 1], axis=-1)
        index += rank * math.perm(n - j - 1, q - j - 1)
    return index


def _prefix_table(x: NDArray[np.float64], weights: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """``table[..., p] = sum_j weights[j] * x[..., tuples[p, j]]`` for all ordered tuples of distinct levels.

    Built level by level along the lexicographic prefix tree (each q-tuple extends a (q-1)-tuple), so every
    entry costs one multiply-add; the sum runs in the order of :func:`weighted_column_sum`.
    """
    q = len(weights)
    tuples = _tuples(n, q)
    acc = np.multiply(x, weights[0], dtype=np.float64)
    for j in range(1, q):
        extend = math.perm(n - j - 1, q - j - 1)  # q-tuples sharing one (j+1)-prefix
        nxt = np.take(acc, np.arange(math.perm(n, j + 1)) // (n - j), axis=-1)
        term = np.take(x, tuples[::extend, j], axis=-1)
        term *= weights[j]
        nxt += term
        acc = nxt
    return acc


@dataclass(frozen=True)
class _TablePlan:
    """How the table method draws the values at the m weighted levels.

    One block (``b == 0``): a uniformly random ordered m-tuple of distinct levels, one table of P(S, m) sums.
    Two blocks: a uniformly random ordered a-tuple for the first ``a`` weighted levels (table A), then a
    uniformly random ordering ``r`` of b of the ``S - a`` levels left (``n_orders = P(S - a, b)`` choices);
    ``lut[set_base[d] + r]`` is that b-tuple's row in table B of all ordered b-tuples. Together these are a
    uniformly random ordered m-tuple, drawn with two integers and two look-ups instead of one huge table.
    """

    n_levels: int
    a: int
    b: int
    set_base: NDArray[np.intp] | None = None
    lut: NDArray[np.intp] | None = None
    n_orders: int = 0

    @property
    def rows_a(self) -> int:
        return math.perm(self.n_levels, self.a)

    @property
    def rows_b(self) -> int:
        return math.perm(self.n_levels, self.b) if self.b else 0


def _plan_shape(n_levels: int, m: int) -> tuple[int, int]:
    if math.perm(n_levels, m) <= _SINGLE_TABLE_ROWS:
        return m, 0
    a = (m + 1) // 2
    return a, m - a


@lru_cache(maxsize=8)
def _table_plan(n_levels: int, m: int) -> _TablePlan:
    a, b = _plan_shape(n_levels, m)
    if b == 0:
        return _TablePlan(n_levels, a, 0)
    sets = np.array(list(itertools.combinations(range(n_levels), a)), dtype=np.intp)  # (C, a)
    rest = np.array([[v for v in range(n_levels) if v not in row] for row in sets.tolist()], dtype=np.intp)
    orders = _tuples(n_levels - a, b)  # orderings of b of the remaining levels, as ranks
    lut = _tuple_index(rest[:, orders].reshape(-1, b), n_levels)  # (C * P(S-a, b),) rows of table B
    # which set of levels each row of table A uses: match bit masks of the sets
    set_masks = (1 << sets).sum(axis=-1)
    order = np.argsort(set_masks)
    row_masks = (1 << _tuples(n_levels, a)).sum(axis=-1)
    set_id = order[np.searchsorted(set_masks[order], row_masks)]
    set_base = set_id * len(orders)
    lut.setflags(write=False)
    set_base.setflags(write=False)
    return _TablePlan(n_levels, a, b, set_base, lut, len(orders))


def _table_bytes(n_levels: int, m: int, n_time: int) -> int | None:
    """Peak bytes of the tables of one surface while they are built, or None when too large to consider."""
    a, b = _plan_shape(n_levels, m)
    rows_a, rows_b = math.perm(n_levels, a), math.perm(n_levels, b) if b else 0
    lut_rows = math.comb(n_levels, a) * math.perm(n_levels - a, b) if b else 0
    if max(rows_a, rows_b, lut_rows) > _MAX_TABLE_ROWS or n_levels > 62:  # 62: sets as int64 bit masks
        return None
    return 8 * n_time * (rows_a + rows_b + 2 * max(rows_a, rows_b))


def _choose_method(method: str, n_levels: int, m: int, n_time: int, k: int, max_memory: int) -> str:
    need = _table_bytes(n_levels, m, n_time)
    table_fits = need is not None and need <= max_memory // 2
    if method == "table":
        if not table_fits:
            raise ValueError(
                f"method='table' needs tables of the weighted sums of {math.perm(n_levels, m)} ordered tuples of "
                f"levels ({n_levels} levels, {m} weighted) for {n_time} columns, more than max_memory="
                f"{max_memory} bytes allows; use method='shuffle' or 'auto'"
            )
        return "table"
    if method == "shuffle":
        return "shuffle"
    # auto: building the tables costs about one operation per entry and column, a shuffle about S per
    # permutation and column
    a, b = _plan_shape(n_levels, m)
    entries = math.perm(n_levels, a) + (math.perm(n_levels, b) if b else 0)
    return "table" if table_fits and entries <= k * n_levels else "shuffle"


def monte_carlo_pvalues(
    null: NDArray[np.float64], score: NDArray[np.float64], tol: NDArray[np.float64], pvalue: str
) -> NDArray[np.float64]:
    """Two-sided p-values ``(L,)`` of scores ``(L,)`` against ``K`` random null draws ``(L, K)``.

    ``plus-one``: ``(1 + #{|null| >= |score|}) / (K + 1)``; ``paper``: ``#{|null| > |score|} / K``. ``tol``
    ``(L, 1)`` absorbs floating-point ties between a permutation that reproduces the observed order and the score.
    """
    abs_null, abs_score = np.abs(null), np.abs(score)[:, None]
    k = null.shape[-1]
    if pvalue == "plus-one":
        return (1.0 + np.count_nonzero(abs_null >= abs_score - tol, axis=-1)) / (k + 1.0)
    return np.count_nonzero(abs_null > abs_score + tol, axis=-1) / float(k)


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

    scale = np.abs(w).sum() * np.abs(arr.reshape(n_surf, n_levels * n_time)).max(axis=-1, initial=0.0)
    tol = (_TIE_RTOL * scale)[:, None]
    p = monte_carlo_pvalues(null, score, tol, pvalue)

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
    plan = _table_plan(n_levels, len(levels))
    chunk_budget = min(_CHUNK_BYTES, max_memory // 2)
    need = _table_bytes(n_levels, len(levels), n_time) or 0
    block = max(1, min(n_surf, chunk_budget // max(need, 1)))  # small tables: several surfaces at once
    per_k = n_time * (56 + (16 * n_levels if perms is not None else 0))
    kc = max(1, min(k, chunk_budget // per_k))
    off_a = np.arange(n_time) * plan.rows_a
    off_b = np.arange(n_time) * plan.rows_b
    for l0 in range(0, n_surf, block):
        sub = cols[l0 : l0 + block]
        # table[l, t, p]: the statistic's column term (sum over the weighted levels) for tuple p
        table_a = _prefix_table(sub, lw[: plan.a], n_levels)
        table_b = _prefix_table(sub, lw[plan.a :], n_levels) if plan.b else None
        # one surface at a time, so that the look-ups stay inside its tables (cache)
        for i in range(sub.shape[0]):
            flat_a = table_a[i].reshape(-1)
            for k0 in range(0, k, kc):
                k1 = min(k, k0 + kc)
                draw = rng.integers(0, plan.rows_a, size=(k1 - k0, n_time))
                if table_b is None:
                    rows_b = None
                else:
                    assert plan.set_base is not None and plan.lut is not None
                    order = rng.integers(0, plan.n_orders, size=(k1 - k0, n_time))
                    rows_b = np.take(plan.lut, np.take(plan.set_base, draw) + order)
                if perms is not None:
                    src = _tuples(n_levels, plan.a)[draw]
                    if rows_b is not None:
                        src = np.concatenate([src, _tuples(n_levels, plan.b)[rows_b]], axis=-1)
                    perms[l0 + i, k0:k1] = np.swapaxes(_complete(src, levels, n_levels), -1, -2)
                draw += off_a
                values = np.take(flat_a, draw)
                if table_b is not None and rows_b is not None:
                    rows_b += off_b
                    values += np.take(table_b[i].reshape(-1), rows_b)
                null[l0 + i, k0:k1] = values.mean(axis=-1)


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
