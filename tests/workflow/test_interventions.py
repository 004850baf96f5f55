"""The synthetic-intervention experiment end to end on a tiny config: outputs, incrementality, resumability."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from facesym.emotions import EMOTIONS
from facesym.io import read_h5

from .conftest import REPO

pytestmark = pytest.mark.workflow

TINY = {
    "seed": 5,
    "identities": {"count": 2},
    "render": {"size": 48},
    "classifiers": [
        {"name": "tiny_cnn", "kind": "embedded", "architecture": "cnn", "width": 4, "depth": 1, "group": "symmetric"}
    ],
    "training": {"images_per_class": 6, "test_images_per_class": 2, "epochs": 1, "batch_size": 16},
    "expressions": {"population": 6, "generations": 2},
    "grid": {"symmetry_steps": 3, "time_steps": 2},
    # Holm over 3 identities needs K >= 299; the 1-epoch network reaches low probabilities: keep every identity
    "statistics": {"permutations": 400, "bootstrap": 50, "min_reached_probability": 0.0},
    "experiment1": {"probands": 2, "patients": 2, "repetitions": 1, "calibration_shuffles": 3},
    "readability": {"identities": 2, "png_size": 112},
}


def chain(n_identities: int) -> list[str]:
    """Table 2 and every per-job file it rests on, for the first ``n_identities`` identities."""
    jobs = [
        f"results/{stage}/tiny_cnn/id{i:04d}.h5" for stage in ("surfaces", "permutations") for i in range(n_identities)
    ]
    return ["results/table2.csv", *jobs]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One complete run of the tiny config, shared by the tests of this module (each copies what it changes)."""
    from .conftest import Workflow

    wf = Workflow(tmp_path_factory.mktemp("tiny"), TINY)
    wf.run(*chain(2))
    return wf


def test_tables_are_complete_and_finite(tiny_run):
    table2 = pd.read_csv(tiny_run.path("results/table2.csv"))
    assert table2["classifier"].tolist() == ["tiny_cnn"]
    assert table2["group"].tolist() == ["symmetric"]
    for emotion in EMOTIONS:
        assert math.isfinite(table2[emotion].iloc[0])
        assert table2[f"{emotion}_ci_low"].iloc[0] <= table2[emotion].iloc[0] <= table2[f"{emotion}_ci_high"].iloc[0]
    scores = pd.read_csv(tiny_run.path("results/scores.csv"))
    assert len(scores) == 2 * len(EMOTIONS)
    assert scores[["reached_probability", "score", "pvalue", "pvalue_holm"]].notna().all().all()
    assert scores["pvalue"].between(1 / 21, 1).all()
    s1 = pd.read_csv(tiny_run.path("results/table_s1.csv"))
    assert s1[list(EMOTIONS)].apply(lambda c: c.between(0, 1)).all().all()
    assert "\\begin{tabular}" in tiny_run.path("results/table2.tex").read_text()


def test_symmetry_specific_impact_is_the_paper_score_minus_the_intensity_matched_control(tiny_run):
    scores = pd.read_csv(tiny_run.path("results/scores.csv"))
    assert (scores["specific"] - (scores["score"] - scores["score_sham"])).abs().max() < 1e-5
    for column in ("pvalue_columns", "pvalue_joint", "pvalue_sham_columns", "pvalue_sham_joint"):
        assert scores[column].between(0, 1).all()
    assert not scores["flagged"].any()  # min_reached_probability: 0 keeps every identity
    specific = pd.read_csv(tiny_run.path("results/table2_specific.csv"))
    for emotion in EMOTIONS:
        rows = scores[scores["emotion"] == emotion]
        assert specific[emotion].iloc[0] == pytest.approx(rows["specific"].mean(), abs=1e-5)
        assert specific[f"{emotion}_sham"].iloc[0] == pytest.approx(rows["score_sham"].mean(), abs=1e-5)
    surfaces = read_h5(tiny_run.path("results/surfaces/tiny_cnn/id0000.h5"), kind="surfaces")
    # at s = 1 the control is the intervention itself
    assert abs(surfaces.data["softmax_sham"][:, -1] - surfaces.data["softmax"][:, -1]).max() < 1e-5
    assert surfaces.data["logits"].shape == surfaces.data["softmax"].shape  # the embedded networks give logits


def test_table2_is_the_mean_of_the_per_identity_scores(tiny_run):
    table2 = pd.read_csv(tiny_run.path("results/table2.csv")).set_index("classifier")
    for emotion_index, emotion in enumerate(EMOTIONS):
        per_identity = [
            read_h5(tiny_run.path(f"results/permutations/tiny_cnn/id000{i}.h5"), kind="permutations").data["score"][
                emotion_index
            ]
            for i in range(2)
        ]
        assert table2.loc["tiny_cnn", emotion] == pytest.approx(sum(per_identity) / 2, rel=1e-5, abs=1e-9)


def test_table2_shows_each_classifiers_readability_check(tiny_run):
    checks = pd.read_csv(tiny_run.path("results/classifier_checks.csv"))
    assert checks["classifier"].tolist() == ["tiny_cnn", "tiny_cnn"]
    assert checks["s"].tolist() == [1.0, 0.0]
    assert checks["n_identities"].tolist() == [2, 2]
    # 2 identities x 7 labels: accuracy is a multiple of 1/14
    assert all(abs(a * 14 - round(a * 14)) < 1e-3 for a in checks["accuracy"])
    table2 = pd.read_csv(tiny_run.path("results/table2.csv"))
    assert table2.columns[:3].tolist() == ["classifier", "group", "readability"]
    assert table2["readability"].iloc[0] == pytest.approx(checks["accuracy"].iloc[0], abs=1e-4)
    check = json.loads(tiny_run.path("results/classifiers/tiny_cnn_check.json").read_text())
    assert check["identities"] == ["check0000", "check0001"] and check["crop"] is None
    assert np.array(check["checks"][0]["confusion"]).shape == (7, 7)


def test_prototype_images_are_written_for_other_classifiers(tiny_run):
    tiny_run.run("results/prototypes/labels.csv")
    labels = pd.read_csv(tiny_run.path("results/prototypes/labels.csv"))
    assert len(labels) == 2 * 2 * 7
    assert labels.columns.tolist() == ["image", "label", "identity", "s"]
    assert all(tiny_run.path(f"results/prototypes/{image}").is_file() for image in labels["image"])
    info = json.loads(tiny_run.path("results/prototypes/prototypes.json").read_text())
    assert info["size"] == 112 and info["color"] == "rgb" and "unframed" in info["description"]


def test_surfaces_carry_their_axes_grid_and_provenance(tiny_run):
    surfaces = read_h5(tiny_run.path("results/surfaces/tiny_cnn/id0001.h5"), kind="surfaces")
    assert surfaces.axes["softmax"] == ("emotion", "s", "t", "class")
    assert surfaces.data["softmax"].shape[:3] == (6, 3, 2)
    assert surfaces.coords["s"].tolist() == [0.0, 0.5, 1.0]
    assert surfaces.coords["emotion"].tolist() == list(EMOTIONS)
    assert surfaces.attrs["config"]["grid"] == {"symmetry_steps": 3, "time_steps": 2}
    assert surfaces.attrs["facesym_version"]
    # every grid point holds a full softmax
    assert abs(surfaces.data["softmax"].sum(axis=-1) - 1).max() < 1e-4


def test_rerun_has_nothing_to_do_and_deleting_a_surface_recomputes_only_its_chain(tiny_run):
    assert tiny_run.planned_jobs(*chain(2)) == {}
    before = {p: p.stat().st_mtime_ns for p in tiny_run.path("results").rglob("*.h5")}
    tiny_run.path("results/surfaces/tiny_cnn/id0001.h5").unlink()
    assert tiny_run.planned_jobs(*chain(2)) == {
        "expressions_and_surfaces": 1,
        "permutation_test": 1,
        "aggregate_scores": 1,
    }
    tiny_run.run(*chain(2))
    assert tiny_run.planned_jobs(*chain(2)) == {}
    changed = {p for p, mtime in before.items() if p.stat().st_mtime_ns != mtime}
    # one job writes both of the identity's expressions and surfaces (the same φ^(e): the seed is the same)
    assert {p.relative_to(tiny_run.root).as_posix() for p in changed} == {
        "results/expressions/tiny_cnn/id0001.h5",
        "results/surfaces/tiny_cnn/id0001.h5",
        "results/permutations/tiny_cnn/id0001.h5",
    }


def test_adding_an_identity_adds_only_its_jobs(tiny_run):
    tiny_run.write_config({**TINY, "identities": {"count": 3}})
    try:
        assert tiny_run.planned_jobs(*chain(3)) == {
            "sample_identity": 1,
            "expressions_and_surfaces": 1,
            "permutation_test": 1,
            "aggregate_scores": 1,
        }
    finally:
        tiny_run.write_config(TINY)


def test_a_surfaces_file_copied_over_another_identitys_stops_the_run_naming_it(tiny_run):
    import shutil

    wrong = tiny_run.path("results/surfaces/tiny_cnn/id0001.h5")
    shutil.copyfile(tiny_run.path("results/surfaces/tiny_cnn/id0000.h5"), wrong)
    result = tiny_run.run(*chain(2), check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "results/surfaces/tiny_cnn/id0001.h5: its identity is 'id0000'" in output
    assert "expects 'id0001'" in output
    # the remedy the message names: delete the file and run the same command again
    wrong.unlink()
    tiny_run.run(*chain(2))
    assert read_h5(wrong, kind="surfaces").attrs["identity"] == "id0001"
    assert tiny_run.planned_jobs(*chain(2)) == {}


def test_killed_job_leaves_no_file_that_looks_complete(tmp_path):
    from .conftest import Workflow

    slow = {**TINY, "expressions": {"population": 6, "generations": 400}}
    wf = Workflow(tmp_path, slow)
    command = [
        sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path),
        "--configfile", str(wf.config_path), "--cores", "1", "results/expressions/tiny_cnn/id0000.h5",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    log = Path(tmp_path, "logs/synthesis/tiny_cnn/id0000.log")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (log.exists() and "generation 5" in log.read_text()):
        time.sleep(0.5)
    assert log.exists(), "the optimisation job never started"
    os.killpg(process.pid, signal.SIGKILL)  # the whole run, as a node failure would
    process.wait()
    target = tmp_path / "results/expressions/tiny_cnn/id0000.h5"
    assert not target.exists(), "an interrupted job left its output under the final name"

    # what a user does after a crash: release the dead run's lock, run again
    wf.write_config(TINY)
    wf.run(extra=("--unlock",))
    wf.run("results/expressions/tiny_cnn/id0000.h5")
    assert read_h5(target, kind="expressions").data["phi"].shape[0] == len(EMOTIONS)


def test_paper_config_plans_the_paper_scale(repo, tmp_path):
    command = [
        sys.executable, "-m", "snakemake", "results/table2.csv", "--snakefile", str(repo / "Snakefile"),
        "--directory", str(tmp_path), "--configfile", str(repo / "config" / "paper.yaml"), "--dry-run", "--quiet",
        "rules",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = (line.split() for line in result.stdout.splitlines())
    counts = {row[0]: int(row[1]) for row in rows if len(row) == 2 and row[1].isdigit()}
    n_classifiers = counts["train_classifier"]
    assert counts["expressions_and_surfaces"] == 200 * n_classifiers
    assert counts["permutation_test"] == 200 * n_classifiers
