"""Planted surfaces with known truth, and the rejection rates of every test on them (the calibration study).

Each case draws, for N identities, the surface of the paper's intervention ``A[s, t]`` and of the
intensity-matched control ``B[s, t]`` (both halves at ``t·(1 + s)/2``), on the grid ``s = linspace(0, 1, S)``,
``t = linspace(0, 1, T)``. Every surface is an identity-specific onset curve plus independent noise at every grid
point (so that, without an effect, the values of a column are exchangeable and every null holds exactly).

``null``
    No effect of ``s``: ``A = base(t) + noise``, ``B = base(t) + noise``.
``trendless``
    A random s-pattern without trend, the same in every column up to the onset:
    ``A = base(t) + size · p[s] · t + noise`` with ``p ~ N(0, 1)`` drawn per identity and level. Whether ``s``
    "matters" depends on the question: the columns null says yes (the pattern is reproducible in every
    column), the joint null and the population test say there is no trend.
``trend``
    A monotone effect of known size: ``A = base(t) + size · i · t`` at level ``i``, so the paper's score is
    ``size · mean(t)`` per symmetry step (``size / 2`` on the full grid).
``intensity``
    An intensity-only classifier: the output is a function of the total movement only,
    ``g(m) = sigmoid(6 (m - 1/2))`` of the mean half intensity ``m = t (1 + s)/2``, for both ``A`` and ``B``
    (they lose the same movement). The paper's score is positive; the symmetry-specific impact ``A - B`` is noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from facesym.stats.joint import joint_permutation_test
from facesym.stats.permutation import permutation_test
from facesym.stats.population import sign_flip_test
from facesym.stats.score import impact_score

__all__ = ["CASES", "Rates", "binomial_band", "calibrate", "planted_surfaces"]

CASES: tuple[str, ...] = ("null", "trendless", "trend", "intensity")

def planted_surfaces(
    case: str,
    n_identities: int,
    rng: np.random.Generator,
    *,
    n_levels: int = 10,
    n_time: int = 90,
    size: float = 0.002,
    noise: float = 0.01,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The intervention's and the control's surfaces of ``n_identities`` identities for one case.

    Parameters
    ----------
    case : {"null", "trendless", "trend", "intensity"}
        See the module docstring.
    n_identities : int
        N.
    rng : numpy.random.Generator
    n_levels, n_time : int
        S and T.
    size : float
        ``trend``: the effect per symmetry step and unit onset (probability); ``trendless``: the sd of the pattern.
    noise : float
        Standard deviation of the noise of every grid point (probability).

    Returns
    -------
    intervention, control : ndarray, shape (N, S, T)
    """
    if case not in CASES:
        raise ValueError(f"case={case!r} is not one of {', '.join(map(repr, CASES))}")
    s = np.linspace(0.0, 1.0, n_levels)[:, None]
    t = np.linspace(0.0, 1.0, n_time)[None, :]
    shape = (n_identities, n_levels, n_time)
    base = rng.uniform(0.1, 0.3, (n_identities, 1, 1)) + rng.uniform(0.4, 0.6, (n_identities, 1, 1)) * t
    if case == "intensity":
        base = np.broadcast_to(1.0 / (1.0 + np.exp(-6.0 * (t * (1.0 + s) / 2.0 - 0.5))), shape)
    effect = np.zeros(shape)
    if case == "trendless":
        effect = size * rng.standard_normal((n_identities, n_levels, 1)) * t
    elif case == "trend":
        effect = size * np.arange(n_levels)[:, None] * t
    return base + effect + noise * rng.standard_normal(shape), base + noise * rng.standard_normal(shape)


def binomial_band(n_trials: int, level: float, coverage: float = 0.99) -> tuple[float, float]:
    """Central ``coverage`` band of the rejection rate of ``n_trials`` tests at ``level`` (exact binomial)."""
    tail = (1.0 - coverage) / 2.0
    return (
        float(sps.binom.ppf(tail, n_trials, level)) / n_trials,
        float(sps.binom.ppf(1.0 - tail, n_trials, level)) / n_trials,
    )


@dataclass(frozen=True)
class Rates:
    """Rejection rates of one case.

    Attributes
    ----------
    per_identity : dict
        ``(null, statistic) -> rate`` over all ``R·N`` per-identity tests at ``alpha_identity``.
    population : dict
        ``"score"`` / ``"specific"`` -> rate of the sign-flip test over ``R`` replicates at ``alpha_population``.
    n_identity_tests, n_replicates : int
    mean_score, mean_specific : float
        Average paper score and symmetry-specific impact (per symmetry step).
    """

    per_identity: dict[tuple[str, str], float]
    population: dict[str, float]
    n_identity_tests: int
    n_replicates: int
    mean_score: float
    mean_specific: float


def calibrate(
    case: str,
    rng: np.random.Generator,
    *,
    replicates: int = 200,
    n_identities: int = 10,
    permutations: int = 199,
    alpha_identity: float = 0.01,
    alpha_population: float = 0.05,
    statistics: tuple[str, ...] = ("gradient", "slope"),
    **planted: float,
) -> Rates:
    """Rejection rates of the columns null, the joint null and the population tests on ``replicates`` draws.

    Each replicate is one (classifier, emotion) with ``n_identities`` identities; ``planted`` goes to
    :func:`planted_surfaces`.
    """
    hits: dict[tuple[str, str], int] = {(n, st): 0 for n in ("columns", "joint") for st in statistics}
    pop = {"score": 0, "specific": 0}
    scores, specifics = [], []
    for _ in range(replicates):
        a, b = planted_surfaces(case, n_identities, rng, **planted)
        for statistic in statistics:
            method = "table" if statistic == "gradient" else "shuffle"
            columns = permutation_test(a, permutations, rng, statistic=statistic, method=method).pvalue
            joint = joint_permutation_test(a, permutations, rng, statistic=statistic).pvalue
            hits["columns", statistic] += int(np.count_nonzero(columns <= alpha_identity))
            hits["joint", statistic] += int(np.count_nonzero(joint <= alpha_identity))
        score = impact_score(a)
        specific = score - impact_score(b)
        pop["score"] += int(sign_flip_test(score, 9999, rng)[0] <= alpha_population)
        pop["specific"] += int(sign_flip_test(specific, 9999, rng)[0] <= alpha_population)
        scores.append(score.mean())
        specifics.append(specific.mean())
    n_tests = replicates * n_identities
    return Rates(
        per_identity={key: value / n_tests for key, value in hits.items()},
        population={key: value / replicates for key, value in pop.items()},
        n_identity_tests=n_tests,
        n_replicates=replicates,
        mean_score=float(np.mean(scores)),
        mean_specific=float(np.mean(specifics)),
    )
