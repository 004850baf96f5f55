"""DE, CMA-ES and multi-start gradient descent on the real objective of Eq. 4 (issue 6): reached probability and
evaluations to get there. Both optimisers run :func:`facesym.interventions.optimisation.optimise_expressions` (six
emotions side by side, one render + classify batch per generation) with the default config's ``expressions``
section (population 24, 20 generations after the first population, bound 3, no early stop), DE with its default
settings and CMA-ES with ``method: cmaes`` (λ = 24, sigma0 = 0.3), on the same identities and seeds, the two
methods interleaved so that both see the same load. ``method: gradient`` uses its code defaults (8 starts, Adam
learning rate 0.1, 20 steps after the first round = 168 evaluations, one evaluation = forward + backward of one
candidate; torch renderer); its threshold counts are ``8 × (g + 1)``. Wall time per method is printed, since a
backward pass costs more. Per run and emotion the best-so-far probability after each generation (the result's
``history``) gives the classifier evaluations needed to first reach a threshold: ``24 × (g + 1)`` at the first
generation ``g`` whose best probability is at least the threshold.

``--cmaes-population N [N ...]`` replaces the λ = 24 CMA-ES by CMA-ES with λ = N (one method ``cmaes-λN`` per N)
and as many generations as fit DE's budget, ``⌊population × (generations + 1) / N⌋ − 1`` after the first
(504 evaluations per emotion → λ = 12: 41, λ = 8: 62, λ = 16: 30, i.e. 496); thresholds count ``N × (g + 1)``.
DE keeps its defaults. CMA-ES's standard population is ``4 + ⌊3 ln d⌋`` (d = ``model.n_expression``; 15 on the
default model, so 12). ``--methods`` restricts the methods run (e.g. ``--methods de cmaes`` skips the slow
gradient method). Every CMA-ES variant is compared with DE per (identity, seed, emotion): the share of problems
where it needed fewer / equal / more evaluations to a threshold (among those that either reached), and where
its final probability is higher / lower.

The classifier is a TRAINED embedded network: by default the default config's ``cnn`` entry (width 8, 48 px input),
trained here through :func:`facesym.pipeline.training.train_classifier_job` on a reduced training set
(``--train-per-class`` renders per class, the config's 10 epochs; deterministic from the config seed) into a
temporary folder; its held-out accuracy is printed. ``--weights results/classifiers/NAME.pt`` loads a facesym
checkpoint instead (the entry is rebuilt from the checkpoint). Run from the repository root::

    .venv/bin/python benchmarks/bench_optimisers.py [--identities 6] [--seeds 4] [--train-per-class 300]
        [--methods de cmaes gradient] [--cmaes-population 12 8] [--weights CHECKPOINT]
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from facesym.classifiers.embedded import load_embedded
from facesym.classifiers.entries import ARCH_KEYS
from facesym.config import load_schema, validate_config
from facesym.emotions import EMOTIONS
from facesym.face.configured import face_model_from_config
from facesym.identities import sample_identity
from facesym.interventions.optimisation import optimise_expressions
from facesym.interventions.scene import build_scene
from facesym.optimize import STARTS

REPO = Path(__file__).resolve().parents[1]
METHODS = ("de", "cmaes", "gradient")
THRESHOLDS = (0.95, 0.99, 0.999)


def default_config() -> dict:
    raw = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    return validate_config(raw, load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml"))


def trained_classifier(config: dict, weights: str | None, per_class: int):
    """The classifier to optimise against and a line describing it."""
    if weights is not None:
        checkpoint = torch.load(weights, map_location="cpu", weights_only=True)
        entry = {
            "name": checkpoint["name"],
            "kind": "embedded",
            **{k: checkpoint[k] for k in ARCH_KEYS},
            **{k: checkpoint[k] for k in ("input_size", "color", "mean", "std")},
        }
        return load_embedded(entry, weights), f"{entry['name']} loaded from {weights}"
    from facesym.pipeline.training import train_classifier_job

    entry = next(e for e in config["classifiers"] if e["name"] == "cnn")
    small = copy.deepcopy(config)
    small["training"].update(images_per_class=per_class, test_images_per_class=max(20, per_class // 4))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cnn.pt"
        metrics = train_classifier_job(
            classifier_entry=entry, config=small, weights_output=path, metrics_output=Path(folder) / "cnn.json"
        )
        classifier = load_embedded(entry, path)
    description = (
        f"cnn (width {entry['width']}, {metrics['input_size']} px) trained here on {metrics['n_train']} renders, "
        f"{small['training']['epochs']} epochs in {metrics['training_seconds']:.0f} s; held-out accuracy "
        f"{metrics['test']['accuracy']:.3f} ({metrics['n_test']} renders)"
    )
    return classifier, description


def evaluations_to(history: np.ndarray, threshold: float, population: int) -> np.ndarray:
    """Evaluations per problem until the best-so-far probability first reaches ``threshold`` (inf: never)."""
    reached = np.nan_to_num(history, nan=-np.inf) >= threshold
    first = np.where(reached.any(axis=1), reached.argmax(axis=1), -1)
    return np.where(first >= 0, population * (first + 1.0), np.inf)


def median(values) -> float:
    """Median where unreached (inf) counts as worse than everything."""
    return float(np.median(np.asarray(values, dtype=float)))


def fmt(value: float) -> str:
    return "not reached" if not np.isfinite(value) else f"{value:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--identities", type=int, default=6)
    parser.add_argument("--seeds", type=int, default=4, help="optimiser seeds per identity")
    parser.add_argument("--weights", default=None, help="a facesym embedded checkpoint instead of training one")
    parser.add_argument("--train-per-class", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument(
        "--cmaes-population",
        type=int,
        nargs="+",
        default=None,
        help="run CMA-ES with these λ (each with DE's evaluation budget) instead of λ = population",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    config = default_config()
    classifier, description = trained_classifier(config, args.weights, args.train_per_class)
    torch.set_num_threads(args.threads)
    model = face_model_from_config(config)
    dims = config["identities"]
    expressions = config["expressions"]
    settings = {method: {**expressions, "method": method} for method in args.methods}
    per_round = {m: expressions["population"] for m in args.methods}
    if "gradient" in per_round:
        per_round["gradient"] = STARTS
    if args.cmaes_population and "cmaes" in settings:
        del settings["cmaes"], per_round["cmaes"]
        budget = expressions["population"] * (expressions["generations"] + 1)
        print(
            f"d = model.n_expression = {model.n_expression}; standard λ = 4 + ⌊3 ln d⌋ = "
            f"{4 + int(np.floor(3 * np.log(model.n_expression)))}; DE budget {budget} evaluations per emotion"
        )
        for lam in args.cmaes_population:
            generations = budget // lam - 1
            name = f"cmaes-λ{lam}"
            settings[name] = {**expressions, "method": "cmaes", "population": lam, "generations": generations}
            per_round[name] = lam
            print(f"{name}: {generations} generations after the first, {lam * (generations + 1)} evaluations")
    methods = list(settings)

    reached = {m: [] for m in methods}  # per run: (6,)
    needed = {m: {t: [] for t in THRESHOLDS} for m in methods}
    seconds = {m: 0.0 for m in methods}
    evaluations = {m: 0 for m in methods}
    for i in range(args.identities):
        identity = sample_identity(
            config["seed"], f"id{i:04d}", dims["shape_dim"], dims["appearance_dim"], dims["lighting_dim"]
        )
        scene = build_scene(model, identity, config["render"], torch.device("cpu"))
        for seed in range(args.seeds):
            for method in methods:
                t0 = time.perf_counter()
                result = optimise_expressions(classifier, scene, settings[method], seed)
                seconds[method] += time.perf_counter() - t0
                evaluations[method] += int(result.n_evaluations.sum())
                reached[method].append(result.reached)
                for t in THRESHOLDS:
                    needed[method][t].append(evaluations_to(result.history, t, per_round[method]))
            print(
                f"identity {i} seed {seed}: reached "
                + ", ".join(f"{m} {np.round(reached[m][-1], 4).tolist()}" for m in methods),
                flush=True,
            )

    runs = args.identities * args.seeds
    print()
    print(f"classifier: {description}")
    print(
        f"{args.identities} identities x {args.seeds} seeds = {runs} runs per method, 6 emotions each; "
        f"generations/steps after the first round: "
        + ", ".join(f"{m} {settings[m]['generations']}" for m in methods)
        + "; candidates per round "
        + ", ".join(f"{m} {per_round[m]}" for m in methods)
    )
    print()
    print("| emotion | " + " | ".join(f"median p {m}" for m in methods) + " | " + " | ".join(
        f"evals to {t} " + " / ".join(methods) for t in THRESHOLDS
    ) + " |")  # fmt: skip
    print("|" + " --- |" * (1 + len(methods) + len(THRESHOLDS)))
    rows = [(name, [k]) for k, name in enumerate(EMOTIONS)] + [("all", list(range(len(EMOTIONS))))]
    for name, columns in rows:
        cells = [name]
        for method in methods:
            cells.append(f"{median(np.stack(reached[method])[:, columns].ravel()):.4f}")
        for t in THRESHOLDS:
            cells.append(" / ".join(fmt(median(np.stack(needed[m][t])[:, columns].ravel())) for m in methods))
        print("| " + " | ".join(cells) + " |")
    print()
    for t in THRESHOLDS:
        shares = ", ".join(f"{m} {float(np.isfinite(np.stack(needed[m][t])).mean()):.3f}" for m in methods)
        print(f"share of (run, emotion) reaching {t}: {shares}")
    if "de" in methods:
        for method in (m for m in methods if m.startswith("cmaes")):
            for t in THRESHOLDS:
                de, other = np.stack(needed["de"][t]).ravel(), np.stack(needed[method][t]).ravel()
                either = np.isfinite(de) | np.isfinite(other)
                n = int(either.sum())
                if n:
                    fewer, equal = float((other < de)[either].mean()), float((other == de)[either].mean())
                    print(
                        f"paired {method} vs de, {t}: fewer {fewer:.3f} / equal {equal:.3f} / more "
                        f"{1 - fewer - equal:.3f} of {n} (either reached)"
                    )
            de, other = np.stack(reached["de"]).ravel(), np.stack(reached[method]).ravel()
            print(
                f"final p {method} vs de: higher {float((other > de).mean()):.3f} / equal "
                f"{float((other == de).mean()):.3f} / lower {float((other < de).mean()):.3f} of {de.size}"
            )
    for method in methods:
        print(
            f"{method}: {evaluations[method]} evaluations in {seconds[method]:.1f} s "
            f"({evaluations[method] / seconds[method]:.0f}/s, {seconds[method] / runs:.1f} s per run of 6 emotions)"
        )
    print(f"total run time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
