"""What a model file declares about its input, read without loading torch or running the model.

The workflow calls :func:`declared_input` while it validates the config, so that an ``input_size`` or ``color``
that does not fit the model stops the run before any job, not in the first job that loads the model. Only
formats whose header states the input cheaply are read: Keras HDF5 (the ``model_config`` attribute) and ONNX (the
graph's input dimensions). TorchScript and Python entries are checked when a job loads them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["KerasFileError", "read_keras_config", "keras_input_shape", "onnx_input_shape", "declared_input"]


class KerasFileError(ValueError):
    """A file is not a Keras HDF5 model this project can read; the message names the file and what is missing."""


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
        raise KerasFileError(f"'{path}' is not an HDF5 file: {exc}") from exc
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


def onnx_input_shape(path: str | Path) -> tuple[int | str | None, ...]:
    """Dimensions ``(B, C, H, W)`` of an ONNX graph's first input; a symbolic dimension is its name or ``None``."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    initialisers = {init.name for init in graph.initializer}
    first = next(i for i in graph.input if i.name not in initialisers)
    return tuple(
        d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in first.type.tensor_type.shape.dim
    )


def declared_input(kind: str, path: str | Path) -> tuple[int | None, int | None, int | None] | None:
    """Input ``(channels, height, width)`` a model file declares, or ``None`` for kinds that do not say cheaply.

    Parameters
    ----------
    kind : str
        The config entry's ``kind``.
    path : str or Path
        The model file (must exist).

    Returns
    -------
    tuple or None
        Each element an int, or ``None`` where the model takes any size.
    """
    if kind == "keras":
        height, width, channels = keras_input_shape(read_keras_config(path))
        return channels, height, width
    if kind == "onnx":
        dims = onnx_input_shape(path)
        if len(dims) != 4:
            return None
        return tuple(d if isinstance(d, int) and d > 0 else None for d in dims[1:])  # type: ignore[return-value]
    return None
