"""Statistics core: impact score, permutation test, Holm-Bonferroni correction and per-model summaries.

Pure NumPy; no Snakemake. The public API:

- :func:`impact_score` — the paper's facial-symmetry impact score (Eq. 6) or a least-squares alternative;
- :func:`permutation_test` — the within-column permutation test of the score, with :class:`PermutationResult`;
- :func:`joint_permutation_test` — the joint null: one relabelling of the symmetry levels for every column;
- :func:`smallest_pvalue` — the resolution of either null (what Holm can reach);
- :func:`holm` — Holm-Bonferroni step-down correction over the last axis;
- :func:`sign_flip_test`, :func:`t_interval` — population-level inference across identities;
- :func:`summarise` — mean score over identities (Table 2), ratio significant after Holm (supplementary
  Table 1) and a bootstrap confidence interval of the mean, as a :class:`Summary`.

See :mod:`facesym.stats.score` for the telescoping property of the paper's score: only the two lowest and the
two highest symmetry levels enter it.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from facesym.stats.holm import holm
from facesym.stats.joint import NULLS, joint_permutation_test, smallest_pvalue
from facesym.stats.permutation import DEFAULT_MAX_MEMORY, PVALUE_METHODS, PermutationResult, permutation_test
from facesym.stats.score import SPACINGS, STATISTICS, impact_score, score_weights, units
from facesym.stats.summary import Summary, summarise

# The population tests load on first use: they import SciPy's ``stats`` package, which costs a new process more
# than everything else here, and the jobs that only score or permute (``facesym.stats.score``) never need it.
_LAZY = {"sign_flip_test": "population", "smallest_sign_flip_pvalue": "population", "t_interval": "population"}

__all__ = [
    "DEFAULT_MAX_MEMORY",
    "NULLS",
    "PVALUE_METHODS",
    "SPACINGS",
    "STATISTICS",
    "PermutationResult",
    "Summary",
    "holm",
    "impact_score",
    "joint_permutation_test",
    "permutation_test",
    "score_weights",
    "smallest_pvalue",
    "summarise",
    "units",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'facesym.stats' has no attribute '{name}'")
    return getattr(import_module(f"facesym.stats.{_LAZY[name]}"), name)
