import numpy as np
import pytest

from facesym.optimize import differential_evolution_batched


def sphere(center):
    def objective(x):
        assert x.ndim == 2
        return ((x - center) ** 2).sum(axis=1)

    return objective


def test_finds_the_minimum_of_a_shifted_sphere():
    result = differential_evolution_batched(
        sphere(np.array([1.0, -2.0, 0.5])), 3, 3.0, population=20, generations=80, rng=np.random.default_rng(1)
    )
    np.testing.assert_allclose(result.x, [1.0, -2.0, 0.5], atol=1e-2)
    assert result.fun < 1e-3


def test_each_call_scores_a_whole_generation_of_the_requested_size():
    sizes = []

    def objective(x):
        sizes.append(x.shape)
        return (x**2).sum(axis=1)

    result = differential_evolution_batched(
        objective, 4, 3.0, population=12, generations=5, rng=np.random.default_rng(0)
    )
    assert set(sizes) == {(12, 4)}
    assert result.n_evaluations == 12 * len(sizes) == 12 * (result.n_generations + 1)
    assert len(result.history) == result.n_generations + 1


def test_history_is_the_best_so_far_and_never_worsens():
    result = differential_evolution_batched(
        sphere(np.zeros(3)), 3, 3.0, population=10, generations=15, rng=np.random.default_rng(2)
    )
    assert np.all(np.diff(result.history) <= 0)
    assert result.history[-1] == pytest.approx(result.fun)


def test_same_generator_seed_gives_the_same_result():
    runs = [
        differential_evolution_batched(
            sphere(np.ones(3)), 3, 3.0, population=10, generations=10, rng=np.random.default_rng(7)
        )
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0].x, runs[1].x)
    np.testing.assert_array_equal(runs[0].history, runs[1].history)


def test_stops_once_the_target_is_reached():
    result = differential_evolution_batched(
        sphere(np.zeros(2)), 2, 3.0, population=10, generations=200, rng=np.random.default_rng(3), target=0.5
    )
    assert result.fun <= 0.5
    assert result.n_generations < 200


def test_stays_inside_the_bounds():
    seen = []

    def objective(x):
        seen.append(x.copy())
        return -x.sum(axis=1)  # pushes every parameter to the upper bound

    result = differential_evolution_batched(
        objective, 3, 2.0, population=8, generations=20, rng=np.random.default_rng(4)
    )
    assert np.abs(np.concatenate(seen)).max() <= 2.0
    assert np.all(result.x > 1.5)
