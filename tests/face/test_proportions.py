"""The procedural face's mean identity against adult anthropometric norms (Farkas 1994, North American adults).

Distances are measured on the mesh of the mean identity at rest, in mm (``MM_PER_UNIT``). Ranges are the norms'
female mean − 2 SD to male mean + 2 SD, so the mean face is an adult of either sex, not a caricature.
"""

import numpy as np
import pytest
import torch

from facesym.face import build_procedural_model
from facesym.face.model import MM_PER_UNIT
from facesym.face.procedural import MOUTH_Y, slit_pairs


@pytest.fixture(scope="module")
def rest() -> np.ndarray:
    model = build_procedural_model()
    v = model.vertices(torch.zeros(1, model.n_shape), torch.zeros(1, model.n_expression), 1.0, 1.0)[0]
    v = v.numpy().astype(np.float64)
    v[model.regions["skin_mesh"].numpy() < 0.5] = np.nan  # eyeballs, mouth, ears, hair, neck: not the face's skin
    return v


def _profile(rest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The midline profile: depth z against height y of the skin vertices on x = 0, top down."""
    on = np.abs(rest[:, 0]) < 1e-6  # NaN (not skin) compares False
    y, z = rest[on, 1], rest[on, 2]
    order = np.argsort(-y)
    return y[order], z[order]


def _landmarks(rest: np.ndarray) -> dict[str, float]:
    """Heights (model units) of nasion, pronasale, subnasale and gnathion on the midline profile."""
    y, z = _profile(rest)
    root = (y > 0.03) & (y < 0.22)
    nasion = y[root][np.argmin(z[root])]  # the deepest point between the brows and the nose's ridge
    nose = (y > -0.7) & (y < 0.0)
    pronasale = y[nose][np.argmax(z[nose])]
    # Subnasale: deepest point below the tip relative to the chord from the tip to the upper lip's most forward point.
    lip = (y > MOUTH_Y - 0.02) & (y < -0.65)
    labrale = y[lip][np.argmax(z[lip])]
    between = (y < pronasale) & (y > labrale)
    chord = np.interp(y, [labrale, pronasale], [z[y == labrale][0], z[y == pronasale][0]])
    subnasale = y[between][np.argmax((chord - z)[between])]
    # Gnathion in the frontal view: where the chin's surface turns under, 60° from facing the viewer.
    chin = y < -1.2
    turned = np.gradient(z[chin], y[chin]) > np.tan(np.pi / 3)  # z falls faster than 60° below the chin
    gnathion = y[chin][np.argmax(turned)]
    return {"nasion": nasion, "pronasale": pronasale, "subnasale": subnasale, "gnathion": gnathion}


def _mm(d: float) -> float:
    return float(d) * MM_PER_UNIT


def test_vertical_proportions_within_adult_norms(rest):
    lm = _landmarks(rest)
    face = _mm(lm["nasion"] - lm["gnathion"])  # n-gn: 112.0 ± 5.2 (f), 121.3 ± 6.8 (m)
    nose = _mm(lm["nasion"] - lm["subnasale"])  # n-sn: 50.6 ± 3.1 (f), 54.8 ± 3.3 (m)
    upper_lip = _mm(lm["subnasale"] - MOUTH_Y)  # sn-sto: 19.8 ± 2.1 (f), 22.9 ± 2.4 (m)
    assert 101.6 < face < 134.9, face
    assert 44.4 < nose < 61.4, nose
    assert 15.6 < upper_lip < 27.7, upper_lip
    # The nose is the middle third of the face: n-sn / n-gn about 0.45 in both sexes.
    assert 0.41 < nose / face < 0.49, nose / face


def test_horizontal_proportions_within_adult_norms(rest):
    upper, lower = slit_pairs()["eyes"]
    # The eye's opening: the slit's columns where the lids part, on the subject's left eye.
    left = rest[upper, 0] > 0
    apart = (rest[upper, 1] - rest[lower, 1]) > 1e-4
    xs = rest[upper, 0][left & apart]
    # Corners lie half a grid column beyond the outermost columns that open.
    fissure = _mm(xs.max() - xs.min()) + 2.0  # ex-en: 30.7 ± 1.2 (f), 31.3 ± 1.2 (m)
    intercanthal = 2 * _mm(xs.min()) - 2.0  # en-en: 31.8 ± 2.3 (f), 33.3 ± 2.7 (m)
    height = _mm((rest[upper, 1] - rest[lower, 1]).max())  # ps-pi: 10.2 ± 1.2 (f), 10.8 ± 1.3 (m)
    assert 27.8 < fissure < 34.0, fissure
    assert 27.0 < intercanthal < 38.8, intercanthal
    assert 7.8 < height < 13.4, height
    # Nose width al-al, where the wings stand out from the cheek by more than 0.5 mm: 31.4 ± 2.0 (f), 34.9 ± 2.1 (m).
    lm = _landmarks(rest)
    gap = np.abs(rest[:, 1] - (lm["subnasale"] + 0.06))  # the wings' widest, 4.5 mm above subnasale
    row = gap < np.nanmin(gap) + 0.005  # one row of the grid (float32 positions)
    x, z = np.abs(rest[row, 0]), rest[row, 2]
    cheek = (x > 0.25) & (x < 0.55)  # the cheek beside the wings, 19-41 mm from the midline
    excess = z - np.polyval(np.polyfit(x[cheek], z[cheek], 2), x)
    alar = 2 * _mm(x[(excess > 0.5 / MM_PER_UNIT) & (x < 0.3)].max())
    assert 27.4 < alar < 39.1, alar
    # Mouth width ch-ch: the slit's outermost columns plus half a column (about 1 mm) to each corner.
    # 50.2 ± 3.2 (f), 54.5 ± 3.2 (m); the face's mouth is at the low end (46.5 mm).
    upper, _ = slit_pairs()["mouth"]
    mouth = 2 * _mm(np.abs(rest[upper, 0]).max()) + 2.0
    assert 43.8 < mouth < 60.9, mouth
