"""Conditional-independence tests of X ⟂ Y | Z for Experiment 1: property ⟂ classifier output | label.

Three tests with a common result type, :class:`CITResult`, and the paper's majority vote:

* :func:`kci` — kernel CI test (Zhang et al. 2011), causal-learn's ``KCI_CInd``;
* :func:`cmiknn` — nearest-neighbour conditional mutual information (Runge 2018), tigramite's mixed-type
  estimator with an exact within-label permutation null;
* :func:`fast_cit` — Chalupka et al.'s fast CIT with decision trees (scikit-learn);
* :func:`conditional_independence` runs all three, :func:`majority_vote` decides;
* :func:`subject_permutation_test` — for a property of the subject (palsy): the null permutes subjects;
* :func:`calibrate` measures their false-positive rates with the property shuffled within labels.

Z is always a discrete label here (the instructed emotion).
"""

from facesym.cit._common import CITResult, shuffle_within_groups
from facesym.cit.calibration import MAJORITY, Calibration, calibrate, max_false_positives
from facesym.cit.cmiknn import cmiknn
from facesym.cit.fcit import fast_cit
from facesym.cit.kci import kci
from facesym.cit.subject import SUBJECT_PERMUTATION, subject_permutation_test
from facesym.cit.vote import VoteResult, conditional_independence, majority_vote

__all__ = [
    "MAJORITY",
    "SUBJECT_PERMUTATION",
    "CITResult",
    "Calibration",
    "VoteResult",
    "calibrate",
    "cmiknn",
    "conditional_independence",
    "fast_cit",
    "kci",
    "majority_vote",
    "max_false_positives",
    "shuffle_within_groups",
    "subject_permutation_test",
]
