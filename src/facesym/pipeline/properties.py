"""Interventions beyond symmetry (:mod:`facesym.interventions.properties`): each axis's surfaces per
(classifier, identity), and the table of their scores over all of them."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from facesym.interventions.properties import (
    ADJUSTED_AXES,
    PAPER_AXES,
    flag_scores,
    properties_table,
    property_scores,
)
from facesym.io.atomic import write_text
from facesym.io.records import (
    PropertySurfaces,
    Slot,
    provenance_config,
    read_expressions,
    read_property_surfaces,
    read_surfaces,
    write_property_surfaces,
)
from facesym.pipeline.loading import job_classifier, job_scene
from facesym.pipeline.synthesis import SURFACES_SECTIONS
from facesym.seeds import derive_seed

__all__ = ["properties_figure_job", "properties_table_job", "property_surfaces_job"]

log = logging.getLogger(__name__)


def property_surfaces_job(
    *,
    axes: Mapping[str, Mapping[str, float]],
    identity_file: str | Path,
    expressions_file: str | Path,
    expected: Slot | Mapping[str, Any],
    classifier_entry: Mapping[str, Any],
    weights: str | Path | None,
    config: Mapping[str, Any],
    outputs: Mapping[str, str | Path],
) -> None:
    """The classifier's softmax over the (a, t) grid of each axis -> ``outputs[axis]``.

    One job per (classifier, identity), like the paper's surfaces: the classifier and the scene are loaded once for
    every axis. The grid is the paper's: ``a = linspace(0, 1, grid.symmetry_steps)``,
    ``t = linspace(0, 1, grid.time_steps)``, with the φ^(e) optimised for the paper's intervention. Dataset
    ``softmax``, axes (emotion, a, t, class).

    Parameters
    ----------
    axes
        Axis name -> its settings (:func:`facesym.interventions.axes.axis_settings`).
    expected
        The slot the expressions file must belong to (:class:`facesym.io.records.Slot`).
    outputs
        Axis name -> output file.
    """
    from facesym.interventions.axes import AxisScene
    from facesym.interventions.surfaces import grid, logit_surfaces

    classifier = job_classifier(classifier_entry, weights, config)
    scene = job_scene(identity_file, config, classifier.device)
    expressions = read_expressions(expressions_file, expected)
    a, t = grid(config["grid"]["symmetry_steps"], config["grid"]["time_steps"])
    for axis, settings in axes.items():
        if axis in PAPER_AXES:
            raise ValueError(f"axis {axis!r} is read from the paper's surfaces files, not rendered again")
        started = time.perf_counter()
        surfaces = logit_surfaces(classifier, AxisScene.of(scene, axis, settings), expressions.phi, a, t)
        record = PropertySurfaces(
            softmax=surfaces.softmax, target_class=np.asarray(classifier.emotion_indices), a=a, t=t,
            classes=tuple(classifier.classes), property=axis, seed=expressions.seed,
            config=provenance_config(config, SURFACES_SECTIONS, classifier_entry, axis={"name": axis, **settings}),
            classifier=classifier.name, identity=expressions.identity,
        )  # fmt: skip
        write_property_surfaces(outputs[axis], record)
        log.info("%s surfaces of %s for %s done in %.1f s", axis, classifier.name, expressions.identity,
                 time.perf_counter() - started)


def properties_table_job(
    *,
    paper_files: Sequence[str | Path],
    property_files: Sequence[str | Path],
    expression_files: Sequence[str | Path],
    properties: Sequence[str],
    config: Mapping[str, Any],
    outputs: Mapping[str, str | Path],
    expected: Mapping[str, Sequence[Slot | Mapping[str, Any]]],
) -> pd.DataFrame:
    """Scores of every property -> ``outputs["scores"]`` (per identity) and ``outputs["table"]`` (population).

    ``properties`` are the config's axes; ``symmetry_left`` and ``intensity`` are read from the paper's files
    only when listed (``intensity`` also when an adjusted score needs it, then it appears as its own rows).
    The sign flips draw from ``derive_seed(seed, "properties")``. ``expected`` maps ``"paper"``, ``"properties"``
    and ``"expressions"`` to the slot of each file, in their order. The expressions files give each identity's
    reached probability: below ``statistics.min_reached_probability`` it is flagged, left out of the table and
    counted, as in Table 2.
    """
    stats = config["statistics"]
    paper = [read_surfaces(path, slot) for path, slot in zip(paper_files, expected["paper"], strict=True)]
    rendered = [
        read_property_surfaces(path, slot) for path, slot in zip(property_files, expected["properties"], strict=True)
    ]
    if len(expression_files) != len(expected["expressions"]):
        raise ValueError(f"{len(expression_files)} expressions files but {len(expected['expressions'])} expected slots")
    reached = pd.DataFrame(
        {"classifier": record.classifier, "identity": record.identity, "emotion": emotion,
         "reached_probability": float(probability)}
        for record in (read_expressions(path, slot) for path, slot in zip(expression_files, expected["expressions"],
                                                                           strict=True))
        for emotion, probability in zip(record.emotions, record.reached, strict=True)
    )  # fmt: skip
    scores = property_scores(paper, rendered, spacing=stats["spacing"], statistic=stats["statistic"])
    scores = flag_scores(scores, reached, stats["min_reached_probability"])
    needed = set(properties) | ({"intensity"} if set(properties) & set(ADJUSTED_AXES) else set())
    scores = scores[scores["property"].isin(needed)]
    order = {name: i for i, name in enumerate([*properties, "intensity"])}
    scores = scores.sort_values(["classifier", "property", "identity"], key=lambda c: c.map(order) if
                                c.name == "property" else c, kind="stable")
    rng = np.random.default_rng(derive_seed(config["seed"], "properties"))
    table = properties_table(scores, stats["population_resamples"], rng)
    table.insert(3, "units", f"output per {'symmetry step' if stats['spacing'] == 'step' else 'unit'} of a")
    write_text(outputs["scores"], scores.to_csv(index=False, float_format="%.6g"))
    write_text(outputs["table"], table.to_csv(index=False, float_format="%.6g"))
    return table


def properties_figure_job(*, table: str | Path, outputs: Mapping[str, str | Path]) -> None:
    """The figure of the properties table (:func:`facesym.figures.properties.plot_properties`): ``pdf``, ``png``,
    ``csv``."""
    from facesym.figures.properties import plot_properties

    plot_properties(pd.read_csv(table), **outputs)
