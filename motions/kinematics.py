"""Rotation helpers and SMPL-X forward kinematics on a rest Skeleton, vectorised over frames.

SMPL-X kinematics: every joint's rest frame is axis-aligned with the native frame, so a joint's
local rotation is ``R_local = G_parent^T G_joint`` (G: rotation of the joint in the world) and a
child lands at ``p_child = p_parent + G_parent (rest_child - rest_parent)``.
"""

from __future__ import annotations

import numpy as np

from worldclips.motions.conventions import NUM_JOINTS, SMPLX_PARENTS, matrix_to_axis_angle


def axis_rotation(axis: np.ndarray, angle: np.ndarray | float) -> np.ndarray:
    """Rotations by (...,) ``angle`` about a fixed (3,) ``axis`` -> (..., 3, 3) (Rodrigues)."""
    axis = np.asarray(axis, dtype=np.float64)
    axis = axis / np.linalg.norm(axis)
    angle = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(angle)[..., None, None], np.sin(angle)[..., None, None]
    x, y, z = axis
    k = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    return np.eye(3) + s * k + (1.0 - c) * (k @ k)


def rot_x(angle: np.ndarray | float) -> np.ndarray:
    """(...,) angles -> (..., 3, 3) rotations about +X."""
    return axis_rotation(np.array([1.0, 0.0, 0.0]), angle)


def rot_y(angle: np.ndarray | float) -> np.ndarray:
    """(...,) angles -> (..., 3, 3) rotations about +Y."""
    return axis_rotation(np.array([0.0, 1.0, 0.0]), angle)


def rot_z(angle: np.ndarray | float) -> np.ndarray:
    """(...,) angles -> (..., 3, 3) rotations about +Z."""
    return axis_rotation(np.array([0.0, 0.0, 1.0]), angle)


def rotvec_to_matrix(rotvec: np.ndarray) -> np.ndarray:
    """(..., 3) rotation vectors -> (..., 3, 3) matrices (Rodrigues, safe at zero)."""
    rotvec = np.asarray(rotvec, dtype=np.float64)
    angle = np.linalg.norm(rotvec, axis=-1)[..., None, None]
    safe = np.where(angle > 1e-12, angle, 1.0)
    x, y, z = np.moveaxis(rotvec, -1, 0)
    zero = np.zeros_like(x)
    k = np.stack([np.stack([zero, -z, y], -1), np.stack([z, zero, -x], -1), np.stack([-y, x, zero], -1)], -2)
    a = np.where(angle > 1e-12, np.sin(angle) / safe, 1.0)
    b = np.where(angle > 1e-12, (1.0 - np.cos(angle)) / safe**2, 0.5)
    return np.eye(3) + a * k + b * (k @ k)


def matrix_to_rotvec(matrix: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation matrices -> (..., 3) rotation vectors (angle in [0, pi])."""
    return matrix_to_axis_angle(matrix)


def blend_rotations(a: np.ndarray, b: np.ndarray, weight: np.ndarray | float) -> np.ndarray:
    """(..., 3, 3) rotations from ``a`` towards ``b`` by (...,) weights in [0, 1] along the geodesic."""
    relative = matrix_to_rotvec(np.swapaxes(a, -1, -2) @ b)
    return a @ rotvec_to_matrix(np.asarray(weight, dtype=np.float64)[..., None] * relative)


def normalize(vectors: np.ndarray) -> np.ndarray:
    """(..., 3) vectors scaled to unit length."""
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def frame_from_vectors(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """(..., 3, 3) orthonormal frames with columns (primary, secondary made orthogonal, their cross)."""
    e1 = normalize(primary)
    e2 = normalize(secondary - np.sum(secondary * e1, axis=-1, keepdims=True) * e1)
    return np.stack([e1, e2, np.cross(e1, e2)], axis=-1)


def transpose(matrices: np.ndarray) -> np.ndarray:
    """Swap the last two axes (the inverse of rotation matrices)."""
    return np.swapaxes(matrices, -1, -2)


def smoothstep(x: np.ndarray | float) -> np.ndarray:
    """Cubic ease 3x^2 - 2x^3 of x clipped to [0, 1]: zero slope at both ends."""
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def minimum_jerk(x: np.ndarray | float) -> np.ndarray:
    """Quintic ease 10x^3 - 15x^4 + 6x^5 of x clipped to [0, 1]: zero velocity and acceleration at the ends."""
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    return x**3 * (10.0 + x * (-15.0 + 6.0 * x))


def forward_kinematics(
    rest_joints: np.ndarray, pelvis_rotation: np.ndarray, pelvis_position: np.ndarray, local: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """World rotations and positions of all joints.

    rest_joints: (55, 3) native rest positions; pelvis_rotation: (T, 3, 3) world rotation of the
    pelvis; pelvis_position: (T, 3); local: (T, 55, 3, 3) local rotations (entry 0 is ignored).
    Returns (rotations (T, 55, 3, 3), positions (T, 55, 3)).
    """
    frames = pelvis_rotation.shape[0]
    rotations = np.empty((frames, NUM_JOINTS, 3, 3))
    positions = np.empty((frames, NUM_JOINTS, 3))
    rotations[:, 0], positions[:, 0] = pelvis_rotation, pelvis_position
    for joint in range(1, NUM_JOINTS):
        parent = SMPLX_PARENTS[joint]
        offset = rest_joints[joint] - rest_joints[parent]
        rotations[:, joint] = rotations[:, parent] @ local[:, joint]
        positions[:, joint] = positions[:, parent] + rotations[:, parent] @ offset
    return rotations, positions


def chain_rotation(pelvis_rotation: np.ndarray, local: np.ndarray, joint: int) -> np.ndarray:
    """(T, 3, 3) world rotation of ``joint`` from the pelvis rotation and (T, 55, 3, 3) locals."""
    chain = []
    while joint > 0:
        chain.append(joint)
        joint = SMPLX_PARENTS[joint]
    rotation = pelvis_rotation
    for j in reversed(chain):
        rotation = rotation @ local[:, j]
    return rotation



def keyframes(t: np.ndarray, times: list[float] | np.ndarray, values: list | np.ndarray) -> np.ndarray:
    """Values at times ``t`` (T,) from keys (K,) -> (K, ...) eased between consecutive keys.

    Between two keys the value follows a minimum-jerk curve (zero velocity and acceleration at
    every key); before the first and after the last key it is held. Key times must not decrease.
    """
    times = np.asarray(times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    index = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 1)
    following = np.minimum(index + 1, len(times) - 1)
    span = times[following] - times[index]
    u = np.where(span > 0, (t - times[index]) / np.where(span > 0, span, 1.0), 0.0)
    ease = minimum_jerk(u).reshape(-1, *([1] * (values.ndim - 1)))
    return values[index] + (values[following] - values[index]) * ease
