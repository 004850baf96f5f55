"""Synthetic identities: the fixed identity β, appearance α and lighting of one face.

Each identity's draws come from its own seed (global seed + identity name), so adding identities to a config
never changes the ones that exist.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from facesym.seeds import derive_seed

__all__ = ["Identity", "identity_names", "sample_identity", "load_identity"]


@dataclass(frozen=True)
class Identity:
    """One synthetic person.

    Attributes
    ----------
    name
        The ``{identity}`` wildcard, e.g. ``"id0003"``.
    seed
        Seed the draws came from.
    beta
        Identity (shape) coefficients, shape ``(shape_dim,)``, standard-normal units of the face model's basis.
    alpha
        Appearance (albedo) coefficients, shape ``(appearance_dim,)``, standard-normal units.
    lighting
        Lighting coefficients, shape ``(lighting_dim,)``, standard-normal units (the renderer maps them to a light).
    """

    name: str
    seed: int
    beta: np.ndarray
    alpha: np.ndarray
    lighting: np.ndarray

    def to_json(self) -> dict:
        data = asdict(self)
        for key in ("beta", "alpha", "lighting"):
            data[key] = [float(v) for v in data[key]]
        return data


def identity_names(count: int) -> list[str]:
    """Names of the first ``count`` identities: ``id0000``, ``id0001``, …"""
    return [f"id{index:04d}" for index in range(count)]


def sample_identity(global_seed: int, name: str, shape_dim: int, appearance_dim: int, lighting_dim: int) -> Identity:
    """Draw β, α and lighting from a standard normal with the identity's own seed."""
    seed = derive_seed(global_seed, "identity", name)
    rng = np.random.default_rng(seed)
    return Identity(
        name=name,
        seed=seed,
        beta=rng.standard_normal(shape_dim),
        alpha=rng.standard_normal(appearance_dim),
        lighting=rng.standard_normal(lighting_dim),
    )


def load_identity(path: str | Path) -> Identity:
    """Read an identity written as JSON by the identities stage."""
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    try:
        return Identity(
            name=data["name"],
            seed=int(data["seed"]),
            beta=np.asarray(data["beta"], dtype=np.float64),
            alpha=np.asarray(data["alpha"], dtype=np.float64),
            lighting=np.asarray(data["lighting"], dtype=np.float64),
        )
    except KeyError as exc:
        raise ValueError(f"{path}: not an identity file (missing key {exc})") from exc
