import numpy as np
import pytest
import torch

from facesym.optimize import cma_es_batched, cma_parameters, differential_evolution_batched


def sphere(centers):
    """Independent shifted spheres, one per problem: centers (M, d)."""
    centers = np.atleast_2d(centers)

    def objective(x, problems):
        assert x.ndim == 3 and x.shape[0] == problems.shape[0]
        return ((x - centers[problems][:, None, :]) ** 2).sum(axis=-1)

    return objective


def rotated_ellipsoid(dim, condition, centers, seed=99):
    """f(x) = Σ_i condition^(i/(d-1)) ((Q (x - c))_i)², Q a fixed random rotation: ill-conditioned, non-separable."""
    rotation, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((dim, dim)))
    axes = condition ** (np.arange(dim) / (dim - 1))
    centers = np.atleast_2d(centers)

    def objective(x, problems):
        y = np.einsum("ij,mpj->mpi", rotation, x - centers[problems][:, None, :])
        return (axes * y**2).sum(axis=-1)

    return objective


def test_default_constants_follow_the_tutorial():
    par = cma_parameters(10, 12)
    assert par.weights.size == 6
    assert par.weights.sum() == pytest.approx(1.0)
    assert np.all(np.diff(par.weights) < 0) and np.all(par.weights > 0)
    assert 1 < par.mu_eff < 6
    assert par.mu_eff == pytest.approx(1 / (par.weights**2).sum())
    assert par.c_1 == pytest.approx(2 / (11.3**2 + par.mu_eff))
    assert par.c_1 + par.c_mu <= 1
    assert par.chi_n == pytest.approx(np.sqrt(10) * (1 - 1 / 40 + 1 / 2100))
    norms = np.linalg.norm(np.random.default_rng(0).standard_normal((20000, 10)), axis=1)
    assert par.chi_n == pytest.approx(norms.mean(), rel=0.01)


def test_finds_the_minimum_of_a_shifted_sphere():
    result = cma_es_batched(
        sphere([1.0, -2.0, 0.5]), 3, 3.0, population=12, generations=60, rng=np.random.default_rng(1)
    )
    np.testing.assert_allclose(result.x[0], [1.0, -2.0, 0.5], atol=1e-3)
    assert result.fun[0] < 1e-6


def test_solves_several_problems_at_once():
    centers = np.array([[1.0, 1.0, 1.0, 0.0], [-2.0, 0.0, 2.0, 1.0], [0.5, -0.5, 0.0, -2.5]])
    result = cma_es_batched(
        sphere(centers), 4, 3.0, population=12, generations=80, rng=np.random.default_rng(2), n_problems=3
    )
    np.testing.assert_allclose(result.x, centers, atol=1e-3)
    assert result.x.shape == (3, 4) and result.fun.shape == (3,)


def test_beats_de_on_an_ill_conditioned_rotated_ellipsoid_at_equal_budget():
    # Condition number 1e4 in 6-d, rotated so that DE's coordinate-wise crossover gains nothing from the axes.
    dim = 6
    centers = np.random.default_rng(98).uniform(-1, 1, (3, dim))
    objective = rotated_ellipsoid(dim, 1e4, centers)
    budget = {"population": 12, "generations": 150, "n_problems": 3}
    cma = cma_es_batched(objective, dim, 3.0, rng=np.random.default_rng(0), **budget)
    de = differential_evolution_batched(objective, dim, 3.0, rng=np.random.default_rng(0), **budget)
    np.testing.assert_array_equal(cma.n_evaluations, de.n_evaluations)
    assert cma.fun.max() < 1e-4
    np.testing.assert_allclose(cma.x, centers, atol=1e-2)
    assert cma.fun.max() * 100 < de.fun.min()


def test_each_call_scores_a_whole_generation_of_every_problem():
    sizes = []

    def objective(x, problems):
        sizes.append(x.shape)
        assert problems.tolist() == list(range(6))
        return (x**2).sum(axis=-1)

    result = cma_es_batched(objective, 4, 3.0, population=12, generations=5, rng=np.random.default_rng(0), n_problems=6)
    assert set(sizes) == {(6, 12, 4)}
    assert len(sizes) == 6  # the first population and five more generations, as DE
    assert (result.n_evaluations == 12 * 6).all()
    assert (result.n_generations == 5).all()
    assert result.history.shape == (6, 6)


def test_history_is_the_best_so_far_and_never_worsens():
    result = cma_es_batched(sphere(np.zeros(3)), 3, 3.0, population=10, generations=15, rng=np.random.default_rng(2))
    assert np.all(np.diff(result.history[0]) <= 0)
    assert result.history[0, -1] == pytest.approx(result.fun[0])
    assert result.fun[0] == pytest.approx(float(sphere(np.zeros(3))(result.x[:, None], np.array([0]))[0, 0]))


def test_same_generator_seed_gives_the_same_result():
    runs = [
        cma_es_batched(sphere(np.ones(3)), 3, 3.0, population=10, generations=10, rng=np.random.default_rng(7))
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0].x, runs[1].x)
    np.testing.assert_array_equal(runs[0].history, runs[1].history)
    other = cma_es_batched(sphere(np.ones(3)), 3, 3.0, population=10, generations=10, rng=np.random.default_rng(8))
    assert not np.array_equal(runs[0].x, other.x)


def test_a_problem_stops_once_its_target_is_reached_while_others_go_on():
    seen = []

    def objective(x, problems):
        seen.append(problems.tolist())
        easy = (x**2).sum(axis=-1)  # problem 0: minimum 0, reached fast
        hard = easy + 1.0  # problem 1: never below 1
        return np.where((problems == 0)[:, None], easy, hard)

    result = cma_es_batched(
        objective, 2, 3.0, population=10, generations=50, rng=np.random.default_rng(3), n_problems=2, target=0.5
    )
    assert result.fun[0] <= 0.5 and result.n_generations[0] < 50
    assert result.n_evaluations[0] == 10 * (result.n_generations[0] + 1)
    assert result.n_generations[1] == 50
    assert seen[-1] == [1]
    assert np.isnan(result.history[0, -1])
    assert not np.isnan(result.history[0, result.n_generations[0]])


@pytest.mark.parametrize("sigma0", [0.3, 2.0])
def test_stays_inside_the_bounds(sigma0):
    seen = []

    def objective(x, problems):
        seen.append(x.copy())
        return -x.sum(axis=-1)  # pushes every parameter to the upper bound

    result = cma_es_batched(
        objective, 3, 2.0, population=8, generations=40, rng=np.random.default_rng(4), sigma0=sigma0
    )
    assert np.abs(np.concatenate([s.reshape(-1, 3) for s in seen])).max() <= 2.0
    np.testing.assert_allclose(result.x[0], 2.0)


def test_finds_a_minimum_inside_the_box_next_to_its_edge():
    # the penalty keeps the mean near the box, so the search converges on an optimum just inside a face
    result = cma_es_batched(
        sphere([1.95, -1.99, 0.0]), 3, 2.0, population=10, generations=60, rng=np.random.default_rng(5)
    )
    np.testing.assert_allclose(result.x[0], [1.95, -1.99, 0.0], atol=1e-3)


def test_rejects_bad_settings():
    with pytest.raises(ValueError, match="population must be at least 4"):
        cma_es_batched(sphere(np.zeros(2)), 2, 1.0, population=3, generations=1, rng=np.random.default_rng())
    with pytest.raises(ValueError, match="sigma0 must be positive"):
        cma_es_batched(sphere(np.zeros(2)), 2, 1.0, population=5, generations=1, rng=np.random.default_rng(), sigma0=0)


class _Model:
    n_expression = 4


class _Scene:
    """Stands in for a Scene: the 'image' of a face is its expression vector."""

    model = _Model()

    def images(self, phi, s, t):
        return torch.as_tensor(phi, dtype=torch.float32)


class _Classifier:
    """Softmax over seven classes whose logits are −‖φ − prototype‖²; the first six are the emotions."""

    name = "stub"

    def __init__(self):
        self.prototypes = torch.as_tensor(np.random.default_rng(0).uniform(-2, 2, (7, 4)), dtype=torch.float32)

    def emotion_probabilities(self, images):
        logits = -((images[:, None, :] - self.prototypes[None]) ** 2).sum(-1)
        return torch.softmax(logits, dim=-1)[:, :6]


SETTINGS = {
    "population": 8,
    "generations": 4,
    "tolerance": 0.0,
    "strategy": "best1bin",
    "mutation": [0.5, 1.0],
    "recombination": 0.7,
    "bound": 3.0,
}


def test_optimise_expressions_dispatches_on_the_method():
    from facesym.interventions.optimisation import optimise_expressions

    results = {
        method: optimise_expressions(_Classifier(), _Scene(), {**SETTINGS, "method": method}, seed=1)
        for method in ("de", "cmaes")
    }
    for result in results.values():
        assert result.phi.shape == (6, 4) and result.history.shape == (6, 5)
        assert (result.n_evaluations == 8 * 5).all()
        assert np.all((result.reached > 1 / 7) & (result.reached <= 1))
    assert not np.array_equal(results["de"].phi, results["cmaes"].phi)
    # without a method the section means DE, as before the setting existed
    default = optimise_expressions(_Classifier(), _Scene(), SETTINGS, seed=1)
    np.testing.assert_array_equal(default.phi, results["de"].phi)
    with pytest.raises(ValueError, match="unknown expressions method 'bfgs'"):
        optimise_expressions(_Classifier(), _Scene(), {**SETTINGS, "method": "bfgs"}, seed=1)


class _BoundedModel:
    """A model that declares anatomical bounds (like the procedural face's FACS intensities)."""

    n_expression = 4
    expression_bounds = torch.tensor([[0.0, 1.0], [0.0, 1.0], [0.0, 0.5], [-0.2, 1.0]])

    def expression_box(self, bound):
        return self.expression_bounds[:, 0].double().numpy(), self.expression_bounds[:, 1].double().numpy()


@pytest.mark.parametrize("method", ["de", "cmaes"])
def test_optimisers_search_the_models_own_box(method):
    """A model with bounds is searched within them, whatever the config's bound; the prototypes of the stub
    classifier lie partly outside, so the optimum sits on the box's faces."""

    class Scene(_Scene):
        model = _BoundedModel()

    seen = []

    class Recording(_Classifier):
        def emotion_probabilities(self, images):
            seen.append(images.clone())
            return super().emotion_probabilities(images)

    from facesym.interventions.optimisation import optimise_expressions

    result = optimise_expressions(Recording(), Scene(), {**SETTINGS, "method": method, "bound": 3.0}, seed=2)
    low, high = (b.numpy() for b in _BoundedModel.expression_bounds.T)
    candidates = torch.cat(seen).numpy()
    assert np.all(candidates >= low - 1e-6) and np.all(candidates <= high + 1e-6)
    assert np.all(result.phi >= low - 1e-9) and np.all(result.phi <= high + 1e-9)
    assert candidates[:, 2].max() > 0.4 and candidates[:, 3].min() < -0.1  # the whole box is explored
