"""Soft shadows cast by the key light, per vertex, from the mesh's own depth buffer (both backends).

The lights of :func:`facesym.render.shading.lighting_from_coefficients` are a sky plus a key light of angular radius
``KEY_RADIUS`` (a softbox or window). Order-2 SH shading gives the key light's attached shadow (skin turned away
from it) but no cast shadow: without one the nose, the brow ridge and the lower lip throw no shade on the upper lip,
the eyes and the chin, which every photograph under a key light from above shows.

**The key light of an SH light** (:func:`key_light`). A sky ``a (1 + g ω_y)`` and a disc of strength ``D`` in the
unit direction ``d`` give the band-0 coefficient ``S_0 = a / Y_0 + π D Y_0`` and the band-1 vector
``v = a (2/3) g / c_1 ŷ + π (2/3) f_1 c_1 D d`` (``c_1`` the band-1 constant, ``f_1 = (1 + cos r) / 2`` the disc's
zonal factor). With ``g = SKY_GRADIENT`` and ``r = KEY_RADIUS``, ``a``, ``D`` and ``d`` follow from ``S_0`` and ``v``
by a fixed-point iteration (a contraction: ``a`` moves ``D`` by less than half as much), per colour channel for
``a`` and ``D``, on the luminance for ``d``; the gradient's share of ``v_y`` is capped at ``v_y`` itself, so a
plain sky has no key light and a frontal point light keeps its direction (its strength reads 3 % high: a point
light lacks the disc's zonal factor). Lights built otherwise (e.g. a point light
from above without a sky gradient) get a key light a little off in elevation and strength. The key's own
order-2 shading is ``K(μ) = D [1/4 + f_1 μ / 2 + 5/32 f_2 (3 μ² − 1)]`` for ``μ = n·d`` (``f_2 = cos r · f_1``),
the terms :func:`facesym.render.shading._key_light` puts into the light.

**Visibility** (:func:`key_shadow`). The camera's depth buffer is a height field of the face seen from the front;
the key light is within 45° of the camera, so the parts of the face that shade others from it (nose, brow ridge,
lips, chin) are in it. From a vertex, the depth buffer is read at ``len(SHADOW_STEPS)`` distances ``ρ`` along the
light's direction in the image plane ``u = d_xy / |d_xy|``; a sample at depth ``z_s`` rises above the vertex at the
elevation ``atan((z_s − z) / ρ)`` (measured from the image plane along ``u``, ``ρ`` along ``u`` to the sample's own
pixel centre). The horizon ``h`` is the highest of them; the light's centre stands at ``λ = atan2(d_z, |d_xy|)``,
and the fraction of the disc above the horizon is ``smoothstep((λ − h + r) / (2 r))``: a penumbra as wide as the
light (20°), not a hard edge. A light straight along the camera axis (``|d_xy|`` below ``1e-3``) casts no shadow the
camera sees, and a key light of strength 0 none at all: both backends skip the test for them. The vertex's shading
loses ``(1 − visibility) · K(μ)``: in full shadow only the sky lights it. Like the ambient occlusion it is sampled
on the coarse vertices only (:func:`~facesym.render.occlusion. coarse_vertices`), the others take their coarse
neighbours' mean.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from facesym.render.occlusion import depth_samples, spread_to_fine
from facesym.render.shading import KEY_RADIUS, SH_CONSTANTS, SKY_GRADIENT

__all__ = ["SHADOW_STEPS", "KEY_DIM", "key_light", "key_shading", "shadow_steps", "key_shadow"]

SHADOW_STEPS = tuple(k * 0.04 / 1.35 for k in range(1, 8))
"""Distances along the light at which the depth buffer is read, fractions of the camera window's half-width: 0.04
to 0.28 units, 3 to 21 mm on the procedural face (the nose stands about 2 cm above the upper lip, the brow ridge
1–1.5 cm in front of the eyes)."""

KEY_DIM = 6
"""Numbers per key light: unit direction (x, y, z) and strength per colour channel (R, G, B)."""

_C0, _C1 = SH_CONSTANTS[0], SH_CONSTANTS[1]
_F1 = (1.0 + math.cos(KEY_RADIUS)) / 2.0
_F2 = math.cos(KEY_RADIUS) * _F1
_KEY_BAND0 = math.pi * _C0  # S_0 per unit of D
_KEY_BAND1 = math.pi * (2.0 / 3.0) * _F1 * _C1  # |v| per unit of D
_SKY_BAND1 = (2.0 / 3.0) * SKY_GRADIENT / _C1  # v_y per unit of sky radiance a
_LUMA = (0.299, 0.587, 0.114)
KEY_TERMS = (0.25, 0.5 * _F1, 5.0 / 32.0 * _F2)
"""``K(μ) = D (k0 + k1 μ + k2 (3 μ² − 1))``: the key light's order-2 shading per unit of strength."""


def key_light(lighting: torch.Tensor) -> torch.Tensor:
    """The key light inside SH lights (see the module docstring).

    Parameters
    ----------
    lighting
        Shape ``(B, 27)`` (see :mod:`facesym.render.shading`).

    Returns
    -------
    torch.Tensor
        Shape ``(B, KEY_DIM)`` float32: unit direction towards the light (model frame) and strength per channel
        (a plane facing the light gets that much on top of the sky); strength 0 where no key light is found.
    """
    sh = lighting.reshape(-1, 3, 9).to(torch.float32)
    band0 = sh[:, :, 0]
    band1 = torch.stack([sh[:, :, 3], sh[:, :, 1], sh[:, :, 2]], dim=-1)  # (B, 3 channels, xyz)
    up = torch.tensor([0.0, 1.0, 0.0], dtype=sh.dtype, device=sh.device)
    luma = torch.tensor(_LUMA, dtype=sh.dtype, device=sh.device)
    strength = band1.norm(dim=-1) / _KEY_BAND1
    # The sky's gradient takes no more of the band-1 y component than there is of it, so a light without one (a
    # plain sky, a frontal point light) is read as it is instead of gaining a key light from below.
    rising = band1[..., 1].clamp_min(0.0)
    for _ in range(12):
        sky = ((band0 - _KEY_BAND0 * strength) * _C0).clamp_min(0.0)
        key = band1 - torch.minimum(_SKY_BAND1 * sky, rising)[..., None] * up
        strength = key.norm(dim=-1) / _KEY_BAND1
    direction = (luma[None, :, None] * key).sum(1)
    norm = direction.norm(dim=-1, keepdim=True)
    direction = torch.where(norm > 1e-6, direction / norm.clamp_min(1e-12), torch.zeros_like(direction))
    # Per channel, the part of the key along the common direction.
    strength = ((key * direction[:, None, :]).sum(-1) / _KEY_BAND1).clamp_min(0.0)
    return torch.cat([direction, strength], dim=1)


def key_shading(mu: torch.Tensor, strength: torch.Tensor) -> torch.Tensor:
    """The key light's order-2 shading ``K(μ)`` for ``μ = n·d`` of any shape and strength broadcasting with it."""
    k0, k1, k2 = KEY_TERMS
    return strength * (k0 + k1 * mu + k2 * (3.0 * mu * mu - 1.0))


def shadow_steps(scale: float, height: int, width: int) -> np.ndarray:
    """The distances :data:`SHADOW_STEPS` in pixels, shape ``(M,)`` float32, for ``scale`` pixels per model unit."""
    half_extent = min(height, width) / (2.0 * float(np.float32(scale)))
    return (np.asarray(SHADOW_STEPS, dtype=np.float64) * half_extent * scale).astype(np.float32)


def key_shadow(screen: torch.Tensor, depth: torch.Tensor, key: torch.Tensor, scale: float,
               triangles: torch.Tensor | np.ndarray | None = None) -> torch.Tensor:
    """Visibility of the key light per vertex, in [0, 1] (1 = fully lit), shape ``(B, N, 1)``.

    Parameters
    ----------
    screen
        Pixel column, row and depth z per vertex, shape ``(B, N, 3)`` float32 (``OrthographicCamera.project``).
    depth
        The depth buffer of the same meshes, shape ``(B, H, W)``, ``-inf`` on the backdrop.
    key
        Key lights, shape ``(B, KEY_DIM)`` (:func:`key_light`).
    scale
        Pixels per model unit.
    triangles
        Shape ``(F, 3)``: sample the coarse vertices only, as the renderer does; ``None`` = every vertex.
    """
    height, width = depth.shape[1:]
    dev = screen.device
    steps = torch.from_numpy(shadow_steps(scale, height, width)).to(dev)
    inv_scale = torch.tensor(1.0 / np.float32(scale), dtype=torch.float32, device=dev)
    dx, dy, dz = (key[:, i, None, None] for i in range(3))  # (B, 1, 1)
    planar = torch.sqrt(dx * dx + dy * dy)
    lit_axis = planar < 1e-3
    ux = torch.where(lit_axis, torch.zeros_like(dx), dx / planar.clamp_min(1e-3))
    uy = torch.where(lit_axis, torch.zeros_like(dy), dy / planar.clamp_min(1e-3))
    x, y, z = (screen[..., i, None] for i in range(3))  # (B, N, 1)
    # float32 operations in the numba kernel's order, so both backends read the same pixels.
    col, row, sample, inside = depth_samples(depth, x + ux * steps, y - uy * steps)  # (B, N, M)
    along = ((col + 0.5 - x) * ux + (y - (row + 0.5)) * uy) * inv_scale
    used = inside & torch.isfinite(sample) & (along > 0.5 * inv_scale)
    rise = torch.where(used, (sample - z) / torch.where(used, along, torch.ones_like(along)),
                       torch.full_like(along, -1e30))
    horizon = torch.atan(rise.amax(-1))  # (B, N)
    light = torch.atan2(dz[..., 0], planar[..., 0])
    u = ((light - horizon + KEY_RADIUS) / (2.0 * KEY_RADIUS)).clamp(0.0, 1.0)
    visible = u * u * (3.0 - 2.0 * u)
    none = lit_axis[..., 0] | (key[:, None, 3:] <= 0).all(-1)
    visible = torch.where(none, torch.ones_like(visible), visible)
    if triangles is not None:
        visible = spread_to_fine(visible, triangles)
    return visible[..., None]
