"""Reading a cohort's image files in batches, and the symmetry property measured from them.

A real cohort may hold thousands of large photographs of mixed sizes and colour modes, so images are read a chunk
at a time and grouped by shape; nothing holds the whole cohort in memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

__all__ = ["SYMMETRY", "image_batches", "image_problem", "read_image", "symmetry_description", "measure_symmetry"]

SYMMETRY = "symmetry"
"""Name of the property the pipeline measures from every cohort's images."""

_GRAY_MODES = ("1", "L", "LA")
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L")


def image_problem(path: str | os.PathLike[str]) -> str | None:
    """Why a file is not an image Pillow can read, or ``None`` if it is one.

    Cheap enough for every image of a cohort before any job runs: the header is parsed and the file's structure
    checked (``Image.verify``: chunk checksums for PNG), but the pixels are not decoded.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    str or None
        A sentence naming what Pillow found (unknown format, truncated or damaged file).
    """
    try:
        with Image.open(path) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        # Pillow reports damaged files as OSError, SyntaxError or ValueError depending on the format's plugin
        return f"not an image Pillow can read ({error})"
    return None


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """One image file as floats in [0, 1], channels first.

    Parameters
    ----------
    path
        Any format Pillow reads (PNG, JPEG, TIFF, …).

    Returns
    -------
    numpy.ndarray
        Shape ``(1, H, W)`` for greyscale files (8 or 16 bit), ``(3, H, W)`` for everything else (alpha and
        palettes are converted to RGB), float32.

    Raises
    ------
    ValueError
        Naming the file, if Pillow cannot read or decode it.
    """
    try:
        with Image.open(path) as image:
            if image.mode in _SIXTEEN_BIT:
                return (np.asarray(image, dtype=np.float32) / 65535.0)[None]
            if image.mode in _GRAY_MODES:
                return (np.asarray(image.convert("L"), dtype=np.float32) / 255.0)[None]
            return np.asarray(image.convert("RGB"), dtype=np.float32).transpose(2, 0, 1) / 255.0
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValueError(f"{path}: not an image Pillow can read ({error})") from error


def image_batches(paths: Sequence[str | os.PathLike[str]], chunk: int = 64) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Images in batches of equal shape, reading at most ``chunk`` files at a time.

    Parameters
    ----------
    paths
        Image files.
    chunk
        Files read at once (memory bound).

    Yields
    ------
    index : numpy.ndarray
        Shape ``(B,)``: positions in ``paths`` of the batch's images.
    images : numpy.ndarray
        Shape ``(B, C, H, W)``, float32 in [0, 1].
    """
    for start in range(0, len(paths), chunk):
        images = [read_image(p) for p in paths[start : start + chunk]]
        shapes: dict[tuple[int, ...], list[int]] = {}
        for offset, image in enumerate(images):
            shapes.setdefault(image.shape, []).append(offset)
        for offsets in shapes.values():
            yield np.asarray(offsets) + start, np.stack([images[i] for i in offsets])


def symmetry_description(lpips_weights: str | os.PathLike[str] | None) -> str:
    """What the measured ``symmetry`` property means, for the manifest's declaration and the tables."""
    if lpips_weights is None:
        return "SSIM between the left half and the mirrored right half of the image (1 = mirror-symmetric)"
    return "LPIPS distance between the left half and the mirrored right half of the image (0 = mirror-symmetric)"


def measure_symmetry(
    paths: Sequence[str | os.PathLike[str]], lpips_weights: str | os.PathLike[str] | None = None, chunk: int = 64
) -> np.ndarray:
    """Symmetry between the face halves of each image (see :mod:`facesym.properties.symmetry`).

    Parameters
    ----------
    paths
        Image files of frontal faces centred on the vertical midline.
    lpips_weights
        ``None`` for SSIM (needs no weights); else an LPIPS state-dict file (:func:`facesym.properties.load_lpips`),
        in which case greyscale images are repeated to three channels.
    chunk
        Files read at once.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(paths),)``, float64: SSIM (1 = symmetric) or LPIPS distance (0 = symmetric).
    """
    from facesym.properties import load_lpips, symmetry_lpips, symmetry_ssim

    model = None if lpips_weights is None else load_lpips(Path(lpips_weights))
    values = np.empty(len(paths), dtype=np.float64)
    for index, images in image_batches(paths, chunk):
        if model is None:
            values[index] = symmetry_ssim(images)
        else:
            rgb = np.repeat(images, 3, axis=1) if images.shape[1] == 1 else images
            values[index] = symmetry_lpips(rgb, model)
    return values
