"""The paper's decision rule: three conditional-independence tests and their majority vote."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from facesym.cit._common import CITResult, Seed
from facesym.cit.cmiknn import cmiknn
from facesym.cit.fcit import fast_cit
from facesym.cit.kci import kci

__all__ = ["VoteResult", "conditional_independence", "majority_vote"]


@dataclass(frozen=True)
class VoteResult:
    """Majority decision over several tests of the same hypothesis.

    Attributes
    ----------
    dependent
        True when more than half of the tests reject independence (2 of 3 in the paper): a ✓ in Table 1.
    n_rejecting
        How many tests reject.
    alpha
        The level each test was judged at.
    results
        The individual tests, in the order given.
    """

    dependent: bool
    n_rejecting: int
    alpha: float
    results: tuple[CITResult, ...]


def majority_vote(results: Sequence[CITResult], alpha: float = 0.01) -> VoteResult:
    """Dependent when a strict majority of ``results`` has ``p < alpha``."""
    if not results:
        raise ValueError("majority_vote needs at least one test result")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    n_rejecting = sum(r.rejects(alpha) for r in results)
    return VoteResult(2 * n_rejecting > len(results), n_rejecting, alpha, tuple(results))


def conditional_independence(
    x: np.ndarray,
    y: np.ndarray,
    z: np.ndarray,
    *,
    seed: Seed,
    discrete_x: bool = False,
    alpha: float = 0.01,
    knn: float = 0.2,
    n_perm: int = 199,
    n_splits: int = 8,
) -> VoteResult:
    """Test X ⟂ Y | Z with KCI, CMIknn and the fast CIT and take the majority vote, as in the paper.

    Parameters
    ----------
    x
        Shape ``(n,)``: the property (binary 0/1 with ``discrete_x``, else continuous).
    y
        Shape ``(n,)``: the classifier output (e.g. the *happy* softmax probability).
    z
        Shape ``(n,)``: the instructed label.
    seed
        Seed or generator; each test gets its own integer seed drawn from it, recorded in its settings.
    discrete_x
        Whether the property is discrete (CMIknn's metric).
    alpha
        Level of every test and of the vote (the paper: 0.01).
    knn
        CMIknn's neighbour fraction, see :func:`facesym.cit.cmiknn`.
    n_perm
        Permutations of the KCI and CMIknn null distributions.
    n_splits
        The fast CIT's train/test splits, see :func:`facesym.cit.fast_cit`.

    Returns
    -------
    VoteResult
        ``results`` in the order KCI, CMIknn, fast CIT.
    """
    if 1 / (n_perm + 1) >= alpha:
        raise ValueError(
            f"with n_perm={n_perm} the permutation tests' smallest p-value is 1/{n_perm + 1}, which can never be below "
            f"alpha={alpha}; use n_perm > {1 / alpha - 1:g}"
        )
    seed_kci, seed_cmi, seed_fcit = (int(s) for s in np.random.default_rng(seed).integers(2**63, size=3))
    results = (
        kci(x, y, z, seed=seed_kci, n_perm=n_perm),
        cmiknn(x, y, z, seed=seed_cmi, discrete_x=discrete_x, knn=knn, n_perm=n_perm),
        fast_cit(x, y, z, seed=seed_fcit, n_splits=n_splits),
    )
    return majority_vote(results, alpha)
