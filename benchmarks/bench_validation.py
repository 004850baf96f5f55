"""What validation before any job costs: the wall time of a dry run (`snakemake -n`), before and after a change.

Two working directories are built in a temporary folder:

- ``default``: the repository's ``config/config.yaml`` (and the fetched FER2013 model, when the repository has
  it under ``resources/``, so that its header is read as in a user's checkout);
- ``manifest``: the same, with ``experiment1.cohort`` set to a manifest of ``--images`` PNG images (256 × 256 RGB
  noise, about 200 kB each, seeded), which validation now opens one by one.

Each (tree, case) pair is run ``--repeats`` times, interleaved, so that the trees see the same machine load; a
tree is a checkout (its ``Snakefile`` and ``src/``). Beside the dry run's wall time, the parse-time checks of
``rules/common.smk`` (``validate_config``, ``check_cohort_config``) are timed inside one process, apart from the
imports. Usage (repository root)::

    git worktree add /tmp/before <commit>     # or: mkdir /tmp/before && git archive <commit> | tar -x -C /tmp/before
    ./run.sh python benchmarks/bench_validation.py --before /tmp/before
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
FER2013 = Path("resources/fer2013/emotion_model.hdf5")


def _workdir(root: Path, images: int) -> Path:
    root.mkdir(parents=True)
    (root / "config").mkdir()
    shutil.copy(REPO / "config" / "config.yaml", root / "config" / "config.yaml")
    if (REPO / FER2013).is_file():
        (root / FER2013).parent.mkdir(parents=True)
        shutil.copy(REPO / FER2013, root / FER2013)
    user: dict = {}
    if images:
        rng = np.random.default_rng(0)
        (root / "images").mkdir()
        rows = ["image,subject,label,group,palsy"]
        for i in range(images):
            Image.fromarray(rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)).save(root / "images" / f"{i}.png")
            rows.append(f"images/{i}.png,s{i // 10:03d},happy,{'patient' if i // 10 % 2 else 'proband'},{i // 10 % 2}")
        (root / "cohort.csv").write_text("\n".join(rows) + "\n")
        (root / "cohort.yaml").write_text("properties: {palsy: binary}\n")
        user = {"experiment1": {"cohort": "cohort.csv"}}
    (root / "user.yaml").write_text(yaml.safe_dump(user or {"seed": 20241208}))
    return root


def _dry_run(tree: Path, workdir: Path) -> float:
    command = [
        sys.executable, "-m", "snakemake", "--snakefile", str(tree / "Snakefile"), "--directory", str(workdir),
        "--cores", "1", "--dry-run", "--quiet", "--configfile", str(workdir / "user.yaml"),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=workdir)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"dry run of {tree} in {workdir} failed:\n{result.stderr[-3000:]}")
    return seconds


# The parse-time checks of rules/common.smk, timed inside one process (imports apart): what a dry run spends on
# validation, without the DAG and Snakemake's start-up, whose noise on a loaded machine is larger than the checks.
_VALIDATION = """
import sys, time
from pathlib import Path
import yaml
start = time.perf_counter()
from facesym.cohort.checks import check_cohort_config
from facesym.config import load_schema, validate_config
from facesym.resources import RESOURCES, check_placed
imported = time.perf_counter()
config = yaml.safe_load(open("config/config.yaml"))
for key, value in yaml.safe_load(open("user.yaml")).items():  # Snakemake's merge, one level deep
    config[key] = {**config[key], **value} if isinstance(value, dict) and key in config else value
schema = load_schema(Path(sys.argv[1]) / "workflow" / "schemas" / "config.schema.yaml")
check_placed(RESOURCES["fer2013"], "resources/fer2013/emotion_model.hdf5")
validated = validate_config(config, schema, base_dir=Path.cwd(), provided={"resources/fer2013/emotion_model.hdf5"})
check_cohort_config(validated, Path.cwd())
print(imported - start, time.perf_counter() - imported, "torch" in sys.modules)
"""


def _validation_only(tree: Path, workdir: Path) -> tuple[float, float, bool]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    result = subprocess.run(
        [sys.executable, "-c", _VALIDATION, str(tree)], capture_output=True, text=True, env=env, cwd=workdir
    )
    if result.returncode != 0:
        raise SystemExit(f"validation of {workdir} with {tree} failed:\n{result.stderr[-3000:]}")
    imports, checks, torch = result.stdout.split()
    return float(imports), float(checks), torch == "True"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="checkout of the code to compare with")
    parser.add_argument("--after", type=Path, default=REPO, help="checkout under test (default: this one)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--images", type=int, default=200)
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    with tempfile.TemporaryDirectory() as folder:
        cases = {"default": _workdir(Path(folder) / "default", 0)}
        cases[f"manifest of {args.images} images"] = _workdir(Path(folder) / "manifest", args.images)
        times: dict[tuple[str, str], list[float]] = {(t, c): [] for t in trees for c in cases}
        checks: dict[tuple[str, str], list[tuple[float, float, bool]]] = {(t, c): [] for t in trees for c in cases}
        for workdir in cases.values():
            for tree in trees.values():
                _dry_run(tree, workdir)  # warm the file cache and Python's bytecode cache
        for _ in range(args.repeats):
            for case, workdir in cases.items():
                for name, tree in trees.items():
                    times[name, case].append(_dry_run(tree, workdir))
                    checks[name, case].append(_validation_only(tree, workdir))
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'case':<26} {'tree':<7} {'dry run median (s)':>18} {'min':>6} {'max':>6}   {'checks (s)':>10} "
          f"{'imports (s)':>11}  torch imported")  # fmt: skip
    for (name, case), values in times.items():
        inside = checks[name, case]
        print(
            f"{case:<26} {name:<7} {statistics.median(values):>18.2f} {min(values):>6.2f} {max(values):>6.2f}   "
            f"{statistics.median(c for _, c, _ in inside):>10.3f} {statistics.median(i for i, _, _ in inside):>11.3f}"
            f"  {inside[0][2]}"
        )
    for case in cases:
        before, after = statistics.median(times["before", case]), statistics.median(times["after", case])
        inside = [statistics.median(c for _, c, _ in checks[t, case]) for t in ("before", "after")]
        print(
            f"{case}: after - before = {after - before:+.2f} s dry run, {inside[1] - inside[0]:+.3f} s checks (medians)"
        )


if __name__ == "__main__":
    main()
