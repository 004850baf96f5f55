"""The renderer: coverage, depth order, holes, background, shading, and agreement of the two backends."""

import numpy as np
import pytest
import torch
from scipy.ndimage import binary_fill_holes

from facesym.emotions import EMOTIONS
from facesym.face import build_procedural_model
from facesym.face.prototypes import prototype_phi
from facesym.render import LIGHT_DIM, OrthographicCamera, lighting_from_coefficients, render, render_depth
from facesym.render.occlusion import coarse_vertices, horizon_occlusion
from facesym.render.shading import LUMA, sh_basis, sh_from_directional, vertex_normals

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


def _shading(light: torch.Tensor, normals: torch.Tensor) -> torch.Tensor:
    """S(n) per colour channel of SH lights (B, 27) at unit normals (M, 3): shape (B, M, 3)."""
    return torch.einsum("mk,bck->bmc", sh_basis(normals), light.reshape(-1, 3, 9))


def _fibonacci_sphere(n: int) -> torch.Tensor:
    k = np.arange(n) + 0.5
    z = 1.0 - 2.0 * k / n
    phi = np.pi * (1.0 + 5**0.5) * k
    r = np.sqrt(1.0 - z * z)
    return torch.tensor(np.c_[r * np.cos(phi), r * np.sin(phi), z], dtype=torch.float64)


def test_sh_lights_are_the_projection_of_a_sky_and_a_soft_key_light():
    """The SH coefficients equal the numerical order-2 projection of the exact shading function of a sky with a
    vertical gradient plus a disc light: S(n) = a (1 + g·2/3·n_y) + D · mean over the disc of max(0, n·ω)."""
    direction = torch.tensor([[0.3, 0.5, 0.81]], dtype=torch.float64)
    direction = direction / direction.norm()
    ambient = torch.tensor([[0.3, 0.35, 0.4]], dtype=torch.float64)
    strength = torch.tensor([[0.7, 0.6, 0.5]], dtype=torch.float64)
    radius, gradient = 0.35, 0.3
    light = sh_from_directional(ambient, strength, direction, radius, gradient)
    normals = _fibonacci_sphere(20000)
    # Points of the disc: a cone of half-angle `radius` about `direction`, uniform in solid angle.
    cone = _fibonacci_sphere(20000)
    cone = cone[cone[:, 2] >= np.cos(radius)]
    axis = torch.linalg.cross(torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64), direction[0])
    angle = torch.arccos(direction[0, 2])
    k = torch.tensor([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]]) / axis.norm()
    rotation = torch.eye(3, dtype=torch.float64) + torch.sin(angle) * k + (1 - torch.cos(angle)) * k @ k
    disc = cone @ rotation.T
    exact = (ambient[:, None] * (1 + gradient * 2 / 3 * normals[:, 1:2])
             + strength[:, None] * (normals @ disc.T).clamp_min(0).mean(1)[None, :, None])
    basis = sh_basis(normals)
    projected = torch.einsum("mk,bmc->bck", basis, exact) * (4 * np.pi / len(normals))
    np.testing.assert_allclose(projected.reshape(1, -1).numpy(), light.numpy(), atol=2e-3)


def test_sh_shading_of_planes_in_both_backends():
    """A uniform sky shades every orientation alike; a point light gives the order-2 clamped cosine, 17/16 of its
    strength facing it and 3/32 at grazing incidence."""
    plane = torch.tensor([[-1.0, -1.0, 0.0], [1.0, -1.0, 0.0], [1.0, 1.0, 0.0], [-1.0, 1.0, 0.0]])
    verts = torch.stack([plane, plane.clone()])
    verts[1, :, 2] = 0.9 * verts[1, :, 1]  # tilted about x: its normal points down and to the viewer
    tris = torch.tensor([[0, 1, 2], [0, 2, 3]])
    sky = sh_from_directional(torch.full((1, 3), 0.4), torch.zeros(1, 3), torch.tensor([[0.0, 0.0, 1.0]]))
    point = sh_from_directional(torch.zeros(1, 3), torch.full((1, 3), 0.5), torch.tensor([[0.0, 0.0, 1.0]]))
    n_tilted = torch.tensor([0.0, -0.9, 1.0]) / np.hypot(0.9, 1.0)
    c = float(n_tilted[2])
    for backend in BACKENDS:
        img = render(verts, tris, torch.ones(4, 3), size=8, camera=UNIT, lighting=sky, backend=backend)
        assert torch.allclose(img[:, :, 4, 4], torch.tensor(0.4), atol=1e-5)
        img = render(verts, tris, torch.ones(4, 3), size=8, camera=UNIT, lighting=point, backend=backend)
        expected = 0.5 * torch.tensor([17 / 16, 0.25 + 0.5 * c + 5 / 16 * (3 * c * c - 1) / 2])
        assert torch.allclose(img[:, 0, 4, 4], expected, atol=1e-5)
    grazing = _shading(point, torch.tensor([[1.0, 0.0, 0.0]]))
    assert torch.allclose(grazing, torch.tensor(0.5 * 3 / 32), atol=1e-6)


def test_lighting_from_coefficients():
    ref = lighting_from_coefficients(torch.zeros(4))
    assert ref.shape == (1, LIGHT_DIM)
    up, down, front, back = (torch.tensor([v], dtype=torch.float32) for v in
                             ([0.0, 1.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, -1.0]))
    # Lit from the front and above, and the frontal plane keeps the brightness of the former light (0.36 + 0.68·0.9).
    assert float(_shading(ref, front)[0, 0, 1]) == pytest.approx(0.36 + 0.68 * 0.9, abs=0.02)
    assert torch.all(_shading(ref, up) > _shading(ref, down) + 0.2)
    extreme = lighting_from_coefficients(torch.tensor([[10.0, -10.0, 10.0, 10.0], [-10.0, 10.0, -10.0, -10.0]]))
    assert torch.all(_shading(extreme, front) > _shading(extreme, back) + 0.25)  # still from the front
    assert torch.all(_shading(extreme, front) > 0.5) and torch.all(_shading(extreme, front) < 1.3)
    assert torch.all(_shading(extreme, back) > 0.0)
    draws = lighting_from_coefficients(torch.randn(200, 4, generator=torch.Generator().manual_seed(0)))
    side = _shading(draws, torch.tensor([[1.0, 0.0, 0.0]]))[:, 0, 1]
    assert side.std() > 0.05 and _shading(draws, front)[:, 0, 1].std() > 0.02


def test_old_light_layout_is_converted():
    old = torch.tensor([0.2, 0.2, 0.2, 0.7, 0.7, 0.7, 0.0, 0.6, 0.8])
    converted = sh_from_directional(old[None, :3], old[None, 3:6], old[None, 6:])
    model = build_procedural_model()
    verts = model.vertices(torch.zeros(1, model.n_shape), torch.zeros(1, model.n_expression), 1.0, 1.0)
    albedo = model.albedo(torch.zeros(1, model.n_appearance))
    assert torch.equal(render(verts, model.triangles, albedo, size=32, lighting=old),
                       render(verts, model.triangles, albedo, size=32, lighting=converted))


def test_ambient_occlusion_of_a_groove_and_a_plane():
    """Open skin sees the whole sky; the bottom of a groove 6 mm deep and 12 mm wide sees less, its rim more."""
    n = 41
    g = np.linspace(-1.0, 1.0, n)
    xx, yy = np.meshgrid(g, g)
    idx = np.arange(n * n).reshape(n, n)
    quads = np.stack([idx[:-1, :-1], idx[:-1, 1:], idx[1:, 1:], idx[1:, :-1]], -1).reshape(-1, 4)
    tris = torch.tensor(np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]]))
    groove = -0.08 * np.clip(1 - np.abs(xx) / 0.08, 0, None)
    verts = torch.tensor(np.stack([np.c_[xx.ravel(), yy.ravel(), np.zeros(n * n)],
                                   np.c_[xx.ravel(), yy.ravel(), groove.ravel()]]), dtype=torch.float32)
    camera = OrthographicCamera(0.0, 0.0, 1.0)
    size = 128
    screen = camera.project(verts, size)
    normals = vertex_normals(verts, tris)
    depth = render_depth(verts, tris, size=size, camera=camera)
    ao = horizon_occlusion(screen, normals, depth, float(camera.screen_params(size, size)[2]))[..., 0]
    inner = torch.from_numpy((np.abs(yy) < 0.7).ravel() & (np.abs(xx) < 0.7).ravel())
    assert torch.allclose(ao[0, inner], torch.tensor(1.0))
    bottom = torch.from_numpy(np.abs(xx.ravel()) < 1e-6) & inner
    far = torch.from_numpy(np.abs(xx.ravel()) > 0.3) & inner
    assert float(ao[1, bottom].max()) < 0.8 and torch.allclose(ao[1, far], torch.tensor(1.0))
    # Both backends shade with it: a white groove under a uniform sky shows its occlusion.
    sky = sh_from_directional(torch.ones(1, 3), torch.zeros(1, 3), torch.tensor([[0.0, 0.0, 1.0]]))
    images = [render(verts[1:], tris, torch.ones(n * n, 3), size=size, camera=camera, lighting=sky,
                     backend=backend, color="gray") for backend in BACKENDS]
    assert (images[0] - images[1]).abs().max() < 1e-4
    centre = images[0][0, 0, size // 2, size // 2 - 1 : size // 2 + 1]
    assert float(centre.max()) < 0.8 and float(images[0][0, 0, size // 2, size // 4]) == pytest.approx(1.0)


def test_ambient_occlusion_follows_the_expression():
    """The opened mouth's inside is shaded; raised brows (AU1+2+4+5) change their occlusion where they move, and the
    half frozen at s = 0 keeps its neutral occlusion away from the midline band."""
    model = build_procedural_model()
    brows = torch.zeros(1, model.n_expression)
    for au in ("AU1", "AU2", "AU4", "AU5"):
        brows[0, model.expression_names.index(au)] = 1.0
    beta = torch.zeros(1, model.n_shape)
    faces = torch.cat([model.vertices(beta, brows, s, t) for s, t in ((1.0, 0.0), (1.0, 1.0), (0.0, 1.0))]
                      + [model.vertices(beta, prototype_phi(model, "surprise")[None], 1.0, 1.0)])
    size = 112
    screen = model.camera.project(faces, size)
    depth = render_depth(faces, model.triangles, size=size)
    ao = horizon_occlusion(screen, vertex_normals(faces, model.triangles), depth,
                           float(model.camera.screen_params(size, size)[2]))[..., 0]
    x, y = model.template[:, 0], model.template[:, 1]
    frozen_brow = (model.left_weight == 1) & (model.regions["skin_mesh"] > 0) & (y > 0.1) & (x > 0.3)
    assert int(frozen_brow.sum()) > 50
    assert torch.allclose(ao[2, frozen_brow], ao[0, frozen_brow], atol=1e-5)
    moved_brow = (model.left_weight == 0) & (model.regions["skin_mesh"] > 0) & (y > 0.1) & (x < -0.3)
    assert float((ao[1, moved_brow] - ao[0, moved_brow]).abs().max()) > 0.02
    assert torch.allclose(ao[2, moved_brow], ao[1, moved_brow], atol=1e-5)
    # The inside of the opened mouth that the camera sees lies in the shade of the lips and teeth around it.
    col, row = (screen[3, :, i].floor().long().clamp(0, size - 1) for i in (0, 1))
    seen = (depth[3, row, col] - faces[3, :, 2]).abs() < 0.02
    inside = seen & (model.regions["mouth_cavity"] > 0) & (model.regions["teeth"] < 0.5)
    assert int(inside.sum()) > 10 and float(ao[3, inside].mean()) < 0.8


def test_occlusion_is_sampled_on_a_maximal_independent_set():
    """No two sampled vertices share an edge, every other vertex has a sampled neighbour, and the face's vertices
    are sampled at about a quarter of them."""
    model = build_procedural_model()
    tris = model.triangles.numpy()
    coarse, indptr, indices = coarse_vertices(tris, model.n_vertices)
    edges = np.concatenate([tris[:, [0, 1]], tris[:, [1, 2]], tris[:, [2, 0]]])
    assert not np.any(coarse[edges[:, 0]] & coarse[edges[:, 1]])
    counts = np.diff(indptr)
    assert np.all(counts[~coarse] >= 1) and np.all(counts[coarse] == 0) and np.all(coarse[indices])
    assert 0.15 < coarse.mean() < 0.4


def test_ambient_occlusion_does_not_depend_on_the_model_units():
    """The sampling distances are relative to the camera window: the face in metres under a camera framed in metres
    (FLAME's units) is occluded exactly like the face in model units."""
    model = build_procedural_model()
    faces = model.vertices(torch.zeros(1, model.n_shape), prototype_phi(model, "surprise")[None], 1.0, 1.0)
    results = []
    for factor in (1.0, 0.075):  # 1 model unit = 75 mm
        camera = OrthographicCamera(0.0, -0.28 * factor, 1.35 * factor)
        verts = faces * factor
        screen = camera.project(verts, 96)
        depth = render_depth(verts, model.triangles, size=96, camera=camera)
        results.append(horizon_occlusion(screen, vertex_normals(verts, model.triangles), depth,
                                         float(camera.screen_params(96, 96)[2]), model.triangles))
    assert float(results[0].min()) < 0.5
    assert (results[0] - results[1]).abs().max() < 1e-3


def test_rotating_a_light_turns_its_direction():
    """A key light turned by R is the key light from R d (the sky's gradient turns with it)."""
    from facesym.render.shading import rotate_lighting

    d = torch.tensor([[0.2, 0.4, 0.9]])
    d = d / d.norm()
    angle = torch.tensor(0.7)
    c, s = torch.cos(angle), torch.sin(angle)
    rotation = torch.tensor([[[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]]])
    light = sh_from_directional(torch.full((1, 3), 0.3), torch.tensor([[0.6, 0.5, 0.4]]), d, radius=0.3)
    turned = rotate_lighting(light, rotation)
    expected = sh_from_directional(torch.full((1, 3), 0.3), torch.tensor([[0.6, 0.5, 0.4]]), d @ rotation[0].T,
                                   radius=0.3)
    torch.testing.assert_close(turned, expected, atol=1e-5, rtol=1e-5)
