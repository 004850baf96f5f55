"""Logit surfaces: the classifier's full softmax over the symmetry × onset grid (paper Sec. 3.3, Fig. 3)."""

from __future__ import annotations

import logging

import numpy as np
import torch

from facesym.classifiers.base import Classifier
from facesym.interventions.scene import Scene

__all__ = ["grid", "logit_surfaces"]

log = logging.getLogger(__name__)


def grid(symmetry_steps: int, time_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The equidistant grid of Eq. 6.

    Returns
    -------
    s, t
        ``linspace(0, 1, S)`` and ``linspace(0, 1, T)``; with ``T = 1`` the single onset is the full expression.
    """
    s = np.linspace(0.0, 1.0, symmetry_steps)
    t = np.linspace(0.0, 1.0, time_steps) if time_steps > 1 else np.ones(1)
    return s, t


def logit_surfaces(
    classifier: Classifier,
    scene: Scene,
    phi: np.ndarray,
    s: np.ndarray,
    t: np.ndarray,
    batch_size: int = 512,
) -> np.ndarray:
    """Softmax of the classifier at every grid point for every expression.

    Parameters
    ----------
    classifier
        The classifier F, with K classes.
    scene
        The identity.
    phi
        Expressions, shape ``(E, d)``.
    s, t
        Grid values, shapes ``(S,)`` and ``(T,)``.
    batch_size
        Images rendered and classified per call.

    Returns
    -------
    np.ndarray
        Probabilities, shape ``(E, S, T, K)``, float32.
    """
    n_expr, n_s, n_t = phi.shape[0], s.shape[0], t.shape[0]
    # Every (expression, s, t) triple, flattened in C order so the reshape below restores the axes.
    e_index, s_index, t_index = (
        a.ravel() for a in np.meshgrid(np.arange(n_expr), np.arange(n_s), np.arange(n_t), indexing="ij")
    )
    total = e_index.shape[0]
    out = np.empty((total, classifier.n_classes), dtype=np.float32)
    phi_t = torch.as_tensor(phi, dtype=torch.float32)
    for start in range(0, total, batch_size):
        stop = min(start + batch_size, total)
        images = scene.images(
            phi_t[e_index[start:stop]],
            torch.as_tensor(s[s_index[start:stop]], dtype=torch.float32),
            torch.as_tensor(t[t_index[start:stop]], dtype=torch.float32),
        )
        out[start:stop] = classifier.predict(images).numpy()
        log.info("%s surfaces: %d / %d grid points", classifier.name, stop, total)
    return out.reshape(n_expr, n_s, n_t, classifier.n_classes)
