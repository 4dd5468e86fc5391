"""Ground alignment of posed bodies: the lowest foot point per frame, and shifting a body up or down.

A motion is aligned by one vertical shift for the whole clip, so that the lowest foot vertex
over all frames touches z = 0: feet in stance then stand on the ground and nothing goes below it
(a jump keeps its flight). Feet are the vertices within FOOT_HEIGHT of the sole in the bind
pose for skinned bodies; for per-frame vertex meshes (SMPL-X) the lowest vertex of the body.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from worldclips.motions.body import PosedBody, SkinnedMesh, VertexAnimatedMesh
from worldclips.motions.motion import MotionClip

FOOT_HEIGHT = 0.12  # m above the sole in the bind pose


def foot_mask(mesh: SkinnedMesh, sole_height: float) -> np.ndarray:
    """(V,) bool, the bind-pose vertices within FOOT_HEIGHT of the sole (native y is up)."""
    return mesh.rest_vertices[:, 1] < sole_height + FOOT_HEIGHT


def lowest_foot_heights(posed: PosedBody, sole_height: float) -> np.ndarray:
    """(T,) height of the lowest foot vertex in every frame."""
    mesh = posed.mesh
    if isinstance(mesh, VertexAnimatedMesh):
        return mesh.frame_vertices[..., 2].min(axis=1).astype(np.float64)
    mask = foot_mask(mesh, sole_height)
    indices, weights = mesh.joint_indices[mask], mesh.joint_weights[mask].astype(np.float64)
    rest = mesh.rest_vertices[mask].astype(np.float64)
    out = np.empty(mesh.bone_matrices.shape[0])
    for frame, bones in enumerate(mesh.bone_matrices.astype(np.float64)):
        picked = bones[indices]  # (V, K, 4, 4)
        z = np.einsum("vkj,vj->vk", picked[:, :, 2, :3], rest) + picked[:, :, 2, 3]
        out[frame] = np.min(np.sum(z * weights, axis=1))
    return out


def shift_posed(posed: PosedBody, dz: float) -> PosedBody:
    """The same body moved up by ``dz`` metres (joints, bone matrices or vertices)."""
    joints = posed.joints.copy()
    joints[..., 2] += dz
    mesh = posed.mesh
    if isinstance(mesh, SkinnedMesh):
        bones = mesh.bone_matrices.copy()
        bones[..., 2, 3] += dz
        mesh = dataclasses.replace(mesh, bone_matrices=bones)
    else:
        vertices = mesh.frame_vertices.copy()
        vertices[..., 2] += dz
        mesh = dataclasses.replace(mesh, frame_vertices=vertices)
    return dataclasses.replace(posed, joints=joints, mesh=mesh)


def shift_motion(motion: MotionClip, dz: float) -> MotionClip:
    """The same motion moved up by ``dz`` metres."""
    transl = motion.transl.astype(np.float64).copy()
    transl[:, 2] += dz
    values = motion.frame_arrays()
    values["transl"] = transl
    return MotionClip(fps=motion.fps, betas=motion.betas, **values)
