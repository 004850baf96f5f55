"""Multi-start gradient descent over several independent problems, every step scored in one batch.

An alternative to :func:`~facesym.optimize.de.differential_evolution_batched` and
:func:`~facesym.optimize.cmaes.cma_es_batched` for Eq. 4 when the objective's gradient is available (the torch
renderer and classifier give ``∂(1 − p) / ∂φ`` by back-propagation). Same result type; the objective must return
values *and* gradients.

Per problem, ``starts`` candidates descend independently. The box ``[-bound, bound]^d`` is removed by the
parametrisation ``x = bound · tanh(u)``: each candidate's unconstrained ``u`` takes Adam steps (Kingma & Ba 2015,
β₁ = 0.9, β₂ = 0.999, ε = 1e-8, bias-corrected) on the chain-rule gradient ``∂f/∂u = ∂f/∂x · bound · (1 − tanh²
u)``, so every candidate stays inside the box. Adam's per-coordinate normalisation makes the step size
insensitive to the gradient's scale, which matters here: a softmax probability far from the target has tiny
gradients.

Starting points: the first start of every problem is the box centre, the others are uniform in
``[-init · bound, init · bound]^d`` (``init`` = :data:`INIT_FRACTION`).

Accounting: one step evaluates every running candidate once, value and gradient (for Eq. 4: one render, one
classifier forward pass and one backward pass per candidate). Each such candidate-step counts as ONE objective
evaluation, so ``n_evaluations = starts × (steps run + 1)``, directly comparable with DE's and CMA-ES's
``population × (generations + 1)`` — but a backward pass costs more time than a forward pass, so compare wall
time too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from facesym.optimize.result import OptimisationResult, record_generation

__all__ = ["INIT_FRACTION", "LEARNING_RATE", "STARTS", "gradient_descent_batched"]


LEARNING_RATE = 0.1
"""Default Adam step size, in the unconstrained coordinates ``u`` (``x = bound · tanh(u)``)."""

STARTS = 8
"""Default number of candidates (independent starts) per problem."""

INIT_FRACTION = 0.5
"""Starts other than the centre are uniform in ``[-INIT_FRACTION · bound, INIT_FRACTION · bound]^d``."""

_BETA1, _BETA2, _EPS = 0.9, 0.999, 1e-8


def gradient_descent_batched(
    value_and_grad: Callable[..., tuple[np.ndarray, np.ndarray]],
    dim: int,
    bound: float,
    *,
    steps: int,
    rng: np.random.Generator,
    starts: int = STARTS,
    learning_rate: float = LEARNING_RATE,
    n_problems: int = 1,
    target: float | None = None,
    labels: Sequence[str] | None = None,
) -> OptimisationResult:
    """Minimise ``n_problems`` objectives over ``[-bound, bound]^dim`` by multi-start Adam, one call per step.

    Step 0 evaluates the starting points; up to ``steps`` Adam updates follow, each followed by one evaluation,
    so the full budget is ``starts × (steps + 1)`` evaluations per problem (one evaluation = one value and its
    gradient at one candidate).

    Parameters
    ----------
    value_and_grad
        Maps candidates ``(M', P, dim)`` of the ``M'`` problems still running, in their original order, to
        ``(values, gradients)`` of shapes ``(M', P)`` and ``(M', P, dim)`` (the gradient w.r.t. the candidate);
        the call receives the problems' indices as the keyword ``problems`` (shape ``(M',)``). Candidates always
        lie in the box.
    dim
        Number of parameters.
    bound
        Half-width of the search box.
    steps
        Maximum number of Adam steps after the first evaluation.
    rng
        Source of the starting points.
    starts
        Candidates per problem, ``P`` (at least 1).
    learning_rate
        Adam step size in the unconstrained coordinates.
    n_problems
        Number of independent problems ``M``.
    target
        A problem stops once its best objective is ``<= target`` (``None``: run every step).
    labels
        Names of the problems, for the progress log.

    Returns
    -------
    OptimisationResult
        ``history`` has one column per evaluation round (``steps + 1``); ``n_generations`` counts the steps run.
    """
    if starts < 1:
        raise ValueError(f"starts must be at least 1 (got {starts})")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive (got {learning_rate})")
    labels = list(labels) if labels is not None else [f"problem {i}" for i in range(n_problems)]
    bound = float(bound)

    x0 = rng.uniform(-INIT_FRACTION * bound, INIT_FRACTION * bound, size=(n_problems, starts, dim))
    x0[:, 0] = 0.0
    u = np.arctanh(x0 / bound)
    m = np.zeros_like(u)
    v = np.zeros_like(u)

    best_x = np.zeros((n_problems, dim))
    best_f = np.full(n_problems, np.inf)
    history = np.full((n_problems, steps + 1), np.nan)
    evaluations = np.zeros(n_problems, dtype=int)
    ran = np.zeros(n_problems, dtype=int)
    done = np.zeros(n_problems, dtype=bool)

    for step in range(steps + 1):
        active = np.flatnonzero(~done)
        if active.size == 0:
            break
        tanh = np.tanh(u[active])
        x = bound * tanh
        values, grads = value_and_grad(x, problems=active)
        values = np.asarray(values, dtype=np.float64).reshape(active.size, starts)
        grads = np.asarray(grads, dtype=np.float64).reshape(active.size, starts, dim)
        evaluations[active] += starts
        ran[active] = step

        record_generation(
            values, x, active, step,
            best_f=best_f, best_x=best_x, history=history, done=done, target=target, labels=labels,
        )  # fmt: skip
        if step == steps:
            break

        # Adam on u; a non-finite gradient (e.g. a degenerate render) is treated as zero.
        g = np.nan_to_num(grads, nan=0.0, posinf=0.0, neginf=0.0) * bound * (1.0 - tanh**2)
        m[active] = _BETA1 * m[active] + (1 - _BETA1) * g
        v[active] = _BETA2 * v[active] + (1 - _BETA2) * g**2
        m_hat = m[active] / (1 - _BETA1 ** (step + 1))
        v_hat = v[active] / (1 - _BETA2 ** (step + 1))
        u[active] = u[active] - learning_rate * m_hat / (np.sqrt(v_hat) + _EPS)

    return OptimisationResult(
        x=best_x,
        fun=best_f,
        history=history,
        n_evaluations=evaluations,
        n_generations=ran,
    )
