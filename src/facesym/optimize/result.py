"""The outcome shared by the batched optimisers (:mod:`~facesym.optimize.de`, :mod:`~facesym.optimize.cmaes`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["OptimisationResult"]


@dataclass
class OptimisationResult:
    """Outcome of the optimisation of ``M`` problems.

    Attributes
    ----------
    x
        Best parameters found per problem, shape ``(M, d)``.
    fun
        Objective at ``x``, shape ``(M,)``.
    history
        Best objective so far after each generation (generation 0 is the first population), shape ``(M, G + 1)``;
        NaN after a problem stopped early.
    n_evaluations
        Objective evaluations spent per problem (candidates, not calls), shape ``(M,)``.
    n_generations
        Generations run after the first population, per problem, shape ``(M,)``.
    """

    x: np.ndarray
    fun: np.ndarray
    history: np.ndarray
    n_evaluations: np.ndarray
    n_generations: np.ndarray
