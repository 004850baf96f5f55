"""The pipeline's result records: what each kind of result file holds, and how to read its parts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["target_surfaces"]


def target_surfaces(softmax: np.ndarray, target_class: Sequence[int]) -> np.ndarray:
    """F^(e) over the grid: each emotion's own class, ``(E, S, T, K)`` -> ``(E, S, T)``."""
    index = np.asarray(target_class)[:, None, None, None]
    return np.take_along_axis(softmax, np.broadcast_to(index, (*softmax.shape[:3], 1)), axis=-1)[..., 0]

