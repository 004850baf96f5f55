"""Every pipeline job is a new process: the renderer's kernels must come from numba's on-disk cache, not a compile."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

# Render one triangle in a fresh interpreter and report how the shaded kernel was obtained.
_PROBE = """
import json
import numpy as np
from facesym.render import render
from facesym.render.raster_numba import _shaded_kernel

vertices = np.array([[[-0.5, -0.5, 0.0], [0.5, -0.5, 0.0], [0.0, 0.5, 0.0]]], dtype=np.float32)
image = render(vertices, np.array([[0, 1, 2]]), np.full((3, 3), 0.8, dtype=np.float32), size=8, color="gray")
assert image.shape == (1, 1, 8, 8) and float(image.max()) > float(image.min())
stats = _shaded_kernel.stats
print(json.dumps({"hits": sum(stats.cache_hits.values()), "misses": sum(stats.cache_misses.values())}))
"""


def _probe(cache_dir: Path) -> dict[str, int]:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir), "PYTHONPATH": f"{SRC}{os.pathsep}"
           f"{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_second_process_loads_the_shaded_kernel_from_the_cache(tmp_path):
    first = _probe(tmp_path)
    assert first == {"hits": 0, "misses": 1}, "an empty cache must compile the kernel once"
    assert any(tmp_path.rglob("*.nbi")), "the compiled kernel was not written to NUMBA_CACHE_DIR"
    second = _probe(tmp_path)
    assert second == {"hits": 1, "misses": 0}, "a new process recompiled the renderer instead of loading its cache"
