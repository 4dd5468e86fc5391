"""Analytic two-bone leg IK and the pelvis height limit that keeps both ankles reachable.

The knee lies in the plane through the hip, the ankle target and the body's forward direction,
on the forward side, so knees always bend forwards. Each bone's world rotation maps its rest
frame (bone direction, native +X) onto its posed frame (bone direction, the knee axis), which
fixes the bone's twist: the knee's hinge axis stays the body's left-right axis.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from worldclips.motions.kinematics import frame_from_vectors, normalize, transpose

NATIVE_LEFT = np.array([1.0, 0.0, 0.0])
REACH_FRACTION = 0.997  # the leg never straightens beyond this share of thigh + shin (knee bent >= ~9 deg)


def two_bone_ik(
    hip: np.ndarray, target: np.ndarray, forward: np.ndarray, thigh_rest: np.ndarray, shin_rest: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """World rotations (thigh (T, 3, 3), shin (T, 3, 3)) that bring the ankle to ``target``.

    hip, target, forward: (T, 3) world hip joint, ankle target and the direction the knee should
    point to (need not be unit or perpendicular to the leg); thigh_rest, shin_rest: (3,) rest
    knee - hip and ankle - knee. A target out of reach is approached along the hip-target line.
    """
    l1, l2 = float(np.linalg.norm(thigh_rest)), float(np.linalg.norm(shin_rest))
    delta = target - hip
    distance = np.clip(np.linalg.norm(delta, axis=-1), abs(l1 - l2) + 1e-6, (l1 + l2) * (1.0 - 1e-9))
    along = normalize(delta)
    axis = normalize(np.cross(forward, along))  # the knee's hinge axis, pointing to the body's left
    bend = np.cross(along, axis)  # in the leg plane, perpendicular to the leg, towards forward
    cos_a = np.clip((l1**2 + distance**2 - l2**2) / (2.0 * l1 * distance), -1.0, 1.0)
    knee = hip + l1 * (cos_a[:, None] * along + np.sqrt(1.0 - cos_a**2)[:, None] * bend)
    ankle = hip + distance[:, None] * along
    thigh = frame_from_vectors(knee - hip, axis) @ frame_from_vectors(thigh_rest, NATIVE_LEFT).T
    shin = frame_from_vectors(ankle - knee, axis) @ frame_from_vectors(shin_rest, NATIVE_LEFT).T
    return thigh, shin


def max_pelvis_height(pelvis_z: np.ndarray, hip: np.ndarray, ankle: np.ndarray, reach: np.ndarray) -> np.ndarray:
    """(T,) highest pelvis z at which every leg reaches its ankle target within ``reach`` (2,).

    pelvis_z: (T,) current pelvis heights; hip, ankle: (T, 2, 3) hip joints at those heights and
    ankle targets. Moving the pelvis vertically moves the hips by the same amount.
    """
    horizontal = np.linalg.norm(ankle[..., :2] - hip[..., :2], axis=-1)
    vertical = np.sqrt(np.maximum(reach**2 - horizontal**2, 0.0))
    highest_hip = ankle[..., 2] + vertical
    return np.min(pelvis_z[:, None] + highest_hip - hip[..., 2], axis=1)


def smooth_ceiling(desired: np.ndarray, ceiling: np.ndarray, radius: int) -> np.ndarray:
    """``desired`` (T,) lowered smoothly so that it never exceeds ``ceiling`` (T,).

    The excess is spread by a running maximum over 2 radius + 1 frames followed by two running
    means whose half-widths sum to at most ``radius``: every mean then covers only maxima taken
    over windows containing the frame itself, so the result stays below the ceiling everywhere.
    """
    excess = np.maximum(desired - ceiling, 0.0)
    if radius < 1 or not np.any(excess > 0):
        return desired - excess
    spread = maximum_filter1d(excess, size=2 * radius + 1, mode="nearest")
    first = max(radius // 2, 0)
    second = radius - first
    spread = uniform_filter1d(spread, size=2 * first + 1, mode="nearest")
    spread = uniform_filter1d(spread, size=2 * second + 1, mode="nearest")
    return desired - np.maximum(spread, excess)


def leg_rotations(thigh: np.ndarray, shin: np.ndarray, foot: np.ndarray, pelvis: np.ndarray) -> tuple:
    """Local rotations (hip, knee, ankle) (T, 3, 3) from world thigh, shin, foot and pelvis rotations."""
    return transpose(pelvis) @ thigh, transpose(thigh) @ shin, transpose(shin) @ foot
