"""From a ``classifiers`` config entry to a ready :class:`~facesym.classifiers.base.Classifier`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from facesym.classifiers.adapters import (
    load_onnx,
    load_python,
    load_torchscript,
    preprocessing_from_entry,
    resolve_file,
)
from facesym.classifiers.base import Classifier, emotion_indices, entry_error
from facesym.classifiers.embedded import embedded_spec, load_embedded
from facesym.device import resolve_device

__all__ = ["KINDS", "embedded_weights", "model_files", "check_entry", "load_classifier"]

KINDS: tuple[str, ...] = ("embedded", "torchscript", "onnx", "python")


def embedded_weights(name: str, results_dir: str | Path = "results") -> Path:
    """Where the ``train_classifier`` rule writes an embedded classifier's weights."""
    return Path(results_dir) / "classifiers" / f"{name}.pt"


def model_files(entry: Mapping[str, Any], results_dir: str | Path = "results") -> list[str]:
    """The files a job using this classifier depends on (Snakemake inputs).

    Returns
    -------
    list of str
        ``[results/classifiers/{name}.pt]`` for embedded entries, ``[path]`` for TorchScript/ONNX,
        ``[weights]`` for Python entry points.
    """
    kind = entry["kind"]
    if kind == "embedded":
        return [str(embedded_weights(entry["name"], results_dir))]
    return [str(entry["weights" if kind == "python" else "path"])]


def check_entry(entry: Mapping[str, Any], base_dir: str | Path | None = None) -> None:
    """Check an entry without loading its model: kind, keys, preprocessing, class mapping and (optionally) files.

    Cheap enough to run for every entry before any job is planned.

    Parameters
    ----------
    entry : mapping
        A ``classifiers`` config entry.
    base_dir : str or Path, optional
        If given, the entry's input files must exist relative to it.

    Raises
    ------
    ClassifierConfigError
        Naming the entry and the key at fault.
    """
    name = entry["name"]
    kind = entry.get("kind")
    if kind not in KINDS:
        raise entry_error(name, f"'kind' must be one of {list(KINDS)}, got {kind!r}")
    if kind == "embedded":
        embedded_spec(entry)
        return
    preprocessing_from_entry(entry)
    if "classes" not in entry:
        raise entry_error(name, f"kind '{kind}' needs the key 'classes' (the model's output order)")
    emotion_indices(name, entry["classes"], entry.get("emotion_map"))
    if base_dir is not None:
        for key in ("weights",) if kind == "python" else ("path",):
            resolve_file(entry, key, base_dir)


def load_classifier(
    entry: Mapping[str, Any],
    *,
    weights: str | Path | None = None,
    base_dir: str | Path = ".",
    device: str | torch.device = "cpu",
    batch_size: int = 256,
) -> Classifier:
    """Build the classifier a config entry describes, checked against the entry.

    Parameters
    ----------
    entry : mapping
        A ``classifiers`` config entry.
    weights : str or Path, optional
        Embedded entries: the trained ``.pt`` (default ``results/classifiers/{name}.pt`` under ``base_dir``).
        Ignored for other kinds, whose files the entry names.
    base_dir : str or Path
        Folder relative paths are taken from (the pipeline's working directory).
    device : str or torch.device
        A config setting (``auto``, ``cpu``, ``cuda``) is resolved with
        :func:`facesym.device.resolve_device`.
    batch_size : int
        Largest batch the model sees at once.

    Returns
    -------
    Classifier
        Ready to call on rendered images.
    """
    check_entry(entry)
    if isinstance(device, str):
        device = resolve_device(device)
    kind = entry["kind"]
    if kind == "embedded":
        path = Path(weights) if weights is not None else Path(base_dir) / embedded_weights(entry["name"])
        return load_embedded(entry, path, device=device, batch_size=batch_size)
    loader = {"torchscript": load_torchscript, "onnx": load_onnx, "python": load_python}[kind]
    return loader(entry, base_dir=base_dir, device=device, batch_size=batch_size)
