import numpy as np
import pytest
import torch

from facesym.classifiers.data import Variation, affected_weights, render_faces, sample_faces, turn_heads
from facesym.classifiers.embedded import EMBEDDED_CLASSES
from facesym.face import build_procedural_model
from facesym.face.prototypes import PROTOTYPES

RENDER = {"size": 32, "color": "gray", "backend": "numba"}
DIMS = (20, 6, 4)


@pytest.fixture(scope="module")
def model():
    return build_procedural_model()


def test_faces_are_balanced_and_deterministic(model):
    a = sample_faces(model, 5, np.random.default_rng(0), identity_dims=DIMS)
    b = sample_faces(model, 5, np.random.default_rng(0), identity_dims=DIMS)
    assert len(a) == 35
    assert np.bincount(a.labels).tolist() == [5] * 7
    for field in ("beta", "alpha", "lighting", "phi", "t", "s", "head_rotation"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert (a.s == 1).all()
    assert len({tuple(row) for row in a.beta}) == 35, "every image is a new identity"


def test_expressions_follow_the_prototypes(model):
    faces = sample_faces(model, 50, np.random.default_rng(1), identity_dims=DIMS, variation=Variation())
    names = model.expression_names
    for index, cls in enumerate(EMBEDDED_CLASSES):
        phi = faces.phi[faces.labels == index]
        units = PROTOTYPES.get(cls, {})
        inside = [names.index(au) for au in units]
        outside = [i for i in range(len(names)) if i not in inside]
        assert (phi >= 0).all()
        if inside:
            assert phi[:, inside].mean() > 0.7
        assert phi[:, outside].mean() < 0.05
    assert faces.t[faces.labels == EMBEDDED_CLASSES.index("neutral")].min() == 1.0
    assert 0.7 <= faces.t.min() and faces.t.max() <= 1.0
    assert 0 < np.abs(faces.head_rotation).max() < 0.3


def test_identity_dims_beyond_the_drawn_ones_stay_at_the_mean(model):
    faces = sample_faces(model, 2, np.random.default_rng(2), identity_dims=(5, 2, 3))
    assert (faces.beta[:, 5:] == 0).all() and (faces.beta[:, :5] != 0).all()
    assert (faces.alpha[:, 2:] == 0).all() and faces.lighting.shape == (14, 3)


def test_asymmetry_augmentation_changes_only_s(model):
    plain = sample_faces(model, 4, np.random.default_rng(3), identity_dims=DIMS)
    augmented = sample_faces(
        model, 4, np.random.default_rng(3), identity_dims=DIMS, symmetry_rng=np.random.default_rng(9)
    )
    np.testing.assert_array_equal(plain.phi, augmented.phi)
    assert augmented.s.min() >= 0 and augmented.s.max() <= 1 and augmented.s.std() > 0.1


def test_rendering_in_batches_and_at_frozen_symmetry(model):
    faces = sample_faces(model, 2, np.random.default_rng(4), identity_dims=DIMS)
    images = render_faces(model, faces, RENDER, batch_size=5)
    assert images.shape == (14, 1, 32, 32) and images.dtype == torch.float32
    assert 0 <= images.min() and images.max() <= 1
    torch.testing.assert_close(images, render_faces(model, faces, RENDER))
    frozen = render_faces(model, faces, RENDER, s=0.0)
    neutral = faces.labels == EMBEDDED_CLASSES.index("neutral")
    happy = faces.labels == EMBEDDED_CLASSES.index("happy")
    assert (frozen[happy] - images[happy]).abs().sum() > 0, "s = 0 freezes one half of an expression"
    assert (frozen[neutral] - images[neutral]).abs().mean() < (frozen[happy] - images[happy]).abs().mean()


def test_turning_heads_equals_posing_the_root_joint(model):
    g = torch.Generator().manual_seed(0)
    beta, phi = torch.randn(3, model.n_shape, generator=g), torch.rand(3, model.n_expression, generator=g)
    rotation = 0.1 * torch.randn(3, 3, generator=g)
    pose = torch.cat([rotation, torch.zeros(3, model.pose_dim - 3)], dim=1)
    posed = model.vertices(beta, phi, 0.5, 1.0, pose=pose)
    turned = turn_heads(model, model.vertices(beta, phi, 0.5, 1.0), rotation)
    torch.testing.assert_close(turned, posed, atol=1e-5, rtol=0)


def test_augmentation_weakens_either_half_drawn_per_image(model):
    both = sample_faces(model, 20, np.random.default_rng(3), identity_dims=DIMS, symmetry_rng=np.random.default_rng(9))
    left = sample_faces(
        model, 20, np.random.default_rng(3), identity_dims=DIMS, symmetry_rng=np.random.default_rng(9), sides="left"
    )
    np.testing.assert_array_equal(both.s, left.s)  # the side is drawn after s: same symmetries, same faces
    assert 0.3 < both.right.mean() < 0.7 and not left.right.any()
    with pytest.raises(ValueError, match="sides"):
        sample_faces(model, 1, np.random.default_rng(3), identity_dims=DIMS, sides="top")


def test_the_weakened_half_is_the_one_drawn(model):
    faces = sample_faces(model, 1, np.random.default_rng(5), identity_dims=DIMS, symmetry_rng=np.random.default_rng(1))
    faces.s[:] = 0.0
    happy = faces.labels == EMBEDDED_CLASSES.index("happy")
    x = model.template[:, 0].numpy()
    moving = {}
    for right in (False, True):
        faces.right[:] = right
        weights = affected_weights(model, faces.right)
        vertices = model.vertices(faces.beta, faces.phi, torch.as_tensor(faces.s), 1.0, affected=weights)
        full = model.vertices(faces.beta, faces.phi, 1.0, 1.0)
        moved = (vertices[happy] - full[happy]).norm(dim=-1)[0].numpy()  # frozen half differs from the full face
        moving[right] = (moved[x > 0.1].mean(), moved[x < -0.1].mean())
    assert moving[False][0] > 10 * moving[False][1]  # left (+x) frozen
    assert moving[True][1] > 10 * moving[True][0]  # right (-x) frozen
    np.testing.assert_allclose(moving[False], moving[True][::-1], rtol=0.3)


def test_left_weight_by_default_is_bit_identical(model):
    faces = sample_faces(model, 1, np.random.default_rng(6), identity_dims=DIMS, symmetry_rng=np.random.default_rng(2))
    args = (faces.beta, faces.phi, torch.as_tensor(faces.s), torch.as_tensor(faces.t))
    faces.right[:] = False
    assert torch.equal(model.vertices(*args), model.vertices(*args, affected=affected_weights(model, faces.right)))
