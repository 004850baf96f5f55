"""Identities stage: each identity's shape, appearance and lighting draw."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from facesym.identities import sample_identity
from facesym.io import write_json

__all__ = ["sample_identity_job"]

log = logging.getLogger(__name__)


def sample_identity_job(*, seed: int, name: str, dims: Mapping[str, int], output: str | Path) -> None:
    """Draw identity ``name`` (β, α, lighting) from the global ``seed`` and write it as JSON.

    Parameters
    ----------
    seed
        The config's global seed; the identity's own seed is derived from it and ``name``.
    name
        The identity's name (the ``{identity}`` wildcard, ``id0000`` …).
    dims
        ``shape_dim``, ``appearance_dim`` and ``lighting_dim`` of the config's ``identities`` section.
    """
    identity = sample_identity(
        seed,
        name,
        shape_dim=dims["shape_dim"],
        appearance_dim=dims["appearance_dim"],
        lighting_dim=dims["lighting_dim"],
    )
    write_json(output, identity.to_json())
    log.info("identity %s written with seed %d", identity.name, identity.seed)
