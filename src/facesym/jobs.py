"""One function per pipeline job: read its inputs, run the science, write its outputs.

The Snakemake scripts only unpack ``snakemake.input/params/output`` and call these, so every job can be run and
tested without Snakemake. Seeds are derived here from the global seed and the job's wildcards.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from facesym.emotions import EMOTIONS
from facesym.io import read_h5, write_h5
from facesym.seeds import derive_seed
from facesym.stats.score import units

__all__ = [
    "face_model_from_config",
    "optimise_expressions_job",
    "surfaces_job",
    "permutations_job",
    "aggregate_scores_job",
]

log = logging.getLogger(__name__)


def face_model_from_config(config: Mapping[str, Any], base_dir: str | Path = "."):
    """The morphable model the config's ``face_model`` section names, sized by its ``identities`` section."""
    from facesym.face import build_procedural_model, load_flame
    from facesym.face.model import MIDLINE_BAND_MM

    face, dims = config["face_model"], config["identities"]
    sizes = {"n_shape": dims["shape_dim"], "n_appearance": dims["appearance_dim"], "left_side": face["left_side"],
             "midline_band": face.get("midline_band", MIDLINE_BAND_MM)}
    if face["kind"] == "flame":
        return load_flame(Path(base_dir) / face["path"], **sizes)
    return build_procedural_model(**sizes)


def _scene(identity_file: str | Path, config: Mapping[str, Any], device):
    from facesym.identities import load_identity
    from facesym.interventions.scene import build_scene

    model = face_model_from_config(config)
    return build_scene(model, load_identity(identity_file), config["render"], device)


def _classifier(entry: Mapping[str, Any], weights: str | Path | None, config: Mapping[str, Any]):
    from facesym.classifiers.registry import load_classifier

    return load_classifier(entry, weights=weights, device=config["device"], face_model=face_model_from_config(config))


def _provenance(config: Mapping[str, Any], *sections: str) -> dict[str, Any]:
    return {"seed": config["seed"], **{section: config[section] for section in sections}}


def optimise_expressions_job(
    *,
    identity_file: str | Path,
    classifier_entry: Mapping[str, Any],
    weights: str | Path | None,
    config: Mapping[str, Any],
    output: str | Path,
) -> None:
    """Eq. 4 for one (classifier, identity): φ^(e) of the six emotions -> ``results/expressions/…h5``."""
    from facesym.interventions.optimisation import optimise_expressions

    started = time.perf_counter()
    classifier = _classifier(classifier_entry, weights, config)
    scene = _scene(identity_file, config, classifier.device)
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
            **_provenance(config, "expressions", "render", "face_model", "identities"),
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
    """The outputs over the S × T grid for each φ^(e), asymmetric and intensity-matched -> ``results/surfaces/…h5``.

    Datasets (axes emotion, s, t, class): ``softmax`` (the paper's intervention), ``softmax_sham`` (both halves at
    ``t·(1+s)/2``), and ``logits`` / ``logits_sham`` when the model gives logits.
    """
    from facesym.interventions.surfaces import grid, logit_surfaces

    started = time.perf_counter()
    classifier = _classifier(classifier_entry, weights, config)
    scene = _scene(identity_file, config, classifier.device)
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
            **_provenance(config, "grid", "render", "face_model", "identities"),
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


def target_surfaces(softmax: np.ndarray, target_class: Sequence[int]) -> np.ndarray:
    """F^(e) over the grid: each emotion's own class, ``(E, S, T, K)`` -> ``(E, S, T)``."""
    index = np.asarray(target_class)[:, None, None, None]
    return np.take_along_axis(softmax, np.broadcast_to(index, (*softmax.shape[:3], 1)), axis=-1)[..., 0]


OUTPUT_DATASETS = {"probability": ("softmax", "softmax_sham"), "logit": ("logits", "logits_sham")}
"""``statistics.output`` -> the surfaces' datasets the scores use (intervention, intensity-matched control)."""


def permutations_job(*, surfaces_file: str | Path, config: Mapping[str, Any], output: str | Path) -> None:
    """Impact scores, their control and their permutation tests for one (classifier, identity).

    -> ``results/permutations/…h5``: per emotion the score of the intervention (``score``), of the
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
        config=_provenance(config, "statistics", "grid"),
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
