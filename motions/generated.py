"""GeneratedMotion: what a procedural motion generator returns, and how its MotionClip is assembled."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from worldclips.motions.conventions import NUM_BODY_JOINTS, NUM_HAND_JOINTS, NUM_JOINTS, axis_angle_to_matrix, matrix_to_axis_angle
from worldclips.motions.motion import FRAME_PARAMETERS, MotionClip

_BODY = slice(1, 1 + NUM_BODY_JOINTS)
_LEFT_HAND = slice(25, 25 + NUM_HAND_JOINTS)
_RIGHT_HAND = slice(25 + NUM_HAND_JOINTS, 25 + 2 * NUM_HAND_JOINTS)


# Order of the per-frame contact labels (pose.npz foot_contact, GeneratedMotion.contact).
CONTACT_POINTS: tuple[str, ...] = ("left_heel", "left_toe", "right_heel", "right_toe")


def contact_labels(heel: np.ndarray, toe: np.ndarray) -> np.ndarray:
    """(T, 2) heel and (T, 2) toe flags (left, right) -> (T, 4) in CONTACT_POINTS order."""
    heel, toe = np.asarray(heel, dtype=bool), np.asarray(toe, dtype=bool)
    return np.stack([heel[:, 0], toe[:, 0], heel[:, 1], toe[:, 1]], axis=1)


@dataclass(frozen=True, eq=False)
class GeneratedMotion:
    """A motion, its ground contacts and the objects it moves.

    motion: SMPL-X parameters in the Z-up world (T frames).
    contact: (T, 4) bool in CONTACT_POINTS order (left heel, left toe, right heel, right toe):
        true while that point of the sole is on the ground (z = 0) and not sliding. The heel point
        is the back of the sole under the ankle, the toe point the sole under the toe (ball) joint.
    objects: name -> (T, 4, 4) world_from_object of every object the motion moves (a carried
        box); empty for most motions.
    """

    motion: MotionClip
    contact: np.ndarray
    objects: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        contact = np.array(self.contact, dtype=bool)
        expected = (self.motion.num_frames, len(CONTACT_POINTS))
        if contact.shape != expected:
            raise ValueError(f"GeneratedMotion.contact: expected shape {expected}, got {contact.shape}")
        contact.setflags(write=False)
        object.__setattr__(self, "contact", contact)
        for name, poses in self.objects.items():
            if np.shape(poses) != (self.motion.num_frames, 4, 4):
                raise ValueError(f"GeneratedMotion.objects[{name!r}]: expected shape ({expected[0]}, 4, 4)")

    @property
    def foot_contact(self) -> np.ndarray:
        """(T, 2) bool, left / right foot planted flat (heel and toe both in contact)."""
        return self.contact[:, 0::2] & self.contact[:, 1::2]


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


def local_rotations(motion: MotionClip, rest_joints: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The inverse of assemble_motion: (pelvis rotation (T, 3, 3), pelvis position (T, 3), local (T, 55, 3, 3)).

    Jaw and eyes come from the motion too; entry 0 of ``local`` is the identity.
    """
    frames = motion.num_frames
    rotvecs = np.zeros((frames, NUM_JOINTS, 3))
    rotvecs[:, _BODY] = motion.body_pose
    rotvecs[:, 22], rotvecs[:, 23], rotvecs[:, 24] = motion.jaw_pose, motion.leye_pose, motion.reye_pose
    rotvecs[:, _LEFT_HAND] = motion.left_hand_pose
    rotvecs[:, _RIGHT_HAND] = motion.right_hand_pose
    pelvis_rotation = axis_angle_to_matrix(motion.global_orient.astype(np.float64))
    pelvis = motion.transl.astype(np.float64) + np.asarray(rest_joints, dtype=np.float64)[0]
    return pelvis_rotation, pelvis, axis_angle_to_matrix(rotvecs)
