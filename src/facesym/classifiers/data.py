"""Synthetic training data for the embedded classifiers: renders of the face model showing the six emotions.

Every image is a new random person (identity β, appearance α and lighting drawn from a standard normal, like the
analysed identities but from a separate random stream, so training and analysed identities are disjoint) showing
one of the seven classes of :data:`~facesym.classifiers.embedded.EMBEDDED_CLASSES`:

- an emotion's EMFACS prototype (:data:`facesym.face.prototypes.PROTOTYPES`) at a random intensity, with each
  action unit jittered, a few small unrelated action units added, an expression onset ``t`` and a small
  head-pose jitter (a rotation of the whole head about the model's root joint);
- or a neutral face (only the small unrelated action units).

Faces are symmetric (``s = 1``) unless asymmetry augmentation is asked for, which draws ``s ~ U[0, 1]`` from a
stream of its own, so the augmented set shows exactly the same faces with only the symmetry changed. The half that
``s`` weakens is drawn per image (``sides="both"``: left or right with probability 1/2 each, so the control is a
control for asymmetry, not for one side) or fixed (``"left"``: the paper's side only; ``"right"``). Classes are
balanced and everything is deterministic given the random generators.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from facesym.classifiers.embedded import EMBEDDED_CLASSES
from facesym.emotions import NEUTRAL
from facesym.face import MorphableModel, build_procedural_model
from facesym.face.lbs import axis_angle_to_matrix
from facesym.face.model import MIDLINE_BAND_MM
from facesym.face.prototypes import prototype_phi
from facesym.render import lighting_from_coefficients, render

__all__ = ["AUGMENTATION_SIDES", "Variation", "FaceParameters", "sample_faces", "turn_heads", "render_faces",
           "affected_weights", "augmentation_sides", "training_face_model"]

AUGMENTATION_SIDES = ("both", "left", "right")
"""Which half asymmetry augmentation weakens: drawn per image, or always the left / right one."""


@dataclass(frozen=True)
class Variation:
    """How much the training faces vary beyond identity, appearance and lighting.

    Attributes
    ----------
    intensity : tuple of float
        Range of the prototype's overall intensity (uniform), in prototype units (1 = EMFACS prototype).
    onset : tuple of float
        Range of the expression onset ``t`` (uniform). Kept away from 0, where every emotion is neutral.
    au_jitter : float
        Relative standard deviation of each prototype action unit around the overall intensity.
    extra_au_rate : float
        Probability that any action unit outside the prototype is slightly active.
    extra_au_scale : float
        Standard deviation of a slightly active unit (half-normal, prototype units).
    head_pose : float
        Standard deviation of the head rotation about each axis, radians.
    """

    intensity: tuple[float, float] = (0.8, 1.3)
    onset: tuple[float, float] = (0.7, 1.0)
    au_jitter: float = 0.2
    extra_au_rate: float = 0.15
    extra_au_scale: float = 0.15
    head_pose: float = 0.04

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form, for the metrics file."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


@dataclass
class FaceParameters:
    """Everything that determines a batch of training images, one row per image.

    Attributes
    ----------
    labels : np.ndarray, shape (N,)
        Index into :data:`EMBEDDED_CLASSES`.
    beta : np.ndarray, shape (N, n_shape)
        Identity coefficients, standard-normal units.
    alpha : np.ndarray, shape (N, n_appearance)
        Appearance coefficients, standard-normal units.
    lighting : np.ndarray, shape (N, L)
        Lighting coefficients, standard-normal units (see :func:`facesym.render.lighting_from_coefficients`).
    phi : np.ndarray, shape (N, n_expression)
        Expression coefficients.
    t : np.ndarray, shape (N,)
        Expression onset in ``[0, 1]``.
    s : np.ndarray, shape (N,)
        Symmetry in ``[0, 1]``.
    right : np.ndarray, shape (N,), bool
        ``s`` weakens the subject's right half (otherwise the left half, the paper's).
    head_rotation : np.ndarray, shape (N, 3)
        Axis-angle rotation of the head about the model's root joint, radians.
    """

    labels: np.ndarray
    beta: np.ndarray
    alpha: np.ndarray
    lighting: np.ndarray
    phi: np.ndarray
    t: np.ndarray
    s: np.ndarray
    right: np.ndarray
    head_rotation: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def sample_faces(
    model: MorphableModel,
    images_per_class: int,
    rng: np.random.Generator,
    *,
    identity_dims: tuple[int, int, int],
    variation: Variation | None = None,
    symmetry_rng: np.random.Generator | None = None,
    sides: str = "both",
) -> FaceParameters:
    """Draw the parameters of a balanced set of training faces.

    Parameters
    ----------
    model : MorphableModel
        A model whose expression components are FACS action units (the procedural model).
    images_per_class : int
        Images of each of the seven classes.
    rng : np.random.Generator
        Source of every draw except the symmetry.
    identity_dims : tuple of int
        Drawn identity, appearance and lighting coefficients per face (the config's ``identities.shape_dim``,
        ``appearance_dim``, ``lighting_dim``), as for the analysed identities; model components beyond them
        stay at the mean.
    variation : Variation, optional
        Expression, onset and pose variation; default :class:`Variation`.
    symmetry_rng : np.random.Generator, optional
        If given, ``s ~ U[0, 1]`` from it (asymmetry augmentation), then the weakened half; otherwise every face
        has ``s = 1``.
    sides : {"both", "left", "right"}
        With ``symmetry_rng``: the weakened half is drawn per image (``"both"``) or always the left / right one.

    Returns
    -------
    FaceParameters
        ``7 * images_per_class`` faces, grouped by class in :data:`EMBEDDED_CLASSES` order.
    """
    variation = variation or Variation()
    n = len(EMBEDDED_CLASSES) * images_per_class
    labels = np.repeat(np.arange(len(EMBEDDED_CLASSES)), images_per_class)
    shape_dim, appearance_dim, lighting_dim = identity_dims
    beta = np.zeros((n, model.n_shape))
    alpha = np.zeros((n, model.n_appearance))
    beta[:, :shape_dim] = rng.standard_normal((n, min(shape_dim, model.n_shape)))
    alpha[:, :appearance_dim] = rng.standard_normal((n, min(appearance_dim, model.n_appearance)))
    lighting = rng.standard_normal((n, lighting_dim))

    prototypes = np.stack([prototype_phi(model, cls).cpu().numpy() for cls in EMBEDDED_CLASSES])
    in_prototype = prototypes[labels] > 0
    intensity = rng.uniform(*variation.intensity, size=(n, 1))
    jitter = np.clip(1.0 + variation.au_jitter * rng.standard_normal((n, model.n_expression)), 0.0, None)
    phi = prototypes[labels] * intensity * jitter
    extra = rng.random((n, model.n_expression)) < variation.extra_au_rate
    small = np.abs(variation.extra_au_scale * rng.standard_normal((n, model.n_expression)))
    phi += np.where(extra & ~in_prototype, small, 0.0)
    t = rng.uniform(*variation.onset, size=n)
    t[labels == EMBEDDED_CLASSES.index(NEUTRAL)] = 1.0

    head_rotation = variation.head_pose * rng.standard_normal((n, 3))
    if sides not in AUGMENTATION_SIDES:
        raise ValueError(f"sides must be one of {AUGMENTATION_SIDES}, got {sides!r}")
    s = np.ones(n) if symmetry_rng is None else symmetry_rng.uniform(0.0, 1.0, size=n)
    if symmetry_rng is not None and sides == "both":
        right = symmetry_rng.random(n) < 0.5
    else:
        right = np.full(n, sides == "right" and symmetry_rng is not None)
    return FaceParameters(labels, beta, alpha, lighting, phi, t, s, right, head_rotation)


def affected_weights(model: MorphableModel, right: np.ndarray) -> torch.Tensor:
    """Per-vertex weight of the half that ``s`` weakens, shape ``(B, N)``: the left half, or the right one where
    ``right`` (shape ``(B,)``, bool) is set (see :meth:`MorphableModel.vertices`, ``affected``)."""
    left = model.left_weight[None, :]
    return torch.where(torch.as_tensor(right, device=model.device)[:, None], 1.0 - left, left)


def turn_heads(model: MorphableModel, vertices: torch.Tensor, rotation: torch.Tensor) -> torch.Tensor:
    """Rotate whole heads about the model's root joint.

    This is what skinning does when only the root joint is posed (skinning weights sum to one per vertex), as a
    single matrix product instead of the full linear blend skinning, which costs more than rendering.

    Parameters
    ----------
    model : MorphableModel
        The model the vertices belong to.
    vertices : torch.Tensor, shape (B, N, 3)
        Unposed vertices, model units.
    rotation : torch.Tensor, shape (B, 3)
        Axis-angle rotation per head, radians.

    Returns
    -------
    torch.Tensor, shape (B, N, 3)
    """
    if model.joint_regressor is not None:
        root = torch.einsum("n,bnc->bc", model.joint_regressor[0], vertices)[:, None]
    else:
        root = model.joint_rest[0]
    matrices = axis_angle_to_matrix(rotation.to(vertices.dtype))
    return torch.einsum("bij,bnj->bni", matrices, vertices - root) + root


def render_faces(
    model: MorphableModel,
    faces: FaceParameters,
    render_settings: Mapping[str, Any],
    *,
    s: float | None = None,
    right: bool | None = None,
    batch_size: int = 256,
) -> torch.Tensor:
    """Render training faces.

    Parameters
    ----------
    model : MorphableModel
        The model the faces were sampled for.
    faces : FaceParameters
        What to render.
    render_settings : mapping
        The config's ``render`` section: ``size`` (pixels), ``color`` (gray/rgb), ``backend`` (numba/torch).
    s : float, optional
        Render every face at this symmetry instead of ``faces.s`` (the held-out set at ``s = 0``).
    right : bool, optional
        Weaken the right (``True``) or left (``False``) half of every face instead of the half in ``faces.right``.
    batch_size : int
        Faces per renderer call, bounding memory.

    Returns
    -------
    torch.Tensor, shape (N, C, size, size)
        float32 in ``[0, 1]`` on the CPU.
    """
    images = []
    for start in range(0, len(faces), batch_size):
        rows = slice(start, start + batch_size)
        count = len(faces.labels[rows])
        symmetry = torch.full((count,), float(s)) if s is not None else torch.as_tensor(faces.s[rows])
        vertices = model.vertices(
            torch.as_tensor(faces.beta[rows]),
            torch.as_tensor(faces.phi[rows]),
            symmetry,
            torch.as_tensor(faces.t[rows]),
            affected=affected_weights(model, faces.right[rows] if right is None else np.full(count, right)),
        )
        vertices = turn_heads(model, vertices, torch.as_tensor(faces.head_rotation[rows]))
        images.append(
            render(
                vertices,
                model.triangles,
                model.albedo(torch.as_tensor(faces.alpha[rows])),
                size=render_settings["size"],
                lighting=lighting_from_coefficients(torch.as_tensor(faces.lighting[rows])),
                color=render_settings["color"],
                backend=render_settings["backend"],
                camera=model.camera,
            ).cpu()
        )
    return torch.cat(images)


def augmentation_sides(value: bool | str) -> str | None:
    """The config's ``asymmetry_augmentation`` as the half it weakens: ``None`` (off), ``"both"`` (``true``: the
    side drawn per image) or a named one-sided variant (``"left"``, ``"right"``)."""
    if value is False:
        return None
    if value is True:
        return "both"
    if value in ("left", "right"):
        return str(value)
    raise ValueError(f"config key 'asymmetry_augmentation' must be true, false, 'left' or 'right', got {value!r}")


def training_face_model(config: Mapping[str, Any]) -> MorphableModel:
    """The face model the training data is rendered with: always the procedural model.

    Its expression components are FACS action units, which the emotion prototypes are written in. With a FLAME
    config the embedded classifiers therefore meet FLAME faces only in the analysis, a domain shift like the
    one the paper's real classifiers face.
    """
    face = config["face_model"]
    return build_procedural_model(left_side=face["left_side"], midline_band=face.get("midline_band", MIDLINE_BAND_MM))
