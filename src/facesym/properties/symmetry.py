"""Symmetry of a face image: how similar its left half is to its mirrored right half.

Both measures assume a frontal face centred on the image's vertical midline, as the renderer produces
(fixed camera) and as aligned crops of real recordings are. For an odd width the middle column belongs to
neither half.

* :func:`symmetry_ssim` — the default, needs no weights: structural similarity (scikit-image), 1 for a
  perfectly mirror-symmetric image, lower for an asymmetric one.
* :func:`symmetry_lpips` — the paper's measure: LPIPS distance between the halves, 0 for a perfectly
  symmetric image, larger for an asymmetric one. Needs user-supplied weights (:func:`facesym.properties.load_lpips`).
"""

from __future__ import annotations

import numpy as np
import torch
from skimage.metrics import structural_similarity

from facesym.properties.lpips import LPIPS, MIN_SIZE

__all__ = ["face_halves", "symmetry_lpips", "symmetry_ssim"]


def face_halves(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The left half of each image and its right half mirrored onto it.

    Parameters
    ----------
    images
        Shape ``(B, C, H, W)``, float values in [0, 1] (the renderer's output).

    Returns
    -------
    left, mirrored_right : numpy.ndarray
        Shape ``(B, C, H, W // 2)`` each; column j of ``mirrored_right`` is column ``W-1-j`` of the image, the
        mirror partner of column j.
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images must have shape (B, C, H, W), got {images.shape}")
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(f"images must be floats in [0, 1], got dtype {images.dtype}")
    if images.size and not (np.isfinite(images).all() and images.min() >= 0.0 and images.max() <= 1.0):
        raise ValueError("images must hold finite values in [0, 1]")
    half = images.shape[-1] // 2
    return images[..., :half], images[..., ::-1][..., :half]


def symmetry_ssim(images: np.ndarray, *, win_size: int = 7) -> np.ndarray:
    """SSIM between the left half and the mirrored right half of each image.

    Parameters
    ----------
    images
        Shape ``(B, C, H, W)``, float values in [0, 1]; H and W // 2 at least ``win_size``.
    win_size
        Side of scikit-image's uniform SSIM window (odd), in pixels.

    Returns
    -------
    numpy.ndarray
        Shape ``(B,)``, float64: mean SSIM over channels and window positions (data range 1); 1 for a
        mirror-symmetric image.
    """
    left, right = face_halves(images)
    if min(left.shape[-2:]) < win_size:
        raise ValueError(
            f"each face half ({left.shape[-2]}×{left.shape[-1]} px) must be at least win_size={win_size} px a side"
        )
    return np.array(
        [
            structural_similarity(a, b, channel_axis=0, data_range=1.0, win_size=win_size)
            for a, b in zip(left.astype(np.float64), right.astype(np.float64), strict=True)
        ],
        dtype=np.float64,
    )


def symmetry_lpips(images: np.ndarray, model: LPIPS, *, batch_size: int = 64) -> np.ndarray:
    """LPIPS distance between the left half and the mirrored right half of each image.

    Parameters
    ----------
    images
        Shape ``(B, 3, H, W)``, float values in [0, 1]; H and W // 2 at least 31 px.
    model
        From :func:`facesym.properties.load_lpips`.
    batch_size
        Images per forward pass (memory: about 2 MB per image of 64×64 px).

    Returns
    -------
    numpy.ndarray
        Shape ``(B,)``, float64: 0 for a mirror-symmetric image, larger for a more asymmetric one.
    """
    left, right = face_halves(images)
    if left.shape[1] != 3:
        raise ValueError(f"LPIPS needs RGB images (3 channels), got {left.shape[1]}")
    if min(left.shape[-2:]) < MIN_SIZE:
        raise ValueError(f"each face half ({left.shape[-2]}×{left.shape[-1]} px) must be at least {MIN_SIZE} px a side")
    parameter = next(model.parameters())
    distances = []
    with torch.no_grad():
        for start in range(0, len(left), batch_size):
            a, b = (
                torch.as_tensor(np.ascontiguousarray(h[start : start + batch_size]), dtype=parameter.dtype).to(
                    parameter.device
                )
                for h in (left, right)
            )
            distances.append(model(a, b).cpu().numpy())
    return np.concatenate(distances).astype(np.float64) if distances else np.zeros(0)
