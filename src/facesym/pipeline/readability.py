"""Readability stage: whether each classifier reads the face model's faces at all (the EMFACS prototypes at
s = 1 and s = 0, :mod:`facesym.classifiers.readability`), the prototypes as files, and the table of all checks."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from facesym import __version__
from facesym.classifiers.framing import reference_box
from facesym.classifiers.readability import (
    LABELS,
    checks_table,
    heldout_identities,
    readability,
    render_prototypes,
    write_prototype_pngs,
)
from facesym.classifiers.registry import load_classifier
from facesym.face.configured import face_model_from_config
from facesym.io.atomic import write_json, write_text
from facesym.io.tables import misplaced
from facesym.seeds import derive_seed

__all__ = ["checks_table_job", "prototype_pngs_job", "readability_job"]

log = logging.getLogger(__name__)


def readability_job(
    *,
    classifier_entry: Mapping[str, Any],
    weights: str | Path | None,
    config: Mapping[str, Any],
    output: str | Path,
) -> dict[str, Any]:
    """The check of one classifier -> ``output`` (JSON).

    Renders with the config's ``render`` settings, i.e. the images the classifier reads in the analysis,
    framed as its entry says.
    """
    started = time.perf_counter()
    model = face_model_from_config(config)
    classifier = load_classifier(classifier_entry, weights=weights, device=config["device"], face_model=model)
    count = config["readability"]["identities"]
    identities = heldout_identities(config["seed"], count, config["identities"])
    prototypes = render_prototypes(model, identities, config["render"], device=classifier.device)
    result = readability(classifier, prototypes)
    check = {
        "classifier": classifier.name,
        "group": classifier_entry.get("group", ""),
        "kind": classifier_entry["kind"],
        "classes": list(classifier.classes),
        "crop": None if classifier.crop is None else classifier.crop.to_json(),
        "reference_box": reference_box(model).to_json(),
        "n_identities": count,
        "identities": [identity.name for identity in identities],
        "t": 1.0,
        **result,
        "seed": derive_seed(config["seed"], "readability"),
        "global_seed": config["seed"],
        "render": dict(config["render"]),
        "face_model": dict(config["face_model"]),
        "entry": dict(classifier_entry),
        "check_seconds": time.perf_counter() - started,
        "facesym_version": __version__,
    }
    write_json(output, check)
    log.info(
        "%s: prototype accuracy %s (chance %.3f)",
        classifier.name,
        {level["s"]: round(level["accuracy"], 3) for level in result["checks"]},
        result["chance"],
    )
    return check


def prototype_pngs_job(
    *, config: Mapping[str, Any], images: str | Path, labels_csv: str | Path, info: str | Path
) -> None:
    """The check's faces as files -> ``images``: RGB PNGs, ``labels.csv`` and ``prototypes.json``.

    The same identities, expressions, lighting and symmetry levels as the check, rendered in RGB at
    ``readability.png_size`` and unframed (each classifier's framing is its own; ``prototypes.json`` gives the
    reference box the framings are relative to).
    """
    model = face_model_from_config(config)
    section = config["readability"]
    identities = heldout_identities(config["seed"], section["identities"], config["identities"])
    render_config = {**config["render"], "size": section["png_size"], "color": "rgb"}
    prototypes = render_prototypes(model, identities, render_config)
    table = write_prototype_pngs(prototypes, images, labels_csv)
    write_json(
        info,
        {
            "description": (
                "EMFACS prototypes of the six emotions plus neutral at full onset (t = 1), for held-out identities, "
                "at s = 1 and s = 0; unframed renders of the canonical render frame (apply a classifier's own "
                "framing, relative to reference_box, before its resizing)"
            ),
            "labels": list(LABELS),
            "n_images": len(table),
            "n_identities": len(identities),
            "size": section["png_size"],
            "color": "rgb",
            "reference_box": reference_box(model).to_json(),
            "seed": derive_seed(config["seed"], "readability"),
            "global_seed": config["seed"],
            "render": render_config,
            "face_model": dict(config["face_model"]),
            "facesym_version": __version__,
        },
    )
    log.info("wrote %d prototype PNGs of %d identities", len(table), len(identities))


def checks_table_job(*, checks: Sequence[str | Path], entries: Sequence[Mapping[str, Any]], output: str | Path) -> None:
    """Every classifier's check in one table -> ``output`` (see :func:`checks_table`).

    ``entries``: the config entry of each check's classifier, in the same order. A check made for another
    classifier (a file copied over another's) or from another entry stops the job, naming the file.
    """
    loaded = []
    for path, entry in zip(checks, entries, strict=True):
        check = json.loads(Path(path).read_text())
        expected = json.loads(json.dumps(dict(entry)))  # as the check stored it
        for key, found, wanted in (("classifier", check.get("classifier"), entry["name"]),
                                   ("entry", check.get("entry"), expected)):
            if found != wanted:
                raise misplaced(path, f"its '{key}'", repr(found), repr(wanted))
        loaded.append(check)
    table = checks_table(loaded)
    write_text(output, table.to_csv(index=False, float_format="%.4f"))
