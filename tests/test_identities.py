import numpy as np
import pytest

from facesym.identities import identity_names, load_identity, sample_identity
from facesym.io import write_json


def test_identity_draws_do_not_depend_on_how_many_exist():
    # Adding identities to a config must leave the existing ones unchanged.
    first = sample_identity(1, "id0002", 20, 6, 4)
    again = sample_identity(1, "id0002", 20, 6, 4)
    np.testing.assert_array_equal(first.beta, again.beta)
    assert not np.allclose(first.beta, sample_identity(1, "id0003", 20, 6, 4).beta)
    assert identity_names(3) == ["id0000", "id0001", "id0002"]


def test_identity_is_standard_normal_over_many_draws():
    beta = np.stack([sample_identity(0, name, 20, 6, 4).beta for name in identity_names(300)])
    assert abs(beta.mean()) < 0.05
    assert abs(beta.std() - 1) < 0.05


def test_identity_round_trip(tmp_path):
    identity = sample_identity(3, "id0000", 5, 2, 4)
    write_json(tmp_path / "id.json", identity.to_json())
    loaded = load_identity(tmp_path / "id.json")
    np.testing.assert_array_equal(loaded.beta, identity.beta)
    assert loaded.seed == identity.seed and loaded.lighting.shape == (4,)


def test_load_identity_names_bad_file(tmp_path):
    (tmp_path / "bad.json").write_text('{"name": "x"}')
    with pytest.raises(ValueError, match=r"bad\.json: not an identity file"):
        load_identity(tmp_path / "bad.json")
