"""Tables of the synthetic-intervention experiment: Table 2, supplementary Table 1 and the long score table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from facesym.emotions import EMOTIONS
from facesym.io.records import Expressions, Permutations, Surfaces
from facesym.stats import NULLS, holm, sign_flip_test, smallest_sign_flip_pvalue, summarise, t_interval

__all__ = [
    "collect_scores",
    "summary_table",
    "table2",
    "table2_latex",
    "table2_specific",
    "table_s1",
    "with_readability",
]


def _by_job(records: Sequence[Any], kind: str) -> dict[tuple[str, str], Any]:
    by_job: dict[tuple[str, str], Any] = {}
    for record in records:
        key = (record.classifier, record.identity)
        if key in by_job:
            raise ValueError(f"two {kind} records of classifier '{key[0]}', identity '{key[1]}'")
        by_job[key] = record
    return by_job


_PER_IDENTITY = {  # scores.csv column <- permutations record value
    "score": "score",
    "score_sham": "score_sham",
    "specific": "specific",
    "pvalue": "pvalue",
    "pvalue_columns": "pvalue_columns",
    "pvalue_joint": "pvalue_joint",
    "pvalue_sham_columns": "pvalue_columns_sham",
    "pvalue_sham_joint": "pvalue_joint_sham",
}


def collect_scores(
    permutations: Sequence[Permutations],
    expressions: Sequence[Expressions],
    surfaces: Sequence[Surfaces],
    groups: Mapping[str, str],
    min_reached_probability: float = 0.0,
) -> pd.DataFrame:
    """One row per (classifier, identity, emotion) from the per-job records (rows in the order of
    ``permutations``).

    Returns
    -------
    pandas.DataFrame
        Columns ``classifier, group, identity, emotion, reached_probability`` (target probability of φ^(e) at
        s = 1, t = 1 found by the optimiser), ``flagged`` (reached probability below
        ``min_reached_probability``: the classifier never read the face as this emotion, so its score says
        little), ``p_symmetric, p_frozen_half, p_sham_half`` (target probability at t = 1 with s = 1, with s = 0,
        and for the intensity-matched control at s = 0: both halves at half intensity), ``score`` (the paper's),
        ``score_sham`` (the intensity-matched control's), ``specific`` (their difference, the symmetry-specific
        impact), ``pvalue`` (the null ``statistics.permutation_null`` names), ``pvalue_columns, pvalue_joint``
        (both nulls) and ``pvalue_sham_columns, pvalue_sham_joint`` (the same tests of the control's score).
    """
    by_expressions = _by_job(expressions, "expressions")
    by_surfaces = _by_job(surfaces, "surfaces")
    rows = []
    for key, tests in _by_job(permutations, "permutations").items():
        for other, name in ((by_expressions, "expressions"), (by_surfaces, "surfaces")):
            if key not in other:
                raise ValueError(f"no {name} file for classifier '{key[0]}', identity '{key[1]}'")
        grid = by_surfaces[key]
        for index, emotion in enumerate(tests.emotions):
            own = int(grid.target_class[index])
            reached = float(by_expressions[key].reached[index])
            rows.append(
                {
                    "classifier": key[0],
                    "group": groups.get(key[0], ""),
                    "identity": key[1],
                    "emotion": str(emotion),
                    "reached_probability": reached,
                    "flagged": reached < min_reached_probability,
                    "p_symmetric": float(grid.softmax[index, -1, -1, own]),
                    "p_frozen_half": float(grid.softmax[index, 0, -1, own]),
                    "p_sham_half": float(grid.softmax_sham[index, 0, -1, own]),
                    **{column: float(tests.values[name][index]) for column, name in _PER_IDENTITY.items()},
                }
            )
    return pd.DataFrame(rows)


def _population(values: np.ndarray, statistics: Mapping[str, Any], rng: np.random.Generator) -> dict[str, float]:
    """Mean, t-interval and sign-flip p-value of one (classifier, emotion)'s per-identity values."""
    if values.size == 0:
        return {"mean": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan}
    low, high = t_interval(values)
    p, _ = sign_flip_test(values, statistics["population_resamples"], rng)
    return {"mean": float(values.mean()), "ci_low": float(low), "ci_high": float(high), "p": float(p)}


def summary_table(
    scores: pd.DataFrame, statistics: Mapping[str, Any], rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (classifier, emotion) summary over the identities not flagged, and the scores with their decisions.

    Per identity: Holm–Bonferroni at ``statistics.delta`` over the kept identities of one (classifier, emotion),
    on ``pvalue`` (supplementary Table 1) and on each null's p-value. Per population (identities are the random
    sample): sign-flip tests of the mean score and of the mean symmetry-specific impact, Holm across the
    emotions of a classifier at ``statistics.population_alpha``, and Student-t 95% intervals
    (:mod:`facesym.stats.population`).

    Returns
    -------
    summary
        One row per (classifier, emotion), config order of classifiers and EMOTIONS order: ``n_identities``
        (kept), ``n_flagged``; ``mean_score, ci_low, ci_high`` (t-interval), ``boot_ci_low, boot_ci_high``
        (percentile bootstrap, unreliable at small N), ``p_population`` (sign flip), ``p_population_holm``,
        ``significant_population``; the same for the control (``mean_sham``) and the symmetry-specific impact
        (``mean_specific, specific_ci_low, specific_ci_high, p_population_specific, p_population_specific_holm,
        significant_population_specific``); ``population_min_p`` (the sign-flip test's resolution at this N);
        ``n_significant, n_significant_positive, n_significant_negative, ratio_significant`` (per-identity Holm
        on ``pvalue``) and ``n_significant_columns, n_significant_joint`` (on each null).
    scores
        The input with ``pvalue_holm`` and ``significant`` (on ``pvalue``; NaN / False for flagged rows) added.
    """
    classifiers = list(dict.fromkeys(scores["classifier"]))
    missing = [
        (c, e) for c in classifiers for e in EMOTIONS
        if not ((scores["classifier"] == c) & (scores["emotion"] == e)).any()
    ]  # fmt: skip
    if missing:
        raise ValueError(f"no score for classifier '{missing[0][0]}', emotion '{missing[0][1]}'")
    counts = scores.groupby(["classifier", "emotion"])["identity"].nunique()
    if counts.nunique() != 1:
        raise ValueError("every classifier needs every identity: the score files cover different identities")
    decided = scores.copy()
    decided["pvalue_holm"] = np.nan
    decided["significant"] = False
    groups = scores.drop_duplicates("classifier").set_index("classifier")["group"]
    rows = []
    for name in classifiers:
        for emotion in EMOTIONS:
            cell = scores[(scores["classifier"] == name) & (scores["emotion"] == emotion)]
            kept = cell[~cell["flagged"].astype(bool)]
            n = len(kept)
            row: dict[str, Any] = {
                "classifier": name, "group": groups[name], "emotion": emotion, "n_identities": n,
                "n_flagged": len(cell) - n,
            }  # fmt: skip
            score = _population(kept["score"].to_numpy(), statistics, rng)
            specific = _population(kept["specific"].to_numpy(), statistics, rng)
            row |= {"mean_score": score["mean"], "ci_low": score["ci_low"], "ci_high": score["ci_high"]}
            row |= {"boot_ci_low": np.nan, "boot_ci_high": np.nan, "p_population": score["p"]}
            row |= {"mean_sham": float(kept["score_sham"].mean()) if n else np.nan}
            row |= {
                "mean_specific": specific["mean"], "specific_ci_low": specific["ci_low"],
                "specific_ci_high": specific["ci_high"], "p_population_specific": specific["p"],
                "population_min_p": smallest_sign_flip_pvalue(n, statistics["population_resamples"]) if n else 1.0,
            }  # fmt: skip
            row |= {"n_significant": 0, "n_significant_positive": 0, "n_significant_negative": 0}
            row |= {"ratio_significant": np.nan, "n_significant_columns": 0, "n_significant_joint": 0}
            if n:
                boot = summarise(
                    kept["score"].to_numpy(), kept["pvalue"].to_numpy(), alpha=statistics["delta"],
                    statistic=statistics["statistic"], n_bootstrap=statistics["bootstrap"], rng=rng,
                    spacing=statistics["spacing"],
                )  # fmt: skip
                reject = boot.reject
                positive = kept["score"].to_numpy() > 0
                row |= {"boot_ci_low": float(boot.ci_low), "boot_ci_high": float(boot.ci_high)}
                row |= {
                    "n_significant": int(reject.sum()), "ratio_significant": float(boot.ratio_significant),
                    "n_significant_positive": int((reject & positive).sum()),
                    "n_significant_negative": int((reject & ~positive).sum()),
                }  # fmt: skip
                for null in NULLS:
                    rejected, _ = holm(kept[f"pvalue_{null}"].to_numpy(), statistics["delta"])
                    row[f"n_significant_{null}"] = int(rejected.sum())
                decided.loc[kept.index, "pvalue_holm"] = boot.adjusted_pvalues
                decided.loc[kept.index, "significant"] = reject
            rows.append(row)
    summary = pd.DataFrame(rows)
    alpha = statistics["population_alpha"]
    for suffix in ("", "_specific"):
        p = summary[f"p_population{suffix}"].to_numpy()
        adjusted = np.full(p.shape, np.nan)
        reject = np.zeros(p.shape, dtype=bool)
        for name in classifiers:
            index = np.flatnonzero((summary["classifier"] == name).to_numpy() & np.isfinite(p))
            if index.size:
                reject[index], adjusted[index] = holm(p[index], alpha)
        summary[f"p_population{suffix}_holm"] = adjusted
        summary[f"significant_population{suffix}"] = reject
    return summary, decided


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
    """The paper's Table 2: mean score per classifier (rows, with group) × emotion.

    Then per emotion: the Student-t 95% interval (``_ci_low, _ci_high``), the population-level sign-flip p-value
    after Holm across the classifier's emotions (``_p_population_holm``), its decision
    (``_significant_population``), and the identities kept and flagged (``_n_identities, _n_flagged``).
    """
    return _wide(
        summary,
        "mean_score",
        extra=("ci_low", "ci_high", "p_population_holm", "significant_population", "n_identities", "n_flagged"),
    )


def table2_specific(summary: pd.DataFrame) -> pd.DataFrame:
    """The symmetry-specific impact: mean of (paper's score − intensity-matched control's score) per cell.

    Then per emotion: the paper's score and the control's (``_score, _sham``), the Student-t 95% interval of the
    specific impact, its population-level p-value after Holm across the classifier's emotions and decision.
    """
    renamed = summary.rename(columns={"mean_score": "score", "mean_sham": "sham"})
    return _wide(
        renamed,
        "mean_specific",
        extra=(
            "score", "sham", "specific_ci_low", "specific_ci_high", "p_population_specific_holm",
            "significant_population_specific",
        ),
    )  # fmt: skip


def with_readability(table: pd.DataFrame, checks: pd.DataFrame) -> pd.DataFrame:
    """Table 2 with a ``readability`` column after ``group``: the classifier's prototype accuracy at s = 1.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`table2`.
    checks : pandas.DataFrame
        The readability checks table (:func:`facesym.classifiers.readability.checks_table`).
    """
    at_one = checks[checks["s"] == 1.0].set_index("classifier")["accuracy"]
    framed = table.copy()
    framed.insert(2, "readability", framed["classifier"].map(at_one))
    return framed


def table_s1(summary: pd.DataFrame) -> pd.DataFrame:
    """Supplementary Table 1: ratio of identities significant after Holm per classifier × emotion.

    Then per emotion the significant identities with a positive and with a negative score (a two-sided test
    mixes them) and the flagged identities left out (``_n_significant_positive, _n_significant_negative,
    _n_flagged``).
    """
    return _wide(summary, "ratio_significant", extra=("n_significant_positive", "n_significant_negative", "n_flagged"))


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
        cells = [_tex(group), _tex(row["classifier"]), *(_tex_cell(row, e) for e in EMOTIONS)]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return "\n".join(lines)


def _tex_cell(row: pd.Series, emotion: str) -> str:
    """The score, marked when significant at the population level (the caption says so)."""
    mark = r"$^{*}$" if bool(row.get(f"{emotion}_significant_population", False)) else ""
    return f"{row[emotion]:.4f}{mark}"


def _tex(text: str) -> str:
    return str(text).replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("&", r"\&").replace("%", r"\%")
