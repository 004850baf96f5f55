"""Run the real workflow with snakemake in a temporary directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


class Workflow:
    """A temporary working directory with its own config, in which snakemake runs the project's Snakefile."""

    def __init__(self, root: Path, config: dict):
        self.root = root
        self.config_path = root / "config.yaml"
        self.write_config(config)

    def write_config(self, config: dict) -> None:
        self.config_path.write_text(yaml.safe_dump(config))

    def run(self, *targets: str, extra: tuple[str, ...] = (), check: bool = True) -> subprocess.CompletedProcess:
        command = [
            sys.executable, "-m", "snakemake",
            "--snakefile", str(REPO / "Snakefile"),
            "--directory", str(self.root),
            "--configfile", str(self.config_path),
            "--cores", "2",
            *targets,
            *extra,  # after the targets: options such as --quiet take a variable number of values
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, cwd=self.root)
        if check and result.returncode != 0:
            raise AssertionError(f"snakemake failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def planned_jobs(self, *targets: str) -> dict[str, int]:
        """Jobs a dry run would execute, by rule name (empty when there is nothing to do)."""
        output = self.run(*targets, extra=("--dry-run", "--quiet", "rules")).stdout
        jobs: dict[str, int] = {}
        in_table = False
        for line in output.splitlines():
            parts = line.split()
            if parts[:2] == ["job", "count"]:
                in_table = True
                continue
            if in_table and len(parts) == 2 and parts[1].isdigit() and parts[0] not in ("total",):
                jobs[parts[0]] = int(parts[1])
        return jobs

    def path(self, relative: str) -> Path:
        return self.root / relative


@pytest.fixture
def workflow_factory(tmp_path):
    def make(config: dict) -> Workflow:
        return Workflow(tmp_path, config)

    return make
