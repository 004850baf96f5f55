"""Logit surfaces: the classifier's full softmax over the symmetry × onset grid (paper Sec. 3.3, Fig. 3).

Beside the paper's asymmetric intervention (left half at ``s·t``, right half at ``t``) the same grid can be
rendered for the **intensity-matched control** (the sham): both halves at ``t·(1 + s)/2``, the same loss of
movement without the asymmetry. The sham is rendered through the face model rather than read off the ``s = 1``
column at onset ``t·(1 + s)/2``: the two agree for a model whose every expression component is a blendshape (the
test suite checks it), but not for one with a jaw joint, which the sham keeps at ``t`` like the intervention.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch

from facesym.classifiers.base import Classifier
from facesym.interventions.scene import Scene

__all__ = ["Surfaces", "grid", "logit_surfaces", "sham_from_symmetric_column"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Surfaces:
    """The classifier's outputs over the grid.

    Attributes
    ----------
    softmax : np.ndarray, shape (E, S, T, K), float32
        Probabilities.
    logits : np.ndarray, shape (E, S, T, K), float32, or None
        The model's logits, when it gives them (see :meth:`Classifier.predict_with_logits`).
    """

    softmax: np.ndarray
    logits: np.ndarray | None


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
    *,
    intensity_matched: bool = False,
) -> Surfaces:
    """Softmax (and logits) of the classifier at every grid point for every expression.

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
    intensity_matched
        Render the intensity-matched control (both halves at ``t·(1 + s)/2``) instead of the asymmetric
        intervention.

    Returns
    -------
    Surfaces
        Probabilities and logits, shape ``(E, S, T, K)`` each, float32.
    """
    n_expr, n_s, n_t = phi.shape[0], s.shape[0], t.shape[0]
    # Every (expression, s, t) triple, flattened in C order so the reshape below restores the axes.
    e_index, s_index, t_index = (
        a.ravel() for a in np.meshgrid(np.arange(n_expr), np.arange(n_s), np.arange(n_t), indexing="ij")
    )
    total = e_index.shape[0]
    probs = np.empty((total, classifier.n_classes), dtype=np.float32)
    logits: np.ndarray | None = None
    phi_t = torch.as_tensor(phi, dtype=torch.float32)
    what = "sham surfaces" if intensity_matched else "surfaces"
    for start in range(0, total, batch_size):
        stop = min(start + batch_size, total)
        images = scene.images(
            phi_t[e_index[start:stop]],
            torch.as_tensor(s[s_index[start:stop]], dtype=torch.float32),
            torch.as_tensor(t[t_index[start:stop]], dtype=torch.float32),
            intensity_matched=intensity_matched,
        )
        p, z = classifier.predict_with_logits(images)
        probs[start:stop] = p.numpy()
        if z is not None:
            if logits is None:
                logits = np.empty_like(probs)
            logits[start:stop] = z.numpy()
        log.info("%s %s: %d / %d grid points", classifier.name, what, stop, total)
    shape = (n_expr, n_s, n_t, classifier.n_classes)
    return Surfaces(probs.reshape(shape), None if logits is None else logits.reshape(shape))


def sham_from_symmetric_column(values: np.ndarray, s: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The intensity-matched surface read off the ``s = 1`` column by linear interpolation along ``t``.

    Valid only for a face model whose expression is blendshapes alone (no joint driven by ``t``): then the sham
    at ``(s, t)`` is the symmetric face at onset ``t·(1 + s)/2``. Used to check the rendered sham.

    Parameters
    ----------
    values : np.ndarray, shape (..., S, T)
        Outputs over the grid; ``s`` ascending with ``s[-1] == 1``.
    s, t : np.ndarray, shapes (S,) and (T,)
        The grid, ``t`` ascending.

    Returns
    -------
    np.ndarray, shape (..., S, T)
        ``values[..., -1, :]`` interpolated at ``t·(1 + s)/2``.
    """
    if not np.isclose(s[-1], 1.0):
        raise ValueError("the grid must contain s = 1 as its last level")
    column = np.asarray(values)[..., -1, :]
    onsets = t[None, :] * (1.0 + s[:, None]) / 2.0  # (S, T)
    flat = column.reshape(-1, column.shape[-1])
    out = np.stack([np.interp(onsets.ravel(), t, row).reshape(onsets.shape) for row in flat])
    return out.reshape(*column.shape[:-1], *onsets.shape)
