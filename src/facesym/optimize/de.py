"""Differential evolution whose objective sees a whole generation at once.

The objective of Eq. 4 renders a face and runs a classifier; both are far cheaper per image in a batch than one
image at a time. SciPy's ``differential_evolution(vectorized=True)`` hands the objective every trial vector of a
generation in one call, so we use it and add what the pipeline needs: an exact population size, a seeded Latin
hypercube start drawn from our own generator, a per-generation trace, and a stop once the target probability is
reached.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import differential_evolution
from scipy.stats import qmc

__all__ = ["DEResult", "differential_evolution_batched"]

log = logging.getLogger(__name__)


@dataclass
class DEResult:
    """Outcome of one optimisation.

    Attributes
    ----------
    x
        Best parameters found, shape ``(d,)``.
    fun
        Objective at ``x``.
    history
        Best objective after each generation (the initial population is generation 0), shape ``(G + 1,)``.
    n_evaluations
        Objective evaluations spent (candidates, not calls).
    n_generations
        Generations run after the initial population.
    """

    x: np.ndarray
    fun: float
    history: np.ndarray
    n_evaluations: int
    n_generations: int


def differential_evolution_batched(
    objective: Callable[[np.ndarray], np.ndarray],
    dim: int,
    bound: float,
    *,
    population: int,
    generations: int,
    rng: np.random.Generator,
    strategy: str = "best1bin",
    mutation: tuple[float, float] = (0.5, 1.0),
    recombination: float = 0.7,
    target: float | None = None,
    label: str = "",
) -> DEResult:
    """Minimise ``objective`` over ``[-bound, bound]^dim`` by differential evolution.

    Parameters
    ----------
    objective
        Maps candidates ``(P, dim)`` to objective values ``(P,)``; called once per generation with every trial.
    dim
        Number of parameters.
    bound
        Half-width of the search box.
    population
        Candidates per generation (exact, not SciPy's multiplier).
    generations
        Maximum number of generations after the initial population.
    rng
        Source of every random draw (initial population and evolution).
    strategy, mutation, recombination
        As in :func:`scipy.optimize.differential_evolution`; ``mutation`` is the dithering range of F.
    target
        Stop as soon as the best objective is ``<= target`` (e.g. ``1 - p`` reached); ``None`` runs every
        generation.
    label
        Name used in progress log lines.

    Returns
    -------
    DEResult
    """
    if population < 4:
        raise ValueError(f"population must be at least 4 (got {population})")
    start = qmc.LatinHypercube(d=dim, rng=rng).random(population)
    start = qmc.scale(start, -bound, bound)
    evaluations = 0
    history: list[float] = []

    def batched(x: np.ndarray) -> np.ndarray:
        nonlocal evaluations
        values = np.asarray(objective(np.ascontiguousarray(np.atleast_2d(x.T))), dtype=np.float64)
        evaluations += values.shape[0]
        if not history:  # the first call scores the initial population: generation 0
            history.append(float(values.min()))
        return values

    def after_generation(intermediate_result) -> bool:
        history.append(float(intermediate_result.fun))
        log.info("%s generation %d: best objective %.4f", label, len(history) - 1, intermediate_result.fun)
        return target is not None and intermediate_result.fun <= target

    result = differential_evolution(
        batched,
        bounds=[(-bound, bound)] * dim,
        strategy=strategy,
        maxiter=generations,
        init=start,
        mutation=tuple(mutation),
        recombination=recombination,
        rng=rng,
        polish=False,
        tol=0.0,
        atol=0.0,
        vectorized=True,
        updating="deferred",
        callback=after_generation,
    )
    return DEResult(
        x=np.asarray(result.x, dtype=np.float64),
        fun=float(result.fun),
        history=np.asarray(history),
        n_evaluations=evaluations,
        n_generations=max(len(history) - 1, 0),
    )
