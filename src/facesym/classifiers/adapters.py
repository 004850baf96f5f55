"""Real, externally trained classifiers loaded from files named in the config.

Four kinds of entry (see ``classifiers`` in ``workflow/schemas/config.schema.yaml``):

- ``torchscript``: ``path`` to a file written by ``torch.jit.save``;
- ``onnx``: ``path`` to an ONNX graph, run with onnxruntime (the optional ``onnx`` extra);
- ``keras``: ``path`` to a Keras HDF5 model, rebuilt from torch operations by :mod:`facesym.classifiers.keras`;
- ``python``: ``entry_point: "module:function"`` returning an ``nn.Module``, plus ``weights``, a state dict read
  with ``torch.load(weights_only=True)``; optional ``kwargs`` are passed to the function.

Each entry carries its preprocessing (``input_size``, ``color``, ``mean``, ``std``) and its class order
(``classes``, ``emotion_map``). Loading checks the model against the entry — the file exists, the input size and
channels match, there is one output per class, ``output`` says truthfully whether the model returns logits or
probabilities — and stops with a :class:`ClassifierConfigError` naming the entry.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from facesym.classifiers.base import Classifier, channels_last_on_cpu, inference_graph_on_cpu
from facesym.classifiers.entries import (
    ClassifierConfigError,
    check_declared_input,
    entry_error,
    preprocessing_from_entry,
    resolve_file,
)
from facesym.classifiers.modelfiles import KerasFileError

__all__ = ["load_torchscript", "load_onnx", "load_python", "load_keras"]


def _module_forward(name: str, module: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    def forward(x: torch.Tensor) -> torch.Tensor:
        out = module(x)
        if not isinstance(out, torch.Tensor):
            raise entry_error(
                name, f"the model returned a {type(out).__name__}; it must return one (B, K) tensor of scores"
            )
        return out

    return forward


def _probe(classifier: Classifier) -> None:
    """Run the classifier on a blank batch of its declared input to catch size and class-count mismatches."""
    spec = classifier.preprocessing
    blank = torch.full((2, spec.channels, spec.input_size, spec.input_size), 0.5)
    try:
        classifier.predict(blank)
    except ClassifierConfigError:
        raise
    except Exception as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise entry_error(
            classifier.name,
            f"the model does not run on its declared input (input_size: {spec.input_size}, color: {spec.color} "
            f"→ a (B, {spec.channels}, {spec.input_size}, {spec.input_size}) tensor); check 'input_size' and "
            f"'color'. The model said: {first_line}",
        ) from exc
    _check_output_kind(classifier)


def _check_output_kind(classifier: Classifier) -> None:
    """Stop when ``output`` contradicts the model's scores on a few inputs.

    Rows that are non-negative and sum to 1 on every probe input are probabilities: declared as logits they would
    be softmaxed a second time, flattening every output towards uniform without any error. Scores with a negative
    entry or a row sum away from 1 cannot be probabilities.
    """
    spec = classifier.preprocessing
    shape = (spec.channels, spec.input_size, spec.input_size)
    generator = torch.Generator().manual_seed(0)
    images = torch.cat(
        [torch.full((2, *shape), v) for v in (0.0, 0.5, 1.0)] + [torch.rand(2, *shape, generator=generator)]
    )
    with torch.no_grad():
        scores = classifier._forward(classifier._preprocess(images.to(classifier.device))).float().cpu()
    looks_like_probabilities = bool(
        (scores >= 0).all() and torch.allclose(scores.sum(dim=1), torch.ones(len(scores)), atol=1e-3)
    )
    if classifier.output == "logits" and looks_like_probabilities:
        raise entry_error(
            classifier.name,
            "the key 'output' is 'logits' (the default), but the model's outputs are non-negative and sum to 1 on "
            "every probe input: it returns probabilities, which would be softmaxed twice. Set 'output: probabilities'",
        )
    if classifier.output == "probabilities" and not looks_like_probabilities:
        raise entry_error(
            classifier.name,
            f"the key 'output' is 'probabilities', but the model's outputs are not (row sums "
            f"{scores.sum(dim=1).min():.3g} to {scores.sum(dim=1).max():.3g}, smallest value {scores.min():.3g}). "
            "Set 'output: logits'",
        )


def _classifier(
    entry: Mapping[str, Any],
    forward: Callable[[torch.Tensor], torch.Tensor],
    device: str | torch.device,
    batch_size: int,
) -> Classifier:
    name = entry["name"]
    if "classes" not in entry:
        raise entry_error(name, f"kind '{entry['kind']}' needs the key 'classes' (the model's output order)")
    output = entry.get("output", "logits")
    if output not in ("logits", "probabilities"):
        raise entry_error(name, f"'output' must be logits or probabilities, got '{output}'")
    return Classifier(
        name,
        entry["classes"],
        preprocessing_from_entry(entry),
        forward,
        device=device,
        output=output,
        emotion_map=entry.get("emotion_map"),
        batch_size=batch_size,
    )


def load_torchscript(
    entry: Mapping[str, Any],
    *,
    base_dir: str | Path = ".",
    device: str | torch.device = "cpu",
    batch_size: int = 256,
) -> Classifier:
    """A classifier from a TorchScript file (``kind: torchscript``).

    Parameters
    ----------
    entry : mapping
        The config entry (``path``, ``classes``, ``input_size``, ``color``, ``mean``, ``std``, optional
        ``emotion_map`` and ``output``).
    base_dir : str or Path
        Folder relative paths are taken from (the pipeline's working directory).
    device : str or torch.device
        Where the model runs.
    batch_size : int
        Largest batch the model sees at once.

    Returns
    -------
    Classifier
        Checked on a blank batch of its declared input.
    """
    path = resolve_file(entry, "path", base_dir)
    try:
        with warnings.catch_warnings():
            # torch 2.9+ deprecates TorchScript, but it is still how most published FER models are shipped.
            warnings.simplefilter("ignore", DeprecationWarning)
            module = torch.jit.load(str(path), map_location=torch.device(device))
    except Exception as exc:
        raise entry_error(entry["name"], f"'{entry['path']}' is not a TorchScript file: {exc}") from exc
    module.eval()
    classifier = _classifier(entry, _module_forward(entry["name"], module), device, batch_size)
    _probe(classifier)
    return classifier


def load_python(
    entry: Mapping[str, Any],
    *,
    base_dir: str | Path = ".",
    device: str | torch.device = "cpu",
    batch_size: int = 256,
) -> Classifier:
    """A classifier built by Python code and a state dict (``kind: python``).

    Parameters
    ----------
    entry : mapping
        The config entry: ``entry_point`` ``"package.module:function"`` (called with the entry's optional
        ``kwargs`` mapping, must return an ``nn.Module``), ``weights`` (a state dict, or a checkpoint dict
        holding one under ``"state_dict"``, read with ``torch.load(weights_only=True)`` and loaded strictly),
        and the preprocessing and class keys as for :func:`load_torchscript`.
    base_dir, device, batch_size
        As for :func:`load_torchscript`; ``base_dir`` is also searched for the module.

    Returns
    -------
    Classifier
        Checked on a blank batch of its declared input.
    """
    name = entry["name"]
    weights = resolve_file(entry, "weights", base_dir)
    if "entry_point" not in entry or ":" not in entry["entry_point"]:
        raise entry_error(name, "kind 'python' needs 'entry_point: \"package.module:function\"'")
    module_name, function_name = entry["entry_point"].split(":", 1)
    # A user's model code usually lives beside their config, which is not on sys.path in a Snakemake job.
    search = str(Path(base_dir).resolve())
    added = search not in sys.path
    if added:
        sys.path.insert(0, search)
    try:
        build = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as exc:
        raise entry_error(
            name,
            f"cannot import 'entry_point' {entry['entry_point']}: {exc} (install the package or put it under {search})",
        ) from exc
    finally:
        if added:
            sys.path.remove(search)
    module = build(**dict(entry.get("kwargs", {})))
    if not isinstance(module, nn.Module):
        raise entry_error(name, f"'{entry['entry_point']}' returned a {type(module).__name__}, not an nn.Module")
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise entry_error(
            name, f"'weights' file '{entry['weights']}' cannot be read with torch.load(weights_only=True): {exc}"
        ) from exc
    if isinstance(state, Mapping) and isinstance(state.get("state_dict"), Mapping):
        state = state["state_dict"]
    try:
        module.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise entry_error(
            name,
            f"'weights' file '{entry['weights']}' does not fit the module built by '{entry['entry_point']}': {exc}",
        ) from exc
    module.to(device).eval()
    classifier = _classifier(entry, _module_forward(name, module), device, batch_size)
    _probe(classifier)
    return classifier


def load_onnx(
    entry: Mapping[str, Any],
    *,
    base_dir: str | Path = ".",
    device: str | torch.device = "cpu",
    batch_size: int = 256,
) -> Classifier:
    """A classifier from an ONNX file (``kind: onnx``), run with onnxruntime.

    Parameters
    ----------
    entry, base_dir, device, batch_size
        As for :func:`load_torchscript`. On ``cuda`` devices the CUDA execution provider is used when the
        installed onnxruntime has it.

    Returns
    -------
    Classifier
        Checked against the graph's declared input/output shapes and on a blank batch.

    Notes
    -----
    A graph exported with a fixed batch size is fed batches of exactly that size (the last one zero-padded).
    """
    name = entry["name"]
    path = resolve_file(entry, "path", base_dir)
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise entry_error(
            name, "kind 'onnx' needs onnxruntime: pip install 'facesym[onnx]' (or onnxruntime-gpu)"
        ) from exc
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.log_severity_level = 3
    providers = ["CPUExecutionProvider"]
    if torch.device(device).type == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
        providers.insert(0, "CUDAExecutionProvider")
    try:
        session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
    except Exception as exc:
        raise entry_error(name, f"'{entry['path']}' is not a readable ONNX model: {exc}") from exc
    spec = preprocessing_from_entry(entry)
    graph_input = session.get_inputs()[0]
    shape = list(graph_input.shape)
    if len(shape) != 4:
        raise entry_error(name, f"the ONNX model's input '{graph_input.name}' has shape {shape}, not (B, C, H, W)")
    if isinstance(shape[1], int) and shape[1] != spec.channels:
        raise entry_error(
            name, f"'color: {spec.color}' gives {spec.channels} channel(s) but the ONNX model expects {shape[1]}"
        )
    if any(isinstance(d, int) and d != spec.input_size for d in shape[2:]):
        raise entry_error(
            name, f"'input_size: {spec.input_size}' but the ONNX model's input is {shape[2]}×{shape[3]} pixels"
        )
    out_shape = list(session.get_outputs()[0].shape)
    n_classes = len(entry.get("classes", []))
    if out_shape and isinstance(out_shape[-1], int) and n_classes and out_shape[-1] != n_classes:
        raise entry_error(
            name, f"the ONNX model has {out_shape[-1]} outputs but 'classes' lists {n_classes}: {entry['classes']}"
        )
    fixed_batch = shape[0] if isinstance(shape[0], int) else None

    def forward(x: torch.Tensor) -> torch.Tensor:
        array = x.detach().cpu().numpy().astype(np.float32, copy=False)
        if fixed_batch is None:
            return torch.from_numpy(session.run(None, {graph_input.name: array})[0])
        outputs = []
        for start in range(0, len(array), fixed_batch):
            chunk = array[start : start + fixed_batch]
            padded = np.zeros((fixed_batch, *chunk.shape[1:]), dtype=np.float32)
            padded[: len(chunk)] = chunk
            outputs.append(session.run(None, {graph_input.name: padded})[0][: len(chunk)])
        return torch.from_numpy(np.concatenate(outputs))

    classifier = _classifier(entry, forward, device, batch_size)
    _probe(classifier)
    return classifier


def load_keras(
    entry: Mapping[str, Any],
    *,
    base_dir: str | Path = ".",
    device: str | torch.device = "cpu",
    batch_size: int = 256,
) -> Classifier:
    """A classifier from a Keras HDF5 model file (``kind: keras``), rebuilt in torch without TensorFlow.

    Parameters
    ----------
    entry, base_dir, device, batch_size
        As for :func:`load_torchscript`. ``output`` may be left out: it is read from the model (a final softmax
        means probabilities); when stated, it must agree with the model.

    Returns
    -------
    Classifier
        Checked against the input shape the model declares and on a few probe inputs. A final softmax is run by
        the classifier instead of the module, so the module's scores are the model's logits.
    """
    from facesym.classifiers.keras import load_keras_model

    name = entry["name"]
    path = resolve_file(entry, "path", base_dir)
    try:
        model = load_keras_model(path, drop_final_softmax=True)
    except (KerasFileError, KeyError, OSError) as exc:
        raise entry_error(name, f"'path' file '{entry['path']}' cannot be read as a Keras model: {exc}") from exc
    in_file = "probabilities" if model.ends_in_softmax else "logits"
    stated = entry.get("output")
    if stated is not None and stated != in_file:
        raise entry_error(
            name,
            f"the key 'output' is '{stated}', but the Keras model's last layer "
            f"{'is' if model.ends_in_softmax else 'is not'} a softmax, so it returns {in_file}: set 'output: "
            f"{in_file}' or leave the key out",
        )
    spec = preprocessing_from_entry(entry)
    check_declared_input(name, spec.channels, spec.input_size, model.input_shape)
    model.to(device).eval()
    shape = (2, spec.channels, spec.input_size, spec.input_size)
    example = torch.randn(shape, generator=torch.Generator().manual_seed(0))
    forward = inference_graph_on_cpu(model, device, example.to(device), channels_last_on_cpu(model, device))
    classifier = _classifier({**entry, "output": model.returns}, _module_forward(name, forward), device, batch_size)
    _probe(classifier)
    return classifier
