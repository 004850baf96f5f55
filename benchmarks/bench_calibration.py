"""Calibration study of the per-identity nulls and the population tests on planted surfaces with known truth.

For each case of :mod:`facesym.stats.calibration` (no s-effect; a trendless s-pattern shared by all t columns; a
monotone trend of known size; an intensity-only classifier) it draws ``--replicates`` (classifier, emotion) cells
of ``--identities`` identities on the paper's 10 × 90 grid and reports

- per identity, at α = 0.01: the rejection rate of the columns null (the paper's) and of the joint null, for the
  gradient and the slope statistic (``R·N`` tests);
- per cell, at α = 0.05: the rejection rate of the sign-flip test of the mean score and of the mean
  symmetry-specific impact (score − intensity-matched control) across identities (``R`` tests);

each beside its exact binomial 99 % band under the null. Run from the repository root::

    .venv/bin/python benchmarks/bench_calibration.py                 # R = 200, N = 10, K = 199
    .venv/bin/python benchmarks/bench_calibration.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np

from facesym.stats.calibration import CASES, binomial_band, calibrate

PLANTED = {  # effect sizes (probability); noise sd 0.01 at every grid point
    "null": {},
    "trendless": {"size": 0.01},  # pattern sd along s, scaled by t
    "trend": {"size": 0.002},  # per symmetry step at full onset: 0.018 from s = 0 to s = 1
    "intensity": {},
}
TRUTH = {  # is the hypothesis of each test false (power) or true (type-I error)?
    "null": {"trend": False, "s matters": False, "specific": False},
    "trendless": {"trend": False, "s matters": True, "specific": False},
    "trend": {"trend": True, "s matters": True, "specific": True},
    "intensity": {"trend": True, "s matters": True, "specific": False},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=200, help="cells R per case")
    parser.add_argument("--identities", type=int, default=10, help="identities N per cell")
    parser.add_argument("--permutations", type=int, default=199, help="K of the Monte-Carlo nulls")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the rates to this JSON file")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    n_tests = args.replicates * args.identities
    band_identity = binomial_band(n_tests, 0.01)
    band_population = binomial_band(args.replicates, 0.05)
    print(f"R = {args.replicates} cells × N = {args.identities} identities, K = {args.permutations}; "
          f"99% bands: per identity (α = 0.01, {n_tests} tests) {band_identity[0]:.4f}–{band_identity[1]:.4f}; "
          f"population (α = 0.05, {args.replicates} tests) {band_population[0]:.3f}–{band_population[1]:.3f}")
    header = ("| case | columns grad | columns slope | joint grad | joint slope | pop. score | pop. specific "
              "| mean score | mean specific |")
    print(header)
    print("|" + "---|" * 9)
    out = {"args": vars(args), "python": platform.python_version(), "bands": {
        "identity": band_identity, "population": band_population}, "cases": {}}
    for case in CASES:
        started = time.perf_counter()
        rates = calibrate(
            case, rng, replicates=args.replicates, n_identities=args.identities, permutations=args.permutations,
            **PLANTED[case],
        )  # fmt: skip
        cells = [f"{rates.per_identity[null, st]:.4f}" for null in ("columns", "joint") for st in ("gradient", "slope")]
        cells += [f"{rates.population['score']:.3f}", f"{rates.population['specific']:.3f}"]
        print(f"| {case} | " + " | ".join(cells) + f" | {rates.mean_score:.5f} | {rates.mean_specific:.5f} |"
              f"  ({time.perf_counter() - started:.0f} s)")
        out["cases"][case] = {
            "per_identity": {f"{n}/{s}": v for (n, s), v in rates.per_identity.items()},
            "population": rates.population, "mean_score": rates.mean_score, "mean_specific": rates.mean_specific,
            "planted": PLANTED[case], "truth": TRUTH[case],
        }  # fmt: skip
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2)


if __name__ == "__main__":
    main()
