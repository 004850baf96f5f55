"""Model files opened before any job: format, completeness, input shape and output count, each naming the file."""

import struct
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from keras_files import chain, write_model

from facesym.classifiers.entries import (
    ClassifierConfigError,
    check_model_file,
    check_trained_weights,
)
from facesym.classifiers.modelfiles import (
    ModelFileError,
    check_torch_archive,
    keras_output_count,
    read_header,
    read_keras_config,
)

FER = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
SIZE = 12

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.*` is deprecated:DeprecationWarning")


def _network(outputs: int = 7) -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(SIZE * SIZE, outputs)).eval()


def _entry(kind: str, path: str, classes: list[str] = FER) -> dict:
    return {
        "name": f"m_{kind}",
        "kind": kind,
        "path": path,
        "classes": classes,
        "input_size": SIZE,
        "color": "gray",
        "mean": [0.5],
        "std": [0.5],
    }


def _torchscript(path: Path, outputs: int = 7) -> Path:
    torch.jit.save(torch.jit.trace(_network(outputs), torch.zeros(2, 1, SIZE, SIZE)), path)
    return path


def _onnx(path: Path, outputs: int = 7) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            _network(outputs),
            (torch.zeros(2, 1, SIZE, SIZE),),
            path,
            dynamo=False,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
        )
    return path


def _truncate(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def test_a_text_file_given_as_torchscript_is_named_as_text(tmp_path):
    path = tmp_path / "model.pt"
    path.write_text("this is a README, not a model\n")
    with pytest.raises(ModelFileError, match=r"torch.jit.save writes a zip archive.*text, starting 'this is a READ"):
        check_torch_archive(path, scripted=True)
    with pytest.raises(ClassifierConfigError, match=r"entry 'm_torchscript': 'path' file 'model.pt' cannot be read"):
        check_model_file(_entry("torchscript", "model.pt"), path)


def test_truncated_and_state_dict_files_are_not_torchscript(tmp_path):
    truncated = _truncate(_torchscript(tmp_path / "cut.pt"))
    with pytest.raises(ModelFileError, match="incomplete .truncated.. or damaged"):
        check_torch_archive(truncated, scripted=True)
    weights = tmp_path / "weights.pt"
    torch.save(_network().state_dict(), weights)
    check_torch_archive(weights, scripted=False)
    with pytest.raises(ModelFileError, match=r"written by torch.save .* not by torch.jit.save"):
        check_torch_archive(weights, scripted=True)


def test_a_damaged_member_fails_its_checksum(tmp_path):
    path = _torchscript(tmp_path / "model.pt")
    data = bytearray(path.read_bytes())
    # overwrite bytes inside the largest member (the weights, stored uncompressed), leaving the directory intact
    with zipfile.ZipFile(path) as archive:
        info = max(archive.infolist(), key=lambda i: i.file_size)
    name_length, extra_length = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
    start = info.header_offset + 30 + name_length + extra_length
    data[start : start + 8] = bytes(255 - b for b in data[start : start + 8])
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="fails its checksum"):
        check_torch_archive(path, scripted=True)


def test_a_good_torchscript_file_is_loaded_and_its_output_count_checked(tmp_path):
    path = _torchscript(tmp_path / "model.pt")
    check_model_file(_entry("torchscript", "model.pt"), path)
    with pytest.raises(ClassifierConfigError) as error:
        check_model_file(_entry("torchscript", "model.pt", FER[:6]), path)
    assert "entry 'm_torchscript': 'path' file 'model.pt', run on a blank batch: " in str(error.value)
    assert "scores of shape (2, 7) for a batch of 2; expected (2, 6)" in str(error.value)


def test_onnx_header_states_input_and_output_count(tmp_path):
    path = _onnx(tmp_path / "model.onnx")
    header = read_header("onnx", path)
    assert (header.input, header.outputs) == ((1, SIZE, SIZE), 7)
    check_model_file(_entry("onnx", "model.onnx"), path)
    with pytest.raises(ClassifierConfigError, match=r"'model.onnx' returns 7 scores per image but 'classes' lists 6"):
        check_model_file(_entry("onnx", "model.onnx", FER[:6]), path)


def test_a_truncated_onnx_file_is_refused(tmp_path):
    path = _truncate(_onnx(tmp_path / "model.onnx"))
    with pytest.raises(ModelFileError, match="ONNX model"):
        read_header("onnx", path)
    with pytest.raises(ClassifierConfigError, match=r"'path' file 'model.onnx' cannot be read as an ONNX model"):
        check_model_file(_entry("onnx", "model.onnx"), path)


def _keras_weights(units: int) -> dict:
    return {
        "layer_0": [("kernel", np.zeros((3, 3, 1, units), np.float32)), ("bias", np.zeros(units, np.float32))],
    }


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        # mini-Xception's head: a convolution with one filter per class, global pooling, softmax
        (
            [("Conv2D", {"filters": 7, "kernel_size": [3, 3]}), ("GlobalAveragePooling2D", {}),
             ("Activation", {"activation": "softmax"})],
            7,
        ),
        ([("Flatten", {}), ("Dense", {"units": 5}), ("Dropout", {"rate": 0.5})], 5),
        ([("Dense", {"units": 5}), ("Flatten", {})], None),  # Flatten multiplies by the pixels: the file cannot say
    ],
)  # fmt: skip
def test_keras_output_count_follows_the_graph_back_to_the_layer_that_sets_it(layers, expected):
    assert keras_output_count(chain((SIZE, SIZE, 1), *layers)) == expected


def test_a_keras_file_with_another_output_count_stops_at_validation(tmp_path):
    model = chain((SIZE, SIZE, 1), ("Conv2D", {"filters": 6, "kernel_size": [3, 3]}), ("GlobalAveragePooling2D", {}))
    path = write_model(tmp_path / "model.h5", model, _keras_weights(6))
    assert keras_output_count(read_keras_config(path)) == 6
    with pytest.raises(ClassifierConfigError, match=r"'model.h5' returns 6 scores per image but 'classes' lists 7"):
        check_model_file(_entry("keras", "model.h5"), path)
    _truncate(path)
    with pytest.raises(ClassifierConfigError, match=r"'model.h5' cannot be read as a Keras HDF5 model.*not a complete"):
        check_model_file(_entry("keras", "model.h5"), path)


def test_damaged_trained_weights_name_the_file_and_the_command_that_rebuilds_them(tmp_path):
    weights = "results/classifiers/cnn.pt"
    (tmp_path / weights).parent.mkdir(parents=True)
    torch.save({"state_dict": _network().state_dict()}, tmp_path / weights)
    entry = {"name": "cnn", "kind": "embedded", "architecture": "cnn"}
    check_trained_weights(entry, weights, tmp_path)
    _truncate(tmp_path / weights)
    with pytest.raises(ClassifierConfigError) as error:
        check_trained_weights(entry, weights, tmp_path)
    assert "entry 'cnn': the trained weights 'results/classifiers/cnn.pt' cannot be read" in str(error.value)
    assert "rm results/classifiers/cnn.pt && snakemake --cores 1 results/classifiers/cnn.pt" in str(error.value)
