"""Experiment 1 end to end with snakemake: the synthetic cohort, a TorchScript classifier, Table 1 and calibration."""

import pandas as pd
import pytest
import torch
import yaml

from facesym.emotions import EMOTIONS

pytestmark = [pytest.mark.workflow, pytest.mark.filterwarnings("ignore:`torch.jit.*` is deprecated:DeprecationWarning")]

FER = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
TARGETS = (
    "results/table1.csv", "results/experiment1/accuracy.csv", "results/experiment1/calibration.csv"
)  # fmt: skip
# The classifier is called "accuracy" on purpose: its outputs and the accuracy table must not share a path.
NAME = "accuracy"
PREDICTIONS = f"results/experiment1/classifiers/{NAME}/predictions.csv"
TESTS = f"results/experiment1/classifiers/{NAME}/tests.csv"


def export_classifier(folder) -> dict:
    """A small fixed network as a TorchScript file, so the run needs no training; returns its config entry."""
    torch.manual_seed(0)
    network = torch.nn.Sequential(
        torch.nn.AdaptiveAvgPool2d(6), torch.nn.Flatten(), torch.nn.Linear(36, 7), torch.nn.Tanh()
    ).eval()
    torch.jit.save(torch.jit.trace(network, torch.rand(2, 1, 48, 48)), folder / "tiny.pt")
    return {
        "name": NAME,
        "kind": "torchscript",
        "path": "tiny.pt",
        "classes": FER,
        "input_size": 48,
        "color": "gray",
        "mean": [0.5],
        "std": [0.25],
        "group": "user models",
    }


def tiny_config(folder) -> dict:
    return {
        "seed": 9,
        "render": {"size": 48},
        "classifiers": [export_classifier(folder)],
        "experiment1": {"probands": 2, "patients": 2, "repetitions": 1, "calibration_shuffles": 3},
    }


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from .conftest import Workflow

    root = tmp_path_factory.mktemp("experiment1")
    wf = Workflow(root, tiny_config(root))
    wf.run(*TARGETS)
    return wf


def test_tables_say_synthetic_and_have_the_papers_layout(tiny_run):
    table1 = pd.read_csv(tiny_run.path("results/table1.csv"), index_col=0)
    assert table1.columns.tolist() == [NAME]
    # the synthetic cohort's true s is recorded per image but not tested: the paper's two rows
    assert table1.index.tolist() == ["training set", "cohort", "face QC excluded", "palsy", "symmetry"]
    assert table1.loc["face QC excluded", NAME] == "0 of 24"  # faces: given (synthetic renders)
    assert table1.loc["training set", NAME] == "user models"
    assert table1.loc["cohort", NAME] == "synthetic"
    assert set(table1.loc[["palsy", "symmetry"], NAME]) <= {"✓", "✗"}
    for path in (PREDICTIONS, TESTS, "results/experiment1/calibration.csv"):
        assert (pd.read_csv(tiny_run.path(path))["cohort"] == "synthetic").all(), path


def test_outputs_per_image_and_per_test(tiny_run):
    predictions = pd.read_csv(tiny_run.path(PREDICTIONS))
    assert len(predictions) == 4 * len(EMOTIONS)
    assert predictions["image"].str.startswith("results/experiment1/cohort/images/").all()
    assert set(predictions["group"]) == {"proband", "patient"}
    assert (predictions[[f"p_{e}" for e in EMOTIONS]].sum(axis=1) <= 1 + 1e-5).all()
    assert predictions["s"].between(0, 1).all()
    tests = pd.read_csv(tiny_run.path(TESTS))
    # two properties × (three tests + the vote), and for palsy (one value per subject) the subject permutation
    assert len(tests) == 2 * 4 + 1
    assert tests.loc[tests["test"] == "subject permutation", "property"].tolist() == ["palsy"]
    assert tests["p_value"].dropna().between(0, 1).all() and (tests["n"] == 24).all()
    calibration = pd.read_csv(tiny_run.path("results/experiment1/calibration.csv"))
    # (tests + vote) for the symmetry shuffle and for palsy's shuffle and placebo; the placebo also rates the
    # subject permutation
    assert (calibration["n_shuffles"] == 3).all() and len(calibration) == 3 * 4 + 1
    assert calibration.loc[calibration["test"] == "subject permutation", "null"].tolist() == ["subject placebo"]
    accuracy = pd.read_csv(tiny_run.path("results/experiment1/accuracy.csv"))
    whole = accuracy[accuracy["palsy_side"].isna()]
    assert set(whole["group"]) == {"proband", "patient"} and (whole["n_images"] == 12).all()
    subjects = pd.read_csv(tiny_run.path("results/experiment1/cohort/subjects.csv"))
    assert subjects["subject"].tolist() == ["proband01", "proband02", "patient01", "patient02"]
    # the synthetic cohort knows each patient's palsy side: one row per side with patients, 6 images each
    patients = subjects[subjects["palsy"] == 1]
    by_side = accuracy[accuracy["palsy_side"].notna()]
    assert (by_side["group"] == "patient").all()
    assert set(by_side["palsy_side"]) == set(patients["weak_side"])
    for side, rows in by_side.groupby("palsy_side"):
        assert (rows["n_images"] == 6 * (patients["weak_side"] == side).sum()).all()


def test_rerun_is_empty_and_a_test_setting_reruns_only_the_tests(tiny_run):
    assert tiny_run.planned_jobs(*TARGETS) == {}
    config = yaml.safe_load(tiny_run.config_path.read_text())
    changed = {**config, "experiment1": {**config["experiment1"], "alpha": 0.02}}
    tiny_run.write_config(changed)
    try:
        assert tiny_run.planned_jobs(*TARGETS) == {
            "experiment1_tests": 1,
            "experiment1_calibration": 1,
            "table1": 1,
            "experiment1_calibration_table": 1,
        }
    finally:
        tiny_run.write_config(config)


def test_bad_user_manifest_stops_before_any_job_naming_the_row(tmp_path):
    from .conftest import Workflow

    config = tiny_config(tmp_path)
    (tmp_path / "cohort.csv").write_text(
        "image,subject,label,group,palsy\n" + "".join(f"face{i}.png,s{i},happy,proband,{i % 2}\n" for i in range(12))
    )
    (tmp_path / "cohort.yaml").write_text("properties: {palsy: binary}\n")
    wf = Workflow(tmp_path, {**config, "experiment1": {"cohort": "cohort.csv"}})
    result = wf.run(*TARGETS, check=False)
    assert result.returncode != 0
    assert "line 2: image 'face0.png' not found" in result.stderr + result.stdout
    assert not (tmp_path / "results").exists()
