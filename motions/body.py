"""Body models: SMPL-X parameters -> world joints and a drawable mesh.

A body model turns a MotionClip into a PosedBody: 55 SMPL-X joints in the world, a mask of the
joints the model gives exactly, and a mesh the renderer can draw. Two implementations exist:
``motions.mannequin_body`` (default, mannequin-x, no licensed files) and ``motions.smplx_body``
(the licensed SMPL-X model through ``smplx``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from worldclips.motions.motion import MotionClip


@dataclass(frozen=True, eq=False)
class Skeleton:
    """Rest-pose skeleton of one body identity in the model's native frame (Y-up, facing +Z).

    rest_joints: (55, 3) float64 joint positions with all parameters zero (joints the model
        lacks are filled with the head joint position).
    joints_valid: (55,) bool, false for joints the model cannot give exactly.
    sole_height: native y of the lowest point of the feet in the rest pose.
    heel_lift: how far the heel's sole sits above the lowest point (under the ball of the foot)
        in the rest pose, metres; the generators tilt the feet by it to stand them flat.
    """

    rest_joints: np.ndarray
    joints_valid: np.ndarray
    sole_height: float
    heel_lift: float = 0.0


def measure_heel_lift(vertices: np.ndarray, rest_joints: np.ndarray, sole_height: float) -> float:
    """Mean over both feet of the lowest rest-pose vertex behind the ankle, above the sole (m).

    vertices: (V, 3) native rest-pose vertices; rest_joints: (55, 3); sole_height: native y.
    """
    lifts = []
    for ankle in (rest_joints[7], rest_joints[8]):
        heel = (
            (np.abs(vertices[:, 0] - ankle[0]) < 0.06) & (vertices[:, 1] < sole_height + 0.05)
            & (vertices[:, 2] < ankle[2] - 0.01) & (vertices[:, 2] > ankle[2] - 0.15)
        )  # fmt: skip
        if heel.any():
            lifts.append(float(vertices[heel, 1].min()) - sole_height)
    return max(float(np.mean(lifts)), 0.0) if lifts else 0.0


@dataclass(frozen=True, eq=False)
class SkinnedMesh:
    """A linear-blend-skinned mesh animated by per-frame bone matrices.

    rest_vertices: (V, 3) float32 bind-pose vertices.
    faces: (F, 3) uint32 triangle indices, counter-clockwise seen from outside.
    joint_indices: (V, 4) int32 bone index per influence.
    joint_weights: (V, 4) float32 weights per influence, summing to 1.
    bone_matrices: (T, B, 4, 4) float32 world_from_bind transform per bone and frame; a posed
        vertex is sum_k w_k * bone_matrices[t, j_k] @ [v, 1].
    """

    rest_vertices: np.ndarray
    faces: np.ndarray
    joint_indices: np.ndarray
    joint_weights: np.ndarray
    bone_matrices: np.ndarray

    def vertices(self, frame: int) -> np.ndarray:
        """(V, 3) float64 posed vertices of one frame, computed on the CPU."""
        bones = self.bone_matrices[frame].astype(np.float64)[self.joint_indices]  # (V, 4, 4, 4)
        blended = np.einsum("vk,vkij->vij", self.joint_weights.astype(np.float64), bones)
        return np.einsum("vij,vj->vi", blended[:, :3, :3], self.rest_vertices) + blended[:, :3, 3]


@dataclass(frozen=True, eq=False)
class VertexAnimatedMesh:
    """A mesh given by its vertex positions in every frame.

    frame_vertices: (T, V, 3) float32 world positions.
    faces: (F, 3) uint32 triangle indices, counter-clockwise seen from outside.
    """

    frame_vertices: np.ndarray
    faces: np.ndarray

    def vertices(self, frame: int) -> np.ndarray:
        """(V, 3) float64 world vertices of one frame."""
        return self.frame_vertices[frame].astype(np.float64)


BodyMesh = SkinnedMesh | VertexAnimatedMesh


@dataclass(frozen=True, eq=False)
class PosedBody:
    """One person's geometry over a clip.

    joints: (T, 55, 3) float64 world joint positions (SMPL-X order).
    joints_valid: (55,) bool, false where the model cannot give the joint exactly.
    mesh: the surface, skinned or per-frame vertices.
    foot_contact: optional (T, 4) bool ground contacts of the left heel, left toe, right heel
        and right toe (motions.generated.CONTACT_POINTS); set by the scene builder.
    vertex_regions: optional (V,) uint8 body region of each mesh vertex (motions.body_regions),
        from the model's own skinning weights; outfits are coloured by it.
    """

    joints: np.ndarray
    joints_valid: np.ndarray
    mesh: BodyMesh
    foot_contact: np.ndarray | None = None
    vertex_regions: np.ndarray | None = None


class BodyModel(Protocol):
    """What scenes and motions need from a body model."""

    name: str

    def skeleton(self, betas: np.ndarray) -> Skeleton:
        """Rest skeleton of the identity with these (10,) betas."""
        ...

    def pose(self, motion: MotionClip) -> PosedBody:
        """World joints and mesh of a motion."""
        ...
