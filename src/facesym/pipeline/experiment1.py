"""Experiment 1's jobs (paper Sec. 4.1, Table 1): one function per rule of ``rules/experiment1.smk``.

The chain, for the synthetic cohort or a user's manifest alike::

    synthetic_cohort_job      the synthetic cohort's manifest (+ images)   only without experiment1.cohort
    align_faces_job           aligned manifest, faces, face QC, crops      faces detected, aligned, cropped;
                                                                           quality control (experiment1.faces)
    cohort_properties_job     the analysed cohort                          + symmetry measured from the images
    classify_cohort_job       per classifier: predictions                  softmax per image
    accuracy_job              accuracy                                     per subject group and palsy side
    ci_tests_job              per classifier: tests                        KCI, CMIknn, fast CIT, majority vote
    ci_calibration_job        per classifier: calibration                  false positives: shuffles, placebos
    table1_job                Table 1                                      ✓/✗ per classifier × property
    calibration_table_job     the calibration of all classifiers

Images that face quality control excludes (no face, several faces, implausible alignment) are listed in
``face_qc.csv`` with their manifest line, left out of every test, and counted in every table: ``n_excluded``
in the accuracy and test tables, a row of Table 1.

Every output says which cohort it comes from (column or row ``cohort``: ``synthetic`` or ``real``). Seeds are
derived from the global seed, the stage and the job's classifier and property. ``experiment1.unit`` chooses what
the tests count as one sample (:mod:`facesym.cohort.units`): every image, as the paper does, or the mean over a
subject's images of one label; the calibration's subject placebo shows how far repeated images of each subject
make image-level tests optimistic.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from facesym.cohort.checks import MOUTH_ASYMMETRY, tested_properties
from facesym.cohort.images import SYMMETRY, image_batches, measure_symmetry, read_image, symmetry_description
from facesym.cohort.manifest import REQUIRED_COLUMNS, Manifest, PropertySpec, load_manifest, write_manifest
from facesym.cohort.tables import DEPENDENT, INDEPENDENT, MAJORITY, accuracy_table, palsy_sides, table1
from facesym.cohort.units import analysis_units
from facesym.emotions import EMOTIONS
from facesym.face.configured import face_model_from_config
from facesym.io.atomic import atomic_path, write_text
from facesym.io.tables import read_slot_table, write_slot_table
from facesym.seeds import derive_seed

__all__ = [
    "PLACEBO_NULL",
    "SHUFFLE_NULL",
    "FaceQCError",
    "cohort_label",
    "excluded_images",
    "synthetic_cohort_job",
    "align_faces_job",
    "cohort_properties_job",
    "classify_cohort_job",
    "accuracy_job",
    "ci_tests_job",
    "ci_calibration_job",
    "table1_job",
    "calibration_table_job",
]

log = logging.getLogger(__name__)

def cohort_label(manifest: Manifest) -> str:
    """``"synthetic"`` or ``"real"``: the label every Experiment 1 output carries."""
    return "synthetic" if manifest.synthetic else "real"


def _shown_path(path: str) -> str:
    """An image path as outputs show it: relative to the working directory when inside it, else absolute."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else Path(relative).as_posix()


def _write_csv(path: str | os.PathLike[str], table: pd.DataFrame) -> None:
    write_text(path, table.to_csv(index=False, float_format="%.6g"))


def synthetic_cohort_job(*, config: Mapping[str, Any], manifest: str | Path, subjects: str | Path) -> None:
    """Render the synthetic cohort (:func:`facesym.cohort.synthetic.write_synthetic_cohort`) on the config's device."""
    from facesym.cohort.synthetic import write_synthetic_cohort
    from facesym.device import resolve_device

    started = time.perf_counter()
    table = write_synthetic_cohort(config, manifest, subjects, device=resolve_device(config["device"]))
    log.info(
        "synthetic cohort: %d images of %d subjects in %.1f s",
        len(table),
        table["subject"].nunique(),
        time.perf_counter() - started,
    )


class FaceQCError(RuntimeError):
    """More of a cohort's images failed face quality control than ``experiment1.face_qc_max_fraction`` allows."""


QC_COLUMNS = ("line", "image", "subject", "label", "group", "reason", "n_faces")
"""Leading columns of ``face_qc.csv``; the manifest's property columns follow."""


FACE_COLUMNS = (
    "line", "image", "status", "reason", "n_faces", "box_x_px", "box_y_px", "box_side_px", "search_angle_deg",
    "eye_left_x_px", "eye_left_y_px", "eye_right_x_px", "eye_right_y_px", "roll_deg", "crop_px_per_image_px",
    "outside_fraction", "crop",
)  # fmt: skip
"""Columns of ``faces.csv``: pixel positions are in the photograph, pixel centres at integers, y down."""


def _face_row(line: int, image: str, alignment, crop: str) -> dict[str, Any]:
    """One ``faces.csv`` row: photograph-pixel geometry of an alignment (NaN where it has none)."""
    eyes = alignment.eyes
    return {
        "line": line,
        "image": image,
        "status": "aligned" if alignment.ok else "excluded",
        "reason": alignment.reason,
        "n_faces": alignment.n_faces,
        "box_x_px": alignment.box[0],
        "box_y_px": alignment.box[1],
        "box_side_px": alignment.box[2],
        "search_angle_deg": alignment.search_angle,
        "eye_left_x_px": eyes[0, 0],
        "eye_left_y_px": eyes[0, 1],
        "eye_right_x_px": eyes[1, 0],
        "eye_right_y_px": eyes[1, 1],
        "roll_deg": alignment.roll,
        "crop_px_per_image_px": float(np.hypot(*alignment.matrix[:2, 0])),
        "outside_fraction": alignment.outside,
        "crop": crop,
    }


def _save_crop(path: Path, crop: np.ndarray) -> None:
    from PIL import Image

    pixels = np.round(crop * 255.0).astype(np.uint8)
    image = Image.fromarray(pixels[0]) if pixels.shape[0] == 1 else Image.fromarray(pixels.transpose(1, 2, 0))
    with atomic_path(path) as temporary:
        image.save(temporary, format="PNG")


def align_faces_job(
    *,
    manifest: str | Path,
    config: Mapping[str, Any],
    aligned: str | Path,
    faces: str | Path,
    qc: str | Path,
    crops: str | Path,
) -> None:
    """Faces of the cohort's images, aligned into the face model's render frame, and their quality control.

    ``experiment1.faces: detect`` — every image goes through :func:`facesym.cohort.faces.align_face`; a usable face
    is cropped (``experiment1.face_size`` pixels, PNG in ``crops``, named by manifest line) and its
    :func:`~facesym.cohort.faces.mouth_asymmetry` measured; an unusable one is listed in ``qc`` with its manifest
    line and reason. ``given`` — the images are crops already: the manifest passes unchanged and ``qc`` is empty.

    Outputs: ``aligned`` (a manifest of the usable crops, with ``mouth_asymmetry`` when detecting), ``faces`` (one
    row per manifest image: box, eyes, roll, scale in photograph pixels, verdict) and ``qc``.

    Raises
    ------
    FaceQCError
        When more than ``experiment1.face_qc_max_fraction`` of the images fail, listing each with its line.
    """
    from facesym.cohort.faces import align_face, mouth_asymmetry

    started = time.perf_counter()
    source = load_manifest(manifest)
    experiment = config["experiment1"]
    table = source.table
    lines = np.arange(len(table)) + 2
    folder = Path(crops)
    folder.mkdir(parents=True, exist_ok=True)
    properties: dict[str, PropertySpec] = dict(source.properties)
    if experiment["faces"] == "given":
        kept = table.copy()
        rows = [{"line": line, "image": _shown_path(path), "status": "given", "reason": "", "crop": _shown_path(path)}
                for line, path in zip(lines, table["image"], strict=True)]  # fmt: skip
    else:
        size = experiment["face_size"]
        rows, keep, crop_paths, asymmetry = [], [], [], []
        for line, path in zip(lines, table["image"], strict=True):
            image = read_image(path)
            alignment = align_face(image, size)
            crop_path = ""
            if alignment.ok:
                crop = alignment.crop(image)
                crop_path = (folder / f"{line:05d}_{Path(path).stem}.png").resolve()
                _save_crop(crop_path, crop)
                keep.append(line - 2)
                crop_paths.append(str(crop_path))
                asymmetry.append(float(mouth_asymmetry(crop[None])[0]))
            rows.append(
                _face_row(int(line), _shown_path(path), alignment, _shown_path(str(crop_path)) if crop_path else "")
            )
            log.info("line %d %s: %s", line, _shown_path(path), alignment.reason or f"roll {alignment.roll:.1f}°")
        kept = table.iloc[keep].copy()
        kept["image"] = crop_paths
        kept[MOUTH_ASYMMETRY] = asymmetry
        properties[MOUTH_ASYMMETRY] = PropertySpec(
            "continuous",
            "tilt of the mouth against the eye line on the aligned face, |height left - height right| / eye distance "
            "(0 = level)",
        )
    face_table = pd.DataFrame(rows, columns=list(FACE_COLUMNS))
    failed = face_table[face_table["status"] == "excluded"]
    qc_table = pd.DataFrame(
        {
            "line": failed["line"].to_numpy(int),
            "image": failed["image"].to_numpy(str),
            **{column: table[column].to_numpy()[failed["line"].to_numpy(int) - 2] for column in REQUIRED_COLUMNS[1:]},
            "reason": failed["reason"].to_numpy(str),
            "n_faces": failed["n_faces"].to_numpy(int),
            **{name: table[name].to_numpy()[failed["line"].to_numpy(int) - 2] for name in source.properties},
        }
    )
    limit = experiment["face_qc_max_fraction"]
    if len(qc_table) > limit * len(table):
        listing = "\n".join(f"  line {r.line}: {r.image}: {r.reason}" for r in qc_table.itertuples())
        raise FaceQCError(
            f"{manifest}: face quality control excluded {len(qc_table)} of {len(table)} images, more than "
            f"experiment1.face_qc_max_fraction = {limit:g} allows:\n{listing}"
        )
    _write_csv(faces, face_table)
    _write_csv(qc, qc_table)
    write_manifest(aligned, kept, properties, synthetic=source.synthetic)
    log.info(
        "%s cohort, faces %s: %d of %d images kept, %d excluded by face quality control, in %.1f s",
        cohort_label(source),
        experiment["faces"],
        len(kept),
        len(table),
        len(qc_table),
        time.perf_counter() - started,
    )


def excluded_images(qc: str | Path) -> pd.DataFrame:
    """The rows of a ``face_qc.csv``: images face quality control left out of every test."""
    return pd.read_csv(qc, keep_default_na=False)


def cohort_properties_job(*, manifest: str | Path, config: Mapping[str, Any], output: str | Path) -> None:
    """The analysed cohort: the input manifest plus ``symmetry`` measured from its images.

    SSIM between the mirrored face halves, or LPIPS when ``experiment1.lpips_weights`` names a weights file.
    Written as a manifest (with its YAML), so every later job reads a validated cohort.
    """
    started = time.perf_counter()
    source = load_manifest(manifest)
    weights = config["experiment1"]["lpips_weights"]
    table = source.table.copy()
    table[SYMMETRY] = measure_symmetry(table["image"].tolist(), weights)
    properties = {**source.properties, SYMMETRY: PropertySpec("continuous", symmetry_description(weights))}
    write_manifest(output, table, properties, synthetic=source.synthetic)
    log.info(
        "%s cohort of %d images: symmetry (%s) measured in %.1f s; mean per group %s",
        cohort_label(source),
        len(table),
        "SSIM" if weights is None else "LPIPS",
        time.perf_counter() - started,
        table.groupby("group")[SYMMETRY].mean().round(4).to_dict(),
    )


def _class_names(classifier) -> list[str]:
    """Each output class as an emotion of :data:`EMOTIONS`, or its own lower-case name for extra classes."""
    names = [name.lower() for name in classifier.classes]
    for emotion, index in zip(EMOTIONS, classifier.emotion_indices, strict=True):
        names[index] = emotion
    return names


def classify_cohort_job(
    *,
    cohort: str | Path,
    classifier_entry: Mapping[str, Any],
    weights: str | Path | None,
    config: Mapping[str, Any],
    output: str | Path,
    slot: Mapping[str, Any],
) -> None:
    """One classifier's softmax for every cohort image -> ``output`` (CSV).

    Columns: ``cohort``, ``classifier``, ``training_set`` (the entry's ``group``), the manifest's ``image``
    (relative to the working directory when inside it), ``subject``, ``label``, ``group`` and properties,
    ``p_<emotion>`` for the six emotions (softmax over all the model's classes), ``predicted`` (the arg-max
    class, as an emotion or an extra class such as ``neutral``) and ``correct`` (``predicted == label``), then
    the provenance columns of :mod:`facesym.io.tables` for ``slot`` (``classifier``, ``config_digest``).
    """
    import torch

    from facesym.classifiers.registry import load_classifier

    started = time.perf_counter()
    manifest = load_manifest(cohort)
    # Cohort images are renders of the face model, or photographs aligned into its render frame.
    face_model = face_model_from_config(config) if "framing" in classifier_entry else None
    classifier = load_classifier(classifier_entry, weights=weights, device=config["device"], face_model=face_model)
    paths = manifest.table["image"].tolist()
    probabilities = np.empty((len(paths), classifier.n_classes), dtype=np.float64)
    for index, images in image_batches(paths):
        probabilities[index] = classifier.predict(torch.from_numpy(images)).numpy()
    names = _class_names(classifier)
    table = manifest.table.copy()
    table["image"] = [_shown_path(p) for p in paths]
    table.insert(0, "training_set", classifier_entry.get("group", ""))
    table.insert(0, "classifier", classifier.name)
    table.insert(0, "cohort", cohort_label(manifest))
    for emotion, column in zip(EMOTIONS, classifier.emotion_indices, strict=True):
        table[f"p_{emotion}"] = probabilities[:, column]
    table["predicted"] = [names[k] for k in probabilities.argmax(axis=1)]
    table["correct"] = (table["predicted"] == table["label"]).astype(int)
    write_slot_table(output, table, slot)
    log.info(
        "%s on %d images in %.1f s; accuracy per group %s",
        classifier.name,
        len(table),
        time.perf_counter() - started,
        table.groupby("group")["correct"].mean().round(4).to_dict(),
    )


def accuracy_job(
    *,
    predictions: Sequence[str | Path],
    expected: Sequence[Mapping[str, Any]],
    qc: str | Path,
    output: str | Path,
    subjects: str | Path | None = None,
) -> None:
    """Accuracy per subject group, per classifier and pooled per training set, and per palsy side.

    ``subjects``: the synthetic cohort's ``subjects.csv``, which knows each patient's palsy side; ``None`` for a
    user manifest, which does not (the ``palsy_side`` column stays empty). ``expected``: each file's slot
    (:func:`facesym.io.tables.read_slot_table`). See :func:`facesym.cohort.tables.accuracy_table`.
    """
    tables = [read_slot_table(path, slot) for path, slot in zip(predictions, expected, strict=True)]
    sides = palsy_sides(pd.read_csv(subjects)) if subjects else None
    table = accuracy_table(tables, excluded_images(qc), sides)
    _write_csv(output, table)
    log.info("accuracy:\n%s", table.to_string(index=False))


def _test_inputs(predictions: str | Path, expected: Mapping[str, Any], cohort: str | Path, config: Mapping[str, Any]):
    """The rows tested (images or subject × label means), their property types, the Experiment 1 settings and the
    number of images classified."""
    table = read_slot_table(predictions, expected)
    n_images = len(table)
    types = tested_properties(load_manifest(cohort))
    missing = [name for name in types if name not in table.columns]
    if missing:
        raise ValueError(f"{predictions} lacks the cohort's properties {missing}; rerun its classify_cohort job")
    experiment = config["experiment1"]
    table, types = analysis_units(table, [f"p_{experiment['output_emotion']}"], types, experiment["unit"])
    return table, types, experiment, n_images


def _settings(experiment: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "alpha": experiment["alpha"],
        "knn": experiment["knn"],
        "n_perm": experiment["permutations"],
        "n_splits": experiment["fast_cit_splits"],
    }


def ci_tests_job(
    *,
    predictions: str | Path,
    expected: Mapping[str, Any],
    cohort: str | Path,
    qc: str | Path,
    config: Mapping[str, Any],
    output: str | Path,
    slot: Mapping[str, Any],
) -> None:
    """Is each property independent of the classifier's output given the instructed label? -> ``output``.

    For every property P of the cohort: KCI, CMIknn and the fast CIT of P ⟂ p(output_emotion) | label
    (:func:`facesym.cit.conditional_independence`), and their majority vote at ``experiment1.alpha``; for a
    property with one value per subject (palsy) also the test whose null permutes subjects
    (:func:`facesym.cit.subject_permutation_test`, not part of the vote). One row per test (``p_value``,
    ``statistic``, ``n``, ``rejects``, ``settings`` as JSON) and one ``majority`` row per property
    (``n_rejecting``, ``dependent``, ``decision`` ✓/✗). Every row carries ``n_images`` (the images tested) and
    ``n_excluded`` (those face quality control left out, from ``qc``). ``expected`` is the predictions' slot,
    ``slot`` this output's (:mod:`facesym.io.tables`).
    """
    from facesym.cit import conditional_independence, subject_permutation_test
    from facesym.cit.placebo import subject_level

    started = time.perf_counter()
    table, types, experiment, n_images = _test_inputs(predictions, expected, cohort, config)
    classifier = slot["classifier"]
    output_column = f"p_{experiment['output_emotion']}"
    common = {
        "cohort": table["cohort"].iloc[0],
        "classifier": classifier,
        "training_set": table["training_set"].iloc[0],
        "output": output_column,
        "condition": "label",
        "unit": experiment["unit"],
        "n_images": n_images,
        "n_excluded": len(excluded_images(qc)),
    }
    rows = []
    for name, kind in types.items():
        seed = derive_seed(config["seed"], "ci", classifier, name)
        vote = conditional_independence(
            table[name].to_numpy(float),
            table[output_column].to_numpy(float),
            table["label"].to_numpy(str),
            seed=seed,
            discrete_x=kind == "binary",
            **_settings(experiment),
        )
        described = {**common, "property": name, "property_type": kind, "alpha": vote.alpha, "seed": seed}
        results = list(vote.results)
        if subject_level(table[name], table["subject"]):
            # beside the vote: the null that permutes subjects, for a property of the subject
            results.append(
                subject_permutation_test(
                    table[name].to_numpy(float), table[output_column].to_numpy(float), table["label"].to_numpy(str),
                    table["subject"].to_numpy(str), seed=seed, n_perm=experiment["permutations"],
                )
            )  # fmt: skip
        for result in results:
            rows.append(
                {
                    **described,
                    "test": result.test,
                    "statistic": result.statistic,
                    "p_value": result.p_value,
                    "n": result.n,
                    "rejects": int(result.rejects(vote.alpha)),
                    "settings": json.dumps(result.settings, sort_keys=True),
                }
            )
        rows.append(
            {
                **described,
                "test": MAJORITY,
                "n": vote.results[0].n,
                "n_rejecting": vote.n_rejecting,
                "rejects": int(vote.dependent),
                "decision": DEPENDENT if vote.dependent else INDEPENDENT,
            }
        )
        log.info(
            "%s, %s: p = %s -> %s",
            classifier,
            name,
            {r.test: round(r.p_value, 4) for r in vote.results},
            DEPENDENT if vote.dependent else INDEPENDENT,
        )
    columns = [
        *common, "property", "property_type", "test", "statistic", "p_value", "n", "alpha", "rejects", "n_rejecting",
        "decision", "seed", "settings",
    ]  # fmt: skip
    write_slot_table(output, pd.DataFrame(rows, columns=columns), slot)
    log.info("tests of %d properties for %s in %.1f s", len(types), classifier, time.perf_counter() - started)


SHUFFLE_NULL = "within-label shuffle"
"""``null`` of the calibration rows that shuffle the property between images of one label."""

PLACEBO_NULL = "subject placebo"
"""``null`` of the calibration rows that test a placebo property drawn per subject (:mod:`facesym.cit.placebo`)."""


def ci_calibration_job(
    *,
    predictions: str | Path,
    expected: Mapping[str, Any],
    cohort: str | Path,
    config: Mapping[str, Any],
    output: str | Path,
    slot: Mapping[str, Any],
) -> None:
    """False-positive rates of each test and the vote on this classifier's outputs -> ``output``.

    Two nulls, ``experiment1.calibration_shuffles`` draws each, every rejection a false positive:

    * ``within-label shuffle`` (:func:`facesym.cit.calibrate`), for every tested property: the property shuffled
      between the images of each label;
    * ``subject placebo`` (:func:`facesym.cit.placebo.placebo_calibration`), for every property with one value
      per subject (palsy): a random property of the same type drawn per subject, which keeps the cohort's
      repeated images per subject — the shuffle breaks them apart and so cannot show how much they inflate the
      tests. Its rows include the test whose null permutes subjects (``test = "subject permutation"``).

    One row per (property, null, test or ``majority``) with the rate, its exact 95 % interval and whether the count
    stays within the binomial limit of a level-``alpha`` test. ``expected`` is the predictions' slot, ``slot``
    this output's (:mod:`facesym.io.tables`).
    """
    from facesym.cit import calibrate
    from facesym.cit.placebo import placebo_calibration, subject_level

    started = time.perf_counter()
    table, types, experiment, _ = _test_inputs(predictions, expected, cohort, config)
    classifier = slot["classifier"]
    output_column = f"p_{experiment['output_emotion']}"
    y, z = table[output_column].to_numpy(float), table["label"].to_numpy(str)
    draws, settings = experiment["calibration_shuffles"], _settings(experiment)
    rows = []
    for name, kind in types.items():
        binary = kind == "binary"
        seed = derive_seed(config["seed"], "ci_calibration", classifier, name)
        x = table[name].to_numpy(float)
        runs = [(SHUFFLE_NULL, seed, calibrate(x, y, z, seed=seed, n_shuffles=draws, discrete_x=binary, **settings))]
        if subject_level(table[name], table["subject"]):
            seed = derive_seed(config["seed"], "ci_placebo", classifier, name)
            # A binary placebo marks as many subjects as the real property does.
            share = float(table.groupby("subject")[name].first().mean()) if binary else 0.5
            subjects = table["subject"].to_numpy(str)
            placebo = placebo_calibration(
                y, z, subjects, seed=seed, n_draws=draws, binary=binary, share=share, **settings
            )
            runs.append((PLACEBO_NULL, seed, placebo))
        for null, seed, calibration in runs:
            for record in calibration.to_records():
                rows.append(
                    {
                        "cohort": table["cohort"].iloc[0],
                        "classifier": classifier,
                        "training_set": table["training_set"].iloc[0],
                        "output": output_column,
                        "unit": experiment["unit"],
                        "property": name,
                        "property_type": kind,
                        "null": null,
                        **record,
                        "seed": seed,
                    }
                )
            log.info("%s, %s, %s: false positives %s", classifier, name, null, calibration.false_positives())
    write_slot_table(output, pd.DataFrame(rows), slot)
    log.info("calibration of %s in %.1f s", classifier, time.perf_counter() - started)


def table1_job(*, ci_files: Sequence[str | Path], expected: Sequence[Mapping[str, Any]], output: str | Path) -> None:
    """The paper's Table 1 from each classifier's test rows (:func:`facesym.cohort.tables.table1`); ``expected``:
    each file's slot (:func:`facesym.io.tables.read_slot_table`)."""
    table = table1([read_slot_table(path, slot) for path, slot in zip(ci_files, expected, strict=True)])
    write_text(output, table.to_csv())
    log.info("Table 1:\n%s", table.to_string())


def calibration_table_job(*, files: Sequence[str | Path], expected: Sequence[Mapping[str, Any]],
                          output: str | Path) -> None:
    """All classifiers' calibration rows in one table -> ``output``; ``expected``: each file's slot."""
    tables = [read_slot_table(path, slot) for path, slot in zip(files, expected, strict=True)]
    table = pd.concat(tables, ignore_index=True)
    _write_csv(output, table)
    for null, vote in table[table["test"] == MAJORITY].groupby("null"):
        log.info(
            "majority vote, %s: %d false positives in %d draws (%d classifier × property pairs, %d within the "
            "binomial limit)",
            null,
            vote["false_positives"].sum(),
            vote["n_shuffles"].sum(),
            len(vote),
            vote["within_nominal"].sum(),
        )
