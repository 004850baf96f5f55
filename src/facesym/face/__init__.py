"""Morphable face models with a left/right split of the expression basis (the paper's Eqs. 2–3).

``build_procedural_model`` gives the embedded face (no downloads); ``load_flame`` reads a user-supplied FLAME
``generic_model.pkl`` without chumpy.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Attributes load on first use, so that reading a FLAME file through the restricted unpickler
# (facesym.face.flame_pickle), which the workflow does while it validates the config, does not import torch.
_WHERE = {"MorphableModel": "model", "build_procedural_model": "procedural", "load_flame": "flame"}

__all__ = list(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'facesym.face' has no attribute '{name}'")
    return getattr(import_module(f"facesym.face.{_WHERE[name]}"), name)
