"""holm against statsmodels.stats.multitest.multipletests(method="holm") and Holm's definition."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from facesym.stats import holm


@pytest.fixture(autouse=True)
def _no_gc_in_statsmodels(monkeypatch: pytest.MonkeyPatch) -> None:
    """multipletests(method="holm") calls gc.collect() on every call (~50 ms here); it changes no result."""
    monkeypatch.setattr(gc, "collect", lambda *args: 0)


def statsmodels_holm(p: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    flat = p.reshape(-1, p.shape[-1])
    out = [multipletests(row, alpha=alpha, method="holm")[:2] for row in flat]
    reject = np.array([r for r, _ in out]).reshape(p.shape)
    adjusted = np.array([a for _, a in out]).reshape(p.shape)
    return reject, adjusted


def pvalue_families(seed: int, n: int) -> np.ndarray:
    """Realistic families: a mix of strong effects, nulls, exact ties, and permutation-test grid values."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(size=(8, n))
    p[0] = rng.uniform(0, 1e-3, size=n)  # everything significant
    p[1, : n // 2] = 1.0 / 10_001  # the smallest permutation p-value, tied
    p[2] = np.round(rng.uniform(size=n), 2)  # many ties
    p[3] = rng.beta(0.2, 1.0, size=n)  # skewed towards zero, as under an alternative
    p[4, 0] = 0.0
    p[4, -1] = 1.0
    return p


@pytest.mark.parametrize("n", [1, 2, 3, 10, 200])
@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.1])
def test_agrees_with_statsmodels(n: int, alpha: float) -> None:
    p = pvalue_families(n, n)
    reject, adjusted = holm(p, alpha)
    ref_reject, ref_adjusted = statsmodels_holm(p, alpha)
    np.testing.assert_array_equal(reject, ref_reject)
    np.testing.assert_array_equal(adjusted, ref_adjusted)
    assert reject.dtype == bool and adjusted.shape == p.shape


def test_agrees_with_statsmodels_at_the_exact_thresholds() -> None:
    """p-values sitting exactly on alpha / (n - j) are rejected (<=), as in statsmodels."""
    alpha, n = 0.05, 5
    p = alpha / np.arange(n, 0, -1)
    reject, adjusted = holm(p[::-1].copy(), alpha)
    ref_reject, ref_adjusted = statsmodels_holm(p[::-1].copy(), alpha)
    np.testing.assert_array_equal(reject, ref_reject)
    np.testing.assert_array_equal(adjusted, ref_adjusted)
    assert reject.all()


def test_step_down_stops_at_the_first_failure() -> None:
    # sorted: 0.001 <= 0.05/4, 0.01 <= 0.05/3, 0.03 > 0.05/2 stops it: 0.04 <= 0.05/1 is never reached
    reject, adjusted = holm([0.01, 0.03, 0.001, 0.04], alpha=0.05)
    np.testing.assert_array_equal(reject, [True, False, True, False])
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.004, 0.06])  # monotone: max(2*0.03, 1*0.04)


def test_is_less_conservative_than_bonferroni_and_controls_it() -> None:
    p = pvalue_families(1, 50)
    reject, adjusted = holm(p, 0.05)
    bonferroni = np.minimum(p * p.shape[-1], 1.0)
    assert np.all(adjusted <= bonferroni + 1e-15)
    assert np.all(adjusted >= p)
    assert np.all(reject >= (bonferroni <= 0.05))


def test_leading_axes_are_independent_families() -> None:
    p = pvalue_families(3, 12).reshape(2, 4, 12)
    reject, adjusted = holm(p, 0.05)
    for i in range(2):
        for j in range(4):
            r, a = holm(p[i, j], 0.05)
            np.testing.assert_array_equal(reject[i, j], r)
            np.testing.assert_array_equal(adjusted[i, j], a)


def test_empty_family_and_list_input() -> None:
    reject, adjusted = holm(np.empty((3, 0)), 0.05)
    assert reject.shape == (3, 0) and adjusted.shape == (3, 0)
    reject, adjusted = holm([0.2], 0.05)
    assert reject.tolist() == [False] and adjusted.tolist() == [0.2]


@pytest.mark.parametrize(
    ("p", "alpha", "match"),
    [
        ([0.1, np.nan], 0.05, "NaN"),
        ([0.1, 1.2], 0.05, r"\[0, 1\]"),
        ([-0.1], 0.05, r"\[0, 1\]"),
        ([0.1], 0.0, "alpha"),
        ([0.1], 1.0, "alpha"),
        (0.1, 0.05, "at least one axis"),
    ],
)
def test_invalid_input_is_rejected(p: object, alpha: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        holm(p, alpha)  # type: ignore[arg-type]


def test_controls_the_family_wise_error_rate_under_the_global_null() -> None:
    """2000 families of 20 independent null p-values: P(any rejection) <= alpha (about 0.049 here)."""
    rng = np.random.default_rng(4)
    reject, _ = holm(rng.uniform(size=(2000, 20)), 0.05)
    fwer = reject.any(axis=-1).mean()
    assert 0.033 <= fwer <= 0.065, fwer  # binomial 99% band around 1 - (1 - 0.05/20)**20
