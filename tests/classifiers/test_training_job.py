import json
import subprocess
import sys
import textwrap

import pytest
import torch

from facesym.classifiers import EMBEDDED_CLASSES, load_classifier
from facesym.pipeline.training import train_classifier_job

CONFIG = {
    "seed": 11,
    "training": {
        "images_per_class": 3,
        "test_images_per_class": 2,
        "epochs": 2,
        "batch_size": 8,
        "learning_rate": 0.002,
    },
    "identities": {"shape_dim": 20, "appearance_dim": 6, "lighting_dim": 4},
    "render": {"size": 32, "color": "gray", "backend": "numba"},
    "face_model": {"kind": "procedural", "left_side": "+x", "midline_band": 6.0},
}
ENTRY = {"name": "tiny", "kind": "embedded", "architecture": "cnn", "width": 4, "depth": 1, "input_size": 32}
TIMES = ("training_seconds", "training_cpu_seconds", "data_seconds", "load_average")


def _run(folder, entry=ENTRY):
    folder.mkdir()
    metrics = train_classifier_job(
        classifier_entry=entry, config=CONFIG, weights_output=folder / "w.pt", metrics_output=folder / "m.json"
    )
    return metrics, folder


def _run_in_a_process(folder):
    """Train as a pipeline job does: in a fresh process (a second training in one process can differ in the last
    bits, because torch's CPU kernels warm up on the first one)."""
    folder.mkdir()
    code = textwrap.dedent(f"""
        import json, torch
        from facesym.pipeline.training import train_classifier_job
        torch.set_num_threads(1)
        train_classifier_job(classifier_entry={ENTRY!r}, config={CONFIG!r},
                             weights_output={str(folder / "w.pt")!r}, metrics_output={str(folder / "m.json")!r})
    """)
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return json.loads((folder / "m.json").read_text()), folder


def test_job_writes_weights_and_metrics_deterministically(tmp_path):
    first, a = _run_in_a_process(tmp_path / "a")
    second, b = _run_in_a_process(tmp_path / "b")
    assert {k: v for k, v in first.items() if k not in TIMES} == {k: v for k, v in second.items() if k not in TIMES}
    written = json.loads((a / "m.json").read_text())
    assert written["test"] == first["test"]
    assert written["classes"] == list(EMBEDDED_CLASSES)
    assert set(written["test"]) == {"accuracy", "per_class", "confusion", "mean_true_probability", "n"}
    assert written["test"]["n"] == written["test_s0"]["n"] == 14 and written["n_train"] == 21
    assert len(written["losses"]) == 2 and written["training_seconds"] > 0
    assert written["seed"] != written["data_seed"] and written["asymmetry_augmentation"] is False
    assert not list(a.glob(".*tmp*")), "no temporary file is left behind"
    wa = torch.load(a / "w.pt", weights_only=True)["state_dict"]
    wb = torch.load(b / "w.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    classifier = load_classifier(ENTRY, weights=a / "w.pt")
    assert classifier.classes == EMBEDDED_CLASSES


def test_the_control_trains_on_the_same_data_with_augmented_symmetry(tmp_path):
    plain, _ = _run(tmp_path / "plain")
    control, _ = _run(tmp_path / "control", {**ENTRY, "name": "control", "asymmetry_augmentation": True})
    assert control["asymmetry_augmentation"] is True and control["augmentation_sides"] == "both"
    assert control["data_seed"] == plain["data_seed"] and control["seed"] != plain["seed"]
    assert set(control["test_s0_right"]) == set(control["test_s0"])  # both frozen halves are measured


def test_a_one_sided_control_must_be_named_and_a_wrong_value_is_an_error(tmp_path):
    from facesym.classifiers.data import augmentation_sides

    assert augmentation_sides(False) is None and augmentation_sides(True) == "both"
    assert augmentation_sides("left") == "left"
    with pytest.raises(ValueError, match="asymmetry_augmentation"):
        augmentation_sides("yes")


def test_a_framed_embedded_classifier_trains_and_is_measured_on_its_crop(tmp_path):
    from facesym.classifiers.framing import classifier_crop
    from facesym.face import build_procedural_model

    framing = {"scale": 0.6, "center": [0.5, 0.6]}
    framed, folder = _run(tmp_path / "framed", {**ENTRY, "framing": framing})
    plain, _ = _run(tmp_path / "plain")
    model = build_procedural_model()
    crop = classifier_crop({"framing": framing}, model)
    assert framed["crop"] == crop.to_json() and plain["crop"] is None
    # same data and seeds: only the crop differs, and the network learns from it
    assert framed["seed"] == plain["seed"]
    assert abs(framed["losses"][0] - plain["losses"][0]) > 1e-3
    classifier = load_classifier({**ENTRY, "framing": framing}, weights=folder / "w.pt", face_model=model)
    assert classifier.crop == crop
