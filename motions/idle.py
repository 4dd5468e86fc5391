"""Procedural idle stance: both feet planted, slow weight shift, breathing, small arm and head motion.

The feet stand still, a little wider than the hips and slightly toed out, for the whole clip
(foot_contact is all true). The pelvis shifts its weight from foot to foot (its hip on the loaded
side rising), sways gently back and forth and breathes; the head looks slowly around. All
oscillators have different periods, and ``phase`` shifts them all, so idles of different people
differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motions.body import Skeleton
from motions.conventions import body_orientation_for_heading
from motions.generated import GeneratedMotion
from motions.kinematics import rot_x, rot_y, rot_z
from motions.rig import SIDE_SIGN, Rig
from motions.synthesis import BodyTargets, synthesize
from motions.validation import betas as check_betas
from motions.validation import frames, real, reals

SWAY_RANGE = (0.0, 3.0)
STANCE_WIDTH_RANGE = (0.08, 0.5)  # m between the ankles
TOE_OUT = 0.08  # rad, each foot turned outwards on top of the rest pose's own toe-out
WEIGHT_SHIFT_PERIOD = 6.0  # s
BREATH_PERIOD = 4.2  # s
LOOK_PERIOD = 9.0  # s
STANDING_HEIGHT = 0.995  # wished pelvis height in rest pelvis heights above the sole (legs nearly straight)


@dataclass(frozen=True)
class IdleParams:
    """Standing still; plain floats and tuples (JSON lists are accepted and converted).

    position: world XY (m) of the point between the feet.
    heading: direction the body faces (rad, counter-clockwise from world +X).
    sway: scale of the weight shift, breathing and look-around ([0, 3]; 0 stands frozen).
    phase: offset of all oscillations in cycles ([0, 1)).
    stance_width: distance between the ankles (m, [0.08, 0.5]).
    """

    position: tuple[float, float]
    heading: float
    sway: float = 1.0
    phase: float = 0.0
    stance_width: float = 0.2

    def __post_init__(self) -> None:
        object.__setattr__(self, "position", reals("IdleParams.position", self.position, count=2))
        object.__setattr__(self, "heading", real("IdleParams.heading", self.heading))
        object.__setattr__(self, "sway", real("IdleParams.sway", self.sway, *SWAY_RANGE))
        object.__setattr__(self, "phase", real("IdleParams.phase", self.phase, 0.0, 1.0, high_open=True))
        width = real("IdleParams.stance_width", self.stance_width, *STANCE_WIDTH_RANGE)
        object.__setattr__(self, "stance_width", width)


def idle(skeleton: Skeleton, betas: np.ndarray, params: IdleParams, fps: float, num_frames: int) -> GeneratedMotion:
    """Stand ``params`` for ``num_frames`` frames at ``fps`` with the body ``skeleton`` / ``betas`` (10,)."""
    fps, num_frames = frames(fps, num_frames)
    betas = check_betas(betas)
    if not isinstance(params, IdleParams):
        raise ValueError(f"params: expected IdleParams, got {type(params).__name__}")
    rig = Rig.from_skeleton(skeleton)
    t = np.arange(num_frames) / fps
    amount, s = params.sway, rig.scale

    def wave(period: float, offset: float = 0.0) -> np.ndarray:
        return np.sin(2.0 * np.pi * (t / period + params.phase + offset))

    shift, breath, look = wave(WEIGHT_SHIFT_PERIOD), wave(BREATH_PERIOD, 0.3), wave(LOOK_PERIOD, 0.6)
    drift = wave(WEIGHT_SHIFT_PERIOD * 1.7, 0.15)
    heading = np.full(num_frames, params.heading)
    forward = np.stack([np.cos(heading), np.sin(heading)], axis=-1)
    left = np.stack([-np.sin(heading), np.cos(heading)], axis=-1)
    centre = np.asarray(params.position)

    ankle = np.empty((num_frames, 2, 3))
    for side in (0, 1):
        ankle[:, side, :2] = centre + SIDE_SIGN[side] * 0.5 * params.stance_width * left
        ankle[:, side, 2] = rig.ankle_height[side]
    foot_yaw = heading[:, None] + SIDE_SIGN * TOE_OUT

    lateral = 0.025 * amount * s * shift  # towards the loaded foot (+ = left)
    sagittal = 0.008 * amount * s * drift
    xy = centre + lateral[:, None] * left + sagittal[:, None] * forward
    height = rig.pelvis_height * STANDING_HEIGHT + 0.002 * amount * breath
    yaw = 0.03 * amount * drift
    roll = 0.04 * amount * shift  # the loaded side's hip rises
    tilt = np.full(num_frames, 0.02)
    pelvis_rotation = body_orientation_for_heading(heading) @ rot_y(yaw) @ rot_z(roll) @ rot_x(tilt)
    nod = 0.05 + 0.03 * amount * wave(LOOK_PERIOD * 0.7, 0.2)
    targets = BodyTargets(
        pelvis_rotation=pelvis_rotation,
        pelvis=np.concatenate([xy, height[:, None]], axis=1),
        ankle=ankle,
        foot_yaw=foot_yaw,
        foot_pitch=np.zeros((num_frames, 2)),
        toe_flex=np.zeros((num_frames, 2)),
        spine=np.stack([0.015 * amount * breath, -yaw - 0.05 * amount * look, -0.9 * roll], axis=-1),
        arm_swing=np.stack([0.03 * amount * drift + 0.02, -0.03 * amount * drift + 0.02], axis=-1),
        elbow=np.full((num_frames, 2), 0.2) + 0.03 * amount * breath[:, None],
        head=body_orientation_for_heading(heading + 0.2 * amount * look) @ rot_x(nod),
    )
    motion = synthesize(rig, betas, fps, targets, radius=int(round(0.3 * fps)))
    return GeneratedMotion(motion=motion, foot_contact=np.ones((num_frames, 2), dtype=bool))
