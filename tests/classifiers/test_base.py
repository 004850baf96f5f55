import pytest
import torch

from facesym.classifiers.base import Classifier, Preprocess
from facesym.classifiers.entries import ClassifierConfigError, Preprocessing, emotion_indices
from facesym.emotions import EMOTIONS

FER = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]


def test_emotion_indices_follow_the_class_order():
    assert emotion_indices("m", FER) == (0, 1, 2, 3, 5, 6)
    assert emotion_indices("m", list(reversed(FER))) == (6, 5, 4, 3, 1, 0)


def test_synonyms_case_and_extra_classes():
    classes = ["Neutral", "Happiness", "Sadness", "Surprise", "Fear", "Disgust", "Anger", "Contempt"]
    assert emotion_indices("affectnet8", classes) == (6, 5, 4, 1, 2, 3)


def test_emotion_map_renames_and_declares_extra_classes():
    classes = ["a", "d", "f", "h", "s", "u", "other"]
    mapping = dict(zip(classes, [*EMOTIONS, "neutral"], strict=True))
    assert emotion_indices("m", classes, mapping) == (0, 1, 2, 3, 4, 5)


@pytest.mark.parametrize(
    ("classes", "mapping", "message"),
    [
        (FER[:-1], None, r"no class maps onto \['surprise'\]"),
        ([*FER, "joy"], None, "class 'joy' is none of the six emotions"),
        ([*FER, "Happiness"], None, "both map onto emotion 'happy'"),
        ([*FER, "angry"], None, "lists a class twice"),
        (FER, {"calm": "neutral"}, "names class 'calm', which is not in 'classes'"),
        (FER, {"angry": "rage"}, "maps 'angry' to 'rage'"),
    ],
)
def test_bad_class_lists_name_the_entry(classes, mapping, message):
    with pytest.raises(ClassifierConfigError, match=rf"entry 'my_model'.*{message}"):
        emotion_indices("my_model", classes, mapping)


def test_preprocess_converts_colour_resizes_and_normalises():
    rgb = torch.zeros(2, 3, 32, 32)
    rgb[:, 0] = 1.0
    gray = Preprocess(Preprocessing(16, "gray", (0.5,), (0.25,)))(rgb)
    assert gray.shape == (2, 1, 16, 16)
    torch.testing.assert_close(gray, torch.full_like(gray, (0.299 - 0.5) / 0.25))
    back = Preprocess(Preprocessing(32, "rgb", (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)))(torch.full((1, 1, 32, 32), 0.3))
    torch.testing.assert_close(back, torch.full((1, 3, 32, 32), 0.3))


def test_preprocess_rejects_wrong_layout():
    with pytest.raises(ValueError, match="expected images of shape"):
        Preprocess(Preprocessing(8, "gray", (0.5,), (0.5,)))(torch.zeros(2, 8, 8, 3))


def _linear_classifier(**kwargs) -> Classifier:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 7))
    return Classifier("lin", FER, Preprocessing(8, "gray", (0.5,), (0.5,)), net, **kwargs)


def test_predict_returns_softmax_in_batches_of_any_size():
    images = torch.rand(10, 3, 16, 16)
    whole = _linear_classifier()(images)
    chunked = _linear_classifier(batch_size=3)(images)
    assert whole.shape == (10, 7)
    torch.testing.assert_close(whole.sum(dim=1), torch.ones(10))
    torch.testing.assert_close(whole, chunked)
    emotions = _linear_classifier().emotion_probabilities(images)
    torch.testing.assert_close(emotions, whole[:, [0, 1, 2, 3, 5, 6]])
    assert _linear_classifier()(torch.zeros(0, 1, 8, 8)).shape == (0, 7)


def test_probability_outputs_pass_through():
    probs = torch.full((4, 7), 1 / 7)
    clf = Classifier(
        "p", FER, Preprocessing(8, "gray", (0.5,), (0.5,)), lambda x: probs[: len(x)], output="probabilities"
    )
    torch.testing.assert_close(clf(torch.rand(4, 1, 8, 8)), probs)


def test_wrong_number_of_scores_names_the_entry():
    clf = Classifier("six", FER, Preprocessing(8, "gray", (0.5,), (0.5,)), lambda x: torch.zeros(len(x), 6))
    with pytest.raises(ClassifierConfigError, match=r"entry 'six'.*shape \(2, 6\).*expected \(2, 7\)"):
        clf(torch.rand(2, 1, 8, 8))
