"""Lights and per-vertex Lambertian shading.

A light is a vector of ``LIGHT_DIM = 9`` coefficients: ambient RGB (3), directional RGB (3) and the unit
direction towards the light (3) in the model frame (x right, y up, z towards the viewer). A vertex with albedo
``a`` and unit normal ``n`` gets the colour ``o · a ⊙ (ambient + directional · max(0, n·d))``, clipped to [0, 1].

``o`` is the crease occlusion: skin folded into a furrow (forehead lines, glabellar lines, crow's feet, the
nasolabial fold, the lip line) receives less light from the sky of a diffuse environment than open skin. It is
computed from the deformed mesh itself, so folds darken as the expression forms them and only where the
expression moves the face (a frozen half at s = 0 forms none): with the uniform Laplacian ``L = mean of the
one-ring neighbours − v`` and the squared edge length ``ℓ²`` of an equilateral triangle of the one-ring's mean
area, the concavity
``κ = 2 (L·n) / ℓ²`` approximates the curvature across a crease (positive in a valley, model units⁻¹), and
``o = clip(1 − g · (κ − κ₀), o_min, 1)`` with ``(g, κ₀, o_min) = CREASE`` (a ramp, not an exponential: one
multiply-add per vertex in the renderer's inner loop).
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["LIGHT_DIM", "lighting_from_coefficients", "default_lighting", "vertex_normals", "shade_vertices",
           "crease_occlusion", "LUMA", "CREASE"]

LIGHT_DIM = 9
"""Coefficients of one light: ambient RGB, directional RGB, direction xyz."""

LUMA = (0.299, 0.587, 0.114)
"""ITU-R BT.601 weights used for grayscale output."""

CREASE = (0.05, 3.0, 0.45)
"""Crease occlusion: gain per unit of concavity beyond the free concavity ``κ₀`` (model units⁻¹: gentle hollows of
the face, radius above half a unit, stay unshaded) and the darkest occlusion."""

# The reference light: frontal and above (about 26° elevation), bright enough that a frontal albedo of 1 maps to 1.
_ELEVATION = 0.45
_AMBIENT = 0.36
_DIRECTIONAL = 0.68


def lighting_from_coefficients(coeffs: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Map an identity's standard-normal lighting draw to a plausible light.

    The light is a small perturbation of a frontal-top light plus ambient; each coefficient moves one property
    and is squashed with ``tanh`` so that even extreme draws stay plausible:

    - ``c[0]``: azimuth of the light, ±0.30 rad per unit (limit ±0.6 rad); positive = from the model's +x side;
    - ``c[1]``: elevation, 0.45 ± 0.15 rad per unit (limits 0.15…0.75 rad);
    - ``c[2]``: ambient level, 0.36 ± 0.06 per unit;
    - ``c[3]``: directional level, 0.68 ± 0.08 per unit;
    - ``c[4]`` (optional): colour temperature, warm for positive values, ±4 % red/blue per unit.

    Missing coefficients take their reference value (0); coefficients beyond the fifth are ignored.

    Parameters
    ----------
    coeffs
        Shape ``(B, L)`` or ``(L,)``, standard-normal units, any ``L >= 0``.

    Returns
    -------
    torch.Tensor
        Lights, shape ``(B, 9)`` (or ``(1, 9)`` for a 1-D input), float32, on ``coeffs``' device.
    """
    c = torch.as_tensor(coeffs, dtype=torch.float32)
    if c.dim() == 1:
        c = c[None]
    if c.dim() != 2:
        raise ValueError(f"lighting coefficients must have shape (B, L), got {tuple(c.shape)}")
    c = torch.nn.functional.pad(c[:, :5], (0, max(0, 5 - c.shape[1])))
    squash = torch.tanh
    azimuth = 0.6 * squash(c[:, 0] / 2.0)
    elevation = _ELEVATION + 0.3 * squash(c[:, 1] / 2.0)
    ambient = _AMBIENT + 0.12 * squash(c[:, 2] / 2.0)
    directional = _DIRECTIONAL + 0.16 * squash(c[:, 3] / 2.0)
    warmth = 0.08 * squash(c[:, 4] / 2.0)
    tint = torch.stack([1.0 + warmth, torch.ones_like(warmth), 1.0 - warmth], dim=1)
    direction = torch.stack(
        [torch.sin(azimuth) * torch.cos(elevation), torch.sin(elevation), torch.cos(azimuth) * torch.cos(elevation)],
        dim=1,
    )
    return torch.cat([ambient[:, None] * tint, directional[:, None] * tint, direction], dim=1)


def default_lighting(batch: int = 1, device: torch.device | str = "cpu") -> torch.Tensor:
    """The reference light (all coefficients zero), shape ``(batch, 9)``."""
    return lighting_from_coefficients(torch.zeros(batch, 0)).expand(batch, -1).to(device)


def vertex_normals(vertices: torch.Tensor, triangles: torch.Tensor) -> torch.Tensor:
    """Area-weighted unit vertex normals.

    Parameters
    ----------
    vertices
        Shape ``(B, N, 3)``.
    triangles
        Shape ``(F, 3)`` int64, counter-clockwise seen from outside.

    Returns
    -------
    torch.Tensor
        Shape ``(B, N, 3)``; a vertex in no triangle gets the zero vector.
    """
    v0, v1, v2 = (vertices[:, triangles[:, k]] for k in range(3))
    face_n = torch.linalg.cross(v1 - v0, v2 - v0, dim=-1)
    normals = torch.zeros_like(vertices)
    for k in range(3):
        normals.index_add_(1, triangles[:, k], face_n)
    return normals / torch.linalg.vector_norm(normals, dim=-1, keepdim=True).clamp_min(1e-12)


def crease_occlusion(vertices: torch.Tensor, triangles: torch.Tensor) -> torch.Tensor:
    """Crease occlusion per vertex (see the module docstring), shape ``(B, N, 1)`` in ``[CREASE[2], 1]``.

    Parameters
    ----------
    vertices
        Shape ``(B, N, 3)``.
    triangles
        Shape ``(F, 3)`` int64, counter-clockwise seen from outside.
    """
    v0, v1, v2 = (vertices[:, triangles[:, k]] for k in range(3))
    corner_sum = v0 + v1 + v2
    face_n = torch.linalg.cross(v1 - v0, v2 - v0, dim=-1)  # length: twice the triangle's area
    ring = torch.zeros_like(vertices)
    weighted = torch.zeros_like(vertices)
    count = torch.zeros(vertices.shape[1], dtype=vertices.dtype, device=vertices.device)
    ones = torch.ones(triangles.shape[0], dtype=vertices.dtype, device=vertices.device)
    for k in range(3):
        ring.index_add_(1, triangles[:, k], corner_sum)
        weighted.index_add_(1, triangles[:, k], face_n)
        count.index_add_(0, triangles[:, k], ones)
    safe = count.clamp_min(1.0)[None, :]
    length = torch.linalg.vector_norm(weighted, dim=-1)
    normals = weighted / length.clamp_min(1e-12)[..., None]
    # The corner sums of the incident triangles count v once per triangle: the neighbours' mean is
    # (ring − count·v) / (2 count), so L = ring / (2 count) − 1.5 v.
    lap = ((ring * (0.5 / safe)[..., None] - 1.5 * vertices) * normals).sum(-1)
    edge_sq = (2.0 / math.sqrt(3.0)) * length / safe  # equilateral triangles of the one-ring's mean area
    concave = 2.0 * lap / edge_sq.clamp_min(1e-12)
    gain, free, floor = CREASE
    occ = (1.0 - gain * (concave - free)).clamp(floor, 1.0)
    return torch.where(count[None, :] > 0, occ, torch.ones_like(occ))[..., None]


def shade_vertices(albedo: torch.Tensor, normals: torch.Tensor, lighting: torch.Tensor) -> torch.Tensor:
    """Lambertian + ambient colour per vertex.

    Parameters
    ----------
    albedo
        Shape ``(B, N, 3)`` in [0, 1].
    normals
        Unit normals, shape ``(B, N, 3)``.
    lighting
        Lights, shape ``(B, 9)``.

    Returns
    -------
    torch.Tensor
        Shaded colours, shape ``(B, N, 3)``, in [0, 1].
    """
    ambient, directional, direction = lighting[:, None, 0:3], lighting[:, None, 3:6], lighting[:, None, 6:9]
    lambert = (normals * direction).sum(-1, keepdim=True).clamp_min(0.0)
    return (albedo * (ambient + directional * lambert)).clamp(0.0, 1.0)
