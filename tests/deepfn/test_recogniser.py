"""The LeNet-5 AU recogniser and the per-subject score."""

import numpy as np

from facesym.deepfn.protocol import subject_score
from facesym.deepfn.recogniser import LeNet5, f1_accuracy, predict, train_recogniser


def planted(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """AU k present <=> a bright square in the k-th quadrant: trivially separable."""
    labels = (rng.random((n, 3)) < 0.5).astype(np.uint8)
    images = np.full((n, 32, 32), 0.2, dtype=np.float32)
    corners = [(2, 2), (2, 18), (18, 2)]
    for k, (r, c) in enumerate(corners):
        images[labels[:, k] == 1, r:r + 12, c:c + 12] = 0.9
    return images, labels


def test_f1_and_accuracy_per_au():
    labels = np.array([[1, 0], [1, 0], [0, 0], [0, 1]])
    probabilities = np.array([[0.9, 0.1], [0.2, 0.1], [0.6, 0.2], [0.1, 0.4]])
    f1, accuracy = f1_accuracy(labels, probabilities)
    # AU 1: tp 1, fn 1, fp 1 -> F1 0.5, accuracy 2/4; AU 2: one positive never predicted -> F1 0, accuracy 3/4
    assert np.allclose(f1, [0.5, 0.0]) and np.allclose(accuracy, [0.5, 0.75])
    assert np.isclose(subject_score(labels, probabilities)["score"], np.mean([(0.5 + 0.5) / 2, (0 + 0.75) / 2]))


def test_recogniser_learns_a_planted_separable_case():
    rng = np.random.default_rng(0)
    train, validation, test = planted(256, rng), planted(64, rng), planted(128, rng)
    model, val_f1 = train_recogniser(train, validation, {"epochs": 6, "batch_size": 32, "learning_rate": 3e-3},
                                     seed=1)
    f1, accuracy = f1_accuracy(test[1], predict(model, test[0]))
    assert val_f1 > 0.95 and f1.min() > 0.95 and accuracy.min() > 0.95


def test_lenet_matches_the_paper_table_3_shapes():
    model = LeNet5(12, 64)
    assert model.net[7].in_features == 3136  # 14 x 14 x 16, as in DeepFN's Table 3
    assert predict(model, np.zeros((3, 64, 64))).shape == (3, 12)
