"""Renderer throughput: shaded renders of the procedural face vs a depth-only pass over the same batch.

For each image size, one batch of faces (random identities, appearances, lights and emotion prototypes at random
symmetry and onset, like the pipeline's grids) is rendered repeatedly with shading and albedo
(:func:`facesym.render.render`) and, in the same run, rasterised depth-only (:func:`facesym.render.render_depth`):
the same projection, triangles and z-buffer without normals, lighting or colour — the bound the shaded render
is compared with. Vertex computation (``model.vertices``) is timed separately and is not part of either figure.
The shaded render is also timed without the key light's cast shadows (``render(..., shadows=False)``, the renderer
before them), interleaved with the others, so the shadows' cost is a ratio of one run.
Each repeat times the depth pass and then the shaded passes, so that on a shared machine they see the same load;
the process CPU time per image is reported too (less sensitive to other jobs than wall-clock time).

Usage (repository root)::

    .venv/bin/python benchmarks/bench_render.py                      # 256 faces, 112² and 224², gray and RGB
    .venv/bin/python benchmarks/bench_render.py --json out.json --repeats 9
    .venv/bin/python benchmarks/bench_render.py --backend torch --device cuda   # the torch backend on a GPU
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable

import numba
import numpy as np
import torch

from facesym.emotions import EMOTIONS
from facesym.face import build_procedural_model
from facesym.face.prototypes import prototype_phi
from facesym.render import lighting_from_coefficients, render, render_depth


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and process CPU seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _synchronised(result: object) -> object:
    """Wait for queued GPU work, so that a timed call includes it (a no-op on the CPU)."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--sizes", type=int, nargs="+", default=[112, 224])
    parser.add_argument("--colors", nargs="+", default=["gray", "rgb"])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", choices=["numba", "torch"], default="numba")
    parser.add_argument("--device", default="cpu", help="torch device of the torch backend (e.g. cuda)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    where = {"backend": args.backend, "device": args.device}

    model = build_procedural_model()
    g = torch.Generator().manual_seed(args.seed)
    n = args.batch
    prototypes = torch.stack([prototype_phi(model, e) for e in EMOTIONS])
    phi = prototypes[torch.randint(len(EMOTIONS), (n,), generator=g)]
    beta = torch.randn(n, model.n_shape, generator=g)
    s, t = torch.rand(n, generator=g), torch.rand(n, generator=g)
    vertex_times = [_timed(lambda: model.vertices(beta, phi, s, t))[0] for _ in range(args.repeats)]
    vertices = model.vertices(beta, phi, s, t)
    albedo = model.albedo(torch.randn(n, model.n_appearance, generator=g))
    light = lighting_from_coefficients(torch.randn(n, 4, generator=g))

    print(
        f"procedural face: {model.n_vertices} vertices, {model.triangles.shape[0]} triangles; batch {n}; "
        f"backend {args.backend} on {args.device}; "
        f"numba threads {numba.get_num_threads()}, {os.cpu_count()} CPUs; "
        f"load average before: {os.getloadavg()[0]:.1f}"
    )
    print(f"model.vertices: median {np.median(vertex_times) * 1e3:.0f} ms per batch (not included below)")
    print(
        f"{'size':>5} {'color':>5} {'shaded img/s':>13} {'depth img/s':>12} {'ratio':>6}  "
        f"{'shaded ms med/min':>18} {'depth ms med/min':>17}  {'CPU ms/img shaded/depth':>24}  "
        f"{'no-shadow img/s':>15}"
    )
    rows = []
    for size in args.sizes:

        def depth_pass(size: int = size) -> object:
            return _synchronised(render_depth(vertices, model.triangles, size=size, **where))

        def shaded_pass(color: str, size: int = size, shadows: bool = True) -> object:
            return _synchronised(render(vertices, model.triangles, albedo, size=size, lighting=light, color=color,
                                        shadows=shadows, **where))

        for color in args.colors:
            depth_pass()  # warm-up: numba loads its cached kernels, memory gets mapped
            shaded_pass(color)
            # Interleaved, so that both passes see the same load on a shared machine; one colour at a time, so
            # that the output buffers are reused like in a pipeline job (alternating three buffer sizes makes
            # the allocator return memory to the system and fault it in again on every call).
            depth, shaded, unshadowed = [], [], []
            for _ in range(args.repeats):
                depth.append(_timed(depth_pass))
                shaded.append(_timed(lambda color=color: shaded_pass(color)))
                unshadowed.append(_timed(lambda color=color: shaded_pass(color, shadows=False)))
            d_wall, d_cpu = np.array(depth).T
            s_wall, s_cpu = np.array(shaded).T
            u_wall = np.array(unshadowed)[:, 0]
            row = {
                "size": size,
                "color": color,
                "batch": n,
                "shaded_median_s": float(np.median(s_wall)),
                "shaded_min_s": float(np.min(s_wall)),
                "depth_median_s": float(np.median(d_wall)),
                "depth_min_s": float(np.min(d_wall)),
                "shaded_cpu_s_per_image": float(np.median(s_cpu)) / n,
                "depth_cpu_s_per_image": float(np.median(d_cpu)) / n,
                "no_shadow_median_s": float(np.median(u_wall)),
            }
            row["shaded_img_per_s"] = n / row["shaded_median_s"]
            row["depth_img_per_s"] = n / row["depth_median_s"]
            row["ratio"] = row["shaded_median_s"] / row["depth_median_s"]
            row["no_shadow_img_per_s"] = n / row["no_shadow_median_s"]
            rows.append(row)
            print(
                f"{size:>5} {color:>5} {row['shaded_img_per_s']:>13.0f} {row['depth_img_per_s']:>12.0f} "
                f"{row['ratio']:>6.2f}  {np.median(s_wall) * 1e3:>8.0f} / {np.min(s_wall) * 1e3:<7.0f}"
                f"{np.median(d_wall) * 1e3:>8.0f} / {np.min(d_wall) * 1e3:<7.0f}  "
                f"{row['shaded_cpu_s_per_image'] * 1e3:>11.2f} / {row['depth_cpu_s_per_image'] * 1e3:<10.2f}  "
                f"{row['no_shadow_img_per_s']:>15.0f}"
            )
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(
                {
                    "rows": rows,
                    "vertices_median_s": float(np.median(vertex_times)),
                    "n_vertices": model.n_vertices,
                    "n_triangles": int(model.triangles.shape[0]),
                    "threads": numba.get_num_threads(),
                    "backend": args.backend,
                    "device": args.device,
                },
                fh,
                indent=2,
            )


if __name__ == "__main__":
    main()
