"""Tables of the synthetic-intervention experiment: Table 2, supplementary Table 1 and the long score table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from facesym.emotions import EMOTIONS
from facesym.io import read_h5
from facesym.stats import summarise

__all__ = ["collect_scores", "summary_table", "table2", "with_readability", "table_s1", "table2_latex"]


def _by_job(paths: Sequence[str | Path], kind: str) -> dict[tuple[str, str], Any]:
    contents = {}
    for path in paths:
        data = read_h5(path, kind=kind)
        contents[(data.attrs["classifier"], data.attrs["identity"])] = data
    return contents


def collect_scores(
    permutation_files: Sequence[str | Path],
    expression_files: Sequence[str | Path],
    surface_files: Sequence[str | Path],
    groups: Mapping[str, str],
) -> pd.DataFrame:
    """One row per (classifier, identity, emotion) from the per-job files.

    Returns
    -------
    pandas.DataFrame
        Columns ``classifier, group, identity, emotion, reached_probability`` (target probability of φ^(e) at
        s = 1, t = 1 found by the optimiser), ``p_symmetric, p_frozen_half`` (target probability on the grid at
        t = 1 with s = 1 and s = 0: how much the output drops when one half does not move), ``score, pvalue``.
    """
    expressions = _by_job(expression_files, "expressions")
    surfaces = _by_job(surface_files, "surfaces")
    rows = []
    for key, permutations in _by_job(permutation_files, "permutations").items():
        for other, name in ((expressions, "expressions"), (surfaces, "surfaces")):
            if key not in other:
                raise ValueError(f"no {name} file for classifier '{key[0]}', identity '{key[1]}'")
        softmax, target = surfaces[key].data["softmax"], surfaces[key].data["target_class"]
        for index, emotion in enumerate(permutations.coords["emotion"]):
            rows.append(
                {
                    "classifier": key[0],
                    "group": groups.get(key[0], ""),
                    "identity": key[1],
                    "emotion": str(emotion),
                    "reached_probability": float(expressions[key].data["reached"][index]),
                    "p_symmetric": float(softmax[index, -1, -1, target[index]]),
                    "p_frozen_half": float(softmax[index, 0, -1, target[index]]),
                    "score": float(permutations.data["score"][index]),
                    "pvalue": float(permutations.data["pvalue"][index]),
                }
            )
    return pd.DataFrame(rows)


def summary_table(
    scores: pd.DataFrame, statistics: Mapping[str, Any], rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (classifier, emotion) summary over identities, and the scores with their Holm decisions.

    Returns
    -------
    summary
        Columns ``classifier, group, emotion, n_identities, mean_score, ci_low, ci_high, n_significant,
        ratio_significant``, in config order of classifiers and EMOTIONS order.
    scores
        The input with ``pvalue_holm`` and ``significant`` added.
    """
    classifiers = list(dict.fromkeys(scores["classifier"]))
    identities = sorted(set(scores["identity"]))
    wide_score = np.full((len(classifiers), len(EMOTIONS), len(identities)), np.nan)
    wide_p = np.full_like(wide_score, np.nan)
    c_index = {c: i for i, c in enumerate(classifiers)}
    e_index = {e: i for i, e in enumerate(EMOTIONS)}
    i_index = {n: i for i, n in enumerate(identities)}
    ci, ei, ii = (scores["classifier"].map(c_index), scores["emotion"].map(e_index), scores["identity"].map(i_index))
    wide_score[ci, ei, ii] = scores["score"].to_numpy()
    wide_p[ci, ei, ii] = scores["pvalue"].to_numpy()
    if np.isnan(wide_score).any():
        missing = np.argwhere(np.isnan(wide_score))[0]
        raise ValueError(
            f"no score for classifier '{classifiers[missing[0]]}', emotion '{EMOTIONS[missing[1]]}', "
            f"identity '{identities[missing[2]]}': every classifier needs every identity"
        )
    summary = summarise(
        wide_score,
        wide_p,
        alpha=statistics["delta"],
        statistic=statistics["statistic"],
        n_bootstrap=statistics["bootstrap"],
        rng=rng,
        spacing=statistics["spacing"],
    )
    groups = scores.drop_duplicates("classifier").set_index("classifier")["group"]
    rows = []
    for c, name in enumerate(classifiers):
        for e, emotion in enumerate(EMOTIONS):
            rows.append(
                {
                    "classifier": name,
                    "group": groups[name],
                    "emotion": emotion,
                    "n_identities": len(identities),
                    "mean_score": summary.mean_score[c, e],
                    "ci_low": summary.ci_low[c, e],
                    "ci_high": summary.ci_high[c, e],
                    "n_significant": int(summary.n_significant[c, e]),
                    "ratio_significant": summary.ratio_significant[c, e],
                }
            )
    decided = scores.copy()
    decided["pvalue_holm"] = summary.adjusted_pvalues[ci, ei, ii]
    decided["significant"] = summary.reject[ci, ei, ii]
    return pd.DataFrame(rows), decided


def _wide(summary: pd.DataFrame, value: str, extra: Sequence[str] = ()) -> pd.DataFrame:
    order = list(dict.fromkeys(summary["classifier"]))
    frames = [summary.pivot(index=["classifier", "group"], columns="emotion", values=value)[list(EMOTIONS)]]
    for column in extra:
        wide = summary.pivot(index=["classifier", "group"], columns="emotion", values=column)[list(EMOTIONS)]
        frames.append(wide.add_suffix(f"_{column}"))
    table = pd.concat(frames, axis=1).reset_index()
    table["classifier"] = pd.Categorical(table["classifier"], order, ordered=True)
    table = table.sort_values("classifier").reset_index(drop=True)
    table["classifier"] = table["classifier"].astype(str)
    table.columns.name = None
    return table


def table2(summary: pd.DataFrame) -> pd.DataFrame:
    """The paper's Table 2: mean score per classifier (rows, with group) × emotion, then the 95% CI columns."""
    return _wide(summary, "mean_score", extra=("ci_low", "ci_high"))


def with_readability(table: pd.DataFrame, checks: pd.DataFrame) -> pd.DataFrame:
    """Table 2 with a ``readability`` column after ``group``: the classifier's prototype accuracy at s = 1.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`table2`.
    checks : pandas.DataFrame
        ``results/classifier_checks.csv`` (:func:`facesym.classifiers.readability.checks_table`).
    """
    at_one = checks[checks["s"] == 1.0].set_index("classifier")["accuracy"]
    framed = table.copy()
    framed.insert(2, "readability", framed["classifier"].map(at_one))
    return framed


def table_s1(summary: pd.DataFrame) -> pd.DataFrame:
    """Supplementary Table 1: ratio of identities significant after Holm per classifier × emotion."""
    return _wide(summary, "ratio_significant")


def table2_latex(table: pd.DataFrame, caption: str) -> str:
    """Table 2 in the paper's layout: classifiers grouped by training data, one column per emotion."""
    header = " & ".join(["Group", "Classifier", *(e.capitalize() for e in EMOTIONS)])
    lines = [
        r"\begin{table}",
        r"\centering",
        rf"\caption{{{caption}}}",
        r"\begin{tabular}{ll" + "r" * len(EMOTIONS) + "}",
        r"\toprule",
        header + r" \\",
        r"\midrule",
    ]
    previous = None
    for _, row in table.iterrows():
        group = row["group"] if row["group"] != previous else ""
        if previous is not None and row["group"] != previous:
            lines.append(r"\midrule")
        previous = row["group"]
        cells = [_tex(group), _tex(row["classifier"]), *(f"{row[e]:.4f}" for e in EMOTIONS)]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return "\n".join(lines)


def _tex(text: str) -> str:
    return str(text).replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("&", r"\&").replace("%", r"\%")
