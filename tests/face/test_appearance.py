"""Appearance of the procedural face as a 48-64 px gray network sees it: brows, lashes, hair, lips, occlusion."""

import numpy as np
import pytest
import torch

from facesym.face import MorphableModel, build_procedural_model
from facesym.face.appearance import APPEARANCE_NAMES, REGIONS
from facesym.face.model import MM_PER_UNIT
from facesym.face.prototypes import prototype_phi
from facesym.render import lighting_from_coefficients, render
from facesym.render.shading import LUMA


@pytest.fixture(scope="module")
def model() -> MorphableModel:
    return build_procedural_model(20, len(APPEARANCE_NAMES))


def _luma(rgb: torch.Tensor) -> torch.Tensor:
    return (rgb * torch.tensor(LUMA)).sum(-1)


def _brow_extent(model: MorphableModel, vertices: torch.Tensor, ax: float) -> tuple[float, float]:
    """Lowest and highest y of the brow region (weight > 0.5) in the column nearest ``|x| = ax`` (left half)."""
    brows = model.regions["brows"] > 0.5
    column = brows & ((model.template[:, 0] - ax).abs() < 0.015)
    y = vertices[column, 1]
    return float(y.min()), float(y.max())


def _brow_hair_mm(model: MorphableModel, ax: float) -> float:
    """Height of the brow at ``|x| = ax`` weighted by its hair density (the brow weight integrated along y), mm."""
    column = ((model.template[:, 0] - ax).abs() < 0.015) & (model.regions["skin_mesh"] > 0.5)
    column &= (model.template[:, 1] > 0.05) & (model.template[:, 1] < 0.5)
    y, order = model.template[column, 1].sort()
    return float(np.trapezoid(model.regions["brows"][column][order].numpy(), y.numpy())) * MM_PER_UNIT


def test_brows_are_about_a_centimetre_high_at_the_head_and_thin_laterally(model):
    head, body, tail = (_brow_hair_mm(model, ax) for ax in (0.22, 0.4, 0.66))
    assert 8.5 <= head <= 12.0, head
    assert tail < body < head and tail < 0.6 * head, (head, body, tail)


def test_brows_move_with_the_brow_action_units(model):
    """The brows are region weights on the moving mesh: AU1+2 raise them, AU4 lowers them."""
    names = model.expression_names
    beta = torch.zeros(1, model.n_shape)
    rest = _brow_extent(model, model.vertices(beta, torch.zeros(1, len(names)), 1.0, 1.0)[0], 0.3)
    for units, sign in ((("AU1", "AU2"), 1.0), (("AU4",), -1.0)):
        phi = torch.zeros(1, len(names))
        for unit in units:
            phi[0, names.index(unit)] = 1.0
        moved = _brow_extent(model, model.vertices(beta, phi, 1.0, 1.0)[0], 0.3)
        assert sign * (moved[0] - rest[0]) > 0.02 and sign * (moved[1] - rest[1]) > 0.02, (units, rest, moved)


def test_lashes_and_lips_are_darker_than_the_skin_in_gray(model):
    """Every skin tone: the upper lash line is near black, the lips' red well below the skin's luminance."""
    g = torch.Generator().manual_seed(3)
    alpha = torch.randn(64, model.n_appearance, generator=g)
    colors = model.appearance.region_colors(alpha)
    skin, lips, lashes = (_luma(colors[:, REGIONS.index(name)]) for name in ("skin", "lips", "lashes"))
    ratio = lips / skin
    assert float(ratio.median()) < 0.62 and float(ratio.max()) < 0.67 and float(ratio.min()) > 0.45, ratio
    assert torch.all(lashes < 0.1)
    # The upper lid's lash band covers the margin over at least two vertex rows of the lid (about 2 mm).
    lash = model.regions["lashes"] > 0.5
    assert int(lash.sum()) >= 2 * 2 * 12


def test_hair_frames_the_face(model):
    """Hair shows beside the head above the ears (volume beyond the skin's outline) and above the hairline."""
    alpha = torch.zeros(1, model.n_appearance)
    alpha[0, APPEARANCE_NAMES.index("hair_color")] = -2.0  # dark hair on mid skin: the hair is the darkest part
    phi = prototype_phi(model, "neutral")[None]
    faces = model.vertices(torch.zeros(1, model.n_shape), phi, 1.0, 1.0)
    size = 128
    img = render(faces, model.triangles, model.albedo(alpha), size=size, lighting=lighting_from_coefficients(
        torch.zeros(4)), color="gray", background=0.5)[0, 0]
    cx, cy, scale, ox, oy = (float(v) for v in model.camera.screen_params(size, size))

    def pixel(x: float, y: float) -> float:
        return float(img[int(oy - (y - cy) * scale), int(ox + (x - cx) * scale)])

    for side in (-1.0, 1.0):
        assert pixel(side * 1.06, 0.4) < 0.25, "hair beside the temple"
        assert pixel(side * 1.30, 0.4) == pytest.approx(0.5), "backdrop beyond the hair"
    assert pixel(0.0, 1.03) < 0.25, "hair above the hairline"
    assert pixel(0.0, 0.6) > 0.3, "forehead skin"


def test_the_hairline_depends_on_the_identity(model):
    """A high hairline (hairline coefficient −2) shows more forehead than a low one (+2), only near the hairline."""
    hair_index = APPEARANCE_NAMES.index("hairline")
    alpha = torch.zeros(3, model.n_appearance)
    alpha[:, APPEARANCE_NAMES.index("hair_color")] = -2.0
    alpha[:, hair_index] = torch.tensor([-2.0, 0.0, 2.0])
    albedo = _luma(PaletteAppearanceWithout(model).albedo(alpha))  # the skin's texture changes with every α
    skin_like = albedo > 0.5 * albedo[:, model.regions["skin"] > 0.99].mean(1, keepdim=True)
    forehead = (model.regions["skin_mesh"] > 0.5) & (model.template[:, 0].abs() < 0.3) & (model.template[:, 1] > 0.5)
    counts = skin_like[:, forehead].sum(1)
    assert counts[0] > counts[1] > counts[2], counts
    changed = (albedo[0] - albedo[2]).abs() > 1e-3
    assert float(model.template[changed, 1].min()) > 0.75  # nothing else moves


def test_baked_occlusion_is_only_the_lash_shadow_on_the_eyeball(model):
    """Skin hollows, mouth, neck and ears are shaded by the renderer's per-image occlusion, not baked twice."""
    occ = model.appearance.occlusion
    eyeball = model.regions["eyeball"] > 0.5
    assert torch.all(occ[~eyeball] == 1.0)
    y = model.template[eyeball, 1]
    upper, middle = occ[eyeball][y > y.median() + 0.05], occ[eyeball][(y - y.median()).abs() < 0.01]
    assert float(upper.mean()) < 0.85 and float(middle.min()) > 0.95
    assert np.isfinite(occ.numpy()).all() and float(occ.min()) > 0.0


def test_skin_texture_is_off_unless_the_config_asks_for_it():
    from facesym.face.configured import face_model_from_config

    config = {"face_model": {"kind": "procedural", "left_side": "+x"},
              "identities": {"shape_dim": 20, "appearance_dim": 6}}
    assert face_model_from_config(config).appearance.texture_mm is None
    config["face_model"]["skin_texture"] = True
    assert face_model_from_config(config).appearance.texture_mm is not None


def test_skin_has_a_reproducible_texture_of_its_own_per_identity():
    """Mottling and grain of a few per cent on the skin, drawn from the identity's α: the same α gives the same skin,
    another α another; eyes, teeth and hair stay flat."""
    from facesym.face.appearance import SKIN_TEXTURE

    model = build_procedural_model(20, len(APPEARANCE_NAMES), skin_texture=True)

    alpha = torch.zeros(3, model.n_appearance)
    alpha[:2, :6] = torch.tensor([0.3, -0.2, 0.1, 0.0, 0.5, -1.0])
    alpha[2, :6] = torch.tensor([-0.7, 0.4, 1.2, 0.3, -0.5, 0.2])
    albedo = model.albedo(alpha)
    assert torch.equal(albedo[0], albedo[1])
    flat = PaletteAppearanceWithout(model)
    relative = _luma(albedo) / _luma(flat.albedo(alpha)) - 1.0
    skin = (model.regions["skin"] > 0.999) & (model.regions["skin_mesh"] > 0.5)
    expected = float(np.sqrt(sum(sd ** 2 for _, _, sd in SKIN_TEXTURE)))
    for row in relative:
        assert 0.5 * expected < float(row[skin].std()) < 1.5 * expected
        assert abs(float(row[skin].mean())) < 0.3 * expected
    assert float((relative[0, skin] - relative[2, skin]).abs().mean()) > 0.5 * expected
    for region in ("sclera", "iris", "teeth", "hair"):
        where = model.regions[region] > 0.999  # up to 0.001 of a skin region: 0.001 of the texture
        assert float(relative[:, where].abs().max()) < 1e-3, region
    # mirrored at the midline: the face stays mirror-symmetric, so the symmetry axes and their mirror differ only
    # through the classifier (the same check as benchmarks/bench_side_bias.py)
    from scipy.spatial import cKDTree

    template = model.template.numpy()
    mirror = cKDTree(template).query(template * np.array([-1.0, 1.0, 1.0]))[1]
    assert float((albedo[:, mirror] - albedo).abs().max()) < 5e-3


def PaletteAppearanceWithout(model):  # noqa: N802 - reads as the appearance it builds
    """The model's appearance without its texture coordinates: flat skin."""
    from dataclasses import replace

    return replace(model.appearance, texture_mm=None)
