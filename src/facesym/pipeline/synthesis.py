"""Synthesis stage: per (classifier, identity) the optimised expressions φ^(e) (paper Eq. 4) and the logit
surfaces over the symmetry × onset grid (paper Sec. 3.3)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from facesym.emotions import EMOTIONS
from facesym.io import read_h5, write_h5
from facesym.pipeline.loading import job_classifier, job_scene, provenance
from facesym.seeds import derive_seed

__all__ = ["optimise_expressions_job", "surfaces_job"]

log = logging.getLogger(__name__)


def optimise_expressions_job(
    *,
    identity_file: str | Path,
    classifier_entry: Mapping[str, Any],
    weights: str | Path | None,
    config: Mapping[str, Any],
    output: str | Path,
) -> None:
    """Eq. 4 for one (classifier, identity): φ^(e) of the six emotions -> ``output``."""
    from facesym.interventions.optimisation import optimise_expressions

    started = time.perf_counter()
    classifier = job_classifier(classifier_entry, weights, config)
    scene = job_scene(identity_file, config, classifier.device)
    identity = Path(identity_file).stem
    seed = derive_seed(config["seed"], "expressions", classifier.name, identity)
    result = optimise_expressions(classifier, scene, config["expressions"], seed)
    write_h5(
        output,
        "expressions",
        {
            "phi": (result.phi, ("emotion", "parameter"), "expression coefficient"),
            "reached": (result.reached, ("emotion",), "probability"),
            "history": (result.history, ("emotion", "generation"), "probability"),
            "n_evaluations": (result.n_evaluations, ("emotion",), "classifier evaluations"),
        },
        seed=seed,
        config={
            **provenance(config, "expressions", "render", "face_model", "identities"),
            "classifier": dict(classifier_entry),
        },
        coords={
            "emotion": list(EMOTIONS),
            "parameter": list(scene.model.expression_names),
            "generation": np.arange(result.history.shape[1]),
        },
        attrs={"classifier": classifier.name, "identity": identity},
    )
    log.info(
        "expressions of %s for %s done in %.1f s; reached %s",
        classifier.name,
        identity,
        time.perf_counter() - started,
        np.round(result.reached, 3).tolist(),
    )


def surfaces_job(
    *,
    identity_file: str | Path,
    expressions_file: str | Path,
    classifier_entry: Mapping[str, Any],
    weights: str | Path | None,
    config: Mapping[str, Any],
    output: str | Path,
) -> None:
    """The outputs over the S × T grid for each φ^(e), asymmetric and intensity-matched -> ``output``.

    Datasets (axes emotion, s, t, class): ``softmax`` (the paper's intervention), ``softmax_sham`` (both halves at
    ``t·(1+s)/2``), and ``logits`` / ``logits_sham`` when the model gives logits.
    """
    from facesym.interventions.surfaces import grid, logit_surfaces

    started = time.perf_counter()
    classifier = job_classifier(classifier_entry, weights, config)
    scene = job_scene(identity_file, config, classifier.device)
    expressions = read_h5(expressions_file, kind="expressions")
    s, t = grid(config["grid"]["symmetry_steps"], config["grid"]["time_steps"])
    phi = expressions.data["phi"]
    asymmetric = logit_surfaces(classifier, scene, phi, s, t)
    # at s = 1 the control is the intervention, vertex for vertex: its last level is copied, not rendered again
    sham = logit_surfaces(classifier, scene, phi, s[:-1], t, intensity_matched=True)
    axes = ("emotion", "s", "t", "class")

    def with_symmetric(part: np.ndarray, full: np.ndarray) -> np.ndarray:
        return np.concatenate([part, full[:, -1:]], axis=1)

    datasets: dict[str, tuple[Any, tuple[str, ...], str]] = {
        "softmax": (asymmetric.softmax, axes, "probability"),
        "softmax_sham": (with_symmetric(sham.softmax, asymmetric.softmax), axes, "probability"),
    }
    if asymmetric.logits is not None and sham.logits is not None:
        datasets["logits"] = (asymmetric.logits, axes, "logit")
        datasets["logits_sham"] = (with_symmetric(sham.logits, asymmetric.logits), axes, "logit")
    identity = Path(identity_file).stem
    write_h5(
        output,
        "surfaces",
        {
            **datasets,
            "target_class": (np.asarray(classifier.emotion_indices), ("emotion",), "index into class"),
            "phi": (phi, ("emotion", "parameter"), "expression coefficient"),
        },
        seed=int(expressions.attrs["seed"]),
        config={
            **provenance(config, "grid", "render", "face_model", "identities"),
            "classifier": dict(classifier_entry),
        },
        coords={
            "emotion": list(EMOTIONS),
            "s": s,
            "t": t,
            "class": list(classifier.classes),
            "parameter": list(expressions.coords["parameter"]),
        },
        attrs={"classifier": classifier.name, "identity": identity},
    )
    log.info("surfaces of %s for %s done in %.1f s", classifier.name, identity, time.perf_counter() - started)

