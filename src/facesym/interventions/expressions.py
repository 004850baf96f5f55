"""Optimised expressions φ^(e) (paper Eq. 4): the expression a classifier finds most like emotion e.

For each emotion, a gradient-free optimiser searches ``φ ∈ [-bound, bound]^d`` at full symmetry and full onset
(s = 1, t = 1) for the face that maximises the classifier's softmax probability of that emotion: differential
evolution (``method: de``, the default) or CMA-ES (``method: cmaes``). The six emotions evolve side by side:
every generation of all six is rendered and classified as one batch.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from facesym.classifiers.base import Classifier
from facesym.emotions import EMOTIONS
from facesym.interventions.scene import Scene
from facesym.optimize import SIGMA0, OptimisationResult, cma_es_batched, differential_evolution_batched

__all__ = ["METHODS", "OptimisedExpressions", "optimise_expressions"]

log = logging.getLogger(__name__)

METHODS: tuple[str, ...] = ("de", "cmaes")
"""Values of the ``expressions.method`` setting."""


@dataclass
class OptimisedExpressions:
    """φ^(e) for the six emotions of one (classifier, identity).

    Attributes
    ----------
    phi
        Expression parameters, shape ``(6, d)``, emotions in :data:`~facesym.emotions.EMOTIONS` order.
    reached
        Softmax probability of the target emotion at ``phi`` (s = 1, t = 1), shape ``(6,)``.
    history
        Best probability after each generation, shape ``(6, G + 1)``; NaN after an early stop.
    n_evaluations
        Classifier evaluations spent per emotion, shape ``(6,)``.
    """

    phi: np.ndarray
    reached: np.ndarray
    history: np.ndarray
    n_evaluations: np.ndarray


def target_probability(
    classifier: Classifier, scene: Scene, emotions: np.ndarray, phi: np.ndarray
) -> np.ndarray:
    """Probability of each problem's emotion for its candidates at s = 1, t = 1.

    Parameters
    ----------
    emotions
        Index into :data:`~facesym.emotions.EMOTIONS` of each problem, shape ``(M,)``.
    phi
        Candidates, shape ``(M, P, d)``; all ``M × P`` are rendered and classified as one batch.

    Returns
    -------
    np.ndarray
        Shape ``(M, P)``.
    """
    n_problems, n_candidates, dim = phi.shape
    ones = torch.ones(n_problems * n_candidates)
    images = scene.images(phi.reshape(-1, dim), ones, ones)
    probabilities = classifier.emotion_probabilities(images).double().numpy().reshape(n_problems, n_candidates, -1)
    return np.take_along_axis(probabilities, np.asarray(emotions)[:, None, None], axis=-1)[..., 0]


def optimise_expressions(
    classifier: Classifier,
    scene: Scene,
    settings: Mapping[str, Any],
    seed: int,
) -> OptimisedExpressions:
    """Run Eq. 4 for the six emotions side by side: one batch per generation holds every emotion's candidates.

    Parameters
    ----------
    classifier
        The classifier F.
    scene
        The identity to optimise for.
    settings
        The config's ``expressions`` section: ``method`` (``"de"`` or ``"cmaes"``; default ``"de"``),
        population, generations, tolerance and bound for both; strategy, mutation and recombination for DE;
        ``sigma0`` for CMA-ES (default :data:`~facesym.optimize.cmaes.SIGMA0`).
    seed
        Seed of the optimisation (derived from the job's wildcards).

    Returns
    -------
    OptimisedExpressions
    """
    emotions = np.arange(len(EMOTIONS))

    def objective(phi: np.ndarray, problems: np.ndarray) -> np.ndarray:
        return 1.0 - target_probability(classifier, scene, emotions[problems], phi)

    method = str(settings.get("method", "de"))
    common = {
        "population": int(settings["population"]),
        "generations": int(settings["generations"]),
        "rng": np.random.default_rng(seed),
        "n_problems": len(EMOTIONS),
        "target": float(settings["tolerance"]) if settings["tolerance"] > 0 else None,
        "labels": [f"{classifier.name} {emotion}" for emotion in EMOTIONS],
    }
    dim, bound = scene.model.n_expression, float(settings["bound"])
    result: OptimisationResult
    if method == "de":
        result = differential_evolution_batched(
            objective,
            dim,
            bound,
            strategy=str(settings["strategy"]),
            mutation=tuple(settings["mutation"]),
            recombination=float(settings["recombination"]),
            **common,
        )
    elif method == "cmaes":
        result = cma_es_batched(objective, dim, bound, sigma0=float(settings.get("sigma0", SIGMA0)), **common)
    else:
        raise ValueError(f"unknown expressions method {method!r}; choose one of {list(METHODS)}")
    reached = 1.0 - result.fun
    for emotion, probability, count in zip(EMOTIONS, reached, result.n_evaluations, strict=True):
        log.info("%s: reached p(%s) = %.3f after %d evaluations", classifier.name, emotion, probability, count)
    return OptimisedExpressions(
        phi=result.x, reached=reached, history=1.0 - result.history, n_evaluations=result.n_evaluations
    )
