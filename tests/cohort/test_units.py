"""Experiment 1's unit of analysis: images, or one mean per subject and label (facesym.cohort.units)."""

import numpy as np
import pandas as pd
import pytest

from facesym.cit import max_false_positives
from facesym.cit.placebo import placebo_calibration
from facesym.cohort.units import analysis_units
from facesym.emotions import EMOTIONS

SETTINGS = {"alpha": 0.05, "n_perm": 99}


def image_table() -> pd.DataFrame:
    """Two subjects, two labels, two images each; 'glasses' changes between the images of s1/happy."""
    return pd.DataFrame(
        {
            "cohort": "synthetic",
            "classifier": "c",
            "subject": ["s1", "s1", "s1", "s1", "s2", "s2", "s2", "s2"],
            "label": ["happy", "happy", "sad", "sad"] * 2,
            "palsy": [1, 1, 1, 1, 0, 0, 0, 0],
            "glasses": [0, 1, 0, 0, 1, 1, 1, 1],
            "symmetry": [0.8, 0.6, 0.7, 0.7, 1.0, 0.9, 0.95, 0.95],
            "p_happy": [0.5, 0.7, 0.1, 0.3, 0.9, 1.0, 0.0, 0.2],
        }
    )


TYPES = {"palsy": "binary", "glasses": "binary", "symmetry": "continuous"}


def test_image_unit_keeps_every_image():
    table = image_table()
    rows, types = analysis_units(table, ["p_happy"], TYPES, "image")
    pd.testing.assert_frame_equal(rows, table)
    assert types == TYPES


def test_subject_unit_averages_the_images_of_a_subject_and_label():
    rows, types = analysis_units(image_table(), ["p_happy"], TYPES, "subject")
    assert list(zip(rows["subject"], rows["label"], strict=True)) == [
        ("s1", "happy"), ("s1", "sad"), ("s2", "happy"), ("s2", "sad"),
    ]  # fmt: skip
    np.testing.assert_allclose(rows["p_happy"], [0.6, 0.2, 0.95, 0.1])
    np.testing.assert_allclose(rows["symmetry"], [0.7, 0.7, 0.95, 0.95])
    np.testing.assert_allclose(rows["glasses"], [0.5, 0.0, 1.0, 1.0])
    assert rows["palsy"].tolist() == [1, 1, 0, 0] and (rows["n_images"] == 2).all()
    assert set(rows["cohort"]) == {"synthetic"} and set(rows["classifier"]) == {"c"}
    # palsy is one value per subject and stays binary; glasses varies within s1/happy and becomes a share
    assert types == {"palsy": "binary", "glasses": "continuous", "symmetry": "continuous"}


def test_unknown_unit_is_named():
    with pytest.raises(ValueError, match="unknown unit of analysis 'trial'"):
        analysis_units(image_table(), ["p_happy"], TYPES, "trial")


def clustered_cohort(seed: int, subjects: int = 16, repetitions: int = 4):
    """Outputs with a large per-subject offset (identity, light) and no property effect at all."""
    rng = np.random.default_rng(seed)
    subject = np.repeat(np.arange(subjects), repetitions * len(EMOTIONS))
    label = np.tile(np.repeat(np.arange(len(EMOTIONS)), repetitions), subjects)
    y = 0.3 * label + rng.standard_normal(subjects)[subject] + 0.3 * rng.standard_normal(len(label))
    return pd.DataFrame(
        {"subject": [f"s{i}" for i in subject], "label": np.asarray(EMOTIONS)[label], "p_happy": y, "palsy": 0}
    )


def test_subject_unit_calibrates_the_tests_for_a_subject_level_property():
    # The same clustered cohort and the same per-subject placebos: images as samples reject far beyond the level,
    # one mean per subject and label stays within it.
    draws = 30
    table = clustered_cohort(seed=4)
    counts = {}
    for unit in ("image", "subject"):
        rows, _ = analysis_units(table, ["p_happy"], {"palsy": "binary"}, unit)
        placebo = placebo_calibration(
            rows["p_happy"].to_numpy(), rows["label"].to_numpy(), rows["subject"].to_numpy(),
            seed=5, n_draws=draws, binary=True, **SETTINGS,
        )  # fmt: skip
        counts[unit] = placebo.false_positives()["majority"]
    assert counts["image"] > max_false_positives(draws, SETTINGS["alpha"], confidence=0.999), counts
    assert counts["subject"] <= max_false_positives(draws, SETTINGS["alpha"], confidence=0.99), counts
