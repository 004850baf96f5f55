"""The CPU kernels behind MorphableModel.vertices: the torch path's geometry, independent of the batch."""

import numba
import numpy as np
import pytest
import torch

from facesym.face import build_procedural_model


@pytest.fixture(scope="module")
def model():
    return build_procedural_model()


@pytest.fixture(scope="module")
def draws(model):
    rng = np.random.default_rng(3)
    low, high = model.expression_box(1.0)
    b = 12
    as_tensor = lambda a: torch.as_tensor(a, dtype=torch.float32)  # noqa: E731
    return (as_tensor(rng.normal(size=(1, model.n_shape))), as_tensor(rng.uniform(low, high, (b, model.n_expression))),
            as_tensor(rng.uniform(0, 1, b)), as_tensor(rng.uniform(0, 1, b)))


def both(model, *args, **kwargs):
    return (model.vertices(*args, **kwargs, backend="torch"), model.vertices(*args, **kwargs, backend="numba"))


@pytest.mark.parametrize("case", ["split", "intensity_matched", "mirror", "per_face_mask", "pose"])
def test_kernels_give_the_torch_geometry(model, draws, case):
    beta, phi, s, t = draws
    kwargs = {}
    if case == "intensity_matched":
        kwargs["intensity_matched"] = True
    elif case == "mirror":
        kwargs["affected"] = 1.0 - model.left_weight
    elif case == "per_face_mask":
        kwargs["affected"] = torch.rand(len(s), model.n_vertices, generator=torch.Generator().manual_seed(1))
    elif case == "pose":
        kwargs["pose"] = 0.2 * torch.randn(len(s), model.pose_dim, generator=torch.Generator().manual_seed(2))
    reference, kernel = both(model, beta, phi, s, t, **kwargs)
    assert kernel.dtype == torch.float32 and kernel.shape == reference.shape
    # float32 round-off of coordinates of order 1: the two paths sum in different orders.
    assert torch.allclose(kernel, reference, rtol=0, atol=2e-6)
    jaw = model.expression_names.index("AU26")
    assert float(phi[:, jaw].max()) > 0.5  # the draws open the jaw: skinning is compared too


def test_a_face_does_not_depend_on_its_batch(model, draws):
    beta, phi, s, t = draws
    previous = numba.get_num_threads()
    try:
        batches = []
        for threads in (1, 2):
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            batches.append(model.vertices(beta, phi, s, t, backend="numba"))
            alone = torch.cat([model.vertices(beta, phi[i:i + 1], s[i:i + 1], t[i:i + 1], backend="numba")
                               for i in range(len(s))])
            assert torch.equal(alone, batches[-1])
            # One expression over a grid, as a surfaces batch holds it.
            grid = model.vertices(beta, phi[:1].expand(len(s), -1), s, t, backend="numba")
            assert torch.equal(grid[3:4], model.vertices(beta, phi[:1], s[3:4], t[3:4], backend="numba"))
        assert torch.equal(batches[0], batches[1])
    finally:
        numba.set_num_threads(previous)


def test_auto_takes_torch_when_a_gradient_is_needed(model, draws):
    beta, phi, s, t = draws
    phi = phi.clone().requires_grad_(True)
    vertices = model.vertices(beta, phi, s, t)
    (gradient,) = torch.autograd.grad(vertices.sum(), phi)
    assert gradient.shape == phi.shape and bool(gradient.abs().sum() > 0)
    with torch.no_grad():
        assert torch.equal(model.vertices(beta, phi.detach(), s, t), model.vertices(beta, phi.detach(), s, t,
                                                                                      backend="numba"))


def test_bad_backend_and_batch_are_refused(model, draws):
    beta, phi, s, t = draws
    with pytest.raises(ValueError, match="backend must be"):
        model.vertices(beta, phi, s, t, backend="numpy")
    with pytest.raises(ValueError, match="beta has batch size 2, expected 1 or 12"):
        model.vertices(beta.expand(2, -1), phi, 1.0, 1.0, backend="numba")
    with pytest.raises(ValueError, match="affected must have shape"):
        model.vertices(beta, phi, s, t, affected=torch.ones(3, model.n_vertices), backend="numba")
