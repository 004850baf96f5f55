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
    from facesym.interventions.expressions import optimise_expressions

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
    """The softmax over the S × T grid for each φ^(e) -> ``results/surfaces/…h5`` with axes (emotion, s, t, class)."""
    from facesym.interventions.surfaces import grid, logit_surfaces

    started = time.perf_counter()
    classifier = _classifier(classifier_entry, weights, config)
    scene = _scene(identity_file, config, classifier.device)
    expressions = read_h5(expressions_file, kind="expressions")
    s, t = grid(config["grid"]["symmetry_steps"], config["grid"]["time_steps"])
    softmax = logit_surfaces(classifier, scene, expressions.data["phi"], s, t)
    identity = Path(identity_file).stem
    write_h5(
        output,
        "surfaces",
        {
            "softmax": (softmax, ("emotion", "s", "t", "class"), "probability"),
            "target_class": (np.asarray(classifier.emotion_indices), ("emotion",), "index into class"),
            "phi": (expressions.data["phi"], ("emotion", "parameter"), "expression coefficient"),
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


def permutations_job(*, surfaces_file: str | Path, config: Mapping[str, Any], output: str | Path) -> None:
    """Impact scores and their permutation tests for one (classifier, identity) -> ``results/permutations/…h5``."""
    from facesym.stats import permutation_test

    started = time.perf_counter()
    surfaces = read_h5(surfaces_file, kind="surfaces")
    classifier, identity = surfaces.attrs["classifier"], surfaces.attrs["identity"]
    stats = config["statistics"]
    seed = derive_seed(config["seed"], "permutations", classifier, identity)
    result = permutation_test(
        target_surfaces(surfaces.data["softmax"], surfaces.data["target_class"]),
        stats["permutations"],
        np.random.default_rng(seed),
        spacing=stats["spacing"],
        statistic=stats["statistic"],
        pvalue=stats["pvalue"],
    )
    write_h5(
        output,
        "permutations",
        {
            "score": (result.score, ("emotion",), f"probability {result.spacing}"),
            "null": (result.null, ("emotion", "permutation"), f"probability {result.spacing}"),
            "pvalue": (result.pvalue, ("emotion",), ""),
        },
        seed=seed,
        config=_provenance(config, "statistics", "grid"),
        coords={"emotion": list(EMOTIONS)},
        attrs={"classifier": classifier, "identity": identity, "statistic": result.statistic},
    )
    log.info(
        "permutation test of %s for %s (K = %d) done in %.2f s; p = %s",
        classifier,
        identity,
        stats["permutations"],
        time.perf_counter() - started,
        np.round(result.pvalue, 4).tolist(),
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
    """Table 2 (with each classifier's readability from ``checks_file``), supplementary Table 1, the
    per-(classifier, emotion) summary and the long score table."""
    import pandas as pd

    from facesym.io.atomic import write_text
    from facesym.tables import collect_scores, summary_table, table2, table2_latex, table_s1, with_readability

    stats = config["statistics"]
    scores = collect_scores(permutation_files, expression_files, surface_files, groups)
    rng = np.random.default_rng(derive_seed(config["seed"], "bootstrap"))
    summary, decided = summary_table(scores, stats, rng)
    unit = "per symmetry step" if stats["spacing"] == "step" else "per unit of s"
    wide = table2(summary)
    shown = with_readability(wide, pd.read_csv(checks_file))
    write_text(outputs["table2"], shown.to_csv(index=False, float_format="%.6g"))
    write_text(outputs["table_s1"], table_s1(summary).to_csv(index=False, float_format="%.4g"))
    write_text(outputs["summary"], summary.to_csv(index=False, float_format="%.6g"))
    write_text(outputs["scores"], decided.to_csv(index=False, float_format="%.6g"))
    caption = (
        f"Mean facial-symmetry impact score ({stats['statistic']} statistic, change of the softmax output {unit}) "
        f"over {summary['n_identities'].iloc[0]} identities per classifier and emotion."
    )
    write_text(outputs["table2_tex"], table2_latex(wide, caption))
    log.info("aggregated %d scores of %d classifiers", len(scores), scores["classifier"].nunique())
