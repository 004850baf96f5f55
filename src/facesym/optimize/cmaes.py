"""CMA-ES over several independent problems, each generation scored in one batch.

An alternative to :func:`~facesym.optimize.de.differential_evolution_batched` for Eq. 4 with the same interface:
one call of the objective scores the λ candidates of every problem still running.

The algorithm is the standard (μ/μ_w, λ)-CMA-ES of N. Hansen, "The CMA Evolution Strategy: A Tutorial"
(arXiv:1604.00772, 2016), with positive recombination weights only: per problem a mean ``m``, a step size ``σ``,
a covariance matrix ``C = B D² Bᵀ`` and two evolution paths. Each generation samples
``x_k = m + σ B D z_k`` with ``z_k ~ N(0, I)``, ranks the candidates, and updates

* the mean to the weighted mean of the best ``μ = ⌊λ / 2⌋`` (weights ``∝ ln((λ + 1) / 2) − ln i``),
* ``σ`` by cumulative step-size adaptation (path ``p_σ``, damping ``d_σ``),
* ``C`` by the rank-one update (path ``p_c``, stalled by ``h_σ``) plus the rank-μ update,

with the tutorial's default learning rates (its Table 1) for dimension ``d`` and the given λ.

The first mean is the centre of the box, the first step size ``σ₀ = sigma0 × 2 bound`` (the tutorial suggests
``σ₀`` of about a quarter to a third of the search interval, so that ``m ± 3σ₀`` covers the box).

Box constraints ``[-bound, bound]^d`` are handled by repair plus penalty (the tutorial's Sec. B.3): the objective
only ever sees the candidate clipped into the box, ``x̃ = clip(x)``, and the best point reported is such a
clipped point with its true objective value; the *ranking* instead uses

    f(x̃) + γ ‖x − x̃‖² / (σ² tr(C) / d),

the squared distance to the box in units of the current mean squared step per coordinate, weighted by
``γ`` = the inter-quartile range of ``f(x̃)`` over the generation (its range if that is zero, and 1 if all values
are equal). The distribution updates use the unrepaired ``x``, so the normal-distribution statistics that the
step-size and covariance adaptation rely on stay intact, while the penalty keeps the mean from drifting out of
the box where the clipped objective is flat. As a safeguard outside the tutorial, the largest standard deviation
``σ max(D)`` is capped at the box width ``2 bound`` (beyond it nearly every sample lands on the box's surface).

Recommended setting for Eq. 4 (issue 6): CMA-ES's standard population ``λ = 4 + ⌊3 ln d⌋`` with DE's evaluation
budget, i.e. for the default face model (d = 18 expression parameters; λ = 12, as for the d = 15 it was measured
with) ``method: cmaes`` with ``population: 12, generations: 41`` (12 × 42 = 504 evaluations per emotion, as
DE's 24 × 21). On a trained ``cnn`` (144 problems,
``benchmarks/bench_optimisers.py --cmaes-population 12``, see ``benchmarks/README.md``) it ends at a higher
median probability than DE (0.9991 vs 0.9986; higher in 63 % of paired problems) and needs fewer evaluations to
0.95 / 0.99 / 0.999 (medians 48 / 120 / 486 vs 60 / 144 / not reached; fewer in 54 / 53 / 74 % of the paired
problems, more in 31 / 42 / 22 %). Caveat: 3 of 144 problems stayed below 0.95 (DE: none), and it costs ~1.3×
DE's wall time for the same evaluations (smaller batches). At λ = 24 with 20 generations it only ties with DE.
DE remains the config default so that existing jobs are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from facesym.optimize.result import OptimisationResult, record_generation

__all__ = ["SIGMA0", "CMAParameters", "cma_parameters", "cma_es_batched"]


SIGMA0 = 0.3
"""Default initial step size, as a fraction of the box width."""


@dataclass(frozen=True)
class CMAParameters:
    """Strategy constants of a (μ/μ_w, λ)-CMA-ES (Hansen 2016, Table 1).

    Attributes
    ----------
    weights
        Positive recombination weights of the ``μ`` best, summing to 1, shape ``(μ,)``.
    mu_eff
        Variance-effective selection mass ``1 / Σ w_i²``.
    c_sigma, d_sigma
        Learning rate and damping of the step-size path.
    c_c
        Learning rate of the rank-one path.
    c_1, c_mu
        Learning rates of the rank-one and rank-μ covariance updates.
    chi_n
        ``E‖N(0, I_d)‖``.
    """

    weights: np.ndarray
    mu_eff: float
    c_sigma: float
    d_sigma: float
    c_c: float
    c_1: float
    c_mu: float
    chi_n: float


def cma_parameters(dim: int, population: int) -> CMAParameters:
    """The tutorial's default constants for dimension ``dim`` and ``λ = population`` candidates per generation.

    Parameters
    ----------
    dim
        Number of parameters ``d``.
    population
        ``λ`` (at least 4, so that ``μ ≥ 2``).

    Returns
    -------
    CMAParameters
    """
    n = float(dim)
    mu = population // 2
    raw = np.log((population + 1) / 2) - np.log(np.arange(1, mu + 1))
    weights = raw / raw.sum()
    mu_eff = float(1.0 / (weights**2).sum())
    c_sigma = (mu_eff + 2) / (n + mu_eff + 5)
    d_sigma = 1 + 2 * max(0.0, np.sqrt((mu_eff - 1) / (n + 1)) - 1) + c_sigma
    c_c = (4 + mu_eff / n) / (n + 4 + 2 * mu_eff / n)
    c_1 = 2 / ((n + 1.3) ** 2 + mu_eff)
    c_mu = min(1 - c_1, 2 * (mu_eff - 2 + 1 / mu_eff) / ((n + 2) ** 2 + mu_eff))
    chi_n = np.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n**2))
    return CMAParameters(weights, mu_eff, c_sigma, float(d_sigma), c_c, c_1, c_mu, float(chi_n))


def _penalised(values: np.ndarray, x: np.ndarray, repaired: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Ranking values ``(M, λ)``: objective ``(M, λ)`` plus the box penalty of ``x`` vs ``repaired`` ``(M, λ, d)``.

    ``scale`` ``(M,)`` is the mean squared step per coordinate, ``σ² tr(C) / d``.
    """
    q75, q25 = np.percentile(values, [75, 25], axis=1)
    gamma = q75 - q25
    gamma = np.where(gamma > 0, gamma, values.max(axis=1) - values.min(axis=1))
    gamma = np.where(gamma > 0, gamma, 1.0)
    distance = ((x - repaired) ** 2).sum(axis=-1) / scale[:, None]
    return values + gamma[:, None] * distance


def cma_es_batched(
    objective: Callable[..., np.ndarray],
    dim: int,
    bound: float,
    *,
    population: int,
    generations: int,
    rng: np.random.Generator,
    n_problems: int = 1,
    sigma0: float = SIGMA0,
    target: float | None = None,
    labels: Sequence[str] | None = None,
) -> OptimisationResult:
    """Minimise ``n_problems`` objectives over ``[-bound, bound]^dim``, one batched call per generation.

    Same interface and result as :func:`~facesym.optimize.de.differential_evolution_batched`: generation 0 is
    the first sample (``population`` candidates from the initial distribution), followed by up to
    ``generations`` more, so the full budget is ``population × (generations + 1)`` evaluations per problem.

    Parameters
    ----------
    objective
        Maps candidates ``(M', P, dim)`` of the ``M'`` problems still running, in their original order, to
        objective values ``(M', P)``; the call receives the problems' indices as the keyword ``problems``
        (shape ``(M',)``). Candidates always lie in the box.
    dim
        Number of parameters.
    bound
        Half-width of the search box.
    population
        Candidates per generation and problem, λ (at least 4).
    generations
        Maximum number of generations after the first.
    rng
        Source of every random draw.
    n_problems
        Number of independent problems ``M``.
    sigma0
        Initial step size as a fraction of the box width ``2 bound``.
    target
        A problem stops once its best objective is ``<= target`` (``None``: run every generation).
    labels
        Names of the problems, for the progress log.

    Returns
    -------
    OptimisationResult
    """
    if population < 4:
        raise ValueError(f"population must be at least 4 (got {population})")
    if not sigma0 > 0:
        raise ValueError(f"sigma0 must be positive (got {sigma0})")
    labels = list(labels) if labels is not None else [f"problem {i}" for i in range(n_problems)]
    par = cma_parameters(dim, population)
    mu = par.weights.size
    width = 2.0 * float(bound)

    mean = np.zeros((n_problems, dim))
    sigma = np.full(n_problems, sigma0 * width)
    cov = np.tile(np.eye(dim), (n_problems, 1, 1))
    basis = cov.copy()  # B: eigenvectors of C in its columns
    scales = np.ones((n_problems, dim))  # D: square roots of C's eigenvalues
    p_sigma = np.zeros((n_problems, dim))
    p_c = np.zeros((n_problems, dim))

    best_x = np.zeros((n_problems, dim))
    best_f = np.full(n_problems, np.inf)
    history = np.full((n_problems, generations + 1), np.nan)
    evaluations = np.zeros(n_problems, dtype=int)
    ran = np.zeros(n_problems, dtype=int)
    done = np.zeros(n_problems, dtype=bool)

    for generation in range(generations + 1):
        active = np.flatnonzero(~done)
        if active.size == 0:
            break
        z = rng.standard_normal((active.size, population, dim))
        transform = basis[active] * scales[active][:, None, :]  # B D
        y = np.einsum("mij,mpj->mpi", transform, z)
        x = mean[active][:, None, :] + sigma[active][:, None, None] * y
        repaired = np.clip(x, -bound, bound)
        values = np.asarray(objective(repaired, problems=active), dtype=np.float64).reshape(active.size, population)
        evaluations[active] += population
        ran[active] = generation

        record_generation(
            values, repaired, active, generation,
            best_f=best_f, best_x=best_x, history=history, done=done, target=target, labels=labels,
        )  # fmt: skip
        if generation == generations:
            break

        # Update every problem of this generation (one that just reached its target is simply not sampled again).
        step2 = sigma[active] ** 2 * (scales[active] ** 2).mean(axis=1)
        order = np.argsort(_penalised(values, x, repaired, step2), axis=1, kind="stable")[:, :mu]
        y_sel = np.take_along_axis(y, order[..., None], axis=1)  # (A, μ, d)
        z_sel = np.take_along_axis(z, order[..., None], axis=1)
        y_w = np.einsum("k,mkd->md", par.weights, y_sel)
        z_w = np.einsum("k,mkd->md", par.weights, z_sel)

        mean[active] = mean[active] + sigma[active][:, None] * y_w
        # C^(-1/2) y_w = B D^-1 B^T B D z_w = B z_w
        p_s = (1 - par.c_sigma) * p_sigma[active] + np.sqrt(par.c_sigma * (2 - par.c_sigma) * par.mu_eff) * (
            np.einsum("mij,mj->mi", basis[active], z_w)
        )
        p_sigma[active] = p_s
        norm = np.linalg.norm(p_s, axis=1)
        h_sigma = (
            norm / np.sqrt(1 - (1 - par.c_sigma) ** (2 * (generation + 1))) < (1.4 + 2 / (dim + 1)) * par.chi_n
        ).astype(float)
        p = (1 - par.c_c) * p_c[active] + (h_sigma * np.sqrt(par.c_c * (2 - par.c_c) * par.mu_eff))[:, None] * y_w
        p_c[active] = p
        stall = (1 - h_sigma) * par.c_c * (2 - par.c_c)
        rank_one = np.einsum("mi,mj->mij", p, p)
        rank_mu = np.einsum("k,mki,mkj->mij", par.weights, y_sel, y_sel)
        keep = 1 - par.c_1 - par.c_mu + par.c_1 * stall  # Σ w_i = 1
        c = keep[:, None, None] * cov[active] + par.c_1 * rank_one + par.c_mu * rank_mu
        c = (c + np.swapaxes(c, 1, 2)) / 2
        cov[active] = c
        eigenvalues, eigenvectors = np.linalg.eigh(c)
        eigenvalues = np.maximum(eigenvalues, 1e-20 * eigenvalues.max(axis=1, keepdims=True))
        basis[active] = eigenvectors
        scales[active] = np.sqrt(eigenvalues)
        new_sigma = sigma[active] * np.exp(par.c_sigma / par.d_sigma * (norm / par.chi_n - 1))
        sigma[active] = np.minimum(new_sigma, width / scales[active].max(axis=1))

    return OptimisationResult(
        x=best_x,
        fun=best_f,
        history=history,
        n_evaluations=evaluations,
        n_generations=ran,
    )
