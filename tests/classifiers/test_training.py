import torch

from facesym.classifiers.base import Preprocess
from facesym.classifiers.entries import Preprocessing
from facesym.classifiers.training import TrainingSettings, evaluate, seeded, train_network

CLASSES = ("dark", "left", "right")


def _blobs(n_per_class: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Three trivially separable classes of noisy 16×16 images."""
    g = torch.Generator().manual_seed(seed)
    images = 0.5 + 0.1 * torch.randn(3 * n_per_class, 1, 16, 16, generator=g)
    labels = torch.arange(3).repeat_interleave(n_per_class)
    images[labels == 0] -= 0.3
    images[labels == 1, :, :, :8] += 0.3
    images[labels == 2, :, :, 8:] += 0.3
    return images.clamp(0, 1), labels


def _train(seed: int):
    from facesym.classifiers.architectures import build_network

    images, labels = _blobs(32, seed=1)
    with seeded(seed):
        net = build_network("cnn", 1, 3, width=4, depth=1)
    preprocess = Preprocess(Preprocessing(16, "gray", (0.5,), (0.5,)))
    result = train_network(
        net, preprocess, images, labels, TrainingSettings(epochs=6, batch_size=16, learning_rate=0.01), seed
    )
    test_images, test_labels = _blobs(10, seed=2)
    metrics = evaluate(lambda x: net(preprocess(x)).softmax(1).detach(), test_images, test_labels, CLASSES)
    return net, result, metrics


def test_training_learns_and_is_deterministic():
    net_a, result_a, metrics_a = _train(seed=7)
    net_b, result_b, metrics_b = _train(seed=7)
    assert result_a.losses == result_b.losses
    assert metrics_a == metrics_b
    for (name, a), b in zip(net_a.state_dict().items(), net_b.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert result_a.losses[-1] < result_a.losses[0]
    assert metrics_a["accuracy"] > 0.9
    _, result_c, _ = _train(seed=8)
    assert result_c.losses != result_a.losses


def test_evaluate_counts_a_confusion_matrix():
    scores = torch.tensor([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.0, 0.0, 1.0]])
    labels = torch.tensor([0, 1, 2, 2])
    metrics = evaluate(lambda x: scores, torch.zeros(4, 1, 2, 2), labels, CLASSES)
    assert metrics["confusion"] == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]
    assert metrics["accuracy"] == 0.75
    assert metrics["per_class"] == {"dark": 1.0, "left": 1.0, "right": 0.5}
    assert abs(metrics["mean_true_probability"] - (0.9 + 0.7 + 0.1 + 1.0) / 4) < 1e-6
    assert metrics["n"] == 4
