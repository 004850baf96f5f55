"""Multi-start Adam (facesym.optimize.gradient) on analytic objectives, and its dispatch from Eq. 4."""

from __future__ import annotations

import numpy as np
import pytest

from facesym.optimize import OptimisationResult, gradient_descent_batched


def _sphere(centres: np.ndarray):
    """Value and gradient of ``‖x − c_m‖²`` per problem ``m``; records each call's candidates."""
    calls = []

    def value_and_grad(x: np.ndarray, problems: np.ndarray):
        calls.append((x.copy(), problems.copy()))
        diff = x - centres[problems][:, None, :]
        return (diff**2).sum(-1), 2 * diff

    return value_and_grad, calls


def test_sphere_converges_for_several_problems_side_by_side():
    centres = np.array([[1.0, -0.5, 0.25], [-2.0, 2.0, 0.0], [0.0, 0.0, 0.0]])
    value_and_grad, calls = _sphere(centres)
    result = gradient_descent_batched(
        value_and_grad, 3, 3.0, steps=200, starts=4, rng=np.random.default_rng(0), n_problems=3
    )
    assert isinstance(result, OptimisationResult)
    np.testing.assert_allclose(result.x, centres, atol=1e-2)
    assert np.all(result.fun < 1e-4)
    assert result.history.shape == (3, 201)
    assert np.all(np.diff(result.history, axis=1) <= 0)  # best so far never gets worse
    assert (result.n_evaluations == 4 * 201).all() and (result.n_generations == 200).all()
    assert len(calls) == 201 and all(x.shape == (3, 4, 3) for x, _ in calls)


def test_candidates_stay_in_the_box_when_the_minimum_lies_outside():
    centres = np.array([[10.0, -10.0]])
    value_and_grad, calls = _sphere(centres)
    result = gradient_descent_batched(value_and_grad, 2, 1.5, steps=100, starts=3, rng=np.random.default_rng(1))
    assert all(np.all(np.abs(x) <= 1.5) for x, _ in calls)
    np.testing.assert_allclose(result.x, [[1.5, -1.5]], atol=1e-2)


def test_first_start_is_the_centre_and_runs_are_deterministic():
    value_and_grad, calls = _sphere(np.array([[0.5, 0.5]]))
    a = gradient_descent_batched(value_and_grad, 2, 3.0, steps=10, starts=5, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(calls[0][0][0, 0], [0.0, 0.0])
    assert np.all(np.abs(calls[0][0]) <= 1.5)  # other starts within INIT_FRACTION of the bound
    b = gradient_descent_batched(value_and_grad, 2, 3.0, steps=10, starts=5, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.history, b.history)


def test_early_stop_per_problem():
    # problem 0 starts at its minimum (the centre), problem 1 needs many steps
    centres = np.array([[0.0, 0.0], [2.0, 2.0]])
    value_and_grad, calls = _sphere(centres)
    result = gradient_descent_batched(
        value_and_grad, 2, 3.0, steps=50, starts=2, rng=np.random.default_rng(0), n_problems=2, target=1e-6
    )
    assert result.n_generations[0] == 0 and result.n_evaluations[0] == 2
    assert np.isnan(result.history[0, 1:]).all()
    assert result.n_evaluations[1] > 2
    assert all(0 not in problems for _, problems in calls[1:])


def test_rejects_bad_settings():
    value_and_grad, _ = _sphere(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="starts"):
        gradient_descent_batched(value_and_grad, 2, 1.0, steps=1, starts=0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="learning_rate"):
        gradient_descent_batched(value_and_grad, 2, 1.0, steps=1, learning_rate=0, rng=np.random.default_rng(0))


def test_optimise_expressions_dispatches_to_gradient(monkeypatch):
    import facesym.interventions.optimisation as expressions

    seen = {}

    def stub(value_and_grad, dim, bound, **kwargs):
        seen.update(dim=dim, bound=bound, **kwargs)
        return OptimisationResult(
            x=np.zeros((6, dim)),
            fun=np.full(6, 0.25),
            history=np.full((6, kwargs["steps"] + 1), 0.25),
            n_evaluations=np.full(6, kwargs["starts"]),
            n_generations=np.zeros(6, dtype=int),
        )

    class Scene:
        class model:  # noqa: N801
            n_expression = 4

    class Classifier:
        name = "stub"

    monkeypatch.setattr(expressions, "gradient_descent_batched", stub)
    settings = {"method": "gradient", "population": 24, "generations": 7, "tolerance": 0.0, "bound": 2.0}
    result = expressions.optimise_expressions(Classifier(), Scene(), settings, seed=3)
    assert seen["dim"] == 4 and seen["bound"] == 2.0 and seen["steps"] == 7 and seen["n_problems"] == 6
    assert seen["starts"] == expressions.STARTS and seen["learning_rate"] == expressions.LEARNING_RATE
    np.testing.assert_allclose(result.reached, 0.75)
    expressions.optimise_expressions(Classifier(), Scene(), {**settings, "starts": 3, "learning_rate": 0.05}, seed=3)
    assert seen["starts"] == 3 and seen["learning_rate"] == 0.05
