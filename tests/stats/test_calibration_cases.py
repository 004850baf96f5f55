"""Key cases of the calibration study (benchmarks/bench_calibration.py runs them at full size)."""

import numpy as np
import pytest
import torch

from facesym.classifiers.base import Classifier
from facesym.classifiers.embedded import EMBEDDED_CLASSES
from facesym.classifiers.entries import Preprocessing
from facesym.face import build_procedural_model
from facesym.identities import sample_identity
from facesym.interventions.scene import build_scene
from facesym.interventions.surfaces import grid, logit_surfaces
from facesym.stats import impact_score, sign_flip_test, t_interval
from facesym.stats.calibration import binomial_band, calibrate, planted_surfaces

HAPPY = list(EMBEDDED_CLASSES).index("happy")


def test_no_effect_every_test_holds_its_level():
    rates = calibrate("null", np.random.default_rng(0), replicates=40, n_identities=8, permutations=99,
                      statistics=("gradient",))  # fmt: skip
    low, high = binomial_band(rates.n_identity_tests, 0.01)
    assert low <= rates.per_identity["columns", "gradient"] <= high
    assert low <= rates.per_identity["joint", "gradient"] <= high
    pop_low, pop_high = binomial_band(rates.n_replicates, 0.05)
    assert pop_low <= rates.population["score"] <= pop_high
    assert pop_low <= rates.population["specific"] <= pop_high


def test_monotone_trend_is_found_by_the_population_test_and_the_joint_slope_not_the_joint_gradient():
    rates = calibrate("trend", np.random.default_rng(1), replicates=20, n_identities=8, permutations=99, size=0.002)
    assert rates.mean_score == pytest.approx(0.002 / 2, rel=0.1)  # size · mean(t) per symmetry step
    assert rates.population["score"] >= 0.9 and rates.population["specific"] >= 0.9
    assert rates.per_identity["joint", "slope"] > 0.2
    assert rates.per_identity["joint", "gradient"] < 0.05  # the gradient's weights defeat the joint null


def test_intensity_only_classifier_scores_positive_but_has_no_symmetry_specific_impact():
    rates = calibrate("intensity", np.random.default_rng(2), replicates=40, n_identities=8, permutations=99,
                      statistics=("gradient",))  # fmt: skip
    assert rates.population["score"] == 1.0  # the paper's score: "significant" for every cell
    low, high = binomial_band(rates.n_replicates, 0.05)
    assert low <= rates.population["specific"] <= high
    assert abs(rates.mean_specific) < 0.02 * rates.mean_score


def test_planted_cases_are_what_they_say():
    rng = np.random.default_rng(3)
    a, b = planted_surfaces("intensity", 2, rng, noise=0.0)
    np.testing.assert_array_equal(a, b)  # same movement, same output
    a, _ = planted_surfaces("trend", 1, rng, noise=0.0, size=0.01)
    assert float(impact_score(a)[0]) == pytest.approx(0.005)


def test_rendered_intensity_only_classifier_has_a_symmetry_specific_impact_consistent_with_zero():
    """A classifier that reads only how far the face moved from neutral (mean |image − neutral image|).

    Through the real model and renderer: the paper's score is clearly positive for every identity; the
    symmetry-specific impact (score − intensity-matched control's score) is much smaller and not significant.
    """
    model = build_procedural_model(n_shape=8, n_appearance=4)
    s, t = grid(4, 6)
    scores, specifics = [], []
    for i in range(6):
        identity = sample_identity(11, f"id{i:04d}", model.n_shape, model.n_appearance, 4)
        scene = build_scene(model, identity, {"size": 32, "color": "gray", "backend": "numba"}, torch.device("cpu"))
        # Within the FACS box (AU intensities up to E = 1). Beyond it (up to 1.5, which this test drew before the
        # lid contact and occlusion existed) all six specific impacts came out positive (sign-flip p = 0.031);
        # the likely cause, not isolated: lids that rest on each other and occlusion are not linear in the
        # movement, so the control matches the intensity less exactly there.
        phi = np.random.default_rng(i).uniform(0.0, 1.0, size=(1, model.n_expression))
        neutral = scene.images(phi, torch.ones(1), torch.zeros(1))

        def movement(x, neutral=neutral):
            m = (x - (neutral - 0.5) / 0.5).abs().mean(dim=(1, 2, 3))  # the preprocessed neutral
            logits = torch.zeros(x.shape[0], len(EMBEDDED_CLASSES))
            logits[:, HAPPY] = 10.0 * m
            return logits

        classifier = Classifier("movement", EMBEDDED_CLASSES, Preprocessing(32, "gray", (0.5,), (0.5,)), movement)
        asym = logit_surfaces(classifier, scene, phi, s, t).softmax[0, :, :, HAPPY]
        sham = logit_surfaces(classifier, scene, phi, s, t, intensity_matched=True).softmax[0, :, :, HAPPY]
        scores.append(float(impact_score(asym)))
        specifics.append(float(impact_score(asym) - impact_score(sham)))
    scores, specifics = np.array(scores), np.array(specifics)
    assert (scores > 0).all()
    low, high = t_interval(specifics)
    assert np.abs(specifics).mean() < 0.25 * scores.mean()
    assert sign_flip_test(specifics)[0] > 0.05 or low <= 0 <= high, (scores, specifics)
