"""Every intervention axis changes only the property it names, and a = 1 is the reference face bit for bit."""

import numpy as np
import pytest
import torch

from facesym.face import build_procedural_model
from facesym.face.prototypes import prototype_phi
from facesym.identities import sample_identity
from facesym.interventions.axes import (
    AXES,
    DARKEST_SKIN,
    AxisScene,
    axis_settings,
    interventions_from_config,
    vertical_weight,
)
from facesym.interventions.scene import Scene, build_scene

EXACT = "donot_use_mm_for_euclid_dist"
RENDER = {"size": 32, "color": "gray", "backend": "numba"}


@pytest.fixture(scope="module")
def model():
    return build_procedural_model()


@pytest.fixture(scope="module")
def scene(model):
    identity = sample_identity(7, "id_0", shape_dim=20, appearance_dim=6, lighting_dim=4)
    return build_scene(model, identity, RENDER, torch.device("cpu"))


@pytest.fixture(scope="module")
def phi(model):
    # happy with a little of the upper face, so every axis has something to act on
    happy = prototype_phi(model, "happy").clone()
    happy[model.expression_names.index("AU1")] = 0.5
    return torch.stack([happy, prototype_phi(model, "surprise")])


@pytest.mark.parametrize("axis", AXES)
def test_a_equal_one_is_the_reference_bit_for_bit(scene, phi, axis):
    t = torch.tensor([1.0, 0.6])
    reference = Scene.images(scene, phi, torch.ones(2), t)
    assert torch.equal(AxisScene.of(scene, axis).images(phi, torch.ones(2), t), reference)
    assert not torch.equal(AxisScene.of(scene, axis).images(phi, torch.zeros(2), t), reference), f"{axis} at a = 0"


def _state(scene, axis, phi, a, t=1.0):
    return AxisScene.of(scene, axis).state(phi, a, t)


def _moved(scene, axis, phi):
    """Per-vertex displacement between a = 0 and a = 1, shape (B, N)."""
    return (_state(scene, axis, phi, 0.0)[0] - _state(scene, axis, phi, 1.0)[0]).norm(dim=-1)


def _same_light_and_albedo(scene, axis, phi):
    _, colors0, light0 = _state(scene, axis, phi, 0.0)
    assert torch.equal(colors0, scene.colors) and torch.equal(light0, scene.lighting)


@pytest.mark.parametrize("axis, frozen_x", [("symmetry_left", 1.0), ("symmetry_right", -1.0)])
def test_symmetry_axes_freeze_one_half_only(model, scene, phi, axis, frozen_x):
    moved = _moved(scene, axis, phi)
    x = model.template[:, 0] * frozen_x
    weakened = model.left_weight if frozen_x > 0 else 1.0 - model.left_weight
    # The other half, beyond the midline band (wider across the lips), keeps its expression.
    assert bool((weakened[x < -0.2] == 0).all())
    assert moved[:, weakened == 0].max() == 0, "the other half keeps its expression"
    assert moved[:, x > 0.1].max() > 0.05
    _same_light_and_albedo(scene, axis, phi)


def test_the_mirror_axis_is_the_mirror_of_the_papers(model, scene, phi):
    left, right = _moved(scene, "symmetry_left", phi), _moved(scene, "symmetry_right", phi)
    x = model.template[:, 0]
    torch.testing.assert_close(left[:, x > 0.1].sum(), right[:, x < -0.1].sum(), rtol=1e-4, atol=0)


def test_intensity_scales_both_halves_together(model, scene, phi):
    phi = phi.clone()
    phi[:, model.expression_names.index("AU26")] = 0  # the jaw is a joint: it follows t, not the intensity
    neutral = _state(scene, "intensity", torch.zeros_like(phi), 1.0)[0]
    full = _state(scene, "intensity", phi, 1.0)[0]
    for a in (0.0, 0.5):
        half = _state(scene, "intensity", phi, a)[0]
        torch.testing.assert_close(half - neutral, (1 + a) / 2 * (full - neutral), atol=1e-5, rtol=0)
    _same_light_and_albedo(scene, "intensity", phi)


@pytest.mark.parametrize("axis, part", [("palsy_upper", "upper"), ("palsy_lower", "lower")])
def test_palsy_axes_freeze_the_left_upper_or_lower_face_only(model, scene, phi, axis, part):
    moved = _moved(scene, axis, phi)
    x = model.template[:, 0]
    inside = vertical_weight(model, part)
    # The right half beyond the midline band (wider across the lips) and the other part keep their expression.
    weakened = model.left_weight * inside
    assert bool((weakened[(x < -0.2) | (inside == 0)] == 0).all())
    assert moved[:, weakened == 0].max() == 0, "right half and the other part keep their expression"
    assert moved[:, (x > 0.1) & (inside == 1)].max() > 0.02
    _same_light_and_albedo(scene, axis, phi)


def test_synkinesis_narrows_the_affected_eye_with_mouth_movement(model, scene, phi):
    moved = _moved(scene, "synkinesis", phi)
    x = model.template[:, 0]
    lower = vertical_weight(model, "lower")
    assert moved[:, x < -0.1].max() == 0, "the healthy half is untouched"
    assert moved[0, (x > 0.1) & (lower == 1) & (model.template[:, 1] < -0.6)].max() < 1e-4, "the mouth stays"
    assert moved[0, x > 0.1].max() > 0.01, "happy (AU12) drives AU6/AU7 on the left"
    no_mouth = phi.clone()
    for au in ("AU12", "AU20", "AU25"):
        no_mouth[:, model.expression_names.index(au)] = 0
    assert _moved(scene, "synkinesis", no_mouth).max() == 0, "no mouth movement, no co-activation"
    _same_light_and_albedo(scene, "synkinesis", phi)


@pytest.mark.parametrize("axis", ["yaw", "pitch"])
def test_head_turns_are_rigid(model, scene, phi, axis):
    turned, colors, light = _state(scene, axis, phi, 0.0)
    reference = _state(scene, axis, phi, 1.0)[0]
    pick = torch.arange(0, model.n_vertices, 97)
    distances = torch.cdist(turned[:, pick], turned[:, pick], compute_mode=EXACT)
    before = torch.cdist(reference[:, pick], reference[:, pick], compute_mode=EXACT)
    torch.testing.assert_close(distances, before, atol=1e-5, rtol=0)
    assert (turned - reference).norm(dim=-1).max() > 0.1
    assert torch.equal(colors, scene.colors) and torch.equal(light, scene.lighting)
    half = _state(scene, axis, phi, 0.5)[0]
    assert 0 < (half - reference).norm(dim=-1).max() < (turned - reference).norm(dim=-1).max()


def test_yaw_turns_the_face_towards_the_subjects_left(model, scene, phi):
    turned = _state(scene, "yaw", phi, 0.0)[0]
    nose = model.template[:, 2].argmax()
    assert turned[0, nose, 0] > _state(scene, "yaw", phi, 1.0)[0][0, nose, 0] + 0.05  # left is +x here


def test_light_direction_turns_the_light_only(model, scene, phi):
    vertices, colors, light = _state(scene, "light_direction", phi, 0.0)
    assert torch.equal(vertices, _state(scene, "light_direction", phi, 1.0)[0]) and torch.equal(colors, scene.colors)
    # SH lights (9 coefficients per channel): the mean level (band 0) and the vertical sky gradient (y, index 1)
    # are unchanged by a turn about y; the band-1 direction (x, z: indices 3, 2) turns by the axis' angle.
    sh, ref = light.reshape(2, 3, 9), scene.lighting.reshape(3, 9)
    torch.testing.assert_close(sh[:, :, :2], ref[None, :, :2].expand(2, 3, 2), atol=1e-5, rtol=1e-5)
    angle = np.degrees(np.arctan2(sh[0, 0, 3].item(), sh[0, 0, 2].item()) - np.arctan2(ref[0, 3].item(),
                                                                                         ref[0, 2].item()))
    assert angle == pytest.approx(axis_settings("light_direction")["max_degrees"], abs=1e-3)


def test_skin_tone_darkens_every_skin_coloured_region_and_nothing_else(model, scene, phi):
    from facesym.face.appearance import REGIONS

    vertices, colors, light = _state(scene, "skin_tone", phi, 0.0)
    assert torch.equal(vertices, _state(scene, "skin_tone", phi, 1.0)[0]) and torch.equal(light, scene.lighting)
    masks = model.appearance.masks
    kept = ("hair", "brows", "lashes", "sclera", "iris", "limbus", "pupil", "teeth", "mouth", "tongue")
    own = masks[:, [REGIONS.index(r) for r in kept]].sum(1) > 1.0 - 1e-6
    assert own.any() and torch.allclose(colors[0, own], scene.colors[own], atol=1e-6), "hair, brows, eyes keep theirs"
    # the cheeks, the skin around the eyes, the neck, the lips and the hairline's lower band (skin at the mean
    # hairline; the upper band is hair there) darken with the skin
    for region in ("skin", "blush", "periorbital", "crease", "hairline_low", "neck", "lips"):
        where = masks[:, REGIONS.index(region)] > 0.5
        assert where.any(), region
        darker = scene.colors[where].mean(1) - colors[0, where].mean(1)
        assert (darker > 0.05).all(), f"{region} does not follow the skin tone (least darkening {darker.min():.3f})"
    # at a = 0 the skin is the darkest skin (its texture varies it by a few per cent about its median)
    skin = masks[:, REGIONS.index("skin")] > 0.999
    torch.testing.assert_close(colors[0, skin].median(0).values, torch.tensor(DARKEST_SKIN), atol=0.01, rtol=0.0)


def test_unknown_axes_and_settings_are_errors():
    with pytest.raises(ValueError, match="unknown intervention axis 'age'"):
        axis_settings("age")
    with pytest.raises(ValueError, match="no setting 'max_degrees'"):
        axis_settings("symmetry_left", {"max_degrees": 3})
    assert axis_settings("yaw", {"max_degrees": 10})["max_degrees"] == 10.0
    parsed = interventions_from_config(["symmetry_left", {"axis": "yaw", "max_degrees": 10}])
    assert parsed == {"symmetry_left": {}, "yaw": {"max_degrees": 10.0}}
    with pytest.raises(ValueError, match="'interventions' lists the axis 'yaw' twice"):
        interventions_from_config(["yaw", {"axis": "yaw"}])


def test_axes_run_through_the_papers_surfaces_unchanged(model, scene, phi):
    from facesym.classifiers.base import Classifier, Preprocessing
    from facesym.classifiers.embedded import EMBEDDED_CLASSES
    from facesym.interventions.surfaces import grid, logit_surfaces

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 5, stride=2), torch.nn.Tanh(), torch.nn.Flatten(), torch.nn.LazyLinear(7)
    ).eval()
    net(torch.zeros(1, 1, 32, 32))
    classifier = Classifier("net", EMBEDDED_CLASSES, Preprocessing(32, "gray", (0.5,), (0.5,)), net)
    a, t = grid(3, 3)
    paper = logit_surfaces(classifier, scene, phi.numpy(), a, t)
    sham = logit_surfaces(classifier, scene, phi.numpy(), a, t, intensity_matched=True)
    for axis in ("symmetry_left", "intensity", "yaw", "skin_tone"):
        surfaces = logit_surfaces(classifier, AxisScene.of(scene, axis), phi.numpy(), a, t)
        np.testing.assert_array_equal(surfaces.softmax[:, -1], paper.softmax[:, -1])  # a = 1: the reference
        if axis == "symmetry_left":
            np.testing.assert_array_equal(surfaces.softmax, paper.softmax)
        if axis == "intensity":
            np.testing.assert_array_equal(surfaces.softmax, sham.softmax)  # the statistics' sham, as an axis
