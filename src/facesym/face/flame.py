"""Build a face model from a user-supplied FLAME ``generic_model.pkl`` (Li et al. 2017).

The file is read without chumpy and without running code by :mod:`facesym.face.flame_pickle` (a restricted
unpickler that imports no torch, so the workflow also reads it while validating the config); this module turns
its arrays into a :class:`~facesym.face.model.MorphableModel` with FLAME's jaw joint.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from facesym.face.appearance import REGIONS, PaletteAppearance
from facesym.face.flame_pickle import FLAME_KEYS, FlameFormatError, read_flame_pickle
from facesym.face.model import MIDLINE_BAND_MM, MM_PER_UNIT, MorphableModel, left_weights
from facesym.render.camera import OrthographicCamera

__all__ = ["FlameFormatError", "load_flame", "read_flame_pickle", "FLAME_KEYS"]
_EYE_DISTANCE = 0.84
"""Distance between the eyeball joints after normalisation: the procedural face's eye spacing, model units."""


def _parents(kintree: np.ndarray) -> np.ndarray:
    kintree = np.asarray(kintree).astype(np.int64)
    order = kintree[1]
    parents = np.full(order.size, -1, dtype=np.int64)
    for parent, child in zip(kintree[0], order, strict=True):
        parents[child] = parent if 0 <= parent < order.size else -1
    if parents[0] != -1 or np.any(parents[1:] >= np.arange(1, order.size)) or np.any(parents[1:] < 0):
        raise FlameFormatError("kintree_table must describe a tree whose parents precede their children")
    return parents


def load_flame(
    path: str | Path,
    n_shape: int = 100,
    n_expression: int = 50,
    n_appearance: int = 6,
    left_side: str = "+x",
    *,
    n_identity_total: int = 300,
    normalize: bool = True,
    midline_tol: float = 1e-3,
    midline_band: float = MIDLINE_BAND_MM,
) -> MorphableModel:
    """A :class:`MorphableModel` from a FLAME model file.

    Parameters
    ----------
    path
        ``generic_model.pkl``.
    n_shape, n_expression
        Identity and expression components to use (the paper: 100 and 50).
    n_appearance
        Appearance coefficients. FLAME has no licence-free albedo, so α only sets a uniform skin colour
        (tone and hue, see ``facesym.face.appearance``).
    left_side
        ``"+x"`` (FLAME's convention: the subject's left at positive x) or ``"-x"``.
    n_identity_total
        Number of identity columns in ``shapedirs`` before the expression columns (300 in FLAME).
    normalize
        Translate and scale the model so that the eyeball joints sit at ``(±0.42, 0)`` like the procedural
        face; the default camera then frames it. Without eyeball joints (fewer than 5), the template's bounding
        box is used instead.
    midline_tol
        Vertices with ``|x| <= midline_tol`` (model units after normalisation) are on the midline (weight 0.5).
    midline_band
        Width of the smooth left/right transition across the midline, millimetres
        (:func:`facesym.face.model.left_weights`; assumes the normalised scale, :data:`MM_PER_UNIT`).

    Returns
    -------
    MorphableModel
        Joints and pose as in FLAME: ``pose`` holds axis-angle triples of global, neck, jaw and the eyes
        (length 15); the jaw opens by linear blend skinning.
    """
    data = read_flame_pickle(path)
    template = np.asarray(data["v_template"], dtype=np.float64)
    n_vertices = template.shape[0]
    shapedirs = np.asarray(data["shapedirs"], dtype=np.float64)
    if template.shape != (n_vertices, 3) or shapedirs.shape[:2] != (n_vertices, 3):
        raise FlameFormatError(f"{path}: v_template must be (N, 3) and shapedirs (N, 3, K)")
    if n_shape > n_identity_total or n_identity_total + n_expression > shapedirs.shape[2]:
        raise FlameFormatError(
            f"{path}: shapedirs has {shapedirs.shape[2]} columns, {n_identity_total} identity + "
            f"{shapedirs.shape[2] - n_identity_total} expression; asked for {n_shape} + {n_expression}"
        )
    regressor = np.asarray(data["J_regressor"], dtype=np.float64)
    weights = np.asarray(data["weights"], dtype=np.float64)
    parents = _parents(data["kintree_table"])
    n_joints = parents.size
    posedirs = np.asarray(data["posedirs"], dtype=np.float64).reshape(n_vertices * 3, -1).T
    if regressor.shape != (n_joints, n_vertices) or weights.shape != (n_vertices, n_joints):
        raise FlameFormatError(f"{path}: J_regressor must be (K, N) and weights (N, K) with K = {n_joints}")
    if posedirs.shape[0] != 9 * (n_joints - 1):
        raise FlameFormatError(f"{path}: posedirs must have 9·(K−1) = {9 * (n_joints - 1)} columns")

    camera = OrthographicCamera()
    if normalize:
        joints = regressor @ template
        if n_joints >= 5 and np.linalg.norm(joints[3] - joints[4]) > 0:
            center = 0.5 * (joints[3] + joints[4])
            scale = _EYE_DISTANCE / np.linalg.norm(joints[3] - joints[4])
        else:
            lo, hi = template.min(0), template.max(0)
            center = 0.5 * (lo + hi)
            scale = 2.0 / max(hi[0] - lo[0], 1e-12)
        center[2] = 0.0
        template = (template - center) * scale
        shapedirs = shapedirs * scale
        posedirs = posedirs * scale
    else:
        lo, hi = template.min(0), template.max(0)
        camera = OrthographicCamera(float(0.5 * (lo[0] + hi[0])), float(0.5 * (lo[1] + hi[1])),
                                    float(0.55 * max(hi[0] - lo[0], hi[1] - lo[1])))

    masks = np.zeros((n_vertices, len(REGIONS)), dtype=np.float32)
    masks[:, REGIONS.index("skin")] = 1.0
    f32 = torch.float32
    names = ["global", "neck", "jaw", "eye0", "eye1"] if n_joints == 5 else [f"joint{k}" for k in range(n_joints)]
    return MorphableModel(
        name="flame",
        template=torch.tensor(template, dtype=f32),
        triangles=torch.tensor(np.asarray(data["f"]).astype(np.int64)),
        shapedirs=torch.tensor(shapedirs[:, :, :n_shape], dtype=f32),
        exprdirs=torch.tensor(shapedirs[:, :, n_identity_total:n_identity_total + n_expression], dtype=f32),
        expression_names=[f"psi{k}" for k in range(n_expression)],
        left_weight=torch.tensor(left_weights(template[:, 0], left_side, midline_tol,
                                                band=midline_band / MM_PER_UNIT if normalize else 0.0)),
        left_side=left_side,
        appearance=PaletteAppearance(torch.from_numpy(masks), n_appearance),
        joint_names=names,
        parents=torch.tensor(parents),
        skin_weights=torch.tensor(weights, dtype=f32),
        joint_regressor=torch.tensor(regressor, dtype=f32),
        posedirs=torch.tensor(posedirs, dtype=f32),
        camera=camera,
    )
