import subprocess
import sys

import numpy as np

from facesym.seeds import derive_seed, rng_for


def test_seed_is_stable_across_processes():
    # Python's hash() is salted per process; a seed derived from it would differ here.
    code = "from facesym.seeds import derive_seed; print(derive_seed(7, 'surfaces', 'cnn', 'id0001', 'happy'))"
    outputs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
        for _ in range(2)
    }
    assert outputs == {str(derive_seed(7, "surfaces", "cnn", "id0001", "happy"))}


def test_seed_has_a_known_value():
    # Pinned so that a change of the derivation (which would silently change every result) fails loudly.
    assert derive_seed(0, "identity", "id0000") == 5912942189616226551


def test_seed_depends_on_every_part():
    base = derive_seed(1, "expressions", "cnn", "id0000")
    assert base != derive_seed(2, "expressions", "cnn", "id0000")
    assert base != derive_seed(1, "surfaces", "cnn", "id0000")
    assert base != derive_seed(1, "expressions", "cnn2", "id0000")
    assert base != derive_seed(1, "expressions", "cnn", "id0001")
    # no ambiguity between key boundaries
    assert derive_seed(1, "s", "ab", "c") != derive_seed(1, "s", "a", "bc")
    assert 0 <= base < 2**63


def test_rng_for_reproduces_draws():
    a = rng_for(5, "permutations", "cnn", "id0002").standard_normal(4)
    b = rng_for(5, "permutations", "cnn", "id0002").standard_normal(4)
    np.testing.assert_array_equal(a, b)
