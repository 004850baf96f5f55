import h5py
import numpy as np
import pytest

import facesym
from facesym.io import H5FormatError, atomic_path, read_h5, write_h5, write_json


def write_example(path, **overrides):
    surface = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    kwargs = dict(
        datasets={"softmax": (surface, ("emotion", "s", "t", "class"), "probability")},
        seed=42,
        config={"grid": {"symmetry_steps": 3, "time_steps": 4}},
        coords={"s": np.linspace(0, 1, 3), "class": ["a", "b", "c", "d", "e"]},
    )
    kwargs.update(overrides)
    write_h5(path, "surfaces", **kwargs)
    return surface


def test_round_trip_keeps_data_axes_units_and_provenance(tmp_path):
    path = tmp_path / "x.h5"
    surface = write_example(path)
    contents = read_h5(path, kind="surfaces")
    np.testing.assert_array_equal(contents.data["softmax"], surface)
    assert contents.axes["softmax"] == ("emotion", "s", "t", "class")
    assert contents.units["softmax"] == "probability"
    assert contents.coords["class"].tolist() == ["a", "b", "c", "d", "e"]
    np.testing.assert_allclose(contents.coords["s"], [0, 0.5, 1])
    assert contents.attrs["seed"] == 42
    assert contents.attrs["config"] == {"grid": {"symmetry_steps": 3, "time_steps": 4}}
    assert contents.attrs["facesym_version"] == facesym.__version__


def test_axes_must_match_dimensions(tmp_path):
    with pytest.raises(ValueError, match="3 dimensions but 2 axis names"):
        write_example(tmp_path / "x.h5", datasets={"a": (np.zeros((1, 2, 3)), ("s", "t"), "")})
    assert not list(tmp_path.iterdir()), "a failed write must leave nothing behind"


def test_missing_file_is_named(tmp_path):
    with pytest.raises(H5FormatError, match=r"nope\.h5: file does not exist"):
        read_h5(tmp_path / "nope.h5")


def test_truncated_file_is_refused(tmp_path):
    path = tmp_path / "x.h5"
    write_example(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(H5FormatError, match=r"x\.h5"):
        read_h5(path)


def test_foreign_hdf5_file_is_refused(tmp_path):
    path = tmp_path / "foreign.h5"
    with h5py.File(path, "w") as fh:
        fh["data"] = np.zeros(3)
    with pytest.raises(H5FormatError, match="not a facesym file"):
        read_h5(path)


def test_wrong_kind_is_refused(tmp_path):
    path = tmp_path / "x.h5"
    write_example(path)
    with pytest.raises(H5FormatError, match="holds 'surfaces' data, expected 'expressions'"):
        read_h5(path, kind="expressions")


def test_interrupted_write_leaves_no_file(tmp_path):
    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("killed")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_replaces_complete_file(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"a": 1})
    write_json(target, {"a": 2})
    assert target.read_text().strip().endswith("}")
    assert '"a": 2' in target.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
