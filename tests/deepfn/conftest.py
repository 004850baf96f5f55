"""A tiny validated config for the DeepFN experiment."""

from pathlib import Path

import pytest
import torch

from facesym.config import load_schema, validate_config

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks on a shared 2-core machine: one torch thread, as the pipeline's jobs get their rule's threads."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


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


def small_render(**overrides) -> dict:
    """The smallest corpus that still renders every role: 8 healthy subjects (one per cell), one palsy subject,
    three AUs, 32-pixel images rendered at 32 (dataset A) and 20 pixels (B). Rendering dominates the cost of the
    corpus and of the workflow, so the tests that render use this."""
    datasets = [
        {"name": "A", "size": 32, "center_y": -0.28, "half_extent": 1.35, "light_shift": [0, 0, 0, 0, 0]},
        {"name": "B", "size": 20, "center_y": -0.36, "half_extent": 1.18, "light_shift": [1.5, -1.0, -0.8, 0.6, 1.0]},
    ]
    settings = {
        "subjects": 8, "palsy_subjects": 1, "template_candidates": 1, "images_per_subject": 10, "image_size": 32,
        "datasets": datasets, "action_units": ["AU1", "AU2", "AU12"],
    }  # fmt: skip
    return tiny_deepfn(**{**settings, **overrides})


def validated(config: dict) -> dict:
    return validate_config(config, load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml"))


@pytest.fixture
def tiny_config() -> dict:
    return validated(tiny_deepfn())
