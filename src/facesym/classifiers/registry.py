"""From a ``classifiers`` config entry to a ready :class:`~facesym.classifiers.base.Classifier`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from facesym.classifiers.adapters import load_keras, load_onnx, load_python, load_torchscript
from facesym.classifiers.base import Classifier
from facesym.classifiers.embedded import load_embedded
from facesym.classifiers.entries import check_entry, entry_error
from facesym.classifiers.framing import classifier_crop
from facesym.device import resolve_device

__all__ = ["load_classifier"]


def load_classifier(
    entry: Mapping[str, Any],
    *,
    weights: str | Path | None = None,
    base_dir: str | Path = ".",
    device: str | torch.device = "cpu",
    batch_size: int = 256,
    face_model=None,
) -> Classifier:
    """Build the classifier a config entry describes, checked against the entry.

    Parameters
    ----------
    entry : mapping
        A ``classifiers`` config entry.
    weights : str or Path, optional
        Embedded entries: the trained ``.pt`` (required; relative paths are taken from ``base_dir``).
        Ignored for other kinds, whose files the entry names.
    base_dir : str or Path
        Folder relative paths are taken from (the pipeline's working directory).
    device : str or torch.device
        A config setting (``auto``, ``cpu``, ``cuda``) is resolved with
        :func:`facesym.device.resolve_device`.
    batch_size : int
        Largest batch the model sees at once.
    face_model : facesym.face.MorphableModel, optional
        The model whose renders the classifier reads; places the entry's ``framing`` (required when the entry
        has one).

    Returns
    -------
    Classifier
        Ready to call on rendered images (or photographs aligned to them), framed as the entry says.
    """
    check_entry(entry)
    if isinstance(device, str):
        device = resolve_device(device)
    if "framing" in entry and face_model is None:
        raise entry_error(entry["name"], "has a 'framing', which needs the face model its renders come from")
    kind = entry["kind"]
    if kind == "embedded":
        if weights is None:
            raise entry_error(entry["name"], "is embedded: pass the trained weights file it was saved to")
        path = Path(base_dir) / weights
        classifier = load_embedded(entry, path, device=device, batch_size=batch_size)
    else:
        loaders = {"torchscript": load_torchscript, "onnx": load_onnx, "python": load_python, "keras": load_keras}
        classifier = loaders[kind](entry, base_dir=base_dir, device=device, batch_size=batch_size)
    if face_model is not None:
        classifier.frame(classifier_crop(entry, face_model))
    return classifier
