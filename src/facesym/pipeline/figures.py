"""One function per figure job: read the pipeline's files, draw, write PDF, PNG and the plotted values as CSV.

``outputs`` maps ``"pdf"``, ``"png"`` and ``"csv"`` (and ``"html"`` for Table 2) to paths; the Snakemake scripts
pass ``snakemake.output`` through unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from facesym.figures.expression_panels import expression_panels, expressions_figure, render_panels
from facesym.figures.surface import derivative_along_s, surface_figure, surface_values
from facesym.figures.symmetry import symmetry_curves, symmetry_figure
from facesym.figures.table2 import table2_figure, table2_html, table2_values
from facesym.figures.writer import write_figure
from facesym.io.atomic import write_text
from facesym.io.records import Slot, read_expressions, read_permutations, read_surfaces
from facesym.stats import units

__all__ = ["expressions_figure_job", "surface_figure_job", "symmetry_figure_job", "table2_figure_job"]

log = logging.getLogger(__name__)


def _write(figure, outputs: Mapping[str, str | Path], values: pd.DataFrame) -> None:
    write_figure(figure, pdf=outputs["pdf"], png=outputs["png"], values=values, csv=outputs["csv"])


def expressions_figure_job(
    *,
    identity_file: str | Path,
    expressions_file: str | Path,
    surfaces_file: str | Path,
    config: Mapping[str, Any],
    onset_emotion: str,
    n_onset: int,
    render_size: int | None,
    outputs: Mapping[str, str | Path],
    expected: Mapping[str, Slot | Mapping[str, Any]],
) -> None:
    """Fig. 2 analogue for one (classifier, identity).

    Parameters
    ----------
    identity_file, expressions_file, surfaces_file
        The identity JSON and its expressions and surfaces files.
    expected
        ``"expressions"`` and ``"surfaces"``: the slot each file must belong to (:class:`facesym.io.records.Slot`).
    config
        ``face_model``, ``identities`` and ``render`` sections, to rebuild the scene the classifier saw.
    onset_emotion, n_onset
        The emotion and number of faces of the onset strip.
    render_size
        Side of the rendered faces in pixels; ``None`` uses the config's render size (what the classifier saw).
    outputs
        ``pdf``, ``png``, ``csv``.
    """
    import torch

    from facesym.face.configured import face_model_from_config
    from facesym.identities import load_identity
    from facesym.interventions.scene import build_scene

    expressions = read_expressions(expressions_file, expected["expressions"])
    surfaces = read_surfaces(surfaces_file, expected["surfaces"])
    classifier, identity = surfaces.classifier, surfaces.identity
    panels = expression_panels(
        phi=expressions.phi,
        emotions=np.asarray(expressions.emotions),
        parameters=np.asarray(expressions.parameters),
        softmax=surfaces.softmax,
        target_class=surfaces.target_class,
        classes=np.asarray(surfaces.classes),
        s=surfaces.s,
        t=surfaces.t,
        onset_emotion=onset_emotion,
        n_onset=n_onset,
    )
    render = {**config["render"], "size": int(render_size or config["render"]["size"])}
    scene = build_scene(face_model_from_config(config), load_identity(identity_file), render, torch.device("cpu"))
    images = render_panels(scene, panels)
    figure = expressions_figure(images, panels, classifier=classifier, identity=identity)
    _write(figure, outputs, panels.assign(classifier=classifier, identity=identity))
    log.info("Fig. 2 of %s, %s: %d faces at %d px", classifier, identity, len(panels), render["size"])


def surface_figure_job(
    *,
    surfaces_file: str | Path,
    permutations_file: str | Path,
    emotion: str,
    spacing: str,
    outputs: Mapping[str, str | Path],
    expected: Mapping[str, Slot | Mapping[str, Any]],
) -> None:
    """Fig. 3 analogue: the surface of one (classifier, identity, emotion) and its ∂F/∂s map.

    Parameters
    ----------
    surfaces_file, permutations_file
        The case's surfaces and permutation-test files.
    expected
        ``"surfaces"`` and ``"permutations"``: the slot each file must belong to.
    emotion
        Which emotion's surface.
    spacing
        ``"step"`` or ``"unit"`` (the config's ``statistics.spacing``): the unit of ∂F/∂s.
    outputs
        ``pdf``, ``png``, ``csv``.
    """
    surfaces = read_surfaces(surfaces_file, expected["surfaces"])
    permutations = read_permutations(permutations_file, expected["permutations"])
    classifier, identity = surfaces.classifier, surfaces.identity
    emotions = list(surfaces.emotions)
    if emotion not in emotions:
        raise ValueError(f"{surfaces_file}: no emotion {emotion!r}; it holds {emotions}")
    e = emotions.index(emotion)
    s, t = surfaces.s, surfaces.t
    surface = surfaces.target()[e]
    derivative = derivative_along_s(surface, s, spacing)
    p = list(permutations.emotions).index(emotion)
    figure = surface_figure(
        s,
        t,
        surface,
        derivative,
        emotion=emotion,
        classifier=classifier,
        identity=identity,
        spacing=spacing,
        score=float(permutations.values["score"][p]),
        pvalue=float(permutations.values["pvalue"][p]),
        statistic=permutations.statistic,
    )
    values = surface_values(s, t, surface, derivative).assign(classifier=classifier, identity=identity, emotion=emotion)
    _write(figure, outputs, values)
    log.info("Fig. 3 of %s, %s, %s: mean dF/ds = %.5f", classifier, identity, emotion, derivative.mean())


def symmetry_figure_job(
    *,
    surfaces_files: Sequence[str | Path],
    outputs: Mapping[str, str | Path],
    expected: Sequence[Slot | Mapping[str, Any]],
) -> None:
    """Fig. 5 analogue for one classifier from the surfaces of all its identities.

    Parameters
    ----------
    surfaces_files
        The surfaces files of every identity of one classifier; all on the same grid.
    expected
        The slot each file must belong to, in the order of ``surfaces_files``.
    outputs
        ``pdf``, ``png``, ``csv``.
    """
    if not surfaces_files:
        raise ValueError("Fig. 5 needs at least one surfaces file")
    files = [read_surfaces(path, slot) for path, slot in zip(surfaces_files, expected, strict=True)]
    first = files[0]
    classifier = first.classifier
    for path, contents in zip(surfaces_files, files, strict=True):
        if contents.classifier != classifier:
            raise ValueError(f"{path}: classifier '{contents.classifier}', expected '{classifier}'")
        for axis in ("s", "t", "classes", "emotions"):
            if not np.array_equal(getattr(contents, axis), getattr(first, axis)):
                raise ValueError(f"{path}: its '{axis}' axis differs from {surfaces_files[0]}'s")
    t = first.t
    # The curves are the paper's t = 1.0 slice: the last onset step of the grid.
    if not np.isclose(t[-1], 1.0):
        raise ValueError(f"{surfaces_files[0]}: the onset grid ends at t = {t[-1]}, not 1")
    softmax = np.stack([contents.softmax[:, :, -1, :] for contents in files])
    sham = np.stack([contents.softmax_sham[:, :, -1, :] for contents in files])
    curves = symmetry_curves(
        softmax, first.target_class, first.s, np.asarray(first.emotions), np.asarray(first.classes), classifier,
        softmax_sham=sham,
    )  # fmt: skip
    figure = symmetry_figure(curves, classifier=classifier, onset=float(t[-1]))
    _write(figure, outputs, curves.assign(t=float(t[-1])))
    log.info("Fig. 5 of %s over %d identities", classifier, len(files))


def table2_figure_job(
    *, summary_file: str | Path, statistics: Mapping[str, Any], outputs: Mapping[str, str | Path]
) -> None:
    """Table 2 heat map and its HTML table from the summary table of :func:`aggregate_scores_job`.

    Parameters
    ----------
    summary_file
        The per-(classifier, emotion) summary written by the aggregation job.
    statistics
        The config's ``statistics`` section (``spacing``, ``statistic``, ``delta``), for the labels.
    outputs
        ``pdf``, ``png``, ``csv``, ``html``.
    """
    # Names are text even when they look like numbers or "NA"; an empty group stays "".
    summary = pd.read_csv(summary_file, dtype={"classifier": str, "group": str}, keep_default_na=False)
    cells = table2_values(summary)
    labels = {"unit": units(statistics["spacing"]), "delta": statistics["delta"], "statistic": statistics["statistic"]}
    _write(table2_figure(cells, **labels), outputs, cells)
    write_text(outputs["html"], table2_html(cells, **labels))
    log.info("Table 2 heat map of %d classifiers", cells["classifier"].nunique())
