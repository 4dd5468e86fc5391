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

from motions.body import Skeleton
from motions.conventions import joint_index

# Side order used throughout the generators: 0 = left, 1 = right; +1 / -1 is the side's sign
# along the body's left axis.
SIDES = ("left", "right")
SIDE_SIGN = np.array([1.0, -1.0])
REFERENCE_LEG_LENGTH = 0.79  # hip-knee + knee-ankle of the mean mannequin-x / SMPL-X body, metres
HEEL_BACK_FRACTION = 0.5  # heel pivot behind the ankle, in ankle-to-ball lengths
TOE_TIP_FRACTION = 0.7  # toe tip beyond the ball joint, in ankle-to-ball lengths

LEG_JOINTS = {side: tuple(joint_index(f"{side}_{j}") for j in ("hip", "knee", "ankle", "foot")) for side in SIDES}


@dataclass(frozen=True, eq=False)
class Rig:
    """Proportions of one body (native frame, metres); arrays indexed by side (0 left, 1 right).

    rest_joints: (55, 3) rest joint positions (native frame).
    pelvis_height: rest pelvis height above the sole.
    hip_offset: (2, 3) rest hip minus rest pelvis.
    thigh, shin: (2, 3) rest knee minus hip, rest ankle minus knee.
    thigh_length, shin_length: (2,) their lengths.
    ankle_height: (2,) rest ankle height above the sole (ankle height of a flat foot on the ground).
    ball_offset: (2, 3) rest toe (ball) joint minus ankle, with x zeroed (sagittal plane).
    ball_height: (2,) rest toe joint height above the sole.
    heel_back, toe_tip: (2,) heel pivot behind the ankle, toe tip beyond the ball joint.
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
        return cls(
            rest_joints=rest,
            pelvis_height=float(rest[0, 1] - sole),
            hip_offset=hip - rest[0],
            thigh=thigh,
            shin=shin,
            thigh_length=np.linalg.norm(thigh, axis=-1),
            shin_length=np.linalg.norm(shin, axis=-1),
            ankle_height=ankle[:, 1] - sole,
            ball_offset=ball_offset,
            ball_height=ball[:, 1] - sole,
            heel_back=HEEL_BACK_FRACTION * forward,
            toe_tip=TOE_TIP_FRACTION * forward,
            leg_length=leg_length,
            scale=leg_length / REFERENCE_LEG_LENGTH,
        )
