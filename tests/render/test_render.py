"""The renderer: coverage, depth order, holes, background, shading, and agreement of the two backends."""

import numpy as np
import pytest
import torch
from scipy.ndimage import binary_fill_holes

from facesym.emotions import EMOTIONS
from facesym.face import build_procedural_model
from facesym.face.prototypes import prototype_phi
from facesym.render import LIGHT_DIM, OrthographicCamera, lighting_from_coefficients, render, render_depth
from facesym.render.shading import LUMA

BACKENDS = ("numba", "torch")
UNIT = OrthographicCamera(0.0, 0.0, 1.0)  # the window [-1, 1]²
FLAT = torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])  # ambient only: output = albedo


def _pixel_centres(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Model-frame x and y of every pixel centre under ``UNIT``, shape (size, size) each."""
    c = (np.arange(size) + 0.5) / size * 2.0 - 1.0
    return np.meshgrid(c, -c)


@pytest.fixture(scope="module")
def face():
    model = build_procedural_model()
    phi = torch.stack([prototype_phi(model, e) for e in ("neutral", *EMOTIONS)])
    g = torch.Generator().manual_seed(3)
    beta = torch.randn(1, model.n_shape, generator=g)
    verts = torch.cat([model.vertices(beta, phi, s, 1.0) for s in (1.0, 0.0)])
    albedo = model.albedo(torch.randn(1, model.n_appearance, generator=g))
    light = lighting_from_coefficients(torch.randn(len(verts), 4, generator=g))
    return model, verts, albedo, light


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("winding", [(0, 1, 2), (0, 2, 1)])
def test_known_triangle_coverage(backend, winding):
    size = 32
    corners = np.array([[-0.61, -0.47], [0.53, -0.71], [0.07, 0.66]])
    verts = torch.tensor(np.c_[corners, np.zeros(3)], dtype=torch.float32)[None]
    img = render(verts, torch.tensor([winding]), torch.full((3, 3), 0.8), size=size, camera=UNIT,
                 lighting=FLAT, backend=backend, background=0.1)
    x, y = _pixel_centres(size)
    inside = np.ones_like(x, bool)
    for k in range(3):
        a, b = corners[k], corners[(k + 1) % 3]
        inside &= (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]) > 0  # corners are counter-clockwise
    assert inside.sum() > 100
    np.testing.assert_array_equal(img[0, 0].numpy() > 0.5, inside)
    np.testing.assert_allclose(img[0, :, inside].numpy(), 0.8, atol=1e-6)
    np.testing.assert_array_equal(img[0, :, ~inside].numpy(), np.float32(0.1))


@pytest.mark.parametrize("backend", BACKENDS)
def test_nearest_surface_wins_whatever_the_draw_order(backend):
    square = np.array([[-0.8, -0.8], [0.8, -0.8], [0.8, 0.8], [-0.8, 0.8]])
    verts = np.concatenate([np.c_[square, np.full(4, 0.2)], np.c_[square * 0.5, np.full(4, 0.5)]])
    colors = np.concatenate([np.full((4, 3), 0.3), np.full((4, 3), 0.9)])
    near_first = torch.tensor([[4, 5, 6], [4, 6, 7], [0, 1, 2], [0, 2, 3]])
    for tris in (near_first, near_first.flip(0)):
        img = render(torch.tensor(verts, dtype=torch.float32), tris, torch.tensor(colors, dtype=torch.float32),
                     size=20, camera=UNIT, lighting=FLAT, backend=backend)[0, 0]
        assert float(img[10, 10]) == pytest.approx(0.9) and float(img[2, 10]) == pytest.approx(0.3)
        depth = render_depth(torch.tensor(verts, dtype=torch.float32), tris, size=20, camera=UNIT, backend=backend)
        assert float(depth[0, 10, 10]) == pytest.approx(0.5) and float(depth[0, 0, 0]) == -np.inf


@pytest.mark.parametrize("backend", BACKENDS)
def test_jittered_grid_is_watertight(backend):
    """Pixel centres on shared edges are drawn by one of the two triangles: no cracks in a closed mesh."""
    n = 13
    g = np.linspace(-0.9, 0.9, n)
    xx, yy = np.meshgrid(g, g)
    rng = np.random.default_rng(0)
    inner = (np.abs(xx) < 0.85) & (np.abs(yy) < 0.85)
    xx[inner] += rng.uniform(-0.05, 0.05, inner.sum())
    yy[inner] += rng.uniform(-0.05, 0.05, inner.sum())
    verts = torch.tensor(np.c_[xx.ravel(), yy.ravel(), rng.uniform(0, 0.1, n * n)], dtype=torch.float32)
    idx = np.arange(n * n).reshape(n, n)
    quads = np.stack([idx[:-1, :-1], idx[:-1, 1:], idx[1:, 1:], idx[1:, :-1]], -1).reshape(-1, 4)
    tris = torch.tensor(np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]]))
    for size in (48, 96, 224):
        depth = render_depth(verts, tris, size=size, camera=UNIT, backend=backend)[0]
        x, y = _pixel_centres(size)
        assert torch.isfinite(depth[torch.from_numpy((np.abs(x) < 0.9 - 1e-3) & (np.abs(y) < 0.9 - 1e-3))]).all()


@pytest.mark.parametrize("size", [48, 224])
def test_no_holes_in_the_face(face, size):
    model, verts, albedo, light = face
    depth = render_depth(verts, model.triangles, size=size)
    for mask in (torch.isfinite(depth)).numpy():
        assert mask.mean() > 0.3
        assert np.array_equal(binary_fill_holes(mask), mask)


def test_no_holes_across_the_expression_search_range():
    """The optimisers search the model's box (FACS intensities in [0, 1]): lips and lids pulled apart as far as the
    anatomy allows, the jaw dropped, still show no background."""
    model = build_procedural_model()
    g = torch.Generator().manual_seed(7)
    low, high = (torch.as_tensor(b, dtype=torch.float32) for b in model.expression_box(3.0))
    phi = low + (high - low) * torch.rand(32, model.n_expression, generator=g)
    phi[:8] = high
    verts = model.vertices(torch.randn(32, model.n_shape, generator=g) * 2, phi, torch.rand(32, generator=g), 1.0)
    for mask in torch.isfinite(render_depth(verts, model.triangles, size=96)).numpy():
        assert np.array_equal(binary_fill_holes(mask), mask)


def test_background_outside_the_face(face):
    model, verts, albedo, light = face
    img = render(verts[:2], model.triangles, albedo, size=64, lighting=light[:2], background=0.37)
    outside = ~torch.isfinite(render_depth(verts[:2], model.triangles, size=64))
    assert outside[:, 0, 0].all() and outside.float().mean() > 0.2
    assert torch.all(img.permute(1, 0, 2, 3)[:, outside] == np.float32(0.37))


@pytest.mark.parametrize("color", ["rgb", "gray"])
def test_backends_agree(face, color):
    model, verts, albedo, light = face
    for size in (48, 112):
        a = render(verts, model.triangles, albedo, size=size, lighting=light, color=color)
        b = render(verts, model.triangles, albedo, size=size, lighting=light, color=color, backend="torch")
        assert a.shape == b.shape == (len(verts), 3 if color == "rgb" else 1, size, size)
        assert a.dtype == b.dtype == torch.float32 and 0 <= float(a.min()) and float(a.max()) <= 1
        assert (a - b).abs().max() < 1e-4
    assert torch.equal(render_depth(verts, model.triangles, size=64),
                       render_depth(verts, model.triangles, size=64, backend="torch"))


def test_gray_is_luma_of_rgb(face):
    model, verts, albedo, light = face
    rgb = render(verts[:2], model.triangles, albedo, size=48, lighting=light[:2])
    gray = render(verts[:2], model.triangles, albedo, size=48, lighting=light[:2], color="gray")
    luma = (rgb * torch.tensor(LUMA)[None, :, None, None]).sum(1, keepdim=True)
    assert torch.allclose(gray, luma, atol=1e-5)


def test_symmetric_face_renders_symmetric_and_s0_does_not(face):
    model, verts, albedo, _ = face
    symmetric_albedo = model.albedo(torch.zeros(1, model.n_appearance))
    img = render(verts, model.triangles, symmetric_albedo, size=96, color="gray")
    n = len(verts) // 2
    mirror_error = (img - img.flip(-1)).abs().mean((1, 2, 3))
    assert mirror_error[0] < 0.01  # neutral
    assert mirror_error[1:n].max() < 0.02  # prototypes at s = 1
    assert torch.all(mirror_error[n + 1:] > 2 * mirror_error[1:n])  # prototypes at s = 0


def test_lambertian_shading():
    plane = torch.tensor([[-1.0, -1.0, 0.0], [1.0, -1.0, 0.0], [1.0, 1.0, 0.0], [-1.0, 1.0, 0.0]])
    verts = torch.stack([plane, plane.clone()])
    verts[1, :, 2] = 0.9 * verts[1, :, 1]  # tilted about x: its normal points down and to the viewer
    tris = torch.tensor([[0, 1, 2], [0, 2, 3]])
    light = torch.tensor([0.2, 0.2, 0.2, 0.7, 0.7, 0.7, 0.0, 0.6, 0.8])
    img = render(verts, tris, torch.ones(4, 3), size=8, camera=UNIT, lighting=light)[:, 0, 4, 4]
    n_tilted = torch.tensor([0.0, -0.9, 1.0]) / np.hypot(0.9, 1.0)
    expected = 0.2 + 0.7 * torch.stack([torch.tensor(0.8), (n_tilted * light[6:]).sum().clamp_min(0)])
    assert torch.allclose(img, expected, atol=1e-5)


def test_lighting_from_coefficients():
    ref = lighting_from_coefficients(torch.zeros(4))
    assert ref.shape == (1, LIGHT_DIM)
    direction = ref[0, 6:]
    assert torch.isclose(direction.norm(), torch.tensor(1.0)) and direction[1] > 0.3 and direction[2] > 0.8
    extreme = lighting_from_coefficients(torch.tensor([[10.0, -10.0, 10.0, 10.0], [-10.0, 10.0, -10.0, -10.0]]))
    assert torch.all(extreme[:, 6:][:, 2] > 0.5)  # still from the front
    assert torch.all(extreme[:, :6] > 0.1) and torch.all(extreme[:, :3] + extreme[:, 3:6] < 1.4)
    draws = lighting_from_coefficients(torch.randn(200, 4, generator=torch.Generator().manual_seed(0)))
    assert draws[:, 6].std() > 0.1 and draws[:, 0].std() > 0.02


def test_inputs_are_checked(face):
    model, verts, albedo, _ = face
    with pytest.raises(ValueError, match="lighting_from_coefficients"):
        render(verts[:1], model.triangles, albedo, size=32, lighting=torch.zeros(1, 4))
    with pytest.raises(ValueError, match="backend"):
        render(verts[:1], model.triangles, albedo, size=32, backend="opengl")
    with pytest.raises(ValueError, match="CPU only"):
        render(verts[:1], model.triangles, albedo, size=32, device="cuda")
    with pytest.raises(ValueError, match="color"):
        render(verts[:1], model.triangles, albedo, size=32, color="hsv")
    with pytest.raises(ValueError, match="vertex_colors"):
        render(verts[:1], model.triangles, albedo[:, :10], size=32)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_torch_backend_on_cuda(face):
    model, verts, albedo, light = face
    a = render(verts, model.triangles, albedo, size=64, lighting=light)
    b = render(verts, model.triangles, albedo, size=64, lighting=light, backend="torch", device="cuda")
    assert b.device.type == "cuda" and (a - b.cpu()).abs().max() < 1e-3


def test_crease_occlusion_darkens_the_folds_an_expression_forms():
    """Forehead and glabellar furrows (AU1+2+4) darken where the expression moves the face and nowhere else; the
    half frozen at s = 0 keeps its neutral shading, and both backends shade with it."""
    from facesym.render.shading import CREASE, crease_occlusion

    model = build_procedural_model()
    phi = torch.zeros(1, model.n_expression)
    for au in ("AU1", "AU2", "AU4"):
        phi[0, model.expression_names.index(au)] = 1.0
    beta = torch.zeros(1, model.n_shape)
    faces = torch.cat([model.vertices(beta, phi, s, t) for s, t in ((1.0, 0.0), (1.0, 1.0), (0.0, 1.0))])
    occ = crease_occlusion(faces, model.triangles)[..., 0]
    assert float(occ.min()) >= np.float32(CREASE[2]) and float(occ.max()) <= 1.0
    x, y = model.template[:, 0], model.template[:, 1]
    forehead = (model.regions["skin_mesh"] > 0) & (y > 0.1) & (y < 0.9) & (x.abs() < 0.6)
    darker = occ[1] < occ[0] - 0.05
    assert int((darker & forehead).sum()) > 30 and int((darker & ~forehead).sum()) < int((darker & forehead).sum())
    frozen = model.left_weight == 1
    assert torch.allclose(occ[2, frozen & forehead & (x > 0.15)], occ[0, frozen & forehead & (x > 0.15)], atol=1e-5)
    right = (model.left_weight == 0) & forehead
    assert int((occ[2] < occ[0] - 0.05)[right].sum()) > 10
