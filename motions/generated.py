"""GeneratedMotion: what a procedural motion generator returns, and how its MotionClip is assembled."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motions.conventions import NUM_BODY_JOINTS, NUM_HAND_JOINTS, matrix_to_axis_angle
from motions.motion import FRAME_PARAMETERS, MotionClip

_BODY = slice(1, 1 + NUM_BODY_JOINTS)
_LEFT_HAND = slice(25, 25 + NUM_HAND_JOINTS)
_RIGHT_HAND = slice(25 + NUM_HAND_JOINTS, 25 + 2 * NUM_HAND_JOINTS)


@dataclass(frozen=True, eq=False)
class GeneratedMotion:
    """A procedural motion and its ground contacts.

    motion: SMPL-X parameters in the Z-up world (T frames).
    foot_contact: (T, 2) bool, left / right foot planted flat on the ground (ankle and toe joints
        fixed, sole on z = 0).
    """

    motion: MotionClip
    foot_contact: np.ndarray

    def __post_init__(self) -> None:
        contact = np.asarray(self.foot_contact, dtype=bool)
        if contact.shape != (self.motion.num_frames, 2):
            expected = (self.motion.num_frames, 2)
            raise ValueError(f"GeneratedMotion.foot_contact: expected shape {expected}, got {contact.shape}")
        contact.setflags(write=False)
        object.__setattr__(self, "foot_contact", contact)


def assemble_motion(
    rest_joints: np.ndarray,
    betas: np.ndarray,
    fps: float,
    pelvis_rotation: np.ndarray,
    pelvis_position: np.ndarray,
    local: np.ndarray,
) -> MotionClip:
    """MotionClip from world pelvis rotations (T, 3, 3) and positions (T, 3) and locals (T, 55, 3, 3).

    The pelvis lands at transl + rest pelvis (native), so transl = pelvis_position - rest_joints[0].
    """
    frames = pelvis_rotation.shape[0]
    axis_angle = matrix_to_axis_angle(local)
    values = {name: np.zeros((frames, *tail)) for name, tail in FRAME_PARAMETERS.items()}
    values["global_orient"] = matrix_to_axis_angle(pelvis_rotation)
    values["body_pose"] = axis_angle[:, _BODY]
    values["left_hand_pose"] = axis_angle[:, _LEFT_HAND]
    values["right_hand_pose"] = axis_angle[:, _RIGHT_HAND]
    values["transl"] = pelvis_position - rest_joints[0]
    return MotionClip(fps=fps, betas=np.asarray(betas, dtype=np.float64), **values)
