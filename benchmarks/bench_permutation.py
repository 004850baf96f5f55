"""Benchmark of facesym.stats.permutation_test on one paper job: six emotions x 10 symmetry x 90 time steps.

Measures, in the same run and on the same surface:

- ``permutation_test`` (vectorised, chunked) for the paper's gradient statistic and for the slope statistic;
- a straightforward Python loop over the K permutations (each iteration shuffles every t column along s with
  ``Generator.permuted`` and recomputes the statistic from scratch with ``numpy.gradient`` / a least-squares
  slope) — the reference the speed-up is quoted against;
- the peak working memory of ``permutation_test`` (tracemalloc, which sees NumPy's allocations).

It also checks that the two agree: the p-values of the fast and the loop version (independent draws) must
agree within Monte-Carlo error. Run from the repository root::

    .venv/bin/python benchmarks/bench_permutation.py            # K = 10,000, 7 repeats (loop: 3)
    .venv/bin/python benchmarks/bench_permutation.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from facesym.stats import impact_score, permutation_test, score_weights


def paper_job_surface(seed: int = 0, n_emotions: int = 6, n_levels: int = 10, n_time: int = 90) -> np.ndarray:
    """Softmax-like surfaces (E, S, T) in [0, 1]: an onset in t, a mild symmetry effect, noise."""
    rng = np.random.default_rng(seed)
    s = np.linspace(0.0, 1.0, n_levels)[:, None]
    t = np.linspace(0.0, 1.0, n_time)[None, :]
    onset = 1.0 / (1.0 + np.exp(-10.0 * (t - 0.4)))
    effect = rng.uniform(0.0, 0.1, size=(n_emotions, 1, 1))
    logits = 4.0 * onset * (0.6 + effect * s) - 2.0 + 0.3 * rng.standard_normal((n_emotions, n_levels, n_time))
    return 1.0 / (1.0 + np.exp(-logits))


def loop_permutation_test(surface: np.ndarray, k: int, rng: np.random.Generator, statistic: str) -> np.ndarray:
    """Reference: a Python loop over permutations, statistic recomputed on each permuted surface."""
    x = np.arange(surface.shape[-2], dtype=float)

    def stat(f: np.ndarray) -> np.ndarray:
        if statistic == "gradient":
            return np.gradient(f, axis=-2).mean(axis=(-2, -1))
        xc = x - x.mean()  # least-squares slope per column, then the mean over columns
        return (np.tensordot(f, xc, axes=([-2], [0])) / (xc @ xc)).mean(axis=-1)

    observed = stat(surface)
    null = np.empty((surface.shape[0], k))
    for i in range(k):
        null[:, i] = stat(rng.permuted(surface, axis=-2))  # each (emotion, t) column shuffled along s
    return (1.0 + np.sum(np.abs(null) >= np.abs(observed)[:, None], axis=-1)) / (k + 1.0)


def timed(fn: Callable[[], object], repeats: int) -> tuple[list[float], object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return times, out


def peak_memory(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--permutations", type=int, default=10_000, help="K (default 10,000, the paper's)")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats of permutation_test")
    parser.add_argument("--loop-repeats", type=int, default=3, help="timed repeats of the Python loop")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()

    surface = paper_job_surface()
    k = args.permutations
    results = []
    for statistic in ("gradient", "slope"):
        fast_times, fast = timed(
            lambda st=statistic: permutation_test(surface, k, np.random.default_rng(1), statistic=st), args.repeats
        )
        loop_times, loop_p = timed(
            lambda st=statistic: loop_permutation_test(surface, k, np.random.default_rng(2), st), args.loop_repeats
        )
        peak = peak_memory(lambda st=statistic: permutation_test(surface, k, np.random.default_rng(1), statistic=st))
        assert np.allclose(fast.score, impact_score(surface, statistic=statistic))  # type: ignore[union-attr]
        p_fast = np.asarray(fast.pvalue)  # type: ignore[union-attr]
        p_loop = np.asarray(loop_p)
        # independent Monte-Carlo estimates of the same p-values: within 5 standard errors (of a difference)
        tol = 5 * np.sqrt(2 * np.maximum(p_loop * (1 - p_loop), 1 / k) / k) + 2 / k
        assert np.all(np.abs(p_fast - p_loop) <= tol), (p_fast, p_loop)
        fast_med, loop_med = statistics.median(fast_times), statistics.median(loop_times)
        results.append(
            {
                "statistic": statistic,
                "method": fast.method,  # type: ignore[union-attr]
                "fast_median_s": fast_med,
                "fast_min_s": min(fast_times),
                "loop_median_s": loop_med,
                "speedup": loop_med / fast_med,
                "peak_memory_mib": peak / 2**20,
                "max_abs_pvalue_difference": float(np.max(np.abs(p_fast - p_loop))),
                "nonzero_weights": int(np.count_nonzero(score_weights(surface.shape[-2], statistic))),
            }
        )

    print(
        f"surface {surface.shape} (emotion, S, T), K = {k:,}; numpy {np.__version__}, "
        f"python {platform.python_version()}, {platform.machine()}"
    )
    print(
        f"{'statistic':<10}{'method':<9}{'median':>10}{'min':>10}{'loop median':>13}{'speed-up':>10}"
        f"{'peak MiB':>10}{'max |dp|':>10}"
    )
    for r in results:
        print(
            f"{r['statistic']:<10}{r['method']:<9}{r['fast_median_s']:>9.3f}s{r['fast_min_s']:>9.3f}s"
            f"{r['loop_median_s']:>12.3f}s{r['speedup']:>9.1f}x{r['peak_memory_mib']:>10.1f}"
            f"{r['max_abs_pvalue_difference']:>10.4f}"
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"shape": list(surface.shape), "permutations": k, "results": results}, fh, indent=2)


if __name__ == "__main__":
    main()
