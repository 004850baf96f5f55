"""The subject-placebo calibration: repeated images of a subject inflate the tests, and the placebo shows it."""

import numpy as np
import pandas as pd
import pytest

from facesym.cit import calibrate, max_false_positives
from facesym.cit.placebo import placebo_calibration, subject_level
from facesym.emotions import EMOTIONS

SETTINGS = {"alpha": 0.05, "n_perm": 99}


def clustered_cohort(subject_effect: float, seed: int = 0, subjects: int = 10, repetitions: int = 2):
    """Outputs with a per-subject offset (identity, light) of size ``subject_effect``, nothing else."""
    rng = np.random.default_rng(seed)
    subject = np.repeat(np.arange(subjects), repetitions * len(EMOTIONS))
    label = np.tile(np.repeat(np.arange(len(EMOTIONS)), repetitions), subjects)
    y = 0.3 * label + subject_effect * rng.standard_normal(subjects)[subject] + 0.3 * rng.standard_normal(len(label))
    return y, np.asarray(EMOTIONS)[label], np.array([f"s{i}" for i in subject])


def test_subject_level_properties_are_recognised():
    subjects = pd.Series(["a", "a", "b", "b"])
    assert subject_level(pd.Series([1, 1, 0, 0]), subjects)
    assert not subject_level(pd.Series([0.9, 0.8, 0.5, 0.5]), subjects)


def test_placebo_shows_what_the_within_label_shuffle_hides():
    y, z, subjects = clustered_cohort(subject_effect=1.0)
    placebo = placebo_calibration(y, z, subjects, seed=1, n_draws=30, binary=True, **SETTINGS)
    assert placebo.n == len(y) and placebo.n_shuffles == 30
    # every placebo is constant within subjects and independent of everything, yet the tests keep rejecting it
    assert placebo.false_positives()["majority"] > max_false_positives(30, SETTINGS["alpha"], confidence=0.999)
    # the image-level shuffle of one such placebo, the calibration the paper's design suggests, sees nothing wrong
    x = (np.random.default_rng(2).random(10) < 0.5)[np.unique(subjects, return_inverse=True)[1]].astype(float)
    shuffled = calibrate(x, y, z, seed=3, n_shuffles=30, discrete_x=True, **SETTINGS)
    assert shuffled.to_records()[-1]["within_nominal"]


def test_without_subject_effects_placebos_are_rejected_at_the_nominal_rate():
    y, z, subjects = clustered_cohort(subject_effect=0.0)
    placebo = placebo_calibration(y, z, subjects, seed=4, n_draws=30, binary=False, **SETTINGS)
    assert all(record["within_nominal"] for record in placebo.to_records())


def test_binary_placebo_is_never_constant_and_follows_the_share():
    y, z, subjects = clustered_cohort(subject_effect=0.0, subjects=3, repetitions=1)
    with pytest.raises(ValueError, match="at least 1"):
        placebo_calibration(y, z, subjects, seed=0, n_draws=0, binary=True)
    # with 3 subjects and share 0.9, most draws would mark every subject; those are redrawn
    placebo = placebo_calibration(y, z, subjects, seed=5, n_draws=3, binary=True, share=0.9, **SETTINGS)
    assert placebo.n_shuffles == 3
