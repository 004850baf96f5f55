"""The per-(classifier, identity) statistics job: what the score uses, both nulls, the control."""

from pathlib import Path

import numpy as np
import pytest

from facesym.config import load_schema, validate_config
from facesym.io import read_h5
from facesym.io.records import Slot, Surfaces
from facesym.io.records import write_surfaces as write_records_surfaces
from facesym.pipeline.statistics import permutations_job
from facesym.stats import impact_score

REPO = Path(__file__).resolve().parents[2]
SLOT = Slot("c", "id0000")


def write_surfaces(path: Path, with_logits: bool) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    s, t = np.linspace(0, 1, 5), np.linspace(0, 1, 4)
    logits = rng.normal(size=(6, 5, 4, 7)) + 2.0 * s[None, :, None, None]
    sham = rng.normal(size=(6, 5, 4, 7))

    def softmax(z):
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    data = {"softmax": softmax(logits), "softmax_sham": softmax(sham)}
    if with_logits:
        data |= {"logits": logits, "logits_sham": sham}
    record = Surfaces(
        softmax=data["softmax"], softmax_sham=data["softmax_sham"], logits=data.get("logits"),
        logits_sham=data.get("logits_sham"), target_class=np.arange(6), phi=np.zeros((6, 2)), s=s, t=t,
        classes=tuple(str(i) for i in range(7)), parameters=("a", "b"), seed=1, config={}, classifier="c",
        identity="id0000",
    )  # fmt: skip
    write_records_surfaces(path, record)
    return data


def config(**statistics):
    schema = load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")
    raw = {"seed": 1, "identities": {"count": 2}, "grid": {"symmetry_steps": 5}, "statistics": statistics}
    return validate_config(raw, schema)


@pytest.mark.parametrize("output, dataset", [("probability", "softmax"), ("logit", "logits")])
def test_statistics_output_chooses_what_the_score_uses(tmp_path, output, dataset):
    data = write_surfaces(tmp_path / "surfaces.h5", with_logits=True)
    permutations_job(
        surfaces_file=tmp_path / "surfaces.h5", expected=SLOT, config=config(output=output), output=tmp_path / "p.h5"
    )
    result = read_h5(tmp_path / "p.h5", kind="permutations")
    own = np.stack([data[dataset][e, :, :, e] for e in range(6)])
    sham = np.stack([data[f"{dataset}_sham"][e, :, :, e] for e in range(6)])
    np.testing.assert_allclose(result.data["score"], impact_score(own))
    np.testing.assert_allclose(result.data["score_sham"], impact_score(sham))
    np.testing.assert_allclose(result.data["specific"], impact_score(own) - impact_score(sham))
    np.testing.assert_array_equal(result.data["pvalue"], result.data["pvalue_columns"])  # the default null
    assert result.data["null_joint"].shape == (6, 5 * 4 * 3 * 2)  # every relabelling of 5 levels, exact


def test_joint_null_drives_pvalue_when_chosen(tmp_path):
    write_surfaces(tmp_path / "surfaces.h5", with_logits=False)
    chosen = config(permutation_null="joint", delta=0.05)
    permutations_job(surfaces_file=tmp_path / "surfaces.h5", expected=SLOT, config=chosen, output=tmp_path / "p.h5")
    result = read_h5(tmp_path / "p.h5", kind="permutations")
    np.testing.assert_array_equal(result.data["pvalue"], result.data["pvalue_joint"])


def test_logit_output_without_logits_names_the_key(tmp_path):
    write_surfaces(tmp_path / "surfaces.h5", with_logits=False)
    with pytest.raises(ValueError, match=r"statistics\.output.*no logits, logits_sham.*output: probability"):
        permutations_job(
            surfaces_file=tmp_path / "surfaces.h5", expected=SLOT, config=config(output="logit"), output=tmp_path / "p"
        )


def test_a_surfaces_file_of_another_identity_stops_the_job_naming_it(tmp_path):
    write_surfaces(tmp_path / "surfaces.h5", with_logits=False)
    with pytest.raises(OSError, match=r"surfaces\.h5: its identity is 'id0000', but .* expects 'id0001'"):
        permutations_job(
            surfaces_file=tmp_path / "surfaces.h5", expected=Slot("c", "id0001"), config=config(),
            output=tmp_path / "p.h5",
        )  # fmt: skip
    assert not (tmp_path / "p.h5").exists()
