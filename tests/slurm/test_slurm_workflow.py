"""The workflow on a real SLURM cluster, through the project's profile, gives the results of a local run.

The cluster (munged, slurmctld, slurmd on this machine) is started by the ``slurm_cluster`` fixture; the workflow is
run twice on the same tiny config and target list, once locally and once with ``--workflow-profile profiles/slurm``,
and the test checks that every job Snakemake did not run locally was executed inside a SLURM job, that SLURM ran
exactly the planned submissions (grouping included), and that the two result trees are identical.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
import yte
from workflow.conftest import REPO, Workflow
from workflow.test_interventions import TINY, chain

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]

# What both runs build: Table 2 and every per-job file it rests on, so the comparison covers classifier training,
# expression optimisation, surfaces, permutation tests and the aggregation. Both runs use exactly this config, the
# smallest the workflow allows with one embedded classifier.
TARGETS: tuple[str, ...] = tuple(chain(2))
TINY_CONFIG: dict = TINY

# Rules that render and classify ask the cluster for a GPU (rules/common.smk); the rest must not hold one.
GPU_RULES: frozenset[str] = frozenset({"expressions_and_surfaces"})

PROFILE = REPO / "profiles" / "slurm"

# Settings that only concern the throw-away test cluster, on top of the profile:
# - it has no accounting database, so sacct cannot report job states (squeue can: MinJobAge=300);
# - jobs here finish in seconds, so the first status check comes after 1 s instead of 40 s;
# - successful jobs' SLURM logs are kept so the test can read what ran inside them.
TEST_CLUSTER_OPTIONS: tuple[str, ...] = (
    "--slurm-keep-successful-logs",
    "--slurm-status-command", "squeue",
    "--slurm-init-seconds-before-status-checks", "1",
)  # fmt: skip

JOB_HEADER = re.compile(r"^(?P<indent>\s*)(?P<kind>localrule|rule) (?P<rule>\w+):\s*$")
GROUP_HEADER = re.compile(r"\] Group job (?P<group>\S+) \(")
SUBMITTED = re.compile(r"has been submitted with SLURM jobid (?P<id>\d+)")


def profile_settings() -> dict:
    """The profile as Snakemake reads it (rendered with YTE in the current environment)."""
    with open(PROFILE / "config.v8+.yaml", encoding="utf-8") as fh:
        return yte.process_yaml(fh, require_use_yte=True)


def slurm_options() -> tuple[str, ...]:
    """Command-line options of the SLURM run: the profile as it is, plus the test cluster's settings."""
    return ("--workflow-profile", str(PROFILE), *TEST_CLUSTER_OPTIONS)


def jobs_in_log(text: str) -> list[dict]:
    """The jobs a Snakemake log announces: rule, outputs, whether run locally and whether inside a group job."""
    jobs: list[dict] = []
    current: dict | None = None
    for line in text.splitlines():
        header = JOB_HEADER.match(line)
        if header:
            current = {
                "rule": header["rule"],
                "local": header["kind"] == "localrule",
                "grouped": bool(header["indent"]),
                "outputs": [],
            }
            jobs.append(current)
            continue
        stripped = line.strip()
        if current is not None and stripped.startswith("output: "):
            current["outputs"] = [p.strip() for p in stripped[len("output: ") :].split(",") if p.strip()]
        elif not line.startswith(" "):
            current = None
    return jobs


# Measurements of the run itself (how long training or a readability check took, how busy the machine was).
TIMINGS: frozenset[str] = frozenset(
    {"training_seconds", "training_cpu_seconds", "data_seconds", "check_seconds", "load_average"}
)


def without_timings(record: dict) -> dict:
    return {key: value for key, value in record.items() if key not in TIMINGS}


def assert_same_file(a: Path, b: Path) -> None:
    """Equal content: parsed for JSON and HDF5 (values, shapes, attributes), bytes for anything else."""
    if a.suffix == ".json":
        assert without_timings(json.loads(a.read_text())) == without_timings(json.loads(b.read_text())), a.name
    elif a.suffix in (".h5", ".hdf5"):
        with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
            assert_same_h5(fa, fb, a.name)
    else:
        assert a.read_bytes() == b.read_bytes(), f"{a.name} differs"


def assert_same_h5(x: h5py.Group, y: h5py.Group, where: str) -> None:
    assert sorted(x.attrs) == sorted(y.attrs), f"{where}{x.name}: attribute names differ"
    for key in x.attrs:
        assert np.array_equal(np.asarray(x.attrs[key]), np.asarray(y.attrs[key])), f"{where}{x.name}@{key} differs"
    if isinstance(x, h5py.Dataset):
        assert x.shape == y.shape and x.dtype == y.dtype, f"{where}{x.name}: shape or dtype differs"
        equal_nan = x.dtype.kind in "fc"
        assert np.array_equal(x[()], y[()], equal_nan=equal_nan), f"{where}{x.name}: values differ"
        return
    assert sorted(x) == sorted(y), f"{where}{x.name}: members differ"
    for name in x:
        assert_same_h5(x[name], y[name], where)


def result_files(root: Path) -> dict[str, Path]:
    base = root / "results"
    return {str(p.relative_to(root)): p for p in sorted(base.rglob("*")) if p.is_file()}


def test_slurm_run_matches_local_run(slurm_env, tmp_path):
    cluster = slurm_env
    (tmp_path / "slurm").mkdir()
    (tmp_path / "local").mkdir()
    on_slurm = Workflow(tmp_path / "slurm", TINY_CONFIG)
    local = Workflow(tmp_path / "local", TINY_CONFIG)
    known = {job["id"] for job in cluster.jobs()}

    started = time.monotonic()
    log = on_slurm.run(*TARGETS, extra=slurm_options()).stderr
    seconds = time.monotonic() - started
    local.run(*TARGETS)

    # What the main Snakemake process did: ran local jobs itself, submitted the rest (single jobs and group jobs).
    announced = jobs_in_log(log)
    remote = [job for job in announced if not job["local"]]
    assert remote, f"no job went through SLURM:\n{log}"
    remote_outputs = {path for job in remote for path in job["outputs"]}
    planned_submissions = sum(1 for job in remote if not job["grouped"]) + len(GROUP_HEADER.findall(log))
    submitted = SUBMITTED.findall(log)
    assert len(submitted) == planned_submissions, log

    # What SLURM did: exactly those submissions, all completed.
    jobs = [job for job in cluster.jobs() if job["id"] not in known]
    assert sorted(job["id"] for job in jobs) == sorted(submitted)
    assert {job["state"] for job in jobs} == {"COMPLETED"}, jobs
    assert {job["partition"] for job in jobs} == {"debug"}, "the cluster's default partition (SBATCH_PARTITION unset)"

    # GPUs: the training job (CPU only) held none; every other submission carries a rendering job and asked for one.
    assert any(job["rule"] in GPU_RULES for job in remote), "no rendering job went through SLURM"
    training = {job["id"] for job in jobs if job["comment"].startswith("rule_train_classifier")}
    wanting_gpu = {job["id"] for job in jobs if "gpu" in job["tres"]}
    assert training, jobs
    assert wanting_gpu == {job["id"] for job in jobs} - training, jobs

    # Inside the SLURM jobs: the job logs, written by slurmstepd on the node, name every non-local job's outputs.
    slurm_logs = sorted((on_slurm.root / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert len(slurm_logs) == len(jobs)
    ran_in_slurm = {path for f in slurm_logs for job in jobs_in_log(f.read_text()) for path in job["outputs"]}
    assert remote_outputs <= ran_in_slurm, f"not run inside a SLURM job: {sorted(remote_outputs - ran_in_slurm)}"

    # The same results as the local run, file by file.
    expected, got = result_files(local.root), result_files(on_slurm.root)
    assert expected, "the local run produced no results"
    assert sorted(got) == sorted(expected)
    for name in expected:
        assert_same_file(expected[name], got[name])
    for target in TARGETS:
        if "/" in target:
            assert on_slurm.path(target).is_file()

    print(
        f"\nSLURM run of {TARGETS}: {seconds:.1f} s wall, {len(jobs)} SLURM jobs for {len(remote)} workflow jobs "
        f"({len(announced) - len(remote)} run locally), {len(expected)} result files identical to the local run; "
        f"SLURM jobs: {[(job['comment'][:40], job['tres'], job['cpus']) for job in jobs]}"
    )


def test_profile_takes_account_and_partition_from_the_environment(monkeypatch):
    monkeypatch.delenv("SBATCH_ACCOUNT", raising=False)
    monkeypatch.delenv("SBATCH_PARTITION", raising=False)
    plain = profile_settings()
    assert plain["executor"] == "slurm"
    assert "slurm_account" not in plain["default-resources"]
    assert "slurm_partition" not in plain["default-resources"]

    monkeypatch.setenv("SBATCH_ACCOUNT", "proj42")
    monkeypatch.setenv("SBATCH_PARTITION", "gpu-a100")
    resources = profile_settings()["default-resources"]
    assert resources["slurm_account"] == "proj42"
    assert resources["slurm_partition"] == "gpu-a100"


def test_profile_groups_rules_of_the_workflow(tmp_path):
    # A renamed rule would silently drop out of its group (Snakemake ignores unknown names in --groups).
    grouped = set(profile_settings()["groups"])
    rules = set(Workflow(tmp_path, TINY_CONFIG).run(extra=("--list-rules",)).stdout.split())
    if not grouped & rules:
        pytest.skip(f"the grouped stages {sorted(grouped)} are not in the workflow yet")
    assert grouped <= rules, f"profiles/slurm groups rules the workflow does not have: {sorted(grouped - rules)}"


def test_no_default_profile_would_leak_cluster_settings_into_local_runs():
    # Snakemake loads profiles/default/ next to the Snakefile for every run, local ones included.
    assert not (REPO / "profiles" / "default").exists()
    assert not (REPO / "workflow" / "profiles" / "default").exists()


def test_dry_run_of_the_paper_config_under_the_profile(tmp_path):
    config = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
    wf = Workflow(tmp_path, config)
    result = wf.run("results/table2.csv", extra=("--workflow-profile", str(PROFILE), "--dry-run"))
    log = result.stdout + result.stderr
    jobs = jobs_in_log(log)
    by_rule: dict[str, int] = {}
    for job in jobs:
        by_rule[job["rule"]] = by_rule.get(job["rule"], 0) + 1
    chains = config["identities"]["count"] * len(config["classifiers"])
    assert by_rule == {
        "sample_identity": config["identities"]["count"],
        "train_classifier": len(config["classifiers"]),
        "check_classifier": len(config["classifiers"]),
        "classifier_checks": 1,
        "expressions_and_surfaces": chains,
        "permutation_test": chains,
        "aggregate_scores": 1,
    }
    # Each (classifier, identity) chain is one group component; the profile packs 10 into one submission.
    per_submission = profile_settings()["group-components"]["classifier_identity"]
    groups = len(GROUP_HEADER.findall(log))
    assert groups == -(-chains // per_submission)
    # Rendering jobs (one per chain, and the readability checks) ask for one GPU each; inside a group they run one
    # after another on the submission's GPU.
    gpu_requests = re.findall(r"resources: .*\bgpu=(\d+)", log)
    assert len(gpu_requests) == chains + by_rule["check_classifier"] and set(gpu_requests) == {"1"}
    submissions = groups + by_rule["train_classifier"] + by_rule["check_classifier"]
    print(f"\npaper config under the profile: {len(jobs)} jobs, {submissions} SLURM submissions ({groups} group jobs)")
