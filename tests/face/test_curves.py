import numpy as np
import pytest
from scipy.interpolate import PchipInterpolator

from facesym.face.curves import MonotoneCubic


@pytest.mark.parametrize("seed", range(5))
def test_monotone_cubic_is_scipys_pchip(seed):
    # The face's outline profiles were built with SciPy's PCHIP: the written-out curve must give the same face.
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.uniform(0.05, 0.5, size=9)) - 1.0
    y = rng.normal(size=9)
    y[3] = y[4]  # a flat secant
    points = np.concatenate([np.linspace(x[0], x[-1], 2001), x, rng.uniform(x[0] - 0.1, x[-1] + 0.1, 500)])
    np.testing.assert_array_equal(MonotoneCubic(x, y)(points), PchipInterpolator(x, y)(points))


def test_monotone_knots_give_a_monotone_curve_without_overshoot():
    curve = MonotoneCubic([0.0, 0.1, 0.5, 0.6, 1.0], [0.0, 0.05, 0.9, 1.0, 1.0])
    values = curve(np.linspace(0.0, 1.0, 5001))
    assert np.all(np.diff(values) >= 0.0)
    assert values.max() <= 1.0


@pytest.mark.parametrize(
    ("x", "y"), [([0.0, 1.0], [0.0, 1.0]), ([0.0, 1.0, 1.0], [0.0, 1.0, 2.0]), ([0, 1, 2], [1, 2])]
)
def test_bad_knots_are_refused(x, y):
    with pytest.raises(ValueError, match="strictly increasing"):
        MonotoneCubic(x, y)
