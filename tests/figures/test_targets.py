"""The config's ``figures`` section resolved against a run's classifiers and identities."""

import pytest

from facesym.figures.targets import FIGURE_DEFAULTS, figure_case, figure_settings

CLASSIFIERS = ["cnn_small", "resnet_aug"]
IDENTITIES = ["id0000", "id0001"]


def test_defaults_pick_the_first_classifier_and_identity_and_happy():
    settings = figure_settings(None)
    assert settings == FIGURE_DEFAULTS
    assert figure_case(settings, CLASSIFIERS, IDENTITIES) == ("cnn_small", "id0000", "happy")


def test_a_named_case_is_taken_as_it_is():
    settings = figure_settings({"classifier": "resnet_aug", "identity": "id0001", "emotion": "sad"})
    assert figure_case(settings, CLASSIFIERS, IDENTITIES) == ("resnet_aug", "id0001", "sad")


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
