"""The CI test whose null permutes subjects, for properties constant within a subject (palsy)."""

import numpy as np
import pytest
from scipy import stats as sps

from facesym.cit import SUBJECT_PERMUTATION, subject_permutation_test
from facesym.cit.placebo import placebo_calibration


def cohort(rng, n_subjects=24, repetitions=2, subject_sd=0.3, effect=0.0):
    """Subjects under six labels; every subject shifts all of its outputs (identity, skin, light)."""
    subjects = np.repeat(np.arange(n_subjects), 6 * repetitions)
    labels = np.tile(np.repeat(np.arange(6), repetitions), n_subjects)
    palsy = (np.arange(n_subjects) < n_subjects // 2).astype(float)[subjects]
    y = 0.5 + rng.normal(0, subject_sd, n_subjects)[subjects] + 0.05 * rng.normal(size=subjects.size)
    y -= effect * palsy * (labels == 3)
    return palsy, y, labels, subjects


def test_holds_its_level_where_image_rows_are_not_independent():
    """Subject effects make a subject's rows dependent; the subject permutation stays calibrated."""
    rng = np.random.default_rng(0)
    draws = 200
    p = np.array([subject_permutation_test(*cohort(rng), seed=rng, n_perm=199).p_value for _ in range(draws)])
    assert np.count_nonzero(p <= 0.05) <= sps.binom.ppf(0.995, draws, 0.05)
    assert np.count_nonzero(p <= 0.05) >= sps.binom.ppf(0.005, draws, 0.05)


def test_finds_a_palsy_effect_on_one_label():
    rng = np.random.default_rng(1)
    result = subject_permutation_test(*cohort(rng, subject_sd=0.05, effect=0.3), seed=2, n_perm=999)
    assert result.test == SUBJECT_PERMUTATION and result.p_value <= 0.002


def test_refuses_a_property_that_varies_within_a_subject():
    rng = np.random.default_rng(2)
    palsy, y, labels, subjects = cohort(rng)
    palsy[0] = 1 - palsy[0]
    with pytest.raises(ValueError, match="one value per subject"):
        subject_permutation_test(palsy, y, labels, subjects, seed=0)


def test_placebo_calibration_reports_the_subject_permutation_beside_the_vote():
    rng = np.random.default_rng(3)
    _, y, labels, subjects = cohort(rng, n_subjects=12, repetitions=1)
    calibration = placebo_calibration(y, labels, subjects, seed=4, n_draws=3, binary=True, n_perm=199, n_splits=2)
    assert calibration.p_values[SUBJECT_PERMUTATION].shape == (3,)
    assert SUBJECT_PERMUTATION in {r["test"] for r in calibration.to_records()}
