"""The morphable model a config names: the procedural face or a user's FLAME file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["face_model_from_config"]


def face_model_from_config(config: Mapping[str, Any], base_dir: str | Path = "."):
    """The morphable model the config's ``face_model`` section names, sized by its ``identities`` section."""
    from facesym.face import build_procedural_model, load_flame
    from facesym.face.model import MIDLINE_BAND_MM

    face, dims = config["face_model"], config["identities"]
    sizes = {"n_shape": dims["shape_dim"], "n_appearance": dims["appearance_dim"], "left_side": face["left_side"],
             "midline_band": face.get("midline_band", MIDLINE_BAND_MM)}
    if face["kind"] == "flame":
        return load_flame(Path(base_dir) / face["path"], **sizes)
    return build_procedural_model(**sizes, skin_texture=face.get("skin_texture", False))

