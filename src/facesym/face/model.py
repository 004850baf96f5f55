"""The morphable-model interface: identity, expression with a symmetry knob, appearance, pose.

Geometry follows the paper's Eq. 3 (Büchner et al., ACCV 2024)::

    V(β, φ, s, t) = W( T + B_id·β + t·(E_R·φ) + s·t·(E_L·φ);  pose + t·J·φ )

where ``E_L = w ⊙ E`` and ``E_R = (1 − w) ⊙ E`` split the expression blendshapes ``E`` by a per-vertex left
weight ``w`` (Eq. 2) and ``W`` is linear blend skinning about the model's joints. ``w`` is 1 on the subject's
own left half, 0 on the right half and rises smoothly across a narrow band around the midline (see
:func:`left_weights`), so ``E_L + E_R = E`` holds exactly for every vertex.

``J`` (``joint_dirs``) maps expression components that are joint rotations rather than blendshapes (the
procedural model's AU26 jaw drop) to the pose: the jaw is one bone moved by muscles that facial palsy does not
affect (trigeminal, not facial nerve), so its opening follows the onset ``t`` and never the symmetry ``s``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Protocol

import numpy as np
import torch

from facesym.face import vertices_cpu
from facesym.face.lbs import linear_blend_skinning
from facesym.render.camera import OrthographicCamera

__all__ = ["Appearance", "MorphableModel", "left_weights", "as_batch"]

MIDLINE_WEIGHT = 0.5
"""Left weight of vertices on the midline: shared by both halves, so the split of Eq. 2 stays exact."""

MM_PER_UNIT = 75.0
"""Millimetres per model unit: both models are scaled so that the eyes sit 0.84 units apart (about 63 mm, the
adult mean interpupillary distance)."""

MIDLINE_BAND_MM = 6.0
"""Default width of the band across the midline in which the left weight rises from 0 to 1, millimetres."""


class Appearance(Protocol):
    """Maps appearance coefficients α to per-vertex albedo."""

    n_appearance: int

    def albedo(self, alpha: torch.Tensor) -> torch.Tensor:
        """α of shape ``(B, n_appearance)`` → albedo ``(B, N, 3)`` in [0, 1]."""
        ...

    def to(self, device: torch.device | str) -> Appearance:
        """A copy whose tensors live on ``device``."""
        ...


def left_weights(x: np.ndarray, left_side: str = "+x", midline_tol: float = 1e-6,
                 band: float = MIDLINE_BAND_MM / MM_PER_UNIT) -> np.ndarray:
    """Per-vertex weight ``w`` of the subject's left half (the split of Eq. 2: ``E_L = w ⊙ E``).

    The paper's Eq. 2 splits the blendshapes with a step: ``w = 1`` on the left half, 0 on the right. With a step,
    ``s < 1`` tears the face along the midline: the frozen half meets the moving half at a seam. Soft tissue is
    continuous, so here ``w`` rises across a band of width ``band`` centred on the midline with a smoothstep,
    ``w = S((x + band/2) / band)``, ``S(u) = 3u² − 2u³`` on [0, 1]: a vertex within the band moves with the fraction
    ``1 − w(1 − s)`` of its expression and the tissue across the midline stretches. Outside the band the weights
    are Eq. 2's exactly; ``band = 0`` gives Eq. 2's step. ``E_L + E_R = E`` holds for every band.

    Parameters
    ----------
    x
        Template x coordinates, shape ``(N,)``, model units; the midline is ``x = 0``.
    left_side
        ``"+x"`` if the subject's own left lies at positive x (FLAME's and the procedural model's convention,
        the viewer's right in a frontal render), ``"-x"`` otherwise.
    midline_tol
        Vertices with ``|x| <= midline_tol`` are on the midline and get weight 0.5.
    band
        Width of the transition, model units (:data:`MM_PER_UNIT` mm each); ``0`` = Eq. 2's step.

    Returns
    -------
    np.ndarray
        Weights in [0, 1], shape ``(N,)``, float32: 0.5 on the midline, 1 (0) at ``x >= band/2`` on the left
        (right) half.
    """
    if left_side not in ("+x", "-x"):
        raise ValueError(f"left_side must be '+x' or '-x', got {left_side!r}")
    if band < 0:
        raise ValueError(f"the midline band must be >= 0, got {band}")
    signed = np.asarray(x, dtype=np.float64) if left_side == "+x" else -np.asarray(x, dtype=np.float64)
    if band > 0:
        u = np.clip(signed / band + 0.5, 0.0, 1.0)
        w = u * u * (3.0 - 2.0 * u)
    else:
        w = np.where(signed > 0, 1.0, 0.0)
    w[np.abs(signed) <= midline_tol] = MIDLINE_WEIGHT
    return w.astype(np.float32)


def _distinct_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``values`` ``(B, D)`` and each row's index among them, shape ``(B,)`` int64."""
    if (values == values[:1]).all():  # the common case, without np.unique's sort
        return values[:1], np.zeros(values.shape[0], dtype=np.int64)
    distinct, index = np.unique(values, axis=0, return_inverse=True)
    return distinct, index.reshape(-1).astype(np.int64)


def as_batch(value: torch.Tensor | np.ndarray | float | Sequence[float], batch: int, *,
             dtype: torch.dtype, device: torch.device, name: str) -> torch.Tensor:
    """A per-image scalar (``s``, ``t``) as a tensor of shape ``(batch,)``; a scalar is broadcast."""
    out = torch.as_tensor(value, dtype=dtype, device=device)
    if out.dim() == 0:
        return out.expand(batch)
    if out.shape != (batch,):
        raise ValueError(f"{name} must be a scalar or have shape ({batch},), got {tuple(out.shape)}")
    return out


@dataclass(frozen=True)
class MorphableModel:
    """A linear 3D morphable face model with a left/right split of its expression basis.

    All tensors live on one device (``model.to(device)`` moves them) and are float32 except ``triangles`` and
    ``parents`` (int64). ``N`` vertices, ``F`` triangles, ``K`` joints.

    Attributes
    ----------
    name
        ``"procedural"`` or ``"flame"``.
    template
        Rest vertices ``T``, shape ``(N, 3)``, model units; x = subject's left or right (see ``left_side``),
        y up, z towards the viewer.
    triangles
        Vertex indices, shape ``(F, 3)``, counter-clockwise seen from outside.
    shapedirs
        Identity basis ``B_id``, shape ``(N, 3, n_shape)``; one column = one standard deviation.
    exprdirs
        Expression basis ``E``, shape ``(N, 3, n_expression)``; one column = one unit of the component.
    expression_names
        Name of every expression component (FACS action units ``"AU1"``… for the procedural model).
    left_weight
        Per-vertex weight ``w`` of the left half, shape ``(N,)``, in [0, 1] (Eq. 2).
    left_side
        ``"+x"`` or ``"-x"``: the model-frame direction of the subject's own left.
    appearance
        Albedo model, see :class:`Appearance`.
    joint_names
        One name per joint; ``pose`` holds one axis-angle triple per joint in this order.
    parents
        Parent of every joint, shape ``(K,)``, root ``-1``.
    skin_weights
        Skinning weights, shape ``(N, K)``.
    joint_regressor
        Joints as linear combinations of the unposed vertices, shape ``(K, N)``; ``None`` to use
        ``joint_rest``.
    joint_rest
        Fixed joint positions, shape ``(K, 3)``, used when there is no regressor.
    posedirs
        Pose-corrective blendshapes, shape ``(9(K-1), 3N)``, or ``None``.
    camera
        Orthographic camera that frames this model's face (pass it to :func:`facesym.render.render`).
    regions
        Optional named per-vertex weights, shape ``(N,)`` each. The procedural model has one per albedo region
        (``facesym.face.appearance.REGIONS``: ``"skin"``, ``"lips"``, ``"brows"``…) and one per mesh part
        (``"skin_mesh"``, ``"eyeball"``, ``"mouth_cavity"``, ``"ears"``).
    expression_bounds
        Range of every expression component the anatomy allows, shape ``(n_expression, 2)`` (low, high), or
        ``None`` for a signed basis without natural bounds (FLAME's PCA components; the optimisers then search
        the config's ``[-bound, bound]``). FACS action units are intensities: ``[0, 1]``, 1 = FACS E (maximum).
    joint_dirs
        Pose per unit of every expression component, shape ``(n_expression, pose_dim)`` radians, or ``None``.
        A component with a non-zero row is a joint rotation (the jaw drop AU26) with a zero blendshape column:
        it moves its joint by ``t·φ``, whatever ``s`` is.
    """

    name: str
    template: torch.Tensor
    triangles: torch.Tensor
    shapedirs: torch.Tensor
    exprdirs: torch.Tensor
    expression_names: list[str]
    left_weight: torch.Tensor
    left_side: str
    appearance: Appearance
    joint_names: list[str]
    parents: torch.Tensor
    skin_weights: torch.Tensor
    joint_regressor: torch.Tensor | None = None
    joint_rest: torch.Tensor | None = None
    posedirs: torch.Tensor | None = None
    camera: OrthographicCamera = field(default_factory=OrthographicCamera)
    regions: dict[str, torch.Tensor] = field(default_factory=dict)
    expression_bounds: torch.Tensor | None = None
    joint_dirs: torch.Tensor | None = None

    def __post_init__(self) -> None:
        n = self.template.shape[0]
        if self.shapedirs.shape[:2] != (n, 3) or self.exprdirs.shape[:2] != (n, 3):
            raise ValueError("shapedirs and exprdirs must have shape (N, 3, n)")
        if len(self.expression_names) != self.exprdirs.shape[2]:
            raise ValueError("one expression name per expression component")
        if self.left_weight.shape != (n,) or self.skin_weights.shape != (n, len(self.joint_names)):
            raise ValueError("left_weight must be (N,) and skin_weights (N, K)")
        if self.joint_regressor is None and self.joint_rest is None:
            raise ValueError("a model needs a joint regressor or fixed joint positions")
        if self.expression_bounds is not None and (
                self.expression_bounds.shape != (self.n_expression, 2)
                or not bool((self.expression_bounds[:, 0] < self.expression_bounds[:, 1]).all())):
            raise ValueError("expression_bounds must have shape (n_expression, 2) with low < high")
        if self.joint_dirs is not None and self.joint_dirs.shape != (self.n_expression, self.pose_dim):
            raise ValueError("joint_dirs must have shape (n_expression, pose_dim)")

    # ------------------------------------------------------------------ sizes
    @property
    def n_vertices(self) -> int:
        return int(self.template.shape[0])

    @property
    def n_shape(self) -> int:
        return int(self.shapedirs.shape[2])

    @property
    def n_expression(self) -> int:
        return int(self.exprdirs.shape[2])

    @property
    def n_appearance(self) -> int:
        return int(self.appearance.n_appearance)

    @property
    def pose_dim(self) -> int:
        """Length of a pose vector: 3 per joint."""
        return 3 * len(self.joint_names)

    @property
    def device(self) -> torch.device:
        return self.template.device

    def to(self, device: torch.device | str) -> MorphableModel:
        """A copy of the model on ``device``."""
        def move(x: torch.Tensor | None) -> torch.Tensor | None:
            return None if x is None else x.to(device)

        return replace(
            self,
            template=move(self.template), triangles=move(self.triangles), shapedirs=move(self.shapedirs),
            exprdirs=move(self.exprdirs), left_weight=move(self.left_weight), appearance=self.appearance.to(device),
            parents=move(self.parents), skin_weights=move(self.skin_weights),
            joint_regressor=move(self.joint_regressor), joint_rest=move(self.joint_rest),
            posedirs=move(self.posedirs), regions={k: v.to(device) for k, v in self.regions.items()},
            expression_bounds=move(self.expression_bounds), joint_dirs=move(self.joint_dirs),
        )

    def expression_box(self, bound: float) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper limit of every expression component, shape ``(n_expression,)`` each, float64.

        ``bound`` gives ``[-bound, bound]`` for a model without ``expression_bounds`` (a signed basis).
        """
        if self.expression_bounds is None:
            full = np.full(self.n_expression, float(bound))
            return -full, full
        box = self.expression_bounds.detach().cpu().double().numpy()
        return box[:, 0].copy(), box[:, 1].copy()

    # ------------------------------------------------------------------ geometry
    def _coefficients(self, value: torch.Tensor | np.ndarray, width: int, name: str) -> torch.Tensor:
        out = torch.as_tensor(value, dtype=self.template.dtype, device=self.device)
        if out.dim() == 1:
            out = out[None]
        if out.dim() != 2 or out.shape[1] != width:
            raise ValueError(f"{name} must have shape (B, {width}) for this {self.name} model, "
                             f"got {tuple(out.shape)}")
        return out

    def identity_offsets(self, beta: torch.Tensor | np.ndarray) -> torch.Tensor:
        """``B_id·β``: identity displacements, shape ``(B, N, 3)``, for β of shape ``(B, n_shape)``."""
        beta = self._coefficients(beta, self.n_shape, "beta")
        return (beta @ self.shapedirs.reshape(-1, self.n_shape).T).reshape(beta.shape[0], -1, 3)

    def expression_offsets(self, phi: torch.Tensor | np.ndarray) -> torch.Tensor:
        """``E·φ``: unsplit expression displacements, shape ``(B, N, 3)``, for φ of shape ``(B, n_expression)``."""
        phi = self._coefficients(phi, self.n_expression, "phi")
        return (phi @ self.exprdirs.reshape(-1, self.n_expression).T).reshape(phi.shape[0], -1, 3)

    def pose_vertices(self, unposed: torch.Tensor, pose: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Apply linear blend skinning to unposed vertices ``(B, N, 3)`` with ``pose`` of shape ``(B, pose_dim)``."""
        pose = self._coefficients(pose, self.pose_dim, "pose")
        if pose.shape[0] == 1 and unposed.shape[0] > 1:
            pose = pose.expand(unposed.shape[0], -1)
        if self.joint_regressor is not None:
            joints = torch.einsum("kn,bnc->bkc", self.joint_regressor, unposed)
        else:
            joints = self.joint_rest
        return linear_blend_skinning(unposed, pose, joints, self.parents, self.skin_weights, self.posedirs)

    def vertices(
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
        """Vertices of Eq. 3 for a batch of faces.

        Parameters
        ----------
        beta
            Identity coefficients, shape ``(B, n_shape)`` (or ``(1, n_shape)`` / ``(n_shape,)``, broadcast).
        phi
            Expression coefficients, shape ``(B, n_expression)`` (or broadcast like ``beta``). Components that are
            joint rotations (``joint_dirs``: the jaw) add ``t·(φ @ joint_dirs)`` to ``pose``, whatever ``s`` is;
            skinning then runs unless that sum is the rest pose for every face.
        s
            Symmetry, shape ``(B,)`` or scalar, in [0, 1]: 1 = both halves move fully, 0 = the left half keeps
            its neutral shape.
        t
            Expression onset, shape ``(B,)`` or scalar, in [0, 1]: 0 = neutral, 1 = full expression.
        pose
            Axis-angle per joint, shape ``(B, pose_dim)``, radians; ``None`` = rest pose (skinning skipped).
        intensity_matched
            The intensity-matched control (the sham intervention): both halves' blendshapes at ``t·(1 + s)/2``,
            the mean of the two halves' intensities under Eq. 3, so the face loses as much movement as at
            symmetry ``s`` but stays symmetric. Only the expression blendshapes are scaled; joints are not.
        affected
            Per-vertex weight of the part that ``s`` weakens, shape ``(N,)`` or ``(B, N)``, in [0, 1]; default
            ``left_weight`` (the paper's left half). ``1 − left_weight`` weakens the right half instead (the
            mirror intervention), a product with a vertical mask only the upper or lower face.
        backend
            ``"numba"``: the fixed-order CPU kernels of :mod:`facesym.face.vertices_cpu` (fast, and a face's
            vertices do not depend on the batch it is in); ``"torch"``: torch operations (autograd, GPUs);
            ``"auto"``: numba on the CPU unless an input requires a gradient. The two agree to float32 round-off.

        Returns
        -------
        torch.Tensor
            Vertices, shape ``(B, N, 3)``, float32, model units. With ``s = 1`` they equal
            ``T + B_id·β + t·(E·φ)`` (then posed) exactly.
        """
        if backend not in ("auto", "numba", "torch"):
            raise ValueError(f"backend must be 'auto', 'numba' or 'torch', got {backend!r}")
        inputs = (beta, phi, s, t, pose, affected)
        needs_grad = any(isinstance(x, torch.Tensor) and x.requires_grad for x in inputs)
        if backend == "numba" or (backend == "auto" and self.device.type == "cpu" and not needs_grad):
            if self.device.type != "cpu":
                raise ValueError(f"the numba backend computes on the CPU; this model is on {self.device}")
            return self._vertices_numba(beta, phi, s, t, pose, intensity_matched, affected)
        id_off = self.identity_offsets(beta)
        ex_off = self.expression_offsets(phi)
        batch = max(id_off.shape[0], ex_off.shape[0])
        for name, off in (("beta", id_off), ("phi", ex_off)):
            if off.shape[0] not in (1, batch):
                raise ValueError(f"{name} has batch size {off.shape[0]}, expected 1 or {batch}")
        s = as_batch(s, batch, dtype=self.template.dtype, device=self.device, name="s")
        t = as_batch(t, batch, dtype=self.template.dtype, device=self.device, name="t")
        # t·(1 − w(1 − s)) equals t·(1 − w) + s·t·w (Eq. 3) and is exactly t when s = 1, so the
        # symmetric face is bit-identical to the unsplit model.
        weight = self.left_weight[None, :] if affected is None else torch.as_tensor(
            affected, dtype=self.template.dtype, device=self.device).reshape(-1, self.n_vertices)
        scale = t[:, None] * (1.0 - weight * (1.0 - s[:, None]))
        if intensity_matched:
            scale = (t * (1.0 + s) / 2.0)[:, None].expand_as(scale)
        # In place to spare batch-sized temporaries; the sum is (T + B_id·β) + scale·(E·φ) either way.
        unposed = ex_off.expand(batch, -1, -1).mul(scale[..., None]).add_(self.template + id_off)
        pose = self._joint_pose(phi, t, pose, batch)
        if pose is None:
            return unposed
        return self.pose_vertices(unposed, pose)

    @cached_property
    def _cpu_arrays(self) -> dict[str, np.ndarray]:
        """The model's tensors laid out for :mod:`facesym.face.vertices_cpu`, built on first use."""
        def rows(basis: torch.Tensor) -> np.ndarray:  # (N, 3, k) → (k, 3N)
            return np.ascontiguousarray(basis.detach().cpu().numpy().reshape(-1, basis.shape[-1]).T, np.float32)

        weights = self.skin_weights.detach().cpu().numpy().astype(np.float32)
        vertex, joint = np.nonzero(weights)  # row-major: by vertex, then joint order
        arrays = {
            "template": self.template.detach().cpu().numpy().astype(np.float32),
            "shape": rows(self.shapedirs), "expression": rows(self.exprdirs),
            "left_weight": self.left_weight.detach().cpu().numpy().astype(np.float32)[None],
            "parents": self.parents.detach().cpu().numpy().astype(np.int64),
            "skin_offsets": np.concatenate([[0], np.cumsum(np.bincount(vertex, minlength=len(weights)))]).astype(
                np.int64),
            "skin_joints": joint.astype(np.int64),
            "skin_weights": weights[vertex, joint].astype(np.float32),
        }
        if self.joint_dirs is not None:
            arrays["joint_dirs"] = np.ascontiguousarray(self.joint_dirs.detach().cpu().numpy(), np.float32)
        if self.joint_regressor is not None:
            arrays["regressor"] = np.ascontiguousarray(self.joint_regressor.detach().cpu().numpy(), np.float32)
        else:
            arrays["joint_rest"] = np.ascontiguousarray(self.joint_rest.detach().cpu().numpy(), np.float32)[None]
        if self.posedirs is not None:
            arrays["posedirs"] = np.ascontiguousarray(self.posedirs.detach().cpu().numpy(), np.float32)
        return arrays

    def _vertices_numba(self, beta, phi, s, t, pose, intensity_matched: bool, affected) -> torch.Tensor:
        """:meth:`vertices` through :mod:`facesym.face.vertices_cpu` (arguments as there)."""
        arrays = self._cpu_arrays
        n = self.n_vertices
        beta = self._coefficients(beta, self.n_shape, "beta").detach().cpu().numpy()
        phi = self._coefficients(phi, self.n_expression, "phi").detach().cpu().numpy()
        batch = max(beta.shape[0], phi.shape[0])
        for name, value in (("beta", beta), ("phi", phi)):
            if value.shape[0] not in (1, batch):
                raise ValueError(f"{name} has batch size {value.shape[0]}, expected 1 or {batch}")
        s = as_batch(s, batch, dtype=torch.float32, device=torch.device("cpu"), name="s").numpy()
        t = as_batch(t, batch, dtype=torch.float32, device=torch.device("cpu"), name="t").numpy()
        # Each distinct β and φ is expanded once: a surfaces batch holds one identity and one expression.
        betas, beta_row = _distinct_rows(beta)
        phis, phi_row = _distinct_rows(phi)
        base = arrays["template"][None] + vertices_cpu.expression_offsets(betas, arrays["shape"]).reshape(-1, n, 3)
        base = np.ascontiguousarray(base[beta_row])
        offsets = vertices_cpu.expression_offsets(phis, arrays["expression"]).reshape(-1, n, 3)
        which = np.ascontiguousarray(np.broadcast_to(phi_row, (batch,)), dtype=np.int64)
        weight = arrays["left_weight"] if affected is None else np.ascontiguousarray(
            torch.as_tensor(affected, dtype=torch.float32).cpu().numpy().reshape(-1, n), dtype=np.float32)
        if weight.shape[0] not in (1, batch):
            raise ValueError(f"affected must have shape ({n},) or ({batch}, {n}), got {weight.shape}")
        unposed = (base, offsets, which, s.copy(), t.copy(), weight, intensity_matched)
        pose = self._joint_pose_numba(phis, which, t, pose, batch)
        if pose is None:
            return torch.from_numpy(vertices_cpu.unposed_vertices(*unposed))
        n_joints = len(self.joint_names)
        rot = vertices_cpu.rotations(np.ascontiguousarray(pose.reshape(batch, n_joints, 3)))
        skinning = (arrays["skin_offsets"], arrays["skin_joints"], arrays["skin_weights"])
        if "regressor" not in arrays and ("posedirs" not in arrays or n_joints == 1):
            # Fixed joints: each face is skinned right after it is built, while it is in cache.
            delta, shift = vertices_cpu.joint_transforms(rot, arrays["joint_rest"], arrays["parents"])
            return torch.from_numpy(vertices_cpu.posed_vertices(*unposed, delta, shift, *skinning))
        vertices = vertices_cpu.unposed_vertices(*unposed)
        joints = (vertices_cpu.regress_joints(arrays["regressor"], vertices) if "regressor" in arrays
                  else arrays["joint_rest"])
        if "posedirs" in arrays and n_joints > 1:
            feature = (rot[:, 1:] - np.eye(3, dtype=np.float32)).reshape(batch, -1)
            vertices += vertices_cpu.expression_offsets(feature, arrays["posedirs"]).reshape(vertices.shape)
        delta, shift = vertices_cpu.joint_transforms(rot, joints, arrays["parents"])
        vertices_cpu.skin(vertices, delta, shift, *skinning)
        return torch.from_numpy(vertices)

    def _joint_pose_numba(self, phis: np.ndarray, which: np.ndarray, t: np.ndarray, pose, batch: int
                          ) -> np.ndarray | None:
        """``pose + t·(φ @ joint_dirs)``, shape ``(B, pose_dim)`` float32; ``None`` if there is nothing to pose."""
        joint = None
        if self.joint_dirs is not None:
            per_phi = vertices_cpu.expression_offsets(phis, self._cpu_arrays["joint_dirs"])
            joint = t[:, None] * per_phi[which]
        if pose is None:
            return joint if joint is not None and joint.any() else None
        pose = np.broadcast_to(self._coefficients(pose, self.pose_dim, "pose").detach().cpu().numpy(),
                               (batch, self.pose_dim))
        return np.ascontiguousarray(pose if joint is None else pose + joint, dtype=np.float32)

    def _joint_pose(self, phi: torch.Tensor | np.ndarray, t: torch.Tensor, pose: torch.Tensor | np.ndarray | None,
                    batch: int) -> torch.Tensor | None:
        """``pose + t·(φ @ joint_dirs)``, shape ``(B, pose_dim)``; ``None`` if there is nothing to pose."""
        if self.joint_dirs is None:
            return pose
        phi = self._coefficients(phi, self.n_expression, "phi")
        joint = t[:, None] * (phi @ self.joint_dirs).expand(batch, -1)
        if pose is None:
            return joint if bool(joint.any()) else None
        pose = self._coefficients(pose, self.pose_dim, "pose")
        return pose + joint

    # ------------------------------------------------------------------ appearance
    def albedo(self, alpha: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Per-vertex albedo, shape ``(B, N, 3)`` in [0, 1], for α of shape ``(B, n_appearance)``."""
        alpha = self._coefficients(alpha, self.n_appearance, "alpha")
        return self.appearance.albedo(alpha)
