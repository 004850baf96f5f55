"""The config's ``figures`` section resolved against a run's classifiers and identities."""

import pytest

from facesym.figures.targets import FIGURE_DEFAULTS, figure_case, figure_settings, figure_targets

CLASSIFIERS = ["cnn_small", "resnet_aug"]
IDENTITIES = ["id0000", "id0001"]


def test_defaults_pick_the_first_classifier_and_identity_and_happy():
    settings = figure_settings(None)
    assert settings == FIGURE_DEFAULTS
    assert figure_case(settings, CLASSIFIERS, IDENTITIES) == ("cnn_small", "id0000", "happy")


def test_targets_name_the_configured_case_and_every_classifier():
    settings = figure_settings({"classifier": "resnet_aug", "identity": "id0001", "emotion": "sad"})
    assert figure_targets(settings, CLASSIFIERS, IDENTITIES) == [
        "results/figures/fig2_expressions_resnet_aug_id0001.pdf",
        "results/figures/fig3_surface_resnet_aug_id0001_sad.pdf",
        "results/figures/fig5_symmetry_cnn_small.pdf",
        "results/figures/fig5_symmetry_resnet_aug.pdf",
        "results/figures/table2_heatmap.pdf",
    ]


def test_no_classifiers_no_figures():
    assert figure_targets(figure_settings({}), [], IDENTITIES) == []


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"classifier": "vgg"}, "figures.classifier"),
        ({"identity": "id0009"}, "figures.identity"),
        ({"emotion": "neutral"}, "figures.emotion"),
    ],
)
def test_a_value_outside_the_run_names_its_key(section, key):
    with pytest.raises(ValueError, match=f"'{key}'"):
        figure_case(figure_settings(section), CLASSIFIERS, IDENTITIES)


def test_unknown_key_is_named():
    with pytest.raises(ValueError, match="'figures.colour'"):
        figure_settings({"colour": "red"})
