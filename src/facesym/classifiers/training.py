"""Deterministic training and evaluation of a network on image tensors.

Nothing here knows about faces: the inputs are any ``(N, C, H, W)`` images in ``[0, 1]`` with integer labels,
so the loop is tested on tiny random data and used by the pipeline on renders of the face model.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from facesym.classifiers.base import Preprocess

__all__ = ["TrainingSettings", "TrainingResult", "seeded", "train_network", "evaluate"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingSettings:
    """Hyper-parameters shared by the embedded classifiers (config key ``training``).

    Attributes
    ----------
    epochs : int
        Passes over the training set.
    batch_size : int
        Images per optimisation step.
    learning_rate : float
        Peak learning rate of AdamW's one-cycle schedule.
    weight_decay : float
        AdamW's decoupled weight decay.
    label_smoothing : float
        Cross-entropy label smoothing; keeps the softmax from saturating so the pipeline's surfaces have
        gradients along s to measure.
    """

    epochs: int = 10
    batch_size: int = 64
    learning_rate: float = 8e-3
    weight_decay: float = 0.05
    label_smoothing: float = 0.05


@dataclass
class TrainingResult:
    """What training produced beside the weights.

    Attributes
    ----------
    losses : list of float
        Mean training loss per epoch.
    seconds : float
        Wall-clock training time in seconds (excluding data generation).
    cpu_seconds : float
        CPU time of the process over the same span, all threads together.
    """

    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's global generator (initial weights, dropout) for the duration of the block.

    Training runs on the CPU, where torch's kernels are deterministic for a fixed number of threads, so no
    slower "deterministic algorithms" mode is needed. The previous generator state is restored afterwards, so
    other code drawing from it is not affected.
    """
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        yield
    finally:
        torch.random.set_rng_state(state)


def train_network(
    network: nn.Module,
    preprocess: Preprocess,
    images: torch.Tensor,
    labels: torch.Tensor,
    settings: TrainingSettings,
    seed: int,
) -> TrainingResult:
    """Train a classification network with AdamW, a one-cycle schedule and cross entropy.

    Parameters
    ----------
    network : nn.Module
        Maps preprocessed ``(B, C, S, S)`` input to ``(B, K)`` logits; trained in place.
    preprocess : Preprocess
        The classifier's preprocessing, applied once to all images so the network trains on exactly what it
        will see at inference.
    images : torch.Tensor, shape (N, C, H, W)
        Float in ``[0, 1]``.
    labels : torch.Tensor, shape (N,)
        Integer class indices in ``[0, K)``.
    settings : TrainingSettings
        Hyper-parameters.
    seed : int
        Seeds the mini-batch order and dropout; the same seed, data and initial weights give the same result.

    Returns
    -------
    TrainingResult
        Per-epoch losses and the training time.
    """
    start, cpu_start = time.perf_counter(), time.process_time()
    with torch.no_grad():
        # channels-last runs the convolutions of all three families 25–40 % faster on the CPU.
        x = preprocess(images).contiguous(memory_format=torch.channels_last)
    network.to(memory_format=torch.channels_last)
    y = labels.long()
    generator = torch.Generator().manual_seed(seed)
    steps_per_epoch = -(-len(x) // settings.batch_size)
    optimizer = torch.optim.AdamW(network.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=settings.learning_rate, total_steps=settings.epochs * steps_per_epoch, pct_start=0.2
    )
    result = TrainingResult()
    network.train()
    with seeded(seed):
        for epoch in range(settings.epochs):
            order = torch.randperm(len(x), generator=generator)
            total = 0.0
            for batch in order.split(settings.batch_size):
                loss = F.cross_entropy(network(x[batch]), y[batch], label_smoothing=settings.label_smoothing)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                schedule.step()
                total += loss.item() * len(batch)
            result.losses.append(total / len(x))
            log.info("epoch %d/%d: loss %.4f", epoch + 1, settings.epochs, result.losses[-1])
    network.to(memory_format=torch.contiguous_format).eval()
    result.seconds = time.perf_counter() - start
    result.cpu_seconds = time.process_time() - cpu_start
    return result


def evaluate(
    predict: Callable[[torch.Tensor], torch.Tensor],
    images: torch.Tensor,
    labels: torch.Tensor,
    classes: Sequence[str],
) -> dict:
    """Accuracy, per-class accuracy and confusion matrix of a classifier on labelled images.

    Parameters
    ----------
    predict : callable
        Images ``(N, C, H, W)`` → probabilities or scores ``(N, K)`` (e.g. :meth:`Classifier.predict`).
    images : torch.Tensor, shape (N, C, H, W)
        Float in ``[0, 1]``.
    labels : torch.Tensor, shape (N,)
        True class indices.
    classes : sequence of str, length K
        Class names, for the per-class keys.

    Returns
    -------
    dict
        ``accuracy`` (fraction correct), ``per_class`` (class → fraction of its images classified correctly,
        ``None`` for a class without images),
        ``confusion`` (K × K list of counts, rows true class, columns predicted class, in ``classes`` order),
        ``mean_true_probability`` (mean softmax of the true class) and ``n`` (number of images).
    """
    scores = predict(images)
    predicted = scores.argmax(dim=1).numpy()
    true = labels.numpy().astype(np.int64)
    k = len(classes)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (true, predicted), 1)
    support = confusion.sum(axis=1)
    per_class = {cls: (float(confusion[i, i] / support[i]) if support[i] else None) for i, cls in enumerate(classes)}
    return {
        "accuracy": float(np.trace(confusion) / max(len(true), 1)),
        "per_class": per_class,
        "confusion": confusion.tolist(),
        "mean_true_probability": float(scores[torch.arange(len(true)), labels.long()].mean()),
        "n": len(true),
    }
