"""From per-frame body targets (pelvis, feet, spine, arms, head) to a MotionClip.

The generators describe a motion by where the pelvis and the feet should be and how the upper
body should move; this module lowers the pelvis (smoothly) wherever a leg could not reach its
foot, solves the legs by two-bone IK, fills spine, arms, head and hands, and converts everything
into SMPL-X local axis-angle parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from worldclips.motions.conventions import NUM_JOINTS
from worldclips.motions.feet import foot_rotation
from worldclips.motions.arms import apply_hand_targets
from worldclips.motions.generated import assemble_motion
from worldclips.motions.ik import REACH_FRACTION, leg_rotations, max_pelvis_height, smooth_ceiling, two_bone_ik
from worldclips.motions.kinematics import normalize, rot_x
from worldclips.motions.motion import MotionClip
from worldclips.motions.rig import LEG_JOINTS, SIDES, Rig
from worldclips.motions.upper_body import set_arms, set_hands, set_head, set_spine


SWING_REACH = 0.95  # a leg in the air extends to at most this share of thigh + shin
DOWN_EASE = 0.04  # s, Gaussian easing of the feet's ground contact for the reach limit


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
    hand: optional (T, 2, 3) world wrist targets, reached by arm IK where ``hand_weight`` (T, 2)
        is 1 and blended with the swinging arm in between (0: the target is ignored).
    elbow_pole: optional (T, 2, 3) world directions the elbows bend towards (default: down,
        back and out from the pelvis).
    finger_curl: optional (T, 2) scale of the relaxed finger curl (1 relaxed, ~2.5 a fist).
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
    hand: np.ndarray | None = None
    hand_weight: np.ndarray | None = None
    elbow_pole: np.ndarray | None = None
    finger_curl: np.ndarray | None = None


def reachable_pelvis(
    rig: Rig, targets: BodyTargets, radius: int, foot_down: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(pelvis (T, 3), hips (T, 2, 3)) with the pelvis lowered smoothly so both ankles are reachable.

    foot_down: optional (T, 2) share in [0, 1] of each foot being on the ground; a foot in the
    air keeps its knee bent (SWING_REACH): near full extension the knee's position swings fast
    for small changes of the leg's length.
    """
    pelvis = targets.pelvis.copy()
    hip_offset = np.einsum("tij,sj->tsi", targets.pelvis_rotation, rig.hip_offset)
    fraction = REACH_FRACTION if foot_down is None else SWING_REACH + (REACH_FRACTION - SWING_REACH) * foot_down
    reach = fraction * (rig.thigh_length + rig.shin_length)
    ceiling = max_pelvis_height(pelvis[:, 2], pelvis[:, None] + hip_offset, targets.ankle, reach)
    pelvis[:, 2] = smooth_ceiling(pelvis[:, 2], ceiling, radius)
    return pelvis, pelvis[:, None] + hip_offset


def synthesize(
    rig: Rig, betas: np.ndarray, fps: float, targets: BodyTargets, radius: int, foot_down: np.ndarray | None = None
) -> MotionClip:
    """MotionClip reaching ``targets``; ``radius`` (frames) is the smoothing of the pelvis lowering,
    ``foot_down`` (T, 2) optional feet on the ground (see reachable_pelvis)."""
    frames = targets.pelvis.shape[0]
    if foot_down is not None:  # eased over DOWN_EASE seconds, so the result hardly depends on the frame rate
        foot_down = gaussian_filter1d(np.asarray(foot_down, dtype=np.float64), DOWN_EASE * fps, axis=0, mode="nearest")
    pelvis, hips = reachable_pelvis(rig, targets, radius, foot_down)
    rotation = targets.pelvis_rotation
    local = np.broadcast_to(np.eye(3), (frames, NUM_JOINTS, 3, 3)).copy()
    pelvis_forward = normalize(rotation[:, :, 2] * np.array([1.0, 1.0, 0.0]))
    for side, name in enumerate(SIDES):
        yaw = targets.foot_yaw[:, side]
        foot_forward = np.stack([np.cos(yaw), np.sin(yaw), np.zeros_like(yaw)], axis=-1)
        knee_forward = normalize(pelvis_forward + 0.5 * foot_forward)  # never zero: the pelvis dominates
        thigh, shin = two_bone_ik(hips[:, side], targets.ankle[:, side], knee_forward, rig.thigh[side], rig.shin[side])
        # Pitch 0 is a flat sole: the rest-pose foot is tilted by the rig's sole_pitch, undone here.
        foot = foot_rotation(yaw, targets.foot_pitch[:, side] - rig.sole_pitch[side])
        hip_j, knee_j, ankle_j, toe_j = LEG_JOINTS[name]
        local[:, hip_j], local[:, knee_j], local[:, ankle_j] = leg_rotations(thigh, shin, foot, rotation)
        local[:, toe_j] = rot_x(targets.toe_flex[:, side] + rig.sole_pitch[side])
    set_spine(local, *targets.spine.T)
    set_arms(local, targets.arm_swing, targets.elbow)
    set_hands(local, 1.0 if targets.finger_curl is None else targets.finger_curl)
    set_head(local, rotation, targets.head)
    if targets.hand is not None and targets.hand_weight is not None:
        pole = targets.elbow_pole if targets.elbow_pole is not None else default_elbow_pole(rotation)
        apply_hand_targets(rig.rest_joints, local, rotation, pelvis, targets.hand, targets.hand_weight, pole)
    return assemble_motion(rig.rest_joints, betas, fps, rotation, pelvis, local)


def default_elbow_pole(pelvis_rotation: np.ndarray) -> np.ndarray:
    """(T, 2, 3) elbow poles: down, a little back and out, in the pelvis frame (native axes)."""
    native = np.array([[0.5, -1.0, -0.4], [-0.5, -1.0, -0.4]])
    return np.einsum("tij,sj->tsi", pelvis_rotation, native)
