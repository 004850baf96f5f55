"""Statistics core: impact score, permutation test, Holm-Bonferroni correction and per-model summaries.

Pure NumPy; no Snakemake. The public API:

- :func:`impact_score` — the paper's facial-symmetry impact score (Eq. 6) or a least-squares alternative;
- :func:`permutation_test` — the within-column permutation test of the score, with :class:`PermutationResult`;
- :func:`holm` — Holm-Bonferroni step-down correction over the last axis;
- :func:`summarise` — mean score over identities (Table 2), ratio significant after Holm (supplementary
  Table 1) and a bootstrap confidence interval of the mean, as a :class:`Summary`.

See :mod:`facesym.stats.score` for the telescoping property of the paper's score: only the two lowest and the
two highest symmetry levels enter it.
"""

from facesym.stats.holm import holm
from facesym.stats.permutation import DEFAULT_MAX_MEMORY, PVALUE_METHODS, PermutationResult, permutation_test
from facesym.stats.score import SPACINGS, STATISTICS, impact_score, score_weights, units
from facesym.stats.summary import Summary, summarise

__all__ = [
    "DEFAULT_MAX_MEMORY",
    "PVALUE_METHODS",
    "SPACINGS",
    "STATISTICS",
    "PermutationResult",
    "Summary",
    "holm",
    "impact_score",
    "permutation_test",
    "score_weights",
    "summarise",
    "units",
]
