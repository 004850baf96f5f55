"""Statistics stage: per (classifier, identity) the impact scores and permutation tests (paper Eq. 6–7), then
Table 2, supplementary Table 1 and the score tables over all of them."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from facesym.io.records import (
    SURFACE_OUTPUTS,
    Permutations,
    Slot,
    provenance_config,
    read_expressions,
    read_permutations,
    read_surfaces,
    write_permutations,
)
from facesym.seeds import derive_seed
from facesym.stats.score import units

__all__ = ["PERMUTATIONS_SECTIONS", "aggregate_scores_job", "permutations_job"]

log = logging.getLogger(__name__)


PERMUTATIONS_SECTIONS = ("statistics", "grid")
"""Config sections a permutations record depends on (with the seed)."""


def permutations_job(
    *, surfaces_file: str | Path, expected: Slot | Mapping[str, Any], config: Mapping[str, Any], output: str | Path
) -> None:
    """Impact scores, their control and their permutation tests for one (classifier, identity).

    -> ``output``: per emotion the score of the intervention (``score``), of the
    intensity-matched control (``score_sham``) and their difference (``specific``, the symmetry-specific impact),
    each score with the p-values of both nulls (``pvalue_columns``, ``pvalue_joint``, ``…_sham``); ``pvalue`` is
    the one ``statistics.permutation_null`` names. ``expected`` is the slot the surfaces file must belong to
    (:class:`facesym.io.records.Slot`); the output belongs to the same (classifier, identity).
    """
    from facesym.stats import joint_permutation_test, permutation_test

    started = time.perf_counter()
    surfaces = read_surfaces(surfaces_file, expected)
    classifier, identity = surfaces.classifier, surfaces.identity
    stats = config["statistics"]
    names = SURFACE_OUTPUTS[stats["output"]]
    missing = [name for name in names if getattr(surfaces, name) is None]
    if missing:
        raise ValueError(
            f"config key 'statistics.output' is '{stats['output']}' but {surfaces_file} (classifier '{classifier}') "
            f"has no {', '.join(missing)}: the model returns probabilities, not logits; use output: probability"
        )
    seed = derive_seed(config["seed"], "permutations", classifier, identity)
    rng = np.random.default_rng(seed)
    options = {"spacing": stats["spacing"], "statistic": stats["statistic"], "pvalue": stats["pvalue"]}
    unit = f"{'probability' if stats['output'] == 'probability' else 'logit'} {units(stats['spacing'])}"
    values: dict[str, np.ndarray] = {}
    nulls: dict[str, np.ndarray] = {}
    for name, suffix in zip(names, ("", "_sham"), strict=True):
        target = surfaces.target(name)
        columns = permutation_test(target, stats["permutations"], rng, **options)
        joint = joint_permutation_test(target, stats["permutations"], rng, **options)
        chosen = columns if stats["permutation_null"] == "columns" else joint
        values |= {
            f"score{suffix}": columns.score,
            f"pvalue{suffix}": chosen.pvalue,
            f"pvalue_columns{suffix}": columns.pvalue,
            f"pvalue_joint{suffix}": joint.pvalue,
        }
        if not suffix:
            nulls = {"null": columns.null, "null_joint": joint.null}
    values["specific"] = values["score"] - values["score_sham"]
    write_permutations(
        output,
        Permutations(
            values=values, **nulls, unit=unit, statistic=stats["statistic"], seed=seed,
            config=provenance_config(config, PERMUTATIONS_SECTIONS), classifier=classifier, identity=identity,
        ),
    )  # fmt: skip
    log.info(
        "permutation tests of %s for %s (K = %d) done in %.2f s; p (columns) = %s, p (joint) = %s",
        classifier,
        identity,
        stats["permutations"],
        time.perf_counter() - started,
        np.round(values["pvalue_columns"], 4).tolist(),
        np.round(values["pvalue_joint"], 4).tolist(),
    )


def _read_all(reader, files: Sequence[str | Path], expected: Sequence[Slot | Mapping[str, Any]], kind: str) -> list:
    if len(files) != len(expected):
        raise ValueError(f"{len(files)} {kind} files but {len(expected)} expected slots")
    return [reader(path, slot) for path, slot in zip(files, expected, strict=True)]


def aggregate_scores_job(
    *,
    permutation_files: Sequence[str | Path],
    expression_files: Sequence[str | Path],
    surface_files: Sequence[str | Path],
    checks_file: str | Path,
    groups: Mapping[str, str],
    config: Mapping[str, Any],
    outputs: Mapping[str, str | Path],
    expected: Mapping[str, Sequence[Slot | Mapping[str, Any]]],
) -> None:
    """Table 2 (with each classifier's readability from ``checks_file``) and its symmetry-specific version,
    supplementary Table 1, the per-(classifier, emotion) summary and the long score table.

    ``expected`` maps ``"permutations"``, ``"expressions"`` and ``"surfaces"`` to the slot each of those files must
    belong to (:class:`facesym.io.records.Slot`, in the order of the files): a file copied over another's stops the
    job, naming it, before it can count one identity twice or drop a classifier.
    """
    import pandas as pd

    from facesym.io.atomic import write_text
    from facesym.tables import (
        collect_scores,
        summary_table,
        table2,
        table2_latex,
        table2_specific,
        table_s1,
        with_readability,
    )

    stats = config["statistics"]
    scores = collect_scores(
        _read_all(read_permutations, permutation_files, expected["permutations"], "permutations"),
        _read_all(read_expressions, expression_files, expected["expressions"], "expressions"),
        _read_all(read_surfaces, surface_files, expected["surfaces"], "surfaces"),
        groups,
        stats["min_reached_probability"],
    )
    rng = np.random.default_rng(derive_seed(config["seed"], "bootstrap"))
    summary, decided = summary_table(scores, stats, rng)
    unit = units(stats["spacing"])
    wide = table2(summary)
    shown = with_readability(wide, pd.read_csv(checks_file))
    write_text(outputs["table2"], shown.to_csv(index=False, float_format="%.6g"))
    write_text(outputs["table2_specific"], table2_specific(summary).to_csv(index=False, float_format="%.6g"))
    write_text(outputs["table_s1"], table_s1(summary).to_csv(index=False, float_format="%.4g"))
    write_text(outputs["summary"], summary.to_csv(index=False, float_format="%.6g"))
    write_text(outputs["scores"], decided.to_csv(index=False, float_format="%.6g"))
    output = "softmax output" if stats["output"] == "probability" else "logit"
    caption = (
        f"Mean facial-symmetry impact score ({stats['statistic']} statistic, change of the {output} {unit}) "
        f"over the identities per classifier and emotion (identities whose optimised expression reached a target "
        f"probability below {stats['min_reached_probability']:g} left out: {int(summary['n_flagged'].sum())} "
        f"cells). $^{{*}}$: the mean differs from zero across identities (sign-flip test, Holm across the "
        f"emotions of a classifier at {stats['population_alpha']:g})."
    )
    write_text(outputs["table2_tex"], table2_latex(wide, caption))
    log.info("aggregated %d scores of %d classifiers", len(scores), scores["classifier"].nunique())
