"""The synthetic AU corpus: exact labels, groups that differ only in what they name, the template rule."""

import numpy as np
import pytest

from deepfn.conftest import small_render, tiny_deepfn, validated
from facesym.deepfn.corpus import GROUPS, au_labels, choose_template, draw_subjects, draw_trials, render_corpus
from facesym.face import build_procedural_model
from facesym.face.procedural import IDENTITY_COMPONENTS
from facesym.identities import sample_identity
from facesym.seeds import derive_seed


def test_labels_follow_the_intensity_threshold_exactly():
    intensity = np.array([[0.0, 0.29999, 0.3, 1.0]], dtype=np.float32)
    assert au_labels(intensity, 0.3).tolist() == [[0, 0, 1, 1]]
    # an AU at zero intensity is absent even with the smallest threshold
    assert au_labels(np.zeros((2, 3)), 1e-9).sum() == 0
    with pytest.raises(ValueError, match="label_threshold"):
        au_labels(intensity, 0.0)


def test_trials_activate_aus_at_the_configured_rate(tiny_config):
    config = validated(tiny_deepfn(images_per_subject=4000, activation_probability=0.25))
    trials = draw_trials(config, "h000")
    assert trials.shape == (4000, len(config["deepfn"]["action_units"]))
    assert trials.min() == 0.0 and trials.max() <= 1.0
    assert abs((trials > 0).mean() - 0.25) < 0.01
    # active intensities are uniform on (0, 1]: the labels at threshold 0.3 keep 70 % of the activations
    assert abs(au_labels(trials, 0.3).sum() / (trials > 0).sum() - 0.7) < 0.02
    assert np.array_equal(trials, draw_trials(config, "h000"))
    assert not np.array_equal(trials, draw_trials(config, "h001"))


def test_groups_differ_only_in_the_coefficients_they_name(tiny_config):
    subjects = draw_subjects(tiny_config)
    healthy = [s for s in subjects if s.role == "healthy"]
    assert len(healthy) == 16 and sum(s.role == "palsy" for s in subjects) == 2
    shape_columns = [IDENTITY_COMPONENTS.index("face_width"), IDENTITY_COMPONENTS.index("jaw_width")]
    dims = tiny_config["identities"]
    for subject in healthy:
        free = sample_identity(derive_seed(tiny_config["seed"], "deepfn"), subject.name, dims["shape_dim"],
                               dims["appearance_dim"], dims["lighting_dim"])
        # everything but the named coefficients is the unconstrained draw
        assert np.array_equal(np.delete(subject.identity.alpha, 0), np.delete(free.alpha, 0))
        assert np.array_equal(np.delete(subject.identity.beta, shape_columns), np.delete(free.beta, shape_columns))
        assert np.array_equal(subject.identity.lighting, free.lighting)
        margin = tiny_config["deepfn"]["group_margin"]
        tone = subject.identity.alpha[0]
        assert (tone <= -margin) if subject.groups["skin"] == "lighter" else (tone >= margin)
        widths = subject.identity.beta[shape_columns]
        assert np.all(widths <= -margin) if subject.groups["face_shape"] == "narrow" else np.all(widths >= margin)
        assert subject.s == 1.0
    # the cells of skin × shape × dataset are balanced, so each group holds half of the subjects
    for split, values in GROUPS.items():
        assert [sum(s.groups[split] == v for s in healthy) for v in values] == [8, 8]
    low, high = tiny_config["deepfn"]["palsy_s"]
    assert all(low <= s.s <= high for s in subjects if s.role == "palsy")


def test_most_expressive_template_has_the_highest_median_activation_count(tiny_config):
    subjects = [s for s in draw_subjects(validated(tiny_deepfn(template_candidates=3))) if s.role == "template"]
    labels = {
        subjects[0].name: np.array([[1, 0, 0], [1, 0, 0]]),   # counts 2, 0, 0 -> median 0
        subjects[1].name: np.array([[1, 1, 0], [0, 1, 1]]),   # counts 1, 2, 1 -> median 1
        subjects[2].name: np.array([[0, 0, 0], [1, 1, 0]]),   # counts 1, 1, 0 -> median 1 (tie: first wins)
    }  # fmt: skip
    assert choose_template(subjects, labels) == subjects[1].name


def test_rendered_corpus_pairs_and_datasets():
    config = validated(small_render(template="average"))
    model = build_procedural_model(20, 6)
    corpus = render_corpus(model, config)
    template = next(s for s in corpus.subjects if s.name == corpus.template)
    assert np.all(template.identity.alpha == 0) and np.all(template.identity.beta == 0)
    subject = next(s for s in corpus.subjects if s.role == "healthy")
    assert corpus.images[subject.name].shape == (10, 32, 32) and corpus.images[subject.name].dtype == np.uint8
    # a pair shows the template with the subject's exact trial; the template's own images are its trials
    assert not np.array_equal(corpus.pairs[subject.name], corpus.images[subject.name])
    assert np.array_equal(corpus.pairs[corpus.template], corpus.images[corpus.template])
    # the same person and trials look different in the two datasets (camera, light, resolution)
    from facesym.deepfn.corpus import _Renderer

    render = _Renderer(model, config)
    a = render(subject, corpus.intensity[subject.name][:2], 1.0, dataset="A")
    b = render(subject, corpus.intensity[subject.name][:2], 1.0, dataset="B")
    assert np.abs(a.astype(float) - b.astype(float)).mean() > 5.0
    # the grid: each AU alone; at onset 0 every AU shows the same neutral face
    palsy = next(s.name for s in corpus.subjects if s.role == "palsy")
    grid = corpus.grid[palsy]
    assert grid.shape[:3] == (len(config["deepfn"]["action_units"]), 3, 2)
    assert np.array_equal(grid[0, :, 0], grid[1, :, 0])
    assert not np.array_equal(grid[0, -1, -1], grid[1, -1, -1])
