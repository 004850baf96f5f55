"""Seeds for every random draw, derived from the global seed and the job's wildcards.

Python's ``hash()`` is salted per process, so it must never feed a seed. We hash a canonical text of the
inputs with BLAKE2b instead: the same (global seed, stage, wildcards) gives the same seed in any process, on any
machine, in any job order.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["derive_seed", "rng_for"]


def derive_seed(global_seed: int, stage: str, *keys: str | int) -> int:
    """Seed of one random stream.

    Parameters
    ----------
    global_seed
        The config's ``seed``.
    stage
        The pipeline stage drawing the numbers (``"identity"``, ``"expressions"``, ``"permutations"`` …), so
        stages never share a stream.
    *keys
        The job's wildcards and any sub-key (classifier, identity, emotion …), in a fixed order.

    Returns
    -------
    int
        A seed in ``[0, 2**63)``.
    """
    text = "\x1f".join([str(int(global_seed)), stage, *map(str, keys)])
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def rng_for(global_seed: int, stage: str, *keys: str | int) -> np.random.Generator:
    """A NumPy generator seeded with :func:`derive_seed` of the same arguments."""
    return np.random.default_rng(derive_seed(global_seed, stage, *keys))
