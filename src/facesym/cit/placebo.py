"""A second calibration for properties of a subject (palsy, age, …): placebo properties drawn per subject.

The within-label shuffle of :func:`facesym.cit.calibrate` moves a property between images, which treats the
images as independent. A cohort has several images per subject (the paper: 24), and a subject's identity, skin and
light shift all of that subject's outputs together, so images of one subject are not independent. A property that
is constant within each subject then looks "dependent" on the output more often than the tests' level says, even
when it has nothing to do with the face — and the within-label shuffle, having broken the subjects apart, cannot
show it.

The placebo check draws, for every subject, a fresh value of a property of the same kind that is independent of
everything (binary: the subject is 1 with the real property's share of subjects, continuous: standard normal),
gives it to all of the subject's images and runs the three tests and the vote, and beside them the test whose
null permutes subjects (:func:`facesym.cit.subject_permutation_test`, not part of the vote). Every rejection is a
false positive with the cohort's real subject structure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from facesym.cit.calibration import Calibration
from facesym.cit.subject import SUBJECT_PERMUTATION, subject_permutation_test
from facesym.cit.vote import conditional_independence

__all__ = ["subject_level", "placebo_calibration"]


def subject_level(values: pd.Series, subjects: pd.Series) -> bool:
    """Whether a property takes one value per subject (and so is tested with a placebo of its kind)."""
    return bool((values.groupby(subjects.to_numpy()).nunique() == 1).all())


def placebo_calibration(
    y: np.ndarray,
    z: np.ndarray,
    subjects: np.ndarray,
    *,
    seed: int | np.random.Generator,
    n_draws: int,
    binary: bool,
    share: float = 0.5,
    alpha: float = 0.01,
    knn: float = 0.2,
    n_perm: int = 199,
    n_splits: int = 8,
) -> Calibration:
    """The tests' and the vote's false positives on subject-level placebo properties.

    Parameters
    ----------
    y
        Shape ``(n,)``: the classifier output.
    z
        Shape ``(n,)``: the instructed label.
    subjects
        Shape ``(n,)``: the subject of every image.
    seed
        Seed or generator of the placebo draws and of every test.
    n_draws
        Placebo properties drawn.
    binary
        Binary placebo (Bernoulli(``share``) per subject, redrawn while all subjects agree) or continuous
        (standard normal per subject).
    share
        Probability of a 1 for a binary placebo: the real property's share of subjects.
    alpha, knn, n_perm, n_splits
        As for :func:`facesym.cit.conditional_independence`.

    Returns
    -------
    Calibration
        ``p_values`` per test (the three of the vote and ``"subject permutation"``) and the votes, over the
        ``n_draws`` placebos.
    """
    if n_draws < 1:
        raise ValueError(f"n_draws must be at least 1, got {n_draws}")
    rng = np.random.default_rng(seed)
    names, index = np.unique(np.asarray(subjects), return_inverse=True)
    if len(names) < 2:
        raise ValueError("a placebo needs at least two subjects")
    # its own stream, so that the placebo draws and the vote's tests see the same numbers with or without it
    (subject_rng,) = rng.spawn(1)
    votes, by_subjects = [], []
    for _ in range(n_draws):
        if binary:
            values = rng.random(len(names)) < share
            while values.all() or not values.any():
                values = rng.random(len(names)) < share
        else:
            values = rng.standard_normal(len(names))
        votes.append(
            conditional_independence(
                values.astype(np.float64)[index],
                y,
                z,
                seed=rng,
                discrete_x=binary,
                alpha=alpha,
                knn=knn,
                n_perm=n_perm,
                n_splits=n_splits,
            )
        )
        placebo = values.astype(np.float64)[index]
        by_subjects.append(subject_permutation_test(placebo, y, z, subjects, seed=subject_rng, n_perm=n_perm).p_value)
    calibration = Calibration.from_votes(votes, alpha, len(index))
    p_values = {**calibration.p_values, SUBJECT_PERMUTATION: np.array(by_subjects)}
    return Calibration(calibration.alpha, calibration.n, p_values, calibration.dependent)
