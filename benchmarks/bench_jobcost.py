"""What a pipeline job pays before it does any work, against the work of one (classifier, identity) chain (issue 16).

Every Snakemake job is a new Python process. Before its first useful image a job that renders and classifies
(expression optimisation, surfaces) starts the interpreter, imports Snakemake's script preamble, facesym, torch,
numba, h5py, …, builds the face model, loads the classifier and runs its first batch (numba's cached kernels are
loaded, torch sets up its thread pool); the permutation job only imports. This script measures

1. **per-job start-up**: a new process doing exactly that (``--probe``; median of ``--rounds``), split into
   interpreter, Snakemake preamble, imports, face model, classifier load and first batch. With ``--baseline REV``
   the same probe runs against the ``src/`` of git revision REV (exported to a temporary folder) and this
   checkout's ``src/`` alternately, so before and after see the same load; beside them the **floor**, a process
   that only imports torch (what no job that renders or classifies can undercut);
2. **one chain's work** in one process (``bench_interventions.bench_job``): optimisation, intervention and control
   surfaces, permutation tests, on the default config and, with ``--paper``, on ``config/paper.yaml``'s settings;
3. **job counts** of the default run and of the paper's scale, from ``snakemake -n results/table2.csv``;

and prints the **job-cost share**: start-up of the chain's jobs / (start-up + work), also with the torch jobs at the
floor (the least one chain per process can reach). Run from the repository
root (weights of the FER2013 network as for ``bench_interventions.py``)::

    .venv/bin/python benchmarks/bench_jobcost.py --baseline HEAD~3 [--rounds 7] [--paper] [--classifier cnn]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# The modules the job scripts import, per source layout: the pipeline layer (issue 16) and the job modules before
# it, so that --baseline can probe a revision from before the move. The first layout whose job module exists wins.
LAYOUTS = (
    {
        "torch": ("facesym.device", "facesym.joblog", "facesym.pipeline.synthesis", "facesym.classifiers.registry",
                  "facesym.identities", "facesym.interventions.scene", "facesym.interventions.optimisation",
                  "facesym.interventions.surfaces"),
        "stats": ("facesym.device", "facesym.joblog", "facesym.pipeline.statistics", "facesym.stats"),
        "face_model": ("facesym.face.configured", "face_model_from_config"),
    },
    {
        "torch": ("facesym.device", "facesym.logging", "facesym.jobs", "facesym.classifiers.registry",
                  "facesym.identities", "facesym.interventions.scene", "facesym.interventions.expressions",
                  "facesym.interventions.surfaces"),
        "stats": ("facesym.device", "facesym.logging", "facesym.jobs", "facesym.stats"),
        "face_model": ("facesym.jobs", "face_model_from_config"),
    },
)  # fmt: skip


def layout() -> dict:
    """The module names of the facesym found on the path."""
    import importlib.util

    def found(module: str) -> bool:
        try:  # a dotted name whose package is missing raises instead of returning None
            return importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            return False

    return next(item for item in LAYOUTS if found(item["stats"][2]))


# Jobs of one (classifier, identity) chain: the current rules (optimisation and surfaces load a classifier, the
# permutation tests only score), and the layout with optimisation and surfaces fused into one process.
CHAINS = {"3 jobs": ("torch", "torch", "stats"), "fused, 2 jobs": ("torch", "stats")}


def probe(kind: str, config_file: Path, classifier: str, weights: str | None, base_dir: Path) -> dict[str, float]:
    """Run in a fresh process: a job's start-up, stage by stage (seconds since the probe began)."""
    import importlib

    marks = {"start": time.perf_counter()}
    from snakemake import script  # noqa: F401  (every `script:` job's preamble imports it first)

    marks["snakemake"] = time.perf_counter()
    if kind == "floor":  # the least a job that uses torch can cost: the preamble, torch, its teardown
        import gc

        import torch  # noqa: F401

        gc.freeze()
    else:
        modules = layout()
        for name in modules[kind]:
            importlib.import_module(name)
        # Every job script calls its logger right after the imports (and the logger may settle the imports).
        importlib.import_module(modules[kind][1]).job_logger(os.devnull)
    marks["imports"] = time.perf_counter()
    if kind == "torch":
        import numpy as np
        import torch
        import yaml

        from facesym.classifiers.registry import load_classifier
        from facesym.identities import sample_identity
        from facesym.interventions.scene import build_scene

        config = yaml.safe_load(config_file.read_text())
        face_model = getattr(importlib.import_module(modules["face_model"][0]), modules["face_model"][1])
        model = face_model(config)
        marks["face_model"] = time.perf_counter()
        entry = next(e for e in config["classifiers"] if e["name"] == classifier)
        net = load_classifier(entry, weights=weights, base_dir=base_dir, device="cpu", face_model=model)
        marks["classifier"] = time.perf_counter()
        dims = config["identities"]
        identity = sample_identity(config["seed"], "id0000", dims["shape_dim"], dims["appearance_dim"],
                                   dims["lighting_dim"])
        scene = build_scene(model, identity, config["render"], torch.device("cpu"))
        net.predict_with_logits(scene.images(np.zeros((1, model.n_expression)), np.ones(1), np.ones(1)))
        marks["first_batch"] = time.perf_counter()
    names = list(marks)
    return {b: marks[b] - marks[a] for a, b in zip(names, names[1:], strict=False)}


def run_probe(src: Path, kind: str, args: argparse.Namespace, weights: str | None) -> dict[str, float]:
    """One fresh process on ``src``; adds its wall time from launch to exit and the interpreter's share."""
    command = [sys.executable, str(Path(__file__).resolve()), "--probe", kind, "--classifier", args.classifier,
               "--config", str(args.config), "--base-dir", str(args.base_dir)]
    if weights:
        command += ["--weights", weights]
    env = {**os.environ, "PYTHONPATH": str(src)}
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise RuntimeError(f"probe on {src} failed:\n{done.stderr}")
    stages = json.loads(done.stdout.strip().splitlines()[-1])
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return {"interpreter": wall - sum(stages.values()), **stages, "total": wall, "cpu": cpu}


def export_src(revision: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(REPO), "archive", revision, "src"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into / "src"


def job_counts(config_file: Path | None) -> dict[str, int]:
    """Jobs per rule of ``snakemake -n results/table2.csv`` (with ``--configfile``); ``total`` among them."""
    command = [sys.executable, "-m", "snakemake", "-n", "--cores", "1", "results/table2.csv"]
    if config_file is not None:
        command += ["--configfile", str(config_file)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    text = done.stdout + done.stderr
    if "Job stats:" not in text:
        raise RuntimeError(f"snakemake -n gave no job stats ({' '.join(command)}):\n{text[-2000:]}")
    counts = {}
    for line in text.split("Job stats:", 1)[1].splitlines()[3:]:
        match = re.fullmatch(r"\s*(\S+)\s+(\d+)\s*", line)
        if not match:
            break
        counts[match[1]] = int(match[2])
    return counts


def median_probe(results: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--probe", choices=("torch", "stats", "floor"), help=argparse.SUPPRESS)
    parser.add_argument("--weights", help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, default=REPO / "config" / "config.yaml")
    parser.add_argument("--classifier", default="cnn")
    parser.add_argument("--base-dir", type=Path, default=REPO, help="folder the entries' file paths start from")
    parser.add_argument("--baseline", help="git revision whose src/ is probed alternately with this checkout's")
    parser.add_argument("--rounds", type=int, default=7, help="start-up probes per source tree and job kind")
    parser.add_argument("--repeats", type=int, default=1, help="repeats of the chain's work")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--paper", action="store_true", help="also time one chain at config/paper.yaml's settings")
    parser.add_argument("--no-counts", action="store_true", help="skip the snakemake dry runs")
    parser.add_argument("--probes-only", action="store_true", help="only the start-up probes")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe(args.probe, args.config, args.classifier, args.weights, args.base_dir)))
        return

    import torch
    import yaml

    from facesym.classifiers.embedded import build_embedded_network, save_embedded

    figures: dict[str, object] = {"load_average_before": os.getloadavg()}
    config = yaml.safe_load(args.config.read_text())
    entry = next(e for e in config["classifiers"] if e["name"] == args.classifier)
    with tempfile.TemporaryDirectory() as tmp:
        weights = None
        if entry["kind"] == "embedded":
            torch.manual_seed(0)
            weights = str(Path(tmp) / f"{entry['name']}.pt")
            save_embedded(weights, entry, build_embedded_network(entry))
        sources = {"this checkout": REPO / "src"}
        if args.baseline:
            sources = {f"baseline {args.baseline}": export_src(args.baseline, Path(tmp)), **sources}
        probes: dict[str, dict[str, list[dict[str, float]]]] = {s: {"torch": [], "stats": []} for s in sources}
        for src in sources.values():  # compile numba's cache and fill the OS file cache first
            run_probe(src, "torch", args, weights)
        floor = []
        for _ in range(args.rounds):
            for label, src in sources.items():
                for kind in ("torch", "stats"):
                    probes[label][kind].append(run_probe(src, kind, args, weights))
            floor.append(run_probe(REPO / "src", "floor", args, weights))
    startup = {label: {kind: median_probe(r) for kind, r in kinds.items()} for label, kinds in probes.items()}
    figures["startup"] = startup
    figures["floor"] = median_probe(floor)
    print(f"per-job start-up, new process, {args.classifier}, median of {args.rounds} (s):")
    for label, kinds in startup.items():
        for kind, stages in kinds.items():
            parts = ", ".join(f"{k} {v:.2f}" for k, v in stages.items() if k not in ("total", "cpu"))
            print(f"  {label:24s} {kind:5s} job: {stages['total']:5.2f} wall, {stages['cpu']:5.2f} CPU  ({parts})")
    print(f"  floor: a process that only imports torch (and Snakemake's preamble): {figures['floor']['total']:5.2f} "
          f"wall, {figures['floor']['cpu']:5.2f} CPU")

    if args.probes_only:
        print(f"load average before / after: {figures['load_average_before']} / {os.getloadavg()}")
        return
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_interventions import bench_job, default_config, zoo

    from facesym.device import limit_cpu_threads
    from facesym.face.configured import face_model_from_config
    from facesym.identities import sample_identity
    from facesym.interventions.scene import build_scene

    limit_cpu_threads(args.threads)
    settings = {"default": default_config()}
    if args.paper:
        paper = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
        settings["paper"] = {**settings["default"], **{k: {**settings["default"][k], **paper[k]} for k in (
            "expressions", "grid", "statistics")}}  # fmt: skip
    work = {}
    for name, cfg in settings.items():
        model = face_model_from_config(cfg)
        dims = cfg["identities"]
        identity = sample_identity(
            cfg["seed"], "id0000", dims["shape_dim"], dims["appearance_dim"], dims["lighting_dim"]
        )
        scene = build_scene(model, identity, cfg["render"], torch.device("cpu"))
        with tempfile.TemporaryDirectory() as tmp:
            classifier = zoo(cfg, model, args.base_dir, Path(tmp), [args.classifier])[args.classifier]
        print(f"[{name} settings]")
        work[name] = sum(bench_job(cfg, classifier, scene, args.repeats).values())
    figures["chain_work"] = work

    print(f"job-cost share of one {args.classifier} chain, start-up / (start-up + work):")
    for chain, jobs in CHAINS.items():
        for name, seconds in work.items():
            for label, kinds in startup.items():
                cost = sum(kinds[kind]["total"] for kind in jobs)
                share = cost / (cost + seconds)
                figures.setdefault("share", {})[f"{chain} / {name} / {label}"] = share
                print(f"  {chain:13s} {name:8s} {label:24s} start-up {cost:5.2f} s + work {seconds:6.2f} s: "
                      f"{100 * share:4.1f} %")
        # No torch job can start for less than the floor: the smallest share one chain per process can reach.
        stats_job = startup["this checkout"]["stats"]["total"]
        least = figures["floor"]["total"] * jobs.count("torch") + stats_job * jobs.count("stats")
        for name, seconds in work.items():
            figures.setdefault("share", {})[f"{chain} / {name} / floor"] = least / (least + seconds)
            print(f"  {chain:13s} {name:8s} {'at the floor (torch only)':24s} start-up {least:5.2f} s + work "
                  f"{seconds:6.2f} s: {100 * least / (least + seconds):4.1f} %")
    if not args.no_counts:
        for name, config_file in (("default", None), ("paper", REPO / "config" / "paper.yaml")):
            counts = job_counts(config_file)
            figures.setdefault("jobs", {})[name] = counts
            print(f"jobs of results/table2.csv, {name} config: {counts.get('total')}  "
                  + ", ".join(f"{k} {v}" for k, v in counts.items() if k != "total"))
    figures["load_average_after"] = os.getloadavg()
    print(f"load average before / after: {figures['load_average_before']} / {figures['load_average_after']}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
