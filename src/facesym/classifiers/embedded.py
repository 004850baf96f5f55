"""Embedded classifiers: networks of :mod:`facesym.classifiers.architectures` trained inside the pipeline.

A trained embedded classifier is one ``.pt`` file holding its state dict and everything needed to rebuild it
(architecture, size, classes, preprocessing), readable with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from facesym.classifiers.architectures import build_network
from facesym.classifiers.base import Classifier, Preprocess, channels_last_on_cpu
from facesym.classifiers.entries import ARCH_KEYS, embedded_spec, entry_error, rebuild_command
from facesym.classifiers.framing import Box
from facesym.classifiers.training import TrainingResult, TrainingSettings, seeded, train_network
from facesym.emotions import EMOTIONS, NEUTRAL

__all__ = [
    "EMBEDDED_CLASSES",
    "build_embedded_network",
    "train_embedded",
    "save_embedded",
    "load_embedded",
]

EMBEDDED_CLASSES: tuple[str, ...] = tuple(sorted((*EMOTIONS, NEUTRAL)))
"""Output classes of every embedded classifier: the six emotions and neutral, alphabetical (FER2013's order)."""

_FORMAT = "facesym-embedded-classifier/1"


def build_embedded_network(entry: Mapping[str, Any]) -> nn.Module:
    """Untrained network of an embedded entry (initialised from torch's global generator).

    Returns
    -------
    nn.Module
        Maps preprocessed ``(B, C, S, S)`` input to ``(B, 7)`` logits over :data:`EMBEDDED_CLASSES`.
    """
    arch, spec = embedded_spec(entry)
    return build_network(arch["architecture"], spec.channels, len(EMBEDDED_CLASSES), arch["width"], arch["depth"])


def train_embedded(
    entry: Mapping[str, Any],
    images: torch.Tensor,
    labels: torch.Tensor,
    settings: TrainingSettings,
    seed: int,
    crop: Box | None = None,
) -> tuple[nn.Module, TrainingResult]:
    """Initialise and train an embedded entry's network, deterministically from ``seed``.

    Parameters
    ----------
    entry : mapping
        The config entry (``kind: embedded``).
    images : torch.Tensor, shape (N, C, H, W)
        Training renders, float in ``[0, 1]``, any size (the entry's preprocessing resizes them).
    labels : torch.Tensor, shape (N,)
        Indices into :data:`EMBEDDED_CLASSES`.
    settings : TrainingSettings
        Hyper-parameters.
    seed : int
        Seeds the initial weights, mini-batch order and dropout.
    crop : Box, optional
        The entry's framing in the training renders' frame; the network learns from the crop it will read.

    Returns
    -------
    network : nn.Module
        Trained, in eval mode, on the CPU.
    result : TrainingResult
        Losses and training time.
    """
    _, spec = embedded_spec(entry)
    with seeded(seed):
        network = build_embedded_network(entry)
    return network, train_network(network, Preprocess(spec, crop), images, labels, settings, seed)


def save_embedded(path: str | Path, entry: Mapping[str, Any], network: nn.Module) -> None:
    """Write a trained embedded network with its specification.

    Parameters
    ----------
    path : str or Path
        Destination ``.pt``; written in place, so callers wanting atomicity pass a temporary path.
    entry : mapping
        The config entry the network was trained for.
    network : nn.Module
        The trained network from :func:`build_embedded_network`.
    """
    arch, spec = embedded_spec(entry)
    torch.save(
        {
            "format": _FORMAT,
            "name": entry["name"],
            **arch,
            "classes": list(EMBEDDED_CLASSES),
            "input_size": spec.input_size,
            "color": spec.color,
            "mean": list(spec.mean),
            "std": list(spec.std),
            "state_dict": {k: v.detach().cpu() for k, v in network.state_dict().items()},
        },
        path,
    )


def load_embedded(
    entry: Mapping[str, Any], weights: str | Path, *, device: str | torch.device = "cpu", batch_size: int = 256
) -> Classifier:
    """A trained embedded classifier.

    Parameters
    ----------
    entry : mapping
        The config entry (``kind: embedded``).
    weights : str or Path
        The ``.pt`` written by :func:`save_embedded`.
    device : str or torch.device
        Where the network runs.
    batch_size : int
        Largest batch the network sees at once.

    Raises
    ------
    ClassifierConfigError
        If the file is missing, not an embedded checkpoint, or was trained for a different architecture or
        preprocessing than the entry now asks for.
    """
    name = entry["name"]
    if not Path(weights).is_file():
        raise entry_error(name, f"trained weights '{weights}' do not exist; run the train_classifier rule first")
    try:
        checkpoint = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch reports a cut-off archive as RuntimeError or OSError, naming no file
        raise entry_error(
            name, f"trained weights '{weights}' cannot be read ({exc}); rebuild them: {rebuild_command(weights)}"
        ) from exc
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != _FORMAT:
        raise entry_error(name, f"'{weights}' is not an embedded classifier written by facesym")
    arch, spec = embedded_spec(entry)
    trained = {
        **{k: checkpoint[k] for k in ARCH_KEYS},
        "input_size": checkpoint["input_size"],
        "color": checkpoint["color"],
        "mean": tuple(checkpoint["mean"]),
        "std": tuple(checkpoint["std"]),
    }
    wanted = {**arch, "input_size": spec.input_size, "color": spec.color, "mean": spec.mean, "std": spec.std}
    differs = {k: (trained[k], wanted[k]) for k in wanted if trained[k] != wanted[k]}
    if differs:
        detail = ", ".join(f"{k}: trained {a!r}, config {b!r}" for k, (a, b) in differs.items())
        raise entry_error(name, f"'{weights}' was trained with different settings ({detail}); retrain it")
    network = build_network(
        arch["architecture"], spec.channels, len(checkpoint["classes"]), arch["width"], arch["depth"]
    )
    network.load_state_dict(checkpoint["state_dict"])
    network.to(device).eval()
    forward = channels_last_on_cpu(network, device)
    return Classifier(name, checkpoint["classes"], spec, forward, device=device, batch_size=batch_size)
