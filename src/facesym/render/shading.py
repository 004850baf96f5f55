"""Lights (order-2 spherical harmonics) and per-vertex shading.

A light is ``LIGHT_DIM = 27`` numbers: for red, green and blue in turn, the 9 real spherical-harmonic coefficients
(bands l = 0, 1, 2; basis order ``SH_NAMES``) of the **shading function** ``S(n)``, the Lambert-convolved
environment divided by π: a vertex with albedo ``a`` and unit normal ``n`` gets the colour ``o · a ⊙ S(n)``,
clipped to [0, 1]. For an environment of radiance ``L(ω)`` with SH coefficients ``L_lm``, ``S_lm = Â_l L_lm / π``
with ``Â_l / π = (1, 2/3, 1/4)`` (Ramamoorthi & Hanrahan 2001: order 2 keeps over 99 % of a diffuse surface's
irradiance). A uniform sky of radiance ``c`` gives ``S = c``; a distant light that lights a frontal plane with
``D·cos θ`` gives ``D·max(0, n·d)`` up to the order-2 truncation. The model frame is x right, y up, z towards the
viewer. Lights of the older 9-vector layout (ambient RGB, directional RGB, direction) are converted with
:func:`sh_from_directional`.

:func:`lighting_from_coefficients` builds the environment of a portrait: a sky brighter from above than from below
(ceiling and floor bounce) plus a key light of finite size (a window or softbox, ``KEY_RADIUS``), which softens
the terminator on the nose and cheeks as real photographs show it.

``o`` is the occlusion: the crease term below (from the deformed mesh's curvature) times the ambient occlusion of
:mod:`facesym.render.occlusion` (from the deformed mesh's own depth buffer), both computed per image.

Crease term: skin folded into a furrow (forehead lines, glabellar lines, crow's feet, the
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

__all__ = ["LIGHT_DIM", "SH_NAMES", "SH_CONSTANTS", "KEY_RADIUS", "SKY_GRADIENT", "lighting_from_coefficients",
           "default_lighting", "sh_from_directional", "sh_basis", "rotate_lighting", "prepare_lighting",
           "vertex_normals", "shade_vertices", "crease_occlusion", "LUMA", "CREASE"]

LIGHT_DIM = 27
"""Numbers per light: 9 spherical-harmonic coefficients of the shading function for each of R, G, B."""

SH_NAMES = ("1", "y", "z", "x", "xy", "yz", "3z²-1", "xz", "x²-y²")
"""The real SH basis functions of bands 0–2, in coefficient order (index l² + l + m), up to ``SH_CONSTANTS``."""

SH_CONSTANTS = (0.28209479177387814, 0.4886025119029199, 0.4886025119029199, 0.4886025119029199,
                1.0925484305920792, 1.0925484305920792, 0.31539156525252005, 1.0925484305920792,
                0.5462742152960396)
"""Normalisation of each basis function (orthonormal on the sphere)."""

_BAND = (0, 1, 1, 1, 2, 2, 2, 2, 2)
_LAMBERT = (1.0, 2.0 / 3.0, 0.25)  # Â_l / π: the clamped-cosine kernel's SH weights

LUMA = (0.299, 0.587, 0.114)
"""ITU-R BT.601 weights used for grayscale output."""

CREASE = (0.05, 3.0, 0.45)
"""Crease occlusion: gain per unit of concavity beyond the free concavity ``κ₀`` (model units⁻¹: gentle hollows of
the face, radius above half a unit, stay unshaded) and the darkest occlusion."""

KEY_RADIUS = 0.35
"""Angular radius of the key light, radians (20°: a 1 m softbox or window at 1.4 m)."""

SKY_GRADIENT = 0.3
"""The ambient sky's radiance varies as ``1 + SKY_GRADIENT · ω_y``: 30 % brighter from straight above than from
the horizon, 30 % darker from below (ceiling light, floor bounce), so the ambient light, too, shades the face from
above: brow ridge, nose and upper lip cast their soft shade downwards."""

# The reference light: frontal and above (about 26° elevation), bright enough that a frontal albedo of 1 maps to 1.
_ELEVATION = 0.45
_AMBIENT = 0.36
_DIRECTIONAL = 0.68


def sh_basis(normals: torch.Tensor) -> torch.Tensor:
    """The 9 real SH basis functions at unit vectors ``normals`` of shape ``(..., 3)``; returns ``(..., 9)``."""
    x, y, z = normals.unbind(-1)
    c = SH_CONSTANTS
    return torch.stack([torch.full_like(x, c[0]), c[1] * y, c[2] * z, c[3] * x, c[4] * x * y, c[5] * y * z,
                        c[6] * (3.0 * z * z - 1.0), c[7] * x * z, c[8] * (x * x - y * y)], dim=-1)


def _key_light(strength: torch.Tensor, direction: torch.Tensor, radius: float) -> torch.Tensor:
    """SH of the shading function of a disc light of angular ``radius`` and frontal strength ``strength`` (B, 3)
    in the unit ``direction`` (B, 3). Returns (B, 3, 9).

    A point light that lights a plane facing it with ``D`` has radiance ``π D δ(ω − d)``, so ``L_lm = π D Y_lm(d)``
    and ``S_lm = D Â_l Y_lm(d)``; a disc multiplies band l by its zonal factor ``f_l``, the mean of the Legendre
    polynomial ``P_l`` over the disc: ``f_0 = 1``, ``f_1 = (1 + cos r)/2``, ``f_2 = cos r (1 + cos r)/2``.
    """
    c = math.cos(radius)
    disc = (1.0, (1.0 + c) / 2.0, c * (1.0 + c) / 2.0)
    zonal = torch.tensor([math.pi * _LAMBERT[band] * disc[band] for band in _BAND], dtype=direction.dtype,
                         device=direction.device)
    return strength[:, :, None] * (zonal * sh_basis(direction))[:, None, :]


def sh_from_directional(ambient: torch.Tensor, directional: torch.Tensor, direction: torch.Tensor,
                        radius: float = 0.0, sky_gradient: float = 0.0) -> torch.Tensor:
    """SH lights of an ambient sky plus one distant light.

    Parameters
    ----------
    ambient
        Sky radiance RGB, shape ``(B, 3)``: a surface facing any way gets ``ambient`` (at ``sky_gradient`` 0).
    directional
        Strength RGB of the light, shape ``(B, 3)``: a plane facing it gets ``directional`` on top.
    direction
        Unit direction towards the light, shape ``(B, 3)``.
    radius
        Angular radius of the light, radians (0 = a point light, whose order-2 shading is a smoothed
        ``max(0, n·d)``).
    sky_gradient
        The sky's radiance is ``ambient · (1 + sky_gradient · ω_y)``.

    Returns
    -------
    torch.Tensor
        Lights, shape ``(B, 27)``.
    """
    sky = torch.zeros(ambient.shape[0], 3, 9, dtype=ambient.dtype, device=ambient.device)
    sky[:, :, 0] = ambient / SH_CONSTANTS[0]
    sky[:, :, 1] = ambient * (_LAMBERT[1] * sky_gradient / SH_CONSTANTS[1])
    return (sky + _key_light(directional, direction, radius)).reshape(-1, LIGHT_DIM)


def lighting_from_coefficients(coeffs: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Map an identity's standard-normal lighting draw to a plausible portrait light (SH, see the module).

    The light is a perturbation of a frontal-top key light of angular radius ``KEY_RADIUS`` plus a sky brighter
    from above (``SKY_GRADIENT``); each coefficient moves one property and is squashed with ``tanh`` so that even
    extreme draws stay plausible:

    - ``c[0]``: azimuth of the key light, ±0.30 rad per unit (limit ±0.6 rad); positive = from the model's +x side;
    - ``c[1]``: elevation, 0.45 ± 0.15 rad per unit (limits 0.15…0.75 rad);
    - ``c[2]``: sky (ambient) level, 0.36 ± 0.06 per unit;
    - ``c[3]``: key light level, 0.68 ± 0.08 per unit;
    - ``c[4]`` (optional): colour temperature, warm for positive values, ±4 % red/blue per unit.

    Missing coefficients take their reference value (0); coefficients beyond the fifth are ignored.

    Parameters
    ----------
    coeffs
        Shape ``(B, L)`` or ``(L,)``, standard-normal units, any ``L >= 0``.

    Returns
    -------
    torch.Tensor
        Lights, shape ``(B, 27)`` (or ``(1, 27)`` for a 1-D input), float32, on ``coeffs``' device.
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
    return sh_from_directional(ambient[:, None] * tint, directional[:, None] * tint, direction, KEY_RADIUS,
                               SKY_GRADIENT)


def rotate_lighting(lighting: torch.Tensor, rotation: torch.Tensor) -> torch.Tensor:
    """Turn SH lights: the environment rotated by ``rotation``, so that ``S'(n) = S(Rᵀ n)``.

    Order-2 SH are closed under rotation; the rotated coefficients are recovered exactly (to float rounding) by
    least squares from the shading at 32 spread directions.

    Parameters
    ----------
    lighting
        Shape ``(B, 27)``.
    rotation
        Rotation matrices, shape ``(B, 3, 3)`` (a light from direction ``d`` then comes from ``R d``).

    Returns
    -------
    torch.Tensor
        Shape ``(B, 27)``.
    """
    k = torch.arange(32, dtype=torch.float64) + 0.5
    z = 1.0 - 2.0 * k / 32
    phi = math.pi * (1.0 + math.sqrt(5.0)) * k
    r = torch.sqrt(1.0 - z * z)
    points = torch.stack([r * torch.cos(phi), r * torch.sin(phi), z], dim=1)  # (M, 3)
    fit = torch.linalg.pinv(sh_basis(points))  # (9, M)
    rot = rotation.to(torch.float64)
    back = torch.einsum("bji,mj->bmi", rot, points)  # Rᵀ n
    values = torch.einsum("bmk,bck->bmc", sh_basis(back), lighting.to(torch.float64).reshape(-1, 3, 9))
    return torch.einsum("km,bmc->bck", fit, values).reshape(-1, LIGHT_DIM).to(lighting.dtype)


def default_lighting(batch: int = 1, device: torch.device | str = "cpu") -> torch.Tensor:
    """The reference light (all coefficients zero), shape ``(batch, 27)``."""
    return lighting_from_coefficients(torch.zeros(batch, 0)).expand(batch, -1).to(device)


def prepare_lighting(lighting: torch.Tensor | np.ndarray | None, batch: int, device: torch.device) -> torch.Tensor:
    """Lights for a batch, shape ``(batch, 27)`` float32 on ``device``.

    ``None`` is the reference light; a light of the older 9-vector layout (ambient RGB, directional RGB, direction;
    shape ``(B, 9)`` or ``(9,)``) becomes its SH with a point light and a uniform sky.
    """
    if lighting is None:
        return default_lighting(batch, device)
    light = torch.as_tensor(lighting, dtype=torch.float32, device=device)
    if light.dim() == 1:
        light = light[None]
    if light.dim() != 2 or light.shape[1] not in (LIGHT_DIM, 9) or light.shape[0] not in (1, batch):
        raise ValueError(
            f"lighting must have shape ({batch}, {LIGHT_DIM}) or ({LIGHT_DIM},): 9 spherical-harmonic coefficients "
            f"for each of R, G, B (or the 9-vector ambient RGB, directional RGB, direction); got "
            f"{tuple(light.shape)}. Map an identity's standard-normal lighting draw with "
            "lighting_from_coefficients() first."
        )
    if light.shape[1] == 9:
        direction = light[:, 6:9] / torch.linalg.vector_norm(light[:, 6:9], dim=1, keepdim=True).clamp_min(1e-12)
        light = sh_from_directional(light[:, 0:3], light[:, 3:6], direction)
    return light.expand(batch, -1).contiguous()


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


def shade_vertices(albedo: torch.Tensor, normals: torch.Tensor, lighting: torch.Tensor,
                   lost: torch.Tensor | None = None) -> torch.Tensor:
    """Diffuse colour per vertex under SH lights: ``albedo ⊙ (S(n) − lost)``, clipped to [0, 1].

    Parameters
    ----------
    albedo
        Shape ``(B, N, 3)`` in [0, 1] (occlusion already multiplied in).
    normals
        Unit normals, shape ``(B, N, 3)``.
    lighting
        Lights, shape ``(B, 27)``.
    lost
        Shading the vertex does not receive, shape ``(B, N, 3)`` (the key light's cast shadow,
        :mod:`facesym.render.shadow`); ``None`` = none.

    Returns
    -------
    torch.Tensor
        Shaded colours, shape ``(B, N, 3)``, in [0, 1].
    """
    sh = lighting.reshape(-1, 3, 9)
    shading = torch.einsum("bnk,bck->bnc", sh_basis(normals), sh)
    if lost is not None:
        shading = shading - lost
    return (albedo * shading).clamp(0.0, 1.0)
