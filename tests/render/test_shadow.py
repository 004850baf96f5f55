"""The key light's cast shadow: read back from the SH light, cast by a ridge onto the plane below it, in both
backends alike."""

import math

import numpy as np
import pytest
import torch

from facesym.render import BACKENDS, OrthographicCamera, lighting_from_coefficients, render, render_depth
from facesym.render.shading import sh_from_directional, vertex_normals
from facesym.render.shadow import key_light, key_shadow

UNIT = OrthographicCamera(0.0, 0.0, 1.0)


def test_key_light_is_read_back_from_the_portrait_light():
    coeffs = torch.tensor([[0.0, 0.0, 0.0, 0.0, 0.0], [1.5, -1.0, 0.5, 1.0, 0.0], [-2.0, 2.0, -1.0, -1.0, 1.0]])
    key = key_light(lighting_from_coefficients(coeffs))
    c = coeffs
    azimuth = 0.6 * torch.tanh(c[:, 0] / 2)
    elevation = 0.45 + 0.3 * torch.tanh(c[:, 1] / 2)
    strength = 0.68 + 0.16 * torch.tanh(c[:, 3] / 2)
    tint = torch.stack([1 + 0.08 * torch.tanh(c[:, 4] / 2), torch.ones(3), 1 - 0.08 * torch.tanh(c[:, 4] / 2)], 1)
    direction = torch.stack([torch.sin(azimuth) * torch.cos(elevation), torch.sin(elevation),
                             torch.cos(azimuth) * torch.cos(elevation)], 1)
    torch.testing.assert_close(key[:, :3], direction, atol=1e-4, rtol=0)
    torch.testing.assert_close(key[:, 3:], strength[:, None] * tint, atol=1e-4, rtol=0)
    # a plain sky holds no key light; a frontal point light keeps its direction, its strength read as a disc's
    sky = sh_from_directional(torch.full((1, 3), 0.5), torch.zeros(1, 3), torch.tensor([[0.0, 0.0, 1.0]]))
    assert float(key_light(sky)[0, 3:].abs().max()) < 1e-6
    point = key_light(sh_from_directional(torch.zeros(1, 3), torch.full((1, 3), 0.5), torch.tensor([[0.0, 0.0, 1.0]])))
    torch.testing.assert_close(point[0, :3], torch.tensor([0.0, 0.0, 1.0]), atol=1e-6, rtol=0)
    torch.testing.assert_close(point[0, 3:], torch.full((3,), 0.5), atol=0.02, rtol=0)


def _ridge() -> tuple[torch.Tensor, torch.Tensor, np.ndarray, np.ndarray]:
    """A plane z = 0 with a ridge 0.3 high across it at y = 0.2 (rising over 0.1): vertices, triangles, x, y."""
    n = 61
    g = np.linspace(-1.0, 1.0, n)
    xx, yy = np.meshgrid(g, g)
    zz = 0.3 * np.clip(1.0 - np.abs(yy - 0.2) / 0.1, 0.0, None)
    idx = np.arange(n * n).reshape(n, n)
    quads = np.stack([idx[:-1, :-1], idx[:-1, 1:], idx[1:, 1:], idx[1:, :-1]], -1).reshape(-1, 4)
    tris = torch.tensor(np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]]))
    verts = torch.tensor(np.c_[xx.ravel(), yy.ravel(), zz.ravel()], dtype=torch.float32)[None]
    return verts, tris, xx.ravel(), yy.ravel()


def _light(elevation: float) -> torch.Tensor:
    direction = torch.tensor([[0.0, math.sin(elevation), math.cos(elevation)]])
    return sh_from_directional(torch.full((1, 3), 0.3), torch.full((1, 3), 0.6), direction, radius=0.35,
                               sky_gradient=0.3)


def test_a_ridge_shades_the_plane_below_it_from_a_light_above():
    verts, tris, x, y = _ridge()
    size = 96
    screen = UNIT.project(verts, size)
    depth = render_depth(verts, tris, size=size, camera=UNIT)
    scale = float(UNIT.screen_params(size, size)[2])
    central = np.abs(x) < 0.5
    below = torch.from_numpy(central & (y > 0.04) & (y < 0.08))
    far_below = torch.from_numpy(central & (y < -0.4) & (y > -0.8))
    above = torch.from_numpy(central & (y > 0.4) & (y < 0.8))
    high = key_shadow(screen, depth, key_light(_light(0.6)), scale)[0, :, 0]
    assert float(high[below].max()) < 0.5, "the foot of the ridge lies in its shadow"
    assert torch.allclose(high[far_below], torch.tensor(1.0)) and torch.allclose(high[above], torch.tensor(1.0))
    # a lower light reaches closer to the ridge's foot; a light along the camera axis casts no shadow it could see
    low = key_shadow(screen, depth, key_light(_light(0.15)), scale)[0, :, 0]
    assert float(low[below].mean()) > float(high[below].mean()) + 0.2
    assert torch.equal(key_shadow(screen, depth, key_light(_light(0.0)), scale), torch.ones(1, verts.shape[1], 1))


@pytest.mark.parametrize("size", [64, 112])
def test_both_backends_draw_the_cast_shadow(size):
    verts, tris, x, y = _ridge()
    light = _light(0.6)
    images = [render(verts, tris, torch.ones(verts.shape[1], 3), size=size, camera=UNIT, lighting=light,
                     backend=backend, color="gray")[0, 0] for backend in BACKENDS]
    assert (images[0] - images[1]).abs().max() < 1e-4
    # the plane just below the ridge is darker than the open plane far below it, by most of the key light
    row = lambda model_y: int((1.0 - model_y) / 2.0 * size)  # noqa: E731 - a one-line lookup
    column = size // 2
    normals = vertex_normals(verts, tris)
    assert float(normals[0, :, 2].min()) > 0  # no surface faces away from the camera: a shadow is cast, not attached
    assert float(images[0][row(0.06), column]) < float(images[0][row(-0.6), column]) - 0.2
    # without shadows (the renderer's switch) the foot of the ridge keeps its key light, in both backends; the
    # open plane is the same either way
    plain = [render(verts, tris, torch.ones(verts.shape[1], 3), size=size, camera=UNIT, lighting=light,
                    backend=backend, color="gray", shadows=False)[0, 0] for backend in BACKENDS]
    assert (plain[0] - plain[1]).abs().max() < 1e-4
    assert float(plain[0][row(0.06), column]) > float(images[0][row(0.06), column]) + 0.1
    assert float(plain[0][row(-0.6), column]) == float(images[0][row(-0.6), column])
