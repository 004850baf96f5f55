"""Renderer throughput: shaded renders of the procedural face vs a depth-only pass over the same batch.

For each image size, one batch of faces (random identities, appearances, lights and emotion prototypes at random
symmetry and onset, like the pipeline's grids) is rendered repeatedly with shading and albedo
(:func:`facesym.render.render`) and, in the same run, rasterised depth-only (:func:`facesym.render.render_depth`):
the same projection, triangles and z-buffer without normals, lighting or colour — the bound the shaded render
is compared with. Vertex computation (``model.vertices``) is timed separately and is not part of either figure.

Usage (repository root)::

    .venv/bin/python benchmarks/bench_render.py                      # 256 faces, 112² and 224², gray and RGB
    .venv/bin/python benchmarks/bench_render.py --json out.json --repeats 9
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable

import numba
import numpy as np
import torch

from facesym.emotions import EMOTIONS
from facesym.face import build_procedural_model
from facesym.face.expressions import prototype_phi
from facesym.render import lighting_from_coefficients, render, render_depth


def _timed(fn: Callable[[], object], repeats: int) -> list[float]:
    fn()  # warm-up: numba loads its cached kernels, torch allocates
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--sizes", type=int, nargs="+", default=[112, 224])
    parser.add_argument("--colors", nargs="+", default=["gray", "rgb"])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()

    model = build_procedural_model()
    g = torch.Generator().manual_seed(args.seed)
    n = args.batch
    prototypes = torch.stack([prototype_phi(model, e) for e in EMOTIONS])
    phi = prototypes[torch.randint(len(EMOTIONS), (n,), generator=g)]
    beta = torch.randn(n, model.n_shape, generator=g)
    s, t = torch.rand(n, generator=g), torch.rand(n, generator=g)
    vertex_times = _timed(lambda: model.vertices(beta, phi, s, t), args.repeats)
    vertices = model.vertices(beta, phi, s, t)
    albedo = model.albedo(torch.randn(n, model.n_appearance, generator=g))
    light = lighting_from_coefficients(torch.randn(n, 4, generator=g))

    print(f"procedural face: {model.n_vertices} vertices, {model.triangles.shape[0]} triangles; batch {n}; "
          f"numba threads {numba.get_num_threads()}, {os.cpu_count()} CPUs ({platform.processor() or 'cpu'}); "
          f"load average before: {os.getloadavg()[0]:.1f}")
    print(f"model.vertices: median {np.median(vertex_times) * 1e3:.0f} ms per batch (not included below)")
    print(f"{'size':>5} {'color':>5} {'shaded img/s':>13} {'depth img/s':>12} {'ratio':>6}  "
          f"{'shaded ms (median/min)':>23} {'depth ms (median/min)':>22}")
    rows = []
    for size in args.sizes:
        depth = _timed(lambda size=size: render_depth(vertices, model.triangles, size=size), args.repeats)
        for color in args.colors:
            shaded = _timed(lambda size=size, color=color: render(vertices, model.triangles, albedo, size=size,
                                                                  lighting=light, color=color), args.repeats)
            row = {
                "size": size, "color": color, "batch": n,
                "shaded_median_s": float(np.median(shaded)), "shaded_min_s": float(np.min(shaded)),
                "depth_median_s": float(np.median(depth)), "depth_min_s": float(np.min(depth)),
            }
            row["shaded_img_per_s"] = n / row["shaded_median_s"]
            row["depth_img_per_s"] = n / row["depth_median_s"]
            row["ratio"] = row["shaded_median_s"] / row["depth_median_s"]
            rows.append(row)
            print(f"{size:>5} {color:>5} {row['shaded_img_per_s']:>13.0f} {row['depth_img_per_s']:>12.0f} "
                  f"{row['ratio']:>6.2f}  {row['shaded_median_s'] * 1e3:>11.0f} / {row['shaded_min_s'] * 1e3:<9.0f}"
                  f"  {row['depth_median_s'] * 1e3:>10.0f} / {row['depth_min_s'] * 1e3:<9.0f}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"rows": rows, "vertices_median_s": float(np.median(vertex_times)),
                       "n_vertices": model.n_vertices, "n_triangles": int(model.triangles.shape[0]),
                       "threads": numba.get_num_threads()}, fh, indent=2)


if __name__ == "__main__":
    main()
