"""A character's body following another's hand (scenes.interaction_spec.AttachmentSpec).

A kinematic stand-in for a lift: between ``start`` and ``end`` the attached character's
translation gains w(t) * (hand(t) - hand(start)), the hand's displacement since the attachment
began (its vertical part only with axes "z"), where w eases from 0 to 1 over ``ramp_s`` seconds
after ``start`` and back to 0 before ``end`` (smoothstep: no jump in position or velocity). The
whole body moves with the pelvis; the motion's own pose (a dance, standing) goes on. Foot
contact labels are cleared wherever the body is raised more than LIFTED_M.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from worldclips.motions.kinematics import smoothstep
from worldclips.motions.motion import MotionClip
from worldclips.scenes.hands import world_from_hand
from worldclips.scenes.interaction_spec import AttachmentSpec

LIFTED_M = 0.01  # a body raised more than this has no foot on the ground


def hand_point(joints: np.ndarray, side: str) -> np.ndarray:
    """(T, 3) palm centre of one hand, or the midpoint of both palms (side "both")."""
    if side == "both":
        return 0.5 * (world_from_hand(joints, "left")[:, :3, 3] + world_from_hand(joints, "right")[:, :3, 3])
    return world_from_hand(joints, side)[:, :3, 3]


def attachment_offset(spec: AttachmentSpec, carrier_joints: np.ndarray, fps: float) -> np.ndarray:
    """(T, 3) displacement added to the attached character's translation."""
    frames = len(carrier_joints)
    t = np.arange(frames) / fps
    hand = hand_point(carrier_joints, spec.side)
    reference = hand[min(int(round(spec.start * fps)), frames - 1)]
    weight = smoothstep(np.clip((t - spec.start) / spec.ramp_s, 0.0, 1.0)) * smoothstep(np.clip((spec.end - t) / spec.ramp_s, 0.0, 1.0))
    offset = (hand - reference) * weight[:, None]
    if spec.axes == "z":
        offset[:, :2] = 0.0
    return offset


def attach_motion(motion: MotionClip, contact: np.ndarray | None, offset: np.ndarray) -> tuple[MotionClip, np.ndarray]:
    """The motion moved by ``offset`` (T, 3) and its (T, 4) contact labels, cleared while lifted."""
    moved = dataclasses.replace(motion, transl=motion.transl.astype(np.float64) + offset)
    labels = np.zeros((motion.num_frames, 4), dtype=bool) if contact is None else np.array(contact, dtype=bool)
    labels[offset[:, 2] > LIFTED_M] = False
    return moved, labels
