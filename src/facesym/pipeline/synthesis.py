"""Synthesis stage: per (classifier, identity) the optimised expressions φ^(e) (paper Eq. 4) and the logit
surfaces over the symmetry × onset grid (paper Sec. 3.3)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from facesym.io.records import Expressions, Surfaces, provenance_config, write_expressions, write_surfaces
from facesym.pipeline.loading import job_classifier, job_scene
from facesym.seeds import derive_seed

__all__ = ["EXPRESSIONS_SECTIONS", "SURFACES_SECTIONS", "synthesis_job"]

log = logging.getLogger(__name__)

EXPRESSIONS_SECTIONS = ("expressions", "render", "face_model", "identities")
"""Config sections an expressions record depends on (with the seed and the classifier's entry)."""

SURFACES_SECTIONS = ("grid", "render", "face_model", "identities")
"""Config sections a surfaces record depends on (with the seed and the classifier's entry)."""


def _expressions(classifier, scene, entry: Mapping[str, Any], config: Mapping[str, Any], identity: str) -> Expressions:
    from facesym.interventions.optimisation import optimise_expressions

    seed = derive_seed(config["seed"], "expressions", classifier.name, identity)
    result = optimise_expressions(classifier, scene, config["expressions"], seed)
    return Expressions(
        phi=result.phi, reached=result.reached, history=result.history, n_evaluations=result.n_evaluations,
        parameters=tuple(scene.model.expression_names), seed=seed,
        config=provenance_config(config, EXPRESSIONS_SECTIONS, entry), classifier=classifier.name, identity=identity,
    )  # fmt: skip


def _surfaces(classifier, scene, entry: Mapping[str, Any], config: Mapping[str, Any], phi: Expressions) -> Surfaces:
    from facesym.interventions.surfaces import grid, logit_surfaces

    s, t = grid(config["grid"]["symmetry_steps"], config["grid"]["time_steps"])
    asymmetric = logit_surfaces(classifier, scene, phi.phi, s, t)
    # at s = 1 the control is the intervention, vertex for vertex: its last level is copied, not rendered again
    sham = logit_surfaces(classifier, scene, phi.phi, s[:-1], t, intensity_matched=True)

    def with_symmetric(part: np.ndarray | None, full: np.ndarray | None) -> np.ndarray | None:
        return None if part is None or full is None else np.concatenate([part, full[:, -1:]], axis=1)

    return Surfaces(
        softmax=asymmetric.softmax, softmax_sham=with_symmetric(sham.softmax, asymmetric.softmax),
        logits=asymmetric.logits, logits_sham=with_symmetric(sham.logits, asymmetric.logits),
        target_class=np.asarray(classifier.emotion_indices), phi=phi.phi, s=s, t=t, classes=tuple(classifier.classes),
        parameters=phi.parameters, seed=phi.seed, config=provenance_config(config, SURFACES_SECTIONS, entry),
        classifier=classifier.name, identity=phi.identity,
    )  # fmt: skip


def synthesis_job(
    *,
    identity_file: str | Path,
    identity: str,
    classifier_entry: Mapping[str, Any],
    weights: str | Path | None,
    config: Mapping[str, Any],
    outputs: Mapping[str, str | Path],
) -> None:
    """One (classifier, identity) in one process: Eq. 4's φ^(e) of the six emotions, then the outputs over the
    S × T grid for each of them, asymmetric and intensity-matched.

    The classifier and the scene are built once for both (a job used to pay its imports, model build and
    renderer warm-up twice). Both records are written at the end, one after the other, so a job killed while it
    computes leaves neither file.

    Parameters
    ----------
    identity_file, identity
        The identity's JSON and its name (the ``{identity}`` wildcard, recorded as the files' slot).
    classifier_entry, weights
        The classifier's config entry and, for an embedded one, its trained weights.
    config
        ``seed``, ``device`` and the sections of :data:`EXPRESSIONS_SECTIONS` and :data:`SURFACES_SECTIONS`.
    outputs
        ``"expressions"``: φ^(e), reached probability, the optimiser's trace (:class:`~facesym.io.records.Expressions`);
        ``"surfaces"``: ``softmax`` (the paper's intervention) and ``softmax_sham`` (both halves at ``t·(1+s)/2``),
        ``logits`` / ``logits_sham`` when the model gives logits, axes emotion, s, t, class
        (:class:`~facesym.io.records.Surfaces`).
    """
    started = time.perf_counter()
    classifier = job_classifier(classifier_entry, weights, config)
    scene = job_scene(identity_file, config, classifier.device)
    loaded = time.perf_counter()
    expressions = _expressions(classifier, scene, classifier_entry, config, identity)
    optimised = time.perf_counter()
    surfaces = _surfaces(classifier, scene, classifier_entry, config, expressions)
    write_expressions(outputs["expressions"], expressions)
    write_surfaces(outputs["surfaces"], surfaces)
    log.info(
        "%s for %s: loaded in %.1f s, expressions in %.1f s (reached %s), surfaces in %.1f s",
        classifier.name,
        identity,
        loaded - started,
        optimised - loaded,
        np.round(expressions.reached, 3).tolist(),
        time.perf_counter() - optimised,
    )
