"""Batched rendering of face meshes: orthographic camera, z-buffer, per-vertex albedo, spherical-harmonic lighting
with ambient occlusion and the key light's soft cast shadow.

Two backends draw the same images: ``"numba"`` (CPU, one image per thread) and ``"torch"`` (any torch device,
e.g. CUDA). See :mod:`facesym.render.raster_numba` for the rasterisation rules both follow.
"""

from __future__ import annotations

import numpy as np
import torch

from facesym.render.camera import OrthographicCamera, image_shape
from facesym.render.occlusion import horizon_occlusion
from facesym.render.shading import (
    LIGHT_DIM,
    LUMA,
    crease_occlusion,
    lighting_from_coefficients,
    prepare_lighting,
    shade_vertices,
    vertex_normals,
)
from facesym.render.shadow import KEY_DIM, key_light, key_shading, key_shadow

__all__ = ["render", "render_depth", "lighting_from_coefficients", "OrthographicCamera", "LIGHT_DIM", "BACKENDS"]

BACKENDS = ("numba", "torch")
DEFAULT_CAMERA = OrthographicCamera()
BACKGROUND = 0.45
"""Default backdrop grey level, in [0, 1]."""


def _check_backend(backend: str, device: torch.device) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"unknown render backend {backend!r}; choose one of {BACKENDS}")
    if backend == "numba" and device.type != "cpu":
        raise ValueError(f"the numba backend renders on the CPU only; use backend='torch' for device {device}")


def _prepare(vertices: torch.Tensor | np.ndarray, triangles: torch.Tensor | np.ndarray, device: str | torch.device,
             backend: str) -> tuple[torch.Tensor, torch.Tensor, torch.device]:
    dev = torch.device(device)
    _check_backend(backend, dev)
    verts = torch.as_tensor(vertices, dtype=torch.float32).to(dev)
    if verts.dim() == 2:
        verts = verts[None]
    if verts.dim() != 3 or verts.shape[2] != 3:
        raise ValueError(f"vertices must have shape (B, N, 3), got {tuple(verts.shape)}")
    tris = torch.as_tensor(triangles, dtype=torch.int64).to(dev)
    if tris.dim() != 2 or tris.shape[1] != 3:
        raise ValueError(f"triangles must have shape (F, 3), got {tuple(tris.shape)}")
    # numpy's reductions: torch's spin up threads, which costs more than the check on a busy machine.
    flat = tris.cpu().numpy()
    if flat.size and (flat.min() < 0 or flat.max() >= verts.shape[1]):
        raise ValueError(f"triangle indices must lie in [0, {verts.shape[1]})")
    return verts, tris, dev


def render(
    vertices: torch.Tensor | np.ndarray,
    triangles: torch.Tensor | np.ndarray,
    vertex_colors: torch.Tensor | np.ndarray,
    *,
    size: int | tuple[int, int],
    lighting: torch.Tensor | np.ndarray | None = None,
    color: str = "rgb",
    backend: str = "numba",
    device: str | torch.device = "cpu",
    camera: OrthographicCamera | None = None,
    background: float = BACKGROUND,
    shadows: bool = True,
) -> torch.Tensor:
    """Render a batch of meshes.

    Parameters
    ----------
    vertices
        Shape ``(B, N, 3)`` (or ``(N, 3)`` for one mesh), model units: x right, y up, z towards the camera.
    triangles
        Shape ``(F, 3)``, vertex indices (either winding is drawn).
    vertex_colors
        Albedo per vertex, shape ``(B, N, 3)`` or ``(N, 3)`` (shared by all images), in [0, 1].
    size
        Image size in pixels, int (square) or ``(H, W)``.
    lighting
        Lights, shape ``(B, 27)`` or ``(27,)``: 9 spherical-harmonic coefficients of the shading per colour
        channel, as returned by :func:`lighting_from_coefficients` (see :mod:`facesym.render.shading`; the older
        9-vector of ambient RGB, directional RGB and direction is accepted too); ``None`` = the reference
        frontal-top light.
    color
        ``"rgb"`` (3 channels) or ``"gray"`` (1 channel, BT.601 luma of the shaded RGB).
    backend
        ``"numba"`` (CPU) or ``"torch"`` (any device).
    device
        Device of the computation and of the result; the numba backend needs ``"cpu"``.
    camera
        Orthographic camera; ``None`` = the frame of the procedural face (use ``model.camera`` for other
        models).
    background
        Value of pixels not covered by the mesh, in every channel; default a mid grey like the plain backdrop of
        posed face datasets (black makes every silhouette an edge no photograph has).
    shadows
        Let the key light cast soft shadows (:mod:`facesym.render.shadow`); False draws the images of the
        renderer without them (for comparisons and timings).

    Returns
    -------
    torch.Tensor
        Images, shape ``(B, C, H, W)``, float32 in [0, 1], on ``device``.
    """
    if color not in ("rgb", "gray"):
        raise ValueError(f"color must be 'rgb' or 'gray', got {color!r}")
    verts, tris, dev = _prepare(vertices, triangles, device, backend)
    batch, n_vertices = verts.shape[:2]
    albedo = torch.as_tensor(vertex_colors, dtype=torch.float32).to(dev)
    if albedo.dim() == 2:
        albedo = albedo[None]
    if albedo.dim() != 3 or albedo.shape[1:] != (n_vertices, 3) or albedo.shape[0] not in (1, batch):
        raise ValueError(f"vertex_colors must have shape ({batch}, {n_vertices}, 3) or ({n_vertices}, 3), "
                         f"got {tuple(albedo.shape)}")
    light = prepare_lighting(lighting, batch, dev)
    # A key light of strength 0 casts nothing: both backends then skip the shadow test.
    key = key_light(light) if shadows else torch.zeros(batch, KEY_DIM, device=dev)
    height, width = image_shape(size)
    camera = camera or DEFAULT_CAMERA
    channels = 3 if color == "rgb" else 1

    if backend == "numba":
        from facesym.render.raster_numba import render_shaded

        out = render_shaded(verts.contiguous().numpy(), tris.contiguous().numpy(), albedo.contiguous().numpy(),
                            light.contiguous().numpy(), key.contiguous().numpy(), camera.screen_params(height, width),
                            height, width, channels, background)
        return torch.from_numpy(out)

    from facesym.render.raster_torch import rasterize

    screen = camera.project(verts, (height, width))
    normals = vertex_normals(verts, tris)
    depth = rasterize(screen, tris, None, height, width, background)[0]
    scale = float(camera.screen_params(height, width)[2])
    occlusion = crease_occlusion(verts, tris) * horizon_occlusion(screen, normals, depth, scale, tris)
    lost = None
    if shadows:
        shadowed = 1.0 - key_shadow(screen, depth, key, scale, tris)
        mu = (normals * key[:, None, :3]).sum(-1, keepdim=True)
        lost = shadowed * key_shading(mu, key[:, None, 3:])
    shaded = shade_vertices(albedo * occlusion, normals, light, lost)
    if color == "gray":
        luma = torch.tensor(LUMA, dtype=torch.float32, device=dev)
        shaded = (shaded * luma).sum(-1, keepdim=True)
    return rasterize(screen, tris, shaded, height, width, background)[1]


def render_depth(
    vertices: torch.Tensor | np.ndarray,
    triangles: torch.Tensor | np.ndarray,
    *,
    size: int | tuple[int, int],
    backend: str = "numba",
    device: str | torch.device = "cpu",
    camera: OrthographicCamera | None = None,
) -> torch.Tensor:
    """Depth-only rasterisation (no shading, no colour): the nearest z per pixel.

    Parameters as in :func:`render`. Returns shape ``(B, H, W)`` float32, model units, ``-inf`` where the mesh
    does not cover the pixel.
    """
    verts, tris, dev = _prepare(vertices, triangles, device, backend)
    height, width = image_shape(size)
    camera = camera or DEFAULT_CAMERA
    if backend == "numba":
        from facesym.render.raster_numba import render_depth as numba_depth

        return torch.from_numpy(numba_depth(verts.contiguous().numpy(), tris.contiguous().numpy(),
                                            camera.screen_params(height, width), height, width))

    from facesym.render.raster_torch import rasterize

    return rasterize(camera.project(verts, (height, width)), tris, None, height, width, 0.0)[0]
