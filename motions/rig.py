"""Body proportions the procedural generators need, derived from a rest Skeleton.

Everything here is in the body's native frame (Y-up, facing +Z, left at +X) and in metres. The
foot is modelled by a few sole points measured from the ankle and toe (ball) joints: the
Skeleton gives joints and the sole height only, so the heel and toe-tip reach are estimated as
fractions of the ankle-to-ball length (measured on mannequin-x: the heel reaches ~0.54 of it
behind the ankle, the toe tip ~0.69 of it beyond the ball). The heel pivot is taken a little
short of the heel's back so that rolling on it never pushes the heel into the ground.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worldclips.motions.body import Skeleton
from worldclips.motions.conventions import joint_index
from worldclips.motions.kinematics import rot_x

# Side order used throughout the generators: 0 = left, 1 = right; +1 / -1 is the side's sign
# along the body's left axis.
SIDES = ("left", "right")
SIDE_SIGN = np.array([1.0, -1.0])
REFERENCE_LEG_LENGTH = 0.79  # hip-knee + knee-ankle of the mean mannequin-x / SMPL-X body, metres
HEEL_BACK_FRACTION = 0.5  # heel pivot behind the ankle, in ankle-to-ball lengths
TOE_TIP_FRACTION = 0.7  # toe tip beyond the ball joint, in ankle-to-ball lengths
HEEL_BOTTOM_FRACTION = 0.45  # the heel's lowest point behind the ankle, in ankle-to-ball lengths

LEG_JOINTS = {side: tuple(joint_index(f"{side}_{j}") for j in ("hip", "knee", "ankle", "foot")) for side in SIDES}


@dataclass(frozen=True, eq=False)
class Rig:
    """Proportions of one body (native frame, metres); arrays indexed by side (0 left, 1 right).

    rest_joints: (55, 3) rest joint positions (native frame).
    pelvis_height: rest pelvis height above the sole.
    hip_offset: (2, 3) rest hip minus rest pelvis.
    thigh, shin: (2, 3) rest knee minus hip, rest ankle minus knee.
    thigh_length, shin_length: (2,) their lengths.
    sole_pitch: (2,) tilt (rad, heel up) of the rest-pose foot against a flat sole: the
        generators turn the ankle by -sole_pitch (and the toes back by +sole_pitch) so that heel and
        ball both rest on the ground when their foot pitch is 0 (motions.synthesis).
    The foot measures below are in that flat-sole foot frame:
    ankle_height: (2,) ankle height of a flat foot on the ground.
    ball_offset: (2, 3) toe (ball) joint minus ankle, with x zeroed (sagittal plane).
    ball_height: (2,) toe joint height above the sole.
    heel_back, toe_tip: (2,) heel pivot behind the ankle, toe tip beyond the ball joint.
    heel_point, toe_point: (2, 3) the heel's and the toes' sole contact points in the rest-pose
        frames of the ankle and of the toe joint (for measuring any motion, motions.contacts).
    leg_length: mean thigh + shin length.
    scale: leg_length / REFERENCE_LEG_LENGTH (stride and amplitudes scale with it).
    """

    rest_joints: np.ndarray
    pelvis_height: float
    hip_offset: np.ndarray
    thigh: np.ndarray
    shin: np.ndarray
    thigh_length: np.ndarray
    shin_length: np.ndarray
    ankle_height: np.ndarray
    ball_offset: np.ndarray
    ball_height: np.ndarray
    heel_back: np.ndarray
    toe_tip: np.ndarray
    leg_length: float
    scale: float
    sole_pitch: np.ndarray
    heel_point: np.ndarray
    toe_point: np.ndarray

    @classmethod
    def from_skeleton(cls, skeleton: Skeleton) -> "Rig":
        rest = np.asarray(skeleton.rest_joints, dtype=np.float64)
        sole = float(skeleton.sole_height)
        hip, knee, ankle, ball = (np.stack([rest[LEG_JOINTS[s][i]] for s in SIDES]) for i in range(4))
        thigh, shin = knee - hip, ankle - knee
        ball_offset = ball - ankle
        ball_offset[:, 0] = 0.0
        forward = ball_offset[:, 2]
        if np.any(forward <= 0.02) or np.any(ankle[:, 1] <= sole):
            raise ValueError("skeleton: the feet do not look like SMPL-X feet (ball ahead of ankle, ankle above sole)")
        leg_length = float(np.mean(np.linalg.norm(thigh, axis=-1) + np.linalg.norm(shin, axis=-1)))
        # Rest-pose sole points relative to the ankle: under the ball, and under the heel's back
        # (HEEL_BOTTOM_FRACTION of the ankle-to-ball length behind the ankle), lifted by heel_lift.
        lift = float(getattr(skeleton, "heel_lift", 0.0))
        ball_bottom = np.stack([np.zeros(2), sole - ankle[:, 1], forward], axis=1)
        heel_bottom = np.stack([np.zeros(2), sole + lift - ankle[:, 1], -HEEL_BOTTOM_FRACTION * forward], axis=1)
        span = ball_bottom - heel_bottom
        sole_pitch = -np.arctan2(span[:, 1], span[:, 2])  # > 0: the rest foot's heel is up (toes down)
        flat = rot_x(-sole_pitch)  # (2, 3, 3): rest foot frame -> flat-sole foot frame
        ball_flat = np.einsum("sij,sj->si", flat, ball_offset)
        ankle_flat = -np.einsum("sij,sj->si", flat, ball_bottom)[:, 1]
        forward_flat = ball_flat[:, 2]
        return cls(
            rest_joints=rest,
            pelvis_height=float(rest[0, 1] - sole),
            hip_offset=hip - rest[0],
            thigh=thigh,
            shin=shin,
            thigh_length=np.linalg.norm(thigh, axis=-1),
            shin_length=np.linalg.norm(shin, axis=-1),
            ankle_height=ankle_flat,
            ball_offset=ball_flat,
            ball_height=ball_flat[:, 1] + ankle_flat,
            heel_back=HEEL_BACK_FRACTION * forward_flat,
            toe_tip=TOE_TIP_FRACTION * forward_flat,
            leg_length=leg_length,
            scale=leg_length / REFERENCE_LEG_LENGTH,
            sole_pitch=sole_pitch,
            heel_point=np.stack([np.zeros(2), sole + lift - ankle[:, 1], -HEEL_BACK_FRACTION * forward], axis=1),
            toe_point=np.stack([np.zeros(2), sole - ball[:, 1], np.zeros(2)], axis=1),
        )
