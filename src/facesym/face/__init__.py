"""Morphable face models with a left/right split of the expression basis (the paper's Eqs. 2–3).

``build_procedural_model`` gives the embedded face (no downloads); ``load_flame`` reads a user-supplied FLAME
``generic_model.pkl`` without chumpy.
"""

from facesym.face.flame import load_flame
from facesym.face.model import MorphableModel
from facesym.face.procedural import build_procedural_model

__all__ = ["MorphableModel", "build_procedural_model", "load_flame"]
