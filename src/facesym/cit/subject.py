"""A CI test for properties of a subject (palsy): the null permutes subjects, not images within labels.

The three tests of the paper draw their null by moving the property between the rows of one label (KCI,
CMIknn) or by resampling rows (fast CIT), i.e. they treat the rows as independent. In a cohort the same subject
appears under every label, several times each, and a property such as palsy is constant within a subject: its
rows are not independent, and a label-wise permutation that splits a subject's rows between "palsy" and
"healthy" ignores that structure.

Here the null keeps it: the subjects' property values are permuted **between subjects**, each subject carrying
its value to all of its rows (under H0: X ⟂ Y | Z with exchangeable subjects, every such relabelling is equally
likely). The statistic is label-conditional: ``sum_labels n_l · corr(x, y | label l)^2``, the squared
correlation of property and output among the rows of each label, weighted by the rows. The p-value is
``(1 + b)/(K + 1)``.

What it asks is a between-subject question whatever the unit: do subjects with the property have different
outputs, at a given label, than subjects without it. With ``experiment1.unit: subject`` the rows are already
one per (subject, label); with ``image`` the repetitions only weight the correlation.
"""

from __future__ import annotations

import numpy as np

from facesym.cit._common import CITResult, Seed, check_inputs

__all__ = ["SUBJECT_PERMUTATION", "subject_permutation_test"]

SUBJECT_PERMUTATION = "subject permutation"
"""Name of the test in results tables."""


def _statistic(x: np.ndarray, y: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``sum_l n_l corr_l(x, y)^2`` for every row of ``x`` (shape ``(B, n)``), labels ``codes``."""
    total = np.zeros(x.shape[0])
    for label in np.unique(codes):
        rows = codes == label
        xs = x[:, rows] - x[:, rows].mean(axis=-1, keepdims=True)
        ys = y[rows] - y[rows].mean()
        denominator = np.sqrt((xs**2).sum(axis=-1) * (ys**2).sum())
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.where(denominator > 0, (xs @ ys) / denominator, 0.0)
        total += rows.sum() * corr**2
    return total


def subject_permutation_test(
    x: np.ndarray, y: np.ndarray, z: np.ndarray, subjects: np.ndarray, *, seed: Seed, n_perm: int = 999
) -> CITResult:
    """Test X ⟂ Y | Z for a property X constant within each subject, permuting X between subjects.

    Parameters
    ----------
    x, y, z
        Shape ``(n,)`` each: property, classifier output and label (as for the other tests).
    subjects
        Shape ``(n,)``: the subject of every row; ``x`` must take one value per subject.
    seed
        Seed or generator of the permutations.
    n_perm
        Number ``K`` of random permutations of the subjects.

    Returns
    -------
    CITResult
        ``test = "subject permutation"``, the statistic and ``p = (1 + b)/(K + 1)``.
    """
    x, y, codes, _ = check_inputs(x, y, z)
    names, index = np.unique(np.asarray(subjects), return_inverse=True)
    index = index.reshape(-1)
    per_subject = np.full(len(names), np.nan)
    per_subject[index] = x
    if not np.array_equal(per_subject[index], x):
        raise ValueError("the property must take one value per subject to permute it between subjects")
    if len(names) < 3:
        raise ValueError(f"a permutation of subjects needs at least 3 subjects, got {len(names)}")
    rng = np.random.default_rng(seed)
    observed = float(_statistic(x[None, :], y, codes)[0])
    permuted = rng.permuted(np.broadcast_to(per_subject, (n_perm, len(names))), axis=-1)[:, index]
    null = _statistic(permuted, y, codes)
    b = int(np.count_nonzero(null >= observed - 1e-12 * max(abs(observed), 1.0)))
    return CITResult(
        test=SUBJECT_PERMUTATION,
        statistic=observed,
        p_value=(1.0 + b) / (n_perm + 1.0),
        n=len(x),
        settings={"n_perm": n_perm, "n_subjects": len(names)},
    )
