"""Kernel conditional-independence test (Zhang et al., UAI 2011) through causal-learn."""

from __future__ import annotations

import hashlib
from typing import Literal

import numba
import numpy as np
from causallearn.utils.KCI.KCI import KCI_CInd
from causallearn.utils.KCI.Kernel import Kernel
from scipy.stats import gamma

from facesym.cit._common import CITResult, Seed, check_inputs, shuffle_within_groups

__all__ = ["kci"]


def _empirical_width(n: int) -> float:
    """causal-learn's ``set_width_empirical_kci`` base width for n samples (before scaling by dim Z)."""
    if n < 200:
        return 1.2
    if n < 1200:
        return 0.7
    return 0.4


_WEIGHTS_CACHE: dict[bytes, np.ndarray] = {}
_WEIGHTS_CACHE_SIZE = 8


def _weights(ky: np.ndarray, kz: np.ndarray, epsilon: float, key: bytes) -> np.ndarray:
    """``M = Rz (Rz Ky Rz) Rz`` with ``Rz = ε (Kz + εI)⁺``, as in ``KCI_CInd.KCI_V_statistic``; cached.

    M depends only on the output and the label, and the calibration runs the test hundreds of times on the same
    output and label with only the property shuffled: the cache saves the pseudo-inverse and four n×n products
    per run. ``key`` identifies (y, z); the cache holds the last few.
    """
    if key not in _WEIGHTS_CACHE:
        _, rz = Kernel.center_kernel_matrix_regression(ky, kz, epsilon)
        if len(_WEIGHTS_CACHE) >= _WEIGHTS_CACHE_SIZE:
            del _WEIGHTS_CACHE[next(iter(_WEIGHTS_CACHE))]
        _WEIGHTS_CACHE[key] = rz @ (rz @ ky @ rz) @ rz
    return _WEIGHTS_CACHE[key]


@numba.njit(cache=True)
def _permuted_statistics(kx: np.ndarray, weights: np.ndarray, perms: np.ndarray) -> np.ndarray:  # pragma: no cover
    """``sum(Kx[p][:, p] * M)`` for every row p of ``perms`` (shape ``(B, n)``) without building Kx[p][:, p]."""
    count, n = perms.shape
    out = np.empty(count)
    for b in range(count):
        p = perms[b]
        total = 0.0
        for i in range(n):
            row = kx[p[i]]
            w = weights[i]
            for j in range(n):
                total += row[p[j]] * w[j]
        out[b] = total
    return out


def kci(
    x: np.ndarray,
    y: np.ndarray,
    z: np.ndarray,
    *,
    seed: Seed,
    null: Literal["permutation", "gamma"] = "permutation",
    n_perm: int = 199,
) -> CITResult:
    """KCI test of X ⟂ Y | Z with Gaussian kernels, on ``causallearn.utils.KCI.KCI.KCI_CInd``.

    The kernel matrices and the V statistic come from ``KCI_CInd`` with causal-learn's defaults, kept so
    numbers compare with other studies: every variable z-scored (ddof=1); Gaussian kernels on X (jointly with
    ``0.5·Z``, as in the original Matlab code), on Y and on Z, all with the "empirical" width
    σ = w·√(number of labels), w = 1.2 (n < 200), 0.7 (n < 1200), 0.4 (otherwise); ridge ε = 1e-3 in the
    kernel regression on Z.

    The label enters one-hot, so the kernel on Z takes one value for equal and one for different labels: no
    artificial order of the emotions. Its Gram matrix has one distinct row per label, so the regression on Z
    removes the per-label means of the X and Y features.

    The null distribution: causal-learn's gamma approximation (``null="gamma"``) is liberal on
    Experiment-1-shaped data; over 400 planted true nulls (n = 300, 6 labels) it rejected 3.25 % (continuous
    property) and 2.0 % (binary) at α = 0.01. The default is therefore a permutation null (1.25 % and 0.75 %
    on the same cohorts): X permuted within labels, which leaves the Z kernel, the regression and the widths
    unchanged and permutes the rows and columns of the centred X kernel, so each permuted V statistic costs
    O(n²) and the test is exact.

    Parameters
    ----------
    x
        Shape ``(n,)``: the property.
    y
        Shape ``(n,)``: the classifier output.
    z
        Shape ``(n,)``: the discrete conditioning label.
    seed
        Seed or generator of the permutations (unused by the gamma approximation).
    null
        ``"permutation"`` (exact, default) or ``"gamma"`` (causal-learn's approximation, deterministic).
    n_perm
        Permutations of the permutation null; the smallest p-value is ``1 / (n_perm + 1)``.

    Returns
    -------
    CITResult
        ``statistic`` is KCI's V statistic. Cost: O(n³) for the regression on Z, once per (y, z) (cached for
        the calibration's reruns), plus O(n²) per permutation in a compiled loop: about 0.2 s at n = 300 and
        5 s at n = 1728 on one core for a new (y, z), 0.025 s and 1.1 s for a cached one.
    """
    x, y, codes, onehot = check_inputs(x, y, z)
    if null not in ("permutation", "gamma"):
        raise ValueError(f"null must be 'permutation' or 'gamma', got {null!r}")
    test = KCI_CInd(kernelX="Gaussian", kernelY="Gaussian", kernelZ="Gaussian", est_width="empirical")
    kx, ky, kzx, kzy = test.kernel_matrix(x[:, None], y[:, None], onehot)
    n = len(x)
    settings = {
        "kernel": "gaussian",
        "label_encoding": "one-hot",
        "width_rule": "empirical",
        "kernel_sigma": _empirical_width(n) * float(np.sqrt(onehot.shape[1])),
        "ridge": test.epsilon_x,
        "null": null,
    }
    if null == "gamma":
        statistic, kxr, kyr = test.KCI_V_statistic(kx, ky, kzx, kzy)
        shape, scale = test.get_kappa(test.get_uuprod(kxr, kyr)[0])
        return CITResult("kci", float(statistic), float(gamma.sf(statistic, shape, scale=scale)), n, settings)

    # V = trace(Rz Kx Rz · Rz Ky Rz) = sum(Kx ⊙ M) with M = Rz (Rz Ky Rz) Rz; a within-label permutation
    # of X permutes Kx and leaves Rz and M as they are. (Kz is the same kernel for X and Y: Kzx = Kzy.)
    key = hashlib.blake2b(y.tobytes() + codes.astype(np.int64).tobytes(), digest_size=16).digest()
    weights = _weights(ky, kzx, test.epsilon_x, key)
    rng = np.random.default_rng(seed)
    perms = shuffle_within_groups(np.arange(n), codes, rng, n_perm)
    # The same summation for the observed and the permuted statistics, so a permutation that maps X onto
    # itself ties exactly.
    observed = float(_permuted_statistics(kx, weights, np.arange(n)[None])[0])
    null_stats = _permuted_statistics(kx, weights, perms)
    p_value = (1 + np.count_nonzero(null_stats >= observed)) / (n_perm + 1)
    settings["n_perm"] = n_perm
    if isinstance(seed, int | np.integer):
        settings["seed"] = int(seed)
    return CITResult("kci", observed, float(p_value), n, settings)
