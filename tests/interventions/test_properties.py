"""The properties table: the paper's score per axis, intensity-adjusted where an axis removes movement."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from facesym.emotions import EMOTIONS
from facesym.interventions.properties import flag_scores, properties_table, property_scores
from facesym.io.records import (
    Expressions,
    PropertySurfaces,
    Slot,
    Surfaces,
    write_expressions,
    write_property_surfaces,
    write_surfaces,
)
from facesym.pipeline.properties import properties_table_job

S, T, K = 5, 4, 7
STATS = {"spacing": "step", "statistic": "gradient", "population_resamples": 99, "min_reached_probability": 0.0}


def _ramp(slope: float) -> np.ndarray:
    """Softmax (E, S, T, K) whose every class rises by ``slope`` per grid step along the first axis."""
    level = 0.2 + slope * np.arange(S)[:, None] + np.zeros((S, T))
    return np.broadcast_to(level[None, :, :, None], (len(EMOTIONS), S, T, K)).astype(np.float32)


GRID = {"s": np.linspace(0, 1, S), "t": np.linspace(0, 1, T), "classes": tuple(f"c{k}" for k in range(K))}


def _paper(identity, slope):
    return Surfaces(
        softmax=_ramp(slope), softmax_sham=_ramp(0.01), logits=None, logits_sham=None,
        target_class=np.arange(len(EMOTIONS)), phi=np.zeros((len(EMOTIONS), 2)), **GRID, parameters=("a", "b"),
        seed=1, config={}, classifier="cnn", identity=identity,
    )  # fmt: skip


def _axis(identity, prop, slope):
    return PropertySurfaces(
        softmax=_ramp(slope), target_class=np.arange(len(EMOTIONS)), a=GRID["s"], t=GRID["t"],
        classes=GRID["classes"], property=prop, seed=1, config={}, classifier="cnn", identity=identity,
    )  # fmt: skip


@pytest.fixture
def records():
    paper, props = [], []
    for i, identity in enumerate(["id0000", "id0001", "id0002", "id0003"]):
        paper.append(_paper(identity, 0.03 + 0.001 * i))
        props += [_axis(identity, "symmetry_right", 0.02), _axis(identity, "yaw", -0.01)]
    return paper, props


@pytest.fixture
def files(records, tmp_path):
    """The records as files, with the slots the workflow would expect for them."""
    written: dict[str, list] = {"paper": [], "properties": []}
    slots: dict[str, list] = {"paper": [], "properties": []}
    for kind, writer, group in (("p", write_surfaces, "paper"), ("r", write_property_surfaces, "properties")):
        for n, record in enumerate(records[0] if group == "paper" else records[1]):
            path = tmp_path / f"{kind}{n}.h5"
            writer(path, record)
            written[group].append(path)
            slots[group].append(Slot(record.classifier, record.identity, property=getattr(record, "property", None)))
    written["expressions"], slots["expressions"] = [], []
    for n, paper in enumerate(records[0]):
        path = tmp_path / f"e{n}.h5"
        write_expressions(path, _expressions(paper.identity, REACHED[n]))
        written["expressions"].append(path)
        slots["expressions"].append(Slot(paper.classifier, paper.identity))
    return written["paper"], written["properties"], slots, written["expressions"]


# the probability φ^(e) reached per identity: with min_reached_probability 0.5, id0001 is flagged
REACHED = [0.9, 0.3, 0.8, 0.6]


def _expressions(identity: str, reached: float) -> Expressions:
    return Expressions(
        phi=np.zeros((len(EMOTIONS), 2)), reached=np.full(len(EMOTIONS), reached), history=np.zeros((len(EMOTIONS), 1)),
        n_evaluations=np.ones(len(EMOTIONS), dtype=int), parameters=("a", "b"), seed=1, config={}, classifier="cnn",
        identity=identity,
    )  # fmt: skip


def test_scores_are_the_papers_per_axis(records):
    scores = property_scores(*records)
    mean = scores.groupby("property")["score"].mean()
    assert mean["symmetry_left"] == pytest.approx(0.0315, abs=1e-6)
    assert mean["intensity"] == pytest.approx(0.01, abs=1e-6)
    assert mean["symmetry_right"] == pytest.approx(0.02, abs=1e-6)
    assert mean["yaw"] == pytest.approx(-0.01, abs=1e-6)
    assert len(scores) == 4 * 4 * len(EMOTIONS)


def test_adjusted_scores_subtract_the_intensity_axis_where_it_applies(records):
    table = properties_table(property_scores(*records), 99, np.random.default_rng(0))
    row = table.set_index(["emotion", "property"]).loc[("happy",)]
    assert row.loc["symmetry_left", "adjusted"] == pytest.approx(0.0215, abs=1e-6)
    assert row.loc["symmetry_right", "adjusted"] == pytest.approx(0.01, abs=1e-6)
    assert np.isnan(row.loc["yaw", "adjusted"]) and np.isnan(row.loc["intensity", "adjusted"])
    # four identities, all of one sign: the exact sign-flip test's smallest p-value, 2 / 2^4
    assert row.loc["yaw", "p"] == pytest.approx(0.125)
    assert row.loc["yaw", "n_identities"] == 4 and row.loc["yaw", "n_flagged"] == 0
    assert row.loc["symmetry_left", "ci_low"] < 0.0315 < row.loc["symmetry_left", "ci_high"]


def test_a_file_of_another_axis_stops_the_table_naming_it(files, tmp_path):
    paper, rendered, slots, expressions = files
    swapped = {**slots, "properties": [slots["properties"][1], *slots["properties"][1:]]}
    outputs = {"table": tmp_path / "properties.csv", "scores": tmp_path / "scores.csv"}
    with pytest.raises(OSError, match=r"r0\.h5: its property is 'symmetry_right', but .* expects 'yaw'"):
        properties_table_job(paper_files=paper, property_files=rendered, expression_files=expressions,
                             properties=["yaw"], config={"seed": 3, "statistics": STATS}, outputs=outputs,
                             expected=swapped)
    assert not outputs["table"].exists()


def test_the_job_keeps_the_configs_axes_and_writes_both_tables(files, tmp_path):
    outputs = {"table": tmp_path / "properties.csv", "scores": tmp_path / "scores.csv"}
    config = {"seed": 3, "statistics": STATS}
    properties_table_job(paper_files=files[0], property_files=files[1], expression_files=files[3], properties=["yaw"],
                         config=config, outputs=outputs, expected=files[2])
    assert set(pd.read_csv(outputs["table"])["property"]) == {"yaw"}
    properties_table_job(paper_files=files[0], property_files=files[1], expression_files=files[3],
                         properties=["symmetry_right", "yaw"], config=config, outputs=outputs, expected=files[2])
    table = pd.read_csv(outputs["table"])
    assert list(dict.fromkeys(table["property"])) == ["symmetry_right", "yaw", "intensity"]
    assert table["units"].iloc[0] == "output per symmetry step of a"


def test_identities_below_the_reached_probability_are_left_out_and_counted(files, tmp_path):
    """As in Table 2: an identity whose φ^(e) the classifier never read as the emotion says little about it."""
    outputs = {"table": tmp_path / "properties.csv", "scores": tmp_path / "scores.csv"}
    config = {"seed": 3, "statistics": {**STATS, "min_reached_probability": 0.5}}
    properties_table_job(paper_files=files[0], property_files=files[1], expression_files=files[3],
                         properties=["symmetry_left", "yaw"], config=config, outputs=outputs, expected=files[2])
    table = pd.read_csv(outputs["table"]).set_index(["emotion", "property"])
    assert (table["n_identities"] == 3).all() and (table["n_flagged"] == 1).all()
    # symmetry_left's slope is 0.03 + 0.001·i: the mean without id0001 (i = 1) is 0.03 + 0.001·(0+2+3)/3
    assert table.loc[("happy", "symmetry_left"), "score"] == pytest.approx(0.03 + 0.005 / 3, abs=1e-6)
    scores = pd.read_csv(outputs["scores"])
    assert set(scores.loc[scores["flagged"], "identity"]) == {"id0001"}
    assert scores.groupby("identity")["reached_probability"].first().tolist() == REACHED


def test_every_identity_flagged_leaves_an_empty_row_not_an_error(records):
    scores = property_scores(*records)
    reached = scores[["classifier", "identity", "emotion"]].drop_duplicates().assign(reached_probability=0.1)
    table = properties_table(flag_scores(scores, reached, 0.5), 99, np.random.default_rng(0))
    assert (table["n_identities"] == 0).all() and (table["n_flagged"] == 4).all()
    assert table[["score", "ci_low", "ci_high", "p", "adjusted"]].isna().all().all()


def test_a_score_without_its_reached_probability_stops_naming_it(records):
    scores = property_scores(*records)
    reached = scores[["classifier", "identity", "emotion"]].drop_duplicates().assign(reached_probability=0.9)
    with pytest.raises(ValueError, match="identity 'id0003'"):
        flag_scores(scores, reached[reached["identity"] != "id0003"], 0.5)


def test_the_config_lists_axes_by_name_or_with_a_range():
    from facesym.config import ConfigError, load_schema, validate_config

    schema = load_schema(Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml")
    config = validate_config({"seed": 1}, schema)
    assert config["interventions"] == ["symmetry_left"]  # the paper only, by default
    items = ["symmetry_right", {"axis": "yaw", "max_degrees": 15}]
    assert validate_config({"seed": 1, "interventions": items}, schema)["interventions"] == items
    with pytest.raises(ConfigError, match="interventions"):
        validate_config({"seed": 1, "interventions": ["age"]}, schema)
    with pytest.raises(ConfigError, match="interventions"):
        validate_config({"seed": 1, "interventions": [{"axis": "yaw", "degrees": 15}]}, schema)


def test_the_figure_shows_every_classifier_and_property(records, tmp_path):
    from facesym.figures.properties import plot_properties

    table = properties_table(property_scores(*records), 99, np.random.default_rng(0))
    table.insert(3, "units", "output per symmetry step of a")
    out = {"pdf": tmp_path / "p.pdf", "png": tmp_path / "p.png", "csv": tmp_path / "p.csv"}
    plot_properties(table, **out)
    assert all(path.stat().st_size > 1000 for path in out.values())
    assert len(pd.read_csv(out["csv"])) == len(table)
