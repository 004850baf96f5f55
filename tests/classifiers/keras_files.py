"""Keras-format HDF5 model files written with h5py, and a NumPy reference of the layers they use.

The files follow what Keras 2 writes with ``model.save("x.h5")``: a ``model_config`` JSON attribute and a
``model_weights`` group with ``layer_names`` / ``weight_names`` attributes. The reference works channels-last
(NHWC) with explicit windows, independently of the torch code under test.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from scipy.special import softmax as sp_softmax


def layer(class_name: str, name: str, inbound: list[str] | None = None, **config: Any) -> dict[str, Any]:
    """A functional-model layer entry (Keras 2 format); ``inbound`` names the layers it is called on."""
    nodes = [] if inbound is None else [[[source, 0, 0, {}] for source in inbound]]
    return {"class_name": class_name, "name": name, "config": {"name": name, **config}, "inbound_nodes": nodes}


def functional(layers: list[dict[str, Any]], input_name: str, output_name: str) -> dict[str, Any]:
    return {
        "class_name": "Model",
        "config": {
            "name": "model_1",
            "layers": layers,
            "input_layers": [[input_name, 0, 0]],
            "output_layers": [[output_name, 0, 0]],
        },
    }


def chain(input_shape: tuple[int, int, int], *layers: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """A functional model: an InputLayer, then ``(class_name, config)`` layers one after another."""
    entries = [layer("InputLayer", "input_1", None, batch_input_shape=[None, *input_shape], dtype="float32")]
    for index, (class_name, config) in enumerate(layers):
        entries.append(layer(class_name, f"layer_{index}", [entries[-1]["name"]], **config))
    return functional(entries, "input_1", entries[-1]["name"])


def write_model(
    path: Path, model_config: dict[str, Any], weights: dict[str, list[tuple[str, np.ndarray]]], version: str = "2.0.5"
) -> Path:
    """Write a Keras HDF5 model file: ``weights`` maps a layer name to its ``(weight name, array)`` pairs in order."""
    config = model_config["config"]
    layers = config if isinstance(config, list) else config["layers"]
    names = [entry.get("name", entry["config"]["name"]) for entry in layers]
    with h5py.File(path, "w") as fh:
        fh.attrs["model_config"] = json.dumps(model_config).encode()
        fh.attrs["keras_version"] = version.encode()
        fh.attrs["backend"] = b"tensorflow"
        group = fh.create_group("model_weights")
        group.attrs["layer_names"] = np.array([n.encode() for n in names])
        for name in names:
            sub = group.create_group(name)
            pairs = weights.get(name, [])
            sub.attrs["weight_names"] = np.array([f"{name}_1/{w}:0".encode() for w, _ in pairs])
            for w, array in pairs:
                sub.create_dataset(f"{name}_1/{w}:0", data=np.asarray(array, dtype=np.float32))
    return path


# ----------------------------------------------------------------------------------------------------------------
# Reference: NHWC arrays, TensorFlow semantics written out window by window.


def same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's documented 'same' padding: out = ceil(in / stride), the extra pixel at the end."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def _windows(x, kh, kw, stride, padding, dilation=1, fill=0.0):
    """(positions, padded x): for every output pixel the top-left corner in the padded input."""
    b, h, w, c = x.shape
    if padding == "same":
        top, bottom = same_pads(h, kh, stride, dilation)
        left, right = same_pads(w, kw, stride, dilation)
    else:
        top = bottom = left = right = 0
    padded = np.full((b, h + top + bottom, w + left + right, c), fill, dtype=np.float64)
    padded[:, top : top + h, left : left + w] = x
    oh = (padded.shape[1] - (kh - 1) * dilation - 1) // stride + 1
    ow = (padded.shape[2] - (kw - 1) * dilation - 1) // stride + 1
    return oh, ow, padded, (top, left, h, w)


def conv(x, kernel, bias=None, stride=1, padding="valid", dilation=1):
    """Conv2D: ``kernel`` (kh, kw, in, out)."""
    kh, kw, _, cout = kernel.shape
    oh, ow, padded, _ = _windows(x, kh, kw, stride, padding, dilation)
    out = np.zeros((x.shape[0], oh, ow, cout))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    pixel = padded[:, i * stride + a * dilation, j * stride + b * dilation]  # (B, in)
                    out[:, i, j] += pixel @ kernel[a, b]
    return out if bias is None else out + bias


def depthwise(x, kernel, bias=None, stride=1, padding="valid"):
    """DepthwiseConv2D: ``kernel`` (kh, kw, in, multiplier); output channel ``c * multiplier + m``."""
    kh, kw, cin, mult = kernel.shape
    oh, ow, padded, _ = _windows(x, kh, kw, stride, padding)
    out = np.zeros((x.shape[0], oh, ow, cin * mult))
    for i in range(oh):
        for j in range(ow):
            for c in range(cin):
                for m in range(mult):
                    window = padded[:, i * stride : i * stride + kh, j * stride : j * stride + kw, c]
                    out[:, i, j, c * mult + m] = (window * kernel[:, :, c, m]).sum(axis=(1, 2))
    return out if bias is None else out + bias


def separable(x, depth_kernel, point_kernel, bias=None, stride=1, padding="valid"):
    out = depthwise(x, depth_kernel, None, stride, padding) @ point_kernel[0, 0]
    return out if bias is None else out + bias


def batchnorm(x, gamma, beta, mean, var, eps=1e-3):
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def pool(x, kind, size, stride, padding):
    """Max/average pooling; 'same' pads, and the average counts only pixels inside the image (TensorFlow)."""
    oh, ow, padded, (top, left, h, w) = _windows(x, size, size, stride, padding, fill=np.nan)
    out = np.zeros((x.shape[0], oh, ow, x.shape[3]))
    for i in range(oh):
        for j in range(ow):
            window = padded[:, i * stride : i * stride + size, j * stride : j * stride + size]
            out[:, i, j] = np.nanmax(window, axis=(1, 2)) if kind == "max" else np.nanmean(window, axis=(1, 2))
    return out


def flatten(x):
    return x.reshape(len(x), -1)


def softmax(x, axis=-1):
    return sp_softmax(x, axis=axis)


def relu(x):
    return np.maximum(x, 0.0)
