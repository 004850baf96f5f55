"""Readability check: can a classifier read the face model's expressions at all?

The EMFACS prototype of each of the six emotions (:data:`facesym.face.prototypes.PROTOTYPES`) and the neutral
face are rendered at full onset (t = 1) for held-out identities, at s = 1 (both halves move) and s = 0 (the
subject's left half stays neutral), and classified. Accuracy is over the seven labels, so chance is 1/7; a
classifier without a neutral class can reach at most 6/7 (``accuracy_emotions`` leaves neutral out). Low
readability at s = 1 means the interventional scores of that classifier are measured far outside its domain.

The held-out identities come from ``derive_seed(seed, "readability")``, never from the analysed identities'
seeds, so the check measures the face model, not the identities the scores were computed for.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image

from facesym.classifiers.base import Classifier
from facesym.emotions import EMOTIONS, NEUTRAL
from facesym.face import MorphableModel
from facesym.face.prototypes import prototype_phi
from facesym.identities import Identity, sample_identity
from facesym.interventions.scene import build_scene
from facesym.io.atomic import atomic_path, write_text
from facesym.seeds import derive_seed

__all__ = [
    "LABELS",
    "SYMMETRIES",
    "Prototypes",
    "heldout_identities",
    "render_prototypes",
    "predicted_labels",
    "readability",
    "write_prototype_pngs",
    "checks_table",
]

log = logging.getLogger(__name__)

LABELS: tuple[str, ...] = (*EMOTIONS, NEUTRAL)
"""True labels of the check, the rows of its confusion matrix."""

SYMMETRIES: tuple[float, ...] = (1.0, 0.0)
"""Symmetry levels the check renders: both halves moving, and the subject's left half frozen."""


@dataclass(frozen=True)
class Prototypes:
    """Rendered prototype faces with their labels, ordered identity → s → label.

    Attributes
    ----------
    images : torch.Tensor, shape (N, C, H, W)
        Float in ``[0, 1]``, unframed renders in the canonical render frame.
    labels : tuple of str, length N
        Each image's true label, one of :data:`LABELS`.
    identities : tuple of str, length N
        Each image's held-out identity.
    s : numpy.ndarray, shape (N,)
        Each image's symmetry.
    """

    images: torch.Tensor
    labels: tuple[str, ...]
    identities: tuple[str, ...]
    s: np.ndarray


def heldout_identities(seed: int, count: int, dims: Mapping[str, int]) -> list[Identity]:
    """Identities for the check, drawn from ``derive_seed(seed, "readability")``.

    Parameters
    ----------
    seed : int
        The config's global seed.
    count : int
        How many identities (named ``check0000``, ``check0001``, …).
    dims : mapping
        The config's ``identities`` section: ``shape_dim``, ``appearance_dim``, ``lighting_dim``.
    """
    base = derive_seed(seed, "readability")
    sizes = (dims["shape_dim"], dims["appearance_dim"], dims["lighting_dim"])
    return [sample_identity(base, f"check{index:04d}", *sizes) for index in range(count)]


def render_prototypes(
    model: MorphableModel,
    identities: Sequence[Identity],
    render_config: Mapping[str, Any],
    *,
    symmetries: Sequence[float] = SYMMETRIES,
    device: str | torch.device = "cpu",
) -> Prototypes:
    """Render every label's prototype at t = 1 for every identity and symmetry level.

    Parameters
    ----------
    model : MorphableModel
        A model with FACS-named expression components (the procedural model).
    identities : sequence of Identity
        The faces; each keeps its own appearance and lighting, as in the analysis.
    render_config : mapping
        ``size``, ``color`` and ``backend`` as in the config's ``render`` section.
    symmetries : sequence of float
        Levels of s.
    device : str or torch.device
        Where rendering runs.

    Returns
    -------
    Prototypes
        ``len(identities) × len(symmetries) × 7`` images on the CPU.
    """
    device = torch.device(device)
    phi = torch.stack([prototype_phi(model, label) for label in LABELS]).to(device)
    images, labels, names, levels = [], [], [], []
    for identity in identities:
        scene = build_scene(model, identity, render_config, device)
        for s in symmetries:
            images.append(scene.images(phi, torch.full((len(LABELS),), float(s)), torch.ones(len(LABELS))).cpu())
            labels += LABELS
            names += [identity.name] * len(LABELS)
            levels += [float(s)] * len(LABELS)
    return Prototypes(torch.cat(images), tuple(labels), tuple(names), np.asarray(levels, dtype=np.float64))


def _class_labels(classifier: Classifier) -> list[str]:
    """Each output class as an emotion of :data:`EMOTIONS`, or its own lower-case name for extra classes."""
    names = [name.lower() for name in classifier.classes]
    for emotion, index in zip(EMOTIONS, classifier.emotion_indices, strict=True):
        names[index] = emotion
    return names


def predicted_labels(classifier: Classifier, probabilities: np.ndarray) -> list[str]:
    """The arg-max class of each row as a label (an emotion, ``neutral`` or another extra class)."""
    names = _class_labels(classifier)
    return [names[k] for k in np.asarray(probabilities).argmax(axis=1)]


def readability(classifier: Classifier, prototypes: Prototypes) -> dict[str, Any]:
    """Accuracy and confusion of a classifier on rendered prototypes, per symmetry level.

    Parameters
    ----------
    classifier : Classifier
        Framed as it is in the analysis.
    prototypes : Prototypes
        From :func:`render_prototypes`.

    Returns
    -------
    dict
        ``labels`` (confusion rows, :data:`LABELS`), ``predicted`` (columns: :data:`LABELS` then any other
        class of the model), ``chance`` (1/7) and ``checks``: one dict per s level with ``s``, ``n_images``,
        ``accuracy`` (over the seven labels), ``accuracy_emotions`` (the six emotions only), ``recall``
        (label → fraction of its images predicted as it), ``mean_probability`` (label → mean softmax
        probability of the true class; ``null`` for neutral when the model has no neutral class) and
        ``confusion`` (counts, rows true label, columns predicted).
    """
    probabilities = classifier.predict(prototypes.images).numpy()
    predicted = np.asarray(predicted_labels(classifier, probabilities))
    names = _class_labels(classifier)
    columns = list(LABELS) + [name for name in names if name not in LABELS]
    truth = np.asarray(prototypes.labels)
    checks = []
    for s in dict.fromkeys(prototypes.s.tolist()):
        rows = prototypes.s == s
        confusion = np.zeros((len(LABELS), len(columns)), dtype=int)
        for i, label in enumerate(LABELS):
            for j, column in enumerate(columns):
                confusion[i, j] = int(np.sum((truth[rows] == label) & (predicted[rows] == column)))
        correct = truth[rows] == predicted[rows]
        emotions = rows & (truth != NEUTRAL)
        recall, mean_probability = {}, {}
        for label in LABELS:
            mask = rows & (truth == label)
            recall[label] = float(np.mean(predicted[mask] == label))
            column = names.index(label) if label in names else None
            mean_probability[label] = None if column is None else float(probabilities[mask, column].mean())
        checks.append(
            {
                "s": float(s),
                "n_images": int(rows.sum()),
                "accuracy": float(correct.mean()),
                "accuracy_emotions": float(np.mean(truth[emotions] == predicted[emotions])),
                "recall": recall,
                "mean_probability": mean_probability,
                "confusion": confusion.tolist(),
            }
        )
    return {"labels": list(LABELS), "predicted": columns, "chance": 1 / len(LABELS), "checks": checks}


def _png_name(identity: str, s: float, label: str) -> str:
    return f"{identity}_s{s:g}_{label}.png"


def write_prototype_pngs(prototypes: Prototypes, folder: str | Path, labels_csv: str | Path) -> pd.DataFrame:
    """Write every prototype as an 8-bit RGB PNG and a labels CSV, so any classifier can read the same faces.

    Parameters
    ----------
    prototypes : Prototypes
        Renders (gray ones are written as RGB with equal channels).
    folder : str or Path
        Folder of the PNGs (created).
    labels_csv : str or Path
        The CSV: columns ``image`` (path relative to the CSV's folder), ``label``, ``identity``, ``s``.

    Returns
    -------
    pandas.DataFrame
        The rows written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    base = Path(labels_csv).resolve().parent
    pixels = (prototypes.images.clamp(0, 1) * 255).round().to(torch.uint8)
    if pixels.shape[1] == 1:
        pixels = pixels.expand(-1, 3, -1, -1)
    pixels = pixels.permute(0, 2, 3, 1).contiguous().numpy()
    rows = []
    for index, (label, identity, s) in enumerate(
        zip(prototypes.labels, prototypes.identities, prototypes.s, strict=True)
    ):
        path = folder / _png_name(identity, float(s), label)
        with atomic_path(path) as temporary:
            Image.fromarray(pixels[index], mode="RGB").save(temporary, format="PNG")
        rows.append({"image": path.resolve().relative_to(base).as_posix(), "label": label, "identity": identity,
                     "s": float(s)})
    table = pd.DataFrame(rows, columns=["image", "label", "identity", "s"])
    buffer = io.StringIO()
    table.to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL)
    write_text(labels_csv, buffer.getvalue())
    return table


def checks_table(checks: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per (classifier, s) from the check files: accuracy, accuracy over the emotions, recall per label.

    Parameters
    ----------
    checks : sequence of mapping
        Contents of ``{classifier}_check.json`` files (see :func:`readability_job`).
    """
    rows = []
    for check in checks:
        for level in check["checks"]:
            rows.append(
                {
                    "classifier": check["classifier"],
                    "group": check["group"],
                    "kind": check["kind"],
                    "framed": check["crop"] is not None,
                    "s": level["s"],
                    "n_identities": check["n_identities"],
                    "accuracy": level["accuracy"],
                    "accuracy_emotions": level["accuracy_emotions"],
                    **{f"recall_{label}": level["recall"][label] for label in LABELS},
                }
            )
    return pd.DataFrame(rows)
