"""permutation_test against independent references: recomputation on permuted surfaces, exact enumeration,
scipy.stats.permutation_test, and seeded calibration / power studies."""

from __future__ import annotations

import itertools
import math
import tracemalloc

import numpy as np
import pytest
import scipy.stats

from facesym.stats import impact_score, permutation_test, score_weights

METHODS = ["table", "shuffle"]
STATISTICS = ["gradient", "slope"]


def recomputed_null(surface: np.ndarray, perms: np.ndarray, statistic: str) -> np.ndarray:
    """Statistic of every permuted surface, recomputed from scratch with numpy.gradient / numpy.polyfit."""
    n_levels = surface.shape[-2]
    flat_s = surface.reshape(-1, *surface.shape[-2:])
    flat_p = perms.reshape(flat_s.shape[0], -1, *surface.shape[-2:]).astype(np.intp)
    out = np.empty(flat_p.shape[:2])
    for i, (surf, surf_perms) in enumerate(zip(flat_s, flat_p, strict=True)):
        for k, perm in enumerate(surf_perms):
            permuted = np.take_along_axis(surf, perm, axis=0)
            if statistic == "gradient":
                out[i, k] = np.gradient(permuted, axis=0).mean()
            else:
                x = np.arange(n_levels, dtype=float)
                out[i, k] = np.mean([np.polyfit(x, col, 1)[0] for col in permuted.T])
    return out.reshape(perms.shape[:-2])


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("statistic", STATISTICS)
@pytest.mark.parametrize("shape", [(2, 5), (3, 4), (2, 4, 6), (6, 3)])
def test_null_equals_the_statistic_recomputed_on_each_permuted_surface(
    method: str, statistic: str, shape: tuple[int, ...]
) -> None:
    rng = np.random.default_rng(11)
    surface = rng.random(shape)
    res = permutation_test(surface, 60, rng, statistic=statistic, method=method, return_permutations=True)
    assert res.method == method
    perms = res.permutations
    assert perms is not None and perms.shape == (*shape[:-2], 60, *shape[-2:])
    # every column of every permuted surface is a permutation of that column's levels: t stays fixed
    np.testing.assert_array_equal(np.sort(perms, axis=-2), np.broadcast_to(np.arange(shape[-2])[:, None], perms.shape))
    np.testing.assert_allclose(res.null, recomputed_null(surface, perms, statistic), rtol=0, atol=1e-13)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("statistic", "shape"), [("gradient", (2, 10, 90)), ("slope", (10, 40)),
                                                   ("slope", (9, 6)), ("gradient", (2, 20, 7))])
def test_large_grids_null_equals_recomputation(method: str, statistic: str, shape: tuple[int, ...]) -> None:
    """The paper's 10 x 90 grid and grids where the table method splits the weighted levels in two halves."""
    rng = np.random.default_rng(5)
    surface = rng.random(shape)
    res = permutation_test(surface, 25, rng, statistic=statistic, method=method, return_permutations=True)
    assert res.permutations is not None
    np.testing.assert_allclose(res.null, recomputed_null(surface, res.permutations, statistic), atol=1e-13)


@pytest.mark.parametrize(("statistic", "n_levels"), [("slope", 8), ("gradient", 14)])
def test_two_block_tables_draw_uniform_permutations(statistic: str, n_levels: int) -> None:
    """Two-block tables (P(S, m) > 8192): every level receives every value, and levels in different blocks
    receive every ordered pair of distinct values, equally often (chi-square at the 1e-4 level)."""
    rng = np.random.default_rng(0)
    k = 30_000
    res = permutation_test(rng.random((n_levels, 1)), k, rng, statistic=statistic, method="table",
                           return_permutations=True)
    assert res.permutations is not None
    perms = res.permutations[:, :, 0].astype(np.intp)  # (K, S): source level of each level
    weighted = np.flatnonzero(score_weights(n_levels, statistic))
    for level in weighted:
        counts = np.bincount(perms[:, level], minlength=n_levels)
        assert scipy.stats.chisquare(counts).pvalue > 1e-4
    first, last = weighted[0], weighted[-1]  # one level of each block
    pairs = perms[:, first] * n_levels + perms[:, last]
    counts = np.bincount(pairs, minlength=n_levels**2).reshape(n_levels, n_levels)
    assert np.all(np.diag(counts) == 0)
    assert scipy.stats.chisquare(counts[~np.eye(n_levels, dtype=bool)]).pvalue > 1e-4


@pytest.mark.parametrize("statistic", STATISTICS)
def test_table_and_shuffle_give_the_same_null_distribution(statistic: str) -> None:
    surface = np.random.default_rng(4).random((10, 3))
    table = permutation_test(surface, 20_000, np.random.default_rng(1), statistic=statistic, method="table")
    shuffle = permutation_test(surface, 20_000, np.random.default_rng(2), statistic=statistic, method="shuffle")
    assert scipy.stats.ks_2samp(table.null, shuffle.null).pvalue > 1e-4


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("statistic", STATISTICS)
def test_pvalue_follows_its_definition(method: str, statistic: str) -> None:
    rng = np.random.default_rng(2)
    s = np.linspace(0, 1, 6)[:, None]
    surface = 0.1 * s * np.arange(4)[:, None, None] + rng.normal(0, 0.1, size=(4, 6, 8))
    res = permutation_test(surface, 500, rng, statistic=statistic, method=method)
    b_ge = np.array([np.sum(np.abs(n) >= abs(sc)) for n, sc in zip(res.null, res.score, strict=True)])
    np.testing.assert_array_equal(res.pvalue, (1 + b_ge) / 501)
    np.testing.assert_array_equal(res.score, impact_score(surface, statistic=statistic))
    paper = permutation_test(surface, 500, np.random.default_rng(2), statistic=statistic, method=method,
                             pvalue="paper")
    b_gt = np.array([np.sum(np.abs(n) > abs(sc)) for n, sc in zip(paper.null, paper.score, strict=True)])
    np.testing.assert_array_equal(paper.pvalue, b_gt / 500)
    assert paper.pvalue_method == "paper" and res.pvalue_method == "plus-one"


def exact_null(surface: np.ndarray, statistic: str) -> np.ndarray:
    """Statistic for every combination of within-column permutations (all equally likely under H0)."""
    n_levels, n_time = surface.shape
    column_perms = list(itertools.permutations(range(n_levels)))
    values = []
    for combo in itertools.product(column_perms, repeat=n_time):
        permuted = np.stack([surface[list(p), t] for t, p in enumerate(combo)], axis=1)
        if statistic == "gradient":
            values.append(np.gradient(permuted, axis=0).mean())
        else:
            x = np.arange(n_levels, dtype=float)
            values.append(np.mean([np.polyfit(x, col, 1)[0] for col in permuted.T]))
    return np.array(values)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("statistic", "n_levels"), [("gradient", 3), ("gradient", 4), ("slope", 4)])
def test_matches_exact_enumeration_of_all_within_column_permutations(
    method: str, statistic: str, n_levels: int
) -> None:
    rng = np.random.default_rng(n_levels)
    surface = rng.normal(size=(n_levels, 2)) + 0.4 * np.arange(n_levels)[:, None]
    exact = exact_null(surface, statistic)
    observed = float(impact_score(surface, statistic=statistic))
    p_exact = np.mean(np.abs(exact) >= abs(observed) - 1e-12)
    assert 0.05 < p_exact < 0.95  # an informative case

    k = 20_000
    res = permutation_test(surface, k, np.random.default_rng(99), statistic=statistic, method=method)
    # p-value within Monte-Carlo error (5 standard errors, plus the +1 of the estimator)
    assert abs(res.pvalue - p_exact) < 5 * np.sqrt(p_exact * (1 - p_exact) / k) + 1 / k
    # the whole null distribution: Dvoretzky-Kiefer-Wolfowitz band at level 1e-6
    support = np.unique(exact)
    cdf_exact = np.searchsorted(np.sort(exact), support + 1e-12, side="right") / exact.size
    cdf_mc = np.searchsorted(np.sort(res.null), support + 1e-12, side="right") / k
    assert np.max(np.abs(cdf_mc - cdf_exact)) < np.sqrt(np.log(2 / 1e-6) / (2 * k))


@pytest.mark.parametrize(
    ("n_levels", "statistic", "trend"), [(10, "gradient", 0.25), (10, "slope", -0.1), (7, "slope", 0.25),
                                         (6, "gradient", 0.25)]
)
def test_single_column_agrees_with_scipy_permutation_test(n_levels: int, statistic: str, trend: float) -> None:
    """T = 1: our test is a permutation test of the order of one sample; scipy's 'pairings' is the same."""
    rng = np.random.default_rng(n_levels)
    column = rng.normal(size=n_levels) + trend * np.arange(n_levels)
    w = score_weights(n_levels, statistic)

    def stat(x: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.abs(np.tensordot(np.moveaxis(x, axis, -1), w, axes=1))

    k = 20_000
    ref = scipy.stats.permutation_test(
        (column,), stat, permutation_type="pairings", alternative="greater", n_resamples=k, vectorized=True,
        rng=np.random.default_rng(1),
    )
    ours = permutation_test(column[:, None], k, np.random.default_rng(2), statistic=statistic)
    p = float(ref.pvalue)
    assert 0.02 < p < 0.9
    # scipy enumerates exactly when S! <= k (S = 6, 7); otherwise both are Monte-Carlo estimates
    n_mc = 1 if math.factorial(n_levels) <= k else 2
    assert abs(float(ours.pvalue) - p) < 5 * np.sqrt(n_mc * p * (1 - p) / k) + 1 / k
    assert float(ours.score) == pytest.approx(float(stat(column)) * np.sign(ours.score))


def test_each_surface_and_each_column_gets_its_own_permutations() -> None:
    rng = np.random.default_rng(0)
    column = rng.random(5)
    surface = np.broadcast_to(column[:, None], (3, 5, 2)).copy()  # three identical surfaces, two equal columns
    res = permutation_test(surface, 4000, rng, return_permutations=True, method="shuffle")
    perms = res.permutations
    assert perms is not None
    assert not np.array_equal(res.null[0], res.null[1])
    assert not np.array_equal(res.null[1], res.null[2])
    # columns are permuted independently: both columns get the same permutation with probability 1/5! only
    same = np.all(perms[..., 0] == perms[..., 1], axis=-1).mean()
    assert same < 0.03
    # the null distributions of identical surfaces agree (two-sample KS, independent draws)
    assert scipy.stats.ks_2samp(res.null[0], res.null[1]).pvalue > 1e-4


@pytest.mark.parametrize("method", METHODS)
def test_reproducible_from_the_generator_state(method: str) -> None:
    surface = np.random.default_rng(0).random((6, 10, 9))
    a = permutation_test(surface, 700, np.random.default_rng(42), method=method)
    b = permutation_test(surface, 700, np.random.default_rng(42), method=method)
    c = permutation_test(surface, 700, np.random.default_rng(43), method=method)
    np.testing.assert_array_equal(a.null, b.null)
    np.testing.assert_array_equal(a.pvalue, b.pvalue)
    assert not np.array_equal(a.null, c.null)


def test_leading_axes_and_shapes_are_preserved() -> None:
    surface = np.random.default_rng(0).random((2, 3, 5, 4))
    res = permutation_test(surface, 17, np.random.default_rng(0))
    assert res.score.shape == (2, 3) and res.pvalue.shape == (2, 3) and res.null.shape == (2, 3, 17)
    single = permutation_test(surface[0, 0], 17, np.random.default_rng(0))
    assert single.score.shape == () and single.null.shape == (17,)
    assert res.n_permutations == 17 and res.statistic == "gradient" and res.spacing == "step"
    empty = permutation_test(np.zeros((0, 6, 5, 4)), 17, np.random.default_rng(0))
    assert empty.score.shape == (0, 6) and empty.null.shape == (0, 6, 17)


@pytest.mark.parametrize("statistic", STATISTICS)
def test_spacing_rescales_score_and_null_but_not_the_pvalue(statistic: str) -> None:
    surface = np.random.default_rng(1).random((3, 7, 5))
    step = permutation_test(surface, 300, np.random.default_rng(5), statistic=statistic)
    unit = permutation_test(surface, 300, np.random.default_rng(5), statistic=statistic, spacing="unit")
    np.testing.assert_allclose(unit.score, 6 * step.score, rtol=1e-12)
    np.testing.assert_allclose(unit.null, 6 * step.null, rtol=1e-12)
    np.testing.assert_array_equal(unit.pvalue, step.pvalue)


@pytest.mark.parametrize("method", METHODS)
def test_flat_surface_is_never_significant_but_the_paper_formula_says_p_zero(method: str) -> None:
    """Saturated outputs (constant along s) tie with every permutation; float rounding must not break ties."""
    surface = np.empty((3, 10, 90))
    surface[0] = 1.0
    surface[1] = 0.1 + 0.7 * np.linspace(0, 1, 90)  # onset effect only: constant along s in each column
    surface[2] = np.random.default_rng(0).random(90) / 3  # irrational-ish values, constant along s
    res = permutation_test(surface, 999, np.random.default_rng(0), method=method)
    np.testing.assert_array_equal(res.pvalue, 1.0)
    paper = permutation_test(surface, 999, np.random.default_rng(0), method=method, pvalue="paper")
    np.testing.assert_array_equal(paper.pvalue, 0.0)


def test_ties_from_repeated_values_count_as_extreme() -> None:
    """Two values per column, each repeated: the identity and many permutations give exactly the observed |score|."""
    rng = np.random.default_rng(3)
    surface = np.repeat(rng.random((2, 5)), [5, 5], axis=0) / 7  # low half one value, high half another
    res = permutation_test(surface, 5000, rng, return_permutations=True)
    assert res.permutations is not None
    exact = recomputed_null(surface, res.permutations, "gradient")
    b = np.sum(np.abs(exact) >= abs(float(impact_score(surface))) * (1 - 1e-9))
    assert res.pvalue == (1 + b) / 5001


@pytest.mark.parametrize(
    ("statistic", "method", "limit"),
    [("gradient", "table", 32 * 2**20), ("gradient", "shuffle", 32 * 2**20), ("slope", "table", 256 * 2**20)],
)
def test_working_memory_is_bounded_by_chunking(statistic: str, method: str, limit: int) -> None:
    """K = 100,000 on two paper-sized surfaces: unchunked draws alone would need > 140 MB."""
    surface = np.random.default_rng(0).random((2, 10, 90))
    k = 100_000
    tracemalloc.start()
    try:
        res = permutation_test(surface, k, np.random.default_rng(0), statistic=statistic, method=method,
                               max_memory=limit)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert res.method == method
    outputs_and_input_copies = res.null.nbytes * 3 + surface.nbytes * 3
    assert peak < limit + outputs_and_input_copies


def test_auto_picks_the_table_for_the_paper_job_and_falls_back_when_it_would_not_fit() -> None:
    surface = np.random.default_rng(0).random((1, 10, 90))
    assert permutation_test(surface, 10_000, np.random.default_rng(0)).method == "table"
    assert permutation_test(surface, 10_000, np.random.default_rng(0), statistic="slope").method == "table"
    assert permutation_test(surface, 100, np.random.default_rng(0), statistic="slope").method == "shuffle"
    assert permutation_test(surface[:, :6], 10, np.random.default_rng(0), statistic="slope").method == "shuffle"
    wide = np.random.default_rng(0).random((12, 90))  # slope on 12 levels: even half tables are too large
    assert permutation_test(wide, 50, np.random.default_rng(0), statistic="slope").method == "shuffle"
    with pytest.raises(ValueError, match="method='table'"):
        permutation_test(wide, 50, np.random.default_rng(0), statistic="slope", method="table")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_permutations": 0}, ValueError, "n_permutations"),
        ({"n_permutations": 2.5}, ValueError, "n_permutations"),
        ({"rng": 3}, TypeError, "Generator"),
        ({"pvalue": "exact"}, ValueError, "pvalue"),
        ({"method": "fast"}, ValueError, "method"),
        ({"statistic": "mean"}, ValueError, "statistic"),
        ({"spacing": "s"}, ValueError, "spacing"),
        ({"max_memory": 1000}, ValueError, "max_memory"),
        ({"surface": np.full((4, 3), np.inf)}, ValueError, "non-finite"),
        ({"surface": np.zeros((1, 3))}, ValueError, "symmetry levels"),
    ],
)
def test_invalid_arguments_are_rejected(kwargs: dict, error: type[Exception], match: str) -> None:
    args = {"surface": np.zeros((4, 3)), "n_permutations": 10, "rng": np.random.default_rng(0)} | kwargs
    with pytest.raises(error, match=match):
        permutation_test(**args)


# --- calibration and power (seeded: deterministic, never flaky) -----------------------------------------------


def null_surfaces(rng: np.random.Generator, n: int, n_levels: int, n_time: int) -> np.ndarray:
    """No effect of s: i.i.d. noise along s within each column, with a strong onset effect and a noise level
    that both depend on t."""
    t = np.linspace(0.0, 1.0, n_time)
    onset = 1.0 / (1.0 + np.exp(-12 * (t - 0.5)))
    sd = 0.05 + 0.2 * t
    return onset + sd * rng.standard_normal((n, n_levels, n_time))


@pytest.mark.parametrize(
    ("statistic", "method", "n_surfaces"),
    [("gradient", "table", 1000), ("gradient", "shuffle", 1000), ("slope", "shuffle", 600)],
)
def test_calibrated_under_the_null(statistic: str, method: str, n_surfaces: int) -> None:
    rng = np.random.default_rng(20240611)
    surfaces = null_surfaces(rng, n_surfaces, 10, 8)
    res = permutation_test(surfaces, 999, rng, statistic=statistic, method=method)
    rate = np.mean(res.pvalue < 0.05)
    lo, hi = scipy.stats.binom.interval(0.99, n_surfaces, 0.05)
    assert lo / n_surfaces <= rate <= hi / n_surfaces, rate
    # the p-values are (discretely) uniform: a KS test on them does not reject
    assert scipy.stats.kstest(res.pvalue, "uniform").pvalue > 0.001


@pytest.mark.parametrize("statistic", STATISTICS)
def test_power_against_one_noise_sd_per_grid_span(statistic: str) -> None:
    """Paper grid (10 x 90): the mean output rises by one noise standard deviation from s = 0 to s = 1."""
    rng = np.random.default_rng(7)
    n, sd = 500, 0.1
    s = np.linspace(0.0, 1.0, 10)[:, None]
    t = np.linspace(0.0, 1.0, 90)
    surfaces = 0.3 + 0.4 * t**2 + sd * s + sd * rng.standard_normal((n, 10, 90))
    res = permutation_test(surfaces, 199, rng, statistic=statistic)
    assert np.mean(res.pvalue < 0.05) >= 0.95
    assert np.mean(res.score > 0) > 0.99  # and in the right direction
