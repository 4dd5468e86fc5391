"""From per-frame body targets (pelvis, feet, spine, arms, head) to a MotionClip.

The generators describe a motion by where the pelvis and the feet should be and how the upper
body should move; this module lowers the pelvis (smoothly) wherever a leg could not reach its
foot, solves the legs by two-bone IK, fills spine, arms, head and hands, and converts everything
into SMPL-X local axis-angle parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motions.conventions import NUM_JOINTS
from motions.feet import foot_rotation
from motions.generated import assemble_motion
from motions.ik import REACH_FRACTION, leg_rotations, max_pelvis_height, smooth_ceiling, two_bone_ik
from motions.kinematics import normalize, rot_x
from motions.motion import MotionClip
from motions.rig import LEG_JOINTS, SIDES, Rig
from motions.upper_body import set_arms, set_hands, set_head, set_spine


@dataclass(frozen=True, eq=False)
class BodyTargets:
    """What a procedural motion asks of the body over T frames (world frame, metres, radians).

    pelvis_rotation: (T, 3, 3) world rotation of the pelvis (includes WORLD_FROM_NATIVE).
    pelvis: (T, 3) pelvis joint position; z is the wished height, lowered where a leg falls short.
    ankle: (T, 2, 3) ankle joint targets (left, right); foot_yaw, foot_pitch, toe_flex: (T, 2)
        (see motions.feet).
    spine: (T, 3) total spine flexion, twist and tilt (see motions.upper_body.set_spine).
    arm_swing, elbow: (T, 2) forward shoulder swing and elbow flexion (left, right).
    head: (T, 3, 3) world orientation the head should have.
    """

    pelvis_rotation: np.ndarray
    pelvis: np.ndarray
    ankle: np.ndarray
    foot_yaw: np.ndarray
    foot_pitch: np.ndarray
    toe_flex: np.ndarray
    spine: np.ndarray
    arm_swing: np.ndarray
    elbow: np.ndarray
    head: np.ndarray


def reachable_pelvis(rig: Rig, targets: BodyTargets, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """(pelvis (T, 3), hips (T, 2, 3)) with the pelvis lowered smoothly so both ankles are reachable."""
    pelvis = targets.pelvis.copy()
    hip_offset = np.einsum("tij,sj->tsi", targets.pelvis_rotation, rig.hip_offset)
    reach = REACH_FRACTION * (rig.thigh_length + rig.shin_length)
    ceiling = max_pelvis_height(pelvis[:, 2], pelvis[:, None] + hip_offset, targets.ankle, reach)
    pelvis[:, 2] = smooth_ceiling(pelvis[:, 2], ceiling, radius)
    return pelvis, pelvis[:, None] + hip_offset


def synthesize(rig: Rig, betas: np.ndarray, fps: float, targets: BodyTargets, radius: int) -> MotionClip:
    """MotionClip reaching ``targets``; ``radius`` (frames) is the smoothing of the pelvis lowering."""
    frames = targets.pelvis.shape[0]
    pelvis, hips = reachable_pelvis(rig, targets, radius)
    rotation = targets.pelvis_rotation
    local = np.broadcast_to(np.eye(3), (frames, NUM_JOINTS, 3, 3)).copy()
    pelvis_forward = normalize(rotation[:, :, 2] * np.array([1.0, 1.0, 0.0]))
    for side, name in enumerate(SIDES):
        yaw = targets.foot_yaw[:, side]
        foot_forward = np.stack([np.cos(yaw), np.sin(yaw), np.zeros_like(yaw)], axis=-1)
        knee_forward = normalize(pelvis_forward + 0.5 * foot_forward)  # never zero: the pelvis dominates
        thigh, shin = two_bone_ik(hips[:, side], targets.ankle[:, side], knee_forward, rig.thigh[side], rig.shin[side])
        foot = foot_rotation(yaw, targets.foot_pitch[:, side])
        hip_j, knee_j, ankle_j, toe_j = LEG_JOINTS[name]
        local[:, hip_j], local[:, knee_j], local[:, ankle_j] = leg_rotations(thigh, shin, foot, rotation)
        local[:, toe_j] = rot_x(targets.toe_flex[:, side])
    set_spine(local, *targets.spine.T)
    set_arms(local, targets.arm_swing, targets.elbow)
    set_hands(local)
    set_head(local, rotation, targets.head)
    return assemble_motion(rig.rest_joints, betas, fps, rotation, pelvis, local)
