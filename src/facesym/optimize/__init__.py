"""Gradient-free optimisation of expression parameters (paper Eq. 4)."""

from facesym.optimize.cmaes import SIGMA0, CMAParameters, cma_es_batched, cma_parameters
from facesym.optimize.de import DEResult, differential_evolution_batched
from facesym.optimize.result import OptimisationResult

__all__ = [
    "SIGMA0",
    "CMAParameters",
    "DEResult",
    "OptimisationResult",
    "cma_es_batched",
    "cma_parameters",
    "differential_evolution_batched",
]
