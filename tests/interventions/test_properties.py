"""The properties table: the paper's score per axis, intensity-adjusted where an axis removes movement."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from facesym.emotions import EMOTIONS
from facesym.interventions.properties import properties_table, property_scores
from facesym.io.hdf5 import write_h5
from facesym.pipeline.properties import properties_table_job

S, T, K = 5, 4, 7
STATS = {"spacing": "step", "statistic": "gradient", "population_resamples": 99}


def _ramp(slope: float) -> np.ndarray:
    """Softmax (E, S, T, K) whose every class rises by ``slope`` per grid step along the first axis."""
    level = 0.2 + slope * np.arange(S)[:, None] + np.zeros((S, T))
    return np.broadcast_to(level[None, :, :, None], (len(EMOTIONS), S, T, K)).astype(np.float32)


def _write(path, kind, classifier, identity, datasets, prop=None):
    axis = "s" if kind == "surfaces" else "a"
    attrs = {"classifier": classifier, "identity": identity, **({"property": prop} if prop else {})}
    write_h5(
        path, kind,
        {name: (values, ("emotion", axis, "t", "class"), "probability") for name, values in datasets.items()}
        | {"target_class": (np.arange(len(EMOTIONS)), ("emotion",), "index into class")},
        seed=1, config={}, attrs=attrs,
    )
    return path


@pytest.fixture
def files(tmp_path):
    paper, props = [], []
    for i, identity in enumerate(["id0000", "id0001", "id0002", "id0003"]):
        paper.append(_write(tmp_path / f"p{i}.h5", "surfaces", "cnn", identity,
                            {"softmax": _ramp(0.03 + 0.001 * i), "softmax_sham": _ramp(0.01)}))
        props.append(_write(tmp_path / f"r{i}.h5", "property_surfaces", "cnn", identity,
                            {"softmax": _ramp(0.02)}, prop="symmetry_right"))
        props.append(_write(tmp_path / f"y{i}.h5", "property_surfaces", "cnn", identity,
                            {"softmax": _ramp(-0.01)}, prop="yaw"))
    return paper, props


def test_scores_are_the_papers_per_axis(files):
    scores = property_scores(*files)
    mean = scores.groupby("property")["score"].mean()
    assert mean["symmetry_left"] == pytest.approx(0.0315, abs=1e-6)
    assert mean["intensity"] == pytest.approx(0.01, abs=1e-6)
    assert mean["symmetry_right"] == pytest.approx(0.02, abs=1e-6)
    assert mean["yaw"] == pytest.approx(-0.01, abs=1e-6)
    assert len(scores) == 4 * 4 * len(EMOTIONS)


def test_adjusted_scores_subtract_the_intensity_axis_where_it_applies(files):
    table = properties_table(property_scores(*files), 99, np.random.default_rng(0))
    row = table.set_index(["emotion", "property"]).loc[("happy",)]
    assert row.loc["symmetry_left", "adjusted"] == pytest.approx(0.0215, abs=1e-6)
    assert row.loc["symmetry_right", "adjusted"] == pytest.approx(0.01, abs=1e-6)
    assert np.isnan(row.loc["yaw", "adjusted"]) and np.isnan(row.loc["intensity", "adjusted"])
    # four identities, all of one sign: the exact sign-flip test's smallest p-value, 2 / 2^4
    assert row.loc["yaw", "p"] == pytest.approx(0.125) and row.loc["yaw", "n"] == 4
    assert row.loc["symmetry_left", "ci_low"] < 0.0315 < row.loc["symmetry_left", "ci_high"]


def test_the_job_keeps_the_configs_axes_and_writes_both_tables(files, tmp_path):
    outputs = {"table": tmp_path / "properties.csv", "scores": tmp_path / "scores.csv"}
    config = {"seed": 3, "statistics": STATS}
    properties_table_job(paper_files=files[0], property_files=files[1], properties=["yaw"], config=config,
                         outputs=outputs)
    assert set(pd.read_csv(outputs["table"])["property"]) == {"yaw"}
    properties_table_job(paper_files=files[0], property_files=files[1], properties=["symmetry_right", "yaw"],
                         config=config, outputs=outputs)
    table = pd.read_csv(outputs["table"])
    assert list(dict.fromkeys(table["property"])) == ["symmetry_right", "yaw", "intensity"]
    assert table["units"].iloc[0] == "output per symmetry step of a"


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


def test_the_figure_shows_every_classifier_and_property(files, tmp_path):
    from facesym.figures.properties import plot_properties

    table = properties_table(property_scores(*files), 99, np.random.default_rng(0))
    table.insert(3, "units", "output per symmetry step of a")
    out = {"pdf": tmp_path / "p.pdf", "png": tmp_path / "p.png", "csv": tmp_path / "p.csv"}
    plot_properties(table, **out)
    assert all(path.stat().st_size > 1000 for path in out.values())
    assert len(pd.read_csv(out["csv"])) == len(table)
