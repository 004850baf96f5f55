import numpy as np
import pytest
from skimage.metrics import structural_similarity

from facesym.properties import face_halves, symmetry_ssim


def test_halves_pair_each_column_with_its_mirror_partner():
    images = np.arange(2 * 1 * 2 * 5, dtype=float).reshape(2, 1, 2, 5) / 20
    left, right = face_halves(images)
    assert left.shape == right.shape == (2, 1, 2, 2)
    np.testing.assert_array_equal(left[..., 0], images[..., 0])
    np.testing.assert_array_equal(right[..., 0], images[..., 4])
    np.testing.assert_array_equal(right[..., 1], images[..., 3])


def test_ssim_is_one_for_a_symmetric_face_and_drops_with_asymmetry(symmetric_faces):
    faces = symmetric_faces(3, seed=0)
    np.testing.assert_allclose(symmetry_ssim(faces), 1.0, atol=1e-12)

    # Darken a growing patch of the right half: a frozen cheek in a crude form.
    asymmetric = faces.copy()
    asymmetric[1, :, 10:30, 30:40] *= 0.5
    asymmetric[2, :, 5:45, 26:46] *= 0.5
    scores = symmetry_ssim(asymmetric)
    assert scores[0] == pytest.approx(1.0) and scores[1] < 0.95 and scores[2] < scores[1]


def test_ssim_equals_scikit_image_on_each_image():
    rng = np.random.default_rng(1)
    images = rng.random((2, 3, 20, 31))  # odd width: the middle column belongs to neither half
    expected = [
        structural_similarity(im[..., :15], im[..., 16:][..., ::-1], channel_axis=0, data_range=1.0) for im in images
    ]
    np.testing.assert_allclose(symmetry_ssim(images), expected)


@pytest.mark.parametrize(
    ("images", "match"),
    [
        (np.zeros((3, 8, 8)), r"shape \(B, C, H, W\)"),
        (np.full((1, 3, 16, 16), 2.0), r"finite values in \[0, 1\]"),
        (np.zeros((1, 3, 16, 16), dtype=np.uint8), "floats"),
        (np.zeros((1, 3, 16, 10)), "at least win_size=7"),
    ],
)
def test_ssim_rejects_bad_input(images, match):
    with pytest.raises(ValueError, match=match):
        symmetry_ssim(images)
