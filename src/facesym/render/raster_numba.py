"""CPU rasteriser: numba kernels, one image per thread.

Both backends follow the same rules so that they draw the same pixels:

- pixel ``(i, j)`` is sampled at its centre ``(i + 0.5, j + 0.5)``;
- a pixel is inside a triangle when no edge function has the opposite sign of the triangle's area (edges
  inclusive). Each edge function is evaluated relative to the edge's lower-indexed vertex, so the two triangles
  sharing an edge compute exactly opposite values and a closed mesh has no holes between its triangles;
- the nearest fragment (largest z) wins; among equal depths the lower triangle index wins;
- depth and colour are interpolated linearly (orthographic projection needs no perspective correction).

Shading is per vertex (Gouraud): order-2 spherical-harmonic lighting of area-weighted vertex normals
(:mod:`facesym.render.shading`), times the crease occlusion (from the uniform Laplacian of the same one-ring sums)
and the horizon-based ambient occlusion of :mod:`facesym.render.occlusion`, read from the image's own depth buffer,
less the key light where the face shades it (:mod:`facesym.render.shadow`, same depth buffer). Shading is therefore
deferred: a first pass over the triangles fills the depth buffer and keeps the winning triangle and barycentrics per
pixel, the vertices are shaded, and a pass over the pixels interpolates.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from facesym.render.occlusion import AO_MIN_NZ, ao_sampling, coarse_vertices
from facesym.render.shading import CREASE, KEY_RADIUS, SH_CONSTANTS
from facesym.render.shadow import KEY_TERMS, shadow_steps

__all__ = ["render_shaded", "render_depth"]

_HALF = np.float32(0.5)
_ZERO = np.float32(0.0)
_ONE = np.float32(1.0)
_NO_DEPTH = np.float32(-np.inf)
_TWO = np.float32(2.0)
_THREE_HALVES = np.float32(1.5)
_EDGE_FROM_AREA = np.float32(2.0 / np.sqrt(3.0))  # ℓ² = 4/√3 · area = 2/√3 · |area-weighted normal sum|
CREASE_GAIN = np.float32(CREASE[0])
CREASE_FREE = np.float32(CREASE[1])
CREASE_FLOOR = np.float32(CREASE[2])
_LUMA = (np.float32(0.299), np.float32(0.587), np.float32(0.114))
_SH = tuple(np.float32(c) for c in SH_CONSTANTS)
AO_MIN_NZ = np.float32(AO_MIN_NZ)
_KEY_RADIUS = np.float32(KEY_RADIUS)
_KEY_TERMS = tuple(np.float32(k) for k in KEY_TERMS)
_THREE = np.float32(3.0)


@njit(cache=True, inline="always")
def _unit(value):
    return min(max(value, _ZERO), _ONE)


@njit(cache=True, inline="always")
def _edge_setup(xs, ys, a, b):
    # Canonical orientation (low index → high index) makes the edge function exactly antisymmetric in (a, b):
    # the two triangles sharing an edge never both reject a pixel centre on it.
    if a < b:
        return xs[a], ys[a], xs[b] - xs[a], ys[b] - ys[a], _ONE
    return xs[b], ys[b], xs[a] - xs[b], ys[a] - ys[b], -_ONE


@njit(cache=True)
def _rasterize(xs, ys, zs, tris, zbuf, face, bary, keep):
    # ``keep``: also record the winning triangle and its barycentrics per pixel (for the deferred shading).
    height, width = zbuf.shape
    for f in range(tris.shape[0]):
        i0, i1, i2 = tris[f, 0], tris[f, 1], tris[f, 2]
        x0, x1, x2 = xs[i0], xs[i1], xs[i2]
        y0, y1, y2 = ys[i0], ys[i1], ys[i2]
        col_lo = max(int(np.ceil(min(x0, x1, x2) - _HALF)), 0)
        col_hi = min(int(np.floor(max(x0, x1, x2) - _HALF)), width - 1)
        if col_hi < col_lo:
            continue
        row_lo = max(int(np.ceil(min(y0, y1, y2) - _HALF)), 0)
        row_hi = min(int(np.floor(max(y0, y1, y2) - _HALF)), height - 1)
        if row_hi < row_lo:
            continue
        area = (x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0)
        if area == _ZERO:
            continue
        # Orient every edge function so that inside means >= 0, whatever the triangle's winding.
        orient = _ONE if area > _ZERO else -_ONE
        ax0, ay0, adx, ady, as0 = _edge_setup(xs, ys, i1, i2)
        ax1, ay1, bdx, bdy, as1 = _edge_setup(xs, ys, i2, i0)
        ax2, ay2, cdx, cdy, as2 = _edge_setup(xs, ys, i0, i1)
        as0 *= orient
        as1 *= orient
        as2 *= orient
        inv_area = _ONE / (area * orient)
        z0, z1, z2 = zs[i0], zs[i1], zs[i2]
        for row in range(row_lo, row_hi + 1):
            py = np.float32(row) + _HALF
            for col in range(col_lo, col_hi + 1):
                px = np.float32(col) + _HALF
                w0 = as0 * (adx * (py - ay0) - ady * (px - ax0))
                w1 = as1 * (bdx * (py - ay1) - bdy * (px - ax1))
                w2 = as2 * (cdx * (py - ay2) - cdy * (px - ax2))
                if w0 < _ZERO or w1 < _ZERO or w2 < _ZERO:
                    continue
                l0 = w0 * inv_area
                l1 = w1 * inv_area
                l2 = w2 * inv_area
                z = l0 * z0 + l1 * z1 + l2 * z2
                if z > zbuf[row, col]:
                    zbuf[row, col] = z
                    if keep:
                        face[row, col] = f
                        bary[row, col, 0] = l0
                        bary[row, col, 1] = l1
                        bary[row, col, 2] = l2


@njit(cache=True, inline="always")
def _depth_at(zbuf, sx, sy):
    """The depth buffer at pixel position ``(sx, sy)``, truncated to its pixel: ``(depth, col, row)``; the depth is
    ``-inf`` outside the image as on the backdrop."""
    height, width = zbuf.shape
    if sx < _ZERO or sy < _ZERO:
        return _NO_DEPTH, 0, 0
    col = int(sx)
    row = int(sy)
    if col >= width or row >= height:
        return _NO_DEPTH, 0, 0
    return zbuf[row, col], col, row


@njit(cache=True)
def _shade(world, tris, albedo, light, key, gray, xs, ys, zbuf, offsets, inv_radii, steps, inv_scale, coarse, indptr,
           indices, out_colors):
    n_vertices = world.shape[0]
    normals = np.zeros((n_vertices, 3), dtype=np.float32)
    # One-ring sums for the crease term: the corner sum of every incident triangle, and their count.
    ring = np.zeros((n_vertices, 4), dtype=np.float32)
    for f in range(tris.shape[0]):
        a, b, c = tris[f, 0], tris[f, 1], tris[f, 2]
        sx = world[a, 0] + world[b, 0] + world[c, 0]
        sy = world[a, 1] + world[b, 1] + world[c, 1]
        sz = world[a, 2] + world[b, 2] + world[c, 2]
        ring[a, 0] += sx
        ring[a, 1] += sy
        ring[a, 2] += sz
        ring[a, 3] += _ONE
        ring[b, 0] += sx
        ring[b, 1] += sy
        ring[b, 2] += sz
        ring[b, 3] += _ONE
        ring[c, 0] += sx
        ring[c, 1] += sy
        ring[c, 2] += sz
        ring[c, 3] += _ONE
        e1x, e1y, e1z = world[b, 0] - world[a, 0], world[b, 1] - world[a, 1], world[b, 2] - world[a, 2]
        e2x, e2y, e2z = world[c, 0] - world[a, 0], world[c, 1] - world[a, 1], world[c, 2] - world[a, 2]
        nx = e1y * e2z - e1z * e2y
        ny = e1z * e2x - e1x * e2z
        nz = e1x * e2y - e1y * e2x
        normals[a, 0] += nx
        normals[a, 1] += ny
        normals[a, 2] += nz
        normals[b, 0] += nx
        normals[b, 1] += ny
        normals[b, 2] += nz
        normals[c, 0] += nx
        normals[c, 1] += ny
        normals[c, 2] += nz
    # Horizon-based ambient occlusion from the depth buffer (facesym.render.occlusion), sampled at the coarse
    # vertices; the others take their coarse neighbours' mean.
    ao = np.ones(n_vertices, dtype=np.float32)
    n_dirs, n_radii = offsets.shape[0], offsets.shape[1]
    inv_dirs = _ONE / np.float32(n_dirs)
    # The key light's cast shadow (facesym.render.shadow): a horizon along the light's direction in the image.
    visible = np.ones(n_vertices, dtype=np.float32)
    planar = np.float32(np.sqrt(key[0] * key[0] + key[1] * key[1]))
    lit_axis = planar < np.float32(1e-3) or (key[3] <= _ZERO and key[4] <= _ZERO and key[5] <= _ZERO)
    ux = _ZERO if lit_axis else key[0] / planar
    uy = _ZERO if lit_axis else key[1] / planar
    light_angle = np.float32(np.arctan2(key[2], planar))
    min_along = _HALF * inv_scale
    for v in range(n_vertices):
        if not coarse[v]:
            continue
        norm = max(np.sqrt(normals[v, 0] * normals[v, 0] + normals[v, 1] * normals[v, 1]
                           + normals[v, 2] * normals[v, 2]), np.float32(1e-12))
        nx = normals[v, 0] / norm
        ny = normals[v, 1] / norm
        nz = normals[v, 2] / norm
        inv_nz = _ONE / max(nz, AO_MIN_NZ)
        px = xs[v]
        py = ys[v]
        occluded = _ZERO
        for k in range(n_dirs):
            horizon = _ZERO
            for r in range(n_radii):
                sample, col, row = _depth_at(zbuf, px + offsets[k, r, 0], py + offsets[k, r, 1])
                if sample == -np.inf:
                    continue
                dx = (np.float32(col) + _HALF - px) * inv_scale
                dy = (py - (np.float32(row) + _HALF)) * inv_scale
                # Height above the tangent plane, per unit of the sampling distance.
                rise = (sample - world[v, 2] + (nx * dx + ny * dy) * inv_nz) * inv_radii[r]
                horizon = max(horizon, rise)
            squared = horizon * horizon
            occluded += squared / (_ONE + squared)
        ao[v] = min(max(_ONE - occluded * inv_dirs, _ZERO), _ONE)
        if lit_axis:
            continue
        rise = np.float32(-1e30)
        for m in range(steps.shape[0]):
            sample, col, row = _depth_at(zbuf, px + ux * steps[m], py - uy * steps[m])
            if sample == -np.inf:
                continue
            along = ((np.float32(col) + _HALF - px) * ux + (py - (np.float32(row) + _HALF)) * uy) * inv_scale
            if along > min_along:
                rise = max(rise, (sample - world[v, 2]) / along)
        u = min(max((light_angle - np.float32(np.arctan(rise)) + _KEY_RADIUS) / (_TWO * _KEY_RADIUS), _ZERO), _ONE)
        visible[v] = u * u * (_THREE - _TWO * u)
    for v in range(n_vertices):
        if coarse[v]:
            continue
        lo, hi = indptr[v], indptr[v + 1]
        if hi > lo:
            total = _ZERO
            lit = _ZERO
            for j in range(lo, hi):
                total += ao[indices[j]]
                lit += visible[indices[j]]
            ao[v] = total / np.float32(hi - lo)
            visible[v] = lit / np.float32(hi - lo)
    rgb = np.empty(3, dtype=np.float32)
    for v in range(n_vertices):
        norm = np.sqrt(normals[v, 0] * normals[v, 0] + normals[v, 1] * normals[v, 1] + normals[v, 2] * normals[v, 2])
        norm = max(norm, np.float32(1e-12))
        nx = normals[v, 0] / norm
        ny = normals[v, 1] / norm
        nz = normals[v, 2] / norm
        occ = _ONE
        count = ring[v, 3]
        if count > _ZERO:
            # L = Σ(corner sums)/(2 count) − 1.5 v; ℓ² from the one-ring's area (|Σ area-weighted normals| = twice
            # the area; an equilateral triangle of side ℓ has area √3/4 ℓ²).
            half = _HALF / count
            lap = ((ring[v, 0] * half - _THREE_HALVES * world[v, 0]) * normals[v, 0]
                   + (ring[v, 1] * half - _THREE_HALVES * world[v, 1]) * normals[v, 1]
                   + (ring[v, 2] * half - _THREE_HALVES * world[v, 2]) * normals[v, 2]) / norm
            edge_sq = max(_EDGE_FROM_AREA * norm / count, np.float32(1e-12))
            occ = min(max(_ONE - CREASE_GAIN * (_TWO * lap / edge_sq - CREASE_FREE), CREASE_FLOOR), _ONE)
        occ *= ao[v]
        basis1 = _SH[1] * ny
        basis2 = _SH[2] * nz
        basis3 = _SH[3] * nx
        basis4 = _SH[4] * nx * ny
        basis5 = _SH[5] * ny * nz
        basis6 = _SH[6] * (np.float32(3.0) * nz * nz - _ONE)
        basis7 = _SH[7] * nx * nz
        basis8 = _SH[8] * (nx * nx - ny * ny)
        mu = nx * key[0] + ny * key[1] + nz * key[2]
        lost = (_ONE - visible[v]) * (_KEY_TERMS[0] + _KEY_TERMS[1] * mu + _KEY_TERMS[2] * (_THREE * mu * mu - _ONE))
        for c in range(3):
            o = 9 * c
            shading = (light[o] * _SH[0] + light[o + 1] * basis1 + light[o + 2] * basis2 + light[o + 3] * basis3
                       + light[o + 4] * basis4 + light[o + 5] * basis5 + light[o + 6] * basis6
                       + light[o + 7] * basis7 + light[o + 8] * basis8) - lost * key[3 + c]
            rgb[c] = min(max(albedo[v, c] * occ * shading, _ZERO), _ONE)
        if gray:
            out_colors[v, 0] = _LUMA[0] * rgb[0] + _LUMA[1] * rgb[1] + _LUMA[2] * rgb[2]
        else:
            out_colors[v, 0] = rgb[0]
            out_colors[v, 1] = rgb[1]
            out_colors[v, 2] = rgb[2]


@njit(cache=True)
def _project(world, camera, xs, ys):
    # Same float32 operations as OrthographicCamera.project, so both backends see identical pixel positions.
    cx, cy, scale, off_x, off_y = camera[0], camera[1], camera[2], camera[3], camera[4]
    for v in range(world.shape[0]):
        xs[v] = (world[v, 0] - cx) * scale + off_x
        ys[v] = (cy - world[v, 1]) * scale + off_y


@njit(cache=True)
def _resolve(tris, colors, face, bary, img):
    # The unrolled channel writes are much faster than a channel loop.
    height, width = face.shape
    n_channels = img.shape[0]
    for row in range(height):
        for col in range(width):
            f = face[row, col]
            if f < 0:
                continue
            i0, i1, i2 = tris[f, 0], tris[f, 1], tris[f, 2]
            l0, l1, l2 = bary[row, col, 0], bary[row, col, 1], bary[row, col, 2]
            # Barycentrics sum to 1 only up to rounding: clip so images stay within [0, 1].
            img[0, row, col] = _unit(l0 * colors[i0, 0] + l1 * colors[i1, 0] + l2 * colors[i2, 0])
            if n_channels == 3:
                img[1, row, col] = _unit(l0 * colors[i0, 1] + l1 * colors[i1, 1] + l2 * colors[i2, 1])
                img[2, row, col] = _unit(l0 * colors[i0, 2] + l1 * colors[i1, 2] + l2 * colors[i2, 2])


@njit(parallel=True, cache=True)
def _shaded_kernel(world, tris, albedo, light, key, camera, background, offsets, inv_radii, steps, coarse, indptr,
                   indices, out):
    batch, n_vertices = world.shape[0], world.shape[1]
    n_channels, height, width = out.shape[1], out.shape[2], out.shape[3]
    gray = n_channels == 1
    shared = albedo.shape[0] == 1
    for b in prange(batch):
        xs = np.empty(n_vertices, dtype=np.float32)
        ys = np.empty(n_vertices, dtype=np.float32)
        _project(world[b], camera, xs, ys)
        zbuf = np.full((height, width), -np.inf, dtype=np.float32)
        face = np.full((height, width), -1, dtype=np.int32)
        bary = np.empty((height, width, 3), dtype=np.float32)
        _rasterize(xs, ys, world[b, :, 2], tris, zbuf, face, bary, True)
        colors = np.empty((n_vertices, n_channels), dtype=np.float32)
        _shade(world[b], tris, albedo[0] if shared else albedo[b], light[b], key[b], gray, xs, ys, zbuf, offsets,
               inv_radii, steps, _ONE / camera[2], coarse, indptr, indices, colors)
        img = out[b]
        img[:] = background
        _resolve(tris, colors, face, bary, img)


@njit(parallel=True, cache=True)
def _depth_kernel(world, tris, camera, out):
    batch, n_vertices = world.shape[0], world.shape[1]
    dummy_face = np.empty((1, 1), dtype=np.int32)
    dummy_bary = np.empty((1, 1, 3), dtype=np.float32)
    for b in prange(batch):
        xs = np.empty(n_vertices, dtype=np.float32)
        ys = np.empty(n_vertices, dtype=np.float32)
        _project(world[b], camera, xs, ys)
        zbuf = out[b]
        zbuf[:] = -np.inf
        _rasterize(xs, ys, world[b, :, 2], tris, zbuf, dummy_face, dummy_bary, False)


def render_shaded(world: np.ndarray, triangles: np.ndarray, albedo: np.ndarray, lighting: np.ndarray, key: np.ndarray,
                  camera: np.ndarray, height: int, width: int, channels: int, background: float) -> np.ndarray:
    """Project, shade and rasterise a batch.

    Parameters
    ----------
    world
        Model-frame vertices, shape ``(B, N, 3)`` float32.
    triangles
        Shape ``(F, 3)`` int64.
    albedo
        Shape ``(B, N, 3)`` or ``(1, N, 3)`` float32 in [0, 1].
    lighting
        Shape ``(B, 27)`` float32 (SH coefficients), see :mod:`facesym.render.shading`.
    key
        Shape ``(B, 6)`` float32: the key light inside ``lighting`` (:func:`facesym.render.shadow.key_light`).
    camera
        ``(center_x, center_y, scale, offset_x, offset_y)`` float32, see ``OrthographicCamera.screen_params``.
    height, width, channels
        Output size; ``channels`` is 3 (RGB) or 1 (BT.601 luma).
    background
        Value of pixels no triangle covers.

    Returns
    -------
    np.ndarray
        Images, shape ``(B, channels, height, width)`` float32.
    """
    out = np.empty((world.shape[0], channels, height, width), dtype=np.float32)
    offsets, inv_radii = ao_sampling(float(camera[2]), height, width)
    steps = shadow_steps(float(camera[2]), height, width)
    coarse, indptr, indices = coarse_vertices(triangles, world.shape[1])
    _shaded_kernel(world, triangles, albedo, lighting, key, camera, np.float32(background), offsets, inv_radii, steps,
                   coarse, indptr, indices, out)
    return out


def render_depth(world: np.ndarray, triangles: np.ndarray, camera: np.ndarray, height: int, width: int) -> np.ndarray:
    """Depth-only rasterisation: the z of the nearest surface per pixel, ``-inf`` where nothing is drawn.

    Parameters as in :func:`render_shaded`; returns shape ``(B, height, width)`` float32.
    """
    out = np.empty((world.shape[0], height, width), dtype=np.float32)
    _depth_kernel(world, triangles, camera, out)
    return out
