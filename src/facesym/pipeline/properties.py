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

from facesym.emotions import EMOTIONS
from facesym.interventions.properties import ADJUSTED_AXES, PAPER_AXES, properties_table, property_scores
from facesym.io.atomic import write_text
from facesym.io.hdf5 import read_h5, write_h5
from facesym.pipeline.loading import job_classifier, job_scene, provenance
from facesym.seeds import derive_seed

__all__ = ["properties_figure_job", "properties_table_job", "property_surfaces_job"]

log = logging.getLogger(__name__)


def property_surfaces_job(
    *,
    axes: Mapping[str, Mapping[str, float]],
    identity_file: str | Path,
    expressions_file: str | Path,
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
    outputs
        Axis name -> output file.
    """
    from facesym.interventions.axes import AxisScene
    from facesym.interventions.surfaces import grid, logit_surfaces

    classifier = job_classifier(classifier_entry, weights, config)
    scene = job_scene(identity_file, config, classifier.device)
    expressions = read_h5(expressions_file, kind="expressions")
    a, t = grid(config["grid"]["symmetry_steps"], config["grid"]["time_steps"])
    phi = expressions.data["phi"]
    identity = Path(identity_file).stem
    for axis, settings in axes.items():
        if axis in PAPER_AXES:
            raise ValueError(f"axis {axis!r} is read from the paper's surfaces files, not rendered again")
        started = time.perf_counter()
        surfaces = logit_surfaces(classifier, AxisScene.of(scene, axis, settings), phi, a, t)
        write_h5(
            outputs[axis],
            "property_surfaces",
            {
                "softmax": (surfaces.softmax, ("emotion", "a", "t", "class"), "probability"),
                "target_class": (np.asarray(classifier.emotion_indices), ("emotion",), "index into class"),
            },
            seed=int(expressions.attrs["seed"]),
            config={
                **provenance(config, "grid", "render", "face_model", "identities"),
                "classifier": dict(classifier_entry),
                "axis": {"name": axis, **settings},
            },
            coords={"emotion": list(EMOTIONS), "a": a, "t": t, "class": list(classifier.classes)},
            attrs={"classifier": classifier.name, "identity": identity, "property": axis},
        )
        log.info("%s surfaces of %s for %s done in %.1f s", axis, classifier.name, identity,
                 time.perf_counter() - started)


def properties_table_job(
    *,
    paper_files: Sequence[str | Path],
    property_files: Sequence[str | Path],
    properties: Sequence[str],
    config: Mapping[str, Any],
    outputs: Mapping[str, str | Path],
) -> pd.DataFrame:
    """Scores of every property -> ``outputs["scores"]`` (per identity) and ``outputs["table"]`` (population).

    ``properties`` are the config's axes; ``symmetry_left`` and ``intensity`` are read from the paper's files
    only when listed (``intensity`` also when an adjusted score needs it, then it appears as its own rows).
    The sign flips draw from ``derive_seed(seed, "properties")``.
    """
    stats = config["statistics"]
    scores = property_scores(paper_files, property_files, spacing=stats["spacing"], statistic=stats["statistic"])
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
