"""FLAME loader: a small FLAME-format pickle with chumpy-like objects, read without chumpy and without code."""

import os
import pickle
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
import torch

from facesym.face import load_flame
from facesym.face.flame import FlameFormatError, read_flame_pickle
from facesym.face.lbs import axis_angle_to_matrix

N_VERTICES = 8
N_JOINTS = 5  # global, neck, jaw, two eyes, as in FLAME


def _fake_chumpy(monkeypatch: pytest.MonkeyPatch) -> type:
    """A class that pickles like ``chumpy.ch.Ch`` (module path, state with the array in ``x``)."""
    module = types.ModuleType("chumpy.ch")

    class Ch:
        def __init__(self, x: np.ndarray) -> None:
            self.x = x
            self._dirty_vars = {"x"}
            self._itr = None
            self._depends_on_deps = {}

    Ch.__module__ = "chumpy.ch"
    Ch.__qualname__ = "Ch"
    module.Ch = Ch
    monkeypatch.setitem(sys.modules, "chumpy", types.ModuleType("chumpy"))
    monkeypatch.setitem(sys.modules, "chumpy.ch", module)
    return Ch


def _flame_dict(ch: type) -> dict:
    rng = np.random.default_rng(0)
    template = np.array([
        [0.0, 0.05, 0.10],  # forehead, midline
        [0.03, 0.0, 0.08],  # left eye region
        [-0.03, 0.0, 0.08],  # right eye region
        [0.0, -0.02, 0.12],  # nose, midline
        [0.02, -0.06, 0.09],  # lower lip, left
        [-0.02, -0.06, 0.09],  # lower lip, right
        [0.0, -0.09, 0.08],  # chin, midline
        [0.0, -0.15, 0.0],  # neck
    ])
    faces = np.array([[0, 2, 1], [1, 2, 3], [3, 5, 4], [4, 5, 6], [6, 5, 7]], dtype=np.uint32)
    shapedirs = rng.normal(scale=1e-3, size=(N_VERTICES, 3, 400))
    weights = np.zeros((N_VERTICES, N_JOINTS))
    weights[[0, 1, 2, 3], 0] = 1.0
    weights[[4, 5, 6], 2] = 1.0  # lips and chin follow the jaw
    weights[7, 1] = 1.0
    regressor = np.zeros((N_JOINTS, N_VERTICES))
    regressor[0, 3] = 1.0
    regressor[1, 7] = 1.0
    regressor[2, [4, 5, 7]] = 1.0 / 3.0  # jaw joint behind and below the lips, as in FLAME
    regressor[3, 1] = 1.0
    regressor[4, 2] = 1.0
    return {
        "v_template": template,
        "f": faces,
        "shapedirs": ch(shapedirs),
        "posedirs": rng.normal(scale=1e-4, size=(N_VERTICES, 3, 9 * (N_JOINTS - 1))),
        "J_regressor": scipy.sparse.csc_matrix(regressor),
        "weights": weights,
        "kintree_table": np.array([[2**32 - 1, 0, 1, 1, 1], [0, 1, 2, 3, 4]], dtype=np.int64),
        "bs_style": "lbs",
        "bs_type": "lrotmin",
    }


@pytest.fixture
def flame_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict]:
    data = _flame_dict(_fake_chumpy(monkeypatch))
    path = tmp_path / "generic_model.pkl"
    # Protocol 2 and the Python-2 module names, like the released file.
    path.write_bytes(pickle.dumps(data, protocol=2))
    monkeypatch.delitem(sys.modules, "chumpy.ch")
    monkeypatch.delitem(sys.modules, "chumpy")
    return path, data


def test_reads_chumpy_and_sparse_as_arrays(flame_file):
    path, data = flame_file
    assert "chumpy" not in sys.modules
    raw = read_flame_pickle(path)
    assert isinstance(raw["shapedirs"], np.ndarray) and raw["shapedirs"].shape == (N_VERTICES, 3, 400)
    np.testing.assert_array_equal(raw["shapedirs"], data["shapedirs"].x)
    np.testing.assert_array_equal(raw["J_regressor"], data["J_regressor"].toarray())


def test_model_splits_identity_and_expression(flame_file):
    path, data = flame_file
    model = load_flame(path, n_shape=10, n_expression=5, normalize=False)
    assert (model.n_vertices, model.n_shape, model.n_expression, model.pose_dim) == (N_VERTICES, 10, 5, 15)
    sd = data["shapedirs"].x
    np.testing.assert_allclose(model.shapedirs.numpy(), sd[:, :, :10], rtol=1e-6)
    np.testing.assert_allclose(model.exprdirs.numpy(), sd[:, :, 300:305], rtol=1e-6)
    assert model.triangles.dtype == torch.int64
    assert model.left_weight.tolist() == [0.5, 1.0, 0.0, 0.5, 1.0, 0.0, 0.5, 0.5]
    assert model.joint_names[2] == "jaw" and model.parents.tolist() == [-1, 0, 1, 1, 1]


def test_normalisation_puts_the_eyes_where_the_procedural_face_has_them(flame_file):
    model = load_flame(flame_file[0], n_shape=10, n_expression=5)
    eyes = model.joint_regressor[3:5] @ model.template
    np.testing.assert_allclose(eyes[:, :2].numpy(), [[0.42, 0.0], [-0.42, 0.0]], atol=1e-6)


def test_s1_equals_unsplit_and_s0_freezes_the_left(flame_file):
    model = load_flame(flame_file[0], n_shape=10, n_expression=5)
    g = torch.Generator().manual_seed(0)
    beta, phi = torch.randn(3, 10, generator=g), torch.randn(3, 5, generator=g)
    t = torch.tensor([0.2, 0.5, 1.0])
    unsplit = model.template + model.identity_offsets(beta) + t[:, None, None] * model.expression_offsets(phi)
    assert torch.equal(model.vertices(beta, phi, 1.0, t, backend="torch"), unsplit)
    at_one = model.vertices(beta, phi, 1.0, t, backend="numba")
    assert torch.equal(at_one, model.vertices(beta, phi, 0.3, t, affected=torch.zeros(model.n_vertices)))
    assert torch.allclose(at_one, unsplit, rtol=0, atol=2e-6)
    for backend in ("torch", "numba"):
        frozen = model.vertices(beta, phi, 0.0, t, backend=backend)
        left = model.left_weight == 1
        assert torch.equal(frozen[:, left], model.vertices(beta, phi, 0.0, 0.0, backend=backend)[:, left])


def test_jaw_opens_by_linear_blend_skinning(flame_file):
    model = load_flame(flame_file[0], n_shape=10, n_expression=5)
    rest = model.vertices(torch.zeros(1, 10), torch.zeros(1, 5), 1.0, 0.0)
    pose = torch.zeros(1, model.pose_dim)
    pose[0, 6] = 0.3  # jaw (joint 2) about +x
    posed = model.vertices(torch.zeros(1, 10), torch.zeros(1, 5), 1.0, 0.0, pose=pose)
    rot = axis_angle_to_matrix(pose[0, 6:9])
    eye = torch.eye(3)
    corrective = ((rot - eye).reshape(1, -1) @ model.posedirs[9:18]).reshape(N_VERTICES, 3)
    jaw_joint = model.joint_regressor[2] @ rest[0]
    jaw = [4, 5, 6]
    expected = (rest[0, jaw] + corrective[jaw] - jaw_joint) @ rot.T + jaw_joint
    assert torch.allclose(posed[0, jaw], expected, atol=1e-6)
    still = [0, 1, 2, 3, 7]
    assert torch.allclose(posed[0, still], rest[0, still] + corrective[still], atol=1e-6)
    assert float(posed[0, 6, 1] - rest[0, 6, 1]) < -0.05  # the chin drops


def test_foreign_pickle_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "generic_model.pkl"
    path.write_bytes(pickle.dumps({"v_template": Exploit()}, protocol=2))
    with pytest.raises(FlameFormatError, match=r"refusing to load '(posix|os|nt)\.system'"):
        load_flame(path)
    assert not marker.exists()


def test_wrong_files_fail_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="generic_model.pkl"):
        load_flame(tmp_path / "missing.pkl")
    path = tmp_path / "other.pkl"
    path.write_bytes(pickle.dumps({"v_template": np.zeros((3, 3))}, protocol=2))
    with pytest.raises(FlameFormatError, match="missing"):
        load_flame(path)
    path.write_bytes(b"not a pickle")
    with pytest.raises(FlameFormatError, match="not a readable"):
        load_flame(path)


def test_cpu_kernels_pose_flame_like_torch(flame_file):
    """Joint regressor, pose correctives and a five-joint tree: the kernels agree with the torch path."""
    model = load_flame(flame_file[0], n_shape=10, n_expression=5)
    g = torch.Generator().manual_seed(4)
    beta, phi = torch.randn(4, 10, generator=g), torch.randn(4, 5, generator=g)
    pose = 0.3 * torch.randn(4, model.pose_dim, generator=g)
    s, t = torch.rand(4, generator=g), torch.rand(4, generator=g)
    reference = model.vertices(beta, phi, s, t, pose=pose, backend="torch")
    kernel = model.vertices(beta, phi, s, t, pose=pose, backend="numba")
    assert torch.allclose(kernel, reference, rtol=0, atol=5e-6)
    alone = torch.cat([model.vertices(beta[i:i + 1], phi[i:i + 1], s[i:i + 1], t[i:i + 1], pose=pose[i:i + 1],
                                      backend="numba") for i in range(4)])
    assert torch.equal(alone, kernel)
