"""Differential evolution over several independent problems, each generation scored in one batch.

The objective of Eq. 4 renders faces and runs a classifier; both are far cheaper per image in a large batch than
one image at a time. Here one call of the objective scores every trial vector of a generation *of every problem*
(the six emotions of one (classifier, identity) job), so a job renders and classifies ``6 × population`` images
per call.

The algorithm is classic DE (Storn & Price) with deferred updating, as SciPy's
``differential_evolution(updating="deferred")``: per generation, a mutant per member (``best1bin``,
``rand1bin`` or ``currenttobest1bin``) with a differential weight F dithered uniformly in ``mutation`` once per
generation and problem, binomial crossover with rate ``recombination`` (at least one component from the mutant),
components leaving the box redrawn uniformly inside it, and greedy selection. The start is a Latin hypercube
per problem.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np

from facesym.optimize.result import OptimisationResult

__all__ = ["DEResult", "STRATEGIES", "differential_evolution_batched", "latin_hypercube"]

log = logging.getLogger(__name__)

STRATEGIES: tuple[str, ...] = ("best1bin", "rand1bin", "currenttobest1bin")


DEResult = OptimisationResult
"""Former name of :class:`~facesym.optimize.result.OptimisationResult`, kept for existing callers."""


def latin_hypercube(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """A scrambled Latin hypercube sample in the unit cube, draw for draw SciPy's.

    The same numbers as ``LatinHypercube(d).random(n)`` of ``scipy.stats.qmc`` (default, unoptimised) whose
    generator is ``rng`` (SciPy draws from a child it spawns from the ``rng`` it is given), written out so that a job
    does not import ``scipy.stats`` (1–2 s of its start-up) for it; ``tests/optimize`` checks the two agree bit for
    bit.

    Parameters
    ----------
    rng
        Consumed: ``n * d`` uniforms, then one shuffle of ``n`` per dimension.
    n, d
        Number of points and dimensions.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, d)``, float64 in ``(0, 1)``; each column has exactly one point in each of the ``n`` strata.
    """
    offsets = rng.uniform(size=(n, d))
    strata = np.tile(np.arange(1, n + 1), (d, 1))
    for row in strata:
        rng.shuffle(row)
    return (strata.T - offsets) / n


def _mutants(
    strategy: str, pop: np.ndarray, best: np.ndarray, weight: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Mutant vectors ``(M, P, d)`` for populations ``pop`` ``(M, P, d)``, best members ``(M, d)``, F ``(M,)``."""
    m, p, _ = pop.shape
    # three distinct partners per member, all different from the member itself
    keys = rng.random((m, p, p))
    keys[:, np.arange(p), np.arange(p)] = np.inf
    partners = np.argsort(keys, axis=-1)[..., :3]
    r0, r1, r2 = (np.take_along_axis(pop, partners[..., i, None], axis=1) for i in range(3))
    f = weight[:, None, None]
    if strategy == "best1bin":
        return best[:, None, :] + f * (r0 - r1)
    if strategy == "rand1bin":
        return r0 + f * (r1 - r2)
    return pop + f * (best[:, None, :] - pop) + f * (r0 - r1)


def differential_evolution_batched(
    objective: Callable[[np.ndarray], np.ndarray],
    dim: int,
    bound: float,
    *,
    population: int,
    generations: int,
    rng: np.random.Generator,
    n_problems: int = 1,
    strategy: str = "best1bin",
    mutation: Sequence[float] = (0.5, 1.0),
    recombination: float = 0.7,
    target: float | None = None,
    labels: Sequence[str] | None = None,
) -> OptimisationResult:
    """Minimise ``n_problems`` objectives over ``[-bound, bound]^dim``, one batched call per generation.

    Parameters
    ----------
    objective
        Maps candidates ``(M', P, dim)`` of the ``M'`` problems still running, in their original order, to
        objective values ``(M', P)``. Problem ``i`` of the batch is the ``i``-th of ``active`` problems; the
        call receives the indices as the keyword ``problems`` (shape ``(M',)``).
    dim
        Number of parameters.
    bound
        Half-width of the search box.
    population
        Candidates per generation and problem (at least 4).
    generations
        Maximum number of generations after the initial population.
    rng
        Source of every random draw.
    n_problems
        Number of independent problems ``M``.
    strategy
        ``"best1bin"`` (default, SciPy's), ``"rand1bin"`` or ``"currenttobest1bin"``.
    mutation
        Range ``(low, high)`` the differential weight F is drawn from, per generation and problem.
    recombination
        Crossover probability CR.
    target
        A problem stops once its best objective is ``<= target`` (``None``: run every generation).
    labels
        Names of the problems, for the progress log.

    Returns
    -------
    OptimisationResult
    """
    if population < 4:
        raise ValueError(f"population must be at least 4 (got {population})")
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {list(STRATEGIES)}")
    labels = list(labels) if labels is not None else [f"problem {i}" for i in range(n_problems)]
    # A child generator draws the initial population, as SciPy's LatinHypercube(rng=rng) did: the parent's stream
    # (mutation, crossover) is the same as before the sampler was written out. Scaled as qmc.scale does
    # (sample * (upper - lower) + lower), so the population is SciPy's bit for bit.
    (lhs_rng,) = rng.spawn(1)
    pop = np.stack(
        [latin_hypercube(lhs_rng, population, dim) * (bound - (-bound)) + (-bound) for _ in range(n_problems)]
    )
    everyone = np.arange(n_problems)
    energy = np.asarray(objective(pop, problems=everyone), dtype=np.float64).reshape(n_problems, population)
    evaluations = np.full(n_problems, population)
    history = np.full((n_problems, generations + 1), np.nan)
    history[:, 0] = energy.min(axis=1)
    done = np.zeros(n_problems, dtype=bool) if target is None else history[:, 0] <= target
    ran = np.zeros(n_problems, dtype=int)
    low, high = float(mutation[0]), float(mutation[1])
    for generation in range(1, generations + 1):
        active = np.flatnonzero(~done)
        if active.size == 0:
            break
        current = pop[active]
        best = current[np.arange(active.size), energy[active].argmin(axis=1)]
        mutant = _mutants(strategy, current, best, rng.uniform(low, high, active.size), rng)
        cross = rng.random(current.shape) < recombination
        forced = rng.integers(0, dim, current.shape[:2])
        cross[np.arange(active.size)[:, None], np.arange(population)[None, :], forced] = True
        trial = np.where(cross, mutant, current)
        outside = np.abs(trial) > bound
        trial[outside] = rng.uniform(-bound, bound, int(outside.sum()))
        trial_energy = np.asarray(objective(trial, problems=active), dtype=np.float64).reshape(active.size, -1)
        better = trial_energy <= energy[active]
        pop[active] = np.where(better[..., None], trial, current)
        energy[active] = np.where(better, trial_energy, energy[active])
        evaluations[active] += population
        ran[active] = generation
        history[active, generation] = energy[active].min(axis=1)
        for index in active:
            log.info("%s generation %d: best objective %.4f", labels[index], generation, history[index, generation])
        if target is not None:
            done[active] = history[active, generation] <= target
    winner = energy.argmin(axis=1)
    return OptimisationResult(
        x=pop[everyone, winner],
        fun=energy[everyone, winner],
        history=history,
        n_evaluations=evaluations,
        n_generations=ran,
    )
