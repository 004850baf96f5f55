"""Reading a cohort's image files and measuring their symmetry (SSIM by default, LPIPS from a weights file)."""

import numpy as np
import pytest
import torch
from PIL import Image

from facesym.cohort.images import image_batches, image_problem, measure_symmetry, read_image
from facesym.properties import LPIPS


def save(path, pixels):
    Image.fromarray(pixels).save(path)
    return path


def test_modes_become_gray_or_rgb_floats(tmp_path):
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (5, 7), dtype=np.uint8)
    assert np.array_equal(read_image(save(tmp_path / "g.png", gray)), gray[None] / np.float32(255))
    rgba = rng.integers(0, 256, (5, 7, 4), dtype=np.uint8)
    rgb = read_image(save(tmp_path / "a.png", rgba))
    assert rgb.shape == (3, 5, 7) and np.array_equal(rgb, rgba[..., :3].transpose(2, 0, 1) / np.float32(255))
    deep = rng.integers(0, 65536, (5, 7), dtype=np.uint16)
    sixteen = read_image(save(tmp_path / "d.png", deep))
    assert sixteen.shape == (1, 5, 7) and np.allclose(sixteen[0], deep / 65535.0)
    assert read_image(save(tmp_path / "j.jpg", rgba[..., :3])).shape == (3, 5, 7)


def test_files_that_are_not_images_are_named(tmp_path):
    rng = np.random.default_rng(2)
    good = save(tmp_path / "good.png", rng.integers(0, 256, (32, 32), dtype=np.uint8))
    assert image_problem(good) is None
    assert image_problem(save(tmp_path / "good.jpg", rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))) is None
    text = tmp_path / "notes.png"
    text.write_text("subject 3 blinked\n")
    assert "not an image Pillow can read" in image_problem(text)
    with pytest.raises(ValueError, match=r"notes.png: not an image Pillow can read"):
        read_image(text)
    cut = tmp_path / "cut.png"
    cut.write_bytes(good.read_bytes()[:200])  # the header survives, the pixel data does not
    assert "not an image Pillow can read" in image_problem(cut)


def test_batches_group_shapes_and_keep_positions(tmp_path):
    rng = np.random.default_rng(1)
    shapes = [(8, 8), (8, 8, 3), (8, 8), (6, 8), (8, 8)]
    paths = [save(tmp_path / f"{i}.png", rng.integers(0, 256, s, dtype=np.uint8)) for i, s in enumerate(shapes)]
    seen = {}
    for index, images in image_batches(paths, chunk=3):
        assert len({images.shape[1:]}) == 1 and len(index) == len(images)
        for i, image in zip(index, images, strict=True):
            seen[int(i)] = image
    assert sorted(seen) == list(range(5))
    for i, path in enumerate(paths):
        assert np.array_equal(seen[i], read_image(path))


@pytest.fixture
def faces(tmp_path):
    """A mirror-symmetric gray face and the same face with a darker right half."""
    rng = np.random.default_rng(2)
    left = rng.integers(60, 200, (64, 32), dtype=np.uint8)
    symmetric = np.concatenate([left, left[:, ::-1]], axis=1)
    weak = symmetric.copy()
    weak[:, 32:] //= 2
    return [save(tmp_path / "sym.png", symmetric), save(tmp_path / "weak.png", weak)]


def test_ssim_is_one_for_a_mirror_symmetric_face_and_lower_for_a_weak_half(faces):
    symmetric, weak = measure_symmetry(faces)
    assert symmetric == pytest.approx(1.0) and weak < 0.9


def test_lpips_from_a_weights_file_is_zero_for_symmetry(faces, tmp_path):
    torch.manual_seed(0)
    model = LPIPS()
    for index in range(5):  # the heads of a fresh model are random: make them non-negative, as trained ones are
        head = getattr(model, f"lin{index}").model[1]
        head.weight.data = head.weight.data.abs()
    torch.save(model.state_dict(), tmp_path / "lpips.pth")
    symmetric, weak = measure_symmetry(faces, tmp_path / "lpips.pth")
    assert symmetric == pytest.approx(0.0, abs=1e-6) and weak > 1e-3
