"""The conda environment for cluster users must name the same packages as pyproject.toml."""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
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


def _fake_checkout(root: Path) -> Path:
    """A checkout with run.sh, the same pyproject.toml (so the venv's stamp matches) and a marker package."""
    (root / "src" / "facesym").mkdir(parents=True)
    (root / "src" / "facesym" / "__init__.py").write_text("CHECKOUT = 'the calling clone'\n")
    for name in ("run.sh", "pyproject.toml"):
        (root / name).write_bytes((REPO / name).read_bytes())
    (root / "run.sh").chmod(0o755)
    return root


def test_run_sh_takes_an_absolute_venv_and_imports_its_own_checkout(tmp_path):
    # A venv shared between clones (FACESYM_VENV=/abs/path) must run the calling clone's code, not the clone
    # whose editable install the venv holds.
    venv = Path(sys.prefix)
    stamp = venv / ".facesym-installed"
    if not stamp.exists():
        pytest.skip("not running inside a venv made by run.sh")
    clone = _fake_checkout(tmp_path / "clone")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")} | {"FACESYM_VENV": str(venv)}
    done = subprocess.run(
        ["./run.sh", "python", "-c", "import shutil, facesym; print(facesym.CHECKOUT); print(shutil.which('python'))"],
        cwd=clone, env=env, capture_output=True, text=True, check=True,
    )
    checkout, python = done.stdout.splitlines()
    assert checkout == "the calling clone"
    assert Path(python).parent == venv / "bin"
    assert "importing facesym from" in done.stderr
