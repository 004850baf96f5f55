"""Device-agnostic rasteriser in plain torch (CPU or CUDA), the same rules as :mod:`raster_numba`.

Every triangle is tested against the pixels of a ``K × K`` window at its bounding box; triangles are grouped by
bounding-box size into power-of-two ``K`` so that small triangles (nearly all of a face mesh) cost few tests.
The z-buffer is a ``scatter_reduce`` (max depth, then min triangle index among equal depths), and the colour
of every pixel is interpolated from its winning fragment.
"""

from __future__ import annotations

import torch

__all__ = ["rasterize"]

# Upper bound on (triangle, pixel) candidates processed at once; bounds memory to about a hundred MB.
_MAX_CANDIDATES = 1 << 21


def _edge_setup(xs: torch.Tensor, ys: torch.Tensor, ia: torch.Tensor, ib: torch.Tensor,
                orient: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Per-triangle terms of the edge function of ``a → b``, evaluated from the lower-indexed vertex.

    ``xs``/``ys`` are flat per-(image, vertex) coordinates; ``ia``/``ib`` flat indices whose order follows the
    mesh's vertex indices, so the same edge gives bitwise-opposite values in its two triangles. The sign is
    folded with the triangle's orientation so that inside means ``>= 0``. Shapes ``(T, 1)``.
    """
    forward = ia < ib
    lo = torch.where(forward, ia, ib)
    hi = torch.where(forward, ib, ia)
    sign = torch.where(forward, 1.0, -1.0) * orient
    return (xs[lo][:, None], ys[lo][:, None], (xs[hi] - xs[lo])[:, None], (ys[hi] - ys[lo])[:, None],
            sign[:, None])


def _edge(terms: tuple[torch.Tensor, ...], px: torch.Tensor, py: torch.Tensor) -> torch.Tensor:
    x_lo, y_lo, dx, dy, sign = terms
    return sign * (dx * (py - y_lo) - dy * (px - x_lo))


def rasterize(screen: torch.Tensor, triangles: torch.Tensor, colors: torch.Tensor | None, height: int, width: int,
              background: float) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Rasterise a batch of meshes.

    Parameters
    ----------
    screen
        Pixel column, row and depth per vertex, shape ``(B, N, 3)`` float32.
    triangles
        Shape ``(F, 3)`` int64.
    colors
        Per-vertex values in [0, 1] to interpolate (the result is clipped to [0, 1]), shape ``(B, N, C)``, or
        ``None`` for depth only.
    height, width
        Image size in pixels.
    background
        Image value where nothing is drawn.

    Returns
    -------
    depth : torch.Tensor
        Shape ``(B, H, W)``, ``-inf`` where nothing is drawn.
    image : torch.Tensor or None
        Shape ``(B, C, H, W)``, or ``None`` when ``colors`` is ``None``.
    """
    batch, n_vertices, _ = screen.shape
    device = screen.device
    xs = screen[..., 0].reshape(-1)
    ys = screen[..., 1].reshape(-1)
    zs = screen[..., 2].reshape(-1)
    n_faces = triangles.shape[0]
    # Flat vertex indices per (image, triangle); image b's vertex v is b·N + v, which keeps the mesh's order.
    base = (torch.arange(batch, device=device) * n_vertices)[:, None, None]
    corners = (triangles[None] + base).reshape(-1, 3)
    face_id = torch.arange(n_faces, device=device).repeat(batch)
    image_id = torch.arange(batch, device=device).repeat_interleave(n_faces)

    x = xs[corners]
    y = ys[corners]
    area = (x[:, 1] - x[:, 0]) * (y[:, 2] - y[:, 0]) - (y[:, 1] - y[:, 0]) * (x[:, 2] - x[:, 0])
    col_lo = torch.ceil(x.min(1).values - 0.5).clamp_min(0)
    col_hi = torch.floor(x.max(1).values - 0.5).clamp_max(width - 1)
    row_lo = torch.ceil(y.min(1).values - 0.5).clamp_min(0)
    row_hi = torch.floor(y.max(1).values - 0.5).clamp_max(height - 1)
    extent = torch.maximum(col_hi - col_lo, row_hi - row_lo) + 1
    drawable = (area != 0) & (col_hi >= col_lo) & (row_hi >= row_lo)

    depth = torch.full((batch * height * width,), -torch.inf, dtype=torch.float32, device=device)
    frag_pixel, frag_z, frag_tri, frag_l = [], [], [], []
    window = 1
    max_extent = int(extent[drawable].max()) if bool(drawable.any()) else 0
    while window < 2 * max_extent:
        lower = window // 2
        group = torch.nonzero(drawable & (extent > lower) & (extent <= window)).flatten()
        offsets = torch.arange(window, device=device)
        dc = offsets.repeat(window)[None]
        dr = offsets.repeat_interleave(window)[None]
        for chunk in torch.split(group, max(1, _MAX_CANDIDATES // (window * window))):
            col = col_lo[chunk, None] + dc
            row = row_lo[chunk, None] + dr
            valid = (col <= col_hi[chunk, None]) & (row <= row_hi[chunk, None])
            px = col + 0.5
            py = row + 0.5
            c0, c1, c2 = corners[chunk, 0], corners[chunk, 1], corners[chunk, 2]
            orient = torch.where(area[chunk] > 0, 1.0, -1.0)
            w0 = _edge(_edge_setup(xs, ys, c1, c2, orient), px, py)
            w1 = _edge(_edge_setup(xs, ys, c2, c0, orient), px, py)
            w2 = _edge(_edge_setup(xs, ys, c0, c1, orient), px, py)
            inside = valid & (w0 >= 0) & (w1 >= 0) & (w2 >= 0)
            inv_area = (1.0 / (area[chunk] * orient))[:, None]
            l0, l1, l2 = w0 * inv_area, w1 * inv_area, w2 * inv_area
            z = l0 * zs[c0, None] + l1 * zs[c1, None] + l2 * zs[c2, None]
            pixel = image_id[chunk, None] * (height * width) + row.long() * width + col.long()
            sel = inside.nonzero(as_tuple=True)
            frag_pixel.append(pixel[sel])
            frag_z.append(z[sel])
            frag_tri.append(chunk[sel[0]])
            frag_l.append(torch.stack([l0[sel], l1[sel], l2[sel]], dim=1))
        window *= 2

    if not frag_pixel:
        image = None
        if colors is not None:
            image = torch.full((batch, colors.shape[2], height, width), background, dtype=torch.float32,
                               device=device)
        return depth.reshape(batch, height, width), image

    pixel = torch.cat(frag_pixel)
    z = torch.cat(frag_z)
    tri = torch.cat(frag_tri)
    depth.scatter_reduce_(0, pixel, z, reduce="amax")
    front = z == depth[pixel]
    # Among fragments at the winning depth, the lowest triangle index wins (numba draws in index order).
    face_of_frag = face_id[tri]
    best_face = torch.full_like(depth, n_faces, dtype=torch.int64)
    best_face.scatter_reduce_(0, pixel[front], face_of_frag[front], reduce="amin")
    depth = depth.reshape(batch, height, width)
    if colors is None:
        return depth, None

    win = front & (face_of_frag == best_face[pixel])
    lam = torch.cat(frag_l)[win]
    corner = corners[tri[win]]
    flat_colors = colors.reshape(batch * n_vertices, -1).to(torch.float32)
    value = (lam[:, 0, None] * flat_colors[corner[:, 0]] + lam[:, 1, None] * flat_colors[corner[:, 1]]
             + lam[:, 2, None] * flat_colors[corner[:, 2]]).clamp(0.0, 1.0)
    n_channels = flat_colors.shape[1]
    image = torch.full((batch * height * width, n_channels), background, dtype=torch.float32, device=device)
    image[pixel[win]] = value
    return depth, image.reshape(batch, height, width, n_channels).permute(0, 3, 1, 2).contiguous()
