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

from facesym.stats.holm import holm
from facesym.stats.joint import NULLS, joint_permutation_test, smallest_pvalue
from facesym.stats.permutation import DEFAULT_MAX_MEMORY, PVALUE_METHODS, PermutationResult, permutation_test
from facesym.stats.population import sign_flip_test, smallest_sign_flip_pvalue, t_interval
from facesym.stats.score import SPACINGS, STATISTICS, impact_score, score_weights, units
from facesym.stats.summary import Summary, summarise

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
    "sign_flip_test",
    "smallest_pvalue",
    "smallest_sign_flip_pvalue",
    "summarise",
    "t_interval",
    "units",
]
