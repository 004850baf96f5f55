"""Our calls and re-implementations give the numbers of the libraries the paper's tests come from."""

import numpy as np
import pytest
from causallearn.utils.KCI.KCI import KCI_CInd
from tigramite.independence_tests.cmiknn_mixed import CMIknnMixed

from facesym.cit import cmiknn, kci


@pytest.mark.parametrize("case", ["continuous", "binary", "lone palsy image"])
def test_cmiknn_statistic_is_tigramites_mixed_estimator(planted, case):
    binary = case != "continuous"
    x, y, z = planted(180, seed=3, effect=1.0, binary=binary)
    if case == "lone palsy image":
        # One (label, property) cluster of a single image: its radius falls back to the cluster, as in tigramite.
        sad = np.flatnonzero(z == "sad")
        x[sad] = 0.0
        x[sad[0]] = 1.0
    result = cmiknn(x, y, z, seed=0, discrete_x=binary, n_perm=1)

    _, codes = np.unique(z, return_inverse=True)
    array = np.vstack([x, y, codes]).astype(float)
    types = np.zeros(array.shape, dtype=int)
    types[2] = 1
    types[0] = int(binary)
    reference = CMIknnMixed(knn=0.2, knn_type="local", estimator="MSinf", transform="ranks", workers=1, seed=0)
    expected = reference.get_dependence_measure(array, np.array([0, 1, 2]), types)
    assert result.statistic == pytest.approx(expected, rel=1e-12)
    # k is 20 % of the smallest cluster: label, or label × palsy for a binary property.
    clusters = codes * 2 + x.astype(int) if binary else codes
    assert result.settings["k"] == max(1, int(0.2 * np.unique(clusters, return_counts=True)[1].min()))


def test_kci_statistic_and_gamma_p_value_are_causal_learns(planted):
    x, y, z = planted(150, seed=4, effect=0.5, binary=False)
    _, codes = np.unique(z, return_inverse=True)
    p_expected, v_expected = KCI_CInd().compute_pvalue(x[:, None], y[:, None], np.eye(6)[codes])

    gamma = kci(x, y, z, seed=0, null="gamma")
    assert gamma.statistic == pytest.approx(v_expected, rel=1e-12)
    assert gamma.p_value == pytest.approx(p_expected, rel=1e-9, abs=1e-15)
    permutation = kci(x, y, z, seed=0)
    assert permutation.statistic == pytest.approx(v_expected, rel=1e-9)
    assert permutation.settings["null"] == "permutation" and permutation.settings["n_perm"] == 199
