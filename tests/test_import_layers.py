"""The package's layering: scripts -> pipeline -> science -> base, never upward (tools/import_layers.py)."""

import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parent.parent / "tools" / "import_layers.py"


def test_no_module_imports_a_layer_above_its_own():
    run = subprocess.run([sys.executable, str(TOOL)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "== layer 3: pipeline" in run.stdout and "no upward import" in run.stdout


def test_an_upward_import_is_reported_and_fails(tmp_path, monkeypatch):
    sys.path.insert(0, str(TOOL.parent))
    try:
        import import_layers
    finally:
        sys.path.pop(0)
    edges = import_layers.graph()
    assert not import_layers.violations(edges)
    edges["facesym.stats.score"] = {"facesym.pipeline.statistics"}
    edges["scripts/x.py"] = {"facesym.stats"}
    found = import_layers.violations(edges)
    assert any("facesym.stats.score (science) imports facesym.pipeline.statistics (pipeline)" in f for f in found)
    assert any("scripts/x.py (scripts) imports facesym.stats" in f for f in found)
