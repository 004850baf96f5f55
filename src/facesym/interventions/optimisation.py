"""Optimised expressions φ^(e) (paper Eq. 4): the expression a classifier finds most like emotion e.

For each emotion, an optimiser searches the model's box of φ (its ``expression_bounds``: ``[0, 1]`` per FACS action
unit of the procedural face; ``[-bound, bound]^d`` from the config for a signed basis like FLAME's) at full
symmetry and full onset (s = 1, t = 1)
for the face that maximises the classifier's softmax probability of that emotion: differential evolution
(``method: de``, the default), CMA-ES (``method: cmaes``) or multi-start gradient descent on ``1 − p``
(``method: gradient``; gradients by back-propagation through the classifier and the torch renderer). The six
emotions evolve side by side: every generation (step) of all six is rendered and classified as one batch.

The gradient method always renders with the torch backend, whatever ``render.backend`` says: the numba kernels
are not differentiable. Both backends draw the same images (to float32 rounding; ``tests/render``). The gradient
is that of the rendered image with visibility held fixed (which triangle covers a pixel is piecewise constant in
φ): it flows through the winning fragment's barycentric coordinates and the vertex shading only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from facesym.classifiers.base import Classifier
from facesym.emotions import EMOTIONS
from facesym.interventions.scene import Scene
from facesym.optimize import (
    LEARNING_RATE,
    SIGMA0,
    STARTS,
    OptimisationResult,
    cma_es_batched,
    differential_evolution_batched,
    gradient_descent_batched,
)

__all__ = ["METHODS", "OptimisedExpressions", "optimise_expressions"]

log = logging.getLogger(__name__)

METHODS: tuple[str, ...] = ("de", "cmaes", "gradient")
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


def target_probability_and_gradient(
    classifier: Classifier, scene: Scene, emotions: np.ndarray, phi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`target_probability` and its gradient w.r.t. ``phi``, rendered with the torch backend.

    One forward and one backward pass for all ``M × P`` candidates: each probability depends on its own
    candidate only, so the gradient of their sum holds every candidate's gradient.

    Returns
    -------
    probability : np.ndarray
        Shape ``(M, P)``.
    gradient : np.ndarray
        ``∂p / ∂φ``, shape ``(M, P, d)``.
    """
    n_problems, n_candidates, dim = phi.shape
    count = n_problems * n_candidates
    torch_scene = scene if scene.backend == "torch" else replace(scene, backend="torch")
    x = torch.tensor(phi.reshape(-1, dim), dtype=torch.float32, device=scene.device, requires_grad=True)
    ones = torch.ones(count, device=scene.device)
    columns = torch.as_tensor(np.asarray(classifier.emotion_indices)[np.repeat(np.asarray(emotions), n_candidates)])
    with torch.enable_grad():
        images = torch_scene.images(x, ones, ones)
        probability = classifier.probabilities(images)[torch.arange(count), columns]
        (gradient,) = torch.autograd.grad(probability.sum(), x)
    return (
        probability.detach().double().numpy().reshape(n_problems, n_candidates),
        gradient.double().cpu().numpy().reshape(n_problems, n_candidates, dim),
    )


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
        The config's ``expressions`` section: ``method`` (``"de"``, ``"cmaes"`` or ``"gradient"``; default
        ``"de"``), generations, tolerance and bound for all; population for DE and CMA-ES; strategy, mutation and
        recombination for DE; ``sigma0`` for CMA-ES (default :data:`~facesym.optimize.cmaes.SIGMA0`); ``starts``
        and ``learning_rate`` for the gradient method (defaults :data:`~facesym.optimize.gradient.STARTS`,
        :data:`~facesym.optimize.gradient.LEARNING_RATE`), whose ``generations`` are its Adam steps.
    seed
        Seed of the optimisation (derived from the job's wildcards).

    Returns
    -------
    OptimisedExpressions
    """
    emotions = np.arange(len(EMOTIONS))
    # The optimisers search [-bound, bound]^d; a model with its own bounds is searched in the unit box
    # [-1, 1]^d mapped affinely onto them, so that every candidate is a face the anatomy allows.
    dim, bound = scene.model.n_expression, float(settings["bound"])
    box = getattr(scene.model, "expression_bounds", None)
    if box is not None:
        low, high = scene.model.expression_box(bound)
        centre, half, bound = 0.5 * (high + low), 0.5 * (high - low), 1.0
    else:
        centre, half = np.zeros(dim), np.ones(dim)

    def objective(x: np.ndarray, problems: np.ndarray) -> np.ndarray:
        return 1.0 - target_probability(classifier, scene, emotions[problems], centre + half * x)

    def value_and_grad(x: np.ndarray, problems: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        probability, gradient = target_probability_and_gradient(
            classifier, scene, emotions[problems], centre + half * x
        )
        return 1.0 - probability, -gradient * half

    method = str(settings.get("method", "de"))
    common = {
        "rng": np.random.default_rng(seed),
        "n_problems": len(EMOTIONS),
        "target": float(settings["tolerance"]) if settings["tolerance"] > 0 else None,
        "labels": [f"{classifier.name} {emotion}" for emotion in EMOTIONS],
    }
    result: OptimisationResult
    evolution = {"population": int(settings["population"]), "generations": int(settings["generations"])}
    if method == "de":
        result = differential_evolution_batched(
            objective,
            dim,
            bound,
            strategy=str(settings["strategy"]),
            mutation=tuple(settings["mutation"]),
            recombination=float(settings["recombination"]),
            **evolution,
            **common,
        )
    elif method == "cmaes":
        result = cma_es_batched(
            objective, dim, bound, sigma0=float(settings.get("sigma0", SIGMA0)), **evolution, **common
        )
    elif method == "gradient":
        result = gradient_descent_batched(
            value_and_grad,
            dim,
            bound,
            steps=int(settings["generations"]),
            starts=int(settings.get("starts", STARTS)),
            learning_rate=float(settings.get("learning_rate", LEARNING_RATE)),
            **common,
        )
    else:
        raise ValueError(f"unknown expressions method {method!r}; choose one of {list(METHODS)}")
    reached = 1.0 - result.fun
    for emotion, probability, count in zip(EMOTIONS, reached, result.n_evaluations, strict=True):
        log.info("%s: reached p(%s) = %.3f after %d evaluations", classifier.name, emotion, probability, count)
    return OptimisedExpressions(
        phi=centre + half * result.x, reached=reached, history=1.0 - result.history, n_evaluations=result.n_evaluations
    )
