"""Albedo from appearance coefficients α: a palette per face region, mixed by soft per-vertex region masks.

Every α entry is a standard-normal draw; each moves one plausible property (skin tone, hair colour, …) through
a palette via the normal CDF, so N(0, 1) draws cover the palette evenly and extreme draws stay plausible.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

__all__ = ["REGIONS", "APPEARANCE_NAMES", "PaletteAppearance", "SkinShift", "SKIN_TEXTURE", "TEXTURED_REGIONS",
           "skin_texture"]

REGIONS = ("skin", "blush", "periorbital", "crease", "lips", "lipline", "brows", "hair", "hairline_low",
           "hairline_high", "lashes", "nostrils", "sclera", "iris", "limbus", "pupil", "teeth", "mouth", "tongue",
           "neck")
"""Face regions with their own colour; a vertex mixes them with weights summing to one."""

APPEARANCE_NAMES = ("skin_tone", "skin_hue", "hair_color", "iris_color", "lip_color", "brow_darkness",
                    "blush", "hairline")
"""What each appearance coefficient controls, in order; a model uses the first ``n_appearance`` of them."""

SkinShift = tuple[tuple[float, float, float], torch.Tensor]
"""``(target RGB, amount (B,))``: the skin colour moved by ``amount`` in [0, 1] of the way to ``target``."""

SKIN_TEXTURE = ((10.0, 25.0, 0.04), (4.0, 8.0, 0.025))
"""Octaves of the skin's albedo variation: (shortest, longest wavelength in mm, relative standard deviation).
Mottling (uneven pigmentation and blood flow, patches of 1–2.5 cm) varies the reflectance by a few per cent; the
finer octave, 4–8 mm, is the coarsest grain of pores and follicles a 48–64 px face (3–4 mm per pixel) can show;
single pores (0.1–0.3 mm) are far below a pixel there."""

TEXTURED_REGIONS = ("skin", "blush", "periorbital", "crease", "lips", "lipline", "nostrils", "hairline_low",
                    "hairline_high", "neck")
"""Regions whose albedo carries :data:`SKIN_TEXTURE` (skin-coloured; hair, brows, eyes and the mouth's inside do
not)."""

_WAVES = 48  # plane waves per octave: a sum of this many random waves is close to a Gaussian field


@lru_cache(maxsize=8)
def _texture_basis(key: bytes) -> torch.Tensor:
    """Cosine and sine of every octave's waves at the vertices, ``(N, 2 · octaves · _WAVES)``, each octave scaled to
    its standard deviation. The waves are a property of the model (fixed seed); identities differ in weights."""
    positions = torch.from_numpy(np.frombuffer(key, dtype=np.float32).reshape(-1, 2).copy())
    rng = np.random.default_rng(20241208)
    columns = []
    for shortest, longest, sd in SKIN_TEXTURE:
        angle = rng.uniform(0.0, 2.0 * math.pi, _WAVES)
        wavenumber = 2.0 * math.pi / rng.uniform(shortest, longest, _WAVES)
        k = torch.tensor(np.stack([wavenumber * np.cos(angle), wavenumber * np.sin(angle)]), dtype=torch.float32)
        arg = positions @ k
        # Weights ~ N(0, 1) on cos and sin of every wave: variance sd² at every point.
        columns += [torch.cos(arg) * (sd / math.sqrt(_WAVES)), torch.sin(arg) * (sd / math.sqrt(_WAVES))]
    return torch.cat(columns, dim=1)


def _texture_seed(alpha_row: np.ndarray) -> int:
    digest = hashlib.sha256(np.ascontiguousarray(alpha_row, dtype=np.float32).tobytes()).digest()
    return int.from_bytes(digest[:8], "little")


def skin_texture(alpha: torch.Tensor, positions_mm: torch.Tensor) -> torch.Tensor:
    """Relative albedo variation of each identity's skin, shape ``(B, N)``, mean about 0.

    Every octave of :data:`SKIN_TEXTURE` is a sum of ``_WAVES`` plane waves with random directions and wavelengths
    in the octave (the same for every identity) and standard-normal weights on their cosines and sines (each
    identity's own): a stationary, nearly Gaussian field with the octave's standard deviation. The weights are
    drawn from a generator seeded with a hash of the identity's α (its float32 bytes), so one identity always has
    the same skin and no global random state is touched.

    Parameters
    ----------
    alpha
        Appearance coefficients, shape ``(B, n_appearance)``.
    positions_mm
        Texture coordinates of the vertices on the skin, shape ``(N, 2)``, millimetres (the rest shape's x and y:
        the texture moves with the skin).
    """
    positions = positions_mm.detach().to("cpu", torch.float32).contiguous().numpy()
    basis = _texture_basis(positions.tobytes())
    rows = alpha.detach().to("cpu", torch.float32).numpy()
    weights = np.stack([np.random.default_rng(_texture_seed(row)).standard_normal(basis.shape[1]) for row in rows])
    return (torch.from_numpy(weights.astype(np.float32)) @ basis.T).to(positions_mm.device)


# Palettes: (position in [0, 1], RGB). Skin from fair to dark; hair from black to blond; iris from dark brown
# to blue.
_SKIN = ((0.0, (0.96, 0.80, 0.70)), (0.25, (0.90, 0.70, 0.58)), (0.5, (0.80, 0.58, 0.45)),
         (0.75, (0.60, 0.40, 0.29)), (1.0, (0.36, 0.23, 0.16)))
_HAIR = ((0.0, (0.06, 0.05, 0.05)), (0.4, (0.20, 0.13, 0.08)), (0.7, (0.42, 0.28, 0.16)),
         (0.9, (0.66, 0.52, 0.32)), (1.0, (0.82, 0.70, 0.48)))
_IRIS = ((0.0, (0.16, 0.09, 0.05)), (0.45, (0.33, 0.20, 0.09)), (0.65, (0.40, 0.36, 0.17)),
         (0.82, (0.28, 0.40, 0.28)), (1.0, (0.30, 0.45, 0.62)))
_DARK = (0.07, 0.05, 0.04)


def _palette(points: tuple[tuple[float, tuple[float, float, float]], ...], p: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear palette lookup: ``p`` of shape ``(B,)`` in [0, 1] → RGB ``(B, 3)``."""
    pos = torch.tensor([q for q, _ in points], dtype=p.dtype, device=p.device)
    rgb = torch.tensor([c for _, c in points], dtype=p.dtype, device=p.device)
    idx = torch.bucketize(p.clamp(0.0, 1.0), pos[1:-1])
    frac = ((p - pos[idx]) / (pos[idx + 1] - pos[idx])).clamp(0.0, 1.0)[:, None]
    return rgb[idx] * (1.0 - frac) + rgb[idx + 1] * frac


def _cdf(z: torch.Tensor) -> torch.Tensor:
    return 0.5 * (1.0 + torch.erf(z / math.sqrt(2.0)))


@dataclass(frozen=True)
class PaletteAppearance:
    """Region masks + palettes.

    Attributes
    ----------
    masks
        Region weights per vertex, shape ``(N, len(REGIONS))``, rows summing to one.
    n_appearance
        Number of α coefficients used (at most ``len(APPEARANCE_NAMES)``); missing ones are 0.
    occlusion
        Ambient occlusion per vertex, shape ``(N,)`` in (0, 1], multiplied into the albedo (soft shadowing of
        creases and cavities, baked from the rest shape); ``None`` = none.
    texture_mm
        Texture coordinates per vertex, shape ``(N, 2)``, millimetres: the skin-coloured regions
        (:data:`TEXTURED_REGIONS`) get each identity's :func:`skin_texture`; ``None`` = flat skin.
    """

    masks: torch.Tensor
    n_appearance: int
    occlusion: torch.Tensor | None = None
    texture_mm: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.n_appearance <= len(APPEARANCE_NAMES):
            raise ValueError(f"n_appearance must be in [0, {len(APPEARANCE_NAMES)}], got {self.n_appearance}")

    def to(self, device: torch.device | str) -> PaletteAppearance:
        occlusion = None if self.occlusion is None else self.occlusion.to(device)
        texture = None if self.texture_mm is None else self.texture_mm.to(device)
        return PaletteAppearance(self.masks.to(device), self.n_appearance, occlusion, texture)

    def region_colors(self, alpha: torch.Tensor, skin_shift: SkinShift | None = None) -> torch.Tensor:
        """Colour of every region, shape ``(B, len(REGIONS), 3)``, for α of shape ``(B, n_appearance)``.

        ``skin_shift`` moves the skin colour towards another before the regions derived from it (cheeks,
        periorbital skin, creases, nostrils, lips, the hairline's skin share, neck) are made from it, so they
        follow it as they follow α's skin tone.
        """
        a = torch.nn.functional.pad(alpha.to(torch.float32), (0, len(APPEARANCE_NAMES) - alpha.shape[1]))
        tone, hue, hair_a, iris_a, lip_a, brow_a, blush_a, hairline_a = a.unbind(1)
        skin = _palette(_SKIN, _cdf(tone))
        h = 0.05 * torch.tanh(hue / 2.0)
        skin = skin * torch.stack([1.0 + h, 1.0 - 0.2 * h, 1.0 - h], dim=1)
        if skin_shift is not None:
            target, amount = skin_shift
            target = torch.as_tensor(target, dtype=skin.dtype, device=skin.device)
            skin = skin + amount.to(skin)[:, None] * (target - skin)
        # Darker skin goes with darker hair and eyes more often than not.
        hair = _palette(_HAIR, _cdf((hair_a - tone) / math.sqrt(2.0)))
        iris = _palette(_IRIS, _cdf((iris_a - tone) / math.sqrt(2.0)))
        dark = torch.tensor(_DARK, dtype=skin.dtype, device=skin.device).expand_as(skin)
        # The red of the lips is redder and darker than the skin around it: about 12 units lower in CIE L* and
        # higher in a* in colorimetric studies of lips against perioral skin, about 0.57 of the skin's luminance.
        lip_tint = torch.tensor([0.78, 0.47, 0.50], device=skin.device)
        lips = skin * lip_tint * (1.0 + 0.1 * torch.tanh(lip_a / 2.0))[:, None]
        k = (0.55 + 0.25 * torch.tanh(brow_a / 2.0))[:, None]
        brows = hair * (1.0 - k) + dark * k
        b = (1.0 + 0.5 * torch.tanh(blush_a / 2.0))[:, None]
        blush = skin * (1.0 + b * torch.tensor([0.03, -0.10, -0.08], device=skin.device))
        # Periorbital skin: about 6 L* units darker than the cheek, browner and a little violet.
        periorbital = skin * torch.tensor([0.86, 0.80, 0.82], device=skin.device)

        # The hairline's height: a band below the mean hairline is hair for the lowest sixth of people (z > 1), the
        # band above it skin for the highest sixth (z < −1); soft over about 0.2 SD.
        low = torch.sigmoid((hairline_a - 1.0) / 0.1)[:, None]
        high = torch.sigmoid((hairline_a + 1.0) / 0.1)[:, None]

        def const(rgb: tuple[float, float, float]) -> torch.Tensor:
            return torch.tensor(rgb, dtype=skin.dtype, device=skin.device).expand_as(skin)

        colors = {
            "skin": skin, "blush": blush, "periorbital": periorbital, "crease": skin * 0.78, "lips": lips,
            "lipline": lips * 0.45,
            "brows": brows, "hair": hair, "hairline_low": skin + (hair - skin) * low,
            "hairline_high": skin + (hair - skin) * high, "lashes": dark, "nostrils": skin * 0.22,
            "sclera": const((0.86, 0.82, 0.78)), "iris": iris, "limbus": iris * 0.45,
            "pupil": const((0.03, 0.03, 0.03)),
            "teeth": const((0.93, 0.90, 0.80)), "mouth": const((0.22, 0.06, 0.06)),
            "tongue": const((0.66, 0.30, 0.30)), "neck": skin,
        }
        return torch.stack([colors[name] for name in REGIONS], dim=1).clamp(0.0, 1.0)

    def albedo(self, alpha: torch.Tensor, skin_shift: SkinShift | None = None) -> torch.Tensor:
        """Per-vertex albedo, shape ``(B, N, 3)`` in [0, 1]; ``skin_shift`` as in :meth:`region_colors`."""
        colors = self.region_colors(alpha, skin_shift).to(self.masks.device)
        albedo = self.masks @ colors  # (N, R) @ (B, R, 3): contiguous (B, N, 3), no copy for the renderer
        if self.texture_mm is not None:
            skin = self.masks[:, [REGIONS.index(name) for name in TEXTURED_REGIONS]].sum(1)
            variation = skin_texture(alpha, self.texture_mm).to(albedo.device) * skin
            albedo.mul_((1.0 + variation)[..., None]).clamp_(0.0, 1.0)
        if self.occlusion is not None:
            albedo.mul_(self.occlusion[:, None])
        return albedo
