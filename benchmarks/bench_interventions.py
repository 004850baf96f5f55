"""Benchmarks of one (classifier, identity) job of the synthetic-intervention experiment (issue 6).

1. Evaluations per second of the batched DE objective (a whole generation rendered and classified in one call)
   against ``scipy.optimize.differential_evolution`` evaluating one candidate at a time, with the same
   population and generations, measured side by side in one run.
2. Wall time of one job split into its stages (expression optimisation, logit surfaces, permutation test) on the
   default config, plus the fixed cost a new Python process pays (imports, face model, classifier load).

The classifier is an embedded network of the default zoo with its initial (untrained) weights: evaluation speed
does not depend on the weights. Run from the repository root::

    .venv/bin/python benchmarks/bench_interventions.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from scipy.optimize import differential_evolution

from facesym.classifiers.base import Classifier
from facesym.classifiers.embedded import EMBEDDED_CLASSES, build_embedded_network
from facesym.classifiers.entries import embedded_spec
from facesym.config import load_schema, validate_config
from facesym.face.configured import face_model_from_config
from facesym.identities import sample_identity
from facesym.interventions.optimisation import optimise_expressions, target_probability
from facesym.interventions.scene import build_scene
from facesym.interventions.surfaces import grid, logit_surfaces
from facesym.io.records import target_surfaces
from facesym.optimize import differential_evolution_batched
from facesym.stats import permutation_test

REPO = Path(__file__).resolve().parents[1]


def default_config() -> dict:
    raw = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    return validate_config(raw, load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml"))


def untrained_classifier(entry: dict) -> Classifier:
    torch.manual_seed(0)
    network = build_embedded_network(entry).eval()
    _, spec = embedded_spec(entry)
    return Classifier(entry["name"], EMBEDDED_CLASSES, spec, network, device="cpu")


def bench_objective(classifier, scene, population: int, generations: int, repeats: int) -> None:
    dim = scene.model.n_expression
    batched_rates, single_rates = [], []
    for repeat in range(repeats):
        calls = 0

        def batched(phi: np.ndarray, problems: np.ndarray) -> np.ndarray:
            nonlocal calls
            calls += phi.shape[0] * phi.shape[1]
            return 1.0 - target_probability(classifier, scene, problems, phi)

        started = time.perf_counter()
        differential_evolution_batched(
            batched, dim, 3.0, population=population, generations=generations,
            rng=np.random.default_rng(repeat), n_problems=6,
        )  # fmt: skip
        batched_rates.append(calls / (time.perf_counter() - started))

        calls = 0

        def single(x: np.ndarray) -> float:
            nonlocal calls
            calls += 1
            return float(1.0 - target_probability(classifier, scene, np.array([3]), x[None, None])[0, 0])

        started = time.perf_counter()
        differential_evolution(
            single,
            [(-3.0, 3.0)] * dim,
            maxiter=generations,
            init=np.random.default_rng(repeat).uniform(-3, 3, (population, dim)),
            polish=False,
            tol=0,
            rng=np.random.default_rng(repeat),
        )
        single_rates.append(calls / (time.perf_counter() - started))
    b, s = statistics.median(batched_rates), statistics.median(single_rates)
    print(f"DE objective, population {population}, {generations} generations, {repeats} repeats (median):")
    print(f"  facesym, six emotions per call:    {b:8.1f} evaluations/s")
    print(f"  scipy, one candidate per call:     {s:8.1f} evaluations/s")
    print(f"  ratio:                             {b / s:8.1f}x")


def bench_job(config: dict, classifier, scene, repeats: int) -> None:
    stages: dict[str, list[float]] = {"optimisation": [], "surfaces": [], "permutations": []}
    s_grid, t_grid = grid(config["grid"]["symmetry_steps"], config["grid"]["time_steps"])
    for repeat in range(repeats):
        started = time.perf_counter()
        result = optimise_expressions(classifier, scene, config["expressions"], repeat)
        stages["optimisation"].append(time.perf_counter() - started)
        started = time.perf_counter()
        softmax = logit_surfaces(classifier, scene, result.phi, s_grid, t_grid).softmax
        stages["surfaces"].append(time.perf_counter() - started)
        started = time.perf_counter()
        permutation_test(
            target_surfaces(softmax, classifier.emotion_indices),
            config["statistics"]["permutations"],
            np.random.default_rng(repeat),
        )
        stages["permutations"].append(time.perf_counter() - started)
    total = sum(statistics.median(v) for v in stages.values())
    e = config["expressions"]
    print(
        f"one job on the default config (population {e['population']}, {e['generations']} generations, "
        f"grid {len(s_grid)}x{len(t_grid)}, K = {config['statistics']['permutations']}; median of {repeats}):"
    )
    for name, values in stages.items():
        median = statistics.median(values)
        print(f"  {name:13s} {median:7.2f} s  ({100 * median / total:4.1f} %)")
    code = (
        "import time; t = time.perf_counter(); import facesym.pipeline.synthesis, facesym.classifiers.registry, "
        "facesym.interventions.optimisation; from facesym.face import build_procedural_model; "
        "build_procedural_model(); from facesym.render import render; print(time.perf_counter() - t)"
    )
    overhead = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(repeats)
    ]
    print(f"  new-process overhead (imports + face model): {statistics.median(overhead):.2f} s per job")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--generations", type=int, default=3, help="generations of the objective comparison")
    args = parser.parse_args()
    torch.set_num_threads(2)
    config = default_config()
    entry = next(e for e in config["classifiers"] if e["name"] == "cnn-m")
    classifier = untrained_classifier(entry)
    scene = build_scene(
        face_model_from_config(config), sample_identity(config["seed"], "id0000", 20, 6, 4), config["render"], "cpu"
    )
    scene.images(np.zeros((2, scene.model.n_expression)), np.ones(2), np.ones(2))  # compile the kernels first
    bench_objective(classifier, scene, config["expressions"]["population"], args.generations, args.repeats)
    bench_job(config, classifier, scene, args.repeats)


if __name__ == "__main__":
    main()
