"""A tiny validated config for the DeepFN experiment."""

from pathlib import Path

import pytest

from facesym.config import load_schema, validate_config

REPO = Path(__file__).resolve().parents[2]


def tiny_deepfn(**overrides) -> dict:
    section = {
        "subjects": 16,
        "palsy_subjects": 2,
        "images_per_subject": 16,
        "template_candidates": 2,
        "normalisations": ["none", "deepfn"],
        "protocol": {"train_subjects": 2, "validation_subjects": 1, "repetitions": 2},
        "recogniser": {"epochs": 2},
        "autoencoder": {"iterations": 3, "width": 2, "latent": 8, "batch_size": 4},
        "symmetry": {"steps": 3, "onset_steps": 2},
    }
    section.update(overrides)
    return {"seed": 5, "deepfn": section}


def validated(config: dict) -> dict:
    return validate_config(config, load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml"))


@pytest.fixture
def tiny_config() -> dict:
    return validated(tiny_deepfn())
