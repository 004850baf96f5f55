"""What several stages load the same way: a job's classifier and its identity's scene."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from facesym.face.configured import face_model_from_config

__all__ = ["job_classifier", "job_scene", "provenance"]


def job_scene(identity_file: str | Path, config: Mapping[str, Any], device):
    """The render scene of one identity: the config's face model, the identity's draw, the ``render`` section."""
    from facesym.identities import load_identity
    from facesym.interventions.scene import build_scene

    model = face_model_from_config(config)
    return build_scene(model, load_identity(identity_file), config["render"], device)


def job_classifier(entry: Mapping[str, Any], weights: str | Path | None, config: Mapping[str, Any]):
    """The classifier of a config entry on the config's device (embedded: from ``weights``)."""
    from facesym.classifiers.registry import load_classifier

    return load_classifier(entry, weights=weights, device=config["device"], face_model=face_model_from_config(config))


def provenance(config: Mapping[str, Any], *sections: str) -> dict[str, Any]:
    """The config values a result file records: the seed and the named sections."""
    return {"seed": config["seed"], **{section: config[section] for section in sections}}
