"""What a model file is and declares about its input and output, read without loading torch or running the model.

The workflow calls :func:`read_header` while it validates the config, so that a file of the wrong format, a
truncated file, or an ``input_size``, ``color`` or ``classes`` that does not fit the model stops the run before
any job, not in the first job that loads the model. Keras HDF5 (the ``model_config`` attribute) and ONNX (the
graph's input and output dimensions) state their shapes in the header; files written by ``torch.save`` and
``torch.jit.save`` are zip archives whose structure and checksums are checked here (what a TorchScript module
returns is only known by running it, which :func:`facesym.classifiers.entries.check_model_file` does).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "ModelFileError",
    "KerasFileError",
    "Header",
    "read_keras_config",
    "keras_input_shape",
    "keras_output_count",
    "read_onnx_header",
    "check_torch_archive",
    "read_header",
]


class ModelFileError(ValueError):
    """A file that cannot be read as the model format it is given as; the message says what is wrong with it."""


class KerasFileError(ModelFileError):
    """A file is not a Keras HDF5 model this project can read; the message names the file and what is missing."""


@dataclass(frozen=True)
class Header:
    """What a model file states about itself.

    Attributes
    ----------
    input : tuple or None
        ``(channels, height, width)``, each an int or ``None`` where the model takes any value; ``None`` when the
        file does not say.
    outputs : int or None
        Number of scores the model returns per image (the length of ``classes``), ``None`` when the file does not
        say.
    """

    input: tuple[int | None, int | None, int | None] | None = None
    outputs: int | None = None


def _describe_start(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(16)
    if not head:
        return "the file is empty"
    if head.startswith(b"\x89HDF"):
        return "it is an HDF5 file"
    if all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        return f"it is text, starting {head.decode('ascii')!r}"
    return f"it starts with the bytes {head!r}"


def read_keras_config(path: str | Path) -> dict[str, Any]:
    """The architecture of a Keras HDF5 model: the JSON of its ``model_config`` attribute.

    Parameters
    ----------
    path : str or Path
        A file written by Keras' ``model.save("x.h5")`` (Keras 2, tf.keras, or Keras 3's legacy HDF5 format).

    Returns
    -------
    dict
        ``{"class_name": "Functional" | "Model" | "Sequential", "config": {...}}``.

    Raises
    ------
    KerasFileError
        If the file is not HDF5 or holds weights only (``save_weights``), which carry no architecture.
    """
    import h5py

    try:
        with h5py.File(path, "r") as fh:
            raw = fh.attrs.get("model_config")
    except OSError as exc:
        raise KerasFileError(f"'{path}' is not a complete HDF5 file ({_describe_start(Path(path))}): {exc}") from exc
    if raw is None:
        raise KerasFileError(
            f"'{path}' has no 'model_config' attribute: it holds weights only (model.save_weights); save the whole "
            "model with model.save('model.h5')"
        )
    return json.loads(raw.decode() if isinstance(raw, bytes) else raw)


def _layers(model_config: dict[str, Any]) -> list[dict[str, Any]]:
    config = model_config["config"]
    # Keras 2.0/2.1 wrote a Sequential model's config as the bare list of its layers.
    return config if isinstance(config, list) else config["layers"]


def keras_input_shape(model_config: dict[str, Any]) -> tuple[int | None, int | None, int | None]:
    """Input ``(height, width, channels)`` a Keras model declares (``None`` where the model accepts any size).

    Parameters
    ----------
    model_config : dict
        As returned by :func:`read_keras_config`.

    Raises
    ------
    KerasFileError
        If no layer declares the input shape or the input is not an image ``(batch, H, W, C)``.
    """
    for layer in _layers(model_config):
        cfg = layer["config"]
        shape = cfg.get("batch_input_shape") or cfg.get("batch_shape")
        if shape is not None:
            if len(shape) != 4:
                raise KerasFileError(
                    f"the model's input has shape {shape}, not an image (batch, height, width, channels)"
                )
            return shape[1], shape[2], shape[3]
    raise KerasFileError("no layer of the model declares its input shape (batch_input_shape / batch_shape)")


# Layers whose output has as many channels (last axis) as their first input: the output count is found further up.
_KEEPS_CHANNELS = frozenset(
    {
        "Activation", "Softmax", "ReLU", "LeakyReLU", "ELU", "PReLU", "ThresholdedReLU", "Dropout",
        "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "BatchNormalization",
        "LayerNormalization", "GlobalAveragePooling2D", "GlobalAvgPool2D", "GlobalMaxPooling2D", "GlobalMaxPool2D",
        "MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D", "Rescaling", "ZeroPadding2D", "Add",
        "Subtract", "Multiply", "Average", "Maximum", "Minimum",
    }
)  # fmt: skip
_SETS_CHANNELS = {"Dense": "units", "Conv2D": "filters", "Convolution2D": "filters", "SeparableConv2D": "filters"}


def _first_source(call: Any) -> str | None:
    """Name of the layer whose output a Keras layer call reads first (Keras 2 lists, Keras 3 ``args`` dicts)."""
    if isinstance(call, dict):
        if call.get("class_name") == "__keras_tensor__":
            return str(call["config"]["keras_history"][0])
        for value in call.get("args", []) if "args" in call else call.values():
            found = _first_source(value)
            if found is not None:
                return found
        return None
    if isinstance(call, list | tuple) and call:
        if isinstance(call[0], str):  # Keras 2: [layer, node, tensor, kwargs]
            return call[0]
        return _first_source(call[0])
    return None


def keras_output_count(model_config: dict[str, Any]) -> int | None:
    """Scores per image a Keras model returns, when its layers state it (``None`` when they do not).

    Follows the output back through layers that keep the channel count (activations, pooling, dropout, ...)
    to the ``Dense`` or convolution that sets it.

    Parameters
    ----------
    model_config : dict
        As returned by :func:`read_keras_config`.
    """
    layers = _layers(model_config)
    names = [layer.get("name", layer["config"].get("name")) for layer in layers]
    if not layers:
        return None
    if model_config["class_name"] == "Sequential":
        source = dict(zip(names[1:], names[:-1], strict=True))
        name = names[-1]
    else:
        source = {n: _first_source(layer.get("inbound_nodes") or []) for n, layer in zip(names, layers, strict=True)}
        outputs = model_config["config"].get("output_layers") or [[None]]
        name = outputs[0] if isinstance(outputs[0], str) else outputs[0][0]
    by_name = dict(zip(names, layers, strict=True))
    for _ in layers:  # bounded: a graph read from a file may hold a cycle
        layer = by_name.get(name)
        if layer is None:
            return None
        if layer["class_name"] in _SETS_CHANNELS:
            value = layer["config"].get(_SETS_CHANNELS[layer["class_name"]])
            return value if isinstance(value, int) else None
        if layer["class_name"] not in _KEEPS_CHANNELS:
            return None
        name = source.get(name)
    return None


def read_onnx_header(path: str | Path) -> tuple[tuple[int | str | None, ...], tuple[int | str | None, ...]]:
    """Dimensions of an ONNX graph's first input ``(B, C, H, W)`` and first output ``(B, K)``.

    A symbolic dimension is its name, or ``None``. The graph is parsed and checked (``onnx.checker``), so a
    truncated or foreign file is refused here.

    Raises
    ------
    ModelFileError
        If the file does not parse as an ONNX model or fails the checker.
    ImportError
        If the ``onnx`` package is not installed.
    """
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf's DecodeError and friends share no base class but Exception
        raise ModelFileError(
            f"it does not parse as an ONNX model (a truncated download, or another format): {exc}"
        ) from exc
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelFileError(f"it is not a valid ONNX model (a truncated or damaged file?): {first}") from exc
    graph = model.graph
    initialisers = {init.name for init in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initialisers]
    if not inputs or not graph.output:
        raise ModelFileError("the ONNX graph has no input or no output")

    def dims(value: Any) -> tuple[int | str | None, ...]:
        return tuple(
            d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in value.type.tensor_type.shape.dim
        )

    return dims(inputs[0]), dims(graph.output[0])


_ZIP = b"PK\x03\x04"
_LEGACY_TORCH = b"\x80\x02\x8a\x0a"  # pickle protocol 2, then the long torch.save writes before its data (< 1.6)


def check_torch_archive(path: str | Path, *, scripted: bool) -> None:
    """Check that a file is a complete archive written by ``torch.jit.save`` or ``torch.save``.

    Reads the zip archive's directory and checks every member's CRC (the file is read once, nothing is unpickled),
    so a truncated or damaged file is found without torch.

    Parameters
    ----------
    path : str or Path
        The file.
    scripted : bool
        ``True``: a TorchScript module (``torch.jit.save``); ``False``: ``torch.save`` output, where files from
        torch before 1.6 (a plain pickle, not a zip archive) are accepted unchecked.

    Raises
    ------
    ModelFileError
        Saying what the file is instead: not an archive (text, HDF5, ...), truncated or damaged, or a
        ``torch.save`` file given as TorchScript.
    """
    path = Path(path)
    writer = "torch.jit.save" if scripted else "torch.save"
    with path.open("rb") as fh:
        head = fh.read(4)
    if head != _ZIP:
        if not scripted and head == _LEGACY_TORCH:
            return
        raise ModelFileError(f"{writer} writes a zip archive and this file is not one: {_describe_start(path)}")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ModelFileError(f"the zip archive is incomplete (truncated?) or damaged: {exc}") from exc
    if damaged is not None:
        raise ModelFileError(f"the zip archive is damaged: member '{damaged}' fails its checksum")
    if not any(name.endswith("/data.pkl") or name == "data.pkl" for name in names):
        raise ModelFileError(f"the zip archive holds no data.pkl, so {writer} did not write it")
    if scripted and not any("/code/" in name or name.endswith("constants.pkl") for name in names):
        raise ModelFileError(
            "it was written by torch.save (weights or a pickled module), not by torch.jit.save: export the model "
            "with torch.jit.save(torch.jit.script(model), path) (or torch.jit.trace), or use kind: python"
        )


def read_header(kind: str, path: str | Path) -> Header:
    """What a model file of a config entry's ``kind`` states, after checking it is a complete file of that kind.

    Parameters
    ----------
    kind : str
        The config entry's ``kind``: ``keras``, ``onnx``, ``torchscript`` or ``python`` (its ``weights`` file).
    path : str or Path
        The model file (must exist).

    Returns
    -------
    Header
        Input shape and output count where the format states them (Keras, ONNX); empty for TorchScript and
        ``torch.save`` files.

    Raises
    ------
    ModelFileError
        If the file is not a complete file of that kind.
    ImportError
        For ONNX files when the ``onnx`` package is not installed.
    """
    if kind == "keras":
        model_config = read_keras_config(path)
        height, width, channels = keras_input_shape(model_config)
        return Header((channels, height, width), keras_output_count(model_config))
    if kind == "onnx":
        inputs, outputs = read_onnx_header(path)
        shape = None
        if len(inputs) == 4:
            shape = tuple(d if isinstance(d, int) and d > 0 else None for d in inputs[1:])
        count = outputs[-1] if len(outputs) >= 2 and isinstance(outputs[-1], int) and outputs[-1] > 0 else None
        return Header(shape, count)  # type: ignore[arg-type]
    if kind in ("torchscript", "python"):
        check_torch_archive(path, scripted=kind == "torchscript")
    return Header()
