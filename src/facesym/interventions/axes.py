"""Intervention axes: each changes ONE property of the rendered scene with a scalar ``a`` in [0, 1].

The paper intervenes on symmetry only (its closing line names age and skin colour as extensions; its limitations
name camera angle and synkinesis). An axis here is a named function of ``a`` that changes one property of an
identity's scene while everything else (identity, expression φ, onset t, camera, light, albedo) stays fixed, with
``a = 1`` the reference face, bit for bit: the image the paper's grid shows at ``s = 1``. The onset ``t`` stays the
second grid axis, so an axis value takes the place of ``s`` in the surfaces, scores and tests: ``a`` falls from
the reference (1) to the strongest change (0), and a positive score means the output rises towards the reference.

Axes (:data:`AXES`):

- ``symmetry_left`` — the paper's intervention: the subject's left half moves at ``a·t`` (Eq. 3).
- ``symmetry_right`` — its mirror: the right half moves at ``a·t``. With a mirror-symmetric face model, light and
  renderer, the two differ only through the classifier; a difference is a side effect, not an asymmetry effect.
- ``intensity`` — both halves at ``t·(1 + a)/2``: the intensity-matched control (the sham) of the statistics
  (:meth:`facesym.face.MorphableModel.vertices` with ``intensity_matched``), the same loss of movement as the
  symmetry axes without the asymmetry.
- ``palsy_upper`` / ``palsy_lower`` — the left half frozen above / below the eye line only. Central facial palsy
  spares the forehead (the upper face has bilateral cortical input), so ``palsy_lower`` is a central palsy; the
  paper's ``symmetry_left`` freezes the whole half, a peripheral palsy. The boundary is a smooth band around
  the pupils' height (:data:`EYE_BAND_MM`).
- ``synkinesis`` — oral-ocular synkinesis after facial-nerve regeneration: on the left half, the eye narrows
  (AU6 cheek raiser, AU7 lid tightener) involuntarily with mouth movement, by ``(1 − a)·gain`` times the
  strongest mouth action unit (AU12, AU20, AU25), clipped to the FACS maximum.
- ``yaw`` / ``pitch`` — the head turned about its root joint by ``(1 − a)·max`` degrees (camera angle relative to
  the face; positive yaw turns the face towards the subject's left, positive pitch lifts the chin).
- ``light_direction`` — the light's azimuth turned by ``(1 − a)·max`` degrees towards the subject's left, its
  elevation and levels kept.
- ``skin_tone`` — the skin's albedo moved towards Fitzpatrick type VI reflectance (:data:`DARKEST_SKIN`) by
  ``1 − a``, and with it every region whose colour the appearance model derives from the skin's (cheeks,
  periorbital skin, creases, nostrils, the lips' red, the hairline's skin share, neck); hair, brows, lashes, eyes,
  teeth and the mouth's inside keep theirs. A linear blend in albedo, not a spectral skin model.

**Age is not offered.** The procedural face model has no age-dependent component: its identity basis holds shape
differences between adults, its albedo has no wrinkles, skin laxity, nasolabial deepening or sagging, and no
craniofacial growth model; scaling shape alone would be a caricature, not an older or younger face. An age axis
needs a model fitted to faces of known age (e.g. a FLAME age regressor), which the embedded default does not have.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import torch

from facesym.face import MorphableModel
from facesym.face.appearance import PaletteAppearance
from facesym.face.model import MM_PER_UNIT
from facesym.interventions.scene import Scene
from facesym.render import render
from facesym.render.shading import LIGHT_DIM, rotate_lighting

__all__ = [
    "AXES",
    "AXIS_DEFAULTS",
    "DARKEST_SKIN",
    "EYE_BAND_MM",
    "AxisScene",
    "axis_names",
    "axis_settings",
    "interventions_from_config",
    "vertical_weight",
]

DARKEST_SKIN = (0.26, 0.17, 0.12)
"""Albedo (linear RGB) towards which ``skin_tone`` moves the skin at ``a = 0``: roughly the diffuse reflectance of
Fitzpatrick type VI skin (very dark brown), an approximation, not a measured spectrum."""

EYE_BAND_MM = 10.0
"""Width of the band around the eye line across which ``palsy_upper`` / ``palsy_lower`` change from frozen to free,
millimetres."""

AXIS_DEFAULTS: dict[str, dict[str, float]] = {
    "symmetry_left": {},
    "symmetry_right": {},
    "intensity": {},
    "palsy_upper": {},
    "palsy_lower": {},
    "synkinesis": {"gain": 0.8},
    "yaw": {"max_degrees": 30.0},
    "pitch": {"max_degrees": 20.0},
    "light_direction": {"max_degrees": 60.0},
    "skin_tone": {},
}
"""Every axis with its settings and their defaults (the config's ``interventions`` ranges override them)."""

SYNKINESIS_SOURCES = ("AU12", "AU20", "AU25")
"""Mouth action units whose movement drives the involuntary eye narrowing."""

SYNKINESIS_TARGETS = ("AU6", "AU7")
"""Action units co-activated on the affected side."""


def axis_names() -> list[str]:
    """Names of all axes, in :data:`AXIS_DEFAULTS` order."""
    return list(AXIS_DEFAULTS)


def axis_settings(name: str, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """The axis' settings: its defaults updated with ``overrides``; unknown axes or settings are errors."""
    if name not in AXIS_DEFAULTS:
        raise ValueError(f"unknown intervention axis {name!r}; known: {', '.join(AXIS_DEFAULTS)}")
    settings = dict(AXIS_DEFAULTS[name])
    for key, value in (overrides or {}).items():
        if key not in settings:
            raise ValueError(f"intervention axis {name!r} has no setting {key!r}; it has: {sorted(settings) or 'none'}")
        settings[key] = float(value)
    return settings


def interventions_from_config(items: Sequence[str | Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """The config's ``interventions`` (names, or ``{axis: name, setting: value}``) as name -> settings, in order.

    Raises
    ------
    ValueError
        An unknown axis or setting, or an axis listed twice; the message names the config key.
    """
    out: dict[str, dict[str, float]] = {}
    for item in items:
        name = item if isinstance(item, str) else str(item["axis"])
        overrides = {} if isinstance(item, str) else {k: v for k, v in item.items() if k != "axis"}
        if name in out:
            raise ValueError(f"config key 'interventions' lists the axis {name!r} twice")
        try:
            out[name] = axis_settings(name, overrides)
        except ValueError as error:
            raise ValueError(f"config key 'interventions': {error}") from None
    return out


def vertical_weight(model: MorphableModel, part: str) -> torch.Tensor:
    """Per-vertex weight of the upper or lower face, shape ``(N,)``, in [0, 1].

    A smoothstep across :data:`EYE_BAND_MM` centred on the pupils' mean height; ``"upper"`` and ``"lower"`` sum
    to 1 at every vertex. Needs the model's ``"pupil"`` region (the procedural model has it).
    """
    if "pupil" not in model.regions:
        raise ValueError(f"the {model.name} face model has no 'pupil' region: palsy_upper / palsy_lower need one")
    pupil = model.regions["pupil"] > 0.5
    eye_line = model.template[pupil, 1].mean()
    band = EYE_BAND_MM / MM_PER_UNIT
    u = ((model.template[:, 1] - eye_line) / band + 0.5).clamp(0.0, 1.0)
    upper = u * u * (3.0 - 2.0 * u)
    if part == "upper":
        return upper
    if part == "lower":
        return 1.0 - upper
    raise ValueError(f"part must be 'upper' or 'lower', got {part!r}")


def _rotation(angle: torch.Tensor, axis: int) -> torch.Tensor:
    """Rotation matrices about the x (0) or y (1) axis, shape ``(B, 3, 3)``, for angles ``(B,)`` in radians."""
    c, s = torch.cos(angle), torch.sin(angle)
    one, zero = torch.ones_like(angle), torch.zeros_like(angle)
    if axis == 0:
        rows = [[one, zero, zero], [zero, c, -s], [zero, s, c]]
    else:
        rows = [[c, zero, s], [zero, one, zero], [-s, zero, c]]
    return torch.stack([torch.stack(row, dim=-1) for row in rows], dim=-2)


@dataclass
class AxisScene(Scene):
    """A :class:`Scene` whose ``images(phi, s, t)`` reads ``s`` as the value ``a`` of one intervention axis.

    It plugs into :func:`facesym.interventions.surfaces.logit_surfaces` unchanged: the grid's first axis becomes
    the axis value. Build it with :meth:`of`.

    Attributes
    ----------
    axis
        The axis name, one of :data:`AXIS_DEFAULTS`.
    settings
        The axis' settings (:func:`axis_settings`).
    """

    axis: str = "symmetry_left"
    settings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, scene: Scene, axis: str, overrides: Mapping[str, float] | None = None) -> AxisScene:
        """The scene of ``scene``'s identity under ``axis``, with the axis' settings updated by ``overrides``."""
        base = {f.name: getattr(scene, f.name) for f in fields(Scene)}
        return cls(**base, axis=axis, settings=axis_settings(axis, overrides))

    def images(
        self,
        phi: torch.Tensor | np.ndarray,
        s: torch.Tensor | np.ndarray,
        t: torch.Tensor | np.ndarray,
        *,
        intensity_matched: bool = False,
    ) -> torch.Tensor:
        """Render the identity with expression ``phi`` at axis value ``s`` (= ``a``) and onset ``t``.

        Parameters
        ----------
        phi
            Expression parameters, shape ``(B, n_expression)``.
        s, t
            Axis value ``a`` and onset, in ``[0, 1]``, shape ``(B,)`` each (or scalars).
        intensity_matched
            Not meaningful for an axis (the intensity control is the ``intensity`` axis); must be False.

        Returns
        -------
        torch.Tensor
            Images ``(B, C, size, size)``, float in ``[0, 1]``; at ``a = 1`` bit-identical to
            ``Scene.images(phi, 1, t)``.
        """
        if intensity_matched:
            raise ValueError("an intervention axis has no intensity-matched variant: use the 'intensity' axis")
        vertices, colors, lighting = self.state(phi, s, t)
        return render(
            vertices,
            self.model.triangles,
            colors,
            size=self.size,
            lighting=lighting,
            color=self.color,
            backend=self.backend,
            device=self.device,
            camera=getattr(self.model, "camera", None),
        )

    def state(
        self, phi: torch.Tensor | np.ndarray, a: torch.Tensor | np.ndarray | float, t: torch.Tensor | np.ndarray | float
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """What the renderer receives at axis value ``a``: the part of the scene the axis may change.

        Returns
        -------
        vertices : torch.Tensor, shape (B, N, 3)
            Model units.
        colors : torch.Tensor, shape (N, 3) or (B, N, 3)
            Albedo in [0, 1].
        lighting : torch.Tensor, shape (27,) or (B, 27)
            See :func:`facesym.render.lighting_from_coefficients`.
        """
        phi = torch.as_tensor(phi, dtype=torch.float32, device=self.device)
        batch = phi.shape[0]
        a = torch.as_tensor(a, dtype=torch.float32, device=self.device).expand(batch)
        t = torch.as_tensor(t, dtype=torch.float32, device=self.device).expand(batch)
        return _AXES[self.axis](self, phi, a, t)

    # ------------------------------------------------------------------ the geometry of the reference
    def _reference(self, phi: torch.Tensor, t: torch.Tensor, affected: torch.Tensor | None = None,
                   a: torch.Tensor | None = None) -> torch.Tensor:
        symmetry = torch.ones_like(t) if a is None else a
        return self.model.vertices(self.beta[None], phi, symmetry, t, affected=affected)


Axis = Callable[[AxisScene, torch.Tensor, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]
"""``(scene, phi (B, d), a (B,), t (B,)) -> (vertices (B, N, 3), albedo (N, 3) or (B, N, 3), light (27,) or
(B, 27))``."""


def _symmetry_left(scene: AxisScene, phi: torch.Tensor, a: torch.Tensor, t: torch.Tensor):
    return scene._reference(phi, t, a=a), scene.colors, scene.lighting


def _intensity(scene: AxisScene, phi: torch.Tensor, a: torch.Tensor, t: torch.Tensor):
    # the statistics' intensity-matched control (the sham): both halves at t·(1 + a)/2
    vertices = scene.model.vertices(scene.beta[None], phi, a, t, intensity_matched=True)
    return vertices, scene.colors, scene.lighting


def _symmetry_right(scene: AxisScene, phi: torch.Tensor, a: torch.Tensor, t: torch.Tensor):
    right = 1.0 - scene.model.left_weight
    return scene._reference(phi, t, affected=right, a=a), scene.colors, scene.lighting


def _palsy(part: str) -> Axis:
    def palsy(scene: AxisScene, phi: torch.Tensor, a: torch.Tensor, t: torch.Tensor):
        weight = scene.model.left_weight * vertical_weight(scene.model, part)
        return scene._reference(phi, t, affected=weight, a=a), scene.colors, scene.lighting

    return palsy


def _synkinesis(scene: AxisScene, phi: torch.Tensor, a: torch.Tensor, t: torch.Tensor):
    model = scene.model
    names = model.expression_names
    missing = [au for au in SYNKINESIS_SOURCES + SYNKINESIS_TARGETS if au not in names]
    if missing:
        raise ValueError(f"the {model.name} face model has no action units {missing}: synkinesis needs FACS units")
    mouth = phi[:, [names.index(au) for au in SYNKINESIS_SOURCES]].amax(dim=1)
    targets = [names.index(au) for au in SYNKINESIS_TARGETS]
    high = model.expression_box(1.0)[1][targets]
    extra = torch.zeros_like(phi)
    wanted = phi[:, targets] + ((1.0 - a) * scene.settings["gain"] * mouth)[:, None]
    extra[:, targets] = torch.minimum(wanted, torch.as_tensor(high, dtype=phi.dtype)) - phi[:, targets]
    vertices = scene._reference(phi, t)
    # The eye region does not follow the jaw joint, so the co-activation's offsets add after posing exactly.
    coactivation = model.expression_offsets(extra) * (t[:, None] * model.left_weight[None, :])[..., None]
    moved = vertices + coactivation
    if hasattr(model, "lid_contact"):  # the raised lower lid meets the upper one as in model.vertices
        moved = model.lid_contact(moved)
    return torch.where((a == 1.0)[:, None, None], vertices, moved), scene.colors, scene.lighting


def _turn(axis: int) -> Axis:
    def turn(scene: AxisScene, phi: torch.Tensor, a: torch.Tensor, t: torch.Tensor):
        from facesym.classifiers.data import turn_heads

        model = scene.model
        vertices = scene._reference(phi, t)
        angle = (1.0 - a) * math.radians(scene.settings["max_degrees"])
        # yaw about y (towards the subject's left, model +x when left_side is "+x"); pitch about x (chin up is -x)
        sign = (1.0 if model.left_side == "+x" else -1.0) if axis == 1 else -1.0
        rotation = torch.zeros(angle.shape[0], 3, dtype=vertices.dtype, device=vertices.device)
        rotation[:, axis] = sign * angle
        turned = turn_heads(model, vertices, rotation)
        return torch.where((a == 1.0)[:, None, None], vertices, turned), scene.colors, scene.lighting

    return turn


def _light_direction(scene: AxisScene, phi: torch.Tensor, a: torch.Tensor, t: torch.Tensor):
    angle = (1.0 - a) * math.radians(scene.settings["max_degrees"])
    if scene.model.left_side == "-x":
        angle = -angle
    light = scene.lighting.reshape(1, LIGHT_DIM).expand(a.shape[0], LIGHT_DIM)
    turned = rotate_lighting(light, _rotation(angle, 1))
    return scene._reference(phi, t), scene.colors, torch.where((a == 1.0)[:, None], light, turned)


def _skin_tone(scene: AxisScene, phi: torch.Tensor, a: torch.Tensor, t: torch.Tensor):
    appearance = scene.model.appearance
    if scene.alpha is None or not isinstance(appearance, PaletteAppearance):
        raise ValueError(
            f"skin_tone recomputes the albedo from the identity's appearance coefficients: the scene needs α "
            f"(build_scene sets it) and the {scene.model.name} face model a PaletteAppearance"
        )
    # The skin colour itself moves, so every region the appearance derives from it (cheeks, periorbital skin,
    # creases, nostrils, lips, the hairline's skin share, neck) follows, as it follows α's own skin tone.
    alpha = scene.alpha.to(scene.colors.device)[None].expand(a.shape[0], -1)
    colors = appearance.albedo(alpha, skin_shift=(DARKEST_SKIN, 1.0 - a)).to(scene.colors)
    colors = torch.where((a == 1.0)[:, None, None], scene.colors[None].expand_as(colors), colors)
    return scene._reference(phi, t), colors, scene.lighting


_AXES: dict[str, Axis] = {
    "symmetry_left": _symmetry_left,
    "intensity": _intensity,
    "symmetry_right": _symmetry_right,
    "palsy_upper": _palsy("upper"),
    "palsy_lower": _palsy("lower"),
    "synkinesis": _synkinesis,
    "yaw": _turn(1),
    "pitch": _turn(0),
    "light_direction": _light_direction,
    "skin_tone": _skin_tone,
}

AXES: tuple[str, ...] = tuple(AXIS_DEFAULTS)
"""Every axis name."""
