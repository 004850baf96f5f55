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

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]

# What both runs build. Switch to ("results/table2.csv",) once the stages up to Table 2 exist: the comparison below
# then covers classifier training, expression optimisation, surfaces, permutation tests and the aggregation.
TARGETS: tuple[str, ...] = ("all",)

# As small as the workflow allows; both runs use exactly this config.
TINY_CONFIG: dict = {"seed": 20241208, "identities": {"count": 3}}

# Rules declared `localrule: True` that this test nevertheless sends through SLURM, bundled two components per job.
# Today the identity stage is the only stage and it is a localrule, so without this nothing would reach the cluster.
# A rule in a group is submitted even when it is a localrule (Snakemake: only ungrouped localrules run on the host).
FORCED_GROUPS: dict[str, str] = {"sample_identity": "identities"}
FORCED_GROUP_COMPONENTS: dict[str, int] = {"identities": 2}

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
    """Command-line options of the SLURM run: the profile, the test cluster's settings and the forced groups."""
    # --groups and --group-components on the command line replace the profile's values: merge them here
    profile = profile_settings()
    groups = {**profile.get("groups", {}), **FORCED_GROUPS}
    components = {**profile.get("group-components", {}), **FORCED_GROUP_COMPONENTS}
    # both options take any number of values: an option with one value must follow them, or the targets after
    # these options would be read as more groups
    return (
        "--workflow-profile", str(PROFILE),
        *(("--groups", *(f"{rule}={group}" for rule, group in groups.items())) if groups else ()),
        *(("--group-components", *(f"{g}={n}" for g, n in components.items())) if components else ()),
        *TEST_CLUSTER_OPTIONS,
    )  # fmt: skip


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


def assert_same_file(a: Path, b: Path) -> None:
    """Equal content: parsed for JSON and HDF5 (values, shapes, attributes), bytes for anything else."""
    if a.suffix == ".json":
        assert json.loads(a.read_text()) == json.loads(b.read_text()), f"{a.name} differs"
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
        f"({len(announced) - len(remote)} run locally), {len(expected)} result files identical to the local run"
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


def test_dry_run_of_the_largest_config_under_the_profile(tmp_path):
    # config/paper.yaml is the paper's scale once it exists; until then the embedded default is the largest config.
    paper = REPO / "config" / "paper.yaml"
    config_path = paper if paper.is_file() else REPO / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    wf = Workflow(tmp_path, config)
    result = wf.run(*TARGETS, extra=("--workflow-profile", str(PROFILE), "--dry-run"))
    assert "Job stats:" in result.stdout + result.stderr
    planned = wf.planned_jobs(*TARGETS)
    assert planned, "the dry run plans no job"
