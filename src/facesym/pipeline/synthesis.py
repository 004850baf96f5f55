"""Synthesis stage: per (classifier, identity) the optimised expressions φ^(e) (paper Eq. 4) and the logit
surfaces over the symmetry × onset grid (paper Sec. 3.3)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from facesym.io.records import (
    Expressions,
    Slot,
    Surfaces,
    provenance_config,
    read_expressions,
    write_expressions,
    write_surfaces,
)
from facesym.pipeline.loading import job_classifier, job_scene
from facesym.seeds import derive_seed

__all__ = ["EXPRESSIONS_SECTIONS", "SURFACES_SECTIONS", "optimise_expressions_job", "surfaces_job"]

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


def optimise_expressions_job(
    *,
    identity_file: str | Path,
    identity: str,
    classifier_entry: Mapping[str, Any],
    weights: str | Path | None,
    config: Mapping[str, Any],
    output: str | Path,
) -> None:
    """Eq. 4 for one (classifier, identity): φ^(e) of the six emotions -> ``output``.

    Parameters
    ----------
    identity_file, identity
        The identity's JSON and its name (the ``{identity}`` wildcard, recorded as the file's slot).
    classifier_entry, weights
        The classifier's config entry and, for an embedded one, its trained weights.
    config
        ``seed``, ``device`` and the sections of :data:`EXPRESSIONS_SECTIONS`.
    """
    started = time.perf_counter()
    classifier = job_classifier(classifier_entry, weights, config)
    scene = job_scene(identity_file, config, classifier.device)
    record = _expressions(classifier, scene, classifier_entry, config, identity)
    write_expressions(output, record)
    log.info(
        "expressions of %s for %s done in %.1f s; reached %s",
        classifier.name,
        identity,
        time.perf_counter() - started,
        np.round(record.reached, 3).tolist(),
    )


def surfaces_job(
    *,
    identity_file: str | Path,
    expressions_file: str | Path,
    expected: Slot | Mapping[str, Any],
    classifier_entry: Mapping[str, Any],
    weights: str | Path | None,
    config: Mapping[str, Any],
    output: str | Path,
) -> None:
    """The outputs over the S × T grid for each φ^(e), asymmetric and intensity-matched -> ``output``.

    Datasets (axes emotion, s, t, class): ``softmax`` (the paper's intervention), ``softmax_sham`` (both halves at
    ``t·(1+s)/2``), and ``logits`` / ``logits_sham`` when the model gives logits. ``expected`` is the slot the
    expressions file must belong to (:class:`facesym.io.records.Slot`).
    """
    started = time.perf_counter()
    classifier = job_classifier(classifier_entry, weights, config)
    scene = job_scene(identity_file, config, classifier.device)
    expressions = read_expressions(expressions_file, expected)
    write_surfaces(output, _surfaces(classifier, scene, classifier_entry, config, expressions))
    log.info(
        "surfaces of %s for %s done in %.1f s", classifier.name, expressions.identity, time.perf_counter() - started
    )
