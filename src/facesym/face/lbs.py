"""Linear blend skinning: rotate mesh vertices about a kinematic tree of joints (FLAME's jaw, the head).

The algorithm is the standard one of SMPL/FLAME (Loper et al. 2015; Li et al. 2017): joint rotations given as
axis-angle vectors are chained along the tree into rigid transforms, and each vertex moves by the blend of its
joints' transforms, weighted by its skinning weights.
"""

from __future__ import annotations

import torch

__all__ = ["axis_angle_to_matrix", "linear_blend_skinning"]


def axis_angle_to_matrix(rotvec: torch.Tensor) -> torch.Tensor:
    """Rodrigues' formula.

    Parameters
    ----------
    rotvec
        Axis-angle vectors, shape ``(..., 3)``; direction = axis, norm = angle in radians.

    Returns
    -------
    torch.Tensor
        Rotation matrices, shape ``(..., 3, 3)``. A zero vector gives the identity exactly.
    """
    angle = torch.linalg.vector_norm(rotvec, dim=-1, keepdim=True)
    # Dividing by angle + eps keeps the zero rotation finite; the skew matrix is then exactly zero.
    axis = rotvec / (angle + 1e-8)
    x, y, z = axis.unbind(-1)
    zero = torch.zeros_like(x)
    skew = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], dim=-1).reshape(*rotvec.shape[:-1], 3, 3)
    sin = torch.sin(angle)[..., None]
    cos = torch.cos(angle)[..., None]
    eye = torch.eye(3, dtype=rotvec.dtype, device=rotvec.device).expand_as(skew)
    return eye + sin * skew + (1.0 - cos) * (skew @ skew)


def linear_blend_skinning(
    vertices: torch.Tensor,
    pose: torch.Tensor,
    joints: torch.Tensor,
    parents: torch.Tensor,
    weights: torch.Tensor,
    posedirs: torch.Tensor | None = None,
) -> torch.Tensor:
    """Pose a batch of meshes.

    Parameters
    ----------
    vertices
        Unposed vertices, shape ``(B, N, 3)``.
    pose
        Axis-angle rotation of every joint relative to its parent, shape ``(B, 3K)`` (joint-major), radians.
    joints
        Rest positions of the joints, shape ``(B, K, 3)`` or ``(K, 3)``, same units as ``vertices``.
    parents
        Parent index of every joint, shape ``(K,)`` int64; the root has ``-1`` and every parent precedes its
        children.
    weights
        Skinning weights, shape ``(N, K)``; rows sum to one.
    posedirs
        Optional pose-corrective blendshapes, shape ``(9(K-1), 3N)``, driven by the entries of
        ``R_k - I`` of the non-root joints (FLAME's convention).

    Returns
    -------
    torch.Tensor
        Posed vertices, shape ``(B, N, 3)``.
    """
    batch, n_vertices, _ = vertices.shape
    n_joints = parents.shape[0]
    if pose.shape != (batch, 3 * n_joints):
        raise ValueError(f"pose must have shape ({batch}, {3 * n_joints}), got {tuple(pose.shape)}")
    if joints.dim() == 2:
        joints = joints.expand(batch, -1, -1)
    rot = axis_angle_to_matrix(pose.reshape(batch, n_joints, 3))

    if posedirs is not None and n_joints > 1:
        eye = torch.eye(3, dtype=rot.dtype, device=rot.device)
        pose_feature = (rot[:, 1:] - eye).reshape(batch, -1)
        vertices = vertices + (pose_feature @ posedirs).reshape(batch, n_vertices, 3)

    # Chain local transforms (rotation about the joint's rest position) from the root down the tree.
    world_rot = [rot[:, 0]]
    world_trans = [joints[:, 0]]
    for k in range(1, n_joints):
        p = int(parents[k])
        world_rot.append(world_rot[p] @ rot[:, k])
        offset = (joints[:, k] - joints[:, p])[..., None]
        world_trans.append((world_rot[p] @ offset)[..., 0] + world_trans[p])
    r_world = torch.stack(world_rot, dim=1)  # (B, K, 3, 3)
    t_world = torch.stack(world_trans, dim=1)  # (B, K, 3)
    # A vertex at rest position v moves to R_k (v - j_k) + t_k under joint k alone.
    t_rel = t_world - (r_world @ joints[..., None])[..., 0]
    # Σ_k w_k (R_k v + t_k) = v + Σ_k w_k ((R_k − I) v + t_k) since the weights sum to one: joint by joint, only
    # for the vertices a joint moves and only for joints that move at all (a face model's jaw moves a third of
    # its vertices; its head joint usually not at all). Much cheaper than a 3×3 matrix blended per vertex.
    out = vertices.clone()
    eye = torch.eye(3, dtype=vertices.dtype, device=vertices.device)
    for k in range(n_joints):
        delta = r_world[:, k] - eye
        if not (bool(delta.any()) or bool(t_rel[:, k].any())):
            continue
        idx = torch.nonzero(weights[:, k])[:, 0]
        part = vertices[:, idx]
        moved = part @ delta.transpose(1, 2) + t_rel[:, k, None, :]
        out[:, idx] += moved * weights[idx, k][None, :, None]
    return out
