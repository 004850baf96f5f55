from pathlib import Path

import pytest
import torch

from facesym.classifiers import EMBEDDED_CLASSES, ClassifierConfigError, check_entry, load_classifier
from facesym.classifiers.embedded import save_embedded, train_embedded
from facesym.classifiers.training import TrainingSettings

ENTRY = {"name": "tiny_cnn", "kind": "embedded", "architecture": "cnn", "width": 4, "depth": 1, "input_size": 16}


def _data(n: int = 28) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(n) % len(EMBEDDED_CLASSES)
    images = (labels.view(-1, 1, 1, 1) / 7 + 0.05 * torch.randn(n, 1, 24, 24, generator=g)).clamp(0, 1)
    return images, labels


def test_trained_network_round_trips_through_its_file(tmp_path):
    images, labels = _data()
    network, result = train_embedded(ENTRY, images, labels, TrainingSettings(epochs=1, batch_size=8), seed=1)
    assert len(result.losses) == 1 and result.seconds > 0
    save_embedded(tmp_path / "tiny_cnn.pt", ENTRY, network)
    classifier = load_classifier(ENTRY, weights=tmp_path / "tiny_cnn.pt")
    assert classifier.classes == EMBEDDED_CLASSES
    assert classifier.emotion_indices == (0, 1, 2, 3, 5, 6)
    assert (classifier.input_size, classifier.color) == (16, "gray")
    with torch.no_grad():
        expected = network(
            (torch.nn.functional.interpolate(images, size=16, antialias=True, mode="bilinear") - 0.5) / 0.5
        ).softmax(1)
    torch.testing.assert_close(classifier(images), expected)
    saved = tmp_path / "weights" / "tiny_cnn.pt"
    saved.parent.mkdir(parents=True)
    save_embedded(saved, ENTRY, network)
    loaded = load_classifier(ENTRY, weights="weights/tiny_cnn.pt", base_dir=tmp_path)
    torch.testing.assert_close(loaded(images), expected)
    with pytest.raises(ClassifierConfigError, match="tiny_cnn.*weights"):
        load_classifier(ENTRY, base_dir=tmp_path)


def test_same_seed_same_network():
    images, labels = _data()
    settings = TrainingSettings(epochs=2, batch_size=8)
    a, result_a = train_embedded(ENTRY, images, labels, settings, seed=5)
    b, result_b = train_embedded(ENTRY, images, labels, settings, seed=5)
    assert result_a.losses == result_b.losses
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def test_weights_trained_for_other_settings_are_refused(tmp_path):
    images, labels = _data()
    network, _ = train_embedded(ENTRY, images, labels, TrainingSettings(epochs=1, batch_size=8), seed=1)
    save_embedded(tmp_path / "w.pt", ENTRY, network)
    with pytest.raises(ClassifierConfigError, match=r"entry 'tiny_cnn'.*width: trained 4, config 8"):
        load_classifier({**ENTRY, "width": 8}, weights=tmp_path / "w.pt")
    with pytest.raises(ClassifierConfigError, match="entry 'tiny_cnn': trained weights .* do not exist"):
        load_classifier(ENTRY, weights=tmp_path / "absent.pt")


def test_embedded_entries_are_checked():
    check_entry(ENTRY)
    with pytest.raises(ClassifierConfigError, match=r"entry 'x': 'architecture' must be one of \['cnn'"):
        check_entry({"name": "x", "kind": "embedded", "architecture": "vgg"})
    with pytest.raises(ClassifierConfigError, match="entry 'x': 'input_size' .* at least 16 pixels"):
        check_entry({"name": "x", "kind": "embedded", "architecture": "cnn", "input_size": 8})


def test_truncated_weights_name_the_file_and_the_command_that_rebuilds_them(tmp_path, monkeypatch):
    images, labels = _data()
    network, _ = train_embedded(ENTRY, images, labels, TrainingSettings(epochs=1, batch_size=8), seed=1)
    monkeypatch.chdir(tmp_path)
    weights = "results/classifiers/tiny_cnn.pt"
    Path(weights).parent.mkdir(parents=True)
    save_embedded(weights, ENTRY, network)
    Path(weights).write_bytes(Path(weights).read_bytes()[:1000])
    with pytest.raises(ClassifierConfigError) as error:
        load_classifier(ENTRY, weights=weights)
    assert f"entry 'tiny_cnn': trained weights '{weights}' cannot be read" in str(error.value)
    assert f"rm {weights} && snakemake --cores 1 {weights}" in str(error.value)
