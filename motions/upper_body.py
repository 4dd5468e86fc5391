"""Spine, arms, head and hands for the procedural motions, written into (T, 55, 3, 3) local rotations.

Native axes of every joint frame: +X the body's left, +Y up, +Z forward. A rotation about +X
by a positive angle bends forwards (flexion for spine and neck), about +Y turns to the left and
about +Z tilts the top to the right (the left side up). The rest pose is a T-pose: the arms
are lowered by rotating the shoulders about Z (left negative, right positive).
"""

from __future__ import annotations

import numpy as np

from worldclips.motions.conventions import joint_index, matrix_to_axis_angle
from worldclips.motions.kinematics import chain_rotation, rot_x, rot_y, rot_z, rotvec_to_matrix, transpose

SPINE = tuple(joint_index(n) for n in ("spine1", "spine2", "spine3"))
NECK, HEAD = joint_index("neck"), joint_index("head")
SHOULDERS = (joint_index("left_shoulder"), joint_index("right_shoulder"))
ELBOWS = (joint_index("left_elbow"), joint_index("right_elbow"))
WRISTS = (joint_index("left_wrist"), joint_index("right_wrist"))
HAND_START = (joint_index("left_index1"), joint_index("right_index1"))
ARM_DOWN = 1.35  # rad the shoulders rotate the T-pose arms down (about 12 degrees off the body)
MIRROR = np.array([1.0, -1.0])  # left, right: rotations about Y and Z flip sign between sides

# Relaxed finger curl (rad about the finger's bending axis), per hand joint in SMPL-X order:
# index, middle, pinky, ring (three joints each), then thumb.
FINGER_CURL = np.array(
    [0.30, 0.45, 0.30, 0.35, 0.50, 0.30, 0.50, 0.55, 0.35, 0.45, 0.50, 0.35, 0.0, 0.0, 0.0]
)  # fmt: skip


def set_spine(local: np.ndarray, flexion: np.ndarray, twist: np.ndarray, tilt: np.ndarray) -> None:
    """Spread (T,) forward flexion, twist (to the left) and tilt (left side up) over the three spine joints."""
    rotvec = np.stack([flexion, twist, tilt], axis=-1) / len(SPINE)
    rotation = rotvec_to_matrix(rotvec)
    for joint in SPINE:
        local[:, joint] = rotation


def set_arms(local: np.ndarray, swing: np.ndarray, elbow: np.ndarray) -> None:
    """Lowered arms swinging forwards by (T, 2) angles (left, right) with (T, 2) elbow flexion."""
    for side in (0, 1):
        lower = rot_z(-MIRROR[side] * ARM_DOWN)
        local[:, SHOULDERS[side]] = rot_x(-swing[:, side]) @ lower
        local[:, ELBOWS[side]] = rot_y(-MIRROR[side] * elbow[:, side])
        local[:, WRISTS[side]] = rot_z(np.full(len(swing), -MIRROR[side] * 0.1))  # slight palmar flexion


def set_hands(local: np.ndarray, curl: float | np.ndarray = 1.0) -> None:
    """Relaxed, slightly curled fingers; ``curl`` (a number or (T, 2) per side) scales the curl."""
    curl = np.broadcast_to(np.asarray(curl, dtype=np.float64), (len(local), 2))
    for side in (0, 1):
        rotation = rot_z(-MIRROR[side] * curl[:, side, None] * FINGER_CURL)
        local[:, HAND_START[side] : HAND_START[side] + len(FINGER_CURL)] = rotation


def set_head(local: np.ndarray, pelvis_rotation: np.ndarray, head_world: np.ndarray) -> None:
    """Split the rotation from the chest to the (T, 3, 3) world head orientation over neck and head."""
    chest = chain_rotation(pelvis_rotation, local, SPINE[-1])
    half = rotvec_to_matrix(0.5 * matrix_to_axis_angle(transpose(chest) @ head_world))
    local[:, NECK] = half
    local[:, HEAD] = half
