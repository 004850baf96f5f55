"""`snakemake results/deepfn/table.csv` on a tiny config."""

import pandas as pd
import pytest
from workflow.conftest import Workflow

from deepfn.conftest import small_render, tiny_deepfn

pytestmark = pytest.mark.workflow


def test_tiny_deepfn_run_writes_the_table_figures_and_symmetry(tmp_path):
    # minimal on purpose: the test checks the wiring of the jobs, not what the models learn (tests of their own)
    config = small_render(
        protocol={"train_subjects": 2, "validation_subjects": 1, "repetitions": 2},
        recogniser={"epochs": 1},
        autoencoder={"iterations": 2, "width": 1, "latent": 4, "batch_size": 4},
        symmetry={"steps": 2, "onset_steps": 1},
    )
    flow = Workflow(tmp_path, config)
    flow.run("results/deepfn/table.csv")
    table = pd.read_csv(flow.path("results/deepfn/table.csv"))
    assert list(table["condition"].unique()) == ["person", "skin", "face_shape", "dataset", "palsy"]
    assert set(table["normalisation"]) == {"none", "deepfn"}
    assert table["within"].between(0, 100).all() and (table["units"] > 0).all()
    assert table.loc[table["condition"] == "skin", "units"].tolist() == [4, 4]  # 2 repetitions x 2 groups
    symmetry = pd.read_csv(flow.path("results/deepfn/symmetry.csv"))
    assert set(symmetry["normalisation"]) == {"none", "deepfn"} and "all" in set(symmetry["au"])
    for name in ("fig_groups.png", "examples.png"):
        assert flow.path(f"results/deepfn/{name}").stat().st_size > 1000
    # the experiment is not part of the main job
    assert "deepfn_corpus" not in flow.planned_jobs()


def test_too_few_subjects_for_the_protocol_stop_before_any_job(tmp_path):
    config = tiny_deepfn(subjects=8, protocol={"train_subjects": 4, "validation_subjects": 2})
    result = Workflow(tmp_path, config).run("results/deepfn/table.csv", extra=("--dry-run",), check=False)
    assert result.returncode != 0 and "deepfn.subjects" in result.stdout + result.stderr
