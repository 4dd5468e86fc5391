"""Heel and toe points of the feet, and foot contacts detected from their height and speed.

For any SMPL-X motion (procedural or mocap): the heel point is the back of the sole under the
ankle and the toe point the sole under the toe (ball) joint, both fixed to their joints
(motions.rig.Rig.heel_point / toe_point, measured on the rest pose). A point is in contact
when it is within CONTACT_HEIGHT of the ground and moves slower than CONTACT_SPEED.
"""

from __future__ import annotations

import numpy as np

from worldclips.motions.generated import local_rotations
from worldclips.motions.kinematics import forward_kinematics
from worldclips.motions.motion import MotionClip
from worldclips.motions.rig import LEG_JOINTS, SIDES, Rig

CONTACT_HEIGHT = 0.03  # m above the ground
CONTACT_SPEED = 0.25  # m/s (3D), below which a point on the ground counts as not sliding


def foot_points(rig: Rig, motion: MotionClip) -> np.ndarray:
    """(T, 4, 3) world heel and toe points (left heel, left toe, right heel, right toe)."""
    pelvis_rotation, pelvis, local = local_rotations(motion, rig.rest_joints)
    rotations, positions = forward_kinematics(rig.rest_joints, pelvis_rotation, pelvis, local)
    points = []
    for side, name in enumerate(SIDES):
        _, _, ankle, toe = LEG_JOINTS[name]
        points.append(positions[:, ankle] + rotations[:, ankle] @ rig.heel_point[side])
        points.append(positions[:, toe] + rotations[:, toe] @ rig.toe_point[side])
    return np.stack(points, axis=1)


def point_speed(points: np.ndarray, fps: float) -> np.ndarray:
    """(T, K) speed (m/s) of (T, K, 3) points by central differences (one-sided at the ends)."""
    if len(points) < 2:
        return np.zeros(points.shape[:2])
    return np.linalg.norm(np.gradient(points, axis=0), axis=-1) * fps


def detect_contacts(points: np.ndarray, fps: float) -> np.ndarray:
    """(T, 4) bool: each point low (z < CONTACT_HEIGHT) and slow (< CONTACT_SPEED)."""
    return (points[..., 2] < CONTACT_HEIGHT) & (point_speed(points, fps) < CONTACT_SPEED)
