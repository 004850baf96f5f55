"""Holm-Bonferroni step-down correction (Holm 1979), vectorised over leading axes.

For ``n`` p-values sorted ascending, ``p_(1) <= ... <= p_(n)``, hypothesis ``(j)`` is rejected when
``p_(i) <= alpha / (n - i + 1)`` for every ``i <= j``; the adjusted p-values are
``min(1, max_{i <= j} (n - i + 1) p_(i))``. This controls the family-wise error rate at ``alpha`` under any
dependence between the tests. The implementation follows ``statsmodels.stats.multitest.multipletests(
method="holm")`` operation for operation, so decisions and adjusted values agree exactly.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["holm"]


def holm(pvalues: ArrayLike, alpha: float = 0.05) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Holm-Bonferroni correction of the p-values along the last axis.

    Parameters
    ----------
    pvalues : array_like, shape (..., n)
        p-values in ``[0, 1]``; each slice along the last axis is one family (e.g. the N identities of one
        classifier and emotion), corrected independently of the others.
    alpha : float
        Family-wise error rate, ``0 < alpha < 1``.

    Returns
    -------
    reject : ndarray of bool, shape (..., n)
        True where the hypothesis is rejected (significant after correction).
    adjusted : ndarray of float64, shape (..., n)
        Holm-adjusted p-values: ``reject == (adjusted <= alpha)`` up to floating-point rounding at the boundary.

    Examples
    --------
    >>> reject, adjusted = holm([0.01, 0.04, 0.03, 0.005], alpha=0.05)
    >>> reject.tolist(), adjusted.round(3).tolist()
    ([True, False, False, True], [0.03, 0.06, 0.06, 0.02])
    """
    p = np.asarray(pvalues, dtype=np.float64)
    if p.ndim == 0:
        raise ValueError("pvalues must have at least one axis (the family of tests is the last axis)")
    if not np.all((p >= 0.0) & (p <= 1.0)):  # also catches NaN
        raise ValueError("pvalues must lie in [0, 1] and not be NaN")
    alpha = float(alpha)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha}")
    n = p.shape[-1]
    if n == 0:
        return np.zeros(p.shape, dtype=bool), p.copy()

    order = np.argsort(p, axis=-1, kind="stable")
    sorted_p = np.take_along_axis(p, order, axis=-1)
    factors = np.arange(n, 0, -1, dtype=np.float64)  # n, n-1, ..., 1
    # step-down: reject the sorted hypotheses before the first one that fails its threshold
    reject_sorted = np.logical_and.accumulate(sorted_p <= alpha / factors, axis=-1)
    adjusted_sorted = np.maximum.accumulate(sorted_p * factors, axis=-1)
    np.minimum(adjusted_sorted, 1.0, out=adjusted_sorted)

    reject = np.empty(p.shape, dtype=bool)
    adjusted = np.empty(p.shape, dtype=np.float64)
    np.put_along_axis(reject, order, reject_sorted, axis=-1)
    np.put_along_axis(adjusted, order, adjusted_sorted, axis=-1)
    return reject, adjusted
