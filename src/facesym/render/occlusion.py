"""Ambient occlusion per vertex from the deformed mesh's own depth buffer (horizon-based, both backends).

Sky light reaches a point of the skin only from the directions that the rest of the face leaves open: the eye
sockets under the brow ridge, the sides of the nose, the corners of the mouth, the parted lips' inside and the
neck under the jaw see less sky than the cheek. This is computed for every image from the mesh being drawn, so it
follows the expression (the inside of an opened mouth lies in the shade of the lips and teeth; a frozen half at
s = 0 keeps its neutral occlusion) at the cost of a few depth-buffer reads per vertex, not from the rest shape.

Horizon-based ambient occlusion (Bavoil, Sainz & Dimitrov 2008) on the camera's depth buffer: for a vertex at
depth ``z`` with unit normal ``n``, the depth buffer is read at ``K = len(AO_ANGLES)`` directions and the
distances ``AO_RADII`` around the vertex's pixel position. A sample at the pixel centre displaced by ``δ`` (model
units in the image plane, ``ρ = |δ|``) with depth ``z_s`` rises above the vertex's tangent plane by the elevation
``sin h − sin t`` with ``sin h = (z_s − z) / √((z_s − z)² + ρ²)`` and ``sin t = −a / √(n_z² + a²)``, ``a = n·δ/ρ``
(the tangent plane's elevation in that direction; measuring at the sample's own pixel centre keeps a plane
exactly unoccluded whatever the pixel grid). Per direction the highest such elevation, at least 0, is the occluded
part of the sky, and the vertex's factor is ``clip(1 − mean over directions, 0, 1)``. Samples outside the image or
on the backdrop occlude nothing. The depth buffer is the image's own (the same rasterisation, at the render size),
so the result depends a little on the render size (one pixel is 4 mm at 64 px).
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["AO_RADII", "AO_ANGLES", "ao_offsets", "horizon_occlusion"]

AO_RADII = (0.08, 0.16)
"""Sampling distances, model units (6 and 12 mm: the scale of the eye sockets, the nose and the lips; finer
creases are the crease term's, :data:`facesym.render.shading.CREASE`)."""

AO_ANGLES = tuple(2.0 * math.pi * k / 8 for k in range(8))
"""Directions in the image plane, radians from the model's +x towards +y."""


def ao_offsets(scale: float) -> np.ndarray:
    """Sample offsets in pixels, shape ``(K, R, 2)`` float32: column and row offset of the sample at direction k
    and radius r (rows grow downwards, model y upwards) for ``scale`` pixels per model unit
    (``OrthographicCamera.screen_params(...)[2]``)."""
    angles = np.asarray(AO_ANGLES, dtype=np.float64)
    radii = np.asarray(AO_RADII, dtype=np.float64)
    dx = np.cos(angles)[:, None] * radii[None] * scale
    dy = -np.sin(angles)[:, None] * radii[None] * scale
    return np.stack([dx, dy], axis=-1).astype(np.float32)


def horizon_occlusion(screen: torch.Tensor, normals: torch.Tensor, depth: torch.Tensor, scale: float) -> torch.Tensor:
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

    Returns
    -------
    torch.Tensor
        Occlusion factors in [0, 1] (1 = open sky), shape ``(B, N, 1)``.
    """
    batch = screen.shape[0]
    height, width = depth.shape[1:]
    offsets = torch.from_numpy(ao_offsets(scale)).to(screen.device)
    inv_scale = torch.tensor(1.0 / np.float32(scale), dtype=torch.float32, device=screen.device)
    x, y, z = (screen[..., i, None, None] for i in range(3))
    # float32 operations in the numba kernel's order, so both backends read the same pixels.
    col = torch.floor(x + offsets[..., 0])  # (B, N, K, R)
    row = torch.floor(y + offsets[..., 1])
    inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
    flat = ((torch.arange(batch, device=screen.device)[:, None, None, None] * height
             + row.long().clamp(0, height - 1)) * width + col.long().clamp(0, width - 1))
    sample = depth.reshape(-1)[flat]
    dx = (col + 0.5 - x) * inv_scale
    dy = (y - (row + 0.5)) * inv_scale
    dist = torch.sqrt(dx * dx + dy * dy)
    dz = sample - z
    nx, ny, nz = (normals[..., i, None, None] for i in range(3))
    along = (nx * dx + ny * dy) / dist.clamp_min(1e-30)
    rise = dz / torch.sqrt(dz * dz + dist * dist) + along / torch.sqrt(nz * nz + along * along).clamp_min(1e-12)
    used = inside & torch.isfinite(sample) & (dist > 0)
    horizon = torch.where(used, rise, torch.zeros_like(rise)).amax(-1).clamp_min(0.0)  # (B, N, K)
    return (1.0 - horizon.mean(-1)).clamp(0.0, 1.0)[..., None]
