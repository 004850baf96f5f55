"""Faces in cohort photographs: detect, find the eyes, align into the face model's render frame, crop.

A real recording shows the face anywhere, tilted and at any size; the classifiers and the symmetry measure expect
what the renderer produces. :func:`align_face` maps a photograph into that **canonical frame**: the eyes where the
procedural face's eyes project under its fixed camera (:func:`canonical_frame`, computed from the model, not
typed in), hence level and with the facial midline on the image's centre column, at the renders' scale. Each
classifier's own framing then applies to renders and photographs alike.

Method (scikit-image only; nothing is downloaded):

1. **Face** — scikit-image's LBP cascade with its bundled frontal-face model (:class:`skimage.feature.Cascade`).
   It finds upright faces only (measured on ``skimage.data.astronaut``: found at 0° and +15°, missed at −15°),
   so it runs on the photograph turned by each of :data:`SEARCH_ANGLES`; detections of all turns whose boxes
   overlap are one face candidate. The cascade also fires on textures, so a candidate counts as a face only when
   it was found at least :data:`MIN_BOXES` times and a convincing pair of eyes is found in it
   (:data:`MIN_FACE_EVIDENCE`). Zero faces or more than one (of
   comparable size, :data:`SMALLER_FACES`) is a quality-control failure, never a guess.
2. **Eyes** — no eye model ships with scikit-image, and a landmark network would be a download, so the eyes are
   found as the best-scoring *pair* of dark compact blobs (black top-hat of the smoothed face, then a blob-sized
   blur; only maxima of the whole response count, not the band's clipped edge) in the upper face: score =
   geometric mean of the two blobs' strength × a Gaussian prior on the pair's width, height, centre and tilt
   relative to the detection box (:class:`EyePrior`) × how alike the two eye windows look when one is mirrored.
   A blob's strength is relative to the darkest blob of the upper face except the brows right above the pair:
   brows are often darker than the eyes. Pairs, not single blobs, because a brow, a nostril or hair is often as
   dark as one eye but rarely forms a level, mirror-alike pair at eye distance. Each box of a face proposes a
   pair; every proposal is scored again in a level box of its own and the best one is the face's
   (:func:`_verified`).
3. **Align** — the similarity transform that maps the two eyes onto the canonical eye positions; then the eyes
   are found again in the aligned image, near their canonical positions (a local search), and the transform is
   updated, twice. This refinement makes the crop independent of the box and turn the cascade happened to use.
   It looks for the *iris*: the point most darker than the sclera on both sides of it (:func:`_iris_contrast`),
   not the darkest blob — the lash line above the iris is darker than the iris, and the darker and thicker it
   is the further a darkest-blob search drifted onto it (by up to 2.5 px on 64-px renders, tilting the crop by
   up to 2.6° where one lid moved and the other did not); a line has dark points beside it and does not score.
4. **Checks** — an alignment whose eyes moved far during refinement, whose eye distance or position does not fit
   the detected box, whose roll exceeds :data:`MAX_ROLL`, or whose crop lies largely outside the photograph is
   rejected with its reason (:attr:`FaceAlignment.reason`).

Beyond the crop, :func:`mouth_asymmetry` measures a geometric asymmetry on it: the tilt of the mouth against the
eye line. Two eyes alone define the similarity transform exactly, so they carry no asymmetry of their own once
aligned; the mouth (a unilateral palsy lowers one corner) does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import ndimage
from skimage import data as skdata
from skimage import feature, morphology, transform

__all__ = [
    "MAX_ROLL",
    "MIN_BOXES",
    "MIN_FACE_EVIDENCE",
    "SMALLER_FACES",
    "SEARCH_ANGLES",
    "CanonicalFrame",
    "EyePrior",
    "FaceAlignment",
    "align_face",
    "canonical_frame",
    "detect_faces",
    "mouth_asymmetry",
    "to_gray",
]

SEARCH_ANGLES: tuple[float, ...] = (0.0, 15.0, -15.0, 30.0, -30.0)
"""Turns of the photograph (degrees, counter-clockwise) the upright-only face cascade is run on."""

MAX_ROLL = 40.0
"""Largest head roll (degrees) accepted; beyond the search angles' reach the cascade's box is unreliable."""

MIN_FACE_EVIDENCE = 0.7
"""Eye-pair score (0…1) a group of cascade boxes needs to count as a face.

The group's eye pair (the one most of its boxes agree on) is scored again in a box of its own, level and centred
on the eyes: blob strength × prior × mirror likeness of the two eye windows. The bundled cascade also fires on
textures and clothes; measured with this score: a coffee cup 0.60, the astronaut's suit and background
0.40–0.63, the cameraman 0.22, a cat 0.05; faces: the astronaut upright and turned by 10–25° 0.85–0.94,
24 synthetic renders of 64 px (probands and palsy patients, six expressions, including wide-open eyes under
raised dark brows) 0.83–0.98 (the face model before its 17 action units). The checks that keep textures out
are unchanged by scoring every proposal and by counting only the response's true maxima as blobs: measured after
both, the coffee cup 0.60, the astronaut 0.91, the cat, the cameraman and the bricks fewer than two boxes.
"""

MIN_BOXES = 2
"""Cascade boxes (over all turns and scales) a face candidate needs. Faces are found again and again (measured:
the astronaut 3–5 boxes, synthetic renders 5–9); textures mostly once — a brick wall whose mortar lines form a
level, mirror-alike "eye pair" (score 0.88) was one box."""

SMALLER_FACES = 0.5
"""Verified faces smaller than this fraction of the largest one's box are background, not a second subject."""

_DETECT_MIN_SIDE = 192
"""Photographs smaller than this (pixels, shorter side) are enlarged for the cascade, whose window is 24 px."""

_DETECT_MAX_SIDE = 480
"""Larger photographs are reduced for the cascade (time grows with the area); eyes are found at full size."""

_PATCH = 96
"""Side (pixels) the detected face box is resampled to for the eye search; the blob filters are sized for it."""

_WORK = 128
"""Side (pixels) of the canonical frame in which the eyes are refined."""

_REFINE_STEPS = 2

_IRIS_RADIUS = 0.09
"""Radius of the iris as a fraction of the distance between the pupils: 11.7 mm across (the adult mean) over
about 63 mm between the pupils."""

_FLANK = 1.7
"""Distance (iris radii) from an eye point to the centres of the two sclera windows beside it."""

_VERIFY_STEPS = 3
"""Re-centrings of the verification box on the pair it found before a face candidate is given up as unstable."""


@dataclass(frozen=True)
class CanonicalFrame:
    """Landmarks of the procedural face's mean shape in its render frame, as fractions of the image side.

    Attributes
    ----------
    eyes
        Shape ``(2, 2)``: ``(x, y)`` of the eye on the image's left, then of the one on its right; x to the right,
        y down, 0…1 across the image (pixel edges).
    mouth
        Shape ``(2,)``: ``(x, y)`` of the lips' centre.
    """

    eyes: np.ndarray
    mouth: np.ndarray

    def eye_pixels(self, size: int) -> np.ndarray:
        """Eye centres in a ``size`` × ``size`` image, shape ``(2, 2)`` ``(x, y)``, pixel centres at integers."""
        return self.eyes * size - 0.5

    def mouth_pixels(self, size: int) -> np.ndarray:
        """Lips' centre in a ``size`` × ``size`` image, ``(x, y)``, pixel centres at integers."""
        return self.mouth * size - 0.5


@lru_cache(maxsize=1)
def canonical_frame() -> CanonicalFrame:
    """Where the procedural face's pupils and lips project under its camera (the renders' framing).

    The centroids of the template's ``pupil`` and ``lips`` regions, projected by the model's camera onto a square
    image. The frame is the embedded model's whatever the config's face model: it is the framing the embedded
    classifiers and the synthetic cohort use, and the one each classifier's crop is defined relative to.
    """
    import torch

    from facesym.face.procedural import build_procedural_model

    model = build_procedural_model()
    template = model.template
    size = 1000
    points = []
    for region, sides in (("pupil", (-1.0, 1.0)), ("lips", (None,))):
        weight = model.regions[region]
        for side in sides:
            w = weight if side is None else weight * (template[:, 0] * side > 0)
            points.append((w[:, None] * template).sum(0) / w.sum())
    projected = model.camera.project(torch.stack(points)[None], size)[0, :, :2].numpy().astype(np.float64)
    return CanonicalFrame(eyes=projected[:2] / size, mouth=projected[2] / size)


@dataclass(frozen=True)
class EyePrior:
    """Where the eyes sit in a detection box of the frontal-face cascade, as fractions of the box side.

    Means and spreads of a Gaussian prior; the defaults fit the cascade's boxes on ``skimage.data.astronaut``
    (eye centre height 0.37, distance 0.44) and on the synthetic renders (about 0.45, 0.42) with room for both.
    """

    height: float = 0.40
    height_sd: float = 0.08
    distance: float = 0.45
    distance_sd: float = 0.10
    center_sd: float = 0.08
    tilt_sd: float = 12.0


@dataclass(frozen=True)
class FaceAlignment:
    """One photograph's face, or why there is none to use.

    Attributes
    ----------
    reason
        ``""`` when the face is usable, else why not (no face, several faces, eyes not found, implausible).
    n_faces
        Faces the cascade found (after merging the boxes of all turns).
    box
        ``(x, y, side)`` of the chosen face's box centre and side, photograph pixels; NaN without a face.
    search_angle
        Turn (degrees) of the photograph under which the chosen box was found.
    eyes
        Shape ``(2, 2)``: ``(x, y)`` of the eye on the aligned image's left, then right, photograph pixels
        (pixel centres at integers); NaN when not found.
    roll
        Angle of the eye line, degrees, counter-clockwise as seen in the photograph; the crop turns it level.
    matrix
        Shape ``(3, 3)``: the similarity transform from photograph pixels to canonical-frame pixels of a
        ``size``-pixel crop (homogeneous ``(x, y, 1)``); NaN without an alignment.
    size
        Side of the crop, pixels.
    outside
        Fraction of the crop that lies outside the photograph (filled with black).
    """

    reason: str
    n_faces: int
    box: tuple[float, float, float]
    search_angle: float
    eyes: np.ndarray
    roll: float
    matrix: np.ndarray
    size: int
    outside: float

    @property
    def ok(self) -> bool:
        """Whether the face passed every check."""
        return self.reason == ""

    def crop(self, image: np.ndarray) -> np.ndarray:
        """The aligned crop of ``image``.

        Parameters
        ----------
        image
            The photograph the alignment was found on, shape ``(C, H, W)``, floats in [0, 1].

        Returns
        -------
        numpy.ndarray
            Shape ``(C, size, size)``, float32 in [0, 1]; parts outside the photograph are black.
        """
        if not self.ok:
            raise ValueError(f"no usable face to crop: {self.reason}")
        inverse = transform.AffineTransform(matrix=np.linalg.inv(self.matrix))
        channels = [
            transform.warp(channel.astype(np.float64), inverse, output_shape=(self.size, self.size), order=1, cval=0.0)
            for channel in image
        ]
        return np.clip(np.stack(channels), 0.0, 1.0).astype(np.float32)


def to_gray(image: np.ndarray) -> np.ndarray:
    """``(C, H, W)`` floats in [0, 1] → ``(H, W)`` luminance (ITU-R 601 weights for RGB)."""
    if image.shape[0] == 1:
        return image[0].astype(np.float64)
    return np.tensordot(np.array([0.299, 0.587, 0.114]), image[:3].astype(np.float64), axes=1)


@lru_cache(maxsize=1)
def _cascade() -> feature.Cascade:
    return feature.Cascade(skdata.lbp_frontal_face_cascade_filename())


def _rotation(angle: float, center: np.ndarray) -> np.ndarray:
    """Homogeneous ``(3, 3)`` rotation of image coordinates ``(x, y)`` by ``angle`` degrees counter-clockwise
    as seen on screen (y points down) about ``center``."""
    a = np.deg2rad(angle)
    rotate = np.array([[np.cos(a), np.sin(a), 0.0], [-np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])
    shift = np.eye(3)
    shift[:2, 2] = -center
    back = np.eye(3)
    back[:2, 2] = center
    return back @ rotate @ shift


def detect_faces(gray: np.ndarray) -> list[list[tuple[float, float, float, float]]]:
    """Frontal faces found under every turn of :data:`SEARCH_ANGLES`, merged into one list per face.

    Parameters
    ----------
    gray
        Shape ``(H, W)``, floats in [0, 1].

    Returns
    -------
    list of list of (x, y, side, angle)
        One entry per face, largest first: its detections as box centre ``(x, y)`` and side in photograph
        pixels and the turn (degrees) they were found under. Boxes whose centres lie closer than half the
        larger side are the same face.
    """
    height, width = gray.shape
    factor = 1.0
    if min(height, width) < _DETECT_MIN_SIDE:
        factor = _DETECT_MIN_SIDE / min(height, width)
    elif max(height, width) > _DETECT_MAX_SIDE:
        factor = _DETECT_MAX_SIDE / max(height, width)
    scaled = transform.rescale(gray, factor, anti_aliasing=factor < 1) if factor != 1.0 else gray
    center = np.array([scaled.shape[1] - 1, scaled.shape[0] - 1]) / 2.0
    smallest = max(24, int(0.08 * min(scaled.shape)))
    detections = []
    for angle in SEARCH_ANGLES:
        # Edge padding keeps the cascade from seeing the black corners of the turned image as an edge of the face.
        turned = transform.rotate(scaled, angle, resize=False, mode="edge") if angle else scaled
        boxes = _cascade().detect_multi_scale(
            img=turned, scale_factor=1.1, step_ratio=1, min_size=(smallest, smallest), max_size=turned.shape
        )
        back = np.linalg.inv(_rotation(angle, center))
        for box in boxes:
            turned_center = np.array([box["c"] + box["width"] / 2 - 0.5, box["r"] + box["height"] / 2 - 0.5, 1.0])
            x, y, _ = back @ turned_center
            detections.append((x / factor, y / factor, box["width"] / factor, angle))
    return _merge(detections)


def _merge(detections: list[tuple[float, float, float, float]]) -> list[list[tuple[float, float, float, float]]]:
    """Group detections into faces: single-linkage on box centres closer than half the larger box side."""
    count = len(detections)
    parent = list(range(count))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(count):
        for j in range(i + 1, count):
            (xi, yi, si, _), (xj, yj, sj, _) = detections[i], detections[j]
            if np.hypot(xi - xj, yi - yj) < 0.5 * max(si, sj):
                parent[root(i)] = root(j)
    groups: dict[int, list[tuple[float, float, float, float]]] = {}
    for i in range(count):
        groups.setdefault(root(i), []).append(detections[i])
    return sorted(groups.values(), key=lambda g: -max(d[2] for d in g))


def _darkness(gray: np.ndarray) -> np.ndarray:
    """Blob-sized response to small dark structures (pupils, lashes, the mouth), at the :data:`_PATCH` scale."""
    smooth = ndimage.gaussian_filter(gray, 1.0)
    tophat = morphology.black_tophat(smooth, morphology.disk(5))
    return ndimage.gaussian_filter(tophat, 2.0)


def _warp(gray: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """``gray`` seen through ``matrix`` (photograph → output pixels), ``size`` × ``size``, edges repeated."""
    return transform.warp(
        gray, transform.AffineTransform(matrix=np.linalg.inv(matrix)), output_shape=(size, size), order=1, mode="edge"
    )


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:2, :2].T + matrix[:2, 2]


def _similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The ``(3, 3)`` similarity that maps the two points ``source`` exactly onto ``target`` (each ``(2, 2)``).

    As complex numbers ``z = x + iy`` it is ``z ↦ a z + b`` with ``a = (t₁ − t₀) / (s₁ − s₀)``, ``b = t₀ − a s₀``.
    """
    s0, s1 = source[:, 0] + 1j * source[:, 1]
    t0, t1 = target[:, 0] + 1j * target[:, 1]
    a = (t1 - t0) / (s1 - s0)
    b = t0 - a * s0
    return np.array([[a.real, -a.imag, b.real], [a.imag, a.real, b.imag], [0.0, 0.0, 1.0]])


def _box_matrix(x: float, y: float, side: float, angle: float) -> np.ndarray:
    """Photograph → eye-search patch: the box, turned upright, resampled to :data:`_PATCH` pixels."""
    to_origin = np.eye(3)
    to_origin[:2, 2] = [-x, -y]
    scale = np.diag([_PATCH / side, _PATCH / side, 1.0])
    to_patch = np.eye(3)
    to_patch[:2, 2] = (_PATCH - 1) / 2.0
    return to_patch @ scale @ _rotation(angle, np.zeros(2)) @ to_origin


def _mirror_match(patch: np.ndarray, left: np.ndarray, right: np.ndarray) -> float:
    """Correlation (−1…1) of the window around ``left`` with the mirrored window around ``right`` (``(x, y)``)."""
    half = max(3, int(round(0.15 * np.hypot(*(right - left)))))
    padded = np.pad(patch, half + 1, mode="edge")
    windows = []
    for x, y in (left, right):
        col, row = int(round(x)) + half + 1, int(round(y)) + half + 1
        windows.append(padded[row - half : row + half + 1, col - half : col + half + 1])
    a, b = windows[0].ravel(), windows[1][:, ::-1].ravel()
    a, b = a - a.mean(), b - b.mean()
    norm = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / norm) if norm > 0 else 0.0


def _eye_pair(patch: np.ndarray, prior: EyePrior) -> tuple[np.ndarray, float] | None:
    """The best pair of eyes under ``prior`` in a box patch: ``((2, 2) (x, y), score in 0…1)`` or ``None``.

    Score: the geometric mean of the two dark blobs' strengths × the prior × how alike the two eye windows are
    when one is mirrored ((1 + correlation) / 2) — a brow and an eye can form a level pair under a wrong turn,
    but they do not look like mirror images of each other. A blob's strength is relative to the strongest blob
    of the band except those in the brow zones right above the pair's two eyes (:func:`_brow_zones`): thick
    dark brows, raised ones above wide-open eyes most of all, can be darker than the eyes they sit over, and a
    face must not score lower for them.
    """
    response = _darkness(patch)
    band = np.zeros_like(response, dtype=bool)
    band[int(0.15 * _PATCH) : int(0.65 * _PATCH), int(0.05 * _PATCH) : int(0.95 * _PATCH)] = True
    # Blobs are maxima of the whole response that lie in the band, not maxima of the band's clip: the clip's edge
    # has the flank of whatever lies beyond it (the head's outline under the hair at the band's top corners, the
    # nostrils and the lips below it), and that flank was taken for the darkest blob of the band, weakening every
    # pair against it (measured on a happy render: 0.24 at the corner against the eyes' 0.15, score 0.62).
    peaks = feature.peak_local_max(response, min_distance=3, exclude_border=False)
    peaks = peaks[band[peaks[:, 0], peaks[:, 1]]]
    peaks = peaks[np.argsort(-response[peaks[:, 0], peaks[:, 1]], kind="stable")[:16]]
    if len(peaks) < 2:
        return None
    darkness = response[peaks[:, 0], peaks[:, 1]]
    points = peaks[:, ::-1].astype(np.float64) / _PATCH
    best, best_score = None, 0.0
    for i in range(len(points)):
        for j in range(len(points)):
            left, right = points[i], points[j]
            if right[0] <= left[0]:
                continue
            dx, dy = right - left
            z = (
                ((left[1] + right[1]) / 2 - prior.height) / prior.height_sd,
                (np.hypot(dx, dy) - prior.distance) / prior.distance_sd,
                ((left[0] + right[0]) / 2 - 0.5) / prior.center_sd,
                np.degrees(np.arctan2(dy, dx)) / prior.tilt_sd,
            )
            reference = darkness[~_brow_zones(points, left, right)].max()
            score = np.sqrt(darkness[i] * darkness[j]) / reference * np.exp(-0.5 * np.sum(np.square(z)))
            if score > best_score:
                score *= (1.0 + _mirror_match(patch, left * _PATCH, right * _PATCH)) / 2.0
            if score > best_score:
                best, best_score = np.stack([left, right]) * _PATCH, score
    return None if best is None else (best, float(best_score))


def _brow_zones(points: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Which of ``points`` (``(N, 2)`` ``(x, y)``) lie where a brow sits above the eye ``left`` or ``right``.

    The zone of an eye: from 0.05 to 0.6 eye distances above it, within 0.4 eye distances to either side. Adult
    brows lie about 0.2–0.5 eye distances above the pupils, higher when raised; the other eye of a pair lies a
    whole eye distance to the side, outside the zone.
    """
    distance = np.hypot(*(right - left))
    zones = np.zeros(len(points), dtype=bool)
    for eye in (left, right):
        above = eye[1] - points[:, 1]
        zones |= (above > 0.05 * distance) & (above < 0.6 * distance) & (np.abs(points[:, 0] - eye[0]) < 0.4 * distance)
    return zones


def _iris_contrast(work: np.ndarray, distance: float) -> np.ndarray:
    """How much darker each point of ``work`` is than the sclera on *both* sides of it: the iris's signature.

    Parameters
    ----------
    work
        Grey image of the upper face in the canonical frame, shape ``(H, W)``, floats in [0, 1].
    distance
        Distance between the two eyes in ``work``, pixels; sets every window (:data:`_IRIS_RADIUS`).

    Returns
    -------
    numpy.ndarray
        Shape ``(H, W)``, ≥ 0, grey levels: the lighter of the two flanks minus the point's neighbourhood.

    Notes
    -----
    The iris (and the pupil in it) is a dark disc with the bright sclera to its left and right, whatever the lids
    do; the lash line is darker still, but it runs along the eye, so the points beside it are as dark as the
    line itself and it scores nothing however thick it is (a search for the darkest blob locked onto it). The
    flanks sit on the sclera: their centres :data:`_FLANK` iris radii beside the point (0.15 eye distances; the
    limbus ends at about 0.1, the eye corners lie at about 0.3). The darker flank counts, not the mean of the
    two: the end of a dark line has skin on one side only.
    """
    radius = _IRIS_RADIUS * distance
    rows = 0.25 * radius
    centre = ndimage.gaussian_filter(work, (rows, 0.35 * radius), mode="nearest")
    flank = ndimage.gaussian_filter(work, (rows, 0.3 * radius), mode="nearest")
    left = ndimage.shift(flank, (0.0, _FLANK * radius), order=1, mode="nearest")
    right = ndimage.shift(flank, (0.0, -_FLANK * radius), order=1, mode="nearest")
    return np.maximum(np.minimum(left, right) - centre, 0.0)


def _strongest(response: np.ndarray, guess: np.ndarray, radius: float) -> np.ndarray:
    """``(x, y)`` of the largest ``response`` within ``radius`` of ``guess``, to a fraction of a pixel.

    Every point of the disc counts alike: weighting by the distance from the guess would pull the eye back
    towards the guess, which is where the previous, lash-biased estimate put it. The fraction of a pixel is the
    vertex of a parabola through the peak and its two neighbours along each axis (at most half a pixel away).
    """
    rows, cols = np.mgrid[: response.shape[0], : response.shape[1]]
    near = np.hypot(cols - guess[0], rows - guess[1]) <= radius
    row, col = np.unravel_index(np.argmax(np.where(near, response, -np.inf)), response.shape)
    peak = np.array([col, row], dtype=np.float64)
    for axis, profile, index in ((0, response[row], col), (1, response[:, col], row)):
        if 0 < index < len(profile) - 1:
            before, at, after = profile[index - 1 : index + 2]
            curvature = before - 2.0 * at + after
            if curvature < 0:
                peak[axis] += float(np.clip(0.5 * (before - after) / curvature, -0.5, 0.5))
    return peak


def _refine(work: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The eyes in the canonical-frame image ``work``, each the iris nearest its canonical position ``target``.

    ``target`` and the result have shape ``(2, 2)`` ``(x, y)``, pixels of ``work``; each eye is searched within
    0.15 eye distances of its target (:func:`_iris_contrast`, :func:`_strongest`).
    """
    distance = float(np.hypot(*(target[1] - target[0])))
    response = _iris_contrast(work, distance)
    return np.stack([_strongest(response, point, 0.15 * distance) for point in target])


def _verified(gray: np.ndarray, group: list[tuple[float, float, float, float]], prior: EyePrior):
    """A face's eyes, ``(evidence, eyes, box, angle)``, or ``None`` below :data:`MIN_FACE_EVIDENCE`.

    Each detection of the face proposes its best eye pair. Every proposal is scored again in a level box of its own
    (:func:`_level_score`), and the face is the proposal that scores highest there. Near-identical proposals are
    scored each, not once per pair: the level box's sub-pixel placement moves the blobs' strengths, and two
    proposals of one pair 0.3 px apart scored 0.93 and 0.58 on a 64-px fear render with 1 cm brows (the one tried
    first, the most supported, was the 0.58). The boxes' vote
    alone does not decide: the cascade finds an upright face under the ±15° and ±30° turns too, and in a box
    turned by 15–30° one raised brow and the other side's eye are a level pair — measured on a palsy patient's
    surprise render (brows raised unequally, eyes widened), three turned boxes agreed on a brow and an eye
    (support 0.99) against the upright box's true pair (0.73); in level boxes the brow and eye score 0.63 (their
    windows are not mirror images), the true pair 0.92.
    """
    if len(group) < MIN_BOXES:
        return None
    proposals = []
    for x, y, side, angle in group:
        to_patch = _box_matrix(x, y, side, angle)
        found = _eye_pair(_warp(gray, to_patch, _PATCH), prior)
        if found is not None:
            proposals.append((found[1], _apply(np.linalg.inv(to_patch), found[0]), (x, y, side), angle))

    best = None
    for proposal in proposals:
        scored = _level_score(gray, proposal[1], prior)
        if scored is not None and (best is None or scored[0] > best[0]):
            best = (*scored, *proposal[2:])
    return best if best is not None and best[0] >= MIN_FACE_EVIDENCE else None


def _level_score(gray: np.ndarray, eyes: np.ndarray, prior: EyePrior) -> tuple[float, np.ndarray] | None:
    """``(score, eyes)`` of the pair ``eyes`` (``(2, 2)`` photograph pixels) in a level box centred on it.

    Scored in a box of its own, level and centred on its eyes, so that any pair is judged in one frame. The box of
    a detection can make a nearby dark pair win (the lash lines just above a wide-open eye's irises); in the level
    box the eyes themselves then win and the box is centred on them in turn, until the pair it is centred on is
    the pair it finds (at most :data:`_VERIFY_STEPS` times, else ``None``: the pair is unstable).
    """
    target = np.array([[0.5 - prior.distance / 2, prior.height], [0.5 + prior.distance / 2, prior.height]]) * _PATCH
    for _ in range(_VERIFY_STEPS):
        to_patch = _similarity(eyes, target)
        found = _eye_pair(_warp(gray, to_patch, _PATCH), prior)
        if found is None:
            return None
        if np.max(np.hypot(*(found[0] - target).T)) <= 0.15 * prior.distance * _PATCH:
            return found[1], eyes
        eyes = _apply(np.linalg.inv(to_patch), found[0])
    return None


def _failed(reason: str, n_faces: int, size: int, box=(np.nan, np.nan, np.nan), angle=np.nan) -> FaceAlignment:
    return FaceAlignment(
        reason=reason,
        n_faces=n_faces,
        box=box,
        search_angle=angle,
        eyes=np.full((2, 2), np.nan),
        roll=np.nan,
        matrix=np.full((3, 3), np.nan),
        size=size,
        outside=np.nan,
    )


def align_face(
    image: np.ndarray, size: int, *, prior: EyePrior | None = None, max_outside: float = 0.25
) -> FaceAlignment:
    """Find the one face of a photograph and the transform that puts it into the canonical frame.

    Parameters
    ----------
    image
        Shape ``(C, H, W)``, floats in [0, 1] (:func:`facesym.cohort.images.read_image`).
    size
        Side of the aligned crop, pixels.
    prior
        Where the eyes sit in a detection box; the default fits the bundled cascade.
    max_outside
        Largest fraction of the crop that may lie outside the photograph.

    Returns
    -------
    FaceAlignment
        With an empty ``reason`` when usable; :meth:`FaceAlignment.crop` makes the aligned image.
    """
    prior = prior or EyePrior()
    gray = to_gray(image)
    boxes = detect_faces(gray)
    faces = [found for found in (_verified(gray, group, prior) for group in boxes) if found is not None]
    if faces:
        largest = max(face[2][2] for face in faces)
        faces = [face for face in faces if face[2][2] >= SMALLER_FACES * largest]
    if not faces:
        unverified = (
            f" ({len(boxes)} candidate{'s' if len(boxes) != 1 else ''} without a convincing pair of eyes)"
            if boxes
            else ""
        )
        return _failed(f"no face found{unverified}", 0, size)
    if len(faces) > 1:
        return _failed(f"{len(faces)} faces found", len(faces), size)
    _, eyes, box, angle = faces[0]
    frame = canonical_frame()
    target = frame.eye_pixels(_WORK)
    first_guess = eyes
    for _ in range(_REFINE_STEPS):
        to_work = _similarity(eyes, target)
        eyes = _apply(np.linalg.inv(to_work), _refine(_warp(gray, to_work, _WORK), target))
    matrix = _similarity(eyes, frame.eye_pixels(size))
    dx, dy = eyes[1] - eyes[0]
    roll = float(np.degrees(np.arctan2(-dy, dx)))
    distance = float(np.hypot(dx, dy))
    outside = _outside_fraction(matrix, gray.shape, size)
    middle = eyes.mean(axis=0)
    problems = []
    if abs(roll) > MAX_ROLL:
        problems.append(f"roll {roll:.0f}° beyond ±{MAX_ROLL:.0f}°")
    if not 0.25 <= distance / box[2] <= 0.7:
        problems.append(f"eye distance {distance / box[2]:.2f} of the face box (expected 0.25–0.7)")
    if np.hypot(*(middle - box[:2])) > 0.3 * box[2]:
        problems.append("eyes off the face box's centre")
    moved = float(np.max(np.hypot(*(eyes - first_guess).T)))
    if moved > 0.25 * distance:
        problems.append(f"eyes moved {moved / distance:.2f} eye distances while refining")
    if outside > max_outside:
        problems.append(f"{outside:.0%} of the crop outside the photograph (at most {max_outside:.0%})")
    return FaceAlignment(
        reason="implausible alignment: " + "; ".join(problems) if problems else "",
        n_faces=1,
        box=tuple(float(v) for v in box),
        search_angle=float(angle),
        eyes=eyes,
        roll=roll,
        matrix=matrix,
        size=size,
        outside=outside,
    )


def _outside_fraction(matrix: np.ndarray, shape: tuple[int, int], size: int) -> float:
    """Fraction of a ``size``-pixel crop whose pixels map outside a photograph of ``shape`` ``(H, W)``."""
    cols, rows = np.meshgrid(np.arange(size, dtype=np.float64), np.arange(size, dtype=np.float64))
    points = _apply(np.linalg.inv(matrix), np.stack([cols.ravel(), rows.ravel()], 1))
    inside = (
        (points[:, 0] >= -0.5)
        & (points[:, 0] <= shape[1] - 0.5)
        & (points[:, 1] >= -0.5)
        & (points[:, 1] <= shape[0] - 0.5)
    )
    return float(1.0 - inside.mean())


def mouth_asymmetry(crops: np.ndarray) -> np.ndarray:
    """Tilt of the mouth against the (level) eye line in aligned crops, as a fraction of the eye distance.

    In the band of the crop around the canonical mouth, the dark structures of the mouth (lip line, lip edges,
    an open mouth) are weighted by their darkness response; the response-weighted mean height of the half left
    of the midline is compared with that of the right half.

    Parameters
    ----------
    crops
        Aligned faces, shape ``(B, C, S, S)``, floats in [0, 1] (canonical frame, any side ``S`` ≥ 32).

    Returns
    -------
    numpy.ndarray
        Shape ``(B,)``, float64: ``|height left − height right| / eye distance``, 0 for a level mouth; NaN when a
        half shows no dark structure at all.
    """
    frame = canonical_frame()
    crops = np.asarray(crops)
    size = crops.shape[-1]
    factor = _WORK / size
    eyes, mouth = frame.eye_pixels(_WORK), frame.mouth_pixels(_WORK)
    distance = float(np.hypot(*(eyes[1] - eyes[0])))
    rows, cols = np.mgrid[:_WORK, :_WORK].astype(np.float64)
    band = (np.abs(rows - mouth[1]) <= 0.3 * distance) & (np.abs(cols - mouth[0]) <= 0.6 * distance)
    halves = (band & (cols < mouth[0] - 1), band & (cols > mouth[0] + 1))
    values = np.empty(len(crops), dtype=np.float64)
    for index, crop in enumerate(crops):
        gray = to_gray(crop)
        work = transform.rescale(gray, factor, anti_aliasing=factor < 1) if factor != 1 else gray
        response = _darkness(work[:_WORK, :_WORK])
        heights = []
        for half in halves:
            weight = np.where(half, response, 0.0)
            heights.append((weight * rows).sum() / weight.sum() if weight.sum() > 0 else np.nan)
        values[index] = abs(heights[0] - heights[1]) / distance
    return values
