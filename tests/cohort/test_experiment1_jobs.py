"""Experiment 1's jobs on a user-supplied folder of images with a TorchScript classifier: no rendering, no training.

The images carry a planted effect: patients' right image half is darker, and the classifier's *happy* logit reads
the right half's brightness, so palsy (and the measured symmetry) must be found dependent on the happy output
given the label, and a random property must not.
"""

import json

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from PIL import Image

from facesym.cohort import ManifestError, load_manifest, spec_path
from facesym.cohort.checks import check_cohort_config
from facesym.cohort.images import read_image
from facesym.cohort.tables import DEPENDENT, INDEPENDENT
from facesym.config import ConfigError, load_schema, validate_config
from facesym.emotions import EMOTIONS
from facesym.io.records import ProvenanceError
from facesym.pipeline.experiment1 import (
    accuracy_job,
    align_faces_job,
    calibration_table_job,
    ci_calibration_job,
    ci_tests_job,
    classify_cohort_job,
    cohort_properties_job,
    table1_job,
)

FER = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
SIZE = 16
# What the workflow passes each job (rules/experiment1.smk: table_slot); the digests here are arbitrary labels.
PREDICTED = {"classifier": "planted", "config_digest": "pred0"}
TESTED = {"classifier": "planted", "config_digest": "test0"}
CALIBRATED = {"classifier": "planted", "config_digest": "cal0"}
# Writing TorchScript is deprecated in torch ≥ 2.9; users still have such files.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.*` is deprecated:DeprecationWarning")


class RightHalfHappy(torch.nn.Module):
    """Seven logits: *happy* grows with the brightness of the image's right half, the others are zero."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        happy = 4.0 * x[:, :, :, SIZE // 2 :].mean(dim=(1, 2, 3))
        return torch.nn.functional.pad(happy[:, None], (3, 3))


def write_user_cohort(folder, rng, subjects=12, repetitions=2):
    """PNG faces-to-be of 16×16 px (one RGB image of another size) and a manifest with three properties."""
    rows = []
    for index in range(subjects):
        subject, palsy = f"s{index:02d}", index % 2
        for repetition in range(repetitions):
            for emotion in EMOTIONS:
                level = rng.uniform(0.4, 0.6)
                pixels = np.clip(level + 0.05 * rng.standard_normal((SIZE, SIZE)), 0, 1)
                pixels = (pixels + pixels[:, ::-1]) / 2  # mirror-symmetric face…
                if palsy:
                    pixels[:, SIZE // 2 :] -= rng.uniform(0.15, 0.25)  # …with a weaker right half
                name = f"images/{subject}_{emotion}_{repetition}.png"
                (folder / name).parent.mkdir(exist_ok=True)
                Image.fromarray(np.round(np.clip(pixels, 0, 1) * 255).astype(np.uint8)).save(folder / name)
                rows.append([name, subject, emotion, "patient" if palsy else "proband", palsy, rng.normal(42, 2)])
    # A colour photograph of another size: read as RGB, batched on its own, converted by the classifier.
    Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(folder / "images" / "photo.png")
    rows.append(["images/photo.png", "s00", "happy", "proband", 0, 40.0])
    table = pd.DataFrame(rows, columns=["image", "subject", "label", "group", "palsy", "shoe_size"])
    table.to_csv(folder / "cohort.csv", index=False)
    spec = {"properties": {"palsy": {"type": "binary", "description": "facial palsy"}, "shoe_size": "continuous"}}
    spec_path(folder / "cohort.csv").write_text(yaml.safe_dump(spec))
    return folder / "cohort.csv"


def make_config(repo, folder, **experiment):
    module = torch.jit.trace(RightHalfHappy().eval(), torch.rand(2, 1, SIZE, SIZE))
    torch.jit.save(module, folder / "model.pt")
    raw = {
        "seed": 3,
        "device": "cpu",
        "classifiers": [
            {
                "name": "planted",
                "kind": "torchscript",
                "path": str(folder / "model.pt"),
                "classes": FER,
                "input_size": SIZE,
                "color": "gray",
                "mean": [0.5],
                "std": [0.25],
                "group": "user models",
            }
        ],
        # The planted images are patterns, not photographs of faces: they are the aligned crops already.
        "experiment1": {
            "cohort": str(folder / "cohort.csv"),
            "calibration_shuffles": 8,
            "faces": "given",
            **experiment,
        },
    }
    return validate_config(raw, load_schema(repo / "workflow" / "schemas" / "config.schema.yaml"))


@pytest.fixture(scope="module")
def analysed(tmp_path_factory, repo):
    """The user cohort through properties, classification and the CI tests."""
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("user")
    write_user_cohort(folder, np.random.default_rng(0))
    config = make_config(repo, folder)
    assert check_cohort_config(config, folder) is not None
    out = folder / "results"
    align_faces_job(
        manifest=folder / "cohort.csv",
        config=config,
        aligned=out / "cohort" / "aligned.csv",
        faces=out / "cohort" / "faces.csv",
        qc=out / "cohort" / "face_qc.csv",
        crops=out / "cohort" / "faces",
    )
    cohort_properties_job(manifest=out / "cohort" / "aligned.csv", config=config, output=out / "cohort" / "cohort.csv")
    classify_cohort_job(
        cohort=out / "cohort" / "cohort.csv",
        classifier_entry=config["classifiers"][0],
        weights=None,
        config=config,
        output=out / "experiment1" / "planted.csv",
        slot=PREDICTED,
    )
    ci_tests_job(
        predictions=out / "experiment1" / "planted.csv",
        expected=PREDICTED,
        cohort=out / "cohort" / "cohort.csv",
        qc=out / "cohort" / "face_qc.csv",
        config=config,
        output=out / "ci" / "planted.csv",
        slot=TESTED,
    )
    return folder, config


def test_measured_symmetry_joins_the_users_properties(analysed):
    folder, _ = analysed
    cohort = load_manifest(folder / "results" / "cohort" / "cohort.csv")
    assert cohort.property_types == {"palsy": "binary", "shoe_size": "continuous", "symmetry": "continuous"}
    assert "SSIM" in cohort.properties["symmetry"].description
    assert cohort.synthetic is False
    table = cohort.table.iloc[:-1]  # without the random photograph
    assert table.loc[table["palsy"] == 0, "symmetry"].min() > 0.99  # mirror-symmetric images
    assert table.loc[table["palsy"] == 1, "symmetry"].max() < 0.97
    # the analysed cohort points at the user's images, wherever they are
    assert cohort.table["image"].tolist() == load_manifest(folder / "cohort.csv").table["image"].tolist()


def test_classifier_outputs_per_image_are_the_models(analysed):
    folder, _ = analysed
    predictions = pd.read_csv(folder / "results" / "experiment1" / "planted.csv")
    assert list(predictions.columns[:4]) == ["cohort", "classifier", "training_set", "image"]
    assert list(predictions.columns[-2:]) == ["config_digest", "facesym_version"]
    assert (predictions["config_digest"] == "pred0").all()
    assert (predictions["cohort"] == "real").all() and (predictions["training_set"] == "user models").all()
    assert len(predictions) == 12 * 2 * 6 + 1
    model = RightHalfHappy()
    for row in predictions.iloc[[0, 7, 30, 100]].itertuples():
        image = torch.from_numpy(read_image(folder / row.image))[None]
        expected = model((image - 0.5) / 0.25).softmax(dim=1)[0]
        for emotion in EMOTIONS:
            assert getattr(row, f"p_{emotion}") == pytest.approx(float(expected[FER.index(emotion)]), abs=1e-6)
        assert row.predicted == FER[int(expected.argmax())]
        assert row.correct == int(row.predicted == row.label)
    photo = predictions.iloc[-1]
    assert photo["image"].endswith("photo.png") and 0 < photo["p_happy"] < 1


def units(folder) -> int:
    """(subject, label) pairs of the analysed cohort: the samples of the tests at the default unit."""
    return pd.read_csv(folder / "results" / "experiment1" / "planted.csv").groupby(["subject", "label"]).ngroups


def test_planted_effect_found_and_random_property_not(analysed):
    folder, config = analysed
    tests = pd.read_csv(folder / "results" / "ci" / "planted.csv", keep_default_na=False)
    assert set(tests["property"]) == {"palsy", "shoe_size", "symmetry"}
    listed = tests.groupby("property")["test"].apply(list).to_dict()
    # palsy, one value per subject, also gets the test whose null permutes subjects (outside the vote)
    assert listed == {
        "palsy": ["kci", "cmiknn", "fcit", "subject permutation", "majority"],
        "shoe_size": ["kci", "cmiknn", "fcit", "majority"],
        "symmetry": ["kci", "cmiknn", "fcit", "majority"],
    }
    votes = tests[tests["test"] == "majority"].set_index("property")["decision"]
    assert votes.to_dict() == {"palsy": DEPENDENT, "shoe_size": INDEPENDENT, "symmetry": DEPENDENT}
    kci = tests[(tests["test"] == "kci") & (tests["property"] == "palsy")].iloc[0]
    # the default unit: one mean per subject and label (145 images of 73 such pairs)
    assert (tests["unit"] == "subject").all()
    assert kci["n"] == units(folder) and float(kci["p_value"]) < 0.01
    assert json.loads(kci["settings"])["n_perm"] == config["experiment1"]["permutations"]
    assert (tests["output"] == "p_happy").all() and (tests["condition"] == "label").all()


def test_calibration_counts_shuffled_false_positives(analysed, tmp_path):
    folder, config = analysed
    out = folder / "results"
    ci_calibration_job(
        predictions=out / "experiment1" / "planted.csv",
        expected=PREDICTED,
        cohort=out / "cohort" / "cohort.csv",
        config=config,
        output=tmp_path / "calibration" / "planted.csv",
        slot=CALIBRATED,
    )
    calibration_table_job(files=[tmp_path / "calibration" / "planted.csv"], expected=[CALIBRATED],
                          output=tmp_path / "calibration.csv")
    table = pd.read_csv(tmp_path / "calibration.csv")
    nulls = table.groupby("property")["null"].unique().map(sorted).to_dict()
    # palsy, constant within subjects, gets the subject placebo too; the image-level properties only the shuffle
    assert nulls == {
        "palsy": ["subject placebo", "within-label shuffle"],
        "shoe_size": ["within-label shuffle"],
        "symmetry": ["within-label shuffle"],
    }
    assert len(table) == 4 * 4 + 1  # the subject placebo also reports the subject permutation test
    assert "subject permutation" in set(table.loc[table["null"] == "subject placebo", "test"])
    assert (table["n_shuffles"] == 8).all() and (table["n"] == units(folder)).all()
    assert (table["false_positive_rate"] == table["false_positives"] / 8).all()
    assert (table["ci_low"] <= table["false_positive_rate"]).all()
    # with the effect shuffled away, at most the binomial limit of 8 level-0.01 tests (here: none) may reject
    assert table.loc[table["null"] == "within-label shuffle", "within_nominal"].all()
    assert (table["cohort"] == "real").all()


def test_accuracy_per_group_counts_correct_predictions(analysed, tmp_path):
    folder, _ = analysed
    predictions = folder / "results" / "experiment1" / "planted.csv"
    accuracy_job(
        predictions=[predictions], expected=[PREDICTED], qc=folder / "results" / "cohort" / "face_qc.csv",
        output=tmp_path / "accuracy.csv",
    )
    table = pd.read_csv(tmp_path / "accuracy.csv").set_index(["classifier", "group"])
    expected = pd.read_csv(predictions).groupby("group")["correct"].agg(["sum", "count"])
    for group in ("proband", "patient"):
        row = table.loc[("planted", group)]
        assert (row["n_correct"], row["n_images"]) == tuple(expected.loc[group])
        assert row["accuracy"] == pytest.approx(expected.loc[group, "sum"] / expected.loc[group, "count"], abs=1e-6)
        assert row["ci_low"] <= row["accuracy"] <= row["ci_high"]
        assert table.loc[("all", group), "n_images"] == row["n_images"]


def test_table1_groups_classifiers_by_training_set(tmp_path):
    files = []
    for name, training_set, decisions in (
        ("a", "FER-like", ("✓", "✗")),
        ("b", "augmented", ("✓", "✓")),
        ("c", "FER-like", ("✗", "✓")),
    ):
        rows = [
            {"cohort": "synthetic", "classifier": name, "training_set": training_set, "property": prop,
             "test": test, "decision": decision if test == "majority" else "", "n_images": 20, "n_excluded": 4,
             "config_digest": "d", "facesym_version": "0"}
            for prop, decision in zip(("palsy", "symmetry"), decisions, strict=True)
            for test in ("kci", "majority")
        ]  # fmt: skip
        files.append(tmp_path / f"{name}.csv")
        pd.DataFrame(rows).to_csv(files[-1], index=False)
    table1_job(ci_files=files, expected=[{"classifier": c, "config_digest": "d"} for c in "abc"],
               output=tmp_path / "table1.csv")
    lines = (tmp_path / "table1.csv").read_text(encoding="utf-8").splitlines()
    assert lines == [
        "classifier,a,c,b",
        "training set,FER-like,FER-like,augmented",
        "cohort,synthetic,synthetic,synthetic",
        "face QC excluded,4 of 24,4 of 24,4 of 24",
        "palsy,✓,✗,✓",
        "symmetry,✗,✓,✓",
    ]


def test_a_table_in_another_classifiers_place_is_refused(analysed, tmp_path):
    """A valid predictions or tests file copied over another classifier's stops every job that reads it."""
    folder, config = analysed
    out = folder / "results"
    qc = out / "cohort" / "face_qc.csv"
    other = tmp_path / "experiment1" / "other.csv"
    other.parent.mkdir()
    other.write_bytes((out / "experiment1" / "planted.csv").read_bytes())  # planted's file in other's place
    other_slot = {"classifier": "other", "config_digest": "pred0"}
    with pytest.raises(ProvenanceError, match=r"other\.csv: classifier is 'planted' but .* expects 'other'"):
        accuracy_job(predictions=[out / "experiment1" / "planted.csv", other], expected=[PREDICTED, other_slot],
                     qc=qc, output=tmp_path / "accuracy.csv")
    with pytest.raises(ProvenanceError, match="classifier is 'planted'"):
        ci_tests_job(predictions=other, expected=other_slot, cohort=out / "cohort" / "cohort.csv", qc=qc,
                     config=config, output=tmp_path / "ci.csv", slot={**TESTED, "classifier": "other"})
    # the same classifier's file from another config
    with pytest.raises(ProvenanceError, match="config_digest is 'pred0' but .* expects 'pred1'.*delete the file"):
        accuracy_job(predictions=[out / "experiment1" / "planted.csv"],
                     expected=[{**PREDICTED, "config_digest": "pred1"}], qc=qc, output=tmp_path / "accuracy.csv")
    with pytest.raises(ProvenanceError, match="tests.csv: classifier is 'planted' but .* expects 'b'"):
        tests = tmp_path / "tests.csv"
        tests.write_bytes((out / "ci" / "planted.csv").read_bytes())
        table1_job(ci_files=[out / "ci" / "planted.csv", tests], expected=[TESTED, {**TESTED, "classifier": "b"}],
                   output=tmp_path / "table1.csv")
    assert not (tmp_path / "accuracy.csv").exists() and not (tmp_path / "table1.csv").exists()


def test_bad_manifest_stops_with_every_row_named(tmp_path, repo):
    csv = write_user_cohort(tmp_path, np.random.default_rng(1), subjects=2, repetitions=1)
    lines = csv.read_text().splitlines()
    lines[1] = lines[1].replace("images/", "missing/")
    lines[3] = lines[3].replace(",fear,", ",joy,")
    csv.write_text("\n".join(lines) + "\n")
    with pytest.raises(ManifestError) as error:
        check_cohort_config(make_config(repo, tmp_path), tmp_path)
    message = str(error.value)
    assert "line 2: image 'missing/" in message and "line 4: label 'joy'" in message


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("palsy", 0, "property 'palsy' has the same value in every row"),
        ("symmetry", 0.5, "property 'symmetry' is measured from the images by the pipeline"),
        ("correct", 1.0, "property 'correct' is a column the pipeline writes"),
    ],
)
def test_cohort_experiment1_cannot_use_is_refused(tmp_path, repo, column, value, expected):
    csv = write_user_cohort(tmp_path, np.random.default_rng(2), subjects=2, repetitions=1)
    table = pd.read_csv(csv)
    table[column] = value
    table.to_csv(csv, index=False)
    spec = yaml.safe_load(spec_path(csv).read_text())
    spec["properties"].setdefault(column, "continuous")
    spec_path(csv).write_text(yaml.safe_dump(spec))
    with pytest.raises(ManifestError, match=expected):
        check_cohort_config(make_config(repo, tmp_path), tmp_path)


def test_config_problems_name_their_keys(tmp_path, repo):
    write_user_cohort(tmp_path, np.random.default_rng(3), subjects=2, repetitions=1)
    config = make_config(repo, tmp_path, permutations=50, lpips_weights="nowhere/alex.pth")
    with pytest.raises(ConfigError) as error:
        check_cohort_config(config, tmp_path)
    message = str(error.value)
    assert "'experiment1.permutations'" in message and "'experiment1.lpips_weights'" in message
    synthetic_on_flame = {**config, "face_model": {"kind": "flame", "path": "x.pkl", "left_side": "+x"}}
    synthetic_on_flame["experiment1"] = {**config["experiment1"], "cohort": None, "permutations": 199}
    synthetic_on_flame["experiment1"]["lpips_weights"] = None
    with pytest.raises(ConfigError, match="procedural face model"):
        check_cohort_config(synthetic_on_flame, tmp_path)
