"""config/catalogue.yaml: every entry for the paper's classifiers is a valid config entry that loads."""

import warnings

import pytest
import torch
import yaml

from facesym.classifiers import load_classifier
from facesym.config import load_schema, validate_config
from facesym.emotions import EMOTIONS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def catalogue(repo):
    return yaml.safe_load((repo / "config" / "catalogue.yaml").read_text())["classifiers"]


def _stand_in(entry: dict, folder) -> None:
    """A tiny ONNX graph with the entry's input shape and class count where the entry expects the model."""
    channels = 1 if entry["color"] == "gray" else 3
    network = torch.nn.Sequential(
        torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten(), torch.nn.Linear(4 * channels, len(entry["classes"]))
    ).eval()
    path = folder / entry["path"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            network, (torch.zeros(2, channels, entry["input_size"], entry["input_size"]),), str(path), dynamo=False,
            input_names=["x"], output_names=["logits"], dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}},
        )  # fmt: skip


def test_the_catalogue_names_the_papers_classifiers(catalogue):
    names = {entry["name"] for entry in catalogue}
    for family in ("dan", "ddamfn", "hsemotion", "poster_v2", "residual_masking_net", "emonext", "segmentation_vgg19"):
        assert any(name.startswith(family) for name in names), family


def test_every_catalogue_entry_validates_and_loads(catalogue, repo, tmp_path):
    schema = load_schema(repo / "workflow" / "schemas" / "config.schema.yaml")
    for entry in catalogue:
        _stand_in(entry, tmp_path)
    # the schema, the class maps and the declared input of each (stand-in) file, as before a run
    config = validate_config({"seed": 1, "classifiers": catalogue}, schema, base_dir=tmp_path)
    for entry in config["classifiers"]:
        classifier = load_classifier(entry, base_dir=tmp_path)
        happy = classifier.emotion_indices[EMOTIONS.index("happy")]
        assert classifier.classes[happy] in ("happy", "happiness"), entry["name"]
        assert classifier.input_size == entry["input_size"]
