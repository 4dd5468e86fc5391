"""Foot poses: a flat, yawed foot, rolled about the heel or the ball, and its ground clearance.

A foot pose is (ankle position in the world, yaw, pitch, toe flex). Its world rotation is
``body_orientation_for_heading(yaw) @ rot_x(pitch)``: yaw is the heading the (rest) foot points
along, pitch > 0 lifts the heel (toes down), pitch < 0 lifts the toes. The toe segment has the
local rotation ``rot_x(flex)``; flex = -pitch keeps the toes flat on the ground while the heel
rises. All offsets are native-frame vectors from the ankle joint (x is irrelevant for pitch).
"""

from __future__ import annotations

import numpy as np

from worldclips.motions.conventions import body_orientation_for_heading
from worldclips.motions.kinematics import rot_x
from worldclips.motions.rig import Rig


def foot_rotation(yaw: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """(...,) yaw and pitch -> (..., 3, 3) world rotation of the foot (ankle joint)."""
    return body_orientation_for_heading(yaw) @ rot_x(pitch)


def heel_pivot(rig: Rig, side: int) -> np.ndarray:
    """(3,) native offset from the ankle to the heel's ground contact point."""
    return np.array([0.0, -rig.ankle_height[side], -rig.heel_back[side]])


def ball_pivot(rig: Rig, side: int) -> np.ndarray:
    """(3,) native offset from the ankle to the toe (ball) joint, the heel-rise pivot."""
    return rig.ball_offset[side].copy()


def pivot_ankle(flat_ankle: np.ndarray, yaw: np.ndarray, pitch: np.ndarray, pivot: np.ndarray) -> np.ndarray:
    """Ankle position of a foot rolled by ``pitch`` about a point fixed to the ground.

    flat_ankle: (N, 3) ankle of the flat foot; yaw, pitch: (N,); pivot: (3,) native offset of the
    pivot from the ankle. Returns (N, 3): the pivot stays where it is on the flat foot.
    """
    moved = pivot - np.einsum("nij,j->ni", rot_x(pitch), pivot)
    return flat_ankle + np.einsum("nij,nj->ni", body_orientation_for_heading(yaw), moved)


def clearance_height(rig: Rig, side: int, pitch: np.ndarray, flex: np.ndarray) -> np.ndarray:
    """(N,) ankle height that puts the lowest sole point of a pitched foot exactly on the ground.

    The sole is sampled at the heel and under the ball (foot segment) and under the toe joint and
    at the toe tip (toe segment, rotated by ``flex`` about the toe joint). For a flat foot this
    is the rest ankle height.
    """
    height, ball = rig.ankle_height[side], rig.ball_offset[side]
    foot_points = np.array([[0.0, -height, -rig.heel_back[side]], [0.0, -height, ball[2]]])
    toe_points = np.array([[0.0, -rig.ball_height[side], 0.0], [0.0, -rig.ball_height[side], rig.toe_tip[side]]])
    foot_rot = rot_x(pitch)
    toe_rot = foot_rot @ rot_x(flex)
    y_foot = np.einsum("nj,pj->np", foot_rot[:, 1], foot_points)
    y_toe = np.einsum("nj,j->n", foot_rot[:, 1], ball)[:, None] + np.einsum("nj,pj->np", toe_rot[:, 1], toe_points)
    return -np.minimum(y_foot.min(axis=1), y_toe.min(axis=1))
