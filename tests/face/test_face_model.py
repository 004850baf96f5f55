"""The morphable-model interface on the procedural face: Eq. 3's split, identity, appearance, pose."""

import numpy as np
import pytest
import torch

from facesym.face import MorphableModel, build_procedural_model
from facesym.face.lbs import axis_angle_to_matrix, linear_blend_skinning
from facesym.face.model import MIDLINE_BAND_MM, MM_PER_UNIT
from facesym.face.procedural import ACTION_UNITS, LIP_MIDLINE_BAND_MM, MOUTH_Y, slit_pairs

REQUIRED_AUS = ["AU1", "AU2", "AU4", "AU5", "AU6", "AU7", "AU9", "AU10", "AU12", "AU15", "AU16", "AU17", "AU20",
                "AU23", "AU24", "AU25", "AU26", "AU43"]


@pytest.fixture(scope="module")
def model() -> MorphableModel:
    return build_procedural_model()


@pytest.fixture(scope="module")
def draws(model):
    g = torch.Generator().manual_seed(0)
    b = 5
    return (torch.randn(b, model.n_shape, generator=g), torch.randn(b, model.n_expression, generator=g),
            torch.rand(b, generator=g))


def test_sizes_and_names(model):
    assert model.n_shape >= 20 and model.n_appearance == 6
    assert model.expression_names == list(ACTION_UNITS)
    assert set(REQUIRED_AUS) <= set(model.expression_names)
    assert model.triangles.dtype == torch.int64 and model.triangles.shape[1] == 3
    assert int(model.triangles.min()) >= 0 and int(model.triangles.max()) < model.n_vertices
    assert model.template.dtype == torch.float32 and model.pose_dim == 6


def test_deterministic_and_cached():
    a, b = build_procedural_model(), build_procedural_model()
    assert a is b
    c = build_procedural_model(n_shape=24)
    assert torch.equal(a.template, c.template) and torch.equal(a.shapedirs, c.shapedirs[:, :, :20])


def _jaw_pose(model, phi, t):
    return t[:, None] * (phi @ model.joint_dirs)


def test_s1_equals_unsplit_model_exactly(model, draws):
    beta, phi, t = draws
    unsplit = model.template + model.identity_offsets(beta) + t[:, None, None] * model.expression_offsets(phi)
    jaw = _jaw_pose(model, phi, t)
    assert jaw.abs().max() > 0.05  # the draws open the jaw: skinning is part of the comparison
    # The lids' contact (ProceduralModel.lid_contact) is part of the unsplit model too.
    expected = model.lid_contact(model.pose_vertices(unsplit, jaw))
    assert torch.equal(model.vertices(beta, phi, torch.ones(len(t)), t, backend="torch"), expected)
    pose = 0.1 * torch.randn(len(t), model.pose_dim)
    rotation = axis_angle_to_matrix(pose[:, :3])
    posed = model.lid_contact(model.pose_vertices(unsplit, pose + jaw), rotation)
    assert torch.equal(model.vertices(beta, phi, 1.0, t, pose=pose, backend="torch"), posed)
    # The CPU kernels: s = 1 is the model without a split (no vertex weakened by s), bit for bit.
    no_split = torch.zeros(model.n_vertices)
    for p, reference in ((None, expected), (pose, posed)):
        at_one = model.vertices(beta, phi, 1.0, t, pose=p, backend="numba")
        assert torch.equal(at_one, model.vertices(beta, phi, torch.rand(len(t)), t, pose=p, affected=no_split,
                                                  backend="numba"))
        assert torch.allclose(at_one, reference, rtol=0, atol=2e-6)


def test_split_follows_eq2(model, draws):
    """s scales the left half's blendshapes only; across the midline band the weight rises smoothly."""
    beta, phi, t = draws
    phi = phi.clone()
    phi[:, model.expression_names.index("AU26")] = 0.0  # the jaw is tested on its own below
    x, y = model.template[:, 0], model.template[:, 1]
    w = model.left_weight
    half_band = 0.5 * MIDLINE_BAND_MM / MM_PER_UNIT
    away = (y - MOUTH_Y).abs() > 0.75  # the band widens across the lips (below)
    assert torch.all(w[away & (x >= half_band)] == 1) and torch.all(w[away & (x <= -half_band)] == 0)
    assert torch.all(w[x.abs() <= 1e-6] == 0.5)
    inside = away & (x.abs() < half_band)
    assert inside.sum() > 50 and torch.all((w[inside] > 0) & (w[inside] < 1))
    # Across the lips (one band of muscle) the weight rises over LIP_MIDLINE_BAND_MM instead.
    lip_half_band = 0.5 * LIP_MIDLINE_BAND_MM / MM_PER_UNIT
    on_lips = (y - MOUTH_Y).abs() < 1e-6
    assert torch.all(w[on_lips & (x >= lip_half_band)] == 1) and torch.all(w[on_lips & (x <= -lip_half_band)] == 0)
    assert torch.all((w[on_lips & (x.abs() < 0.9 * lip_half_band)] - 0.5).abs() < 0.5)
    # Monotone in x along every row of the mesh: no seam, no fold of the split.
    for row_y in torch.unique(y[model.regions["skin_mesh"] > 0.5]):
        row = (y == row_y).nonzero()[:, 0]
        assert torch.all(torch.diff(w[row[torch.argsort(x[row])]]) >= 0), float(row_y)
    # Eq. 3 itself, before the lids' contact (which stops lids that the random draws push past each other).
    eq3 = MorphableModel.vertices
    neutral = eq3(model, beta, phi, 0.0, 0.0)
    full = eq3(model, beta, phi, 1.0, t)
    frozen = eq3(model, beta, phi, 0.0, t)
    assert torch.equal(frozen[:, w == 1], neutral[:, w == 1])
    assert torch.allclose(frozen[:, w == 0], full[:, w == 0], atol=1e-6)
    # Every vertex moves by the fraction 1 − w of its expression at s = 0 (Eq. 3 with E_L = w ⊙ E).
    assert torch.allclose(frozen, neutral + (1 - w)[None, :, None] * (full - neutral), atol=1e-5)
    half = eq3(model, beta, phi, 0.5, t)
    assert torch.allclose(half, 0.5 * (frozen + full), atol=1e-5)


def test_band_zero_is_the_papers_step():
    step = build_procedural_model(midline_band=0.0)
    x = step.template[:, 0]
    w = step.left_weight
    assert torch.all(w[x > 1e-6] == 1) and torch.all(w[x < -1e-6] == 0) and torch.all(w[x.abs() <= 1e-6] == 0.5)
    with pytest.raises(ValueError, match="midline_band"):
        build_procedural_model(midline_band=-1.0)


def test_jaw_is_a_joint_driven_by_t_never_by_s(model, draws):
    """AU26 rotates the jaw joint; s = 0 freezes the left half's blendshapes but opens the jaw as far as s = 1."""
    beta = draws[0][:1]
    jaw = model.expression_names.index("AU26")
    assert float(model.exprdirs[:, :, jaw].abs().max()) == 0.0
    assert model.joint_dirs[jaw, 3] > 0 and float(model.joint_dirs.abs().sum()) == float(model.joint_dirs[jaw, 3])
    phi = torch.zeros(1, model.n_expression)
    phi[0, jaw] = 1.0
    open_s1, open_s0 = model.vertices(beta, phi, 1.0, 1.0), model.vertices(beta, phi, 0.0, 1.0)
    assert torch.equal(open_s1, open_s0)
    chin = model.skin_weights[:, 1] > 0.99
    drop = open_s1[0, chin, 1] - model.vertices(beta, phi, 1.0, 0.0)[0, chin, 1]
    assert float(drop.mean()) < -0.08
    left, right = chin & (model.template[:, 0] > 0.1), chin & (model.template[:, 0] < -0.1)
    assert torch.isclose(drop[left[chin]].mean(), drop[right[chin]].mean(), rtol=1e-3)
    half = model.vertices(beta, phi, 0.3, 0.5)[0, chin, 1] - model.vertices(beta, phi, 1.0, 0.0)[0, chin, 1]
    assert 0.4 < float(half.mean() / drop.mean()) < 0.6  # t opens it (rotation: nearly linear)
    # The lower teeth and the tongue go down with the jaw.
    below = model.template[:, 1] < MOUTH_Y
    for region in ("teeth", "tongue"):
        part = (model.regions[region] > 0.5) & below
        assert part.sum() > 10 and float((open_s1[0, part, 1] - model.template[part, 1]).mean()) < -0.05, region


def test_action_units_are_anatomical_intensities(model):
    assert model.expression_bounds.shape == (model.n_expression, 2)
    assert torch.all(model.expression_bounds[:, 0] == 0) and torch.all(model.expression_bounds[:, 1] == 1)
    low, high = model.expression_box(3.0)
    assert np.all(low == 0) and np.all(high == 1)


def _signed_areas(v: torch.Tensor, tris: torch.Tensor) -> torch.Tensor:
    a, b, c = (v[..., tris[:, k], :2] for k in range(3))
    return (b[..., 0] - a[..., 0]) * (c[..., 1] - a[..., 1]) - (b[..., 1] - a[..., 1]) * (c[..., 0] - a[..., 0])


MOUTH_AUS = ("AU9", "AU10", "AU12", "AU15", "AU16", "AU17", "AU20", "AU23", "AU24", "AU25", "AU26")


def _flips(model: MorphableModel, beta: torch.Tensor, phi: torch.Tensor, s: float) -> tuple[torch.Tensor, ...]:
    """Skin triangles that face the viewer at rest and flip in the frontal projection at (φ, s, t = 1), shape
    ``(B, T)``, and the moved vertices ``(B, N, 3)``."""
    rest = model.vertices(beta, torch.zeros_like(phi), 1.0, 0.0)
    skin = model.regions["skin_mesh"][model.triangles].amin(1) > 0
    tris = model.triangles[skin]
    a0 = _signed_areas(rest, tris)
    # Triangles facing the viewer at rest (normal within 60° of the view axis): a rotation of the jaw turns the
    # underside of the chin away at the silhouette, which is no fold.
    normals = torch.linalg.cross(*(rest[:, tris[:, k]] - rest[:, tris[:, 0]] for k in (1, 2)), dim=-1)
    front = (normals[..., 2] / normals.norm(dim=-1).clamp_min(1e-12) > 0.5) & (a0 > 0)
    moved = model.vertices(beta, phi, s, 1.0)
    return front & (_signed_areas(moved, tris) <= 0), moved


@pytest.mark.parametrize("s", [1.0, 0.0])
def test_no_fold_anywhere_in_the_box(model, s):
    """48 identities drawn as the pipeline draws them, each with random φ in the anatomical box, a random corner of
    the whole box and a random corner of the mouth's units (the others at 0): no skin triangle facing the viewer
    flips in the frontal projection, and neither the lips nor the lids pass through each other."""
    g = torch.Generator().manual_seed(11)
    n = 48
    beta = torch.randn(n, model.n_shape, generator=g)
    uniform = torch.rand(n, model.n_expression, generator=g)
    corner = (torch.rand(n, model.n_expression, generator=g) > 0.5).float()
    corner[0] = 1.0
    mouth = torch.zeros(n, model.n_expression)
    columns = [model.expression_names.index(au) for au in MOUTH_AUS]
    mouth[:, columns] = (torch.rand(n, len(columns), generator=g) > 0.5).float()
    mouth[0, columns] = 1.0
    for kind, phi in (("random", uniform), ("box corner", corner), ("mouth corner", mouth)):
        flipped, moved = _flips(model, beta, phi, s)
        faces = int(flipped.any(1).sum())
        assert int(flipped.sum()) == 0, f"{kind}: {int(flipped.sum())} triangles flip in {faces} faces"
        for name, (upper, lower) in slit_pairs().items():
            assert upper.size > 10 and np.array_equal(model.template[upper, 0], model.template[lower, 0])
            gap = moved[:, upper, 1] - moved[:, lower, 1]
            assert float(gap.min()) >= -1e-4, f"{kind}, {name}: upper and lower edge cross by {-float(gap.min()):.4f}"


# Faces of the fold census (benchmarks/README.md, "Folds": seeds 1-12, 48 identities each drawn as below) that
# folded before the fixes: (seed, identity, action units at E). Short philtra (-1.3, -3.4 with a lower face of
# -3.3, -2.4 SD) with the lip raisers or the lip tighteners at E folded the skin above the upper lip or its red;
# long philtra (+1.4, +1.0 SD) folded the skin below the lower lip when AU16 drew it 6 mm down against AU17.
CENSUS_FOLDS = [
    (3, 12, "AU1 AU2 AU6 AU9 AU10 AU12 AU15 AU16 AU17 AU20 AU25 AU43"),
    (4, 23, "AU1 AU4 AU7 AU12 AU15 AU16 AU20 AU23 AU24 AU25 AU26 AU43"),
    (4, 23, "AU1 AU5 AU6 AU9 AU10 AU12 AU15 AU16 AU17 AU24 AU43"),
    (9, 8, "AU4 AU6 AU9 AU10 AU12 AU16 AU20 AU25"),
    (7, 43, "AU2 AU4 AU5 AU12 AU16 AU20 AU24 AU25 AU26"),
    (9, 29, "AU2 AU9 AU10 AU12 AU16 AU17 AU20 AU26 AU43"),
]


@pytest.mark.parametrize("s", [1.0, 0.0])
def test_no_fold_for_the_census_faces_that_folded(model, s):
    """The faces that folded in the census stay unfolded (the philtrum's identity field and the lip raisers' and
    AU16's fall-off along their muscles, commit notes in benchmarks/README.md)."""
    beta = torch.stack([torch.randn(48, model.n_shape, generator=torch.Generator().manual_seed(seed))[index]
                        for seed, index, _ in CENSUS_FOLDS])
    phi = torch.zeros(len(CENSUS_FOLDS), model.n_expression)
    for row, (_, _, aus) in enumerate(CENSUS_FOLDS):
        phi[row, [model.expression_names.index(au) for au in aus.split()]] = 1.0
    flipped, _ = _flips(model, beta, phi, s)
    assert int(flipped.sum()) == 0, f"{int(flipped.sum())} triangles flip in faces {flipped.any(1).tolist()}"


def test_left_side_is_configurable(draws):
    plus, minus = build_procedural_model(left_side="+x"), build_procedural_model(left_side="-x")
    flip = torch.tensor([-1.0, 1.0, 1.0])
    assert torch.equal(minus.template, plus.template * flip)
    beta, phi, t = draws
    phi = phi.clone()
    phi[:, minus.expression_names.index("AU26")] = 0.0  # the jaw opens at s = 0 too
    frozen = minus.vertices(beta, phi, 0.0, t)
    neutral = minus.vertices(beta, phi, 0.0, 0.0)
    left = minus.left_weight == 1
    assert bool((minus.template[left, 0] < 0).all()) and torch.equal(frozen[:, left], neutral[:, left])
    assert torch.allclose(frozen, plus.vertices(beta, phi, 0.0, t) * flip, atol=1e-6)


def test_every_action_unit_moves_both_halves(model):
    x = model.template[:, 0]
    for k, name in enumerate(model.expression_names):
        if name == "AU26":  # the jaw joint: test_jaw_is_a_joint_driven_by_t_never_by_s
            continue
        d = model.exprdirs[:, :, k].norm(dim=1)
        left, right = d[x > 0.05].max(), d[x < -0.05].max()
        assert left > 0.02 and torch.isclose(left, right, rtol=1e-3), name


def _unique_index(keys: list[tuple[float, float, float]]) -> dict[tuple[float, float, float], int]:
    seen: dict[tuple[float, float, float], int] = {}
    for i, k in enumerate(keys):
        seen[k] = -1 if k in seen else i
    return {k: i for k, i in seen.items() if i >= 0}


def test_identity_and_expression_fields_are_mirror_symmetric(model):
    """Fields sampled at mirrored skin grid points agree (x odd, y and z even)."""
    skin = model.regions["skin_mesh"] > 0
    pos = model.template[skin]
    dirs = torch.cat([model.shapedirs, model.exprdirs], 2)[skin]
    keys = [(round(float(p[0]), 5), round(float(p[1]), 5), round(float(p[2]), 5)) for p in pos]
    # The copies of a slit vertex (upper and lower lid or lip) share a position: leave them out.
    unique = _unique_index(keys)
    pairs = [(i, unique[(-k[0], k[1], k[2])]) for k, i in unique.items() if k[0] > 0.01]
    assert len(pairs) > 1000
    i, j = torch.tensor(pairs).T
    flip = torch.tensor([-1.0, 1.0, 1.0])[None, :, None]
    assert torch.allclose(dirs[i], dirs[j] * flip, atol=1e-5)


def test_mouth_opens_for_au25_and_au26(model):
    """AU25/AU26 move the lower lip away from the upper lip (slit vertices share rest positions)."""
    for au in ("AU25", "AU26"):
        phi = torch.zeros(1, model.n_expression)
        phi[0, model.expression_names.index(au)] = 1.0
        v = model.vertices(torch.zeros(1, model.n_shape), phi, 1.0, 1.0)[0]
        on_slit = (model.template[:, 1] - MOUTH_Y).abs() < 1e-6
        center = on_slit & (model.template[:, 0].abs() < 0.05)
        ys = v[center, 1]
        assert float(ys.max() - ys.min()) > 0.04, au


def test_albedo_is_plausible(model):
    g = torch.Generator().manual_seed(1)
    alpha = torch.randn(64, model.n_appearance, generator=g) * 2.0
    a = model.albedo(alpha)
    assert a.shape == (64, model.n_vertices, 3) and a.min() >= 0 and a.max() <= 1
    skin = model.albedo(torch.zeros(1, model.n_appearance))[0, model.regions["skin"] > 0.99]
    assert torch.all(skin[:, 0] > skin[:, 2])  # skin is warm
    assert a[:, model.regions["skin"] > 0.99].mean(1).std(0).min() > 0.05  # skin tone varies across people


def test_inputs_are_checked(model):
    with pytest.raises(ValueError, match="beta"):
        model.vertices(torch.zeros(2, model.n_shape + 1), torch.zeros(2, model.n_expression), 1.0, 1.0)
    with pytest.raises(ValueError, match="s must"):
        model.vertices(torch.zeros(2, model.n_shape), torch.zeros(2, model.n_expression), torch.ones(3), 1.0)
    with pytest.raises(ValueError, match="n_shape"):
        build_procedural_model(n_shape=99)
    with pytest.raises(ValueError, match="left_side"):
        build_procedural_model(left_side="left")


def test_numpy_inputs_broadcast(model):
    v = model.vertices(np.zeros(model.n_shape), np.zeros((3, model.n_expression)), 1.0, np.ones(3))
    assert v.shape == (3, model.n_vertices, 3) and v.dtype == torch.float32
    assert torch.equal(v[0], model.template)


def test_jaw_pose_opens_the_mouth_by_skinning(model):
    pose = torch.zeros(1, model.pose_dim)
    pose[0, 3] = 0.25  # jaw about +x: chin down
    rest = model.vertices(torch.zeros(1, model.n_shape), torch.zeros(1, model.n_expression), 1.0, 0.0)
    posed = model.pose_vertices(rest, pose)
    jaw = model.skin_weights[:, 1:]
    rot = axis_angle_to_matrix(pose[0, 3:6])
    rotated = (rest[0] - model.joint_rest[1]) @ rot.T + model.joint_rest[1]
    # The head joint does not turn, so every vertex blends its rest position with the jaw's rotation.
    assert torch.allclose(posed[0], jaw * rotated + (1 - jaw) * rest[0], atol=1e-5)
    assert torch.equal(posed[0, jaw[:, 0] == 0], rest[0, jaw[:, 0] == 0])
    chin = jaw[:, 0] > 0.99
    assert chin.sum() > 100 and float((posed[0, chin, 1] - rest[0, chin, 1]).mean()) < -0.05


def test_lbs_chains_parent_rotations():
    joints = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    verts = torch.tensor([[[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    weights = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    pose = torch.tensor([[0.0, 0.0, np.pi / 2, 0.0, 0.0, np.pi / 2]])  # root and child: 90° about z each
    out = linear_blend_skinning(verts, pose, joints, torch.tensor([-1, 0]), weights)
    # The root turns the child joint to (0, 1, 0); the child adds another 90°, so (2,0,0) ends at (-1, 1, 0).
    assert torch.allclose(out[0, 0], torch.tensor([-1.0, 1.0, 0.0]), atol=1e-6)
    assert torch.allclose(out[0, 1], torch.tensor([-1.0, 0.0, 0.0]), atol=1e-6)
    assert torch.equal(axis_angle_to_matrix(torch.zeros(3)), torch.eye(3))
