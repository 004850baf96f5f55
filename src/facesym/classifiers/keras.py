"""Keras HDF5 classifiers (``kind: keras``) as torch modules, without TensorFlow or Keras.

A Keras ``model.save("x.h5")`` file holds its architecture as JSON (the ``model_config`` attribute) and its
weights under ``model_weights/<layer>/``. This module reads both with h5py and builds the same network from torch
operations, so a Keras classifier runs on the pipeline's device and, like every other classifier, is
differentiable with respect to its input (the gradient optimiser back-propagates through it).

Why a reader and not Keras 3 with its torch backend: Keras 3 is a large dependency that would pin the versions of
the project's numerical stack and changes how torch is configured on import, and its ONNX export of the FER2013
network failed; the networks published as Keras HDF5 files (mini-Xception and its relatives) use a small, stable
layer set whose arithmetic is fully specified, so a reader of a few hundred lines gives plain ``nn.Module`` s with
no new dependency. Keras 2 (2.0 to 2.15), tf.keras and Keras 3's legacy HDF5 format are read; Keras 3's ``.keras``
zip format is not (re-save such a model with ``model.save("x.h5")``).

Layout: tensors stay NCHW inside (the module takes ``(B, C, H, W)`` like every facesym classifier), so each layer
translates Keras' channels-last semantics: kernels are transposed, a Keras axis is mapped onto the NCHW axis, and
``Flatten`` orders features channels-last, as Keras does. ``padding="same"`` pads as TensorFlow does, the odd
pixel at the bottom/right (which matters with stride 2); pooling ignores the padded pixels.

Layers supported (channels-last only): InputLayer, Conv2D, SeparableConv2D, DepthwiseConv2D, BatchNormalization,
Dense, Activation, ReLU, LeakyReLU, Softmax, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D,
GlobalMaxPooling2D, Flatten, Dropout, SpatialDropout2D, GaussianNoise, GaussianDropout, Rescaling, ZeroPadding2D,
Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate. Any other layer stops the loading with a
:class:`~facesym.classifiers.modelfiles.KerasFileError` naming its class and name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from facesym.classifiers.modelfiles import KerasFileError, keras_input_shape, read_keras_config

__all__ = ["KerasModel", "load_keras_model", "read_keras_weights", "keras_graph", "KerasNode", "SUPPORTED_LAYERS"]

TensorRef = tuple[str, int]
"""A tensor in the Keras graph: (layer name, node index), node ``i`` being the layer's ``i``-th call."""


@dataclass(frozen=True)
class KerasNode:
    """One call of a Keras layer.

    Attributes
    ----------
    layer : str
        The layer's name (its weights group in the file).
    class_name : str
        The Keras class (``Conv2D``, ``Add``, ...).
    config : dict
        The layer's config from ``model_config``.
    index : int
        Which call of the layer this is (shared layers are called more than once).
    inputs : tuple of TensorRef
        The tensors it consumes, in order.
    """

    layer: str
    class_name: str
    config: dict[str, Any]
    index: int
    inputs: tuple[TensorRef, ...]


def _history(value: Any) -> list[TensorRef]:
    """Tensor references in a Keras 3 call's ``args`` (nested lists of ``__keras_tensor__`` dicts)."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            name, node, _ = value["config"]["keras_history"]
            return [(name, int(node))]
        return []
    if isinstance(value, list | tuple):
        return [ref for item in value for ref in _history(item)]
    return []


def _node_inputs(node: Any) -> tuple[TensorRef, ...]:
    if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
        return tuple(_history(node.get("args", [])))
    # Keras 2: [[layer, node_index, tensor_index, kwargs], ...]
    return tuple((str(ref[0]), int(ref[1])) for ref in node)


def _endpoints(value: Any) -> list[TensorRef]:
    # [[name, node, tensor], ...], or a single [name, node, tensor] (Keras 3 with one input)
    if value and isinstance(value[0], str):
        value = [value]
    return [(str(v[0]), int(v[1])) for v in value]


def keras_graph(model_config: dict[str, Any]) -> tuple[list[KerasNode], TensorRef, TensorRef]:
    """The calls of a Sequential or functional Keras model in an order in which each call's inputs exist.

    Parameters
    ----------
    model_config : dict
        As returned by :func:`facesym.classifiers.modelfiles.read_keras_config`.

    Returns
    -------
    nodes : list of KerasNode
        Topologically ordered; the model input is the InputLayer's node (or, for a Sequential model without an
        InputLayer, the first layer's input).
    input_ref, output_ref : TensorRef
        The model's single input and single output.

    Raises
    ------
    KerasFileError
        For models with several inputs or outputs, and for nested models.
    """
    class_name = model_config["class_name"]
    config = model_config["config"]
    layers = config if isinstance(config, list) else config["layers"]
    if class_name == "Sequential":
        nodes = []
        previous: TensorRef = ("__input__", 0)
        for layer in layers:
            name = layer["config"]["name"]
            nodes.append(KerasNode(name, layer["class_name"], layer["config"], 0, (previous,)))
            previous = (name, 0)
        return nodes, ("__input__", 0), previous
    if class_name not in ("Model", "Functional"):
        raise KerasFileError(f"the file holds a '{class_name}', not a Sequential or functional Keras model")
    inputs, outputs = _endpoints(config["input_layers"]), _endpoints(config["output_layers"])
    if len(inputs) != 1 or len(outputs) != 1:
        raise KerasFileError(
            f"the model has {len(inputs)} inputs and {len(outputs)} outputs; a classifier needs one image input and "
            "one score output"
        )
    pending = []
    for layer in layers:
        calls = layer.get("inbound_nodes") or [[]]
        for index, call in enumerate(calls):
            pending.append(
                KerasNode(
                    layer.get("name", layer["config"]["name"]),
                    layer["class_name"],
                    layer["config"],
                    index,
                    _node_inputs(call),
                )
            )
    ordered: list[KerasNode] = []
    done: set[TensorRef] = set()
    while pending:
        ready = [n for n in pending if all(ref in done for ref in n.inputs)]
        if not ready:
            missing = sorted({ref[0] for n in pending for ref in n.inputs if ref not in done})
            raise KerasFileError(f"the model's graph refers to layer outputs that no layer produces: {missing}")
        ordered += ready
        done |= {(n.layer, n.index) for n in ready}
        pending = [n for n in pending if (n.layer, n.index) not in done]
    return ordered, inputs[0], outputs[0]


def read_keras_weights(path: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """Every layer's weights, by layer name and weight name (``kernel``, ``bias``, ``gamma``, ...).

    Parameters
    ----------
    path : str or Path
        A Keras HDF5 model file.

    Returns
    -------
    dict
        ``{layer: {weight: array}}``, arrays in Keras' layout (a Conv2D kernel is ``(kh, kw, in, out)``).
    """
    weights: dict[str, dict[str, np.ndarray]] = {}
    with h5py.File(path, "r") as fh:
        group = fh["model_weights"] if "model_weights" in fh else fh
        for layer in group.attrs.get("layer_names", []):
            layer = layer.decode() if isinstance(layer, bytes) else str(layer)
            names = group[layer].attrs.get("weight_names", [])
            arrays = {}
            for full in names:
                full = full.decode() if isinstance(full, bytes) else str(full)
                arrays[full.rsplit("/", 1)[-1].split(":")[0]] = np.asarray(group[layer][full], dtype=np.float32)
            weights[layer] = arrays
    return weights


# ---------------------------------------------------------------------------------------------------------------
# Layers. Each takes NCHW (4-d) or (B, F) (2-d) tensors, matching Keras' NHWC / (B, F) semantics.


def _hard_sigmoid_keras2(x: torch.Tensor) -> torch.Tensor:
    return (0.2 * x + 0.5).clamp(0.0, 1.0)


_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "linear": lambda x: x,
    "relu": F.relu,
    "relu6": F.relu6,
    "elu": F.elu,
    "selu": F.selu,
    "gelu": F.gelu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softplus": F.softplus,
    "softsign": F.softsign,
    "swish": F.silu,
    "silu": F.silu,
    "exponential": torch.exp,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.2),
    "softmax": lambda x: x.softmax(dim=1),
    "hard_sigmoid": _hard_sigmoid_keras2,
}


def _activation_name(value: Any) -> str:
    if value is None:
        return "linear"
    if isinstance(value, dict):  # Keras 3 may serialise a built-in activation as {"config": "relu", ...}
        value = value.get("config") if isinstance(value.get("config"), str) else value.get("class_name")
    return str(value)


class _Activation(nn.Module):
    def __init__(self, name: str, keras_major: int) -> None:
        super().__init__()
        if name not in _ACTIVATIONS:
            raise KerasFileError(f"activation '{name}' is not supported (supported: {sorted(_ACTIVATIONS)})")
        self.name = name
        # Keras 3 redefined hard_sigmoid as relu6(x + 3) / 6.
        self.fn = (
            (lambda x: F.relu6(x + 3.0) / 6.0) if name == "hard_sigmoid" and keras_major >= 3 else _ACTIVATIONS[name]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)


def _pair(value: Any) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding of one axis: (before, after), the odd pixel after."""
    effective = (kernel - 1) * dilation + 1
    total = max((math.ceil(size / stride) - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def _pad_same(
    x: torch.Tensor, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int], value: float = 0.0
) -> torch.Tensor:
    top, bottom = _same_padding(x.shape[2], kernel[0], stride[0], dilation[0])
    left, right = _same_padding(x.shape[3], kernel[1], stride[1], dilation[1])
    if top == bottom == left == right == 0:
        return x
    return F.pad(x, (left, right, top, bottom), value=value)


class _Conv(nn.Module):
    """Conv2D / DepthwiseConv2D / SeparableConv2D: one grouped convolution, an optional pointwise one, bias, activation.

    Weights in torch layout: ``weight`` ``(out, in / groups, kh, kw)``, ``pointwise`` ``(out, in, 1, 1)``.
    """

    def __init__(
        self,
        weight: np.ndarray,
        groups: int,
        config: dict[str, Any],
        activation: _Activation,
        bias: np.ndarray | None,
        pointwise: np.ndarray | None = None,
    ) -> None:
        super().__init__()
        self.register_buffer("weight", torch.from_numpy(weight.copy()))
        self.register_buffer("pointwise", None if pointwise is None else torch.from_numpy(pointwise.copy()))
        self.register_buffer("bias", None if bias is None else torch.from_numpy(bias.copy()))
        self.groups = groups
        self.stride = _pair(config.get("strides", 1))
        self.dilation = _pair(config.get("dilation_rate", 1))
        self.same = config.get("padding", "valid") == "same"
        self.kernel = (weight.shape[2], weight.shape[3])
        self.activation = activation

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """The layer's output before its activation."""
        padding: tuple[int, int] = (0, 0)
        if self.same:
            top, bottom = _same_padding(x.shape[2], self.kernel[0], self.stride[0], self.dilation[0])
            left, right = _same_padding(x.shape[3], self.kernel[1], self.stride[1], self.dilation[1])
            if top == bottom and left == right:  # the convolution pads itself: no padded copy of the input
                padding = (top, left)
            else:
                x = F.pad(x, (left, right, top, bottom))
        bias = self.bias if self.pointwise is None else None
        x = F.conv2d(x, self.weight, bias, self.stride, padding, self.dilation, self.groups)
        if self.pointwise is not None:
            x = F.conv2d(x, self.pointwise, self.bias)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.pre_activation(x))


class _Dense(nn.Module):
    def __init__(self, kernel: np.ndarray, bias: np.ndarray | None, activation: _Activation) -> None:
        super().__init__()
        self.register_buffer("weight", torch.from_numpy(kernel.T.copy()))
        self.register_buffer("bias", None if bias is None else torch.from_numpy(bias.copy()))
        self.activation = activation

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """The layer's output before its activation."""
        if x.ndim != 2:
            raise KerasFileError(f"Dense on a {x.ndim}-d tensor is not supported (add Flatten or global pooling)")
        return F.linear(x, self.weight, self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.pre_activation(x))


class _Affine(nn.Module):
    """Inference-time BatchNormalization, ``x * scale + shift`` per channel; Rescaling with scalars."""

    def __init__(self, scale: np.ndarray, shift: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("scale", torch.from_numpy(np.asarray(scale, dtype=np.float32).reshape(-1)))
        self.register_buffer("shift", torch.from_numpy(np.asarray(shift, dtype=np.float32).reshape(-1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, -1) + (1,) * (x.ndim - 2)
        return x * self.scale.view(shape) + self.shift.view(shape)


def _ceil_pool_size(size: int, kernel: int, stride: int) -> int:
    """Output length of ``max_pool2d(..., ceil_mode=True)`` without padding (its last window starts inside)."""
    out = -(-(size - kernel) // stride) + 1
    return out - 1 if (out - 1) * stride >= size else out


class _Pool(nn.Module):
    def __init__(self, kind: str, config: dict[str, Any]) -> None:
        super().__init__()
        self.kind = kind
        self.pool = _pair(config.get("pool_size", 2))
        self.stride = _pair(config.get("strides") or self.pool)
        self.same = config.get("padding", "valid") == "same"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "max":
            if not self.same:
                return F.max_pool2d(x, self.pool, self.stride)
            # Maxima are exact, so pooling that pads by itself gives the same values without a padded copy.
            (top, bottom), (left, right) = (
                _same_padding(x.shape[axis], self.pool[i], self.stride[i], 1) for i, axis in enumerate((2, 3))
            )
            if top == bottom and left == right and 2 * top <= self.pool[0] and 2 * left <= self.pool[1]:
                return F.max_pool2d(x, self.pool, self.stride, (top, left))
            sizes = [(x.shape[axis], self.pool[i], self.stride[i]) for i, axis in enumerate((2, 3))]
            # padding after the end only: ceil_mode's clipped last windows
            if top == left == 0 and all(_ceil_pool_size(n, k, s) == math.ceil(n / s) for n, k, s in sizes):
                return F.max_pool2d(x, self.pool, self.stride, ceil_mode=True)
            return F.max_pool2d(_pad_same(x, self.pool, self.stride, (1, 1), value=-math.inf), self.pool, self.stride)
        if not self.same:
            return F.avg_pool2d(x, self.pool, self.stride)
        # TensorFlow averages over the pixels inside the image only: divide by the pooled count of real pixels.
        ones = torch.ones_like(x[:, :1])
        total = F.avg_pool2d(_pad_same(x, self.pool, self.stride, (1, 1)), self.pool, self.stride)
        count = F.avg_pool2d(_pad_same(ones, self.pool, self.stride, (1, 1)), self.pool, self.stride)
        return total / count


class _GlobalPool(nn.Module):
    def __init__(self, kind: str, keepdims: bool) -> None:
        super().__init__()
        self.kind = kind
        self.keepdims = keepdims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = (
            x.mean(dim=(2, 3), keepdim=self.keepdims)
            if self.kind == "avg"
            else x.amax(dim=(2, 3), keepdim=self.keepdims)
        )
        return out


class _Flatten(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Keras flattens (B, H, W, C): the channel index runs fastest.
        return (x.permute(0, 2, 3, 1) if x.ndim == 4 else x).flatten(1)


class _ZeroPad(nn.Module):
    def __init__(self, padding: Any) -> None:
        super().__init__()
        if isinstance(padding, int):
            padding = ((padding, padding), (padding, padding))
        elif isinstance(padding[0], int):
            padding = ((padding[0], padding[0]), (padding[1], padding[1]))
        (top, bottom), (left, right) = padding
        self.padding = (int(left), int(right), int(top), int(bottom))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, self.padding)


class _ReLU(nn.Module):
    """Keras' ReLU layer: ``max_value``, ``negative_slope`` below ``threshold``; LeakyReLU is the special case."""

    def __init__(self, max_value: float | None, negative_slope: float, threshold: float) -> None:
        super().__init__()
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.where(x >= self.threshold, x, self.negative_slope * (x - self.threshold))
        return out if self.max_value is None else out.clamp(max=self.max_value)


def _torch_axis(axis: int, ndim: int) -> int:
    """Keras (channels-last) axis of an ``ndim``-d tensor → the axis of its NCHW torch layout."""
    axis = axis % ndim
    if ndim != 4:
        return axis
    return {0: 0, 1: 2, 2: 3, 3: 1}[axis]


class _Softmax(nn.Module):
    def __init__(self, axis: int) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.softmax(dim=_torch_axis(self.axis, x.ndim))


class _Merge(nn.Module):
    def __init__(self, op: str, axis: int = -1) -> None:
        super().__init__()
        self.op, self.axis = op, axis

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        if self.op == "concatenate":
            return torch.cat(xs, dim=_torch_axis(self.axis, xs[0].ndim))
        if self.op == "subtract":
            return xs[0] - xs[1]
        out = xs[0]
        for x in xs[1:]:
            out = {
                "add": torch.add,
                "multiply": torch.mul,
                "average": torch.add,
                "maximum": torch.maximum,
                "minimum": torch.minimum,
            }[self.op](out, x)
        return out / len(xs) if self.op == "average" else out


class _Identity(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


_MERGES = {
    "Add": "add",
    "Subtract": "subtract",
    "Multiply": "multiply",
    "Average": "average",
    "Maximum": "maximum",
    "Minimum": "minimum",
    "Concatenate": "concatenate",
}
_IDENTITIES = (
    "InputLayer",
    "Dropout",
    "SpatialDropout2D",
    "GaussianNoise",
    "GaussianDropout",
    "ActivityRegularization",
)
SUPPORTED_LAYERS: tuple[str, ...] = (
    *_IDENTITIES,
    *_MERGES,
    "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "BatchNormalization", "Dense", "Activation", "ReLU", "LeakyReLU",
    "Softmax", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Flatten",
    "ZeroPadding2D", "Rescaling",
)  # fmt: skip
"""Keras layer classes :func:`load_keras_model` builds (``Convolution2D`` etc. are read as their Keras 2 names)."""

_ALIASES = {
    "Convolution2D": "Conv2D",
    "SeparableConvolution2D": "SeparableConv2D",
    "DepthwiseConvolution2D": "DepthwiseConv2D",
    "MaxPool2D": "MaxPooling2D",
    "AvgPool2D": "AveragePooling2D",
    "AveragePooling2D": "AveragePooling2D",
    "GlobalAvgPool2D": "GlobalAveragePooling2D",
    "GlobalMaxPool2D": "GlobalMaxPooling2D",
}


def _need(weights: dict[str, np.ndarray], key: str, node: KerasNode) -> np.ndarray:
    if key not in weights:
        raise KerasFileError(
            f"layer '{node.layer}' ({node.class_name}) has no weight '{key}' in the file (found {sorted(weights)})"
        )
    return weights[key]


def _build(node: KerasNode, weights: dict[str, np.ndarray], keras_major: int) -> nn.Module:
    """The torch module of one Keras layer, its weights converted to torch layouts."""
    cfg, cls = node.config, _ALIASES.get(node.class_name, node.class_name)
    if cls not in SUPPORTED_LAYERS:
        raise KerasFileError(
            f"layer '{node.layer}' is a {node.class_name}, which the Keras reader does not support (supported: "
            f"{', '.join(SUPPORTED_LAYERS)})"
        )
    if cfg.get("data_format") == "channels_first":
        raise KerasFileError(
            f"layer '{node.layer}' ({node.class_name}) uses data_format='channels_first'; only channels_last models "
            "are read"
        )
    activation = _Activation(_activation_name(cfg.get("activation")), keras_major)
    if cls == "Conv2D":
        kernel = _need(weights, "kernel", node)  # (kh, kw, in / groups, out)
        bias = weights.get("bias") if cfg.get("use_bias", True) else None
        return _Conv(kernel.transpose(3, 2, 0, 1), int(cfg.get("groups", 1)), cfg, activation, bias)
    if cls in ("DepthwiseConv2D", "SeparableConv2D"):
        depthwise = _need(weights, "depthwise_kernel", node)  # (kh, kw, in, multiplier)
        kh, kw, channels, multiplier = depthwise.shape
        # output channel c * multiplier + m, as in TensorFlow's depthwise convolution
        weight = depthwise.transpose(2, 3, 0, 1).reshape(channels * multiplier, 1, kh, kw)
        bias = weights.get("bias") if cfg.get("use_bias", True) else None
        pointwise = None
        if cls == "SeparableConv2D":
            pointwise = _need(weights, "pointwise_kernel", node).transpose(
                3, 2, 0, 1
            )  # (1, 1, in·m, out) → (out, in·m, 1, 1)
        return _Conv(weight, channels, cfg, activation, bias, pointwise)
    if cls == "BatchNormalization":
        axis = cfg.get("axis", -1)
        axis = axis[0] if isinstance(axis, list) else axis
        if axis not in (-1, 3):
            raise KerasFileError(
                f"layer '{node.layer}' (BatchNormalization) normalises axis {axis}; only the channel axis (-1) is read"
            )
        mean, var = _need(weights, "moving_mean", node), _need(weights, "moving_variance", node)
        gamma = weights.get("gamma", np.ones_like(mean)) if cfg.get("scale", True) else np.ones_like(mean)
        beta = weights.get("beta", np.zeros_like(mean)) if cfg.get("center", True) else np.zeros_like(mean)
        scale = gamma / np.sqrt(var + float(cfg.get("epsilon", 1e-3)))
        return _Affine(scale, beta - mean * scale)
    if cls == "Dense":
        bias = weights.get("bias") if cfg.get("use_bias", True) else None
        return _Dense(_need(weights, "kernel", node), bias, activation)
    if cls == "Activation":
        return activation
    if cls == "ReLU":
        max_value = cfg.get("max_value")
        return _ReLU(
            None if max_value is None else float(max_value),
            float(cfg.get("negative_slope", 0.0)),
            float(cfg.get("threshold", 0.0)),
        )
    if cls == "LeakyReLU":
        return _ReLU(None, float(cfg.get("negative_slope", cfg.get("alpha", 0.3))), 0.0)
    if cls == "Softmax":
        return _Softmax(int(cfg.get("axis", -1)))
    if cls in ("MaxPooling2D", "AveragePooling2D"):
        return _Pool("max" if cls == "MaxPooling2D" else "avg", cfg)
    if cls in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
        return _GlobalPool("avg" if cls == "GlobalAveragePooling2D" else "max", bool(cfg.get("keepdims", False)))
    if cls == "Flatten":
        return _Flatten()
    if cls == "ZeroPadding2D":
        return _ZeroPad(cfg.get("padding", 1))
    if cls == "Rescaling":
        return _Affine(np.asarray(cfg.get("scale", 1.0)), np.asarray(cfg.get("offset", 0.0)))
    if cls in _MERGES:
        return _Merge(_MERGES[cls], int(cfg.get("axis", -1)))
    return _Identity()


def _ends_in_softmax(node: KerasNode) -> bool:
    cls = _ALIASES.get(node.class_name, node.class_name)
    if cls == "Softmax":
        return int(node.config.get("axis", -1)) == -1
    return (
        cls in ("Activation", "Conv2D", "Dense", "SeparableConv2D", "DepthwiseConv2D")
        and _activation_name(node.config.get("activation")) == "softmax"
    )


class KerasModel(nn.Module):
    """A Keras model's graph of layers as a torch module.

    Parameters
    ----------
    nodes : list of KerasNode
        Topologically ordered calls (see :func:`keras_graph`).
    modules : list of nn.Module
        One per distinct layer name, in order of first appearance in ``nodes`` (shared layers share weights).
    input_ref, output_ref : TensorRef
        The model's input and output.
    input_shape : tuple
        ``(channels, height, width)`` the model declares (``None`` where any size is accepted).
    drop_final_softmax : bool
        If the model ends in a softmax, return the scores before it (logits) instead.

    Attributes
    ----------
    returns : {"probabilities", "logits"}
        What :meth:`forward` returns.
    ends_in_softmax : bool
        Whether the file's last layer is a softmax over the classes.

    Notes
    -----
    :meth:`forward` maps ``(B, C, H, W)`` float32 (NCHW, the Keras model's NHWC input transposed) to ``(B, K)``.
    """

    def __init__(
        self,
        nodes: Sequence[KerasNode],
        modules: Sequence[nn.Module],
        input_ref: TensorRef,
        output_ref: TensorRef,
        input_shape: tuple[int | None, int | None, int | None],
        drop_final_softmax: bool = False,
    ) -> None:
        super().__init__()
        names = list(dict.fromkeys(n.layer for n in nodes))
        slot = {name: i for i, name in enumerate(names)}
        self.layers = nn.ModuleList(modules)  # indexed, since Keras names need not be valid ModuleDict keys
        self.plan = [(slot[n.layer], (n.layer, n.index), n.inputs) for n in nodes]
        self.input_ref, self.output_ref = input_ref, output_ref
        self.input_shape = input_shape
        last = next(n for n in nodes if (n.layer, n.index) == output_ref)
        self.ends_in_softmax = _ends_in_softmax(last)
        self.drop_final_softmax = drop_final_softmax and self.ends_in_softmax
        self.returns = "logits" if self.drop_final_softmax or not self.ends_in_softmax else "probabilities"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tensors: dict[TensorRef, torch.Tensor] = {self.input_ref: x}
        for slot, ref, inputs in self.plan:
            if ref in tensors:  # the InputLayer of a functional model: its output is the model input
                continue
            layer = self.layers[slot]
            args = [tensors[i] for i in inputs]
            if ref == self.output_ref and self.drop_final_softmax:
                # the scores before the softmax: a Softmax/Activation layer's input, or a layer's pre-activation
                tensors[ref] = layer.pre_activation(*args) if hasattr(layer, "pre_activation") else args[0]
            else:
                tensors[ref] = layer(*args)
        return tensors[self.output_ref]


def load_keras_model(path: str | Path, *, drop_final_softmax: bool = False) -> KerasModel:
    """Build a torch module from a Keras HDF5 model file.

    Parameters
    ----------
    path : str or Path
        A Keras 2 / tf.keras / Keras 3 legacy ``.h5``/``.hdf5`` file saved with ``model.save``.
    drop_final_softmax : bool
        Return the scores before a final softmax (the model's logits). Probabilities are their softmax.

    Returns
    -------
    KerasModel
        In eval mode, on the CPU; maps ``(B, C, H, W)`` to ``(B, K)``; differentiable w.r.t. its input.

    Raises
    ------
    KerasFileError
        If the file holds no architecture, a layer is not supported (naming its class and name) or weights are
        missing.
    """
    model_config = read_keras_config(path)
    with h5py.File(path, "r") as fh:
        version = fh.attrs.get("keras_version", b"2")
    version = version.decode() if isinstance(version, bytes) else str(version)
    keras_major = int(version.split(".")[0]) if version[:1].isdigit() else 2
    nodes, input_ref, output_ref = keras_graph(model_config)
    height, width, channels = keras_input_shape(model_config)
    weights = read_keras_weights(path)
    modules: dict[str, nn.Module] = {}
    for node in nodes:
        if node.layer not in modules:
            modules[node.layer] = _build(node, weights.get(node.layer, {}), keras_major)
    model = KerasModel(
        nodes, list(modules.values()), input_ref, output_ref, (channels, height, width), drop_final_softmax
    )
    return model.eval()
