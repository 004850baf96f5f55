from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from facesym.properties import LPIPSWeightsError, load_lpips, symmetry_lpips

CONVS = {0: (64, 3, 11), 3: (192, 64, 5), 6: (384, 192, 3), 8: (256, 384, 3), 10: (256, 256, 3)}
CHANNELS = (64, 192, 384, 256, 256)


def random_alexnet(generator: torch.Generator) -> dict[str, torch.Tensor]:
    """A torchvision-layout AlexNet state dict with random weights, classifier included."""
    state = {}
    for index, (out, inp, k) in CONVS.items():
        state[f"features.{index}.weight"] = torch.randn(out, inp, k, k, generator=generator) / (inp * k * k) ** 0.5
        state[f"features.{index}.bias"] = 0.1 * torch.randn(out, generator=generator)
    state["classifier.1.weight"] = torch.randn(10, 9216, generator=generator)
    return state


def random_heads(generator: torch.Generator) -> dict[str, torch.Tensor]:
    """LPIPS linear heads as lpips ships them: non-negative channel weights."""
    return {f"lin{i}.model.1.weight": torch.rand(1, c, 1, 1, generator=generator) for i, c in enumerate(CHANNELS)}


@pytest.fixture
def weight_files(tmp_path) -> tuple[Path, Path]:
    generator = torch.Generator().manual_seed(0)
    backbone, heads = tmp_path / "alexnet.pth", tmp_path / "alex.pth"
    torch.save(random_alexnet(generator), backbone)
    torch.save(random_heads(generator), heads)
    return heads, backbone


def reference_lpips(a: torch.Tensor, b: torch.Tensor, backbone: dict, heads: dict) -> torch.Tensor:
    """LPIPS v0.1 written out from the paper's description with torch.nn.functional."""
    shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
    scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)

    def stages(x):
        x = (2 * x - 1 - shift) / scale
        out = []
        for index in CONVS:
            if index in (3, 6):
                x = F.max_pool2d(x, 3, 2)
            stride, pad = (4, 2) if index == 0 else (1, CONVS[index][2] // 2)
            x = F.relu(
                F.conv2d(x, backbone[f"features.{index}.weight"], backbone[f"features.{index}.bias"], stride, pad)
            )
            out.append(x)
        return out

    total = 0
    for i, (fa, fb) in enumerate(zip(stages(a), stages(b), strict=True)):
        fa = fa / (fa.norm(dim=1, keepdim=True) + 1e-10)
        fb = fb / (fb.norm(dim=1, keepdim=True) + 1e-10)
        total = total + F.conv2d((fa - fb) ** 2, heads[f"lin{i}.model.1.weight"]).mean(dim=(1, 2, 3))
    return total


def test_lpips_loads_user_weights_and_matches_the_reference(weight_files):
    heads, backbone = weight_files
    model = load_lpips(heads, backbone)
    rng = np.random.default_rng(0)
    a, b = (torch.as_tensor(rng.random((2, 3, 64, 40)), dtype=torch.float32) for _ in range(2))
    expected = reference_lpips(a, b, torch.load(backbone), torch.load(heads))
    with torch.no_grad():
        got = model(a, b)
        assert torch.all(model(a, a) == 0)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-7)
    assert torch.all(got > 0)


def test_whole_model_file_gives_the_same_distances(weight_files, tmp_path, symmetric_faces):
    heads, backbone = weight_files
    model = load_lpips(heads, backbone)
    whole = tmp_path / "lpips_alex_full.pth"
    torch.save(model.state_dict(), whole)
    faces = symmetric_faces(2, seed=1, size=64)
    faces[1, :, 20:50, 36:60] = 0.0
    np.testing.assert_array_equal(symmetry_lpips(faces, load_lpips(whole)), symmetry_lpips(faces, model))


def test_symmetric_face_scores_zero_and_asymmetric_more(weight_files, symmetric_faces):
    model = load_lpips(*weight_files)
    faces = symmetric_faces(3, seed=2, size=64)
    faces[1, :, 24:40, 40:56] *= 0.6
    faces[2, :, 8:56, 34:62] *= 0.3
    scores = symmetry_lpips(faces, model, batch_size=2)
    assert scores.shape == (3,) and scores[0] == 0.0
    assert 0 < scores[1] < scores[2]


def test_missing_files_and_wrong_weights_say_what_is_wrong(weight_files, tmp_path):
    heads, backbone = weight_files
    with pytest.raises(FileNotFoundError, match="LPIPS weights file not found: .*nothing.pth.*cannot download"):
        load_lpips(tmp_path / "nothing.pth")
    with pytest.raises(LPIPSWeightsError, match="pass the AlexNet backbone too"):
        load_lpips(heads)

    wrong_shape = torch.load(heads)
    wrong_shape["lin2.model.1.weight"] = torch.zeros(1, 256, 1, 1)
    torch.save(wrong_shape, tmp_path / "wrong_shape.pth")
    with pytest.raises(
        LPIPSWeightsError, match=r"lin2.model.1.weight: expected \(1, 384, 1, 1\), got \(1, 256, 1, 1\)"
    ):
        load_lpips(tmp_path / "wrong_shape.pth", backbone)

    vgg_like = {"features.0.weight": torch.zeros(64, 3, 3, 3), "lin5.model.1.weight": torch.zeros(1, 512, 1, 1)}
    torch.save(vgg_like, tmp_path / "vgg.pth")
    with pytest.raises(
        LPIPSWeightsError,
        match=r"missing \[.*'lin0.model.1.weight'.*unexpected \['features.0.weight', 'lin5.model.1.weight'\]",
    ):
        load_lpips(tmp_path / "vgg.pth", backbone)

    (tmp_path / "text.pth").write_text("not a tensor archive")
    with pytest.raises(LPIPSWeightsError, match="not a readable torch state dict"):
        load_lpips(tmp_path / "text.pth", backbone)


def test_lpips_rejects_halves_too_small_for_alexnet(weight_files, symmetric_faces):
    with pytest.raises(ValueError, match="at least 31 px"):
        symmetry_lpips(symmetric_faces(1, seed=0, size=40), load_lpips(*weight_files))
