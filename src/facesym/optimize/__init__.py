"""Gradient-free optimisation of expression parameters (paper Eq. 4)."""

from facesym.optimize.de import DEResult, differential_evolution_batched

__all__ = ["DEResult", "differential_evolution_batched"]
