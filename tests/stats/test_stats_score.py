"""impact_score and score_weights against independent references (numpy.gradient loops, numpy.polyfit)."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

from facesym.stats import impact_score, score_weights, units


def loop_gradient_score(surface: np.ndarray, unit: bool = False) -> np.ndarray:
    """The paper's Eq. 6 written out: per surface, per t column, numpy.gradient along s, then the grid mean."""
    flat = surface.reshape(-1, *surface.shape[-2:])
    n_levels, n_time = surface.shape[-2:]
    out = np.empty(flat.shape[0])
    for i, surf in enumerate(flat):
        grads = np.empty((n_levels, n_time))
        for t in range(n_time):
            if unit:
                grads[:, t] = np.gradient(surf[:, t], np.linspace(0.0, 1.0, n_levels))
            else:
                grads[:, t] = np.gradient(surf[:, t])
        out[i] = grads.sum() / (n_levels * n_time)
    return out.reshape(surface.shape[:-2])


def loop_slope_score(surface: np.ndarray, unit: bool = False) -> np.ndarray:
    """Least-squares slope per t column with numpy.polyfit, averaged over t."""
    flat = surface.reshape(-1, *surface.shape[-2:])
    n_levels = surface.shape[-2]
    x = np.linspace(0.0, 1.0, n_levels) if unit else np.arange(n_levels, dtype=float)
    out = np.array([np.mean([np.polyfit(x, col, 1)[0] for col in surf.T]) for surf in flat])
    return out.reshape(surface.shape[:-2])


@pytest.mark.parametrize("shape", [(2, 1), (3, 4), (4, 7), (10, 90), (3, 10, 5), (2, 3, 6, 4)])
@pytest.mark.parametrize("spacing", ["step", "unit"])
def test_gradient_score_equals_hand_written_numpy_gradient_loop(shape: tuple[int, ...], spacing: str) -> None:
    rng = np.random.default_rng(sum(shape))
    surface = rng.random(shape)
    got = impact_score(surface, spacing=spacing)
    assert got.shape == shape[:-2]
    np.testing.assert_allclose(got, loop_gradient_score(surface, unit=spacing == "unit"), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("shape", [(2, 3), (3, 1), (5, 6), (10, 90), (4, 9, 8)])
@pytest.mark.parametrize("spacing", ["step", "unit"])
def test_slope_score_equals_polyfit_loop(shape: tuple[int, ...], spacing: str) -> None:
    surface = np.random.default_rng(7 + sum(shape)).random(shape)
    got = impact_score(surface, spacing=spacing, statistic="slope")
    np.testing.assert_allclose(got, loop_slope_score(surface, unit=spacing == "unit"), rtol=1e-9, atol=1e-13)


def planted(n_levels: int, n_time: int, quadratic: bool) -> tuple[np.ndarray, float]:
    """Surface a(t) + b(t) s [+ q(t) s^2] on the paper's grid, and its true mean derivative per unit of s."""
    s = np.linspace(0.0, 1.0, n_levels)[:, None]
    t = np.linspace(0.0, 1.0, n_time)[None, :]
    a = 0.3 + 0.5 * np.sin(3 * t)  # strong onset effect: must not leak into the score
    b = 0.2 - 0.1 * t
    q = (0.15 + 0.05 * np.cos(5 * t)) if quadratic else np.zeros_like(t)
    surface = a + b * s + q * s**2
    # d/ds = b + 2 q s; its mean over s uniform on [0, 1] is b + q; then the mean over t
    return surface, float(np.mean(b + q))


@pytest.mark.parametrize("statistic", ["gradient", "slope"])
@pytest.mark.parametrize("quadratic", [False, True])
@pytest.mark.parametrize(("n_levels", "n_time"), [(3, 5), (4, 1), (10, 90), (17, 12)])
def test_planted_linear_and_quadratic_effects_give_the_true_mean_derivative(
    statistic: str, quadratic: bool, n_levels: int, n_time: int
) -> None:
    surface, derivative = planted(n_levels, n_time, quadratic)
    per_unit = impact_score(surface, spacing="unit", statistic=statistic)
    per_step = impact_score(surface, spacing="step", statistic=statistic)
    np.testing.assert_allclose(per_unit, derivative, rtol=1e-10)
    np.testing.assert_allclose(per_step, derivative / (n_levels - 1), rtol=1e-10)


def test_paper_units_one_step_of_symmetry() -> None:
    """A score of 0.0373 per step means the output rises 3.73 points per step, 9 steps over the paper's grid."""
    s = np.linspace(0.0, 1.0, 10)[:, None]
    surface = 0.5 + 9 * 0.0373 * s + np.zeros((10, 90))
    assert impact_score(surface) == pytest.approx(0.0373, rel=1e-12)
    assert impact_score(surface, spacing="unit") == pytest.approx(9 * 0.0373, rel=1e-12)


@pytest.mark.parametrize("n_levels", [2, 3, 4, 5, 10, 31])
def test_telescoping_identity_of_the_gradient_mean(n_levels: int) -> None:
    rng = np.random.default_rng(n_levels)
    surface = rng.normal(size=(3, n_levels, 11))
    f = surface
    telescoped = (1.5 * f[..., -1, :] - 0.5 * f[..., -2, :] + 0.5 * f[..., 1, :] - 1.5 * f[..., 0, :]) / n_levels
    np.testing.assert_allclose(impact_score(surface), telescoped.mean(axis=-1), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(loop_gradient_score(surface), telescoped.mean(axis=-1), rtol=1e-12, atol=1e-15)


def test_gradient_score_ignores_the_intermediate_symmetry_levels_but_the_slope_does_not() -> None:
    rng = np.random.default_rng(3)
    surface = rng.random((10, 90))
    changed = surface.copy()
    changed[2:8] = rng.random((6, 90)) + np.arange(6.0)[:, None]  # all but the two lowest and two highest levels
    assert impact_score(changed) == pytest.approx(float(impact_score(surface)), abs=1e-14)
    assert loop_gradient_score(changed) == pytest.approx(float(loop_gradient_score(surface)), abs=1e-14)
    assert abs(impact_score(changed, statistic="slope") - impact_score(surface, statistic="slope")) > 0.1


@pytest.mark.parametrize("statistic", ["gradient", "slope"])
@pytest.mark.parametrize("n_levels", [2, 3, 6, 10])
def test_weights_reproduce_the_score_and_have_the_right_units(statistic: str, n_levels: int) -> None:
    w = score_weights(n_levels, statistic)
    assert w.shape == (n_levels,)
    assert w.sum() == pytest.approx(0.0, abs=1e-15)  # flat along s -> zero
    assert np.dot(w, np.arange(n_levels)) == pytest.approx(1.0)  # +1 per step -> one
    np.testing.assert_allclose(score_weights(n_levels, statistic, "unit"), w * (n_levels - 1))
    surface = np.random.default_rng(n_levels).random((n_levels, 5))
    np.testing.assert_allclose(impact_score(surface, statistic=statistic), (w @ surface).mean(), rtol=1e-12)


def test_gradient_weights_are_nonzero_only_at_the_two_lowest_and_two_highest_levels() -> None:
    w = score_weights(10)
    np.testing.assert_array_equal(np.flatnonzero(w), [0, 1, 8, 9])
    np.testing.assert_allclose(w[[0, 1, 8, 9]], [-0.15, 0.05, -0.05, 0.15])
    np.testing.assert_allclose(score_weights(3), [-0.5, 0.0, 0.5])  # the middle level cancels
    np.testing.assert_allclose(score_weights(2), [-1.0, 1.0])


def test_two_levels_make_both_statistics_the_plain_difference() -> None:
    surface = np.random.default_rng(0).random((4, 2, 6))
    diff = (surface[:, 1] - surface[:, 0]).mean(axis=-1)
    np.testing.assert_allclose(impact_score(surface), diff, rtol=1e-12)
    np.testing.assert_allclose(impact_score(surface, statistic="slope"), diff, rtol=1e-12)


@pytest.mark.parametrize("statistic", ["gradient", "slope"])
def test_onset_only_and_constant_surfaces_score_zero(statistic: str) -> None:
    t_effect = np.tile(np.linspace(0.0, 1.0, 90) ** 2, (10, 1))
    assert impact_score(t_effect, statistic=statistic) == pytest.approx(0.0, abs=1e-15)
    assert impact_score(np.ones((6, 10, 90)), statistic=statistic) == pytest.approx(np.zeros(6), abs=1e-15)


def test_decreasing_outputs_give_a_negative_score_of_the_same_size() -> None:
    surface = np.random.default_rng(1).random((10, 20))
    np.testing.assert_allclose(impact_score(surface[::-1]), -impact_score(surface), rtol=1e-12)


def test_single_surface_returns_a_0d_array_and_float_input_types_are_accepted() -> None:
    out = impact_score(np.arange(20, dtype=np.float32).reshape(10, 2))
    assert isinstance(out, np.ndarray) and out.shape == () and out.dtype == np.float64
    assert float(out) == pytest.approx(2.0)
    assert impact_score([[0.0, 0.0], [1.0, 1.0]]) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("surface", "kwargs", "match"),
    [
        (np.zeros(10), {}, "shape"),
        (np.zeros((1, 90)), {}, "at least 2 symmetry levels"),
        (np.zeros((10, 0)), {}, "time step"),
        (np.full((3, 4), np.nan), {}, "non-finite"),
        (np.zeros((3, 4)), {"statistic": "median"}, "statistic='median'"),
        (np.zeros((3, 4)), {"spacing": "per-step"}, "spacing='per-step'"),
    ],
)
def test_invalid_input_is_rejected_with_a_clear_message(surface: np.ndarray, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        impact_score(surface, **kwargs)


def test_units_labels() -> None:
    assert units("step") == "per symmetry step"
    assert units("unit") == "per unit of symmetry"
    with pytest.raises(ValueError):
        units("pixel")


@pytest.mark.parametrize("name", ["score", "permutation", "holm", "summary"])
def test_docstring_examples_hold(name: str) -> None:
    module = importlib.import_module(f"facesym.stats.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
