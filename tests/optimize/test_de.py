import numpy as np
import pytest
from scipy.optimize import differential_evolution

from facesym.optimize import differential_evolution_batched
from facesym.optimize.de import latin_hypercube


def sphere(centers):
    """Independent shifted spheres, one per problem: centers (M, d)."""
    centers = np.atleast_2d(centers)

    def objective(x, problems):
        assert x.ndim == 3 and x.shape[0] == problems.shape[0]
        return ((x - centers[problems][:, None, :]) ** 2).sum(axis=-1)

    return objective


def test_finds_the_minimum_of_a_shifted_sphere():
    result = differential_evolution_batched(
        sphere([1.0, -2.0, 0.5]), 3, 3.0, population=20, generations=80, rng=np.random.default_rng(1)
    )
    np.testing.assert_allclose(result.x[0], [1.0, -2.0, 0.5], atol=1e-2)
    assert result.fun[0] < 1e-3


@pytest.mark.parametrize("strategy", ["best1bin", "rand1bin", "currenttobest1bin"])
def test_solves_several_problems_at_once(strategy):
    centers = np.array([[1.0, 1.0, 1.0], [-2.0, 0.0, 2.0], [0.5, -0.5, 0.0]])
    result = differential_evolution_batched(
        sphere(centers), 3, 3.0, population=20, generations=150, rng=np.random.default_rng(2), n_problems=3,
        strategy=strategy,
    )  # fmt: skip
    np.testing.assert_allclose(result.x, centers, atol=5e-2)


def test_as_good_as_scipy_on_a_multimodal_function():
    # Rastrigin in 4-d: compare the median best value over seeds with SciPy's DE at the same budget.
    def rastrigin(x):
        return 10 * x.shape[-1] + (x**2 - 10 * np.cos(2 * np.pi * x)).sum(axis=-1)

    ours = [
        differential_evolution_batched(
            lambda x, problems: rastrigin(x), 4, 3.0, population=24, generations=60, rng=np.random.default_rng(s)
        ).fun[0]
        for s in range(8)
    ]
    theirs = [
        differential_evolution(
            rastrigin, [(-3, 3)] * 4, popsize=6, maxiter=60, polish=False, tol=0, rng=s, updating="deferred"
        ).fun
        for s in range(8)
    ]
    assert np.median(ours) <= np.median(theirs) + 0.5


def test_each_call_scores_a_whole_generation_of_every_problem():
    sizes = []

    def objective(x, problems):
        sizes.append(x.shape)
        return (x**2).sum(axis=-1)

    result = differential_evolution_batched(
        objective, 4, 3.0, population=12, generations=5, rng=np.random.default_rng(0), n_problems=6
    )
    assert set(sizes) == {(6, 12, 4)}
    assert len(sizes) == 6
    assert (result.n_evaluations == 12 * 6).all()
    assert result.history.shape == (6, 6)


def test_history_is_the_best_so_far_and_never_worsens():
    result = differential_evolution_batched(
        sphere(np.zeros(3)), 3, 3.0, population=10, generations=15, rng=np.random.default_rng(2)
    )
    assert np.all(np.diff(result.history[0]) <= 0)
    assert result.history[0, -1] == pytest.approx(result.fun[0])


def test_same_generator_seed_gives_the_same_result():
    runs = [
        differential_evolution_batched(
            sphere(np.ones(3)), 3, 3.0, population=10, generations=10, rng=np.random.default_rng(7)
        )
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0].x, runs[1].x)
    np.testing.assert_array_equal(runs[0].history, runs[1].history)


def test_a_problem_stops_once_its_target_is_reached_while_others_go_on():
    seen = []

    def objective(x, problems):
        seen.append(problems.tolist())
        easy = (x**2).sum(axis=-1)  # problem 0: minimum 0, reached fast
        hard = easy + 1.0  # problem 1: never below 1
        return np.where((problems == 0)[:, None], easy, hard)

    result = differential_evolution_batched(
        objective, 2, 3.0, population=10, generations=50, rng=np.random.default_rng(3), n_problems=2, target=0.5
    )
    assert result.fun[0] <= 0.5 and result.n_generations[0] < 50
    assert result.n_generations[1] == 50
    assert seen[-1] == [1]
    assert np.isnan(result.history[0, -1])


def test_stays_inside_the_bounds():
    seen = []

    def objective(x, problems):
        seen.append(x.copy())
        return -x.sum(axis=-1)  # pushes every parameter to the upper bound

    result = differential_evolution_batched(
        objective, 3, 2.0, population=8, generations=40, rng=np.random.default_rng(4)
    )
    assert np.abs(np.concatenate([s.reshape(-1, 3) for s in seen])).max() <= 2.0
    assert np.all(result.x > 1.5)


def test_rejects_bad_settings():
    with pytest.raises(ValueError, match="population must be at least 4"):
        differential_evolution_batched(
            sphere(np.zeros(2)), 2, 1.0, population=3, generations=1, rng=np.random.default_rng()
        )
    with pytest.raises(ValueError, match="unknown strategy"):
        differential_evolution_batched(
            sphere(np.zeros(2)), 2, 1.0, population=5, generations=1, rng=np.random.default_rng(), strategy="best2exp"
        )


@pytest.mark.parametrize(("n", "d", "seed"), [(4, 1, 0), (24, 17, 3), (10, 300, 11)])
def test_latin_hypercube_is_scipys_draw_for_draw(n, d, seed):
    # The DE's initial population must not change with how it is drawn: bit-identical to SciPy's LHS, also for a
    # second call on the same generator (one per problem).
    from scipy.stats import qmc

    ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
    sampler = qmc.LatinHypercube(d=d, rng=theirs)
    (child,) = ours.spawn(1)
    for _ in range(2):
        np.testing.assert_array_equal(latin_hypercube(child, n, d), sampler.random(n))
    assert ours.random() == theirs.random()
    assert ours.spawn(1)[0].random() == theirs.spawn(1)[0].random()
