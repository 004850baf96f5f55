"""Real classifiers by file: TorchScript, ONNX and Python entry points, each checked against its config entry."""

import textwrap
import warnings
from pathlib import Path

import pytest
import torch

from facesym.classifiers import ClassifierConfigError, check_entry, load_classifier, model_files
from facesym.classifiers.base import Classifier
from facesym.classifiers.entries import Preprocessing

FER = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
SIZE = 12

MODEL_CODE = textwrap.dedent(
    f"""
    import torch


    def build(hidden=4):
        return torch.nn.Sequential(
            torch.nn.Conv2d(1, hidden, 3, padding=1),
            torch.nn.ReLU(),
            torch.nn.Flatten(),
            torch.nn.Linear(hidden * {SIZE} * {SIZE}, 7),
        )
    """
)


def _module() -> torch.nn.Module:
    torch.manual_seed(3)
    namespace: dict = {}
    exec(MODEL_CODE, namespace)
    return namespace["build"]().eval()


def _export(kind: str, module: torch.nn.Module, folder, batch: int | None = None) -> dict:
    """Write ``module`` as a model file of ``kind`` and return its config entry."""
    entry = {
        "name": f"tiny_{kind}",
        "kind": kind,
        "classes": FER,
        "input_size": SIZE,
        "color": "gray",
        "mean": [0.5],
        "std": [0.25],
    }
    example = torch.zeros(batch or 2, 1, SIZE, SIZE)
    if kind == "torchscript":
        torch.jit.save(torch.jit.trace(module, example), folder / "tiny.pt")
        entry["path"] = "tiny.pt"
    elif kind == "onnx":
        dynamic = None if batch else {"x": {0: "batch"}, "y": {0: "batch"}}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the legacy exporter needs no onnxscript
            torch.onnx.export(
                module,
                (example,),
                folder / "tiny.onnx",
                dynamo=False,
                input_names=["x"],
                output_names=["y"],
                dynamic_axes=dynamic,
            )
        entry["path"] = "tiny.onnx"
    else:
        (folder / "tinymodels.py").write_text(MODEL_CODE)
        torch.save(module.state_dict(), folder / "tiny_state.pt")
        entry.update(entry_point="tinymodels:build", weights="tiny_state.pt")
    return entry


KINDS = ["torchscript", "onnx", "python"]

# Writing TorchScript is deprecated in torch ≥ 2.9; the tests still have to produce files users already have.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.*` is deprecated:DeprecationWarning")


@pytest.mark.parametrize("kind", KINDS)
def test_loaded_model_agrees_with_the_module(kind, tmp_path):
    module = _module()
    entry = _export(kind, module, tmp_path)
    loaded = load_classifier(entry, base_dir=tmp_path)
    reference = Classifier("ref", FER, Preprocessing(SIZE, "gray", (0.5,), (0.25,)), module)
    images = torch.rand(9, 3, 24, 24)  # rgb at twice the size: the classifier converts and resizes
    assert loaded.emotion_indices == (0, 1, 2, 3, 5, 6)
    assert (loaded(images) - reference(images)).abs().max() <= 1e-5
    x = (torch.rand(5, 1, SIZE, SIZE) - 0.5) / 0.25
    with torch.no_grad():
        assert (loaded._forward(x) - module(x)).abs().max() <= 1e-5


def test_onnx_with_a_fixed_batch_size_runs_any_batch(tmp_path):
    module = _module()
    loaded = load_classifier(_export("onnx", module, tmp_path, batch=4), base_dir=tmp_path)
    reference = Classifier("ref", FER, Preprocessing(SIZE, "gray", (0.5,), (0.25,)), module)
    images = torch.rand(7, 1, SIZE, SIZE)
    assert (loaded(images) - reference(images)).abs().max() <= 1e-5


@pytest.mark.parametrize("kind", KINDS)
def test_missing_file_names_the_entry(kind, tmp_path):
    entry = _export(kind, _module(), tmp_path)
    key = "weights" if kind == "python" else "path"
    entry[key] = "models/absent.file"
    with pytest.raises(
        ClassifierConfigError, match=rf"entry 'tiny_{kind}': '{key}' file 'models/absent.file' does not"
    ):
        load_classifier(entry, base_dir=tmp_path)
    with pytest.raises(ClassifierConfigError, match=f"entry 'tiny_{kind}'"):
        check_entry(entry, base_dir=tmp_path)


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_class_count_names_the_entry(kind, tmp_path):
    entry = _export(kind, _module(), tmp_path)
    entry["classes"] = [c for c in FER if c != "neutral"]
    with pytest.raises(ClassifierConfigError, match=rf"entry 'tiny_{kind}'.*(7 outputs|\(2, 6\)).*6"):
        load_classifier(entry, base_dir=tmp_path)


@pytest.mark.parametrize("kind", KINDS)
def test_mismatched_input_size_names_the_entry(kind, tmp_path):
    entry = _export(kind, _module(), tmp_path)
    entry["input_size"] = 16
    with pytest.raises(ClassifierConfigError, match=rf"entry 'tiny_{kind}'.*'?input_size: 16"):
        load_classifier(entry, base_dir=tmp_path)


@pytest.mark.parametrize("kind", KINDS)
def test_mismatched_colour_names_the_entry(kind, tmp_path):
    entry = _export(kind, _module(), tmp_path)
    entry.update(color="rgb", mean=[0.5, 0.5, 0.5], std=[0.25, 0.25, 0.25])
    with pytest.raises(ClassifierConfigError, match=rf"entry 'tiny_{kind}'.*color: rgb"):
        load_classifier(entry, base_dir=tmp_path)


def test_normalisation_must_match_the_channels(tmp_path):
    entry = _export("torchscript", _module(), tmp_path)
    entry["mean"] = [0.5, 0.5]
    with pytest.raises(ClassifierConfigError, match="'mean' has 2 values but 'color: gray' has 1"):
        check_entry(entry)
    del entry["std"]
    with pytest.raises(ClassifierConfigError, match=r"needs the keys \['std'\]"):
        check_entry(entry)


def test_python_entry_point_errors_name_the_entry(tmp_path):
    entry = _export("python", _module(), tmp_path)
    with pytest.raises(ClassifierConfigError, match="entry 'tiny_python': cannot import 'entry_point'"):
        load_classifier({**entry, "entry_point": "tinymodels:absent"}, base_dir=tmp_path)
    with pytest.raises(ClassifierConfigError, match="entry 'tiny_python': 'weights' file .* does not fit"):
        load_classifier({**entry, "kwargs": {"hidden": 3}}, base_dir=tmp_path)
    torch.save({"state_dict": _module().state_dict(), "epoch": 3}, tmp_path / "checkpoint.pt")
    assert load_classifier({**entry, "weights": "checkpoint.pt"}, base_dir=tmp_path).n_classes == 7


def test_probability_outputs_are_not_softmaxed_twice(tmp_path):
    module = torch.nn.Sequential(_module(), torch.nn.Softmax(dim=1)).eval()
    entry = {**_export("torchscript", module, tmp_path), "output": "probabilities"}
    images = torch.rand(3, 1, SIZE, SIZE)
    reference = Classifier("ref", FER, Preprocessing(SIZE, "gray", (0.5,), (0.25,)), _module())
    assert (load_classifier(entry, base_dir=tmp_path)(images) - reference(images)).abs().max() <= 1e-5


def test_model_files_are_the_inputs_a_job_depends_on():
    assert model_files({"name": "cnn", "kind": "embedded"}, "out/cnn.pt") == ["out/cnn.pt"]
    assert model_files({"name": "m", "kind": "onnx", "path": "models/m.onnx"}, "out/m.pt") == ["models/m.onnx"]
    assert model_files({"name": "m", "kind": "python", "weights": "w.pt"}, "out/m.pt") == ["w.pt"]


def test_probabilities_declared_as_logits_stop_the_loading(tmp_path):
    # softmax twice would flatten every output towards uniform without a word: refuse it, naming the key
    module = torch.nn.Sequential(_module(), torch.nn.Softmax(dim=1)).eval()
    entry = _export("torchscript", module, tmp_path)
    with pytest.raises(
        ClassifierConfigError, match=r"entry 'tiny_torchscript': the key 'output' is 'logits'.*sum to 1"
    ):
        load_classifier(entry, base_dir=tmp_path)
    entry = {**_export("torchscript", _module(), tmp_path), "output": "probabilities"}
    with pytest.raises(ClassifierConfigError, match=r"the key 'output' is 'probabilities', but .* not"):
        load_classifier(entry, base_dir=tmp_path)


def test_wrong_input_size_of_an_onnx_file_stops_at_validation(tmp_path):
    from facesym.config import ConfigError, load_schema, validate_config

    schema = load_schema(Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml")
    entry = _export("onnx", _module(), tmp_path)
    validate_config({"seed": 1, "classifiers": [entry]}, schema, base_dir=tmp_path)
    with pytest.raises(
        ConfigError, match=rf"entry 'tiny_onnx': 'input_size: 24' but the model file's input is {SIZE}×{SIZE}"
    ):
        validate_config({"seed": 1, "classifiers": [{**entry, "input_size": 24}]}, schema, base_dir=tmp_path)
