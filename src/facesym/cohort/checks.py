"""Experiment 1's config, checked before any job runs.

:func:`check_cohort_config` is called while the workflow is parsed, so a bad manifest row, a missing LPIPS file or
a cohort the tests cannot use stops the run at once with every problem named — not an hour later in a job.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from facesym.cohort.images import SYMMETRY, image_problem
from facesym.cohort.manifest import Manifest, ManifestError, Problem, load_manifest
from facesym.config import ConfigError
from facesym.emotions import EMOTIONS

__all__ = [
    "MOUTH_ASYMMETRY",
    "RESERVED_COLUMNS",
    "TRUE_SYMMETRY",
    "check_cohort_config",
    "cohort_source",
    "experiment1_params",
    "face_mode",
    "tested_properties",
]

MOUTH_ASYMMETRY = "mouth_asymmetry"
"""The geometric asymmetry measured on detected faces (:func:`facesym.cohort.faces.mouth_asymmetry`)."""

TRUE_SYMMETRY = "s"
"""The synthetic cohort's true symmetry: recorded in every output beside the measured properties, not tested.

No real cohort knows it, so Table 1 keeps the paper's rows (palsy and the symmetry measured from the images);
``s`` is there to check how well those stand in for it.
"""

RESERVED_COLUMNS: tuple[str, ...] = (
    SYMMETRY,
    MOUTH_ASYMMETRY,
    "cohort",
    "classifier",
    "training_set",
    "predicted",
    "correct",
    *(f"p_{emotion}" for emotion in EMOTIONS),
)
"""Names the pipeline gives its own columns; a manifest's properties may not use them."""

_MIN_IMAGES = 10
"""The conditional-independence tests need at least this many samples."""


def cohort_source(config: Mapping[str, Any], synthetic: str) -> str:
    """The manifest the analysis starts from: the user's (``experiment1.cohort``) or ``synthetic``, the path the
    workflow writes the synthetic cohort's manifest to."""
    return config["experiment1"]["cohort"] or synthetic


def face_mode(config: Mapping[str, Any]) -> str:
    """``experiment1.faces`` resolved: ``"detect"`` or ``"given"`` (null: detect for a manifest, given if synthetic)."""
    experiment = config["experiment1"]
    if experiment["faces"] is not None:
        return experiment["faces"]
    return "given" if experiment["cohort"] is None else "detect"


def experiment1_params(config: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """A job's config param: the seed, the device and the named ``experiment1`` settings.

    Snakemake reruns a job when a param changes, so a job gets exactly the settings it uses.
    """
    return {
        "seed": config["seed"],
        "device": config["device"],
        "experiment1": {key: config["experiment1"][key] for key in keys},
    }


def tested_properties(manifest: Manifest) -> dict[str, str]:
    """Property name → type of the properties Experiment 1 tests: all but the synthetic cohort's true ``s``."""
    types = manifest.property_types
    return {name: kind for name, kind in types.items() if not (manifest.synthetic and name == TRUE_SYMMETRY)}


def _cohort_problems(manifest: Manifest) -> list[Problem]:
    """What makes a valid manifest unusable for Experiment 1."""
    problems = []
    for name in manifest.properties:
        if name in RESERVED_COLUMNS:
            reason = (
                "is measured from the images by the pipeline"
                if name in (SYMMETRY, MOUTH_ASYMMETRY)
                else "is a column the pipeline writes into its outputs"
            )
            problems.append(Problem(None, f"property '{name}' {reason}; rename the column and its declaration"))
        elif manifest.table[name].nunique() < 2:
            problems.append(
                Problem(None, f"property '{name}' has the same value in every row; a constant cannot be tested")
            )
    if len(manifest.table) < _MIN_IMAGES:
        problems.append(
            Problem(None, f"{len(manifest.table)} images; the independence tests need at least {_MIN_IMAGES}")
        )
    return problems


def _image_problems(manifest: Manifest) -> list[Problem]:
    """Manifest rows whose file is not an image: found here, by its header, rather than by the job that reads it."""
    problems = []
    for index, image in enumerate(manifest.table["image"]):
        reason = image_problem(image)
        if reason is not None:
            shown = os.path.relpath(image, manifest.path.parent)
            problems.append(Problem(index + 2, f"image '{shown}' is {reason}"))
    return problems


def check_cohort_config(config: Mapping[str, Any], base_dir: str | os.PathLike[str] = ".") -> Manifest | None:
    """Check the ``experiment1`` section and the cohort it names; call at parse time, after schema validation.

    Parameters
    ----------
    config
        The validated config (defaults filled in).
    base_dir
        The working directory relative paths in the config are taken from.

    Returns
    -------
    Manifest or None
        The user's cohort, loaded and validated; ``None`` for the synthetic cohort.

    Raises
    ------
    ManifestError
        The user's manifest, listing every bad row (missing image, a file that is not an image, unknown label,
        non-numeric or non-binary property, duplicate image, …) and every property Experiment 1 cannot test
        (constant, or named like a column the pipeline writes).
    ConfigError
        Naming the config key: a permutation count that can never reach ``alpha``, an LPIPS weights file that is
        missing or unreadable, the synthetic cohort with a face model that has no FACS action units.
    """
    experiment = config["experiment1"]
    base = Path(base_dir)
    problems: list[str] = []
    if 1 / (experiment["permutations"] + 1) >= experiment["alpha"]:
        problems.append(
            f"config key 'experiment1.permutations': with {experiment['permutations']} permutations the smallest "
            f"p-value is 1/{experiment['permutations'] + 1}, never below experiment1.alpha = {experiment['alpha']}; "
            f"use more than {1 / experiment['alpha'] - 1:g}"
        )
    if experiment["lpips_weights"] is not None:
        problems.extend(_lpips_problems(base / experiment["lpips_weights"], experiment["lpips_weights"]))
    if experiment["cohort"] is None and config["face_model"]["kind"] != "procedural":
        problems.append(
            "config key 'experiment1.cohort': the synthetic cohort shows EMFACS prototypes, which need the procedural "
            f"face model's FACS action units, not face_model.kind = {config['face_model']['kind']}; set "
            "experiment1.cohort to a manifest of recorded images"
        )
    if problems:
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(problems))
    if experiment["cohort"] is None:
        return None
    manifest = load_manifest(base / experiment["cohort"])
    cohort_problems = _cohort_problems(manifest) + _image_problems(manifest)
    if cohort_problems:
        raise ManifestError(manifest.path, cohort_problems)
    return manifest


def _lpips_problems(path: Path, value: str) -> list[str]:
    from facesym.properties import LPIPSWeightsError, load_lpips

    key = "config key 'experiment1.lpips_weights'"
    if not path.is_file():
        return [f"{key}: file '{value}' does not exist"]
    try:
        load_lpips(path)
    except LPIPSWeightsError as error:
        return [f"{key}: {error}"]
    return []
