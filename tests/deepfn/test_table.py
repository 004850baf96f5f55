"""The table's paired tests on planted differences, and the AU impact scores."""

import numpy as np
import pandas as pd
import torch

from facesym.deepfn.symmetry import au_surfaces, symmetry_scores
from facesym.deepfn.table import deepfn_table, symmetry_table

PROVENANCE = {"seed": 1, "config_digest": "abc"}


def planted_scores(gap: float, normalisation: str, units: int = 10, seed: int = 0) -> pd.DataFrame:
    """Per-subject scores where every model's within-group subjects score ``gap`` above its cross-group ones."""
    rng = np.random.default_rng(seed)
    rows = []
    for repetition in range(units):
        level = rng.uniform(0.5, 0.7)  # models differ, pairs share it
        for scope, shift in (("within", gap), ("cross", 0.0)):
            for subject in range(3):
                rows.append({"normalisation": normalisation, "condition": "skin", "repetition": repetition,
                             "train_group": "lighter", "scope": scope, "test_group": "x", "subject": f"s{subject}",
                             "score": level + shift + rng.normal(0, 0.005)})
    return pd.DataFrame(rows)


def test_a_planted_gap_is_found_and_a_null_gap_is_not():
    table = deepfn_table(planted_scores(0.05, "none"), PROVENANCE)
    row = table.iloc[0]
    assert row["units"] == 10 and abs(row["gap"] - 5.0) < 0.5 and row["p_gap"] < 1e-6
    assert row["paper_gap"] == 5.3 and row["config_digest"] == "abc"
    null = deepfn_table(planted_scores(0.0, "none", seed=1), PROVENANCE).iloc[0]
    assert abs(null["gap"]) < 0.5 and null["p_gap"] > 0.01


def test_normalisation_is_compared_with_the_same_units_unnormalised():
    scores = pd.concat([planted_scores(0.05, "none"), planted_scores(0.01, "deepfn", seed=3)])
    table = deepfn_table(scores, PROVENANCE).set_index("normalisation")
    assert np.isnan(table.loc["none", "gap_change"])
    assert abs(table.loc["deepfn", "gap_change"] + 4.0) < 0.5 and table.loc["deepfn", "p_gap_vs_none"] < 1e-4


class Brightness(torch.nn.Module):
    """Every AU's logit is the image's mean brightness, scaled: a recogniser that reads 'how much moves'."""

    def forward(self, x):
        return (x.mean(dim=(1, 2, 3))[:, None] * 8.0 - 4.0).expand(-1, 2)


def test_au_outputs_become_surfaces_and_impact_scores():
    s = np.linspace(0, 1, 4)
    # brightness rises with s for AU 0 and is flat for AU 1
    grid = np.zeros((2, 4, 3, 8, 8), dtype=np.float32)
    grid[0] += s[:, None, None, None] * 0.5
    grid[1] += 0.25
    surfaces = au_surfaces(Brightness(), grid)
    assert surfaces.shape == (2, 4, 3) and np.all(np.diff(surfaces[0], axis=0) > 0)
    rows = symmetry_scores({0: Brightness()}, {"p000": grid}, ["AU1", "AU2"],
                           {"statistic": "gradient", "spacing": "step"}, "none")
    scores = rows.set_index("au")["score"]
    assert scores["AU1"] > 0.05 and abs(scores["AU2"]) < 1e-9
    table = symmetry_table(pd.concat([rows, rows.assign(subject="p001")]), PROVENANCE, "per symmetry step")
    assert set(table["au"]) == {"AU1", "AU2", "all"} and (table["subjects"] == 2).all()


def test_a_score_file_in_another_normalisations_place_stops_the_table(tmp_path, tiny_config):
    import pytest

    from facesym.io.records import ProvenanceError
    from facesym.io.tables import write_slot_table
    from facesym.pipeline.deepfn import table_job

    files, slots = [], []
    for normalisation in tiny_config["deepfn"]["normalisations"]:
        files.append(tmp_path / f"{normalisation}.csv")
        slots.append({"normalisation": normalisation, "config_digest": "d0"})
        write_slot_table(files[-1], pd.DataFrame({"normalisation": [normalisation], "score": [0.5]}), slots[-1],
                         key="normalisation")
    files[1].write_bytes(files[0].read_bytes())  # the first normalisation's scores over the second's
    outputs = {name: tmp_path / f"out_{name}" for name in ("table", "symmetry_table_path", "figure",
                                                            "figure_values", "examples")}
    with pytest.raises(ProvenanceError, match=rf"{files[1].name}: normalisation is '{files[0].stem}' but"):
        table_job(config=tiny_config, scores=files, symmetry=files, expected=slots, corpus=tmp_path / "corpus.h5",
                  normalised={}, **outputs)
    assert not any(path.exists() for path in outputs.values())
