"""Result records check that a file belongs where it sits: a valid file copied over another slot stops the job."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from facesym.config import load_schema, validate_config
from facesym.emotions import EMOTIONS
from facesym.io.records import (
    Expressions,
    ProvenanceError,
    Slot,
    Surfaces,
    config_digest,
    provenance_config,
    read_expressions,
    read_surfaces,
    write_expressions,
    write_surfaces,
)
from facesym.pipeline.statistics import aggregate_scores_job, permutations_job

REPO = Path(__file__).resolve().parents[2]
CLASSIFIERS = ("cnn_a", "cnn_b")
IDENTITIES = ("id0000", "id0001", "id0002")
KINDS = ("permutations", "expressions", "surfaces")


def _config():
    schema = load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")
    raw = {"seed": 2, "identities": {"count": 3}, "grid": {"symmetry_steps": 4, "time_steps": 3},
           "statistics": {"permutations": 299, "bootstrap": 20, "population_resamples": 99}}  # fmt: skip
    return validate_config(raw, schema)


def _records(classifier: str, identity: str, rng: np.random.Generator) -> tuple[Expressions, Surfaces]:
    s, t = np.linspace(0, 1, 4), np.linspace(0, 1, 3)
    logits = rng.normal(size=(len(EMOTIONS), 4, 3, 7)) + 1.5 * s[None, :, None, None] * np.eye(7)[:6, None, None]
    softmax = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    phi = rng.normal(size=(len(EMOTIONS), 2))
    common = {"seed": 1, "config": {"made": "for this test"}, "classifier": classifier, "identity": identity}
    expressions = Expressions(
        phi=phi, reached=rng.uniform(0.5, 1, len(EMOTIONS)), history=rng.uniform(size=(len(EMOTIONS), 2)),
        n_evaluations=np.full(len(EMOTIONS), 12), parameters=("au1_left", "au1_right"), **common,
    )  # fmt: skip
    surfaces = Surfaces(
        softmax=softmax, softmax_sham=softmax[:, ::-1], logits=None, logits_sham=None,
        target_class=np.arange(len(EMOTIONS)), phi=phi, s=s, t=t, classes=tuple(f"k{i}" for i in range(7)),
        parameters=("au1_left", "au1_right"), **common,
    )  # fmt: skip
    return expressions, surfaces


@pytest.fixture
def run(tmp_path):
    """Per-job files of 2 classifiers × 3 identities, and the arguments of the aggregation job over them."""
    config = _config()
    rng = np.random.default_rng(0)
    path = {kind: {} for kind in KINDS}
    for classifier in CLASSIFIERS:
        for identity in IDENTITIES:
            expressions, surfaces = _records(classifier, identity, rng)
            for kind, record, writer in (("expressions", expressions, write_expressions),
                                         ("surfaces", surfaces, write_surfaces)):  # fmt: skip
                path[kind][classifier, identity] = tmp_path / kind / classifier / f"{identity}.h5"
                writer(path[kind][classifier, identity], record)
            path["permutations"][classifier, identity] = tmp_path / "permutations" / classifier / f"{identity}.h5"
            permutations_job(
                surfaces_file=path["surfaces"][classifier, identity], expected=Slot(classifier, identity),
                config=config, output=path["permutations"][classifier, identity],
            )  # fmt: skip
    checks = tmp_path / "checks.csv"
    pd.DataFrame({"classifier": CLASSIFIERS, "s": 1.0, "accuracy": 0.5}).to_csv(checks, index=False)
    keys = [(c, i) for c in CLASSIFIERS for i in IDENTITIES]
    names = ("table2", "table2_tex", "table2_specific", "table_s1", "summary", "scores")
    arguments = {
        "permutation_files": [path["permutations"][k] for k in keys],
        "expression_files": [path["expressions"][k] for k in keys],
        "surface_files": [path["surfaces"][k] for k in keys],
        "checks_file": checks,
        "groups": {c: "g" for c in CLASSIFIERS},
        "config": config,
        "outputs": {name: tmp_path / "tables" / f"{name}.csv" for name in names},
        "expected": {kind: [Slot(*k) for k in keys] for kind in KINDS},
    }
    return path, arguments


def test_the_aggregation_reads_files_in_their_own_slots(run):
    _, arguments = run
    aggregate_scores_job(**arguments)
    scores = pd.read_csv(arguments["outputs"]["scores"])
    assert sorted(set(zip(scores["classifier"], scores["identity"], strict=True))) == [
        (c, i) for c in CLASSIFIERS for i in IDENTITIES
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_another_identitys_file_stops_the_aggregation_naming_it(run, kind):
    path, arguments = run
    copied = path[kind]["cnn_a", "id0002"]
    shutil.copyfile(path[kind]["cnn_a", "id0000"], copied)  # valid, but id0000's: id0000 would count twice
    with pytest.raises(ProvenanceError) as error:
        aggregate_scores_job(**arguments)
    message = str(error.value)
    assert str(copied) in message and "identity is 'id0000'" in message and "expects 'id0002'" in message
    assert "Delete it and run the same snakemake command again" in message
    assert not arguments["outputs"]["table2"].exists()


@pytest.mark.parametrize("kind", KINDS)
def test_another_classifiers_file_stops_the_aggregation_naming_it(run, kind):
    path, arguments = run
    copied = path[kind]["cnn_a", "id0001"]
    shutil.copyfile(path[kind]["cnn_b", "id0001"], copied)  # valid, but cnn_b's: cnn_a's row would be wrong
    with pytest.raises(ProvenanceError) as error:
        aggregate_scores_job(**arguments)
    message = str(error.value)
    assert str(copied) in message and "classifier is 'cnn_b'" in message and "expects 'cnn_a'" in message
    assert not arguments["outputs"]["table2"].exists()


def test_a_file_made_with_another_config_is_refused_with_both_digests(tmp_path):
    expressions, _ = _records("cnn", "id0000", np.random.default_rng(1))
    write_expressions(tmp_path / "e.h5", expressions)
    made = config_digest(expressions.config)
    assert read_expressions(tmp_path / "e.h5", Slot("cnn", "id0000", made)).phi.shape == (len(EMOTIONS), 2)
    other = config_digest({"made": "with another config"})
    with pytest.raises(ProvenanceError, match=rf"e\.h5: its config_digest is '{made}', but .* expects '{other}'"):
        read_expressions(tmp_path / "e.h5", Slot("cnn", "id0000", other))


def test_records_round_trip_and_pick_each_emotions_own_class(tmp_path):
    _, surfaces = _records("cnn", "id0000", np.random.default_rng(2))
    write_surfaces(tmp_path / "s.h5", surfaces)
    read = read_surfaces(tmp_path / "s.h5", {"classifier": "cnn", "identity": "id0000"})
    np.testing.assert_array_equal(read.softmax, surfaces.softmax)
    assert read.logits is None and read.classes == surfaces.classes
    target = read.target("softmax_sham")
    for e in range(len(EMOTIONS)):
        np.testing.assert_array_equal(target[e], surfaces.softmax_sham[e, :, :, e])


def test_the_digest_covers_exactly_the_stored_config():
    config = {"seed": 1, "device": "cpu", "grid": {"symmetry_steps": 3}, "render": {"size": 48}}
    stored = provenance_config(config, ("grid",), {"name": "cnn"})
    assert stored == {"seed": 1, "grid": {"symmetry_steps": 3}, "classifier": {"name": "cnn"}}
    same = provenance_config({**config, "device": "cuda", "render": {"size": 96}}, ("grid",), {"name": "cnn"})
    assert config_digest(stored) == config_digest(same)  # the device and unlisted sections do not count
    assert config_digest(stored) != config_digest({**stored, "seed": 2})
