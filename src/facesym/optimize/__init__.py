"""Optimisation of expression parameters (paper Eq. 4): DE, CMA-ES and multi-start gradient descent."""

from facesym.optimize.cmaes import SIGMA0, CMAParameters, cma_es_batched, cma_parameters
from facesym.optimize.de import DEResult, differential_evolution_batched
from facesym.optimize.gradient import LEARNING_RATE, STARTS, gradient_descent_batched
from facesym.optimize.result import OptimisationResult

__all__ = [
    "LEARNING_RATE",
    "SIGMA0",
    "STARTS",
    "CMAParameters",
    "DEResult",
    "OptimisationResult",
    "cma_es_batched",
    "cma_parameters",
    "differential_evolution_batched",
    "gradient_descent_batched",
]
