"""Ambient occlusion per vertex from the deformed mesh's own depth buffer (horizon-based, both backends).

Sky light reaches a point of the skin only from the directions that the rest of the face leaves open: the eye
sockets under the brow ridge, the sides of the nose, the corners of the mouth, the parted lips' inside and the
neck under the jaw see less sky than the cheek. This is computed for every image from the mesh being drawn, so it
follows the expression (the inside of an opened mouth lies in the shade of the lips and teeth; a frozen half at
s = 0 keeps its neutral occlusion) at the cost of a few depth-buffer reads per vertex, not from the rest shape.

Horizon-based ambient occlusion (after Bavoil, Sainz & Dimitrov 2008) on the camera's depth buffer: for a vertex
at depth ``z`` with unit normal ``n``, the depth buffer is read at ``K = len(AO_ANGLES)`` directions and the
distances ``r`` (``AO_RADII``, relative to the camera window) around the vertex's pixel position. A sample at the
pixel centre displaced by ``δ`` (model units in the image plane) with depth ``z_s`` lies
``e = (z_s − z + n·δ / n_z) / r`` sampling distances above the vertex's tangent plane (``n_z`` at least
``AO_MIN_NZ``; measured at the sample's own pixel centre, so a plane is exactly unoccluded whatever the pixel
grid). Per direction the horizon is the highest ``e``, at least 0, at the elevation ``h`` above the tangent plane
with ``tan h = e``; it hides ``sin² h = e² / (1 + e²)`` of that direction's diffuse light (cosine-weighted: the sky
near the horizon lights a surface little, so a shallow hollow — the eye's window between the lids, a socket —
loses little, a deep one — the open mouth — much), and the vertex's factor is ``clip(1 − mean over directions,
0, 1)``. Samples outside the image or on the backdrop occlude nothing. No square root or division per sample: the
renderer's inner loop stays a few multiply-adds. The depth buffer is the image's
own (the same rasterisation, at the render size), so the result depends a little on the render size (one pixel is
4 mm at 64 px).

Occlusion varies over the sampling distances (6–12 mm), while the face mesh's vertices lie about 2 mm apart, so it
is sampled on a maximal independent set of the mesh's vertices (``coarse_vertices``: about a quarter of them, no
two adjacent) and every other vertex takes the mean of its coarse neighbours — a blur of about one vertex spacing
for a quarter of the cost.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

__all__ = ["AO_RADII", "AO_ANGLES", "AO_MIN_NZ", "ao_sampling", "coarse_vertices", "depth_samples", "horizon_occlusion",
           "spread_to_fine"]

AO_RADII = (0.08 / 1.35, 0.16 / 1.35)
"""Sampling distances as fractions of the camera window's half-width (``OrthographicCamera.half_extent``): 0.08 and
0.16 units, 6 and 12 mm, on the procedural face and on FLAME normalised to its frame — the scale of the eye sockets,
the nose and the lips; finer creases are the crease term's (:data:`facesym.render.shading.CREASE`). Relative to the
window, so a model in other units (FLAME in metres) is sampled at the same place on the face."""

AO_MIN_NZ = 0.1
"""Smallest normal component towards the camera used for the tangent plane: surfaces seen edge-on (the head's
outline) have no reliable depth-buffer neighbourhood."""

AO_ANGLES = tuple(2.0 * math.pi * k / 8 for k in range(8))
"""Directions in the image plane, radians from the model's +x towards +y."""


def ao_sampling(scale: float, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Sample offsets in pixels and the sampling distances they stand for.

    Parameters
    ----------
    scale
        Pixels per model unit (``OrthographicCamera.screen_params(height, width)[2]``).
    height, width
        Image size in pixels (the camera window's half-width is ``min(height, width) / (2 scale)`` model units).

    Returns
    -------
    offsets : np.ndarray
        Shape ``(K, R, 2)`` float32: column and row offset of the sample at direction k and radius r (rows grow
        downwards, model y upwards).
    inv_radii : np.ndarray
        Shape ``(R,)`` float32: 1 / the sampling distances, model units⁻¹.
    """
    half_extent = min(height, width) / (2.0 * float(np.float32(scale)))
    radii = np.asarray(AO_RADII, dtype=np.float64) * half_extent
    angles = np.asarray(AO_ANGLES, dtype=np.float64)
    dx = np.cos(angles)[:, None] * radii[None] * scale
    dy = -np.sin(angles)[:, None] * radii[None] * scale
    return np.stack([dx, dy], axis=-1).astype(np.float32), (1.0 / radii).astype(np.float32)


@lru_cache(maxsize=8)
def _coarse_vertices(key: bytes, n_vertices: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    triangles = np.frombuffer(key, dtype=np.int64).reshape(-1, 3)
    edges = np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]])
    edges = np.unique(np.concatenate([edges, edges[:, ::-1]]), axis=0)  # both directions, sorted by source
    start = np.searchsorted(edges[:, 0], np.arange(n_vertices + 1))
    coarse = np.zeros(n_vertices, dtype=bool)
    blocked = np.zeros(n_vertices, dtype=bool)
    for v in range(n_vertices):  # greedy in index order: deterministic
        if not blocked[v]:
            coarse[v] = True
            blocked[edges[start[v]:start[v + 1], 1]] = True
    # For every fine vertex, its coarse neighbours (a maximal independent set leaves none without one).
    keep = ~coarse[edges[:, 0]] & coarse[edges[:, 1]]
    fine_edges = edges[keep]
    indptr = np.searchsorted(fine_edges[:, 0], np.arange(n_vertices + 1)).astype(np.int64)
    indices = np.ascontiguousarray(fine_edges[:, 1]).astype(np.int64)
    for array in (coarse, indptr, indices):
        array.setflags(write=False)
    return coarse, indptr, indices


def coarse_vertices(triangles: np.ndarray, n_vertices: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A maximal independent set of the mesh's vertices and each other vertex's neighbours in it.

    Parameters
    ----------
    triangles
        Shape ``(F, 3)`` int.
    n_vertices
        Number of vertices ``N``.

    Returns
    -------
    coarse : np.ndarray
        Shape ``(N,)`` bool: the vertices whose occlusion is sampled (chosen greedily in index order; vertices in
        no triangle are coarse).
    indptr, indices : np.ndarray
        CSR lists, int64: vertex ``v``'s coarse neighbours are ``indices[indptr[v]:indptr[v + 1]]`` (empty for
        coarse vertices).
    """
    tris = np.ascontiguousarray(triangles, dtype=np.int64)
    return _coarse_vertices(tris.tobytes(), int(n_vertices))


def depth_samples(depth: torch.Tensor, sx: torch.Tensor, sy: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The depth buffer at sample points, read as the numba kernels read it (truncated to the pixel).

    Parameters
    ----------
    depth
        Shape ``(B, H, W)``, ``-inf`` on the backdrop.
    sx, sy
        Pixel column and row of each sample, shape ``(B, ...)`` float32.

    Returns
    -------
    col, row, sample, inside
        The pixel's column and row (float32), its depth and whether it lies in the image; all of ``sx``'s shape.
    """
    batch, height, width = depth.shape
    col = torch.trunc(sx)
    row = torch.trunc(sy)
    inside = (sx >= 0) & (sy >= 0) & (col < width) & (row < height)
    image = torch.arange(batch, device=depth.device).reshape(batch, *([1] * (sx.dim() - 1)))
    flat = (image * height + row.long().clamp(0, height - 1)) * width + col.long().clamp(0, width - 1)
    return col, row, depth.reshape(-1)[flat], inside


def spread_to_fine(values: torch.Tensor, triangles: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Per-vertex values sampled at the coarse vertices only, the others given their coarse neighbours' mean.

    Parameters
    ----------
    values
        Shape ``(B, N)``; only the coarse vertices' entries (:func:`coarse_vertices`) are read.
    triangles
        Shape ``(F, 3)``.

    Returns
    -------
    torch.Tensor
        Shape ``(B, N)``, as the numba renderer fills in the fine vertices.
    """
    dev = values.device
    coarse, indptr, indices = coarse_vertices(torch.as_tensor(triangles).cpu().numpy(), values.shape[1])
    counts = np.diff(indptr)
    fine = torch.from_numpy(np.repeat(np.arange(values.shape[1]), counts)).to(dev)
    total = torch.zeros_like(values).index_add_(1, fine, values[:, torch.from_numpy(indices.copy()).to(dev)])
    mean = total / torch.from_numpy(counts.astype(np.float32)).to(dev).clamp_min(1.0)
    return torch.where(torch.from_numpy(coarse.copy()).to(dev), values, mean)


def horizon_occlusion(screen: torch.Tensor, normals: torch.Tensor, depth: torch.Tensor, scale: float,
                      triangles: torch.Tensor | np.ndarray | None = None) -> torch.Tensor:
    """Horizon-based ambient occlusion per vertex (see the module docstring).

    Parameters
    ----------
    screen
        Pixel column, row and depth z per vertex, shape ``(B, N, 3)`` float32 (``OrthographicCamera.project``).
    normals
        Unit vertex normals, shape ``(B, N, 3)``.
    depth
        The depth buffer of the same meshes, shape ``(B, H, W)``, ``-inf`` on the backdrop.
    scale
        Pixels per model unit.
    triangles
        Shape ``(F, 3)``: sample the coarse vertices only and give the others their coarse neighbours' mean, as the
        renderer does (:func:`coarse_vertices`); ``None`` = sample every vertex.

    Returns
    -------
    torch.Tensor
        Occlusion factors in [0, 1] (1 = open sky), shape ``(B, N, 1)``.
    """
    height, width = depth.shape[1:]
    offsets, inv_radii = (torch.from_numpy(a).to(screen.device) for a in ao_sampling(scale, height, width))
    inv_scale = torch.tensor(1.0 / np.float32(scale), dtype=torch.float32, device=screen.device)
    x, y, z = (screen[..., i, None, None] for i in range(3))
    # float32 operations in the numba kernel's order, so both backends read the same pixels.
    col, row, sample, inside = depth_samples(depth, x + offsets[..., 0], y + offsets[..., 1])  # (B, N, K, R)
    dx = (col + 0.5 - x) * inv_scale
    dy = (y - (row + 0.5)) * inv_scale
    nx, ny, nz = (normals[..., i, None, None] for i in range(3))
    inv_nz = 1.0 / nz.clamp_min(AO_MIN_NZ)
    rise = (sample - z + (nx * dx + ny * dy) * inv_nz) * inv_radii
    used = inside & torch.isfinite(sample)
    horizon = torch.where(used, rise, torch.zeros_like(rise)).amax(-1).clamp_min(0.0)  # (B, N, K)
    squared = horizon * horizon
    occluded = (squared / (1.0 + squared)).mean(-1)
    ao = (1.0 - occluded).clamp(0.0, 1.0)
    if triangles is not None:
        ao = spread_to_fine(ao, triangles)
    return ao[..., None]
