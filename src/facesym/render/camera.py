"""The fixed orthographic camera: looks down the model's −z axis at a square window of the x–y plane."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["OrthographicCamera", "image_shape"]


def image_shape(size: int | tuple[int, int]) -> tuple[int, int]:
    """``(H, W)`` from an int (square) or an ``(H, W)`` pair; each side must be at least 1 pixel."""
    height, width = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    if height < 1 or width < 1:
        raise ValueError(f"image size must be positive, got {size!r}")
    return height, width


@dataclass(frozen=True)
class OrthographicCamera:
    """Orthographic projection of model coordinates onto the image.

    The window ``[cx − e, cx + e] × [cy − e, cy + e]`` of the model's x–y plane fills the shorter image side;
    x runs to the image's right, y up, and z (towards the viewer) is the depth, larger = nearer. The defaults
    frame the procedural face (model units: half the head's width = 1) from the chin to above the hairline;
    classifiers trained on face-detector crops read their own crop of it (``facesym.classifiers.framing``).

    Attributes
    ----------
    center_x, center_y
        Model-frame point at the image centre, model units.
    half_extent
        Half the width of the window, model units.
    """

    center_x: float = 0.0
    center_y: float = -0.28
    half_extent: float = 1.35

    def project(self, vertices: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
        """Model coordinates → continuous pixel coordinates.

        Parameters
        ----------
        vertices
            Shape ``(B, N, 3)``, model units.
        size
            Image size, int or ``(H, W)``.

        Returns
        -------
        torch.Tensor
            Shape ``(B, N, 3)`` float32: column and row in pixels (pixel ``(i, j)`` covers ``[i, i+1) × [j, j+1)``,
            its centre is at ``i + 0.5``) and depth z in model units.
        """
        height, width = image_shape(size)
        cx, cy, scale, off_x, off_y = torch.from_numpy(self.screen_params(height, width)).to(vertices.device)
        v = vertices.to(torch.float32)
        # float32 constants and this exact order of operations are shared with the numba kernels.
        sx = (v[..., 0] - cx) * scale + off_x
        sy = (cy - v[..., 1]) * scale + off_y
        return torch.stack([sx, sy, v[..., 2]], dim=-1)

    def screen_params(self, height: int, width: int) -> np.ndarray:
        """``(center_x, center_y, scale, offset_x, offset_y)`` as float32: the window centre, pixels per model
        unit and the pixel position of the window centre."""
        scale = min(height, width) / (2.0 * self.half_extent)
        return np.array([self.center_x, self.center_y, scale, width / 2.0, height / 2.0], dtype=np.float32)
