"""What single action units of the procedural face do, checked against their FACS descriptions."""

import pytest
import torch

from facesym.face import MorphableModel, build_procedural_model
from facesym.face.procedural import IDENTITY_COMPONENTS, slit_pairs
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
