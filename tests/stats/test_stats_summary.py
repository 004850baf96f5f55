"""summarise: Table 2 mean, supplementary Table 1 ratio after Holm, bootstrap CI of the mean."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from facesym.stats import Summary, holm, permutation_test, summarise


def test_mean_ratio_and_holm_decisions_per_leading_entry() -> None:
    rng = np.random.default_rng(0)
    scores = rng.normal(0.02, 0.01, size=(3, 6, 40))  # (classifier, emotion, identity)
    pvalues = rng.uniform(size=(3, 6, 40)) ** 4
    out = summarise(scores, pvalues, alpha=0.05, n_bootstrap=200, rng=1)
    reject, adjusted = holm(pvalues, 0.05)
    np.testing.assert_allclose(out.mean_score, scores.mean(axis=-1), rtol=1e-14)
    np.testing.assert_array_equal(out.reject, reject)
    np.testing.assert_array_equal(out.adjusted_pvalues, adjusted)
    np.testing.assert_array_equal(out.n_significant, reject.sum(axis=-1))
    np.testing.assert_allclose(out.ratio_significant, reject.sum(axis=-1) / 40)
    assert out.mean_score.shape == out.ci_low.shape == out.ratio_significant.shape == (3, 6)
    assert out.n_identities == 40 and out.n_bootstrap == 200 and out.alpha == 0.05
    assert np.all(out.ci_low <= out.mean_score) and np.all(out.mean_score <= out.ci_high)


def test_ratio_uses_the_corrected_not_the_raw_pvalues() -> None:
    pvalues = np.array([0.001, 0.01, 0.02, 0.03, 0.04])  # all < 0.05 raw; Holm keeps 0.001 and 0.01 only
    out = summarise(np.zeros(5), pvalues, alpha=0.05, n_bootstrap=0)
    assert out.ratio_significant == pytest.approx(0.4)
    assert int(out.n_significant) == 2


def test_ci_agrees_with_scipy_percentile_bootstrap() -> None:
    rng = np.random.default_rng(5)
    scores = rng.gamma(2.0, 0.01, size=(4, 60))  # skewed, like scores bounded below
    b = 20_000
    out = summarise(scores, np.full_like(scores, 0.5), n_bootstrap=b, rng=rng)
    ref = scipy.stats.bootstrap(
        (scores,), np.mean, axis=-1, n_resamples=b, method="percentile", confidence_level=0.95,
        rng=np.random.default_rng(6),
    )
    # two independent Monte-Carlo estimates of the same quantiles: they differ by ~0.03 standard errors
    se = scores.std(axis=-1, ddof=1) / np.sqrt(scores.shape[-1])
    assert np.all(np.abs(out.ci_low - ref.confidence_interval.low) < 0.15 * se)
    assert np.all(np.abs(out.ci_high - ref.confidence_interval.high) < 0.15 * se)


def test_ci_covers_the_true_mean_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(12)
    n_sets, n_ident = 1000, 50
    scores = rng.normal(0.03, 0.02, size=(n_sets, n_ident))
    out = summarise(scores, np.ones_like(scores), n_bootstrap=2000, rng=rng)
    coverage = np.mean((out.ci_low <= 0.03) & (0.03 <= out.ci_high))
    # percentile intervals undercover slightly at N = 50 (about 0.94); binomial 99% band around that
    assert 0.92 <= coverage <= 0.97, coverage
    # and are as wide as the normal-theory interval
    normal_width = 2 * 1.96 * scores.std(axis=-1, ddof=1) / np.sqrt(n_ident)
    assert np.median((out.ci_high - out.ci_low) / normal_width) == pytest.approx(1.0, abs=0.05)


def test_confidence_level_widens_the_interval() -> None:
    scores = np.random.default_rng(0).normal(size=(1, 30))
    narrow = summarise(scores, np.ones_like(scores), confidence=0.5, rng=0)
    wide = summarise(scores, np.ones_like(scores), confidence=0.99, rng=0)
    assert wide.ci_low < narrow.ci_low < narrow.ci_high < wide.ci_high
    assert wide.confidence == 0.99


def test_degenerate_inputs() -> None:
    same = summarise(np.full((2, 7), 0.25), np.full((2, 7), 0.001), n_bootstrap=500)
    np.testing.assert_allclose(same.ci_low, 0.25)
    np.testing.assert_allclose(same.ci_high, 0.25)
    np.testing.assert_array_equal(same.ratio_significant, 1.0)
    one = summarise([0.1], [0.2])
    assert float(one.mean_score) == pytest.approx(0.1) and float(one.ci_low) == pytest.approx(0.1)
    none = summarise(np.ones((2, 3)), np.ones((2, 3)), n_bootstrap=0)
    assert np.all(np.isnan(none.ci_low)) and np.all(np.isnan(none.ci_high))


def test_reproducible_by_default_and_from_seeds() -> None:
    scores = np.random.default_rng(0).normal(size=(3, 25))
    p = np.ones_like(scores)
    a, b = summarise(scores, p), summarise(scores, p)
    np.testing.assert_array_equal(a.ci_low, b.ci_low)
    c = summarise(scores, p, rng=np.random.default_rng(3))
    d = summarise(scores, p, rng=3)
    np.testing.assert_array_equal(c.ci_high, d.ci_high)
    assert not np.array_equal(a.ci_high, c.ci_high)


def test_metadata_labels_the_table() -> None:
    out = summarise(np.zeros((2, 3)), np.ones((2, 3)), statistic="slope", spacing="unit", n_bootstrap=10)
    assert isinstance(out, Summary)
    assert out.statistic == "slope" and out.spacing == "unit" and out.units == "per unit of symmetry"
    assert summarise([0.0], [1.0]).units == "per symmetry step"


def test_end_to_end_from_permutation_tests() -> None:
    """Identities with a real symmetry effect are counted as significant; null identities almost never."""
    rng = np.random.default_rng(8)
    n_ident = 12
    s = np.linspace(0.0, 1.0, 10)[:, None]
    effect = np.array([0.3, 0.0])[:, None, None, None]  # emotion 0 rises with s, emotion 1 does not
    surfaces = 0.4 + effect * s + 0.05 * rng.standard_normal((2, n_ident, 10, 30))
    res = permutation_test(surfaces, 999, rng)
    out = summarise(res.score, res.pvalue, alpha=0.05, n_bootstrap=1000, rng=rng)
    assert out.ratio_significant[0] == 1.0
    assert out.ratio_significant[1] <= 1 / n_ident
    assert out.ci_low[0] > 0.0 > out.ci_low[1] and out.ci_high[1] > 0.0
    np.testing.assert_allclose(out.mean_score[0], 0.3 / 9, rtol=0.1)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pvalues": np.ones((2, 4))}, "same shape"),
        ({"scores": np.full((2, 3), np.nan)}, "NaN"),
        ({"scores": np.ones((2, 0)), "pvalues": np.ones((2, 0))}, "at least one identity"),
        ({"statistic": "median"}, "statistic"),
        ({"spacing": "px"}, "spacing"),
        ({"confidence": 95}, "confidence"),
        ({"n_bootstrap": -1}, "n_bootstrap"),
        ({"alpha": 5}, "alpha"),
    ],
)
def test_invalid_input_is_rejected(kwargs: dict, match: str) -> None:
    args = {"scores": np.ones((2, 3)), "pvalues": np.ones((2, 3))} | kwargs
    with pytest.raises(ValueError, match=match):
        summarise(**args)
