"""Optimised expressions φ^(e) (paper Eq. 4): the expression a classifier finds most like emotion e.

For each emotion, differential evolution searches ``φ ∈ [-bound, bound]^d`` at full symmetry and full onset
(s = 1, t = 1) for the face that maximises the classifier's softmax probability of that emotion. Every
generation is rendered and classified as one batch.
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
from facesym.optimize import differential_evolution_batched

__all__ = ["OptimisedExpressions", "optimise_expressions"]

log = logging.getLogger(__name__)


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
    seeds
        Seed of each emotion's optimisation, shape ``(6,)``.
    """

    phi: np.ndarray
    reached: np.ndarray
    history: np.ndarray
    n_evaluations: np.ndarray
    seeds: np.ndarray


def target_probability(classifier: Classifier, scene: Scene, emotion: int, phi: np.ndarray) -> np.ndarray:
    """Probability of ``EMOTIONS[emotion]`` for each candidate ``phi`` ``(P, d)`` at s = 1, t = 1 -> ``(P,)``."""
    ones = torch.ones(phi.shape[0])
    images = scene.images(phi, ones, ones)
    return classifier.emotion_probabilities(images)[:, emotion].double().numpy()


def optimise_expressions(
    classifier: Classifier,
    scene: Scene,
    settings: Mapping[str, Any],
    seeds: list[int],
) -> OptimisedExpressions:
    """Run Eq. 4 for each of the six emotions.

    Parameters
    ----------
    classifier
        The classifier F.
    scene
        The identity to optimise for.
    settings
        The config's ``expressions`` section (population, generations, tolerance, strategy, mutation,
        recombination, bound).
    seeds
        One seed per emotion (derived from the job's wildcards and the emotion).

    Returns
    -------
    OptimisedExpressions
    """
    dim = scene.model.n_expression
    phis, reached, histories, evaluations = [], [], [], []
    for index, emotion in enumerate(EMOTIONS):

        def objective(phi: np.ndarray, index: int = index) -> np.ndarray:
            return 1.0 - target_probability(classifier, scene, index, phi)

        result = differential_evolution_batched(
            objective,
            dim,
            float(settings["bound"]),
            population=int(settings["population"]),
            generations=int(settings["generations"]),
            rng=np.random.default_rng(seeds[index]),
            strategy=str(settings["strategy"]),
            mutation=tuple(settings["mutation"]),
            recombination=float(settings["recombination"]),
            target=float(settings["tolerance"]) if settings["tolerance"] > 0 else None,
            label=f"{classifier.name} {emotion}",
        )
        phis.append(result.x)
        reached.append(1.0 - result.fun)
        histories.append(1.0 - result.history)
        evaluations.append(result.n_evaluations)
        log.info(
            "%s: reached p(%s) = %.3f after %d evaluations",
            classifier.name,
            emotion,
            1 - result.fun,
            result.n_evaluations,
        )
    history = np.full((len(EMOTIONS), int(settings["generations"]) + 1), np.nan)
    for index, values in enumerate(histories):
        history[index, : values.shape[0]] = values
    return OptimisedExpressions(
        phi=np.stack(phis),
        reached=np.asarray(reached),
        history=history,
        n_evaluations=np.asarray(evaluations),
        seeds=np.asarray(seeds, dtype=np.uint64),
    )
