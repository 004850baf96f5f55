"""What single action units of the procedural face do, checked against their FACS descriptions."""

import math

import numpy as np
import pytest
import torch

from facesym.face import MorphableModel, build_procedural_model
from facesym.face.procedural import EYE_X, IDENTITY_COMPONENTS, IRIS_Y, MOUTH_HALF, MOUTH_Y, slit_pairs
from facesym.face.prototypes import PROTOTYPES, prototype_phi
from facesym.render import render


@pytest.fixture(scope="module")
def model() -> MorphableModel:
    return build_procedural_model()


def _face(model: MorphableModel, aus: dict[str, float]) -> torch.Tensor:
    """Vertices ``(N, 3)`` of the mean identity with the given action-unit intensities, s = t = 1."""
    phi = torch.zeros(1, model.n_expression)
    for au, value in aus.items():
        phi[0, model.expression_names.index(au)] = value
    return model.vertices(torch.zeros(1, model.n_shape), phi, 1.0, 1.0)[0]


def _region_pixels(model: MorphableModel, vertices: torch.Tensor, region: str, size: int = 64) -> int:
    """Pixels of a ``size``² render (the classifiers' size) in which ``region`` is what the camera sees."""
    mask = model.regions[region][:, None].expand(-1, 3).contiguous()
    flat_white = torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
    image = render(vertices[None], model.triangles, mask, size=size, lighting=flat_white, color="gray",
                   background=0.0)
    return int((image > 0.3).sum())


def _lip_edges(model: MorphableModel, vertices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """x at rest, and y of the upper and lower lip's edge along the mouth slit (from the subject's right)."""
    upper, lower = slit_pairs()["mouth"]
    return model.template[upper, 0], vertices[upper, 1], vertices[lower, 1]


def test_full_smile_shows_the_upper_teeth_at_64_px(model):
    """AU12 at FACS E parts the stretched lips between the canines; the corners stay closed."""
    assert _region_pixels(model, _face(model, {}), "teeth") == 0
    smile = _face(model, {"AU6": 1.0, "AU12": 1.0})
    assert _region_pixels(model, smile, "teeth") >= 10
    x, upper, lower = _lip_edges(model, _face(model, {"AU12": 1.0}))
    gap = upper - lower
    assert float(gap[x.abs() < 0.08].min()) > 0.065  # about 5 mm or more in the middle
    assert float(gap[x.abs() > 0.27].max()) < 0.01  # the corners stay closed
    # The lower lip curves up towards the corners: the smile's U.
    assert float(lower[x.abs() > 0.27].mean() - lower[x.abs() < 0.05].mean()) > 0.1



def test_lip_corner_depressor_turns_the_corners_down_and_out(model):
    rest = _face(model, {})
    moved = _face(model, {"AU15": 1.0})
    x, upper, _ = _lip_edges(model, moved)
    _, upper_rest, _ = _lip_edges(model, rest)
    drop = upper - upper_rest
    corners, middle = x.abs() > 0.27, x.abs() < 0.05
    assert float(drop[corners].mean()) < -0.06 and float(drop[middle].abs().max()) < 0.01
    upper_idx, _ = slit_pairs()["mouth"]
    outward = (moved[upper_idx, 0] - rest[upper_idx, 0]) * torch.sign(x)
    assert float(outward[corners].mean()) > 0.0  # stretched horizontally, not drawn in


def test_lower_lip_depressor_parts_the_lips_downwards(model):
    x, upper, lower = _lip_edges(model, _face(model, {"AU16": 1.0}))
    _, upper_rest, lower_rest = _lip_edges(model, _face(model, {}))
    middle = x.abs() < 0.1
    assert float((lower - lower_rest)[middle].max()) < -0.04  # the lower lip goes down, about 4 mm or more
    assert float((upper - upper_rest).abs().max()) < 0.005  # the upper lip stays
    assert float((upper - lower)[x.abs() > 0.27].max()) < 0.01  # the corners stay together


def test_lip_presser_narrows_the_red_and_keeps_the_lips_closed(model):
    """AU24: less of the red shows, the lips stay shut."""
    def red_height(vertices: torch.Tensor) -> float:
        middle = (model.regions["lips"] > 0.5) & (model.template[:, 0].abs() < 0.05)
        return float(vertices[middle, 1].max() - vertices[middle, 1].min())

    pressed = _face(model, {"AU24": 1.0})
    assert red_height(pressed) < 0.9 * red_height(_face(model, {}))
    _, upper, lower = _lip_edges(model, pressed)
    assert float((upper - lower).abs().max()) < 1e-4


def test_lip_tightener_narrows_the_red_and_bulges_the_skin_beyond_it(model):
    """AU23 (FACS manual): the red narrows and the mouth narrows, the lips stay shut, the skin just above and below
    the red bulges (less than with AU24)."""
    def red_height(vertices: torch.Tensor) -> float:
        middle = (model.regions["lips"] > 0.5) & (model.template[:, 0].abs() < 0.05)
        return float(vertices[middle, 1].max() - vertices[middle, 1].min())

    tight = _face(model, {"AU23": 1.0})
    assert red_height(tight) < 0.85 * red_height(_face(model, {}))
    x, upper, lower = _lip_edges(model, tight)
    assert float((upper - lower).abs().max()) < 1e-4
    above, below = (_move_mm(model, {"AU23": 1.0}, 0.0, MOUTH_Y + d)[2] for d in (0.12, -0.13))
    assert float(above) > 0.5 and float(below) > 0.5
    assert float(above) < float(_move_mm(model, {"AU24": 1.0}, 0.0, MOUTH_Y + 0.12)[2])


def test_eyes_closed_covers_the_iris_and_the_lids_meet(model):
    """AU43 (FACS: the upper lid lowered until the eye is closed, 41-42-43 as one continuum) hides the eyeball;
    half of it leaves a narrowed eye; with the lower lid raised by AU6, AU7 and AU9 the lids meet and never cross."""
    upper, lower = slit_pairs()["eyes"]
    eyeball = ("iris", "pupil", "sclera")
    rest = _face(model, {})
    assert all(_region_pixels(model, rest, part) > 0 for part in eyeball)
    closed = _face(model, {"AU43": 1.0})
    assert sum(_region_pixels(model, closed, part) for part in eyeball) == 0
    assert float((closed[upper, 1] - closed[lower, 1]).abs().max()) < 1e-4
    assert float((closed[lower] - rest[lower]).abs().max()) < 1e-6  # the lower lid stays where it was
    half = _face(model, {"AU43": 0.5})
    gap, gap_rest = half[upper, 1] - half[lower, 1], rest[upper, 1] - rest[lower, 1]
    assert 0.2 < float(gap.max() / gap_rest.max()) < 0.6
    squeezed = _face(model, {"AU43": 1.0, "AU6": 1.0, "AU7": 1.0, "AU9": 1.0})
    gap = squeezed[upper, 1] - squeezed[lower, 1]
    assert float(gap.min()) >= -1e-6 and float(gap.max()) < 1e-4
    assert float(squeezed[lower, 1].mean() - rest[lower, 1].mean()) > 0.02  # raised lower lid, upper lid on it


def test_eyes_close_for_every_identity():
    """The lid closes for small and large eyes alike (identity ``eye_size`` at ±3 SD and random identities)."""
    model = build_procedural_model(n_shape=12)
    beta = torch.randn(8, model.n_shape, generator=torch.Generator().manual_seed(4))
    beta[0, IDENTITY_COMPONENTS.index("eye_size")] = 3.0
    beta[1, IDENTITY_COMPONENTS.index("eye_size")] = -3.0
    phi = torch.zeros(8, model.n_expression)
    phi[:, model.expression_names.index("AU43")] = 1.0
    closed = model.vertices(beta, phi, 1.0, 1.0)
    upper, lower = slit_pairs()["eyes"]
    gap = closed[:, upper, 1] - closed[:, lower, 1]
    assert float(gap.abs().max()) < 1e-4
    for face in closed:
        assert _region_pixels(model, face, "iris") + _region_pixels(model, face, "sclera") == 0


MM = 75.0  # millimetres per model unit (facesym.face.model.MM_PER_UNIT)


def _skin_point(model: MorphableModel, x: float, y: float) -> int:
    """Index of the skin vertex nearest to ``(x, y)`` at rest (subject's left at +x)."""
    d = (model.template[:, 0] - x) ** 2 + (model.template[:, 1] - y) ** 2
    d[model.regions["skin_mesh"] < 0.5] = float("inf")
    return int(d.argmin())


def _move_mm(model: MorphableModel, aus: dict[str, float], x: float, y: float) -> torch.Tensor:
    """Displacement (x, y, z) in millimetres of the skin at ``(x, y)`` from rest."""
    i = _skin_point(model, x, y)
    return (_face(model, aus)[i] - _face(model, {})[i]) * MM


def _eye_centre(model: MorphableModel, vertices: torch.Tensor) -> tuple[float, float]:
    """y of the upper and lower lid margins of the subject's left eye at the iris, model units."""
    upper, lower = slit_pairs()["eyes"]
    k = int((model.template[upper, 0] - EYE_X).abs().argmin())
    return float(vertices[upper[k], 1]), float(vertices[lower[k], 1])


def test_lip_corner_puller_moves_the_corners_up_and_out_towards_the_cheekbone(model):
    """AU12 (zygomaticus major, from the corner to the zygomatic bone): corners up, out and back along the muscle's
    line; the cheek lateral to the nasolabial fold bunches up and forward, the fold deepens against it."""
    d = _move_mm(model, {"AU12": 1.0}, MOUTH_HALF, MOUTH_Y)
    assert float(d[1]) > 6.0 and float(d[0]) > 4.0 and float(d[2]) < 0.0
    # The line from the corner (0.31, -0.88) to the zygomatic body (about 0.75, -0.25) rises at about 55°.
    assert 40.0 < math.degrees(math.atan2(float(d[1]), float(d[0]))) < 70.0
    mirrored = _move_mm(model, {"AU12": 1.0}, -MOUTH_HALF, MOUTH_Y)
    assert float(mirrored[0]) < -4.0 and torch.isclose(mirrored[1], d[1], atol=1e-3)
    cheek = _move_mm(model, {"AU12": 1.0}, 0.42, -0.60)
    assert float(cheek[1]) > 1.0 and float(cheek[2]) > 1.0
    fold = _move_mm(model, {"AU12": 1.0}, 0.28, -0.74)  # on the nasolabial line
    assert float(fold[2]) < float(cheek[2]) - 1.0


def test_cheek_raiser_narrows_the_eye_from_below(model):
    """AU6 (orbicularis oculi, pars orbitalis) at E: the lower lid's skin is pushed up and bags, the eye narrows
    from below by about a third while the upper lid's margin stays; crow's feet at the outer corner."""
    up0, lo0 = _eye_centre(model, _face(model, {}))
    up1, lo1 = _eye_centre(model, _face(model, {"AU6": 1.0}))
    assert (lo1 - lo0) * MM > 2.5 and abs(up1 - up0) * MM < 0.5
    assert (up1 - lo1) < 0.75 * (up0 - lo0)
    assert float(_move_mm(model, {"AU6": 1.0}, EYE_X, -0.10)[2]) > 1.0  # the bag under the lower lid
    assert float(_move_mm(model, {"AU6": 1.0}, 0.45, -0.40)[1]) > 3.0  # the cheek (infraorbital triangle) rises
    # Crow's feet: lateral to the outer corner the skin's depth ripples (alternating furrows and ridges in y).
    ripple = torch.stack([_move_mm(model, {"AU6": 1.0}, 0.76, y)[2] for y in (-0.03, 0.0, 0.03)])
    assert float(ripple[1] - 0.5 * (ripple[0] + ripple[2])) > 0.4


def test_inner_brow_raiser_with_lowerer_gives_the_oblique_brow_of_sadness(model):
    """AU1+4: the inner brows go up and together, the outer brows do not rise; horizontal furrows in the middle of
    the forehead only, a vertical furrow between the brows."""
    aus = {"AU1": 1.0, "AU4": 1.0}
    inner, outer = _move_mm(model, aus, 0.16, 0.25), _move_mm(model, aus, 0.65, 0.25)
    assert float(inner[1]) > 2.5 and float(inner[0]) < -2.5
    assert float(outer[1]) < 0.5
    assert float(inner[1]) - float(outer[1]) > 3.0

    def furrow_depth(x: float) -> float:
        z = torch.stack([_move_mm(model, aus, x, y)[2] for y in np.linspace(0.45, 0.70, 11)])
        return float(z.max() - z.min())

    assert furrow_depth(0.10) > 0.4 and furrow_depth(0.70) < 0.5 * furrow_depth(0.10)
    between = _move_mm(model, {"AU4": 1.0}, 0.0, 0.20)[2]
    beside = _move_mm(model, {"AU4": 1.0}, 0.09, 0.20)[2]
    assert float(beside - between) > 1.0


def test_inner_brow_raiser_stretches_the_medial_upper_lid(model):
    """AU1 pulls the skin of the upper lid up on its inner side (the triangular eye cover fold of the FACS manual);
    the lid's margin does not move."""
    medial, lateral = _move_mm(model, {"AU1": 1.0}, 0.26, 0.08), _move_mm(model, {"AU1": 1.0}, 0.58, 0.08)
    assert float(medial[1]) > 0.9 and float(medial[1]) > 2.0 * float(lateral[1])
    up0, _ = _eye_centre(model, _face(model, {}))
    up1, _ = _eye_centre(model, _face(model, {"AU1": 1.0}))
    assert abs(up1 - up0) * MM < 0.2


def test_nose_wrinkler_narrows_the_eye_from_below_and_deepens_the_infraorbital_furrow(model):
    up0, lo0 = _eye_centre(model, _face(model, {}))
    up1, lo1 = _eye_centre(model, _face(model, {"AU9": 1.0}))
    assert (lo1 - lo0) * MM > 1.2 and abs(up1 - up0) * MM < 0.3
    furrow = _move_mm(model, {"AU9": 1.0}, 0.33, -0.14)[2]
    below = _move_mm(model, {"AU9": 1.0}, 0.33, -0.26)[2]
    assert float(furrow) < -0.7 and float(below - furrow) > 0.7


def test_lip_corner_depressor_bulges_the_chin_boss(model):
    """AU15 (FACS manual): bulges on the chin boss, a depression medially under the lower lip."""
    assert float(_move_mm(model, {"AU15": 1.0}, 0.14, -1.24)[2]) > 0.5
    assert float(_move_mm(model, {"AU15": 1.0}, 0.0, -1.07)[2]) < -0.5


def test_nose_wrinkler_raises_the_nose_sides_and_upper_lip_and_lowers_the_inner_brows(model):
    aus = {"AU9": 1.0}
    assert float(_move_mm(model, aus, 0.12, -0.42)[1]) > 2.5  # sides of the nose
    assert float(_move_mm(model, aus, 0.0, MOUTH_Y + 0.05)[1]) > 1.0  # upper lip
    assert float(_move_mm(model, aus, 0.15, 0.22)[1]) < -2.0  # inner brows
    nasolabial, cheek = _move_mm(model, aus, 0.24, -0.62), _move_mm(model, aus, 0.34, -0.55)
    assert float(cheek[2]) > float(nasolabial[2]) + 1.0  # the furrow deepens against the infraorbital triangle

    def wrinkles(y0: float, y1: float) -> float:
        """Peak-to-trough depth (mm) of the skin's move along the midline between heights y0 and y1."""
        z = torch.stack([_move_mm(model, aus, 0.0, y)[2] for y in np.linspace(y0, y1, 9)])
        return float(z.max() - z.min())

    # Wrinkles at the root of the nose (between the inner brows, down to the inner eye corners), not across the
    # middle of the bridge.
    assert wrinkles(0.02, 0.14) > 1.0
    assert wrinkles(-0.20, -0.08) < 0.3 * wrinkles(0.02, 0.14)


def test_lid_tightener_raises_and_straightens_the_lower_lid(model):
    """AU7 at E: the lower lid's margin rises to nearly a straight line between the eye's corners (FACS manual);
    the upper lid comes down a little."""
    upper, lower = slit_pairs()["eyes"]
    left = model.template[upper, 0] > 0
    rest, tight = _face(model, {}), _face(model, {"AU7": 1.0})
    sag0 = float(-rest[lower[left], 1].min())  # the rest margin's lowest point below the corners' line (y = 0)
    sag1 = float(-tight[lower[left], 1].min())
    assert sag1 < 0.35 * sag0, (sag0, sag1)
    up0, _ = _eye_centre(model, rest)
    up1, lo1 = _eye_centre(model, tight)
    assert -2.0 < (up1 - up0) * MM < -0.5 and up1 > lo1


def _lower_teeth_pixels(model: MorphableModel, vertices: torch.Tensor) -> int:
    lower = (model.regions["teeth"] > 0.5) & (model.skin_weights[:, 1] > 0.99)
    mask = lower.float()[:, None].expand(-1, 3).contiguous()
    flat_white = torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
    image = render(vertices[None], model.triangles, mask, size=64, lighting=flat_white, color="gray", background=0.0)
    return int((image > 0.3).sum())


def test_lower_lip_depressor_bares_the_lower_teeth(model):
    """AU16 at E draws the lower lip off the lower incisors, with the lips parted (AU25) or the jaw dropped (AU26)
    alike, and in disgust (EMFACS 9+15+16: AU9 raises the upper lip); without it the lower lip covers them."""
    for aus in ({}, {"AU25": 1.0}, {"AU26": 1.0}):
        assert _lower_teeth_pixels(model, _face(model, aus)) == 0, aus
    for aus in ({"AU16": 1.0, "AU25": 1.0}, {"AU16": 1.0, "AU26": 1.0}, PROTOTYPES["disgust"]):
        assert _lower_teeth_pixels(model, _face(model, aus)) >= 6, aus


def test_surprise_raises_arched_brows_shows_sclera_above_the_iris_and_drops_the_jaw(model):
    aus = {"AU1": 1.0, "AU2": 1.0, "AU5": 1.0, "AU26": 1.0}
    for x in (0.16, 0.40, 0.65):  # the whole brow rises, inner to outer
        assert float(_move_mm(model, aus, x, 0.25)[1]) > 4.0, x
    upper, _ = _eye_centre(model, _face(model, aus))
    iris_top = IRIS_Y + 0.07  # iris radius 0.07 units (11.7 mm across)
    rest_upper, _ = _eye_centre(model, _face(model, {}))
    assert rest_upper < iris_top and (upper - iris_top) * MM > 2.0  # white above the iris
    x, up, lo = _lip_edges(model, _face(model, aus))
    assert float((up - lo)[x.abs() < 0.05].min()) * MM > 12.0  # the jaw drops: the mouth opens over 1 cm


@pytest.mark.parametrize("emotion", ["happy", "disgust", "fear", "sad"])
def test_lips_part_smoothly_across_the_midline_at_s0(model, emotion):
    """At s = 0 the frozen half's lips are tied to the moving half's by the lips' band of muscle: within 9 mm of the
    midline the lip edges change by at most 1.2 mm between neighbouring columns (1.8 mm apart; a 6 mm band let a
    smile's parting step by 2.5 mm), while the frozen corner stays where only the jaw takes it."""
    phi = prototype_phi(model, emotion)[None]
    jaw_only = torch.zeros_like(phi)
    jaw = model.expression_names.index("AU26")
    jaw_only[:, jaw] = phi[:, jaw]
    beta = torch.zeros(1, model.n_shape)
    upper, lower = slit_pairs()["mouth"]
    x = model.template[upper, 0]
    middle = x.abs() < 0.12
    frozen_corner = upper[x > MOUTH_HALF - 0.03]
    for t in (0.5, 1.0):
        v = model.vertices(beta, phi, 0.0, t)[0]
        for edge in (upper, lower):
            step = torch.diff(v[edge, 1][middle]).abs().max() * MM
            assert float(step) < 1.2, (t, float(step))
        assert torch.allclose(v[frozen_corner], model.vertices(beta, jaw_only, 0.0, t)[0, frozen_corner], atol=1e-5)
