"""The outcome shared by the batched optimisers (:mod:`~facesym.optimize.de`, :mod:`~facesym.optimize.cmaes`,
:mod:`~facesym.optimize.gradient`) and the best-so-far bookkeeping of those that do not keep a population."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["OptimisationResult", "record_generation"]

log = logging.getLogger(__name__)


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


def record_generation(
    values: np.ndarray,
    candidates: np.ndarray,
    active: np.ndarray,
    generation: int,
    *,
    best_f: np.ndarray,
    best_x: np.ndarray,
    history: np.ndarray,
    done: np.ndarray,
    target: float | None,
    labels: Sequence[str],
) -> None:
    """Fold one generation into the best-so-far of the problems that ran it, in place.

    Parameters
    ----------
    values
        Objective of every candidate, shape ``(A, P)`` for the ``A`` active problems.
    candidates
        The points evaluated, shape ``(A, P, d)``.
    active
        Indices of the active problems among all ``M``, shape ``(A,)``.
    generation
        Column of ``history`` to fill.
    best_f, best_x, history, done
        Shapes ``(M,)``, ``(M, d)``, ``(M, G + 1)`` and ``(M,)``: updated for the active problems; ``done`` marks
        those whose best is now ``<= target`` (untouched when ``target`` is None).
    target
        Objective at which a problem stops.
    labels
        Names of all ``M`` problems, for the progress log.
    """
    rows = np.arange(active.size)
    winner = values.argmin(axis=1)
    improved = values[rows, winner] < best_f[active]
    best_f[active] = np.where(improved, values[rows, winner], best_f[active])
    best_x[active] = np.where(improved[:, None], candidates[rows, winner], best_x[active])
    history[active, generation] = best_f[active]
    for index in active:
        log.info("%s generation %d: best objective %.4f", labels[index], generation, best_f[index])
    if target is not None:
        done[active] = best_f[active] <= target
