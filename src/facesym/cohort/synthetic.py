"""The embedded synthetic cohort: healthy probands and unilateral-palsy patients rendered from the face model.

It stands in for the private recordings of the paper's Experiment 1 (Sec. 4.1: 36 probands and 36 patients, each
mimicking the six basic emotions four times in random order) and is written exactly as a user's cohort would
be — PNG images plus a manifest (:mod:`facesym.cohort.manifest`, ``synthetic: true``) — so it runs through the
same code path as real data.

Design, per subject (every draw from :func:`facesym.seeds.derive_seed` of the global seed, ``"cohort"`` and the
subject's name, so adding subjects never changes existing ones):

* **identity, appearance and lighting** — :func:`facesym.identities.sample_identity` with the global seed
  ``derive_seed(seed, "cohort")``: disjoint from the analysed identities of Experiment 2 and from the classifiers'
  training faces; the light comes from near the front, as in a recording lab (:class:`CohortDesign`);
* **symmetry** ``s`` (the face model's knob, paper Eq. 2–3) — probands near full symmetry with small natural
  variation, patients a frozen or weakened half with the severity drawn per subject (:class:`CohortDesign`); the
  weaker half is the subject's own left or right at random;
* **trials** — each of the six emotions ``repetitions`` times, in a random order; each trial is the emotion's
  EMFACS prototype (:func:`facesym.face.prototypes.prototype_phi`) at a random intensity with per-action-unit
  jitter, an onset ``t`` near full, and the subject's ``s`` with a little trial-to-trial variation.

Which half ``s`` scales is decided by the face model's ``left_side``: ``s`` weakens the subject's own left half.
A right-sided palsy is rendered with the same model built with the opposite ``left_side``, which moves only the
left/right split of the expression basis — identity, albedo, light and camera stay the same — so the subject's
right half is the one ``s`` weakens. (Mirroring the image instead would also mirror the identity's asymmetries and
the light.)

The manifest's properties: ``palsy`` (binary, 1 for patients) and ``s`` (continuous, the true per-trial
symmetry, which only a synthetic cohort knows: recorded in every output, not tested). The symmetry measured from
the images is added by the pipeline for every cohort (:func:`facesym.pipeline.experiment1.cohort_properties_job`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image

from facesym.cohort.checks import TRUE_SYMMETRY
from facesym.cohort.manifest import PropertySpec, write_manifest
from facesym.emotions import EMOTIONS
from facesym.face import MorphableModel
from facesym.io.atomic import atomic_path
from facesym.seeds import derive_seed, rng_for

__all__ = [
    "DEFAULT_DESIGN",
    "GROUPS",
    "SYNTHETIC_PROPERTIES",
    "CohortDesign",
    "Subject",
    "Trials",
    "side_models",
    "subject_names",
    "synthetic_subjects",
    "subject_trials",
    "write_synthetic_cohort",
]

log = logging.getLogger(__name__)

GROUPS: tuple[str, str] = ("proband", "patient")
"""The ``group`` values of the synthetic cohort: healthy probands and unilateral-palsy patients."""

SYNTHETIC_PROPERTIES: dict[str, PropertySpec] = {
    "palsy": PropertySpec("binary", "unilateral facial palsy (1 = patient, 0 = healthy proband)"),
    TRUE_SYMMETRY: PropertySpec(
        "continuous",
        "true symmetry s of the face model in [0, 1] (1 = both halves move fully; known only for synthetic data)",
    ),
}
"""Properties the synthetic manifest declares; the true ``s`` is recorded, not tested (:data:`TRUE_SYMMETRY`)."""


@dataclass(frozen=True)
class CohortDesign:
    """How the synthetic subjects and their trials vary.

    Attributes
    ----------
    proband_symmetry
        Range of a proband's symmetry ``s`` (uniform): near full, natural variation of a healthy face.
    patient_symmetry
        Range of a patient's symmetry ``s`` (uniform): from a frozen half (0) to a clearly weakened one.
    trial_symmetry_sd
        Standard deviation of a trial's ``s`` around the subject's (clipped to [0, 1]).
    intensity
        Range of a trial's overall prototype intensity (uniform), prototype units (1 = EMFACS prototype).
    au_jitter
        Relative standard deviation of each prototype action unit around the trial's intensity.
    onset
        Range of the expression onset ``t`` (uniform): the recorded frame is near the expression's apex.
    light_azimuth_scale
        Factor on the identity's light-azimuth coefficient (:func:`facesym.render.lighting_from_coefficients`,
        ``c[0]``). Clinical recordings are lit near-frontally; at the full range (±0.6 rad) the side light, not the
        face, dominates any comparison of the two image halves (measured: SSIM symmetry correlated −0.77 with
        the light's azimuth and 0.32 with s over 72 subjects). Elevation, ambient and directional level keep
        their full per-subject variation.
    """

    proband_symmetry: tuple[float, float] = (0.9, 1.0)
    patient_symmetry: tuple[float, float] = (0.0, 0.6)
    trial_symmetry_sd: float = 0.03
    intensity: tuple[float, float] = (0.8, 1.2)
    au_jitter: float = 0.15
    onset: tuple[float, float] = (0.85, 1.0)
    light_azimuth_scale: float = 0.25

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form, for logs and provenance."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


DEFAULT_DESIGN = CohortDesign()


@dataclass(frozen=True)
class Subject:
    """One synthetic subject.

    Attributes
    ----------
    name
        e.g. ``"proband01"``, ``"patient07"``; also the identity's name.
    group
        ``"proband"`` or ``"patient"``.
    weak_side
        ``"left"`` or ``"right"``: the subject's own half that ``s`` weakens.
    symmetry
        The subject's symmetry ``s`` in [0, 1].
    seed
        Seed of the subject's trial draws.
    """

    name: str
    group: str
    weak_side: str
    symmetry: float
    seed: int

    @property
    def palsy(self) -> int:
        """1 for a patient, 0 for a proband."""
        return int(self.group == "patient")


@dataclass(frozen=True)
class Trials:
    """One subject's recorded trials, in recording order.

    Attributes
    ----------
    emotions
        Instructed emotion of each trial, length B.
    phi
        Expression coefficients, shape ``(B, n_expression)``.
    s
        Symmetry, shape ``(B,)``, in [0, 1].
    t
        Onset, shape ``(B,)``, in [0, 1].
    """

    emotions: list[str]
    phi: np.ndarray
    s: np.ndarray
    t: np.ndarray


def subject_names(group: str, count: int) -> list[str]:
    """Names of a group's subjects: ``proband01``, ``proband02``, … (at least two digits)."""
    width = max(2, len(str(count)))
    return [f"{group}{index:0{width}d}" for index in range(1, count + 1)]


def synthetic_subjects(seed: int, probands: int, patients: int, design: CohortDesign = DEFAULT_DESIGN) -> list[Subject]:
    """Draw the cohort's subjects: probands first, then patients.

    Parameters
    ----------
    seed
        The config's global ``seed``.
    probands, patients
        Number of subjects per group.
    design
        Ranges of the subject-level draws.

    Returns
    -------
    list of Subject
    """
    subjects = []
    for group, count, bounds in (
        ("proband", probands, design.proband_symmetry),
        ("patient", patients, design.patient_symmetry),
    ):
        for name in subject_names(group, count):
            subject_seed = derive_seed(seed, "cohort", name)
            rng = np.random.default_rng(subject_seed)
            side = "left" if rng.random() < 0.5 else "right"
            subjects.append(Subject(name, group, side, float(rng.uniform(*bounds)), subject_seed))
    return subjects


def subject_trials(
    subject: Subject, repetitions: int, prototypes: np.ndarray, design: CohortDesign = DEFAULT_DESIGN
) -> Trials:
    """A subject's trials: every emotion ``repetitions`` times in a random order.

    Parameters
    ----------
    subject
        From :func:`synthetic_subjects`.
    repetitions
        Trials per emotion.
    prototypes
        Shape ``(6, n_expression)``: the EMFACS prototype φ of each of :data:`facesym.emotions.EMOTIONS`.
    design
        Ranges of the trial-level draws.

    Returns
    -------
    Trials
        ``6 * repetitions`` trials.
    """
    rng = rng_for(subject.seed, "trials")
    order = rng.permutation(np.repeat(np.arange(len(EMOTIONS)), repetitions))
    count = len(order)
    base = prototypes[order]
    intensity = rng.uniform(*design.intensity, size=(count, 1))
    jitter = np.clip(1.0 + design.au_jitter * rng.standard_normal(base.shape), 0.0, None)
    t = rng.uniform(*design.onset, size=count)
    s = np.clip(subject.symmetry + design.trial_symmetry_sd * rng.standard_normal(count), 0.0, 1.0)
    return Trials([EMOTIONS[i] for i in order], (base * intensity * jitter).astype(np.float32), s, t)


def side_models(config: Mapping[str, Any], device: torch.device | str = "cpu") -> dict[str, MorphableModel]:
    """The face model for a weaker left half and the one for a weaker right half.

    ``s`` scales the expression of the half the config's ``face_model.left_side`` names as the subject's left;
    the model for a weaker right half is the same model built with the opposite ``left_side``.

    Returns
    -------
    dict
        ``{"left": model, "right": model}``, keyed by the subject's half that ``s`` weakens.
    """
    from facesym.face.configured import face_model_from_config

    face = config["face_model"]
    opposite = "-x" if face["left_side"] == "+x" else "+x"
    return {
        "left": face_model_from_config(config).to(device),
        "right": face_model_from_config({**config, "face_model": {**face, "left_side": opposite}}).to(device),
    }


def _to_uint8(images: torch.Tensor) -> np.ndarray:
    """``(B, C, H, W)`` floats in [0, 1] → ``(B, H, W)`` (gray) or ``(B, H, W, 3)`` (rgb) 8-bit pixels."""
    pixels = np.round(images.detach().cpu().numpy().clip(0.0, 1.0) * 255.0).astype(np.uint8)
    return pixels[:, 0] if pixels.shape[1] == 1 else pixels.transpose(0, 2, 3, 1)


def write_synthetic_cohort(
    config: Mapping[str, Any],
    manifest_path: str | os.PathLike[str],
    subjects_path: str | os.PathLike[str],
    *,
    device: torch.device | str = "cpu",
    design: CohortDesign = DEFAULT_DESIGN,
) -> pd.DataFrame:
    """Render the synthetic cohort and write its images, manifest and subject table.

    Parameters
    ----------
    config
        The validated config: ``seed``, ``experiment1`` (``probands``, ``patients``, ``repetitions``),
        ``face_model`` (must be the procedural model: the trials use its FACS action units), ``identities``
        (``shape_dim``, ``appearance_dim``, ``lighting_dim``) and ``render``.
    manifest_path
        The manifest CSV; its YAML goes beside it, the images to ``images/{subject}/{trial}_{emotion}.png`` in
        the same folder (``trial`` = recording order, from 01).
    subjects_path
        CSV of the subjects: name, group, palsy, weak side, subject-level ``s`` and seeds.
    device
        Where geometry and rendering run.
    design
        The cohort's variation.

    Returns
    -------
    pandas.DataFrame
        The manifest rows (image paths relative to the manifest's folder).
    """
    from facesym.face.prototypes import prototype_phi
    from facesym.identities import sample_identity
    from facesym.interventions.scene import build_scene

    manifest_path = Path(manifest_path)
    folder = manifest_path.parent
    experiment, dims = config["experiment1"], config["identities"]
    device = torch.device(device)
    models = side_models(config, device)
    prototypes = np.stack([prototype_phi(models["left"], e).cpu().numpy() for e in EMOTIONS])
    identity_seed = derive_seed(config["seed"], "cohort")
    subjects = synthetic_subjects(config["seed"], experiment["probands"], experiment["patients"], design)
    rows, subject_rows = [], []
    for subject in subjects:
        identity = sample_identity(
            identity_seed, subject.name, dims["shape_dim"], dims["appearance_dim"], dims["lighting_dim"]
        )
        lighting = identity.lighting.copy()
        lighting[:1] *= design.light_azimuth_scale
        identity = replace(identity, lighting=lighting)
        scene = build_scene(models[subject.weak_side], identity, config["render"], device)
        trials = subject_trials(subject, experiment["repetitions"], prototypes, design)
        pixels = _to_uint8(scene.images(trials.phi, trials.s, trials.t))
        for trial, (emotion, image, s) in enumerate(zip(trials.emotions, pixels, trials.s, strict=True), start=1):
            relative = Path("images") / subject.name / f"{trial:02d}_{emotion}.png"
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(folder / relative) as temporary:
                Image.fromarray(image).save(temporary, format="PNG")
            rows.append(
                {
                    "image": relative.as_posix(),
                    "subject": subject.name,
                    "label": emotion,
                    "group": subject.group,
                    "palsy": subject.palsy,
                    TRUE_SYMMETRY: float(s),
                }
            )
        subject_rows.append(
            {
                "subject": subject.name,
                "group": subject.group,
                "palsy": subject.palsy,
                "weak_side": subject.weak_side,
                "s": subject.symmetry,
                "seed": subject.seed,
                "identity_seed": identity.seed,
                "cohort": "synthetic",
            }
        )
        log.info("rendered %s (%s, weak %s half, s = %.3f)", subject.name, subject.group, subject.weak_side,
                 subject.symmetry)  # fmt: skip
    table = pd.DataFrame(rows)
    with atomic_path(subjects_path) as temporary:
        pd.DataFrame(subject_rows).to_csv(temporary, index=False, float_format="%.6g")
    write_manifest(manifest_path, table, SYNTHETIC_PROPERTIES, synthetic=True)
    return table
