"""The AU recogniser: the LeNet-5 of DeepFN's Table 3, multi-label, binary cross-entropy, threshold 0.5.

Training follows the paper's Sec. 4.3: Adam with exponential decay rates (0.5, 0.999), a fixed number of epochs,
and the weights of the epoch with the highest F1 score on the validation subjects are kept.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["THRESHOLD", "LeNet5", "f1_accuracy", "predict", "train_recogniser"]

THRESHOLD = 0.5
"""Decision threshold on every AU probability (the paper's)."""


class LeNet5(nn.Module):
    """Input ``(B, 1, H, W)`` in [0, 1] -> one logit per AU ``(B, n_au)`` (paper Table 3 for ``H = W = 64``:
    conv 6@3×3, average pool, conv 16@3×3, average pool, dense 120, 84, n_au)."""

    def __init__(self, n_au: int, size: int = 64):
        super().__init__()
        side = ((size - 2) // 2 - 2) // 2
        self.net = nn.Sequential(
            nn.Conv2d(1, 6, 3), nn.ReLU(), nn.AvgPool2d(2),
            nn.Conv2d(6, 16, 3), nn.ReLU(), nn.AvgPool2d(2),
            nn.Flatten(), nn.Linear(16 * side * side, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, n_au),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Centred inputs: from [0, 1] images with a mostly black background, the network otherwise sat on the
        # all-negative plateau for tens of epochs.
        return self.net((x - 0.5) * 4.0)


@torch.no_grad()
def predict(model: nn.Module, images: np.ndarray, batch: int = 512) -> np.ndarray:
    """AU probabilities ``(B, n_au)`` for images ``(B, H, W)`` in [0, 1]."""
    model.eval()
    x = torch.as_tensor(np.asarray(images), dtype=torch.float32)[:, None]
    parts = [torch.sigmoid(model(x[i:i + batch])) for i in range(0, len(x), batch)]
    return torch.cat(parts).numpy().astype(np.float64)


def f1_accuracy(labels: np.ndarray, probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-AU F1 score and accuracy at :data:`THRESHOLD`.

    Parameters
    ----------
    labels
        Shape ``(B, n_au)``, 0/1.
    probabilities
        Shape ``(B, n_au)``.

    Returns
    -------
    tuple of np.ndarray
        F1 and accuracy, shape ``(n_au,)`` each, in [0, 1]. F1 is 0 where an AU has neither a positive label nor
        a positive prediction (scikit-learn's ``zero_division=0``).
    """
    y = np.asarray(labels).astype(bool)
    p = np.asarray(probabilities) >= THRESHOLD
    tp = (y & p).sum(axis=0)
    denominator = y.sum(axis=0) + p.sum(axis=0)
    f1 = np.where(denominator > 0, 2.0 * tp / np.maximum(denominator, 1), 0.0)
    return f1, (y == p).mean(axis=0)


def train_recogniser(train: tuple[np.ndarray, np.ndarray], validation: tuple[np.ndarray, np.ndarray],
                     settings: Mapping[str, Any], seed: int) -> tuple[LeNet5, float]:
    """Train a LeNet-5 AU recogniser.

    Parameters
    ----------
    train, validation
        ``(images (B, H, W) in [0, 1], labels (B, n_au) 0/1)``.
    settings
        ``deepfn.recogniser``: ``epochs``, ``batch_size``, ``learning_rate``.
    seed
        Seed of the initial weights and the batch order.

    Returns
    -------
    tuple
        The model with the weights of the best validation epoch, and that epoch's mean validation F1.
    """
    images, labels = train
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = LeNet5(labels.shape[1], images.shape[-1])
    optimiser = torch.optim.Adam(model.parameters(), lr=settings["learning_rate"], betas=(0.5, 0.999))
    x = torch.as_tensor(images, dtype=torch.float32)[:, None]
    y = torch.as_tensor(labels, dtype=torch.float32)
    loss_fn = nn.BCEWithLogitsLoss()
    best_state, best_f1 = copy.deepcopy(model.state_dict()), -1.0
    for _epoch in range(settings["epochs"]):
        model.train()
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), settings["batch_size"]):
            index = order[start:start + settings["batch_size"]]
            loss = loss_fn(model(x[index]), y[index])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
        f1 = float(f1_accuracy(validation[1], predict(model, validation[0]))[0].mean())
        if f1 > best_f1:
            best_state, best_f1 = copy.deepcopy(model.state_dict()), f1
    model.load_state_dict(best_state)
    return model, best_f1
