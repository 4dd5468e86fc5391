"""Analytic two-bone arm IK: put a wrist on a world target, the elbow bending towards a pole.

The elbow is a hinge: its axis is the same in the upper arm and the forearm, so the elbow's
local rotation is a pure flexion about the axis the rest pose bends about (native +Y / -Y for
the right / left arm, bending the forearm forwards, as ``motions.upper_body.set_arms`` does).
The upper arm's twist follows from that axis. ``pole`` is the direction (world) the elbow is
pushed towards, away from the shoulder-wrist line; it need not be unit or perpendicular.
"""

from __future__ import annotations

import numpy as np

from worldclips.motions.conventions import joint_index
from worldclips.motions.kinematics import blend_rotations, forward_kinematics, frame_from_vectors, normalize, transpose

ARM_JOINTS = tuple(
    tuple(joint_index(f"{side}_{name}") for name in ("collar", "shoulder", "elbow", "wrist")) for side in ("left", "right")
)
NATIVE_FORWARD = np.array([0.0, 0.0, 1.0])
ARM_REACH = 0.995  # the arm never straightens beyond this share of upper arm + forearm


def arm_lengths(rest_joints: np.ndarray, side: int) -> tuple[float, float]:
    """(upper arm, forearm) lengths of one side from (55, 3) rest joints."""
    _, shoulder, elbow, wrist = ARM_JOINTS[side]
    return (
        float(np.linalg.norm(rest_joints[elbow] - rest_joints[shoulder])),
        float(np.linalg.norm(rest_joints[wrist] - rest_joints[elbow])),
    )


def arm_ik(
    rest_joints: np.ndarray, side: int, collar: np.ndarray, shoulder: np.ndarray, target: np.ndarray, pole: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Local rotations (shoulder (T, 3, 3), elbow (T, 3, 3)) that bring the wrist to ``target``.

    rest_joints: (55, 3) native rest joints; collar: (T, 3, 3) world rotation of the collar;
    shoulder, target, pole: (T, 3) world shoulder joint, wrist target and elbow pole direction.
    A target out of reach is approached along the shoulder-target line.
    """
    _, s_j, e_j, w_j = ARM_JOINTS[side]
    upper_rest = rest_joints[e_j] - rest_joints[s_j]
    fore_rest = rest_joints[w_j] - rest_joints[e_j]
    l1, l2 = float(np.linalg.norm(upper_rest)), float(np.linalg.norm(fore_rest))
    delta = target - shoulder
    distance = np.clip(np.linalg.norm(delta, axis=-1), abs(l1 - l2) + 1e-4, ARM_REACH * (l1 + l2))
    along = normalize(delta)
    bend = pole - np.sum(pole * along, axis=-1, keepdims=True) * along
    fallback = np.cross(along, [0.0, 0.0, 1.0]) + 1e-3 * np.array([1.0, 0.0, 0.0])
    small = np.linalg.norm(bend, axis=-1, keepdims=True) < 1e-6
    bend = normalize(np.where(small, fallback, bend))
    cos_a = np.clip((l1**2 + distance**2 - l2**2) / (2.0 * l1 * distance), -1.0, 1.0)
    elbow = shoulder + l1 * (cos_a[:, None] * along + np.sqrt(1.0 - cos_a**2)[:, None] * bend)
    wrist = shoulder + distance[:, None] * along
    hinge = normalize(np.cross(bend, along))
    hinge_rest = normalize(np.cross(upper_rest, NATIVE_FORWARD))
    upper = frame_from_vectors(elbow - shoulder, hinge) @ frame_from_vectors(upper_rest, hinge_rest).T
    fore = frame_from_vectors(wrist - elbow, hinge) @ frame_from_vectors(fore_rest, hinge_rest).T
    return transpose(collar) @ upper, transpose(upper) @ fore


def apply_hand_targets(
    rest_joints: np.ndarray,
    local: np.ndarray,
    pelvis_rotation: np.ndarray,
    pelvis: np.ndarray,
    hand: np.ndarray,
    weight: np.ndarray,
    pole: np.ndarray,
) -> None:
    """Blend the arms of (T, 55, 3, 3) ``local`` towards wrists on (T, 2, 3) ``hand`` targets.

    weight: (T, 2) in [0, 1] (0 keeps the arm as it is); pole: (T, 2, 3) world elbow poles.
    """
    rotations, positions = forward_kinematics(rest_joints, pelvis_rotation, pelvis, local)
    for side in (0, 1):
        w = np.clip(weight[:, side], 0.0, 1.0)
        if not np.any(w > 0):
            continue
        collar, shoulder_j, elbow_j, _ = ARM_JOINTS[side]
        shoulder, elbow = arm_ik(rest_joints, side, rotations[:, collar], positions[:, shoulder_j], hand[:, side], pole[:, side])
        local[:, shoulder_j] = blend_rotations(local[:, shoulder_j], shoulder, w)
        local[:, elbow_j] = blend_rotations(local[:, elbow_j], elbow, w)
