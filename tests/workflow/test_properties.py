"""The property rules end to end on a tiny config: the table's rows and columns, the paper's axis against Table 2,
an empty rerun."""

import pandas as pd
import pytest

from facesym.emotions import EMOTIONS

from .test_interventions import TINY

pytestmark = pytest.mark.workflow

AXES = ["symmetry_left", "symmetry_right", "yaw"]
CONFIG = {**TINY, "interventions": AXES}
TARGETS = ("results/properties.csv", "results/table2.csv")
COLUMNS = [
    "classifier", "emotion", "property", "units", "n_identities", "n_flagged", "score", "ci_low", "ci_high", "p",
    "adjusted", "adjusted_ci_low", "adjusted_ci_high", "adjusted_p",
]  # fmt: skip


@pytest.fixture(scope="module")
def properties_run(tmp_path_factory):
    from .conftest import Workflow

    wf = Workflow(tmp_path_factory.mktemp("properties"), CONFIG)
    wf.run(*TARGETS)
    return wf


def test_one_row_per_classifier_emotion_and_property_with_the_readmes_columns(properties_run):
    table = pd.read_csv(properties_run.path("results/properties.csv"))
    assert table.columns.tolist() == COLUMNS
    # the symmetry axes' adjusted score needs the intensity axis, which the paper's surfaces hold: it is a row too
    properties = [*AXES, "intensity"]
    assert len(table) == len(EMOTIONS) * len(properties)
    assert set(zip(table["emotion"], table["property"], strict=True)) == {(e, p) for e in EMOTIONS for p in properties}
    assert (table["classifier"] == "tiny_cnn").all() and (table["units"] == "output per symmetry step of a").all()
    assert (table["n_identities"] == 2).all() and (table["n_flagged"] == 0).all()
    assert table[["score", "ci_low", "ci_high", "p"]].notna().all().all()
    assert (table["ci_low"] <= table["score"]).all() and (table["score"] <= table["ci_high"]).all()
    adjusted = table["property"].isin(["symmetry_left", "symmetry_right"])
    assert table.loc[adjusted, "adjusted"].notna().all() and table.loc[~adjusted, "adjusted"].isna().all()
    for axis in ("symmetry_right", "yaw"):
        assert properties_run.path(f"results/surfaces/{axis}/tiny_cnn/id0001.h5").is_file()


def test_the_papers_axis_scores_what_table2_scores(properties_run):
    """symmetry_left is read from the paper's surfaces: the same surfaces, the same score, per identity and mean."""
    scores = pd.read_csv(properties_run.path("results/scores.csv"))
    per_identity = pd.read_csv(properties_run.path("results/properties_scores.csv"))
    left = per_identity[per_identity["property"] == "symmetry_left"]
    merged = scores.merge(left, on=["classifier", "identity", "emotion"], suffixes=("_table2", "_properties"))
    assert len(merged) == len(scores) == 2 * len(EMOTIONS)
    assert (merged["score_table2"] - merged["score_properties"]).abs().max() < 1e-5
    table2 = pd.read_csv(properties_run.path("results/table2.csv")).set_index("classifier")
    table = pd.read_csv(properties_run.path("results/properties.csv"))
    for emotion in EMOTIONS:
        row = table[(table["emotion"] == emotion) & (table["property"] == "symmetry_left")]
        assert row["score"].item() == pytest.approx(table2.loc["tiny_cnn", emotion], abs=1e-5)


def test_a_rerun_after_touching_nothing_runs_no_job(properties_run):
    assert properties_run.planned_jobs(*TARGETS) == {}


def test_identities_below_the_reached_probability_are_flagged_as_in_table2(properties_run):
    """A threshold between the reached probabilities: the property table leaves out what Table 2 leaves out."""
    reached = pd.read_csv(properties_run.path("results/scores.csv"))["reached_probability"]
    threshold = float(reached.median())
    config = {**CONFIG, "statistics": {**CONFIG["statistics"], "min_reached_probability": threshold}}
    properties_run.write_config(config)
    try:
        # the statistics settings are the table's own: nothing rendered reruns
        assert properties_run.planned_jobs("results/properties.csv") == {"properties_table": 1}
        properties_run.run("results/properties.csv", "results/summary.csv")
        table = pd.read_csv(properties_run.path("results/properties.csv"))
        summary = pd.read_csv(properties_run.path("results/summary.csv")).set_index("emotion")
        assert 0 < table["n_flagged"].sum() < table["n_flagged"].size * 2
        for _, row in table.iterrows():
            assert row["n_flagged"] == summary.loc[row["emotion"], "n_flagged"]
            assert row["n_identities"] == summary.loc[row["emotion"], "n_identities"]
        scores = pd.read_csv(properties_run.path("results/properties_scores.csv"))
        kept = scores[(scores["property"] == "symmetry_left") & ~scores["flagged"]].groupby("emotion")["score"]
        left = table[table["property"] == "symmetry_left"].set_index("emotion")["score"]
        assert left.dropna().to_dict() == pytest.approx(kept.mean().to_dict(), abs=1e-5)
        assert left.dropna().to_dict() == pytest.approx(summary["mean_score"].dropna().to_dict(), abs=1e-5)
    finally:
        properties_run.write_config(CONFIG)
