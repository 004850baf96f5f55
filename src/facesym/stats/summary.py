"""Per-model summaries over identities: the paper's Table 2, supplementary Table 1, and a confidence interval.

For one (classifier, emotion) the N identities give N impact scores and N permutation p-values.
:func:`summarise` reduces them, for any number of leading axes at once, to

- the **mean score** ``Ŝ(F^(e))`` over identities (paper Eq. 7, Table 2);
- the **ratio of identities significant after Holm-Bonferroni** at level ``alpha`` (supplementary Table 1);
- a **percentile-bootstrap confidence interval of the mean score** (the paper reports none): the identities are
  resampled with replacement ``n_bootstrap`` times. The same resampled identity sets are used for every
  leading entry (a paired bootstrap: identity ``i`` of every classifier and emotion is drawn together), which
  keeps the intervals of one table consistent with each other; each interval on its own is the usual one.
  Percentile intervals are slightly narrow for few identities: simulated coverage of a nominal 95% interval
  is about 93.5% at N = 20 and 94% at N = 50-200 (normal scores).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from facesym.stats.holm import holm
from facesym.stats.score import SPACINGS, STATISTICS, units

__all__ = ["Summary", "summarise"]

_BOOT_CHUNK_BYTES = 32 * 2**20


@dataclass(frozen=True)
class Summary:
    """Summary of scores and p-values over identities, one value per leading entry.

    All arrays have the leading shape ``(...)`` of the inputs (e.g. ``(classifier, emotion)``) unless stated.

    Attributes
    ----------
    mean_score : ndarray of float64, shape (...)
        Mean impact score over the N identities (the paper's Table 2), in the units of ``spacing``.
    ratio_significant : ndarray of float64, shape (...)
        Fraction of identities whose test is significant after Holm-Bonferroni at ``alpha`` within each
        leading entry (the paper's supplementary Table 1), in ``[0, 1]``.
    n_significant : ndarray of int64, shape (...)
        Number of identities significant after Holm-Bonferroni.
    ci_low, ci_high : ndarray of float64, shape (...)
        Percentile-bootstrap ``confidence`` interval of ``mean_score``; NaN when ``n_bootstrap == 0``.
    reject : ndarray of bool, shape (..., N)
        Holm-Bonferroni decision per identity.
    adjusted_pvalues : ndarray of float64, shape (..., N)
        Holm-adjusted p-values per identity.
    n_identities : int
        N.
    alpha, confidence : float
        Family-wise level of the Holm correction, and coverage of the interval (e.g. 0.95).
    n_bootstrap : int
        Number of bootstrap resamples.
    statistic, spacing : str
        Which score the inputs are (``"gradient"`` or ``"slope"``; ``"step"`` or ``"unit"``), for labels.
    """

    mean_score: NDArray[np.float64]
    ratio_significant: NDArray[np.float64]
    n_significant: NDArray[np.int64]
    ci_low: NDArray[np.float64]
    ci_high: NDArray[np.float64]
    reject: NDArray[np.bool_] = field(repr=False)
    adjusted_pvalues: NDArray[np.float64] = field(repr=False)
    n_identities: int
    alpha: float
    confidence: float
    n_bootstrap: int
    statistic: str
    spacing: str

    @property
    def units(self) -> str:
        """Unit of ``mean_score`` and the interval, e.g. ``"per symmetry step"``."""
        return units(self.spacing)


def summarise(
    scores: ArrayLike,
    pvalues: ArrayLike,
    alpha: float = 0.05,
    statistic: str = "gradient",
    n_bootstrap: int = 10_000,
    rng: np.random.Generator | int | None = None,
    *,
    confidence: float = 0.95,
    spacing: str = "step",
) -> Summary:
    """Mean score, Holm-corrected ratio of significant identities and bootstrap CI of the mean.

    Parameters
    ----------
    scores : array_like, shape (..., N)
        Impact scores of N identities (last axis) per leading entry, e.g. ``(classifier, emotion, identity)``.
    pvalues : array_like, shape (..., N)
        Permutation p-values matching ``scores``.
    alpha : float
        Family-wise error rate of the Holm-Bonferroni correction over the N identities (the paper's δ).
    statistic : {"gradient", "slope"}
        The statistic the scores were computed with; recorded in the result for labelling.
    n_bootstrap : int
        Bootstrap resamples for the confidence interval; 0 skips it (``ci_low``/``ci_high`` are NaN).
    rng : numpy.random.Generator, int or None
        Randomness of the bootstrap. An int seeds a new generator; None uses seed 0, so the same inputs always
        give the same interval (pass a generator derived from the pipeline seed for independent draws).
    confidence : float
        Coverage of the interval, ``0 < confidence < 1``.
    spacing : {"step", "unit"}
        Units of the scores; recorded in the result for labelling.

    Returns
    -------
    Summary
        See :class:`Summary`.

    Examples
    --------
    >>> out = summarise([[0.03, 0.05, 0.01, 0.04]], [[0.001, 0.001, 0.2, 0.01]], alpha=0.05, n_bootstrap=2000)
    >>> float(out.mean_score[0]), float(out.ratio_significant[0])
    (0.0325, 0.75)
    """
    s = np.asarray(scores, dtype=np.float64)
    p = np.asarray(pvalues, dtype=np.float64)
    if s.shape != p.shape:
        raise ValueError(f"scores {s.shape} and pvalues {p.shape} must have the same shape (..., N)")
    if s.ndim == 0 or s.shape[-1] == 0:
        raise ValueError(f"need at least one identity on the last axis, got shape {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores contain NaN or infinity (a missing identity?)")
    if statistic not in STATISTICS:
        raise ValueError(f"statistic={statistic!r} is not one of {', '.join(map(repr, STATISTICS))}")
    if spacing not in SPACINGS:
        raise ValueError(f"spacing={spacing!r} is not one of {', '.join(map(repr, SPACINGS))}")
    confidence = float(confidence)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    b = int(n_bootstrap)
    if b != n_bootstrap or b < 0:
        raise ValueError(f"n_bootstrap must be a non-negative integer, got {n_bootstrap!r}")
    if rng is None:
        rng = 0
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)

    reject, adjusted = holm(p, alpha)
    n = s.shape[-1]
    n_sig = np.count_nonzero(reject, axis=-1).astype(np.int64)
    mean = s.mean(axis=-1)
    if b > 0:
        boot = _bootstrap_means(s.reshape(-1, n), b, gen)
        q = np.quantile(boot, [(1.0 - confidence) / 2.0, (1.0 + confidence) / 2.0], axis=-1)
        lo, hi = q[0].reshape(s.shape[:-1]), q[1].reshape(s.shape[:-1])
    else:
        lo = np.full(s.shape[:-1], np.nan)
        hi = np.full(s.shape[:-1], np.nan)
    return Summary(
        mean_score=np.asarray(mean),
        ratio_significant=np.asarray(n_sig / n),
        n_significant=np.asarray(n_sig),
        ci_low=np.asarray(lo),
        ci_high=np.asarray(hi),
        reject=reject,
        adjusted_pvalues=adjusted,
        n_identities=n,
        alpha=float(alpha),
        confidence=confidence,
        n_bootstrap=b,
        statistic=statistic,
        spacing=spacing,
    )


def _bootstrap_means(x: NDArray[np.float64], n_boot: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """Means of ``n_boot`` resamples (with replacement) of the identities; ``x`` (L, N) -> (L, n_boot).

    Each resample is stored as identity counts, so the means are one matrix product, chunked over resamples.
    """
    n_rows, n = x.shape
    out = np.empty((n_rows, n_boot), dtype=np.float64)
    chunk = max(1, min(n_boot, _BOOT_CHUNK_BYTES // (8 * max(n, n_rows) * 3)))
    for b0 in range(0, n_boot, chunk):
        b1 = min(n_boot, b0 + chunk)
        draw = rng.integers(0, n, size=(b1 - b0, n))
        draw += np.arange(b1 - b0)[:, None] * n
        counts = np.bincount(draw.ravel(), minlength=(b1 - b0) * n).reshape(b1 - b0, n)
        out[:, b0:b1] = (x @ counts.T.astype(np.float64)) / n
    return out
