"""Training stage, the ``train_classifier`` job: render training data, train one embedded classifier, measure it.

Seeds: the training data comes from ``derive_seed(seed, "training_data", …)``, the same for every embedded
classifier, so the symmetric classifiers differ only in architecture and size (like the paper's groups of
models trained on one dataset) and the asymmetry-augmented control sees the very same faces with only ``s``
changed. Initial weights, batch order and dropout come from ``derive_seed(seed, "train_classifier", name)``.

Training runs on the CPU in one thread whatever the job was granted. The networks are small, so a second
thread gains little, while on a machine whose cores are oversubscribed (other jobs, other users) torch's
thread barriers made an epoch 20–40 times slower than in one thread; and torch's CPU kernels give bit-identical
results only for a fixed thread count.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from facesym import __version__
from facesym.classifiers.architectures import parameter_count
from facesym.classifiers.base import Classifier
from facesym.classifiers.data import Variation, augmentation_sides, render_faces, sample_faces, training_face_model
from facesym.classifiers.embedded import EMBEDDED_CLASSES, save_embedded, train_embedded
from facesym.classifiers.entries import embedded_spec
from facesym.classifiers.framing import classifier_crop
from facesym.classifiers.training import TrainingSettings, evaluate
from facesym.io import atomic_path, write_json
from facesym.seeds import derive_seed, rng_for

__all__ = ["TRAINING_THREADS", "train_classifier_job"]

log = logging.getLogger(__name__)

TRAINING_THREADS = 1
"""torch threads of every training job (the rule asks for as many)."""


def train_classifier_job(
    *,
    classifier_entry: Mapping[str, Any],
    config: Mapping[str, Any],
    weights_output: str | Path,
    metrics_output: str | Path,
    variation: Variation | None = None,
) -> dict[str, Any]:
    """Train one embedded classifier and write its weights and metrics.

    Parameters
    ----------
    classifier_entry : mapping
        The classifier's config entry (``kind: embedded``).
    config : mapping
        The validated config; reads ``seed``, ``training``, ``identities``, ``render`` and ``face_model``.
    weights_output : str or Path
        The weights file, see :func:`~facesym.classifiers.embedded.save_embedded`.
    metrics_output : str or Path
        The metrics file (JSON).
    variation : Variation, optional
        Variation of the training faces; default :class:`~facesym.classifiers.data.Variation`.

    Returns
    -------
    dict
        The metrics written to ``metrics_output``: held-out accuracy (overall, per class, confusion matrix) on
        symmetric faces (``test``) and on the same faces re-rendered at ``s = 0`` with the left half frozen
        (``test_s0``) and with the right half frozen (``test_s0_right``), training losses
        and times, seeds and the settings that produced them.
    """
    name = classifier_entry["name"]
    if classifier_entry["kind"] != "embedded":
        raise ValueError(f"classifier '{name}' is of kind '{classifier_entry['kind']}'; only embedded ones train")
    torch.set_num_threads(TRAINING_THREADS)
    variation = variation or Variation()
    training = config["training"]
    seed = int(config["seed"])
    augment = augmentation_sides(classifier_entry.get("asymmetry_augmentation", False))
    dims = config["identities"]
    identity_dims = (dims["shape_dim"], dims["appearance_dim"], dims["lighting_dim"])

    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    model = training_face_model(config)
    train_faces = sample_faces(
        model,
        training["images_per_class"],
        rng_for(seed, "training_data", "train"),
        identity_dims=identity_dims,
        variation=variation,
        symmetry_rng=rng_for(seed, "training_data", "train", "symmetry") if augment else None,
        sides=augment or "both",
    )
    test_faces = sample_faces(
        model,
        training["test_images_per_class"],
        rng_for(seed, "training_data", "test"),
        identity_dims=identity_dims,
        variation=variation,
    )
    train_images = render_faces(model, train_faces, config["render"])
    test_images = render_faces(model, test_faces, config["render"])
    test_images_s0 = render_faces(model, test_faces, config["render"], s=0.0, right=False)
    test_images_s0_right = render_faces(model, test_faces, config["render"], s=0.0, right=True)
    data_seconds = time.perf_counter() - started
    log.info(
        "%s: rendered %d training and 3 × %d test images in %.1f s (asymmetry augmentation: %s)",
        name,
        len(train_faces),
        len(test_faces),
        data_seconds,
        augment,
    )

    model_seed = derive_seed(seed, "train_classifier", name)
    settings = TrainingSettings(
        epochs=training["epochs"], batch_size=training["batch_size"], learning_rate=training["learning_rate"]
    )
    crop = classifier_crop(classifier_entry, model)
    network, result = train_embedded(
        classifier_entry, train_images, torch.as_tensor(train_faces.labels), settings, model_seed, crop
    )
    log.info("%s: trained in %.1f s, final loss %.4f", name, result.seconds, result.losses[-1])
    with atomic_path(weights_output) as temporary:
        save_embedded(temporary, classifier_entry, network)

    arch, spec = embedded_spec(classifier_entry)
    classifier = Classifier(name, EMBEDDED_CLASSES, spec, network, crop=crop)
    labels = torch.as_tensor(test_faces.labels)
    symmetric = evaluate(classifier.predict, test_images, labels, EMBEDDED_CLASSES)
    frozen = evaluate(classifier.predict, test_images_s0, labels, EMBEDDED_CLASSES)
    frozen_right = evaluate(classifier.predict, test_images_s0_right, labels, EMBEDDED_CLASSES)
    log.info(
        "%s: held-out accuracy %.3f at s = 1, %.3f at s = 0 (left half frozen), %.3f (right half frozen)",
        name,
        symmetric["accuracy"],
        frozen["accuracy"],
        frozen_right["accuracy"],
    )
    metrics = {
        "classifier": name,
        "group": classifier_entry.get("group", ""),
        **arch,
        "parameters": parameter_count(network),
        "asymmetry_augmentation": classifier_entry.get("asymmetry_augmentation", False),
        "augmentation_sides": augment,
        "classes": list(EMBEDDED_CLASSES),
        "input_size": spec.input_size,
        "color": spec.color,
        "crop": None if crop is None else crop.to_json(),
        "test": symmetric,
        "test_s0": frozen,
        "test_s0_right": frozen_right,
        "losses": result.losses,
        "training_seconds": result.seconds,
        "training_cpu_seconds": result.cpu_seconds,
        "data_seconds": data_seconds,
        "threads": TRAINING_THREADS,
        # Other processes on the machine stretch the wall-clock times; the 1-minute load average tells by how much.
        "load_average": [load_before, os.getloadavg()[0]],
        "seed": model_seed,
        "data_seed": derive_seed(seed, "training_data", "train"),
        "test_seed": derive_seed(seed, "training_data", "test"),
        "global_seed": seed,
        "n_train": len(train_faces),
        "n_test": len(test_faces),
        "training": dict(training),
        "variation": variation.to_json(),
        "render": dict(config["render"]),
        "face_model": "procedural",
        "facesym_version": __version__,
    }
    write_json(metrics_output, metrics)
    return metrics
