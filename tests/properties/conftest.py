from collections.abc import Callable

import numpy as np
import pytest


def _symmetric_faces(batch: int, seed: int, size: int = 48) -> np.ndarray:
    """Random RGB images, shape (batch, 3, size, size), whose right half mirrors the left half."""
    rng = np.random.default_rng(seed)
    left = rng.random((batch, 3, size, size // 2))
    return np.concatenate([left, left[..., ::-1]], axis=-1)


@pytest.fixture
def symmetric_faces() -> Callable[..., np.ndarray]:
    return _symmetric_faces
