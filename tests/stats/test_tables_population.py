"""Table 2 with population-level marks, the symmetry-specific table, supplementary Table 1 and quality flags."""

import numpy as np
import pandas as pd
import pytest

from facesym.emotions import EMOTIONS
from facesym.stats import holm, sign_flip_test
from facesym.tables import summary_table, table2, table2_latex, table2_specific, table_s1

STATS = {
    "delta": 0.05, "statistic": "gradient", "spacing": "step", "bootstrap": 100, "permutation_null": "columns",
    "population_alpha": 0.05, "population_resamples": 999, "min_reached_probability": 0.5, "output": "probability",
}  # fmt: skip


def scores_frame(n: int = 10, seed: int = 0) -> pd.DataFrame:
    """Two classifiers: 'biased' with a symmetry-specific effect on happy, 'intensity' whose score is all intensity."""
    rng = np.random.default_rng(seed)
    rows = []
    for classifier in ("biased", "intensity"):
        for i in range(n):
            for emotion in EMOTIONS:
                sham = 0.02 + 0.005 * rng.normal()
                specific = (0.03 if (classifier == "biased" and emotion == "happy") else 0.0) + 0.002 * rng.normal()
                score = sham + specific
                rows.append({
                    "classifier": classifier, "group": "g", "identity": f"id{i:04d}", "emotion": emotion,
                    "reached_probability": 0.3 if (i == 0 and emotion == "sad") else 0.9,
                    "score": score, "score_sham": sham, "specific": score - sham,
                    "pvalue": 0.001 if i % 2 else 0.5, "pvalue_columns": 0.001, "pvalue_joint": 0.2,
                })  # fmt: skip
    frame = pd.DataFrame(rows)
    frame["flagged"] = frame["reached_probability"] < STATS["min_reached_probability"]
    return frame


def test_population_marks_separate_symmetry_from_intensity():
    summary, _ = summary_table(scores_frame(), STATS, np.random.default_rng(0))
    cell = summary.set_index(["classifier", "emotion"])
    # both classifiers' paper scores are positive and significant across identities (the loss of movement) ...
    assert cell["significant_population"].all()
    # ... but only the biased classifier's happy cell is symmetry-specific
    specific = cell["significant_population_specific"]
    assert specific[("biased", "happy")]
    assert not specific.drop(("biased", "happy")).any()
    # the population p-value is the exact sign-flip test, then Holm across the six emotions of the classifier
    biased = summary[summary["classifier"] == "biased"]
    frame = scores_frame()
    expected = [sign_flip_test(frame[(frame.classifier == "biased") & (frame.emotion == e) & ~frame.flagged]
                               ["specific"].to_numpy())[0] for e in EMOTIONS]  # fmt: skip
    np.testing.assert_allclose(biased["p_population_specific"], expected)
    np.testing.assert_allclose(biased["p_population_specific_holm"], holm(expected, 0.05)[1])


def test_flagged_identities_are_left_out_and_counted():
    frame = scores_frame()
    summary, decided = summary_table(frame, STATS, np.random.default_rng(0))
    sad = summary[(summary["classifier"] == "biased") & (summary["emotion"] == "sad")].iloc[0]
    assert (sad["n_identities"], sad["n_flagged"]) == (9, 1)
    kept = frame[(frame.classifier == "biased") & (frame.emotion == "sad") & ~frame.flagged]
    assert sad["mean_score"] == pytest.approx(kept["score"].mean())
    assert np.isnan(decided.loc[frame["flagged"], "pvalue_holm"]).all()
    wide = table2(summary)
    assert wide.loc[0, "sad_n_flagged"] == 1 and wide.loc[0, "sad_n_identities"] == 9
    assert table_s1(summary).loc[0, "sad_n_flagged"] == 1
    # with the threshold at 0 every identity counts
    everyone = frame.assign(flagged=False)
    assert (summary_table(everyone, STATS, np.random.default_rng(0))[0]["n_flagged"] == 0).all()


def test_supplementary_table1_counts_positive_and_negative_significant_scores():
    frame = scores_frame()
    negative = (frame["classifier"] == "intensity") & (frame["emotion"] == "angry") & (frame["identity"] < "id0004")
    frame.loc[negative, "score"] *= -1
    summary, decided = summary_table(frame, STATS, np.random.default_rng(0))
    s1 = table_s1(summary).set_index("classifier")
    angry = decided[(decided.classifier == "intensity") & (decided.emotion == "angry") & decided.significant]
    assert s1.loc["intensity", "angry_n_significant_negative"] == (angry["score"] < 0).sum() > 0
    assert s1.loc["intensity", "angry_n_significant_positive"] == (angry["score"] > 0).sum() > 0
    assert s1.loc["intensity", "angry"] == pytest.approx(len(angry) / 10)


def test_table2_marks_significant_cells_and_the_specific_table_holds_score_and_control():
    summary, _ = summary_table(scores_frame(), STATS, np.random.default_rng(0))
    latex = table2_latex(table2(summary), "caption")
    assert latex.count("$^{*}$") == int(summary["significant_population"].sum())
    specific = table2_specific(summary).set_index("classifier")
    cell = summary.set_index(["classifier", "emotion"]).loc[("biased", "happy")]
    assert specific.loc["biased", "happy"] == pytest.approx(cell["mean_specific"])
    assert specific.loc["biased", "happy_score"] - specific.loc["biased", "happy_sham"] == pytest.approx(
        cell["mean_specific"]
    )
    assert specific.loc["biased", "happy_specific_ci_low"] > 0
