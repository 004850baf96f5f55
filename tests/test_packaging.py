"""The conda environment for cluster users must name the same packages as pyproject.toml."""

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_conda_env_names_the_same_packages_as_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    env = yaml.safe_load((REPO / "envs" / "facesym.yaml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    named = {_name(d) for d in conda if not d.startswith(("python", "pip"))}
    named |= {_name(d) for d in pip if not d.startswith("-")}
    assert named == wanted


def test_torch_is_pinned_exactly_everywhere():
    # Any looser torch requirement pulls several GB of CUDA packages on a machine without torch.
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert "torch==2.13.0" in project["dependencies"]
    env = yaml.safe_load((REPO / "envs" / "facesym.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "torch==2.13.0" in pip
