"""The six basic emotions as EMFACS action-unit prototypes (Friesen & Ekman, EMFACS-7, 1983).

The prototypes are facts about facial expressions, not parameters of this project: each emotion lists the
action units that form its prototypical display, with intensity 1 for every unit.
"""

from __future__ import annotations

import numpy as np
import torch

from facesym.emotions import EMOTIONS, NEUTRAL
from facesym.face.model import MorphableModel

__all__ = ["PROTOTYPES", "prototype_phi"]

PROTOTYPES: dict[str, dict[str, float]] = {
    "angry": {"AU4": 1.0, "AU5": 1.0, "AU7": 1.0, "AU23": 1.0},
    "disgust": {"AU9": 1.0, "AU15": 1.0, "AU16": 1.0},
    "fear": {"AU1": 1.0, "AU2": 1.0, "AU4": 1.0, "AU5": 1.0, "AU7": 1.0, "AU20": 1.0, "AU26": 1.0},
    "happy": {"AU6": 1.0, "AU12": 1.0},
    "sad": {"AU1": 1.0, "AU4": 1.0, "AU15": 1.0},
    "surprise": {"AU1": 1.0, "AU2": 1.0, "AU5": 1.0, "AU26": 1.0},
}
"""Emotion (``facesym.emotions.EMOTIONS``) → {action unit: intensity}. Disgust is EMFACS's 9+15+16 (nose wrinkler,
which also raises the upper lip; lip corner and lower lip depressors), not 9+10+15, which EMFACS does not list."""


def prototype_phi(model: MorphableModel, emotion: str, intensity: float = 1.0) -> torch.Tensor:
    """The expression vector φ of an emotion's prototype for a model with FACS-named components.

    Parameters
    ----------
    model
        A model whose ``expression_names`` contain the prototype's action units (the procedural model).
    emotion
        One of ``facesym.emotions.EMOTIONS`` or ``"neutral"`` (all zeros).
    intensity
        Multiplies every action unit of the prototype.

    Returns
    -------
    torch.Tensor
        Shape ``(model.n_expression,)``, float32, on the model's device.
    """
    phi = np.zeros(model.n_expression, dtype=np.float32)
    if emotion != NEUTRAL:
        if emotion not in PROTOTYPES:
            raise ValueError(f"unknown emotion {emotion!r}; choose one of {EMOTIONS + (NEUTRAL,)}")
        missing = [au for au in PROTOTYPES[emotion] if au not in model.expression_names]
        if missing:
            raise ValueError(
                f"the {model.name} model has no expression components named {missing}: prototypes need a model "
                "whose components are FACS action units (the procedural model); optimise φ instead"
            )
        for au, value in PROTOTYPES[emotion].items():
            phi[model.expression_names.index(au)] = intensity * value
    return torch.from_numpy(phi).to(model.device)
