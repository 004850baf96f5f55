"""The readability check on planted classifiers with known answers, and the prototype PNG/CSV writer."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from facesym.classifiers.base import Classifier
from facesym.classifiers.entries import Preprocessing
from facesym.classifiers.readability import (
    LABELS,
    checks_table,
    heldout_identities,
    readability,
    render_prototypes,
    write_prototype_pngs,
)
from facesym.face import build_procedural_model
from facesym.identities import sample_identity

DIMS = {"shape_dim": 4, "appearance_dim": 2, "lighting_dim": 2}
SEVEN = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


@pytest.fixture(scope="module")
def prototypes():
    model = build_procedural_model(n_shape=4, n_appearance=2)
    people = heldout_identities(3, 2, DIMS)
    return render_prototypes(model, people, {"size": 48, "color": "gray", "backend": "numba"})


def _constant(label: str, classes=SEVEN) -> Classifier:
    """Always gives ``label`` the highest score, whatever the image."""
    index = classes.index(label)

    def forward(x: torch.Tensor) -> torch.Tensor:
        scores = torch.zeros(x.shape[0], len(classes))
        scores[:, index] = 5.0
        return scores

    return Classifier(f"always_{label}", classes, Preprocessing(16, "gray", (0.5,), (0.5,)), forward)


def test_heldout_identities_are_not_the_analysed_ones():
    people = heldout_identities(3, 2, DIMS)
    assert [p.name for p in people] == ["check0000", "check0001"]
    analysed = sample_identity(3, "id0000", 4, 2, 2)
    assert not np.allclose(people[0].beta, analysed.beta)
    assert np.array_equal(heldout_identities(3, 2, DIMS)[1].beta, people[1].beta)  # reproducible
    assert not np.array_equal(heldout_identities(4, 2, DIMS)[0].beta, people[0].beta)  # follows the config seed


def test_prototypes_cover_every_label_identity_and_symmetry(prototypes):
    assert prototypes.images.shape == (2 * 2 * 7, 1, 48, 48)
    assert prototypes.labels[:7] == LABELS
    assert prototypes.s.tolist() == [1.0] * 7 + [0.0] * 7 + [1.0] * 7 + [0.0] * 7
    assert set(prototypes.identities) == {"check0000", "check0001"}
    neutral = [i for i, label in enumerate(prototypes.labels) if label == "neutral"]
    # s does not change a face without expression; it does change the happy face
    assert torch.equal(prototypes.images[neutral[0]], prototypes.images[neutral[1]])
    assert not torch.equal(prototypes.images[3], prototypes.images[7 + 3])


def test_an_always_happy_classifier_is_at_chance(prototypes):
    result = readability(_constant("happy"), prototypes)
    assert result["labels"] == list(LABELS)
    assert result["predicted"] == SEVEN
    assert [check["s"] for check in result["checks"]] == [1.0, 0.0]
    for check in result["checks"]:
        assert check["accuracy"] == pytest.approx(1 / 7)
        assert check["accuracy_emotions"] == pytest.approx(1 / 6)
        confusion = np.array(check["confusion"])
        happy = SEVEN.index("happy")
        assert confusion[:, happy].tolist() == [2] * 7  # every face of both identities lands in the happy column
        assert confusion.sum() == confusion[:, happy].sum() == check["n_images"] == 14
        assert check["recall"] == {label: float(label == "happy") for label in LABELS}


def test_extra_classes_get_their_own_column_and_neutral_cannot_be_right_without_one(prototypes):
    classes = ["anger", "disgust", "fear", "happiness", "sadness", "surprise", "contempt"]
    result = readability(_constant("contempt", classes), prototypes)
    assert result["predicted"] == [*SEVEN, "contempt"]
    check = result["checks"][0]
    assert check["accuracy"] == 0.0
    assert np.array(check["confusion"])[:, -1].tolist() == [2] * 7
    assert check["mean_probability"]["neutral"] is None


def test_prototype_pngs_are_rgb_files_with_a_labels_csv(tmp_path):
    model = build_procedural_model(n_shape=4, n_appearance=2)
    people = heldout_identities(3, 1, DIMS)
    prototypes = render_prototypes(model, people, {"size": 112, "color": "rgb", "backend": "numba"})
    table = write_prototype_pngs(prototypes, tmp_path / "images", tmp_path / "labels.csv")
    written = pd.read_csv(tmp_path / "labels.csv")
    assert written.columns.tolist() == ["image", "label", "identity", "s"]
    assert len(written) == len(table) == 14
    assert written["label"].tolist() == [*LABELS, *LABELS]
    assert written["s"].tolist() == [1.0] * 7 + [0.0] * 7
    assert set(written["identity"]) == {"check0000"}
    for row in written.itertuples():
        with Image.open(tmp_path / row.image) as image:
            assert image.mode == "RGB" and image.size == (112, 112)
    with Image.open(tmp_path / written["image"][3]) as image:
        pixels = np.asarray(image)
    assert np.abs(pixels.astype(int) - (prototypes.images[3].permute(1, 2, 0).numpy() * 255)).max() <= 0.5 + 1e-3


def test_checks_table_has_one_row_per_classifier_and_symmetry(prototypes):
    result = readability(_constant("happy"), prototypes)
    check = {"classifier": "c", "group": "g", "kind": "python", "crop": None, "n_identities": 2, **result}
    table = checks_table([check])
    assert table["s"].tolist() == [1.0, 0.0]
    assert table["accuracy"].tolist() == pytest.approx([1 / 7, 1 / 7])
    assert table["recall_happy"].tolist() == [1.0, 1.0]
    assert not table["framed"].any()


def test_checks_table_refuses_a_check_in_another_classifiers_place(tmp_path):
    from facesym.io.records import ProvenanceError
    from facesym.pipeline.readability import checks_table_job

    entry = {"name": "a", "kind": "embedded", "architecture": "cnn"}
    check = tmp_path / "b_check.json"
    check.write_text(json.dumps({"classifier": "a", "entry": entry}))  # a's check copied over b's
    with pytest.raises(ProvenanceError, match=r"b_check\.json: its 'classifier' is 'a' but .* expects 'b'"):
        checks_table_job(checks=[check], entries=[{**entry, "name": "b"}], output=tmp_path / "table.csv")
    with pytest.raises(ProvenanceError, match="its 'entry' is"):  # a's check from an entry since changed
        checks_table_job(checks=[check], entries=[{**entry, "architecture": "resnet"}], output=tmp_path / "t.csv")
    assert not list(tmp_path.glob("t*.csv"))
