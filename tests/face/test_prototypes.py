"""EMFACS prototypes of the six emotions and the contact sheet."""

import dataclasses

import numpy as np
import pytest
import torch

from facesym.emotions import EMOTIONS
from facesym.face import build_procedural_model
from facesym.face.contact_sheet import contact_sheet_images, write_contact_sheet
from facesym.face.prototypes import PROTOTYPES, prototype_phi


def test_prototypes_are_the_emfacs_action_units():
    assert tuple(sorted(PROTOTYPES)) == EMOTIONS
    expected = {"happy": {6, 12}, "sad": {1, 4, 15}, "surprise": {1, 2, 5, 26}, "fear": {1, 2, 4, 5, 7, 20, 26},
                "angry": {4, 5, 7, 23}, "disgust": {9, 15, 16}}
    for emotion, aus in expected.items():
        assert {int(au[2:]) for au in PROTOTYPES[emotion]} == aus


def test_prototype_phi():
    model = build_procedural_model()
    phi = prototype_phi(model, "happy", intensity=0.5)
    assert phi.shape == (model.n_expression,) and phi.dtype == torch.float32
    on = {model.expression_names[i] for i in torch.nonzero(phi).flatten().tolist()}
    assert on == {"AU6", "AU12"} and float(phi.max()) == 0.5
    assert not prototype_phi(model, "neutral").any()
    with pytest.raises(ValueError, match="unknown emotion"):
        prototype_phi(model, "contempt")


def test_prototypes_need_facs_named_components():
    model = build_procedural_model()
    renamed = dataclasses.replace(model, name="flame",
                                  expression_names=[f"psi{k}" for k in range(model.n_expression)])
    with pytest.raises(ValueError, match="FACS action units"):
        prototype_phi(renamed, "sad")


def test_contact_sheet(tmp_path):
    images, columns = contact_sheet_images(n_identities=1, size=48)
    assert images.shape == (2, 7, 48, 48, 3) and columns[0] == "neutral"
    # Every prototype changes the face; at s = 0 the subject's left half (image right) stays neutral.
    neutral = images[0, 0]
    for c in range(1, 7):
        assert np.abs(images[0, c] - neutral).mean() > 1e-3
        right = slice(30, None)
        frozen_change = np.abs(images[1, c, :, right] - neutral[:, right]).mean()
        assert frozen_change < np.abs(images[0, c, :, right] - neutral[:, right]).mean()
    path = write_contact_sheet(tmp_path / "sheet.png", n_identities=1, size=48, small=32)
    assert path.stat().st_size > 10_000
