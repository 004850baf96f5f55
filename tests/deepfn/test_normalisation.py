"""DeepFN's pre-processing and autoencoder."""

import numpy as np
import pytest
import torch

from facesym.deepfn.normalisation import TEMPLATE, augment, equalise, expression_correlation, train_autoencoder

SETTINGS = {"iterations": 120, "batch_size": 8, "width": 4, "latent": 16, "learning_rate": 3e-3,
            "augmentation": {"rotation": 0.0, "scale": 0.0, "shift": 0.0, "warp": 0.0}}


def test_equalisation_removes_skin_tone_and_keeps_the_background():
    rng = np.random.default_rng(0)
    face = np.zeros((1, 16, 16))
    face[0, 4:12, 4:12] = rng.uniform(0.2, 0.6, (8, 8))
    darker = face * 0.5  # the same face with darker skin / dimmer light: a monotone change of the gray levels
    a, b = equalise(face), equalise(darker)
    assert np.allclose(a, b)
    assert np.all(a[0][face[0] == 0] == 0)
    assert np.isclose(a.max(), 1.0) and abs(a[0][face[0] > 0].mean() - 0.5) < 0.02


def test_augmentation_is_identity_when_switched_off_and_moves_pixels_otherwise():
    images = torch.rand(4, 1, 32, 32)
    generator = torch.Generator().manual_seed(0)
    assert torch.allclose(augment(images, generator, SETTINGS["augmentation"]), images, atol=1e-5)
    moved = augment(images, generator, {"rotation": 10.0, "scale": 0.1, "shift": 0.1, "warp": 0.05})
    assert moved.shape == images.shape and (moved - images).abs().mean() > 0.05


def blobs(n: int, rng: np.random.Generator, brightness: float) -> np.ndarray:
    """Images of one 'appearance': a disc whose position is the shared 'expression'."""
    yy, xx = np.mgrid[0:32, 0:32]
    centres = rng.uniform(10, 22, (n, 2))
    return np.stack([brightness * ((yy - cy) ** 2 + (xx - cx) ** 2 < 30) for cy, cx in centres]).astype(np.float32)


def test_both_decoders_reconstruct_their_appearance():
    rng = np.random.default_rng(1)
    subject, template = blobs(64, rng, 0.5), blobs(64, rng, 1.0)
    result = train_autoencoder([subject], template, SETTINGS, seed=3)
    baseline = lambda x: np.sqrt(np.mean((x - x.mean(axis=0)) ** 2))  # noqa: E731 (predicting the mean image)
    for images, decoder in ((subject, "0"), (template, TEMPLATE)):
        rmse = np.sqrt(np.mean((result.transfer(images, decoder) - images) ** 2))
        assert rmse < 0.6 * baseline(images)
    assert result.loss.shape == (120, 2) and result.loss[-10:].mean() < result.loss[:10].mean()


def test_supervised_variant_maps_subject_images_onto_their_pairs():
    rng = np.random.default_rng(2)
    subject = blobs(64, rng, 0.5)
    pairs = subject * 2.0  # the template performing the same 'expression'
    result = train_autoencoder([subject], pairs, SETTINGS, seed=4, pairs=[pairs])
    rmse = np.sqrt(np.mean((result.transfer(subject) - pairs) ** 2))
    assert rmse < 0.6 * np.sqrt(np.mean((pairs - pairs.mean(axis=0)) ** 2))


def faint_spots(face: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """A fixed 'face' with a faint dark spot at each centre (the 'expression'): the renders' case, where the
    expression is a small deviation from a large fixed image."""
    yy, xx = np.mgrid[0:32, 0:32]
    return np.stack([face - 0.25 * ((yy - cy) ** 2 + (xx - cx) ** 2 < 9) for cy, cx in centres]).astype(np.float32)


def test_a_small_expression_on_a_large_fixed_face_is_transferred_not_averaged_away():
    # issue 19: the autoencoder returned one mean face for every input (expression lost), because the expression
    # is a small deviation from it; the supervised transfer must follow the input's expression.
    yy, xx = np.mgrid[0:32, 0:32]
    face = 0.6 + 0.3 * np.sin(xx / 3.0) * np.cos(yy / 4.0)
    centres = np.random.default_rng(5).uniform(10, 22, (96, 2))
    subject, pairs = faint_spots(face, centres), faint_spots(0.8 * face, centres)
    result = train_autoencoder([subject], pairs, SETTINGS, seed=6, pairs=[pairs])
    out = result.transfer(subject)
    correlation = np.corrcoef((out - out.mean(axis=0)).ravel(), (pairs - pairs.mean(axis=0)).ravel())[0, 1]
    assert correlation > 0.5


def test_expression_correlation_is_one_for_the_exact_render_and_zero_for_one_face():
    rng = np.random.default_rng(7)
    exact = rng.random((6, 8, 8))
    assert np.isclose(expression_correlation(exact * 3.0 + 1.0, exact), 1.0)  # gray scale does not matter
    assert expression_correlation(np.repeat(exact[:1], 6, axis=0), exact) == 0.0  # one face for every input
    assert abs(expression_correlation(rng.random((6, 8, 8)), exact)) < 0.5
    with pytest.raises(ValueError, match="image stacks"):
        expression_correlation(exact, exact[:3])
