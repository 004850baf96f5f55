"""How often the tests reject a true null on the data at hand.

The property is shuffled within label groups, which keeps its dependence on the label and the label's on the
output but makes it conditionally independent of the output: every rejection is a false positive. The paper
reports no such check; here it stands beside every table so a reader can judge a ✓.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import binom, binomtest

from facesym.cit._common import Seed, check_inputs, shuffle_within_groups
from facesym.cit.vote import VoteResult, conditional_independence

__all__ = ["MAJORITY", "Calibration", "calibrate", "max_false_positives"]

MAJORITY = "majority"
"""Name of the majority vote among the tests in a :class:`Calibration`."""


def max_false_positives(n_trials: int, alpha: float, confidence: float = 0.99) -> int:
    """Most rejections among ``n_trials`` true nulls that are still consistent with level ``alpha``.

    The ``confidence`` quantile of Binomial(n_trials, alpha): a calibrated test exceeds it with probability
    at most ``1 - confidence``.
    """
    return int(binom.ppf(confidence, n_trials, alpha))


@dataclass(frozen=True)
class Calibration:
    """p-values of every test over shuffles of the property within labels.

    Attributes
    ----------
    alpha
        Level of the tests and the vote.
    n
        Samples per test.
    p_values
        Test name → shape ``(n_shuffles,)`` p-values.
    dependent
        Shape ``(n_shuffles,)``: the majority vote of each shuffle.
    """

    alpha: float
    n: int
    p_values: dict[str, np.ndarray]
    dependent: np.ndarray

    @classmethod
    def from_votes(cls, votes: Sequence[VoteResult], alpha: float, n: int) -> Calibration:
        """Collect the p-values and decisions of one vote per null draw (shuffle or placebo), in draw order."""
        names = [r.test for r in votes[0].results]
        p_values = {name: np.array([v.results[i].p_value for v in votes]) for i, name in enumerate(names)}
        return cls(alpha, n, p_values, np.array([v.dependent for v in votes]))

    @property
    def n_shuffles(self) -> int:
        return len(self.dependent)

    def false_positives(self) -> dict[str, int]:
        """Rejections at ``alpha`` per test and of the vote (key :data:`MAJORITY`)."""
        counts = {name: int(np.count_nonzero(p < self.alpha)) for name, p in self.p_values.items()}
        counts[MAJORITY] = int(np.count_nonzero(self.dependent))
        return counts

    def to_records(self, confidence: float = 0.95) -> list[dict[str, Any]]:
        """One row per test and the vote: rate, Clopper–Pearson interval and the binomial check.

        ``within_nominal`` says whether the count stays at or below :func:`max_false_positives` at this
        ``confidence``, i.e. whether the rate is ≤ alpha within binomial error.
        """
        limit = max_false_positives(self.n_shuffles, self.alpha, confidence)
        records = []
        for name, count in self.false_positives().items():
            interval = binomtest(count, self.n_shuffles).proportion_ci(confidence, method="exact")
            records.append(
                {
                    "test": name,
                    "n": self.n,
                    "n_shuffles": self.n_shuffles,
                    "alpha": self.alpha,
                    "false_positives": count,
                    "false_positive_rate": count / self.n_shuffles,
                    "ci_low": interval.low,
                    "ci_high": interval.high,
                    "confidence": confidence,
                    "max_consistent": limit,
                    "within_nominal": count <= limit,
                }
            )
        return records


def calibrate(
    x: np.ndarray,
    y: np.ndarray,
    z: np.ndarray,
    *,
    seed: Seed,
    n_shuffles: int = 200,
    discrete_x: bool = False,
    alpha: float = 0.01,
    knn: float = 0.2,
    n_perm: int = 199,
    n_splits: int = 8,
) -> Calibration:
    """False-positive rates of the three tests and their vote with the property shuffled within labels.

    Parameters
    ----------
    x, y, z
        Shape ``(n,)`` each: property, classifier output and label, as for
        :func:`facesym.cit.conditional_independence`.
    seed
        Seed or generator of the shuffles and of every test's own randomness.
    n_shuffles
        Number of shuffles (the pipeline uses at least 200). Cost: ``n_shuffles`` runs of all three tests.
    discrete_x, alpha, knn, n_perm, n_splits
        As for :func:`facesym.cit.conditional_independence`.

    Returns
    -------
    Calibration
    """
    _, _, codes, _ = check_inputs(x, y, z)
    if n_shuffles < 1:
        raise ValueError(f"n_shuffles must be at least 1, got {n_shuffles}")
    rng = np.random.default_rng(seed)
    shuffled = shuffle_within_groups(np.asarray(x, dtype=np.float64), codes, rng, n_shuffles)
    votes = [
        conditional_independence(
            xs, y, z, seed=rng, discrete_x=discrete_x, alpha=alpha, knn=knn, n_perm=n_perm, n_splits=n_splits
        )
        for xs in shuffled
    ]
    return Calibration.from_votes(votes, alpha, len(codes))
