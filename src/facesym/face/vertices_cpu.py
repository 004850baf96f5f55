"""Eq. 3 on the CPU in fixed-order float32 arithmetic: numba kernels behind :meth:`MorphableModel.vertices`.

Why not torch here: the torch formulation spends most of its time in passes over batch-sized temporaries
(``E·φ`` per image, gather and scatter of the jaw's vertices, a 3 × 3 ``bmm`` per image), and its matrix
products go through MKL, whose summation order depends on the number of rows and threads. Measured on this
project's 2-core machine (torch 2.13, MKL 2024.2): a row of ``φ @ Eᵀ`` differs in the last bits between batches
of 2, 7 and 16 rows, and between 1 and 2 threads. The same face then had different vertices depending on the
batch it was rendered in. These kernels

- compute ``E·φ`` once per distinct expression of the batch (a surfaces batch has one), as an explicit sum over
  components in index order;
- write each output vertex once: ``(T + B_id·β) + scale · (E·φ)``, then the blend of the moving joints' rigid
  transforms, joint by joint in index order;
- evaluate every reduction in the same order for every batch size and thread count (no fast-math, so no
  reassociation and no fused multiply-add), so an image's vertices no longer depend on its batch.

The torch path of :meth:`MorphableModel.vertices` stays for autograd and for GPUs; both agree to float32
round-off (tests/face/test_vertices_cpu.py).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = [
    "expression_offsets", "unposed_vertices", "posed_vertices", "rotations", "regress_joints", "joint_transforms",
    "skin",
]

_ZERO = np.float32(0.0)
_ONE = np.float32(1.0)
_EPS = np.float32(1e-8)


def _expression_offsets(phi, basis):
    rows, width = phi.shape[0], basis.shape[1]
    out = np.zeros((rows, width), dtype=np.float32)
    for u in prange(rows):
        acc = out[u]
        for k in range(basis.shape[0]):
            c = phi[u, k]
            if c == _ZERO:
                continue
            row = basis[k]
            for i in range(width):
                acc[i] = acc[i] + c * row[i]
    return out


# Waking a thread pool costs more than one row's sum (a few hundred thousand multiply-adds), and far more on a
# busy machine; the serial kernel serves the common case of one distinct expression per batch.
_expression_offsets_serial = njit(cache=True)(_expression_offsets)
_expression_offsets_parallel = njit(cache=True, parallel=True)(_expression_offsets)
_PARALLEL_ROWS = 8


def expression_offsets(phi: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """``E·φ`` per row of ``phi``, summed over components in index order.

    Parameters
    ----------
    phi
        Expression coefficients, shape ``(U, K)``, float32.
    basis
        The expression basis as rows, shape ``(K, 3N)``, float32 (``exprdirs`` transposed).

    Returns
    -------
    np.ndarray
        Offsets, shape ``(U, 3N)``, float32, model units. Row ``u`` depends on ``phi[u]`` only.
    """
    kernel = _expression_offsets_parallel if phi.shape[0] >= _PARALLEL_ROWS else _expression_offsets_serial
    return kernel(np.ascontiguousarray(phi, dtype=np.float32), basis)


@njit(cache=True, inline="always")
def _unposed_face(dst, src, bas, wgt, s, t, intensity_matched):
    free = _ONE - s
    matched = t * (_ONE + s) / np.float32(2.0)
    for v in range(dst.shape[0]):
        f = matched if intensity_matched else t * (_ONE - wgt[v] * free)
        dst[v, 0] = src[v, 0] * f + bas[v, 0]
        dst[v, 1] = src[v, 1] * f + bas[v, 1]
        dst[v, 2] = src[v, 2] * f + bas[v, 2]


@njit(cache=True, parallel=True)
def unposed_vertices(base: np.ndarray, offsets: np.ndarray, which: np.ndarray, s: np.ndarray, t: np.ndarray,
                     weight: np.ndarray, intensity_matched: bool) -> np.ndarray:
    """``base + scale ⊙ offsets[which]``, the unposed vertices of Eq. 3.

    Parameters
    ----------
    base
        ``T + B_id·β``, shape ``(Bb, N, 3)`` with ``Bb`` 1 or ``B``, float32.
    offsets
        Distinct expressions' ``E·φ``, shape ``(U, N, 3)``, float32.
    which
        Row of ``offsets`` of every face, shape ``(B,)``, int64.
    s, t
        Symmetry and onset of every face, shape ``(B,)``, float32.
    weight
        Weight of the part ``s`` weakens, shape ``(Bw, N)`` with ``Bw`` 1 or ``B``, float32.
    intensity_matched
        Scale every vertex by ``t·(1 + s)/2`` instead (the symmetric control).

    Returns
    -------
    np.ndarray
        Vertices, shape ``(B, N, 3)``, float32: ``offsets · scale + base`` with ``scale = t·(1 − w·(1 − s))``,
        the arithmetic of the torch path element by element. With ``s = 1`` the scale is exactly ``t`` and the
        vertices equal the unsplit model's ``T + B_id·β + t·(E·φ)``.
    """
    batch, n = which.shape[0], base.shape[1]
    out = np.empty((batch, n, 3), dtype=np.float32)
    base_step = 1 if base.shape[0] > 1 else 0
    weight_step = 1 if weight.shape[0] > 1 else 0
    for b in prange(batch):
        _unposed_face(out[b], offsets[which[b]], base[b * base_step], weight[b * weight_step], s[b], t[b],
                      intensity_matched)
    return out


@njit(cache=True, parallel=True)
def posed_vertices(base: np.ndarray, offsets: np.ndarray, which: np.ndarray, s: np.ndarray, t: np.ndarray,
                   weight: np.ndarray, intensity_matched: bool, delta: np.ndarray, shift: np.ndarray,
                   skin_offsets: np.ndarray, skin_joints: np.ndarray, skin_weights: np.ndarray) -> np.ndarray:
    """:func:`unposed_vertices` followed by :func:`skin`, face by face while the face is in cache.

    For models whose joints do not depend on the shape (fixed rest positions, no pose correctives); arguments
    as in those two functions. Equal bit for bit to calling them one after the other.
    """
    batch, n = which.shape[0], base.shape[1]
    out = np.empty((batch, n, 3), dtype=np.float32)
    base_step = 1 if base.shape[0] > 1 else 0
    weight_step = 1 if weight.shape[0] > 1 else 0
    for b in prange(batch):
        _unposed_face(out[b], offsets[which[b]], base[b * base_step], weight[b * weight_step], s[b], t[b],
                      intensity_matched)
        _skin_face(out[b], delta[b], shift[b], skin_offsets, skin_joints, skin_weights)
    return out


@njit(cache=True)
def _rodrigues(x: float, y: float, z: float, out: np.ndarray) -> None:
    # The rotation matrix I + sin θ K + (1 − cos θ) K² of axis-angle (x, y, z); K is the axis' skew matrix.
    angle = np.float32(math.sqrt(x * x + y * y + z * z))
    d = angle + _EPS
    ax, ay, az = x / d, y / d, z / d
    sn = np.float32(math.sin(angle))
    cs = _ONE - np.float32(math.cos(angle))
    # K² = a aᵀ − |a|² I for a unit axis a; written out so that a zero rotation gives the identity exactly.
    out[0, 0] = _ONE + cs * (-(ay * ay) - az * az)
    out[0, 1] = -sn * az + cs * (ax * ay)
    out[0, 2] = sn * ay + cs * (ax * az)
    out[1, 0] = sn * az + cs * (ax * ay)
    out[1, 1] = _ONE + cs * (-(ax * ax) - az * az)
    out[1, 2] = -sn * ax + cs * (ay * az)
    out[2, 0] = -sn * ay + cs * (ax * az)
    out[2, 1] = sn * ax + cs * (ay * az)
    out[2, 2] = _ONE + cs * (-(ax * ax) - ay * ay)


@njit(cache=True)
def rotations(pose: np.ndarray) -> np.ndarray:
    """Rotation matrices of axis-angle vectors (Rodrigues' formula).

    Parameters
    ----------
    pose
        Axis-angle vectors, shape ``(B, K, 3)``, float32, radians.

    Returns
    -------
    np.ndarray
        Rotations, shape ``(B, K, 3, 3)``, float32; a zero vector gives the identity exactly.
    """
    batch, n_joints = pose.shape[0], pose.shape[1]
    out = np.empty((batch, n_joints, 3, 3), dtype=np.float32)
    for b in range(batch):
        for k in range(n_joints):
            _rodrigues(pose[b, k, 0], pose[b, k, 1], pose[b, k, 2], out[b, k])
    return out


@njit(cache=True, parallel=True)
def regress_joints(regressor: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Joint positions as fixed weighted sums of vertices (FLAME's joint regressor).

    Parameters
    ----------
    regressor
        Shape ``(K, N)``, float32.
    vertices
        Shape ``(B, N, 3)``, float32.

    Returns
    -------
    np.ndarray
        Joints, shape ``(B, K, 3)``, float32; each sum runs over vertices in index order.
    """
    batch, n_joints, n = vertices.shape[0], regressor.shape[0], regressor.shape[1]
    out = np.zeros((batch, n_joints, 3), dtype=np.float32)
    for b in prange(batch):
        for k in range(n_joints):
            x = y = z = _ZERO
            for v in range(n):
                r = regressor[k, v]
                if r != _ZERO:
                    x = x + r * vertices[b, v, 0]
                    y = y + r * vertices[b, v, 1]
                    z = z + r * vertices[b, v, 2]
            out[b, k, 0], out[b, k, 1], out[b, k, 2] = x, y, z
    return out


@njit(cache=True)
def joint_transforms(rot: np.ndarray, joints: np.ndarray, parents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World rotations and translations of a kinematic tree, as linear blend skinning needs them.

    Parameters
    ----------
    rot
        Rotation of every joint relative to its parent, shape ``(B, K, 3, 3)``, float32 (:func:`rotations`).
    joints
        Rest positions of the joints, shape ``(Bj, K, 3)`` with ``Bj`` 1 or ``B``, float32.
    parents
        Parent of every joint, shape ``(K,)``, int64; ``-1`` at the root, parents before children.

    Returns
    -------
    delta, shift
        ``R_k − I``, shape ``(B, K, 3, 3)``, and ``t_k − R_k j_k``, shape ``(B, K, 3)``: joint ``k`` alone moves a
        rest vertex ``v`` to ``v + delta_k v + shift_k``.
    """
    batch, n_joints = rot.shape[0], rot.shape[1]
    delta = np.empty((batch, n_joints, 3, 3), dtype=np.float32)
    shift = np.empty((batch, n_joints, 3), dtype=np.float32)
    joint_step = 1 if joints.shape[0] > 1 else 0
    for b in range(batch):
        jnt = joints[b * joint_step]
        world = np.empty((n_joints, 3, 3), dtype=np.float32)
        trans = np.empty((n_joints, 3), dtype=np.float32)
        for k in range(n_joints):
            p = parents[k]
            if p < 0:
                world[k] = rot[b, k]
                trans[k] = jnt[k]
                continue
            for i in range(3):
                for j in range(3):
                    world[k, i, j] = (world[p, i, 0] * rot[b, k, 0, j] + world[p, i, 1] * rot[b, k, 1, j]
                                      + world[p, i, 2] * rot[b, k, 2, j])
            o0, o1, o2 = jnt[k, 0] - jnt[p, 0], jnt[k, 1] - jnt[p, 1], jnt[k, 2] - jnt[p, 2]
            for i in range(3):
                trans[k, i] = (world[p, i, 0] * o0 + world[p, i, 1] * o1 + world[p, i, 2] * o2) + trans[p, i]
        for k in range(n_joints):
            for i in range(3):
                shift[b, k, i] = trans[k, i] - (world[k, i, 0] * jnt[k, 0] + world[k, i, 1] * jnt[k, 1]
                                                + world[k, i, 2] * jnt[k, 2])
                for j in range(3):
                    delta[b, k, i, j] = world[k, i, j] - (_ONE if i == j else _ZERO)
    return delta, shift


@njit(cache=True, inline="always")
def _skin_face(vb, db, sb, offsets, joints, weights):
    n_joints = db.shape[0]
    moving = np.zeros(n_joints, dtype=np.bool_)
    any_moving = False
    for k in range(n_joints):
        m = sb[k, 0] != _ZERO or sb[k, 1] != _ZERO or sb[k, 2] != _ZERO
        for i in range(3):
            for j in range(3):
                m = m or db[k, i, j] != _ZERO
        moving[k] = m
        any_moving = any_moving or m
    if not any_moving:
        return
    for v in range(vb.shape[0]):
        x, y, z = vb[v, 0], vb[v, 1], vb[v, 2]
        ox, oy, oz = x, y, z
        for m in range(offsets[v], offsets[v + 1]):
            k = joints[m]
            if not moving[k]:
                continue
            w = weights[m]
            ox = ox + ((db[k, 0, 0] * x + db[k, 0, 1] * y + db[k, 0, 2] * z) + sb[k, 0]) * w
            oy = oy + ((db[k, 1, 0] * x + db[k, 1, 1] * y + db[k, 1, 2] * z) + sb[k, 1]) * w
            oz = oz + ((db[k, 2, 0] * x + db[k, 2, 1] * y + db[k, 2, 2] * z) + sb[k, 2]) * w
        vb[v, 0], vb[v, 1], vb[v, 2] = ox, oy, oz


@njit(cache=True, parallel=True)
def skin(vertices: np.ndarray, delta: np.ndarray, shift: np.ndarray, offsets: np.ndarray, joints: np.ndarray,
         weights: np.ndarray) -> None:
    """Linear blend skinning in place: ``v ← v + Σ_k w_k (delta_k v + shift_k)`` over the joints that move.

    Parameters
    ----------
    vertices
        Unposed vertices, shape ``(B, N, 3)``, float32; overwritten with the posed ones.
    delta, shift
        From :func:`joint_transforms`, shapes ``(B, K, 3, 3)`` and ``(B, K, 3)``.
    offsets, joints, weights
        Every vertex's joints as CSR, in joint order: vertex ``v``'s are ``joints[offsets[v]:offsets[v + 1]]``
        (int64) with the non-zero weights ``weights[offsets[v]:offsets[v + 1]]`` (float32). The sum runs in
        that order, as the torch path adds one joint after the other.
    """
    for b in prange(vertices.shape[0]):
        _skin_face(vertices[b], delta[b], shift[b], offsets, joints, weights)
