"""Per-classifier framing: which square of the rendered image a classifier reads.

Real networks were trained on face-detector crops (FER2013: OpenCV face boxes, forehead to chin), while the
renderer frames the whole head. A ``framing`` config entry crops the image before the classifier's resizing.

Geometry (the *canonical render frame*): every image is the face model's render under the model's fixed
camera, or a photograph aligned into that frame. Positions are fractions of the image, x to the right and y
down, ``(0, 0)`` the top-left corner. The **reference box** is the bounding box of the model's template face
(mean identity, neutral expression; the skin mesh where the model names one) projected by its camera: a
property of (face model, camera), the same for every identity, expression and grid point. A framing is given
relative to it::

    framing: {scale: 1.09, center: [0.505, 0.484]}

- ``center``: the crop's centre in reference-box coordinates (``[0.5, 0.5]`` = the box's centre; x as a
  fraction of the box's width from its left edge, y of its height from its top edge);
- ``scale``: the crop's side as a multiple of the reference box's width (the crop is square in pixels for
  square images).

So the crop is fixed in the image for a given model and camera, and moves with the face model, not with the
identity. Parts of the crop outside the image read as background (0).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

__all__ = [
    "Box",
    "Framing",
    "framing_from_entry",
    "reference_box",
    "framing_box",
    "pixel_box",
    "crop_images",
    "classifier_crop",
]


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in the canonical render frame, as fractions of the image.

    Attributes
    ----------
    left, top, right, bottom : float
        Edges as fractions of the image width (left, right) and height (top, bottom); y grows downwards.
        May lie outside ``[0, 1]``.
    """

    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    def to_json(self) -> dict[str, float]:
        return {"left": self.left, "top": self.top, "right": self.right, "bottom": self.bottom}


@dataclass(frozen=True)
class Framing:
    """A classifier's crop relative to the reference box (see the module docstring).

    Attributes
    ----------
    scale : float
        Side of the crop as a multiple of the reference box's width; > 0.
    center : tuple of float, length 2
        Centre of the crop in reference-box coordinates (x from the left, y from the top edge).
    """

    scale: float
    center: tuple[float, float] = (0.5, 0.5)

    def __post_init__(self) -> None:
        if not self.scale > 0:
            raise ValueError(f"framing scale must be positive, got {self.scale}")
        if len(self.center) != 2:
            raise ValueError(f"framing center must be [x, y], got {self.center!r}")


def framing_from_entry(entry: Mapping[str, Any]) -> Framing | None:
    """The ``framing`` of a ``classifiers`` config entry, or ``None`` when it reads the whole image."""
    framing = entry.get("framing")
    if framing is None:
        return None
    center = framing.get("center", (0.5, 0.5))
    return Framing(float(framing["scale"]), (float(center[0]), float(center[1])))


def reference_box(model) -> Box:
    """The template face's projected bounding box under the model's camera.

    Parameters
    ----------
    model : facesym.face.MorphableModel
        Its ``template`` (neutral mean face), ``camera`` and, where present, the ``skin_mesh`` region (the
        procedural model's face and head surface, without eyeballs, mouth cavity and ears); a model without
        that region (FLAME) uses every vertex.

    Returns
    -------
    Box
        Fractions of a square image; independent of the image size.
    """
    vertices = model.template
    if "skin_mesh" in model.regions:
        vertices = vertices[model.regions["skin_mesh"] > 0.5]
    # Any size gives the same fractions for the orthographic camera; a large one keeps float rounding small.
    size = 1024
    projected = model.camera.project(vertices[None].cpu(), size)[0]
    x, y = projected[:, 0], projected[:, 1]
    return Box(
        float(x.min()) / size, float(y.min()) / size, float(x.max()) / size, float(y.max()) / size
    )


def framing_box(framing: Framing, reference: Box) -> Box:
    """The crop of ``framing`` in the canonical render frame (fractions of the image)."""
    cx = reference.left + framing.center[0] * reference.width
    cy = reference.top + framing.center[1] * reference.height
    half = framing.scale * reference.width / 2
    return Box(cx - half, cy - half, cx + half, cy + half)


def pixel_box(box: Box, size: int | tuple[int, int]) -> tuple[int, int, int, int]:
    """The crop box in whole pixels for an image of the given size.

    Parameters
    ----------
    box : Box
        Fractions of the image.
    size : int or (int, int)
        Image side, or ``(height, width)``, in pixels.

    Returns
    -------
    tuple of int
        ``(left, top, right, bottom)``: the crop is ``image[..., top:bottom, left:right]``, edges rounded to the
        nearest pixel boundary (at most half a pixel off); width and height at least 1 pixel. Edges may lie
        outside the image.
    """
    height, width = (size, size) if isinstance(size, int) else size
    left = math.floor(box.left * width + 0.5)
    top = math.floor(box.top * height + 0.5)
    right = max(left + 1, math.floor(box.right * width + 0.5))
    bottom = max(top + 1, math.floor(box.bottom * height + 0.5))
    return left, top, right, bottom


def crop_images(images: torch.Tensor, box: Box) -> torch.Tensor:
    """Cut ``box`` out of a batch, differentiably.

    Parameters
    ----------
    images : torch.Tensor, shape (B, C, H, W)
        Images in the canonical render frame.
    box : Box
        The crop, fractions of the image.

    Returns
    -------
    torch.Tensor, shape (B, C, h, w)
        The pixels of :func:`pixel_box`; pixels outside the image are 0 (the renderer's background). Gradients
        flow to the cropped pixels of ``images``.
    """
    height, width = images.shape[-2:]
    left, top, right, bottom = pixel_box(box, (height, width))
    pad = (max(0, -left), max(0, right - width), max(0, -top), max(0, bottom - height))
    if any(pad):
        images = F.pad(images, pad)
        left, right, top, bottom = left + pad[0], right + pad[0], top + pad[2], bottom + pad[2]
    return images[..., top:bottom, left:right]


def classifier_crop(entry: Mapping[str, Any], model) -> Box | None:
    """The crop a ``classifiers`` entry reads from renders of ``model`` (``None``: the whole image).

    Parameters
    ----------
    entry : mapping
        A ``classifiers`` config entry, with or without ``framing``.
    model : facesym.face.MorphableModel
        The face model whose renders (or photographs aligned to them) the classifier reads.
    """
    framing = framing_from_entry(entry)
    return None if framing is None else framing_box(framing, reference_box(model))
