"""The joint null, the population-level tests and the Holm-resolution check of the config."""

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats as sps

from facesym.config import ConfigError, load_schema, validate_config
from facesym.stats import (
    holm,
    impact_score,
    joint_permutation_test,
    permutation_test,
    sign_flip_test,
    smallest_pvalue,
    smallest_sign_flip_pvalue,
    t_interval,
)

REPO = Path(__file__).resolve().parents[2]
SCHEMA = load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")


@pytest.mark.parametrize("statistic", ["gradient", "slope"])
def test_joint_null_enumerates_every_relabelling_of_whole_rows(statistic):
    rng = np.random.default_rng(0)
    surface = rng.random((2, 5, 7))
    result = joint_permutation_test(surface, 10, rng, statistic=statistic)
    assert result.method == "exact"
    # brute force: every permutation of the 5 rows, the score recomputed on the whole relabelled surface
    brute = np.array(
        [impact_score(surface[:, list(p), :], statistic=statistic) for p in itertools.permutations(range(5))]
    )
    obs = impact_score(surface, statistic=statistic)
    expected = (np.abs(brute) >= np.abs(obs) - 1e-12).mean(axis=0)
    np.testing.assert_allclose(result.pvalue, expected)
    np.testing.assert_allclose(np.sort(np.abs(result.null), axis=-1)[:, -1], np.abs(brute).max(axis=0))


def test_joint_null_resolution_and_what_it_means_for_holm_at_the_paper_scale():
    # the gradient uses 4 of 10 levels: 5040 ordered tuples, the observed and its reversal are the most extreme
    assert smallest_pvalue("joint", 10, "gradient", 10**6) == pytest.approx(2 / 5040)
    assert smallest_pvalue("joint", 10, "gradient", 10**6) > 0.01 / 200  # can never pass Holm's first threshold
    assert smallest_pvalue("joint", 10, "slope", 50_000) == pytest.approx(1 / 50_001)  # the slope can
    assert smallest_pvalue("columns", 10, "gradient", 50_000) == pytest.approx(1 / 50_001)


def test_under_the_joint_null_a_perfect_trend_is_extreme_for_the_slope_but_not_for_the_gradient():
    """The gradient weighs levels 0, 1, S-2, S-1 by -1.5, +0.5, -0.5, +1.5: putting level 8's value at level 1
    and level 1's at level 8 *raises* it, so a perfectly linear surface is far from the most extreme relabelling."""
    rng = np.random.default_rng(1)
    rising = np.linspace(0, 1, 7)[:, None] + 0.001 * rng.random((7, 90))
    assert joint_permutation_test(rising, 1, rng, statistic="slope").pvalue == pytest.approx(2 / 5040)
    rising10 = np.linspace(0, 1, 10)[:, None] + 0.001 * rng.random((10, 90))
    assert joint_permutation_test(rising10, 1, rng, statistic="gradient").pvalue > 0.1


def test_trendless_pattern_shared_by_columns_fools_the_columns_null_not_the_joint_null():
    """A random s-pattern (no trend) repeated in every t column: exchangeable levels, so H0 of the joint null holds.

    The columns null treats the 90 columns as independent replicates and rejects most such surfaces; the joint
    null rejects at its nominal rate (99% binomial band of 200 draws at 0.01: at most 6 rejections).
    """
    rng = np.random.default_rng(2)
    n, alpha = 200, 0.01
    pattern = rng.normal(0, 0.02, size=(n, 10, 1))
    surfaces = 0.5 + pattern + 0.002 * rng.normal(size=(n, 10, 90))
    columns = permutation_test(surfaces, 199, rng).pvalue
    joint = joint_permutation_test(surfaces, 199, rng).pvalue
    assert np.mean(columns <= alpha) > 0.5
    assert np.sum(joint <= alpha) <= sps.binom.ppf(0.995, n, alpha)


def test_sign_flip_is_exact_and_its_resolution_is_stated():
    rng = np.random.default_rng(3)
    x = rng.normal(0.2, 1.0, size=(3, 6))
    p, method = sign_flip_test(x)
    assert method == "exact"
    signs = np.array(list(itertools.product((1, -1), repeat=6)))
    brute = (np.abs(x @ signs.T) >= np.abs(x.sum(axis=-1, keepdims=True)) - 1e-12).mean(axis=-1)
    np.testing.assert_allclose(p, brute)
    # four identities: the smallest two-sided p is 2/16 — no Holm over six emotions can reject
    assert smallest_sign_flip_pvalue(4, 9999) == 0.125
    assert sign_flip_test(np.array([1.0, 2.0, 3.0, 4.0]))[0] == 0.125
    assert smallest_sign_flip_pvalue(8, 9999) <= 0.05 / 6


def test_sign_flip_monte_carlo_agrees_with_enumeration():
    rng = np.random.default_rng(4)
    x = rng.normal(0.3, 1.0, size=17)  # 2^17 patterns: beyond the exact limit
    p_mc, method = sign_flip_test(x, 20_000, rng)
    assert method == "monte-carlo"
    signs = np.array(list(itertools.product((1, -1), repeat=17)), dtype=np.int8)
    exact = np.mean(np.abs(signs @ x) >= abs(x.sum()) - 1e-12)
    assert abs(p_mc - exact) < 4 * math.sqrt(exact * (1 - exact) / 20_000) + 1e-4


def test_t_interval_is_students():
    x = np.random.default_rng(5).normal(size=(2, 4))
    low, high = t_interval(x)
    for row, lo, hi in zip(x, low, high, strict=True):
        expected = sps.ttest_1samp(row, 0.0).confidence_interval(0.95)
        assert (lo, hi) == pytest.approx((expected.low, expected.high))


def _paper():
    return yaml.safe_load((REPO / "config" / "paper.yaml").read_text())


def test_paper_config_can_reject_and_the_paper_k_is_refused_naming_keys_and_fix():
    config = validate_config(_paper(), SCHEMA)
    assert 1 / (config["statistics"]["permutations"] + 1) <= config["statistics"]["delta"] / 200
    paper = _paper()
    paper["statistics"]["permutations"] = 10_000
    expected = r"statistics\.permutations' \(10000\).*identities\.count' \(200\).*at least 19999"
    with pytest.raises(ConfigError, match=expected):
        validate_config(paper, SCHEMA)
    paper["statistics"] |= {"permutations": 50_000, "permutation_null": "joint"}
    with pytest.raises(ConfigError, match=r"permutation_null' \(joint\).*0\.000397.*statistic: slope"):
        validate_config(paper, SCHEMA)
    paper["statistics"]["statistic"] = "slope"
    validate_config(paper, SCHEMA)


def test_holm_rejects_a_planted_trend_at_the_paper_settings():
    """N = 200 identities, K = 50,000 (paper.yaml), δ = 0.01, S = 10 levels: a real trend is found for all."""
    config = validate_config(_paper(), SCHEMA)
    stats = config["statistics"]
    rng = np.random.default_rng(6)
    s = np.linspace(0, 1, 10)[:, None]
    # 9 onsets instead of 90 keep the test short; the resolution 1/(K+1) does not depend on T
    surfaces = 0.4 + 0.05 * s + 0.002 * rng.normal(size=(200, 10, 9))
    p = permutation_test(surfaces, stats["permutations"], rng).pvalue
    reject, _ = holm(p, stats["delta"])
    assert reject.all()
    # the paper's K = 10,000 cannot: 1/10,001 > 0.01/200
    p_paper = permutation_test(surfaces[:20], 10_000, rng).pvalue
    assert not holm(np.concatenate([p_paper, np.ones(180)]), stats["delta"])[0].any()
