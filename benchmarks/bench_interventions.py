"""Benchmarks of one (classifier, identity) chain of the synthetic-intervention experiment (issues 6 and 16).

1. The optimiser's objective (render + classify) in evaluations per second: facesym's batched DE (a whole
   generation of all six emotions in one call) against ``scipy.optimize.differential_evolution`` with
   ``vectorized=True, updating='deferred'`` (one emotion's whole population per call: what a user would pick
   instead; the headline ratio) and, with ``--single``, SciPy evaluating one candidate per call. Same objective,
   population and generations, side by side in one run.
2. The render → classify loop, stage by stage, for every classifier of the default zoo: one batch of grid
   images (default 512, the surfaces batch) split into the face model's vertices, rendering, preprocessing
   (framing crop, colour, resizing, normalisation) and the network's forward pass, beside the end-to-end path the
   surfaces job takes (``Scene.images`` + ``Classifier.predict_with_logits``). The headline is the end-to-end rate
   as a share of the render-only rate, beside its bound for each network (render and forward pass alone,
   ``1 / (1/render rate + 1/forward rate)``). Beside them, the earlier paths of the two slow stages: the face
   model's vertices through torch operations (``backend="torch"``), the network as it runs with gradients
   enabled (``(eager)``: without the optimised inference graph Keras networks now get) and in NCHW layout
   (facesym's own networks now run channels-last on the CPU).
3. The work of one chain on the default config split into its stages (expression optimisation, intervention and
   control surfaces, permutation tests). Start-up cost per job is measured by ``bench_jobcost.py``.

Embedded classifiers run with their initial (untrained) weights, saved and loaded the way a job loads a trained
checkpoint: evaluation speed does not depend on the weights. The FER2013 network needs its weights file
(``./run.sh snakemake --cores 1 resources/fer2013/emotion_model.hdf5``); without it the network is skipped with a
note. Run from the repository root::

    .venv/bin/python benchmarks/bench_interventions.py [--repeats 5] [--single] [--skip-job]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import yaml
from scipy.optimize import differential_evolution

from facesym.classifiers.embedded import build_embedded_network, save_embedded
from facesym.classifiers.registry import load_classifier
from facesym.config import load_schema, validate_config
from facesym.face.configured import face_model_from_config
from facesym.identities import sample_identity
from facesym.interventions.optimisation import optimise_expressions, target_probability
from facesym.interventions.scene import Scene, build_scene
from facesym.interventions.surfaces import grid, logit_surfaces
from facesym.io.records import target_surfaces
from facesym.optimize import differential_evolution_batched
from facesym.stats import joint_permutation_test, permutation_test

REPO = Path(__file__).resolve().parents[1]


def default_config() -> dict:
    raw = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    return validate_config(raw, load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml"))


def zoo(config: dict, model, base_dir: Path, workdir: Path, names: list[str] | None) -> dict:
    """The config's classifiers, loaded as a job loads them; embedded ones with their initial weights."""
    classifiers = {}
    for entry in config["classifiers"]:
        if names and entry["name"] not in names:
            continue
        weights = None
        if entry["kind"] == "embedded":
            torch.manual_seed(0)
            weights = workdir / f"{entry['name']}.pt"
            save_embedded(weights, entry, build_embedded_network(entry))
        elif "path" in entry and not (base_dir / entry["path"]).is_file():
            print(f"  (skipping {entry['name']}: '{base_dir / entry['path']}' is missing; fetch it first)")
            continue
        classifiers[entry["name"]] = load_classifier(
            entry, weights=weights, base_dir=base_dir, device="cpu", face_model=model
        )
    return classifiers


def timed(function: Callable[..., object], *args, **kwargs) -> tuple[float, object]:
    """Seconds ``function(*args, **kwargs)`` took, and its value."""
    started = time.perf_counter()
    value = function(*args, **kwargs)
    return time.perf_counter() - started, value


def bench_objective(classifier, scene: Scene, population: int, generations: int, repeats: int, single: bool) -> dict:
    """Evaluations per second of the same objective under facesym's and SciPy's DE (section 1)."""
    dim = scene.model.n_expression
    low, high = scene.model.expression_box(1.0)
    centre, half = (high + low) / 2, (high - low) / 2  # the unit box mapped onto the model's, as the job does
    emotions = np.arange(6)
    rates: dict[str, list[float]] = {"facesym": [], "scipy_vectorized": [], "scipy_single": []}
    for repeat in range(repeats):
        calls = 0

        def batched(x: np.ndarray, problems: np.ndarray) -> np.ndarray:
            nonlocal calls
            calls += x.shape[0] * x.shape[1]
            return 1.0 - target_probability(classifier, scene, emotions[problems], centre + half * x)

        seconds, _ = timed(
            differential_evolution_batched, batched, dim, 1.0, population=population, generations=generations,
            rng=np.random.default_rng(repeat), n_problems=6,
        )  # fmt: skip
        rates["facesym"].append(calls / seconds)

        calls = 0

        def run_scipy(objective: Callable, repeat: int, **options) -> None:
            for emotion in emotions:
                differential_evolution(
                    lambda x, e=emotion: objective(x, e),
                    [(-1.0, 1.0)] * dim,
                    maxiter=generations,
                    init=np.random.default_rng([repeat, emotion]).uniform(-1, 1, (population, dim)),
                    polish=False,
                    tol=0,
                    rng=np.random.default_rng([repeat, emotion]),
                    **options,
                )

        def vectorized(x: np.ndarray, emotion: int) -> np.ndarray:  # x: (dim, candidates)
            nonlocal calls
            calls += x.shape[1]
            return 1.0 - target_probability(classifier, scene, np.array([emotion]), (centre + half * x.T)[None])[0]

        seconds, _ = timed(run_scipy, vectorized, repeat, vectorized=True, updating="deferred")
        rates["scipy_vectorized"].append(calls / seconds)
        if single:
            calls = 0

            def one(x: np.ndarray, emotion: int) -> float:
                nonlocal calls
                calls += 1
                return float(1.0 - target_probability(classifier, scene, np.array([emotion]),
                                                      (centre + half * x)[None, None])[0, 0])

            seconds, _ = timed(run_scipy, one, repeat)
            rates["scipy_single"].append(calls / seconds)
    medians = {k: statistics.median(v) for k, v in rates.items() if v}
    print(f"DE objective ({classifier.name}), population {population}, {generations} generations, six emotions, "
          f"median of {repeats}:")
    print(f"  facesym, a generation of all six emotions per call:   {medians['facesym']:8.1f} evaluations/s")
    print(f"  scipy vectorized + deferred, one emotion per call:    {medians['scipy_vectorized']:8.1f} evaluations/s"
          f"   ratio {medians['facesym'] / medians['scipy_vectorized']:5.2f}x")
    if "scipy_single" in medians:
        print(f"  scipy, one candidate per call:                        {medians['scipy_single']:8.1f} "
              f"evaluations/s   ratio {medians['facesym'] / medians['scipy_single']:5.1f}x")
    return medians


def grid_batch(scene: Scene, config: dict, batch: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The first ``batch`` points of a surfaces job's grid (one expression, s-major, t fastest)."""
    s_grid, t_grid = grid(config["grid"]["symmetry_steps"], config["grid"]["time_steps"])
    low, high = scene.model.expression_box(1.0)
    phi = np.random.default_rng(0).uniform(low, high, (1, scene.model.n_expression))
    index = np.arange(batch)
    s = s_grid[(index // len(t_grid)) % len(s_grid)]
    t = t_grid[index % len(t_grid)]
    as_tensor = lambda a: torch.as_tensor(a, dtype=torch.float32)  # noqa: E731
    return as_tensor(np.repeat(phi, batch, 0)), as_tensor(s), as_tensor(t)


def nchw_networks(config: dict, base_dir: Path, names: list[str]) -> dict:
    """The zoo's own networks (embedded, Keras) as plain NCHW modules with the weights :func:`zoo` loads, for the
    layout comparison."""
    from facesym.classifiers.keras import load_keras_model

    networks = {}
    for entry in config["classifiers"]:
        if entry["name"] not in names:
            continue
        if entry["kind"] == "embedded":
            torch.manual_seed(0)  # as zoo() saved it
            networks[entry["name"]] = build_embedded_network(entry).eval()
        elif entry["kind"] == "keras":
            networks[entry["name"]] = load_keras_model(base_dir / entry["path"], drop_final_softmax=True).eval()
    return networks


def bench_stages(classifiers: dict, scene: Scene, config: dict, batch: int, repeats: int,
                 networks: dict | None = None) -> dict:
    """Stage times of one grid batch per classifier (section 2); medians in seconds."""
    phi, s, t = grid_batch(scene, config, batch)
    results = {}
    for name, classifier in classifiers.items():
        stages = ("vertices", "vertices_torch", "render", "preprocess", "forward", "forward_eager", "forward_nchw",
                  "end_to_end")
        times: dict[str, list[float]] = {k: [] for k in stages}
        nchw = (networks or {}).get(name)
        classifier.predict_with_logits(scene.images(phi[:2], s[:2], t[:2]))  # warm up kernels and allocators
        for _ in range(repeats):
            seconds, vertices = timed(scene.vertices, phi, s, t)
            times["vertices"].append(seconds)
            seconds, _ = timed(scene.model.vertices, scene.beta[None], phi, s, t, backend="torch")
            times["vertices_torch"].append(seconds)
            seconds, images = timed(scene.render, vertices)
            times["render"].append(seconds)
            with torch.no_grad():
                seconds, x = timed(classifier.preprocess, images)
                times["preprocess"].append(seconds)
                seconds, _ = timed(classifier.scores, x)
                times["forward"].append(seconds)
                with torch.enable_grad():  # the path gradient-based optimisation takes: the network as it is
                    seconds, _ = timed(classifier.scores, x)
                times["forward_eager"].append(seconds)
                if nchw is not None:
                    seconds, _ = timed(nchw, x.contiguous())  # the same batch as Classifier.scores above
                    times["forward_nchw"].append(seconds)
            started = time.perf_counter()
            classifier.predict_with_logits(scene.images(phi, s, t))
            times["end_to_end"].append(time.perf_counter() - started)
        results[name] = {k: statistics.median(v) if v else float("nan") for k, v in times.items()}
    print(f"render -> classify, one batch of {batch} grid images at {scene.size} px {scene.color}, "
          f"{torch.get_num_threads()} torch thread(s), median of {repeats} (ms; rates in images/s):")
    print(f"  {'classifier':15s} {'vertices':>8s} {'(torch)':>8s} {'render':>8s} {'preproc':>8s} {'forward':>8s} "
          f"{'(eager)':>8s} {'(NCHW)':>8s} {'e2e':>8s} {'render/s':>9s} {'e2e/s':>8s} {'share':>6s} {'bound':>6s}")
    for name, r in results.items():
        render_rate, e2e_rate = batch / r["render"], batch / r["end_to_end"]
        bound = r["render"] / (r["render"] + r["forward"])  # share if vertices and preprocessing cost nothing
        r |= {"render_rate": render_rate, "end_to_end_rate": e2e_rate, "share": e2e_rate / render_rate,
              "bound": bound}
        print(f"  {name:15s} {1e3 * r['vertices']:8.1f} {1e3 * r['vertices_torch']:8.1f} {1e3 * r['render']:8.1f} "
              f"{1e3 * r['preprocess']:8.1f} {1e3 * r['forward']:8.1f} {1e3 * r['forward_eager']:8.1f} "
              f"{1e3 * r['forward_nchw']:8.1f} "
              f"{1e3 * r['end_to_end']:8.1f} {render_rate:9.0f} {e2e_rate:8.0f} {100 * r['share']:5.1f}% "
              f"{100 * bound:5.1f}%")
    return results


def bench_job(config: dict, classifier, scene: Scene, repeats: int) -> dict:
    """Wall time of one chain's work on the default config, stage by stage, as the jobs run it (section 3)."""
    stages: dict[str, list[float]] = {"optimisation": [], "surfaces": [], "permutations": []}
    s_grid, t_grid = grid(config["grid"]["symmetry_steps"], config["grid"]["time_steps"])
    stats = config["statistics"]
    for repeat in range(repeats):
        seconds, result = timed(optimise_expressions, classifier, scene, config["expressions"], repeat)
        stages["optimisation"].append(seconds)
        started = time.perf_counter()
        softmax = logit_surfaces(classifier, scene, result.phi, s_grid, t_grid).softmax
        sham = logit_surfaces(classifier, scene, result.phi, s_grid[:-1], t_grid, intensity_matched=True).softmax
        stages["surfaces"].append(time.perf_counter() - started)
        started = time.perf_counter()
        rng = np.random.default_rng(repeat)
        for values in (softmax, np.concatenate([sham, softmax[:, -1:]], axis=1)):
            target = target_surfaces(values, classifier.emotion_indices)
            permutation_test(target, stats["permutations"], rng)
            joint_permutation_test(target, stats["permutations"], rng)
        stages["permutations"].append(time.perf_counter() - started)
    medians = {k: statistics.median(v) for k, v in stages.items()}
    total = sum(medians.values())
    e = config["expressions"]
    print(f"one chain's work ({classifier.name}; population {e['population']}, {e['generations']} generations, "
          f"grid {len(s_grid)}x{len(t_grid)} + control, K = {stats['permutations']}; median of {repeats}):")
    for name, median in medians.items():
        print(f"  {name:13s} {median:7.2f} s  ({100 * median / total:4.1f} %)")
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--generations", type=int, default=3, help="generations of the objective comparison")
    parser.add_argument("--batch", type=int, default=512, help="grid images per batch in the stage breakdown")
    parser.add_argument("--classifier", default="cnn", help="classifier of the objective and chain benchmarks")
    parser.add_argument("--classifiers", nargs="*", help="stage breakdown for these only (default: the zoo)")
    parser.add_argument("--threads", type=int, default=2, help="torch and numba threads (a job's `threads`)")
    parser.add_argument("--base-dir", type=Path, default=REPO, help="folder the entries' file paths start from")
    parser.add_argument("--single", action="store_true", help="also time SciPy evaluating one candidate per call")
    parser.add_argument("--skip-job", action="store_true", help="leave out the chain benchmark")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    from facesym.device import limit_cpu_threads

    limit_cpu_threads(args.threads)
    config = default_config()
    model = face_model_from_config(config)
    identity = sample_identity(config["seed"], "id0000", **{k: config["identities"][k] for k in (
        "shape_dim", "appearance_dim", "lighting_dim")})  # fmt: skip
    scene = build_scene(model, identity, config["render"], torch.device("cpu"))
    with tempfile.TemporaryDirectory() as workdir:
        classifiers = zoo(config, model, args.base_dir, Path(workdir), None)
    figures: dict[str, object] = {"threads": args.threads}
    main_classifier = classifiers[args.classifier]
    figures["objective"] = bench_objective(
        main_classifier, scene, config["expressions"]["population"], args.generations, args.repeats, args.single
    )
    chosen = {k: v for k, v in classifiers.items() if not args.classifiers or k in args.classifiers}
    networks = nchw_networks(config, args.base_dir, list(chosen))
    figures["stages"] = bench_stages(chosen, scene, config, args.batch, args.repeats, networks)
    if not args.skip_job:
        figures["chain"] = bench_job(config, main_classifier, scene, max(1, args.repeats // 2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    sys.exit(main())
