"""Framing: the crop box for a known geometry, and the crop is what the classifier reads."""

from dataclasses import replace

import pytest
import torch

from facesym.classifiers.base import Classifier
from facesym.classifiers.entries import Preprocessing
from facesym.classifiers.framing import (
    Box,
    Framing,
    crop_images,
    framing_box,
    framing_from_entry,
    pixel_box,
    reference_box,
)
from facesym.classifiers.registry import load_classifier
from facesym.face import build_procedural_model
from facesym.render.camera import OrthographicCamera


def test_framing_box_of_a_known_reference():
    reference = Box(0.2, 0.1, 0.6, 0.9)  # 0.4 wide, 0.8 high
    box = framing_box(Framing(scale=1.5, center=(0.5, 0.25)), reference)
    # centre: x = 0.2 + 0.5 * 0.4 = 0.4, y = 0.1 + 0.25 * 0.8 = 0.3; side 1.5 * 0.4 = 0.6
    assert (box.left, box.top, box.right, box.bottom) == pytest.approx((0.1, 0.0, 0.7, 0.6))
    assert pixel_box(box, 100) == (10, 0, 70, 60)
    assert pixel_box(box, (50, 200)) == (20, 0, 140, 30)  # (height, width): fractions of each side


def test_reference_box_follows_the_camera_not_the_image_size():
    model = build_procedural_model()
    box = reference_box(model)
    # the procedural face is centred left-right and fills most of the default camera's window
    assert (box.left + box.right) / 2 == pytest.approx(0.5, abs=1e-3)
    assert 0.5 < box.width < 1.0
    wider = replace(model, camera=OrthographicCamera(half_extent=2 * model.camera.half_extent))
    assert reference_box(wider).width == pytest.approx(box.width / 2, rel=1e-4)


def test_crop_outside_the_image_reads_background_and_passes_gradients():
    images = torch.ones(2, 1, 10, 10, requires_grad=True)
    crop = crop_images(images, Box(-0.2, 0.5, 0.3, 1.0))
    assert crop.shape == (2, 1, 5, 5)
    assert crop[..., :2].abs().sum() == 0  # two columns left of the image
    assert torch.all(crop[..., 2:] == 1)
    crop.sum().backward()
    assert images.grad[0, 0, 5:, :3].eq(1).all() and images.grad.sum() == 2 * 5 * 3


def _one_pixel_classifier(crop: Box | None) -> Classifier:
    """Reads the mean of the top-left quarter of its 8 x 8 input: "happy" if bright, "sad" if dark."""

    def forward(x: torch.Tensor) -> torch.Tensor:
        bright = x[:, 0, :4, :4].mean(dim=(1, 2))
        return torch.stack([bright - 0.5, 0.5 - bright], dim=1) * 10

    classes = ["happy", "sad", "angry", "disgust", "fear", "surprise"]
    spec = Preprocessing(8, "gray", (0.0,), (1.0,))
    full = lambda x: torch.cat([forward(x), torch.full((x.shape[0], 4), -1e3)], dim=1)  # noqa: E731
    return Classifier("planted", classes, spec, full, crop=crop)


def test_the_crop_changes_what_the_classifier_sees():
    image = torch.zeros(1, 1, 64, 64)
    image[..., 32:, 32:] = 1.0  # only the bottom-right quarter is bright
    whole = _one_pixel_classifier(None)
    assert whole.predict(image)[0].argmax() == 1  # its top-left is dark: sad
    framed = _one_pixel_classifier(Box(0.5, 0.5, 1.0, 1.0))  # the bright quarter becomes the whole input
    assert framed.predict(image)[0].argmax() == 0  # happy
    framed.frame(None)
    assert framed.predict(image)[0].argmax() == 1


@pytest.mark.filterwarnings("ignore:`torch.jit.*` is deprecated:DeprecationWarning")
def test_entries_framing_is_placed_on_the_face_model(tmp_path):
    module = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 7))
    torch.jit.save(torch.jit.trace(module, torch.zeros(1, 1, 8, 8)), str(tmp_path / "m.pt"))
    entry = {
        "name": "framed", "kind": "torchscript", "path": str(tmp_path / "m.pt"), "input_size": 8, "color": "gray",
        "mean": [0.5], "std": [0.5], "classes": ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"],
        "framing": {"scale": 1.2, "center": [0.5, 0.4]},
    }  # fmt: skip
    assert framing_from_entry(entry) == Framing(1.2, (0.5, 0.4))
    with pytest.raises(ValueError, match="framing"):
        load_classifier(entry)
    model = build_procedural_model()
    classifier = load_classifier(entry, face_model=model)
    assert classifier.crop == framing_box(Framing(1.2, (0.5, 0.4)), reference_box(model))
    assert load_classifier({k: v for k, v in entry.items() if k != "framing"}, face_model=model).crop is None
