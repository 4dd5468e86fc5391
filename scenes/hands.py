"""Hand frames from a posed body's joints, for props held or caught in a hand.

``world_from_hand`` (T, 4, 4) per side: origin at the palm centre (halfway from the wrist to the
middle finger's base joint), +X along the fingers (wrist -> middle1), +Z out of the palm, +Y
completing a right-handed frame (towards the thumb side for the left hand, towards the little
finger for the right hand). The palm normal follows from the index1 -> pinky1 direction across
the knuckles; a flat SMPL-X hand in the rest pose has its palm facing down, so +Z points down
there for both hands.
"""

from __future__ import annotations

import numpy as np

from worldclips.motions.conventions import joint_index

SIDES = ("left", "right")


def world_from_hand(joints: np.ndarray, side: str) -> np.ndarray:
    """(T, 55, 3) SMPL-X joints in the world -> (T, 4, 4) world_from_hand of the ``side`` hand."""
    if side not in SIDES:
        raise ValueError(f"hand side: expected one of {SIDES}, got {side!r}")
    joints = np.asarray(joints, dtype=np.float64)
    wrist, middle, index, pinky = (joints[:, joint_index(f"{side}_{name}")] for name in ("wrist", "middle1", "index1", "pinky1"))
    x = middle - wrist
    x /= np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)
    across = index - pinky
    across -= (across * x).sum(-1, keepdims=True) * x
    across /= np.maximum(np.linalg.norm(across, axis=-1, keepdims=True), 1e-9)
    # left hand, rest pose: fingers +X_native, index towards +Z_native (front): x cross across = -Y_native = palm.
    z = np.cross(x, across) * (1.0 if side == "left" else -1.0)
    y = np.cross(z, x)
    pose = np.zeros((len(joints), 4, 4))
    pose[:, :3, 0], pose[:, :3, 1], pose[:, :3, 2] = x, y, z
    pose[:, :3, 3] = 0.5 * (wrist + middle)
    pose[:, 3, 3] = 1.0
    return pose


def grip_offset(radius: float, clearance: float = 0.025) -> tuple[float, float, float]:
    """Where a prop of bounding ``radius`` sits in the hand frame: out of the palm by its radius
    plus ``clearance`` (about half the hand's thickness)."""
    return (0.0, 0.0, round(float(radius + clearance), 4))
