"""Fixtures for the SLURM tests: one real single-node cluster per test module, stopped afterwards."""

from __future__ import annotations

import os

import pytest

from .cluster import LocalSlurm, SlurmUnavailable


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    """A running single-node SLURM cluster (munged, slurmctld, slurmd) in a temporary folder.

    Skips, with the reason, where SLURM is not installed or cannot start; the daemons are always stopped by their
    PIDs when the module's tests are done.
    """
    cluster = LocalSlurm(tmp_path_factory.mktemp("slurm"))
    try:
        cluster.start()
    except SlurmUnavailable as error:
        pytest.skip(f"SLURM is not available on this machine: {error}")
    except RuntimeError as error:
        pytest.skip(f"SLURM is installed but could not be started here: {error}")
    try:
        yield cluster
    finally:
        cluster.stop()
        assert not cluster.running_daemons(), f"daemons still running: {cluster.running_daemons()}"
        assert not cluster.stray_processes(), "job processes of the test cluster outlived it"


@pytest.fixture
def slurm_env(slurm_cluster, monkeypatch):
    """Point every SLURM client of this test (and the jobs it submits) at the test cluster, and only at it.

    The user's own SLURM settings are removed: SBATCH_ACCOUNT/SBATCH_PARTITION would be read by the profile and by
    sbatch, and SLURM_JOB_ID (when the tests themselves run inside a SLURM job) would make the executor strip every
    SLURM_* variable, SLURM_CONF included.
    """
    for name in list(os.environ):
        if name.startswith(("SLURM_", "SBATCH_", "SRUN_", "SALLOC_", "SNAKEMAKE_SLURM")):
            monkeypatch.delenv(name)
    for name, value in slurm_cluster.env().items():
        monkeypatch.setenv(name, value)
    return slurm_cluster
