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

# Attributes load on first use: a job that needs one statistic (``facesym.stats.score``) should not pay for SciPy's
# ``stats`` package, which ``population`` and ``calibration`` import and which costs a new process ~0.5 s.
_WHERE = {
    "DEFAULT_MAX_MEMORY": "permutation",
    "NULLS": "joint",
    "PVALUE_METHODS": "permutation",
    "SPACINGS": "score",
    "STATISTICS": "score",
    "PermutationResult": "permutation",
    "Summary": "summary",
    "holm": "holm",
    "impact_score": "score",
    "joint_permutation_test": "joint",
    "permutation_test": "permutation",
    "score_weights": "score",
    "sign_flip_test": "population",
    "smallest_pvalue": "joint",
    "smallest_sign_flip_pvalue": "population",
    "summarise": "summary",
    "t_interval": "population",
    "units": "score",
}

__all__ = list(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'facesym.stats' has no attribute '{name}'")
    return getattr(import_module(f"facesym.stats.{_WHERE[name]}"), name)
