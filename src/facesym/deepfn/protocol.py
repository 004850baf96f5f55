"""DeepFN's evaluation protocol (Sec. 4.3) on the synthetic corpus: within- vs cross-group splits, repeated.

Per condition and repetition, subjects are drawn from the pool of the training group: ``train_subjects`` for
training, ``validation_subjects`` for picking the best epoch, the rest of the pool for the **within**-group test;
the **cross**-group test uses every subject of the other group. Conditions:

``person``      pool = all healthy subjects; *within* = the held-out images of the training subjects themselves
                (person-dependent), *cross* = the remaining subjects (person-independent). One model per
                repetition.
``skin``, ``face_shape``, ``dataset``
                one model per group value and repetition (trained on lighter, tested on lighter vs darker, and the
                opposite), as the paper's gender, skin-type and dataset splits.
``palsy``       the person-independent models tested on healthy subjects (*within*) vs palsy subjects (*cross*):
                a group no model saw in training.

Training always uses the same images of each training subject (all but its held-out fraction), so the
conditions differ only in who is in the pools. The splits and the training seeds depend on the condition, the
group and the repetition but not on the normalisation: the normalisations are compared on the very same subject
draws (paired).

The score of a test subject is the paper's: per AU the mean of F1 and accuracy at threshold 0.5 over the
subject's test images, averaged over the AUs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from torch import nn

from facesym.deepfn.corpus import GROUPS, Subject
from facesym.deepfn.recogniser import f1_accuracy, predict, train_recogniser
from facesym.seeds import derive_seed, rng_for

__all__ = [
    "CONDITIONS",
    "DataView",
    "Split",
    "config_problems",
    "draw_splits",
    "heldout_mask",
    "run_protocol",
    "subject_score",
]

log = logging.getLogger(__name__)

CONDITIONS = ("person", "skin", "face_shape", "dataset", "palsy")
"""Conditions in table order."""


@dataclass
class DataView:
    """The corpus as one normalisation shows it to the recogniser.

    Attributes
    ----------
    images
        Subject -> images ``(I, H, W)`` float32 in [0, 1] (healthy and palsy subjects).
    labels
        Subject -> AU labels ``(I, A)`` 0/1.
    grid
        Palsy subject -> its symmetry-grid images ``(A, S, T, H, W)`` float32 in [0, 1].
    """

    images: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]
    grid: dict[str, np.ndarray]


@dataclass(frozen=True)
class Split:
    """One trained model's subjects.

    Attributes
    ----------
    condition, repetition, train_group
        What the split belongs to (``train_group`` is ``"all"`` for the person condition).
    train, validation
        Training and validation subjects.
    within, cross
        Test subjects of the training group and of the other group; for ``person``, ``within`` are the training
        subjects themselves (their held-out images).
    cross_group
        The other group's value (``"other"`` for the person condition).
    """

    condition: str
    repetition: int
    train_group: str
    train: tuple[str, ...]
    validation: tuple[str, ...]
    within: tuple[str, ...]
    cross: tuple[str, ...]
    cross_group: str


def config_problems(config: Mapping[str, Any]) -> list[str]:
    """What the schema cannot check about the ``deepfn`` section, each problem naming its key."""
    deepfn = config["deepfn"]
    problems = []
    names = sorted(entry["name"] for entry in deepfn["datasets"])
    if names != sorted(GROUPS["dataset"]):
        problems.append(f"config key 'deepfn.datasets': needs one entry named each of {GROUPS['dataset']}, "
                        f"got {names}")
    low, high = deepfn["palsy_s"]
    if low > high:
        problems.append(f"config key 'deepfn.palsy_s': the lower bound {low} exceeds the upper bound {high}")
    protocol = deepfn["protocol"]
    needed = protocol["train_subjects"] + protocol["validation_subjects"] + 1
    # The cells are balanced, so every group pool holds half of the healthy subjects.
    if deepfn["subjects"] // 2 < needed:
        problems.append(
            f"config key 'deepfn.subjects': {deepfn['subjects']} healthy subjects give group pools of "
            f"{deepfn['subjects'] // 2}, fewer than deepfn.protocol.train_subjects + validation_subjects + 1 = "
            f"{needed}"
        )
    return problems


def heldout_mask(seed: int, subject: str, n_images: int, fraction: float) -> np.ndarray:
    """Which of a subject's images are held out of training (the person-dependent test), shape ``(I,)`` bool."""
    mask = np.zeros(n_images, dtype=bool)
    count = int(round(fraction * n_images))
    mask[rng_for(seed, "deepfn-heldout", subject).permutation(n_images)[:count]] = True
    return mask


def draw_splits(config: Mapping[str, Any], subjects: Sequence[Subject], condition: str,
                repetition: int) -> list[Split]:
    """The splits of one condition (``person``, ``skin``, ``face_shape`` or ``dataset``) and repetition."""
    protocol, seed = config["deepfn"]["protocol"], int(config["seed"])
    n_train, n_val = protocol["train_subjects"], protocol["validation_subjects"]
    healthy = [subject for subject in subjects if subject.role == "healthy"]
    if condition == "person":
        pools = {"all": [subject.name for subject in healthy]}
    else:
        pools = {value: [s.name for s in healthy if s.groups[condition] == value] for value in GROUPS[condition]}
    splits = []
    for group, pool in pools.items():
        if len(pool) < n_train + n_val + 1:
            raise ValueError(
                f"the {condition} pool '{group}' has {len(pool)} healthy subjects, fewer than "
                f"deepfn.protocol.train_subjects + validation_subjects + 1 = {n_train + n_val + 1}; "
                "raise deepfn.subjects"
            )
        order = [pool[i] for i in rng_for(seed, "deepfn-split", condition, group, repetition).permutation(len(pool))]
        train, validation, rest = order[:n_train], order[n_train:n_train + n_val], order[n_train + n_val:]
        if condition == "person":
            within, cross, other = train, rest, "other"
        else:
            other = next(value for value in GROUPS[condition] if value != group)
            within, cross = rest, pools[other]
        splits.append(Split(condition, repetition, group, tuple(train), tuple(validation), tuple(within),
                            tuple(cross), other))
    return splits


def subject_score(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """The paper's score of one test subject: mean over AUs of (F1 + accuracy) / 2, with its two parts."""
    f1, accuracy = f1_accuracy(labels, probabilities)
    return {"score": float(np.mean((f1 + accuracy) / 2.0)), "f1": float(f1.mean()), "accuracy": float(accuracy.mean())}


def _stack(view: DataView, names: Sequence[str], masks: Mapping[str, np.ndarray], keep: bool) -> tuple:
    images = np.concatenate([view.images[n][masks[n] == keep] for n in names])
    labels = np.concatenate([view.labels[n][masks[n] == keep] for n in names])
    return images, labels


def run_protocol(view: DataView, subjects: Sequence[Subject], config: Mapping[str, Any],
                 normalisation: str) -> tuple[pd.DataFrame, dict[int, nn.Module]]:
    """Train and test every split of every condition for one normalisation.

    Returns
    -------
    tuple
        A long table with one row per (condition, repetition, train group, scope, test subject): columns
        ``normalisation, condition, repetition, train_group, scope (within|cross), test_group, subject, score,
        f1, accuracy`` (fractions in [0, 1]), ``validation_f1``; and the person-independent model of every
        repetition (for the symmetry analysis).
    """
    deepfn, seed = config["deepfn"], int(config["seed"])
    protocol = deepfn["protocol"]
    n_images = deepfn["images_per_subject"]
    masks = {name: heldout_mask(seed, name, n_images, protocol["heldout_fraction"]) for name in view.images}
    all_images = {name: np.ones(n_images, dtype=bool) for name in view.images}
    palsy = [subject.name for subject in subjects if subject.role == "palsy"]
    rows, person_models = [], {}
    for condition in CONDITIONS[:-1]:
        for repetition in range(protocol["repetitions"]):
            for split in draw_splits(config, subjects, condition, repetition):
                train = _stack(view, split.train, masks, keep=False)
                validation = _stack(view, split.validation, all_images, keep=True)
                model, val_f1 = train_recogniser(
                    train, validation, deepfn["recogniser"],
                    derive_seed(seed, "deepfn-train", condition, split.train_group, repetition),
                )
                tests = [("within", split.train_group, split.within), ("cross", split.cross_group, split.cross)]
                if condition == "person":
                    person_models[repetition] = model
                    tests.append(("palsy", "palsy", tuple(palsy)))
                for scope, test_group, names in tests:
                    for name in names:
                        # person-dependent: only the training subjects' held-out images; otherwise all of them
                        keep = masks[name] if (condition == "person" and scope == "within") else all_images[name]
                        probabilities = predict(model, view.images[name][keep])
                        rows.append({
                            "normalisation": normalisation, "condition": condition, "repetition": repetition,
                            "train_group": split.train_group, "scope": scope, "test_group": test_group,
                            "subject": name, **subject_score(view.labels[name][keep], probabilities),
                            "validation_f1": val_f1,
                        })
            log.info("%s: %s repetition %d done", normalisation, condition, repetition)
    table = pd.DataFrame(rows)
    # The palsy condition compares the person-independent models on healthy vs palsy test subjects.
    person = table[table["condition"] == "person"]
    palsy_rows = pd.concat([
        person[person["scope"] == "cross"].assign(condition="palsy", scope="within", test_group="healthy"),
        person[person["scope"] == "palsy"].assign(condition="palsy", scope="cross"),
    ])
    table = pd.concat([table[table["scope"] != "palsy"], palsy_rows], ignore_index=True)
    return table, person_models
