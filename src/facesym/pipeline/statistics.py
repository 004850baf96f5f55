"""Statistics stage: per (classifier, identity) the impact scores and permutation tests (paper Eq. 6–7), then
Table 2, supplementary Table 1 and the score tables over all of them."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from facesym.emotions import EMOTIONS
from facesym.io import read_h5, write_h5
from facesym.io.records import target_surfaces
from facesym.pipeline.loading import provenance
from facesym.seeds import derive_seed
from facesym.stats.score import units

__all__ = ["OUTPUT_DATASETS", "permutations_job", "aggregate_scores_job"]

log = logging.getLogger(__name__)


OUTPUT_DATASETS = {"probability": ("softmax", "softmax_sham"), "logit": ("logits", "logits_sham")}
"""``statistics.output`` -> the surfaces' datasets the scores use (intervention, intensity-matched control)."""


def permutations_job(*, surfaces_file: str | Path, config: Mapping[str, Any], output: str | Path) -> None:
    """Impact scores, their control and their permutation tests for one (classifier, identity).

    -> ``output``: per emotion the score of the intervention (``score``), of the
    intensity-matched control (``score_sham``) and their difference (``specific``, the symmetry-specific impact),
    each score with the p-values of both nulls (``pvalue_columns``, ``pvalue_joint``, ``…_sham``); ``pvalue`` is
    the one ``statistics.permutation_null`` names.
    """
    from facesym.stats import joint_permutation_test, permutation_test

    started = time.perf_counter()
    surfaces = read_h5(surfaces_file, kind="surfaces")
    classifier, identity = surfaces.attrs["classifier"], surfaces.attrs["identity"]
    stats = config["statistics"]
    names = OUTPUT_DATASETS[stats["output"]]
    missing = [name for name in names if name not in surfaces.data]
    if missing:
        raise ValueError(
            f"config key 'statistics.output' is '{stats['output']}' but {surfaces_file} (classifier '{classifier}') "
            f"has no {', '.join(missing)}: the model returns probabilities, not logits; use output: probability"
        )
    seed = derive_seed(config["seed"], "permutations", classifier, identity)
    rng = np.random.default_rng(seed)
    options = {"spacing": stats["spacing"], "statistic": stats["statistic"], "pvalue": stats["pvalue"]}
    target = surfaces.data["target_class"]
    unit = f"{'probability' if stats['output'] == 'probability' else 'logit'} {units(stats['spacing'])}"
    datasets: dict[str, tuple[Any, tuple[str, ...], str]] = {}
    for name, suffix in zip(names, ("", "_sham"), strict=True):
        values = target_surfaces(surfaces.data[name], target)
        columns = permutation_test(values, stats["permutations"], rng, **options)
        joint = joint_permutation_test(values, stats["permutations"], rng, **options)
        chosen = columns if stats["permutation_null"] == "columns" else joint
        datasets |= {
            f"score{suffix}": (columns.score, ("emotion",), unit),
            f"pvalue{suffix}": (chosen.pvalue, ("emotion",), ""),
            f"pvalue_columns{suffix}": (columns.pvalue, ("emotion",), ""),
            f"pvalue_joint{suffix}": (joint.pvalue, ("emotion",), ""),
        }
        if not suffix:
            datasets["null"] = (columns.null, ("emotion", "permutation"), unit)
            datasets["null_joint"] = (joint.null, ("emotion", "relabelling"), unit)
    datasets["specific"] = (datasets["score"][0] - datasets["score_sham"][0], ("emotion",), unit)
    write_h5(
        output,
        "permutations",
        datasets,
        seed=seed,
        config=provenance(config, "statistics", "grid"),
        coords={"emotion": list(EMOTIONS)},
        attrs={"classifier": classifier, "identity": identity, "statistic": stats["statistic"]},
    )
    log.info(
        "permutation tests of %s for %s (K = %d) done in %.2f s; p (columns) = %s, p (joint) = %s",
        classifier,
        identity,
        stats["permutations"],
        time.perf_counter() - started,
        np.round(datasets["pvalue_columns"][0], 4).tolist(),
        np.round(datasets["pvalue_joint"][0], 4).tolist(),
    )


def aggregate_scores_job(
    *,
    permutation_files: Sequence[str | Path],
    expression_files: Sequence[str | Path],
    surface_files: Sequence[str | Path],
    checks_file: str | Path,
    groups: Mapping[str, str],
    config: Mapping[str, Any],
    outputs: Mapping[str, str | Path],
) -> None:
    """Table 2 (with each classifier's readability from ``checks_file``) and its symmetry-specific version,
    supplementary Table 1, the per-(classifier, emotion) summary and the long score table."""
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
        permutation_files, expression_files, surface_files, groups, stats["min_reached_probability"]
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
