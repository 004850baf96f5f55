"""The embedded procedural face model: a face and the front of the head, built from analytic fields.

No data files and no licences: the mesh, the identity basis and the expression blendshapes are written here.

Construction (model units: half the head's width = 1, about 7.5 cm; x = subject's left, y up, z to the viewer):

- **Skin**: a grid of rows (y) and columns (u = x / half-width of the head at that height) whose depth is an
  analytic height field ``H(x, y)`` (skull, brow ridge, eye sockets, nose, cheeks, lips, chin). Two rows are
  slit: the eyes (two almond-shaped openings) and the mouth (a closed slit between the lips). Slit vertices are
  duplicated, one copy for the upper and one for the lower edge, so lids and lips can move apart.
- **Eyeballs** (sclera, iris, pupil) sit just behind the lids, curving back away from the iris, and show
  through the eye openings.
- **Mouth cavity** (upper teeth, dark mouth) sits behind the lips and shows when they part; its lower part
  moves like the lower lip and chin in front of it, so the mouth never opens onto the background.
- **Ears**: tilted ovals behind the sides of the head.
- **Hair volume**: a shell behind the head that shows about 1 cm beyond its outline above the ears; hairline,
  temples and sideburns are region masks of the skin.

Identity components and action units are smooth displacement fields, mirror symmetric about x = 0 (x odd,
y and z even). Action-unit fields slide the skin along the height field (tangential motion) plus the bulges
and furrows that make them readable. Every field is evaluated on both halves, so the left/right split of Eq. 2
applies to every action unit. Action units are FACS intensities in [0, 1] (1 = FACS E, the maximum; A–D at about
0.1, 0.3, 0.55, 0.8), the model's ``expression_bounds``. AU26 (jaw drop) is not a blendshape: it rotates the jaw
joint by ``JAW_DROP`` radians per unit (linear blend skinning), and the chin, lower lip, lower teeth, tongue and
the floor of the mouth follow the jaw; it is never split by the symmetry ``s``. AU43 (eyes closed) lowers the upper
lid onto the lower one; :class:`ProceduralModel` keeps lids from passing through each other when other units raise
the lower lid (the one place where action units do not add linearly).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import torch

from facesym.face.appearance import REGIONS, PaletteAppearance
from facesym.face.curves import MonotoneCubic
from facesym.face.lbs import axis_angle_to_matrix
from facesym.face.model import MIDLINE_BAND_MM, MM_PER_UNIT, MorphableModel, left_weights
from facesym.render.camera import OrthographicCamera

__all__ = ["build_procedural_model", "ProceduralModel", "slit_pairs", "ACTION_UNITS", "IDENTITY_COMPONENTS",
           "MAX_SHAPE"]

# Landmarks, model units.
EYE_Y = 0.0
EYE_X = 0.42
EYE_INNER = 0.215  # intercanthal width en-en 32 mm (Farkas 1994, adults: 31.8 ♀ / 33.3 ♂)
EYE_OUTER = 0.625  # palpebral fissure ex-en 31 mm (Farkas: 30.7 ♀ / 31.3 ♂), ex-ex 94 mm (88 ♀ / 91 ♂)
UPPER_LID_OPEN = 0.072  # the upper lid covers the top of the iris at rest (about 1.5 mm)
LOWER_LID_OPEN = 0.06
IRIS_Y = 0.008
MOUTH_Y = -0.88
MOUTH_HALF = 0.31
JAW_PIVOT = (0.0, -0.30, -0.15)
JAW_DROP = 0.22  # jaw rotation of AU26 at full intensity, radians (about 13°: the mouth opens about 2 cm)
HEAD_ROOT = (0.0, -1.0, -0.35)
LIP_MIDLINE_BAND_MM = 24.0  # Eq. 2's midline band across the red of the lips: the middle half of the mouth
LIP_BAND_FALLOFF = 0.15  # how far above and below the lip line the band narrows back to the skin's, model units
EYEBALL_DEPTH = 0.03  # how far the middle of the eyeball sits behind the lids
HAIRLINE_Y = 0.93  # the mean frontal hairline in the middle (about 5 cm above the brows)
HAIRLINE_BAND = 0.06  # the hairline's shift for a low or high hairline (about 4.5 mm)
HAIR_VOLUME = 0.13  # hair's thickness over the side of the skull, beyond the head's outline (about 1 cm)
MAX_SHAPE = 24

ACTION_UNITS = ("AU1", "AU2", "AU4", "AU5", "AU6", "AU7", "AU9", "AU10", "AU12", "AU15", "AU16", "AU17", "AU20",
                "AU23", "AU24", "AU25", "AU26", "AU43")
"""Expression components of the procedural model (FACS action units), in basis order."""

IDENTITY_COMPONENTS = (
    "face_width", "lower_face_height", "forehead_height", "jaw_width", "chin_protrusion", "chin_width",
    "nose_length", "nose_protrusion", "nose_width", "nose_bridge", "eye_spacing", "eye_size", "brow_height",
    "brow_ridge", "cheekbones", "cheek_fullness", "mouth_width", "lip_fullness", "philtrum_length",
    "forehead_slope", "face_depth", "midface_protrusion", "eye_tilt", "temple_width",
)
"""Identity components in basis order; a model with ``n_shape = k`` uses the first ``k``."""


# ---------------------------------------------------------------------------------------------- helpers
def _g(v: np.ndarray, center: float, width: float) -> np.ndarray:
    return np.exp(-(((v - center) / width) ** 2))


def _sig(v: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * v))


def _smoothstep(v: np.ndarray) -> np.ndarray:
    v = np.clip(v, 0.0, 1.0)
    return v * v * (3.0 - 2.0 * v)


_HALF_WIDTH = MonotoneCubic(
    [-1.52, -1.40, -1.20, -0.95, -0.60, -0.30, 0.00, 0.40, 0.80, 1.20, 1.55],
    [0.30, 0.52, 0.72, 0.86, 0.95, 0.99, 1.00, 0.99, 0.93, 0.74, 0.30],
)
_DEPTH = MonotoneCubic(
    [-1.52, -1.30, -0.90, -0.50, 0.00, 0.50, 0.90, 1.20, 1.55],
    [0.55, 0.75, 0.86, 0.88, 0.85, 0.83, 0.72, 0.55, 0.25],
)
_NOSE = MonotoneCubic(  # height of the nose ridge above the face, along y
    [-0.60, -0.55, -0.51, -0.45, -0.40, -0.27, -0.08, 0.05, 0.15],
    [0.00, 0.05, 0.20, 0.31, 0.30, 0.21, 0.11, 0.05, 0.00],
)


def _nose_height(y: np.ndarray) -> np.ndarray:
    return np.where((y < 0.15) & (y > -0.60), _NOSE(np.clip(y, -0.60, 0.15)), 0.0)


def half_width(y: np.ndarray) -> np.ndarray:
    """Half-width of the head's outline at height ``y``."""
    return _HALF_WIDTH(np.clip(y, -1.52, 1.55))


def lip_envelope(ax: np.ndarray, half: float = MOUTH_HALF) -> np.ndarray:
    """1 at the middle of the mouth, 0 at and beyond the corners."""
    return np.clip(1.0 - (ax / half) ** 2, 0.0, None) ** 0.7


def almond(ax: np.ndarray, upper: bool) -> np.ndarray:
    """Shape of an eye opening along x: 0 at the corners, 1 at its highest (upper lid) or lowest point."""
    t = np.clip((ax - EYE_INNER) / (EYE_OUTER - EYE_INNER), 0.0, 1.0)
    # The upper lid peaks nearer the nose, the lower lid nearer the temple.
    t = t ** (0.85 if upper else 1.2)
    return np.sin(np.pi * t) ** 0.8


def height(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The skin's depth ``H(x, y)`` at rest (before identity and expression), model units."""
    ax = np.abs(x)
    u = np.clip(ax / half_width(y), 0.0, 1.0)
    z = _DEPTH(np.clip(y, -1.52, 1.55)) * (1.0 - u**2.5) ** 0.4
    z -= 0.35 * np.clip((-1.40 - y) / 0.12, 0.0, None) ** 2  # the chin turns under
    z += 0.05 * _g(ax, 0.38, 0.22) * _g(y, 0.24, 0.07) + 0.03 * _g(x, 0.0, 0.12) * _g(y, 0.18, 0.08)  # brows
    z -= 0.12 * _g(ax, EYE_X, 0.17) * _g(y, 0.03, 0.13)  # eye socket
    z += 0.09 * _g(ax, EYE_X, 0.13) * _g(y, 0.0, 0.09)  # eyeball under the lids
    nose_w = 0.075 + 0.035 * _smoothstep((0.0 - y) / 0.5)
    z += _nose_height(y) * np.exp(-((x / nose_w) ** 2))
    z += 0.05 * _g(x, 0.0, 0.085) * _g(y, -0.42, 0.065)  # tip
    z += 0.07 * _g(ax, 0.125, 0.055) * _g(y, -0.49, 0.051)  # alae
    z += 0.06 * _g(ax, 0.55, 0.20) * _g(y, -0.25, 0.15)  # cheekbones
    z += 0.04 * _g(ax, 0.45, 0.20) * _g(y, -0.60, 0.18)  # cheeks
    z += 0.10 * _g(x, 0.0, 0.35) * _g(y, -0.85, 0.28)  # muzzle
    z += 0.012 * (_g(ax, 0.05, 0.02) - 0.5 * _g(x, 0.0, 0.025)) * _g(y, -0.73, 0.07)  # philtrum
    env = lip_envelope(ax, 0.33)
    z += env * (0.045 * _g(y, MOUTH_Y + 0.04, 0.045) + 0.05 * _g(y, MOUTH_Y - 0.055, 0.05))  # lips
    z -= 0.015 * env * _g(y, MOUTH_Y, 0.012)  # where the lips meet
    z -= 0.035 * _g(x, 0.0, 0.22) * _g(y, -1.08, 0.06)  # below the lower lip
    z += 0.07 * _g(x, 0.0, 0.22) * _g(y, -1.30, 0.12)  # chin
    return z


def height_gradient(x: np.ndarray, y: np.ndarray, h: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    """Central differences of :func:`height`: ``(∂H/∂x, ∂H/∂y)``."""
    hx = (height(x + h, y) - height(x - h, y)) / (2 * h)
    hy = (height(x, y + h) - height(x, y - h)) / (2 * h)
    return hx, hy


def _segments(knots: list[float], steps: list[float]) -> np.ndarray:
    """Sorted coordinates that contain every knot, spaced at most ``steps[i]`` between knots i and i+1."""
    out = []
    for a, b, step in zip(knots[:-1], knots[1:], steps, strict=True):
        n = int(np.ceil((b - a) / step - 1e-9))
        out.append(np.linspace(a, b, n + 1)[:-1])
    out.append(np.array([knots[-1]]))
    return np.concatenate(out)


# ---------------------------------------------------------------------------------------------- mesh
@dataclass
class _Parts:
    """Vertex attributes gathered while building the mesh (numpy, one entry per vertex)."""

    x0: np.ndarray  # pre-warp grid position
    y0: np.ndarray
    eye_side: np.ndarray  # +1 above / on the upper lid, -1 below / on the lower lid, 0 elsewhere
    mouth_side: np.ndarray  # +1 above / on the upper lip, -1 below / on the lower lip, 0 elsewhere
    rest: np.ndarray  # (N, 3) rest position
    kind: np.ndarray  # 0 skin, 1 eyeball, 2 cavity, 3 ear, 4 neck, 5 hair
    triangles: np.ndarray
    masks: np.ndarray  # (N, R) region weights
    cavity_jaw: np.ndarray  # jaw attachment of cavity vertices
    follows_skin: np.ndarray  # 1 where action units move a vertex (skin, cavity sheet), 0 elsewhere
    column: np.ndarray  # column of the skin grid (slit copies: their column), -1 for other parts


def _quad_triangles(idx_bottom: np.ndarray, idx_top: np.ndarray, mirror_from: int) -> np.ndarray:
    """Two counter-clockwise triangles per quad between two rows of vertex indices.

    Columns ``c >= mirror_from`` use the mirrored diagonal so the mesh is symmetric about the middle column.
    """
    a, b = idx_bottom[:-1], idx_bottom[1:]
    d, c = idx_top[:-1], idx_top[1:]
    cols = np.arange(a.size)
    left = cols < mirror_from
    tris = [
        np.stack([a, b, c], 1)[left], np.stack([a, c, d], 1)[left],
        np.stack([a, b, d], 1)[~left], np.stack([b, c, d], 1)[~left],
    ]
    return np.concatenate(tris)


def _skin_grid(row_step: float, col_step: float) -> tuple[dict[str, np.ndarray], np.ndarray]:
    s = row_step
    rows = _segments(
        [-1.52, -1.15, MOUTH_Y, -0.60, -0.15, EYE_Y, 0.45, 0.90, 1.14],
        [1.5 * s, s, s, 1.5 * s, s, s, 1.5 * s, 2.5 * s],
    )
    half_cols = _segments([0.0, 0.76, 1.0], [col_step, 0.06])
    cols = np.concatenate([-half_cols[:0:-1], half_cols])
    n_rows, n_cols = rows.size, cols.size
    mid = n_cols // 2
    r_eye = int(np.argmin(np.abs(rows - EYE_Y)))
    r_mouth = int(np.argmin(np.abs(rows - MOUTH_Y)))

    hw = half_width(rows)
    x_grid = cols[None, :] * hw[:, None]
    y_grid = np.repeat(rows[:, None], n_cols, 1)
    base = np.arange(n_rows * n_cols).reshape(n_rows, n_cols)

    ax_eye = np.abs(x_grid[r_eye])
    split_eye = (ax_eye > EYE_INNER) & (ax_eye < EYE_OUTER)
    ax_mouth = np.abs(x_grid[r_mouth])
    split_mouth = ax_mouth < MOUTH_HALF
    n_base = n_rows * n_cols
    extra_eye = n_base + np.arange(split_eye.sum())
    extra_mouth = n_base + extra_eye.size + np.arange(split_mouth.sum())

    # Quads above a slit row use its original vertices (the upper copies), quads below it the new lower copies.
    idx_below = base.copy()
    idx_below[r_eye, split_eye] = extra_eye
    idx_below[r_mouth, split_mouth] = extra_mouth
    tris = np.concatenate([_quad_triangles(base[r], idx_below[r + 1], mid) for r in range(n_rows - 1)])

    x0 = np.concatenate([x_grid.ravel(), x_grid[r_eye, split_eye], x_grid[r_mouth, split_mouth]])
    y0 = np.concatenate([y_grid.ravel(), y_grid[r_eye, split_eye], y_grid[r_mouth, split_mouth]])
    n = x0.size
    eye_side = np.sign(y0 - EYE_Y)
    on_eye_row = np.zeros(n, bool)
    on_eye_row[base[r_eye]] = True
    eye_side[on_eye_row] = 0.0
    eye_side[base[r_eye][split_eye]] = 1.0
    eye_side[extra_eye] = -1.0
    mouth_side = np.sign(y0 - MOUTH_Y)
    mouth_side[base[r_mouth]] = 0.0
    mouth_side[base[r_mouth][split_mouth]] = 1.0
    mouth_side[extra_mouth] = -1.0
    column = np.concatenate([np.tile(np.arange(n_cols), n_rows), np.nonzero(split_eye)[0], np.nonzero(split_mouth)[0]])
    attrs = {"x0": x0, "y0": y0, "eye_side": eye_side, "mouth_side": mouth_side, "column": column}
    return attrs, tris


def slit_pairs(row_step: float = 0.025, col_step: float = 0.028) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Vertex indices of the two copies of every slit vertex: ``{"eyes" | "mouth": (upper, lower)}``.

    The upper copy edges the upper lid (lip), the lower copy the lower lid (lip); a face whose upper copy lies
    below its lower copy has lids (lips) that pass through each other. Indices of the model built with the same
    ``row_step`` and ``col_step``.
    """
    attrs, _ = _skin_grid(row_step, col_step)
    out = {}
    for name, sides, row_y in (("eyes", attrs["eye_side"], EYE_Y), ("mouth", attrs["mouth_side"], MOUTH_Y)):
        on_row = attrs["y0"] == row_y
        upper = np.nonzero(on_row & (sides > 0))[0]
        lower = np.nonzero(on_row & (sides < 0))[0]
        out[name] = (upper[np.argsort(attrs["x0"][upper])], lower[np.argsort(attrs["x0"][lower])])
    return out


def _eye_open_warp(x0: np.ndarray, y0: np.ndarray, eye_side: np.ndarray) -> np.ndarray:
    """Vertical displacement that opens the eye slits into almond-shaped openings at rest."""
    ax = np.abs(x0)
    dy = np.zeros_like(y0)
    up = eye_side > 0
    lo = eye_side < 0
    dy[up] = UPPER_LID_OPEN * almond(ax[up], True) * np.exp(-np.abs(y0[up] - EYE_Y) / 0.09)
    dy[lo] = -LOWER_LID_OPEN * almond(ax[lo], False) * np.exp(-np.abs(y0[lo] - EYE_Y) / 0.08)
    return dy


def _eye_opening(ax: np.ndarray) -> np.ndarray:
    """Height of the mean eye's opening at rest (upper minus lower lid margin) at ``|x| = ax``, model units."""
    return UPPER_LID_OPEN * almond(ax, True) + LOWER_LID_OPEN * almond(ax, False)


def _lid_profile(y0: np.ndarray) -> np.ndarray:
    """How much of a move of the upper lid's margin the skin at grid height ``y0`` above it takes: 1 at the margin,
    flat over the tarsal plate (about 1 cm), fading towards the brow."""
    return np.exp(-(((y0 - EYE_Y) / 0.16) ** 2))


def _skin_masks(x0: np.ndarray, y0: np.ndarray, x: np.ndarray, y: np.ndarray, eye_side: np.ndarray,
                mouth_side: np.ndarray) -> np.ndarray:
    """Region weights of skin vertices (pre-warp grid coordinates for features that move with the lids)."""
    ax0 = np.abs(x0)
    ax = np.abs(x)
    layers: list[tuple[str, np.ndarray]] = []
    # Tone within the face: the cheeks over the malar fat pad are redder (denser superficial vessels), the skin of
    # the lids and under the eyes darker (thin skin over the orbicularis and its vessels, more melanin: the
    # periorbital darkening seen in most photographs), graded from the lid margins out to the orbital rim.
    layers.append(("blush", 0.55 * _g(ax, 0.48, 0.17) * _g(y, -0.40, 0.17)))
    above_eye = eye_side > 0
    below_eye = eye_side < 0
    orbit = _g(ax0, EYE_X - 0.02, 0.24) * np.where(above_eye, _g(y0, 0.0, 0.13), _g(y0, 0.0, 0.11))
    layers.append(("periorbital", 0.8 * orbit))
    layers.append(("crease", 0.55 * almond(ax0, True) * _g(y0, 0.10, 0.045) * above_eye))
    # Brows: an arch of dark hair from the nose to the temple, about 1 cm high at the head (0.133 units = 1 cm)
    # and thinning to about 4 mm at the tail. Hair, not a drawn line: its density rises from the sparse, upward
    # hairs of the head to the dense body and thins again in the tail, and the edges are ragged over about 1 mm
    # (hair tips), not cut.
    t = (ax0 - 0.13) / 0.62
    brow_center = 0.215 + 0.085 * (1.0 - ((t - 0.62) / 0.62) ** 2)
    brow_half = 0.072 * (1.0 - 0.5 * np.clip(t, 0.0, 1.0))
    density = 0.97 * (1.0 - 0.15 * np.exp(-np.clip(t, 0.0, None) / 0.08)) * (1.0 - 0.25 * _smoothstep((t - 0.7) / 0.3))
    brow = density * _sig((brow_half - np.abs(y0 - brow_center)) / 0.008) * _sig(t / 0.03) * _sig((1.0 - t) / 0.04)
    layers.append(("brows", brow))
    # Hair on the scalp above the frontal hairline (trichion about 7 cm above the brows' middle, rising towards the
    # temples), covering the temples lateral to the temporal crest and down in front of the ears as sideburns
    # (to about the ear's middle). The hairline's height differs between people: the band just below the mean
    # hairline turns to hair for a low hairline and the band just above it to skin for a high one (the
    # ``hairline`` appearance coefficient; ``PaletteAppearance`` mixes their colours).
    u = ax / half_width(y)
    hairline = HAIRLINE_Y + 0.12 * ax**2
    side_edge = 0.87 + 0.05 * _smoothstep((0.35 - y) / 0.5)
    hair_side = _sig((u - side_edge) / 0.015) * _sig((y + 0.12) / 0.03)
    hair_top = _sig((y - hairline - HAIRLINE_BAND) / 0.012)
    layers.append(("hair", np.maximum(hair_top, hair_side)))
    band = np.clip(_sig((y - hairline) / 0.012) - hair_top - hair_side, 0.0, None)
    layers.append(("hairline_high", band))
    layers.append(("hairline_low", np.clip(_sig((y - hairline + HAIRLINE_BAND) / 0.012) - hair_top - band - hair_side,
                                           0.0, None)))
    # The upper lid's margin with its lashes: seen from the front, the lashes (8-12 mm long, black, curving up and
    # out) and the lid margin make a dark band about 2 mm high along the whole opening, darkest and widest towards
    # the outer corner where the lashes are longest; the lower lashes are short and sparse.
    lash_height = 0.02 + 0.012 * np.clip((ax0 - EYE_INNER) / (EYE_OUTER - EYE_INNER), 0.0, 1.0)
    lash_upper = (almond(ax0, True) ** 0.15 * _sig((lash_height - np.abs(y0 - EYE_Y)) / 0.006) * above_eye)
    lash_lower = 0.45 * almond(ax0, False) ** 0.3 * np.exp(-np.abs(y0 - EYE_Y) / 0.012) * below_eye
    inside_eye = (ax0 > EYE_INNER) & (ax0 < EYE_OUTER)
    layers.append(("lashes", np.maximum(lash_upper, lash_lower) * inside_eye))
    layers.append(("nostrils", 0.95 * np.exp(-(((ax - 0.075) / 0.034) ** 2) - ((y + 0.519) / 0.02) ** 2)))
    # Lips: upper lip with a cupid's bow, fuller lower lip; soft edges. The red's height (5.4 / 6.4 mm above and
    # below the line where the lips meet) is the one the lip units' compression profiles (AU23, AU24) are built for.
    upper_h = 0.072 * lip_envelope(ax0, 0.31) ** 0.8 + 0.012 * _g(ax0, 0.075, 0.05) - 0.012 * _g(ax0, 0.0, 0.03)
    lower_h = 0.085 * lip_envelope(ax0, 0.30) ** 0.7
    dist = y0 - MOUTH_Y
    upper = _sig((upper_h - dist) / 0.007) * (mouth_side > 0)
    lower = _sig((lower_h + dist) / 0.007) * (mouth_side < 0)
    layers.append(("lips", np.maximum(upper, lower) * (ax0 < 0.34)))
    layers.append(("lipline", 0.7 * lip_envelope(ax0, 0.32) ** 0.3 * np.exp(-np.abs(dist) / 0.01)))

    masks = np.zeros((x0.size, len(REGIONS)))
    masks[:, REGIONS.index("skin")] = 1.0
    for name, m in layers:
        m = np.clip(m, 0.0, 1.0)
        masks *= (1.0 - m)[:, None]
        masks[:, REGIONS.index(name)] += m
    return masks


def _polar_patch(radii: np.ndarray, n_seg: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A disc of rings around a centre vertex: unit-free offsets (u, v) and counter-clockwise triangles."""
    ang = np.linspace(0.0, 2 * np.pi, n_seg, endpoint=False)
    u = np.concatenate([[0.0], *[r * np.cos(ang) for r in radii[1:]]])
    v = np.concatenate([[0.0], *[r * np.sin(ang) for r in radii[1:]]])
    k = np.arange(n_seg)
    k1 = (k + 1) % n_seg
    tris = [np.stack([np.zeros(n_seg, int), 1 + k, 1 + k1], 1)]
    for ring in range(len(radii) - 2):
        o0, o1 = 1 + ring * n_seg, 1 + (ring + 1) * n_seg
        tris += [np.stack([o0 + k, o1 + k, o1 + k1], 1), np.stack([o0 + k, o1 + k1, o0 + k1], 1)]
    return u, v, np.concatenate(tris)


def _eyeball(side: float, start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A polar patch of one eyeball: positions (x, y), triangles, region masks."""
    radii = np.array([0.0, 0.028, 0.036, 0.052, 0.066, 0.078, 0.09, 0.11, 0.16, 0.22, 0.28, 0.33])
    u, v, tris = _polar_patch(radii, 24)
    cx = side * EYE_X
    x, y = cx + u, IRIS_Y + v
    tris = tris + start
    r = np.hypot(u, v)
    masks = np.zeros((x.size, len(REGIONS)))
    # Iris 11.7 mm across (0.156 units), the adult mean; a dark limbal ring around it.
    region = np.where(r < 0.03, "pupil", np.where(r < 0.07, "iris", np.where(r < 0.084, "limbus", "sclera")))
    for name in ("pupil", "iris", "limbus", "sclera"):
        masks[region == name, REGIONS.index(name)] = 1.0
    return np.stack([x, y], 1), tris, masks


def _ear(side: float, start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One ear seen from the front: a tilted oval behind the side of the head, its outer part visible.

    Returns positions (x, y), depth z, triangles and region masks.
    """
    u, v, tris = _polar_patch(np.array([0.0, 0.35, 0.65, 0.85, 1.0]), 16)
    ring = np.hypot(u, v)
    x = side * (0.99 + 0.12 * u)
    y = -0.20 + 0.25 * v
    # Slopes back away from the head (its normals face forward and out); the rim (helix) is rolled forward.
    z = 0.15 - 1.2 * (np.abs(x) - 0.93) + 0.035 * _g(ring, 0.95, 0.12)
    tris = tris + start
    if side < 0:  # mirrored in x: flip the winding to keep it counter-clockwise
        tris = tris[:, ::-1]
    masks = np.zeros((x.size, len(REGIONS)))
    concha = np.clip(1.0 - ring / 0.7, 0.0, 1.0) * 0.8
    masks[:, REGIONS.index("crease")] = concha
    masks[:, REGIONS.index("skin")] = 1.0 - concha
    return np.stack([x, y], 1), z, tris, masks


def _grid_patch(xs: np.ndarray, ys: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A rectangular grid: x, y of its vertices (row-major) and counter-clockwise triangles."""
    x = np.tile(xs, ys.size)
    y = np.repeat(ys, xs.size)
    idx = start + np.arange(x.size).reshape(ys.size, xs.size)
    tris = np.concatenate([_quad_triangles(idx[r], idx[r + 1], xs.size // 2) for r in range(ys.size - 1)])
    return x, y, tris


def _neck(start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The neck below the jaw, seen from the front: a half cylinder behind the chin, down to the image's edge.

    Returns positions (x, y), depth z, triangles and region masks.
    """
    u = np.linspace(-1.0, 1.0, 17)
    x, y, tris = _grid_patch(0.60 * u, np.linspace(-2.6, -1.15, 8), start)
    z = 0.28 * np.sqrt(np.clip(1.0 - (x / 0.6) ** 2, 0.0, None)) - 0.2
    masks = np.zeros((x.size, len(REGIONS)))
    masks[:, REGIONS.index("neck")] = 1.0
    return np.stack([x, y], 1), z, tris, masks


def _hair(start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hair's volume over the skull: a shell behind the head that shows beyond its outline, about 1 cm over the
    sides of the skull from above the ears, thinning to nothing at the ears (short hair, the most common in
    face datasets). The face's own hair (hairline, temples, sideburns) is in the skin's region masks; the shell
    only widens the silhouette, lying behind the skin and the ears everywhere (z < 0), and its depth rounds off
    towards its outline so that it is shaded as a volume.

    Returns positions (x, y), depth z, triangles and region masks.
    """
    ys = np.linspace(-0.15, 1.20, 19)
    cols = np.linspace(-1.0, 1.0, 25)
    x, y, tris = _grid_patch(cols, ys, start)
    thickness = HAIR_VOLUME * _smoothstep((y + 0.15) / 0.35)
    x = x * (half_width(y) + thickness)
    rim = np.clip(1.0 - np.tile(cols, ys.size) ** 2, 0.0, None)
    z = -0.22 + 0.18 * np.sqrt(rim)
    masks = np.zeros((x.size, len(REGIONS)))
    masks[:, REGIONS.index("hair")] = 1.0
    return np.stack([x, y], 1), z, tris, masks


def _occlusion(p: _Parts) -> np.ndarray:
    """Baked occlusion per vertex in (0, 1]: only the shadow of what the mesh does not model, the upper lashes.

    The renderer computes ambient occlusion for every image from the deformed mesh's own depth buffer
    (:mod:`facesym.render.occlusion`, 6-12 mm) and a crease term from its curvature (one vertex ring, about 2 mm):
    the eye sockets, the sides of the nose, the inside of the mouth, the neck under the jaw and the ears behind the
    head's outline are shaded there, following the expression. Baking them into the albedo as well darkened them
    twice (and a term baked from the rest shape stays on a vertex that an action unit slides away from the hollow).
    The upper lashes are an albedo region, not geometry, so the soft shadow they cast on the top of the eyeball
    (iris and sclera just under the lid margin, about 3 mm) is the one thing that stays baked.
    """
    occ = np.ones(p.rest.shape[0])
    eye = p.kind == 1
    dy = p.rest[eye, 1] - IRIS_Y
    occ[eye] = 1.0 - 0.3 * _smoothstep((dy - 0.02) / 0.04)
    return occ


def _cavity(start: int) -> tuple[np.ndarray, ...]:
    """The mouth behind the lips: positions (x, y), depth below the skin, triangles, masks, jaw weight and how
    much each vertex follows the action units of the skin in front of it.

    Three parts: the cavity sheet (dark mouth, upper incisors and canines fixed to the skull, its lower part
    moving with the lower lip and chin so that the mouth never opens onto the background), and the lower teeth
    and the tongue, rigidly on the jaw (mandible): they move with the jaw joint only, and show when AU25 parts
    the lips or AU26 drops the jaw. Tooth rows curve back with the dental arch.
    """
    teeth_edge = MOUTH_Y - 0.045
    rows = np.concatenate([
        np.linspace(MOUTH_Y - 0.62, MOUTH_Y - 0.15, 6)[:-1],
        [MOUTH_Y - 0.15, MOUTH_Y - 0.11, teeth_edge - 0.012, teeth_edge, MOUTH_Y - 0.03, MOUTH_Y,
         MOUTH_Y + 0.05, MOUTH_Y + 0.12, MOUTH_Y + 0.2, MOUTH_Y + 0.3, MOUTH_Y + 0.42, MOUTH_Y + 0.55],
    ])
    cols = np.linspace(-1.0, 1.0, 29)
    y = np.repeat(rows, cols.size)
    # As wide as the lips can be pulled, but inside the head's outline at every height.
    x = np.tile(cols, rows.size) * np.minimum(0.75, half_width(y) - 0.15)
    idx = start + np.arange(x.size).reshape(rows.size, cols.size)
    tris = np.concatenate([_quad_triangles(idx[r], idx[r + 1], cols.size // 2) for r in range(rows.size - 1)])
    teeth = (y >= teeth_edge - 1e-9) & (y <= MOUTH_Y + 0.13) & (np.abs(x) < 0.33)
    depth = np.where(teeth, 0.045 + 0.35 * x**2, 0.22)
    region = np.where(teeth, "teeth", "mouth")
    jaw = _smoothstep((MOUTH_Y - 0.04 - y) / 0.08)
    follow = np.ones(x.size)

    # Lower incisors: behind the upper ones (overbite), their edges a little below the lip line: the lower lip
    # covers them unless it is drawn down.
    lx, ly, ltris = _grid_patch(np.linspace(-0.27, 0.27, 13), np.linspace(MOUTH_Y - 0.17, MOUTH_Y - 0.04, 5),
                                start + x.size)
    ldepth = 0.065 + 0.4 * lx**2
    # The tongue: a dome on the floor of the mouth, behind the lower teeth.
    tx, ty, ttris = _grid_patch(np.linspace(-0.22, 0.22, 11), np.linspace(MOUTH_Y - 0.20, MOUTH_Y - 0.035, 6),
                                start + x.size + lx.size)
    tdepth = 0.10 + 0.8 * tx**2 + 0.6 * (ty - (MOUTH_Y - 0.10)) ** 2
    x = np.concatenate([x, lx, tx])
    y = np.concatenate([y, ly, ty])
    depth = np.concatenate([depth, ldepth, tdepth])
    region = np.concatenate([region, np.full(lx.size, "teeth"), np.full(tx.size, "tongue")])
    jaw = np.concatenate([jaw, np.ones(lx.size + tx.size)])
    follow = np.concatenate([follow, np.zeros(lx.size + tx.size)])
    masks = np.zeros((x.size, len(REGIONS)))
    for name in ("teeth", "mouth", "tongue"):
        masks[region == name, REGIONS.index(name)] = 1.0
    return (np.stack([x, y], 1), depth, np.concatenate([tris, ltris, ttris]), masks, jaw, follow)


def _build_parts(row_step: float, col_step: float) -> _Parts:
    attrs, skin_tris = _skin_grid(row_step, col_step)
    x0, y0 = attrs["x0"], attrs["y0"]
    x = x0.copy()
    y = y0 + _eye_open_warp(x0, y0, attrs["eye_side"])
    n_skin = x.size
    skin_masks = _skin_masks(x0, y0, x, y, attrs["eye_side"], attrs["mouth_side"])

    right_xy, right_tris, right_masks = _eyeball(-1.0, n_skin)
    left_xy, left_tris, left_masks = _eyeball(1.0, n_skin + right_xy.shape[0])
    n_eyes = right_xy.shape[0] + left_xy.shape[0]
    cav_xy, cav_depth, cav_tris, cav_masks, cav_jaw, cav_follow = _cavity(n_skin + n_eyes)
    n_inner = n_skin + n_eyes + cav_xy.shape[0]
    rear_xy, rear_z, rear_tris, rear_masks = _ear(-1.0, n_inner)
    lear_xy, lear_z, lear_tris, lear_masks = _ear(1.0, n_inner + rear_xy.shape[0])
    n_ears = rear_xy.shape[0] + lear_xy.shape[0]
    neck_xy, neck_z, neck_tris, neck_masks = _neck(n_inner + n_ears)
    n_neck = neck_xy.shape[0]
    hair_xy, hair_z, hair_tris, hair_masks = _hair(n_inner + n_ears + n_neck)
    n_hair = hair_xy.shape[0]

    xs = np.concatenate([x, right_xy[:, 0], left_xy[:, 0], cav_xy[:, 0], rear_xy[:, 0], lear_xy[:, 0], neck_xy[:, 0],
                         hair_xy[:, 0]])
    ys = np.concatenate([y, right_xy[:, 1], left_xy[:, 1], cav_xy[:, 1], rear_xy[:, 1], lear_xy[:, 1], neck_xy[:, 1],
                         hair_xy[:, 1]])
    # The eyeball curves back away from its middle (most above and below), so that lids and brows pulled far
    # from their rest shape still cover it.
    eye_dx = np.abs(np.concatenate([right_xy[:, 0], left_xy[:, 0]])) - EYE_X
    eye_dy = np.concatenate([right_xy[:, 1], left_xy[:, 1]]) - IRIS_Y
    eye_depth = EYEBALL_DEPTH + 0.9 * (eye_dy**2 + 0.35 * eye_dx**2)
    offset = np.concatenate([np.zeros(n_skin), eye_depth, cav_depth])
    zs = np.concatenate([height(xs[:n_inner], ys[:n_inner]) - offset, rear_z, lear_z, neck_z, hair_z])
    kind = np.concatenate([np.zeros(n_skin, int), np.ones(n_eyes, int), np.full(cav_xy.shape[0], 2),
                           np.full(n_ears, 3), np.full(n_neck, 4), np.full(n_hair, 5)])
    n_other = kind.size - n_skin
    return _Parts(
        x0=np.concatenate([x0, xs[n_skin:]]),
        y0=np.concatenate([y0, ys[n_skin:]]),
        eye_side=np.concatenate([attrs["eye_side"], np.zeros(n_other)]),
        # The cavity's lower part moves with the lower lip and chin: it gets their fields (below the mouth).
        mouth_side=np.concatenate([attrs["mouth_side"],
                                   np.where(kind[n_skin:] == 2, np.sign(ys[n_skin:] - MOUTH_Y), 0.0)]),
        rest=np.stack([xs, ys, zs], 1),
        kind=kind,
        triangles=np.concatenate([skin_tris, right_tris, left_tris, cav_tris, rear_tris, lear_tris, neck_tris,
                                  hair_tris]),
        masks=np.concatenate([skin_masks, right_masks, left_masks, cav_masks, rear_masks, lear_masks, neck_masks,
                              hair_masks]),
        cavity_jaw=np.concatenate([np.zeros(n_skin + n_eyes), cav_jaw, np.zeros(n_ears + n_neck + n_hair)]),
        follows_skin=np.concatenate([np.ones(n_skin), np.zeros(n_eyes), cav_follow,
                                     np.zeros(n_ears + n_neck + n_hair)]),
        column=np.concatenate([attrs["column"], np.full(n_other, -1)]),
    )


# ---------------------------------------------------------------------------------------------- fields
def _jaw_weight(p: _Parts) -> np.ndarray:
    """How much a vertex follows the jaw: skin 1 below the lips and the jaw line and 0 above, the mouth cavity its
    jaw attachment, eyeballs and ears 0."""
    ax = np.abs(p.x0)
    line = MOUTH_Y + 0.43 * _smoothstep((ax - 0.30) / 0.65)
    width = 0.002 + 0.15 * _smoothstep((ax - 0.22) / 0.35)
    # Slit copies sit half a row off the lip line so that they fall on their own side of it.
    y = p.y0 + 0.01 * p.mouth_side
    skin = _sig((line - y) / width)
    upper_edge = _sig((line - MOUTH_Y - 0.01) / width)  # the weight of the upper lip's edge at this x
    # The lower lip is soft tissue tied to the upper lip at the corners (modiolus): its middle follows the jaw,
    # its corners only half, so the open mouth is an oval, not a slot.
    # The profile vanishes in the middle and at the corners themselves, where the lip row meets unsplit skin.
    e = lip_envelope(ax, MOUTH_HALF) ** 0.5
    corners = 2.0 * e * (1.0 - e) * _g(p.y0 - MOUTH_Y, 0.0, 0.10) * (p.mouth_side < 0)
    # Blending towards the upper edge's weight (not towards 0) keeps the lips from passing through each other.
    skin = skin - corners * np.clip(skin - upper_edge, 0.0, None)
    return np.where(p.kind == 0, skin, p.cavity_jaw)


def _segment_weight(ax: np.ndarray, y: np.ndarray, a: tuple[float, float], b: tuple[float, float],
                    width: float) -> np.ndarray:
    """Weight of a furrow from point ``a`` towards ``b`` (|x|, y), model units: a Gaussian of ``width`` across the
    segment times a sine along it, 0 at ``a``, 1 at 45 % of the way and 0 again from 91 % (the furrow fades in and
    out)."""
    d = np.subtract(b, a)
    u = np.clip(((ax - a[0]) * d[0] + (y - a[1]) * d[1]) / (d @ d), 0.0, 1.0)
    dist = np.hypot(ax - (a[0] + u * d[0]), y - (a[1] + u * d[1]))
    return np.exp(-((dist / width) ** 2)) * np.sin(np.pi * np.clip(u * 1.1, 0.0, 1.0)) ** 0.5


def _nasolabial(ax: np.ndarray, y: np.ndarray, width: float = 0.03) -> np.ndarray:
    """Weight of the nasolabial fold: 1 on the line from beside the nose's wing to outside the mouth corner."""
    return _segment_weight(ax, y, (0.16, -0.45), (0.40, -1.00), width)


def _action_units(p: _Parts) -> dict[str, np.ndarray]:
    """Displacement of every vertex for one unit of each action unit, shape ``(N, 3)`` each."""
    x0, y0 = p.x0, p.y0
    ax = np.abs(x0)
    sx = np.tanh(x0 / 0.04)  # a smooth sign(x): fields stay continuous through the midline
    above_eye = (p.eye_side > 0).astype(float)
    below_eye = (p.eye_side < 0).astype(float)
    above_m = np.where(p.mouth_side > 0, 1.0, 0.0)
    below_m = np.where(p.mouth_side < 0, 1.0, 0.0)
    dist_m = y0 - MOUTH_Y
    lips = lip_envelope(ax, 0.33)
    fields: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def corner(cy: float, sxw: float, syw: float, lateral: float | None = None) -> np.ndarray:
        """Weight of a pull on the mouth corner (modiolus): 1 at the corner, falling off over ``sxw`` towards the
        lips, over ``lateral`` (default ``sxw``) away from them and over ``syw`` vertically."""
        width = np.where(ax > MOUTH_HALF, sxw if lateral is None else lateral, sxw)
        return np.exp(-(((ax - MOUTH_HALF) / width) ** 2) - ((y0 - cy) / syw) ** 2)

    zero = np.zeros_like(x0)
    nasolabial = _nasolabial(ax, y0)
    # Downward moves of the lower lip that carry it as a whole, bulge and all, instead of sliding it over the rest
    # shape of the skin below: sliding would bring the red forward onto the lip's bulge, where a dropping jaw
    # (AU26) turns it down past the row below it (a fold; tests/face).
    lowered: dict[str, np.ndarray] = {}
    # AU1 inner brow raiser: the inner brows and the middle of the forehead go up; forehead furrows.
    w = _g(ax, 0.18, 0.22) * _g(y0, 0.32, 0.24) * _sig((y0 - 0.09) / 0.04)
    furrows = 0.010 * np.cos(2 * np.pi * (y0 - 0.50) / 0.11) * _sig((y0 - 0.42) / 0.03)
    # The medial upper lid's skin is stretched up with the inner brow (FACS manual: the eye cover fold's inner end
    # turns triangular, the sad eye of 1+4); the margin itself stays (AU5's), so the stretch rises from it.
    lid_in = _g(ax, 0.26, 0.09) * _smoothstep(y0 / 0.15) * (1.0 - _sig((y0 - 0.09) / 0.04)) * above_eye
    fields["AU1"] = (zero, 0.13 * w + 0.04 * lid_in, w * furrows)
    # AU2 outer brow raiser.
    w = _g(ax, 0.62, 0.20) * _g(y0, 0.32, 0.24) * _sig((y0 - 0.11) / 0.04)
    fields["AU2"] = (zero, 0.11 * w, w * furrows)
    # AU4 brow lowerer: brows down and together, bunched between them with vertical furrows. With AU1 the inner
    # brows still rise (frontalis outweighs the depressors vertically; corrugator draws them together): the
    # oblique brow of sadness and fear.
    # The lowered brow pushes the skin below it down over the whole upper lid (hooding), from the brow to the lid
    # crease and margin: a gradual fall-off (0.09, about 7 mm), not one squeezed into the crease, which folded
    # there with AU5 and AU9 for identities with low brows (brow_height below −2 SD; tests/face).
    w = _g(ax, 0.25, 0.30) * _g(y0, 0.27, 0.15) * _sig((y0 - 0.06) / 0.09)
    glabella = _g(y0, 0.20, 0.12) * (0.030 * _g(ax, 0.09, 0.05) - 0.02 * _g(x0, 0.0, 0.03))
    fields["AU4"] = (-0.07 * w * sx * _sig((ax - 0.02) / 0.02), -0.075 * w, 0.03 * w + glabella)
    # AU5 upper lid raiser: the lid margin retracts; the skin above it moves almost as far (flat near the margin),
    # so the crease already compressed at rest does not fold over itself.
    w = almond(ax, True) * np.exp(-(((y0 - EYE_Y) / 0.20) ** 2)) * above_eye
    fields["AU5"] = (zero, 0.055 * w, zero)
    # AU6 cheek raiser (orbicularis oculi, pars orbitalis): the ring muscle around the eye draws the skin of cheek
    # and temple towards the eye. FACS E: the infraorbital triangle and the cheeks go up and forward, the lower
    # lid's skin is pushed up and bags (a bulge under the lower lid), so the eye narrows from below by about a
    # third; crow's feet fan out from the outer corner; the skin above the outer corner (eye cover fold, lateral
    # brow) is drawn down a little.
    w = _g(ax, 0.50, 0.22) * _g(y0, -0.36, 0.24) * _sig(-y0 / 0.03)
    lid = almond(ax, False) * np.exp(-np.abs(y0 - EYE_Y) / 0.07) * below_eye
    bag = _g(ax, EYE_X, 0.14) * _g(y0, -0.10, 0.04) * below_eye
    crow = _g(ax, 0.76, 0.07) * _g(y0, 0.0, 0.10)
    cover = _g(ax, 0.62, 0.12) * _g(y0, 0.16, 0.10) * _sig((y0 - 0.05) / 0.03)
    fields["AU6"] = (-0.02 * crow * sx, 0.07 * w + 0.045 * lid - 0.015 * cover,
                     0.045 * w + 0.015 * lid + 0.015 * bag + 0.008 * crow * np.cos(2 * np.pi * y0 / 0.06))
    # AU7 lid tightener (orbicularis oculi, pars palpebralis): at FACS E the lower lid is raised and straightened,
    # its margin nearly a line from corner to corner; the upper lid comes down slightly. Raising the margin by
    # three quarters of its rest sag (0.045 of 0.06) leaves a quarter of the curve, where half of it (0.035) kept
    # the rest shape, only smaller.
    # Lower-lid raises of AU6, AU7 and AU9 together stay within the opening of the eye: the lids may meet, never
    # cross (tests/face).
    lower = almond(ax, False) * np.exp(-np.abs(y0 - EYE_Y) / 0.05) * below_eye
    upper = almond(ax, True) * np.exp(-np.abs(y0 - EYE_Y) / 0.05) * above_eye
    fields["AU7"] = (zero, 0.045 * lower - 0.02 * upper, 0.012 * lower)
    # AU43 eyes closed (levator palpebrae relaxes, orbicularis pars palpebralis closes; FACS's 41-42-43 continuum
    # of upper-lid lowering, 1 = closed): the upper lid's margin comes down to the lower lid's, the tarsal plate
    # moving as one piece (flat profile near the margin) and the skin above it following less, up to the brow.
    # It goes a quarter further than the mean eye's opening so that larger eyes (identity ``eye_size``) close
    # too; where it would pass the lower lid, the lid contact of ``ProceduralModel.vertices`` stops it there.
    fields["AU43"] = (zero, -1.25 * _eye_opening(ax) * _lid_profile(y0) * above_eye, zero)
    # AU9 nose wrinkler: sides of the nose and the upper lip up, inner brows down; the infraorbital triangle bunches
    # up beside the nose and the nasolabial furrow deepens (FACS manual). The wrinkles are where the skin bunches:
    # at the root of the nose between the inner brows (procerus), down to the level of the inner eye corners, and
    # obliquely along the sides of the bridge, not in stripes across its middle. Two or three wrinkles about 5 mm
    # apart: the mesh's rows are 1.9 mm apart there, so a shorter period aliases into dots.
    sides = _g(ax, 0.12, 0.09) * _g(y0, -0.38, 0.15)
    bridge = _g(x0, 0.0, 0.11) * _g(y0, 0.08, 0.06) * np.cos(2 * np.pi * (y0 - 0.08 - 0.2 * ax) / 0.07)
    brow_in = _g(ax, 0.15, 0.15) * _g(y0, 0.22, 0.12)
    # The lip raisers (here levator labii superioris alaeque nasi; AU10's and AU12's below) shorten along their
    # length up to their origins on the maxilla: the upper lip's rise fades over the skin up to the nose, not within
    # the philtrum's lower half, where their compressions and a short philtrum's folded the skin (fold census).
    lip_up = _g(x0, 0.0, 0.25) * _g(dist_m, 0.0, 0.30) * above_m
    cheek = _g(ax, 0.32, 0.10) * _g(y0, -0.55, 0.12)
    # The infraorbital triangle pushed up narrows the eye from below (the lower lid rises about 1.5 mm) and deepens
    # the infraorbital furrow, which runs from below the inner eye corner down and out along the triangle's top.
    lid = almond(ax, False) * np.exp(-np.abs(y0 - EYE_Y) / 0.06) * below_eye
    infraorbital = _segment_weight(ax, y0, (0.22, -0.08), (0.46, -0.21), 0.035) * below_eye
    fields["AU9"] = (-0.01 * sides * sx, 0.05 * sides - 0.045 * brow_in + 0.03 * lip_up + 0.02 * lid,
                     0.015 * bridge + 0.03 * cheek * (1.0 - nasolabial)
                     - 0.015 * nasolabial - 0.015 * infraorbital)
    # AU10 upper lip raiser: the middle of the upper lip goes up (the lips part, the teeth show).
    # Profiles across the lips are flat at the slit (Gaussian, not exponential): fields of several units add up
    # without compressing a row of the lip past its neighbour (no fold; tests/face). The rise fades over 3 cm, up
    # to the nose's wings, which it raises too (FACS: AU10 lifts the alae), as for AU9 above.
    w = np.exp(-((ax / 0.24) ** 4)) * np.exp(-((dist_m / 0.40) ** 2)) * above_m
    alae = _g(ax, 0.13, 0.07) * _g(y0, -0.49, 0.075)
    fold = _g(ax, 0.30, 0.09) * _g(y0, -0.62, 0.12)
    fields["AU10"] = (zero, 0.07 * w + 0.02 * alae, 0.015 * w + 0.03 * fold * (1.0 - nasolabial) - 0.015 * nasolabial)
    # AU12 lip corner puller: corners up and out (zygomaticus major), the lips stretched into an upward curve; the
    # cheek bunches up and out lateral to the nasolabial fold, which deepens. At FACS E the stretched lips part
    # over the teeth (the smile of the FACS manual's strong AU12): the upper lip rises off the upper incisors and
    # canines (a smile shows 75-100 % of their crowns, Tjan et al. 1984: here about 4 mm above the rest line of
    # the lips) and the lower lip follows the curve of the incisal edges about 2 mm lower (the smile arc), so the
    # open smile is a bright crescent of teeth about 6 mm high in the middle, tapering at the canines (15-18 mm
    # from the midline) and closed at the corners.
    # A muscle shortens along its whole length: the pull on the corner fades over the muscle's course towards
    # its origin on the zygomatic bone (about 5 cm), not over the few millimetres beside the corner, so the cheek
    # lateral to the corner bunches (compressed by at most about a quarter) instead of being squeezed past
    # itself when AU20 pulls the same way (tests/face: 12+20 with a dropped jaw folded the cheek at the corners).
    w = corner(MOUTH_Y + 0.02, 0.22, 0.30, lateral=0.55)
    cheek = _g(ax, 0.42, 0.15) * _g(y0, -0.60, 0.15)
    between_canines = np.exp(-((ax / 0.21) ** 4)) * lips
    # The whole upper lip shortens over the teeth (broad profile, like AU10's), so the rows of its red are not
    # squeezed together when AU10 and AU23 act on them too; like AU10's rise it fades towards the nose (0.35).
    crescent = between_canines * 0.05 * _g(dist_m, 0.0, 0.35) * above_m
    lowered["AU12"] = -0.03 * between_canines * _g(dist_m, 0.0, 0.2) * below_m
    fields["AU12"] = (0.085 * w * sx, 0.14 * w + 0.04 * cheek + crescent,
                      -0.015 * w + 0.06 * cheek * (1.0 - nasolabial) - 0.02 * nasolabial)
    # AU15 lip corner depressor (depressor anguli oris): the corners go down and the lips angle down towards them,
    # somewhat stretched horizontally (FACS manual), not drawn in; the skin below and lateral to the corners
    # pouches forward where the muscle bunches it.
    w = corner(MOUTH_Y - 0.04, 0.17, 0.26)
    pouch = _g(ax, MOUTH_HALF + 0.03, 0.08) * _g(y0, MOUTH_Y - 0.13, 0.07)
    # The chin boss bulges either side of the midline, with a depression medially just under the lower lip.
    boss = _g(ax, 0.14, 0.08) * _g(y0, -1.24, 0.08) - _g(x0, 0.0, 0.10) * _g(y0, -1.07, 0.05)
    fields["AU15"] = (0.015 * w * sx, -0.10 * w, 0.015 * pouch + 0.012 * boss)
    # AU16 lower lip depressor (depressor labii inferioris): the lower lip is pulled down and a little sideways, so
    # the lips part over the lower incisors; the chin boss below goes down with it, stretched flat. Flat across the
    # middle of the lip (the muscle inserts on both sides of the midline), fading towards the corners, which stay.
    lower_lip = np.exp(-((ax / 0.22) ** 4)) * lips * _g(dist_m, 0.0, 0.50) * below_m
    fields["AU16"] = (0.02 * lower_lip * np.tanh(x0 / 0.15), zero, zero)
    # FACS E: the lower lip is drawn down far enough to bare the lower incisors (about 6 mm; with AU25 and with the
    # jaw dropped by AU26 alike, since the lip moves against the teeth on the same jaw). The muscle runs from the lip
    # to the mandible's oblique line about 2.5 cm below, so the pull fades over that length (0.50 in y): over the
    # ~1 cm of the mentolabial sulcus alone (0.35) the 6 mm drop folded the skin below the lip against AU17's raised
    # chin (fold census, benchmarks/README.md).
    lowered["AU16"] = -0.08 * lower_lip
    # AU17 chin raiser: chin up, lower lip pushed up and out (the mouth line arches).
    chin = _g(x0, 0.0, 0.30) * _g(y0, -1.25, 0.20) * _sig(-(dist_m + 0.1) / 0.025)  # same on both lip edges
    # The lower lip pushes the upper one: both edges of the slit rise together (they never cross).
    lip = _g(x0, 0.0, 0.22) * _g(dist_m, 0.0, 0.15)
    fields["AU17"] = (zero, 0.05 * chin + 0.02 * lip,
                      0.025 * chin + 0.03 * lip * below_m + 0.008 * chin * np.cos(2 * np.pi * x0 / 0.09))
    # AU20 lip stretcher: corners pulled sideways, lips flattened; risorius and platysma run laterally from the
    # corner over the cheek (about 4 cm), so the pull fades over that length lateral to the corner, as AU12's.
    w = corner(MOUTH_Y, 0.22, 0.18, lateral=0.45)
    fields["AU20"] = (0.08 * w * sx, -0.015 * w, -0.01 * w)
    # AU23 lip tightener: the red of the lips narrows towards the slit, the mouth narrows.
    # A compression of the red towards the slit by up to 30 % (the gradient of d·exp(−d²/w²) is at most 1).
    narrow = -0.3 * lips * dist_m * np.exp(-((dist_m / 0.09) ** 2))
    # The tightened red rolls in a little and the skin just beyond it bulges (FACS manual: less than AU24's).
    w = corner(MOUTH_Y, 0.15, 0.12)
    rim = lips * (_g(dist_m, 0.12, 0.04) + _g(dist_m, -0.13, 0.045))
    fields["AU23"] = (-0.03 * w * sx, narrow, -0.01 * lips * _g(dist_m, 0.0, 0.1) + 0.012 * rim)
    # AU24 lip presser (orbicularis oris): the closed lips press together, the red narrows and rolls in (less of it
    # shows), and the skin just above and below the red bulges; the corners hardly move. Up to 25 % compression
    # of the red towards the slit. The red is tissue of finite height: AU23 (30 %), AU24, AU25's parting (9 %)
    # and the thinnest lips of the identity basis (−3 SD: 30 %) together stay below 100 %, so the rows of the
    # lips keep their order for every identity (tests/face; AU23 at 40 % folded thin lips).
    press = -0.25 * lips * dist_m * np.exp(-((dist_m / 0.08) ** 2))
    bulge = lips * (_g(dist_m, 0.12, 0.04) + _g(dist_m, -0.13, 0.045))
    fields["AU24"] = (zero, press, 0.025 * bulge - 0.01 * lips * _g(dist_m, 0.0, 0.06))
    # AU25 lips part.
    w_up = lips * np.exp(-((dist_m / 0.14) ** 2)) * above_m
    w_lo = lips * np.exp(-((dist_m / 0.11) ** 2)) * below_m
    fields["AU25"] = (zero, 0.02 * w_up - 0.045 * w_lo, zero)

    # Skin moves fully; the jaw-attached part of the mouth cavity moves like the skin in front of it.
    moving = np.where(p.kind == 0, 1.0, np.where(p.kind == 2, p.cavity_jaw, 0.0)) * p.follows_skin
    hx, hy = height_gradient(p.rest[:, 0], p.rest[:, 1])
    out = {}
    for name, (dx, dy, dz) in fields.items():
        # Skin slides along the face (tangential move) plus the field's own bulge along z; a lowered lip keeps its
        # depth.
        d = np.stack([dx, dy + lowered.get(name, 0.0), hx * dx + hy * dy + dz], 1)
        out[name] = d * moving[:, None]
    # The closing lid travels over the curved eyeball, further than a tangent plane stays close to the surface:
    # it follows the chord of the height field instead (the skin lies on the closed eye, not in front of it).
    x, y = p.rest[:, 0], p.rest[:, 1]
    lid_dy = out["AU43"][:, 1]
    out["AU43"][:, 2] = (height(x, y + lid_dy) - height(x, y)) * moving
    # AU26 is the jaw joint's rotation (skinning, see ``joint_dirs``), not a blendshape.
    out["AU26"] = np.zeros_like(p.rest)
    return {name: out[name] for name in ACTION_UNITS}


def _identity_components(rest: np.ndarray) -> dict[str, np.ndarray]:
    """One standard deviation of every identity component, shape ``(N, 3)`` each (fields of rest x, y)."""
    x, y, z = rest[:, 0], rest[:, 1], rest[:, 2]
    ax = np.abs(x)
    sx = np.tanh(x / 0.05)
    zero = np.zeros_like(x)
    eye = _g(ax, EYE_X, 0.16) * _g(y, EYE_Y, 0.14)
    lips = lip_envelope(ax, 0.33)
    comps: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {
        "face_width": (0.05 * x, zero, zero),
        "lower_face_height": (zero, 0.06 * (y + 0.55) * _sig(-(y + 0.55) / 0.08), zero),
        "forehead_height": (zero, 0.05 * (y - 0.30) * _sig((y - 0.30) / 0.08), zero),
        "jaw_width": (0.07 * x * _sig(-(y + 0.85) / 0.15), zero, zero),
        "chin_protrusion": (zero, -0.01 * _g(x, 0.0, 0.3) * _g(y, -1.3, 0.2),
                            0.05 * _g(x, 0.0, 0.3) * _g(y, -1.3, 0.2)),
        "chin_width": (0.06 * x * _g(y, -1.38, 0.16), zero, zero),
        "nose_length": (zero, -0.04 * _g(x, 0.0, 0.2) * _g(y, -0.43, 0.13), zero),
        "nose_protrusion": (zero, zero, 0.05 * _g(x, 0.0, 0.10) * _g(y, -0.36, 0.15)),
        "nose_width": (0.03 * sx * _g(ax, 0.12, 0.08) * _g(y, -0.47, 0.085), zero, zero),
        "nose_bridge": (zero, zero, 0.035 * _g(x, 0.0, 0.08) * _g(y, -0.10, 0.15)),
        "eye_spacing": (0.03 * sx * _g(ax, EYE_X, 0.22) * _g(y, EYE_Y, 0.20), zero, zero),
        "eye_size": (0.07 * (ax - EYE_X) * sx * eye, 0.07 * (y - IRIS_Y) * eye, zero),
        # Brows and forehead shift together above a gentle transition: the lid crease is not squeezed.
        "brow_height": (zero, 0.03 * _g(ax, 0.40, 0.35) * _sig((y - 0.14) / 0.06) * _sig((0.75 - y) / 0.1), zero),
        "brow_ridge": (zero, zero, 0.035 * _g(ax, 0.40, 0.25) * _g(y, 0.24, 0.10)),
        "cheekbones": (0.02 * sx * _g(ax, 0.60, 0.20) * _g(y, -0.25, 0.15), zero,
                       0.04 * _g(ax, 0.60, 0.20) * _g(y, -0.25, 0.15)),
        "cheek_fullness": (0.03 * sx * _g(ax, 0.50, 0.22) * _g(y, -0.75, 0.20), zero,
                           0.035 * _g(ax, 0.50, 0.22) * _g(y, -0.75, 0.20)),
        "mouth_width": (0.07 * x * _g(x, 0.0, 0.40) * _g(y, MOUTH_Y, 0.12), zero, zero),
        # Fuller lips: a taller red, stretched evenly about the line where the lips meet (about 0.4 mm at its
        # border per SD), and more protrusion. An even stretch has the smallest gradient for its border's shift:
        # two Gaussians either side of the slit compressed the rows beside it by 21 % per SD, which thin lips
        # (−2 SD) and the lip tighteners (AU23, AU24) together folded past the slit (tests/face).
        "lip_fullness": (zero, 0.10 * lips * (y - MOUTH_Y) * np.exp(-(((y - MOUTH_Y) / 0.12) ** 2)),
                         0.02 * lips * _g(y, MOUTH_Y, 0.10)),
        # A shorter (longer) philtrum moves the mouth up (down); the change is spread from the nose's base to the
        # chin (0.30), not concentrated above the red of the upper lip (0.22 about −0.95 compressed the red and the
        # philtrum by 12-14 % per SD, which the lip raisers and tighteners at E then folded at −2.4 to −3.4 SD).
        "philtrum_length": (zero, -0.035 * _g(x, 0.0, 0.45) * _g(y, -0.92, 0.30), zero),
        "forehead_slope": (zero, zero, -0.08 * np.clip(y - 0.45, 0.0, None) * _sig((y - 0.45) / 0.1)),
        "face_depth": (zero, zero, 0.06 * (z - 0.5)),
        "midface_protrusion": (zero, zero, 0.04 * _g(x, 0.0, 0.40) * _g(y, -0.70, 0.25)),
        "eye_tilt": (zero, 0.025 * (ax - EYE_X) / 0.2 * _g(ax, EYE_X, 0.2) * _g(y, EYE_Y, 0.14), zero),
        "temple_width": (0.04 * x * _g(y, 0.30, 0.40), zero, zero),
    }
    return {name: np.stack(comps[name], 1) for name in IDENTITY_COMPONENTS}


# ---------------------------------------------------------------------------------------------- model
@dataclass(frozen=True)
class ProceduralModel(MorphableModel):
    """The procedural face: a :class:`MorphableModel` whose eyelids meet instead of passing through each other.

    Action units add linearly, but lids are solid: once the upper lid's margin reaches the lower lid's (AU43 eyes
    closed, with the lower lid raised by AU6, AU7 or AU9, or an upper lid lowered by AU7), it rests on it. No
    linear blendshape can both close the eye on its own and stay above a lower lid that other units raise, so
    :meth:`vertices` adds that contact after Eq. 3: wherever an upper-lid margin vertex lies below its lower-lid
    partner (the two copies of one slit vertex), the upper lid is lifted by the overlap, its skin by the share
    ``lid_weight`` of the margin's move (the profile with which AU43 lowers it). Where the lids do not touch,
    nothing changes: the model is Eq. 3 exactly.

    Attributes (besides :class:`MorphableModel`'s)
    ----------------------------------------------
    lid_upper, lid_lower
        Vertex indices of the two copies of every eye-slit vertex (upper-lid and lower-lid margin), shape ``(P,)``.
    lid_vertices
        Skin vertices of the upper lids that the contact lifts, shape ``(M,)``.
    lid_pair
        For every vertex in ``lid_vertices``, the slit pair (index into ``lid_upper``) of its column, ``(M,)``.
    lid_lift
        Displacement per unit of overlap at every vertex in ``lid_vertices``, shape ``(M, 3)``: the lid profile
        in y and the rest surface's slope in z, so the lifted lid stays on the face.
    """

    lid_upper: torch.Tensor | None = None
    lid_lower: torch.Tensor | None = None
    lid_vertices: torch.Tensor | None = None
    lid_pair: torch.Tensor | None = None
    lid_lift: torch.Tensor | None = None

    def vertices(  # noqa: D102 - documented by MorphableModel.vertices
        self,
        beta: torch.Tensor | np.ndarray,
        phi: torch.Tensor | np.ndarray,
        s: torch.Tensor | np.ndarray | float,
        t: torch.Tensor | np.ndarray | float,
        pose: torch.Tensor | np.ndarray | None = None,
        *,
        intensity_matched: bool = False,
        affected: torch.Tensor | None = None,
        backend: str = "auto",
    ) -> torch.Tensor:
        out = super().vertices(beta, phi, s, t, pose, intensity_matched=intensity_matched, affected=affected,
                               backend=backend)
        # The eyes follow the root joint only (skinning weight 1): the lids touch along the head's own y axis.
        rotation = None if pose is None else axis_angle_to_matrix(
            self._coefficients(pose, self.pose_dim, "pose")[:, :3]).expand(out.shape[0], -1, -1)
        return self.lid_contact(out, rotation)

    vertices.__doc__ = MorphableModel.vertices.__doc__

    def lid_contact(self, vertices: torch.Tensor, rotation: torch.Tensor | None = None) -> torch.Tensor:
        """Lift every upper lid that lies below its lower lid onto it.

        Parameters
        ----------
        vertices
            Vertices of Eq. 3 (posed), shape ``(B, N, 3)``, model units.
        rotation
            Rotation of every head's root joint, shape ``(B, 3, 3)``; ``None`` = upright heads. Overlap and lift are
            measured along the head's own vertical axis.

        Returns
        -------
        torch.Tensor
            Shape ``(B, N, 3)``: equal to ``vertices`` wherever the lids do not overlap. ``vertices`` itself, changed
            in place, unless it requires grad (then a new tensor).
        """
        if self.lid_upper is None:
            return vertices
        apart = vertices[:, self.lid_lower] - vertices[:, self.lid_upper]
        if rotation is not None:
            apart = torch.einsum("bji,bpj->bpi", rotation, apart)  # into the head's frame
        overlap = apart[..., 1].clamp_min(0.0)
        if not bool(overlap.any()):  # open eyes, the common case: no copy of the batch
            return vertices
        lift = overlap[:, self.lid_pair, None] * self.lid_lift
        if rotation is not None:
            lift = torch.einsum("bij,bmj->bmi", rotation, lift)
        if vertices.requires_grad:  # autograd (the gradient optimiser) needs the vertices of Eq. 3 untouched
            return vertices.index_add(1, self.lid_vertices, lift)
        return vertices.index_add_(1, self.lid_vertices, lift)

    def to(self, device: torch.device | str) -> ProceduralModel:
        """A copy of the model on ``device``."""
        moved = super().to(device)
        return replace(moved, **{name: getattr(self, name).to(device) for name in (
            "lid_upper", "lid_lower", "lid_vertices", "lid_pair", "lid_lift") if getattr(self, name) is not None})


def _lid_contact(p: _Parts) -> dict[str, np.ndarray]:
    """Index arrays and lift of :class:`ProceduralModel`'s lid contact (see its attributes)."""
    skin = p.kind == 0
    on_row = skin & (p.y0 == EYE_Y)
    upper = np.nonzero(on_row & (p.eye_side > 0))[0]
    lower = np.nonzero(on_row & (p.eye_side < 0))[0]
    upper = upper[np.argsort(p.column[upper])]
    lower = lower[np.argsort(p.column[lower])]
    columns = p.column[upper]
    if not np.array_equal(columns, p.column[lower]):
        raise AssertionError("every eye-slit vertex has an upper and a lower copy")
    profile = _lid_profile(p.y0)
    lid = np.nonzero(skin & (p.eye_side > 0) & np.isin(p.column, columns) & (profile > 1e-3))[0]
    pair = np.searchsorted(columns, p.column[lid])
    _, hy = height_gradient(p.rest[lid, 0], p.rest[lid, 1])
    lift = np.stack([np.zeros(lid.size), profile[lid], hy * profile[lid]], 1)
    return {"lid_upper": upper, "lid_lower": lower, "lid_vertices": lid, "lid_pair": pair, "lid_lift": lift}


def _split_weights(template: np.ndarray, left_side: str, midline_band: float) -> np.ndarray:
    """Left weights of Eq. 2's split (:func:`facesym.face.model.left_weights`), with a wider band across the lips.

    The red of the lips is one continuous band of muscle (orbicularis oris, whose fibres cross the midline and
    insert into the other side's philtral column and modiolus), not skin that can shear: with one half frozen the
    lips' parting tapers across the middle of the mouth, as the lip line of a unilateral palsy does, instead of
    stepping down within the skin's band (6 mm: a 6 mm parting closed over three columns). So the band widens to
    ``LIP_MIDLINE_BAND_MM`` on the lips and returns to ``midline_band`` over the skin above and below them (a
    Gaussian in height, ``LIP_BAND_FALLOFF``). ``midline_band = 0`` is Eq. 2's step everywhere, lips included.

    Parameters
    ----------
    template
        Rest vertices, shape ``(N, 3)``, model units (x already mirrored for ``left_side``).
    left_side
        ``"+x"`` or ``"-x"``.
    midline_band
        The skin's band, millimetres.

    Returns
    -------
    np.ndarray
        Weights in [0, 1], shape ``(N,)``, float32; monotone in x at every height, 0.5 on the midline.
    """
    x, y = template[:, 0], template[:, 1]
    if midline_band == 0:
        return left_weights(x, left_side, band=0.0)
    lips = np.exp(-(((y - MOUTH_Y) / LIP_BAND_FALLOFF) ** 2))
    band = midline_band + max(LIP_MIDLINE_BAND_MM - midline_band, 0.0) * lips
    # A band widened by b / b0 is the skin's band on x scaled by b0 / b.
    return left_weights(x * (midline_band / band), left_side, band=midline_band / MM_PER_UNIT)


def _texture_coordinates(template: np.ndarray) -> np.ndarray:
    """The skin texture's coordinates, ``(N, 2)`` mm: the rest shape's ``|x|`` and ``y``.

    Mirrored at the midline, so the albedo stays mirror-symmetric like the rest of the model: the symmetry axes and
    their mirror then differ only through the classifier, not through a blotch on one cheek.
    """
    return np.stack([np.abs(template[:, 0]), template[:, 1]], axis=1) * MM_PER_UNIT


@lru_cache(maxsize=8)
def _cached_model(n_shape: int, n_appearance: int, left_side: str, row_step: float,
                  col_step: float, midline_band: float, skin_texture: bool) -> ProceduralModel:
    p = _build_parts(row_step, col_step)
    aus = _action_units(p)
    ids = _identity_components(p.rest)
    f32 = torch.float32
    jaw = _jaw_weight(p)
    masks = torch.tensor(p.masks, dtype=f32)
    regions = {name: masks[:, i] for i, name in enumerate(REGIONS)}
    for k, name in enumerate(("skin_mesh", "eyeball", "mouth_cavity", "ears", "neck_mesh", "hair_mesh")):
        regions[name] = torch.tensor(p.kind == k, dtype=f32)
    # The mesh and the fields are built with the subject's left at +x; mirror x for a "-x" convention.
    flip = np.array([1.0, 1.0, 1.0]) if left_side == "+x" else np.array([-1.0, 1.0, 1.0])
    tris = p.triangles if left_side == "+x" else p.triangles[:, ::-1]
    template = p.rest * flip
    joint_dirs = np.zeros((len(ACTION_UNITS), 6))
    joint_dirs[ACTION_UNITS.index("AU26"), 3] = JAW_DROP  # about +x (unchanged by the x mirror): chin down
    contact = _lid_contact(p)
    return ProceduralModel(
        name="procedural",
        template=torch.tensor(template, dtype=f32),
        triangles=torch.tensor(np.ascontiguousarray(tris), dtype=torch.int64),
        shapedirs=torch.tensor(np.stack([ids[n] * flip for n in IDENTITY_COMPONENTS[:n_shape]], 2), dtype=f32),
        exprdirs=torch.tensor(np.stack([aus[n] * flip for n in ACTION_UNITS], 2), dtype=f32),
        expression_names=list(ACTION_UNITS),
        left_weight=torch.tensor(_split_weights(template, left_side, midline_band), dtype=f32),
        left_side=left_side,
        appearance=PaletteAppearance(
            masks, n_appearance, torch.tensor(_occlusion(p), dtype=f32),
            torch.tensor(_texture_coordinates(template), dtype=f32) if skin_texture else None,
        ),
        joint_names=["head", "jaw"],
        parents=torch.tensor([-1, 0]),
        skin_weights=torch.tensor(np.stack([1.0 - jaw, jaw], 1), dtype=f32),
        joint_rest=torch.tensor(np.array([HEAD_ROOT, JAW_PIVOT]) * flip, dtype=f32),
        camera=OrthographicCamera(),
        regions=regions,
        expression_bounds=torch.tensor([[0.0, 1.0]] * len(ACTION_UNITS), dtype=f32),
        joint_dirs=torch.tensor(joint_dirs, dtype=f32),
        lid_upper=torch.tensor(contact["lid_upper"], dtype=torch.int64),
        lid_lower=torch.tensor(contact["lid_lower"], dtype=torch.int64),
        lid_vertices=torch.tensor(contact["lid_vertices"], dtype=torch.int64),
        lid_pair=torch.tensor(contact["lid_pair"], dtype=torch.int64),
        lid_lift=torch.tensor(contact["lid_lift"] * flip, dtype=f32),
    )


def build_procedural_model(n_shape: int = 20, n_appearance: int = 6, left_side: str = "+x", *,
                           midline_band: float = MIDLINE_BAND_MM, skin_texture: bool = False,
                           row_step: float = 0.025, col_step: float = 0.028) -> ProceduralModel:
    """The embedded face model (deterministic; built once per argument set and cached).

    Parameters
    ----------
    n_shape
        Identity components to use, 1…24 (see ``IDENTITY_COMPONENTS``); the config's ``identities.shape_dim``.
    n_appearance
        Appearance coefficients, 0…8 (see ``facesym.face.appearance.APPEARANCE_NAMES``); the config's
        ``identities.appearance_dim``.
    left_side
        Model-frame direction of the subject's own left, ``"+x"`` (default) or ``"-x"``.
    midline_band
        Width of the band across the midline in which the left weight rises from 0 to 1, millimetres
        (:func:`facesym.face.model.left_weights`); the config's ``face_model.midline_band``. 0 = Eq. 2's step.
    skin_texture
        Give the skin each identity's mottling and grain (:func:`facesym.face.appearance.skin_texture`); the
        config's ``face_model.skin_texture``. Off by default: it made the FER2013 network read 14 of 30 neutral
        faces as fear (``benchmarks/README.md``, "Readability").
    row_step, col_step
        Grid spacing in the detailed parts of the face, model units (coarser on forehead, chin and sides).

    Returns
    -------
    ProceduralModel
        About 7,500 vertices and 14,300 triangles with the default spacing; 18 action units
        (``ACTION_UNITS``) and a head and jaw joint (pose vector of length 6). The model is shared between
        callers: treat its tensors as read-only.
    """
    if not 1 <= n_shape <= MAX_SHAPE:
        raise ValueError(f"the procedural model has 1…{MAX_SHAPE} identity components, got n_shape={n_shape}")
    if left_side not in ("+x", "-x"):
        raise ValueError(f"left_side must be '+x' or '-x', got {left_side!r}")
    if midline_band < 0:
        raise ValueError(f"midline_band must be >= 0 mm, got {midline_band}")
    return _cached_model(int(n_shape), int(n_appearance), left_side, float(row_step), float(col_step),
                         float(midline_band), bool(skin_texture))
