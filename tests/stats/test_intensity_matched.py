"""The intensity-matched control (sham): geometry, rendering vs reading off the s = 1 column, and its scores."""

import numpy as np
import pytest
import torch

from facesym.classifiers.base import Classifier
from facesym.classifiers.embedded import EMBEDDED_CLASSES
from facesym.classifiers.entries import Preprocessing
from facesym.face import build_procedural_model
from facesym.identities import sample_identity
from facesym.interventions.scene import build_scene
from facesym.interventions.surfaces import grid, logit_surfaces, sham_from_symmetric_column


@pytest.fixture(scope="module")
def model():
    return build_procedural_model(n_shape=8, n_appearance=4)


def test_sham_vertices_are_the_symmetric_face_at_the_mean_intensity(model):
    rng = np.random.default_rng(0)
    beta = torch.as_tensor(rng.normal(size=(1, model.n_shape)), dtype=torch.float32)
    phi = torch.as_tensor(rng.uniform(-1, 1, size=(5, model.n_expression)), dtype=torch.float32)
    s = torch.tensor([0.0, 0.25, 0.5, 0.9, 1.0])
    t = torch.tensor([1.0, 0.3, 0.8, 0.6, 0.7])
    sham = model.vertices(beta, phi, s, t, intensity_matched=True)
    symmetric = model.vertices(beta, phi, 1.0, t * (1 + s) / 2)
    torch.testing.assert_close(sham, symmetric, rtol=0, atol=1e-6)
    # and it is symmetric where the intervention is not: the frozen half moves at half intensity, not at zero
    asym = model.vertices(beta, phi, s, t)
    assert not torch.allclose(asym[0], sham[0], atol=1e-4)
    torch.testing.assert_close(asym[-1], sham[-1])  # s = 1: both are the full expression


def test_sham_removes_as_much_movement_as_the_intervention(model):
    """Summed over both halves, the blendshape intensity is the same: t·s + t = 2·t·(1+s)/2."""
    rng = np.random.default_rng(1)
    beta = torch.zeros(1, model.n_shape)
    phi = torch.as_tensor(rng.uniform(0, 1, size=(1, model.n_expression)), dtype=torch.float32)
    neutral = model.vertices(beta, phi, 1.0, 0.0)
    for s in (0.0, 0.4):
        asym = (model.vertices(beta, phi, s, 1.0) - neutral).norm(dim=-1).sum()
        sham = (model.vertices(beta, phi, s, 1.0, intensity_matched=True) - neutral).norm(dim=-1).sum()
        # displacements are linear in the per-vertex intensity, so the totals agree
        assert float(asym) == pytest.approx(float(sham), rel=1e-4)


def test_rendered_sham_agrees_with_the_symmetric_column_resampled_in_t(model):
    """Rendering through the model and reading the s = 1 column at onset t·(1+s)/2 give the same surface.

    (For this all-blendshape model; with a jaw joint the sham keeps the jaw at t and only rendering is right.)
    """
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 5, stride=2), torch.nn.Tanh(), torch.nn.Flatten(), torch.nn.LazyLinear(7)
    ).eval()
    net(torch.zeros(1, 1, 32, 32))
    classifier = Classifier("net", EMBEDDED_CLASSES, Preprocessing(32, "gray", (0.5,), (0.5,)), net)
    identity = sample_identity(3, "id0000", model.n_shape, model.n_appearance, 4)
    scene = build_scene(model, identity, {"size": 32, "color": "gray", "backend": "numba"}, torch.device("cpu"))
    phi = np.random.default_rng(2).uniform(-1.5, 1.5, size=(2, model.n_expression))
    s, t = grid(4, 41)
    asym = logit_surfaces(classifier, scene, phi, s, t)
    sham = logit_surfaces(classifier, scene, phi, s, t, intensity_matched=True)
    assert asym.logits is not None and sham.logits is not None  # the model gives logits: both are kept
    np.testing.assert_allclose(sham.softmax[:, -1], asym.softmax[:, -1], atol=1e-6)
    read_off = sham_from_symmetric_column(np.moveaxis(asym.softmax, -1, 1), s, t)  # (E, K, S, T)
    rendered = np.moveaxis(sham.softmax, -1, 1)
    # at s = 0 and an even onset index j, t·(1+s)/2 = (j/2)/40 is itself a grid onset: no interpolation, the
    # same image, the same output
    np.testing.assert_allclose(rendered[:, :, 0, ::2], read_off[:, :, 0, ::2], atol=1e-5)
    # elsewhere they differ only by the curvature between grid onsets 1/40 apart (and rasterisation)
    assert np.abs(rendered - read_off).mean() < 2e-4
    # the control is not the intervention: at s = 0 the outputs differ
    assert np.abs(asym.softmax[:, 0] - sham.softmax[:, 0]).max() > 1e-3
