"""Procedural idle stance: both feet planted, slow weight shift, breathing, small arm and head motion.

The feet stand still, a little wider than the hips and slightly toed out, for the whole clip
(foot_contact is all true). The pelvis shifts its weight from foot to foot (its hip on the loaded
side rising), sways gently back and forth and breathes; the head looks slowly around. All
oscillators have different periods, and ``phase`` shifts them all, so idles of different people
differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from worldclips.motions.body import Skeleton
from worldclips.motions.conventions import body_orientation_for_heading
from worldclips.motions.generated import GeneratedMotion
from worldclips.motions.kinematics import rot_x, rot_y, rot_z
from worldclips.motions.plan import MotionPlan, realize
from worldclips.motions.rig import SIDE_SIGN, Rig
from worldclips.motions.synthesis import BodyTargets
from worldclips.motions.validation import betas as check_betas
from worldclips.motions.validation import check_family, frames, real, reals

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
    stance_width: float = 0.22
    family: Literal["idle"] = "idle"

    def __post_init__(self) -> None:
        check_family(self, "idle")
        object.__setattr__(self, "position", reals("IdleParams.position", self.position, count=2))
        object.__setattr__(self, "heading", real("IdleParams.heading", self.heading))
        object.__setattr__(self, "sway", real("IdleParams.sway", self.sway, *SWAY_RANGE))
        object.__setattr__(self, "phase", real("IdleParams.phase", self.phase, 0.0, 1.0, high_open=True))
        width = real("IdleParams.stance_width", self.stance_width, *STANCE_WIDTH_RANGE)
        object.__setattr__(self, "stance_width", width)

    @property
    def duration(self) -> float:
        """Nothing to finish: standing fits any segment length."""
        return 0.0


def stance_feet(rig: Rig, position: np.ndarray, heading: float, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Flat standing feet: ankles (2, 3) and yaws (2,) of a stance centred on ``position`` (2,)."""
    left = np.array([-np.sin(heading), np.cos(heading)])
    ankle = np.empty((2, 3))
    for side in (0, 1):
        ankle[side, :2] = np.asarray(position) + SIDE_SIGN[side] * 0.5 * width * left
        ankle[side, 2] = rig.ankle_height[side]
    return ankle, heading + SIDE_SIGN * TOE_OUT


def idle_plan(rig: Rig, params: IdleParams, t: np.ndarray) -> MotionPlan:
    """The standing plan at times ``t`` (T,) seconds; other standing motions start from it."""
    num_frames = len(t)
    amount, s = params.sway, rig.scale

    def wave(period: float, offset: float = 0.0) -> np.ndarray:
        return np.sin(2.0 * np.pi * (t / period + params.phase + offset))

    shift, breath, look = wave(WEIGHT_SHIFT_PERIOD), wave(BREATH_PERIOD, 0.3), wave(LOOK_PERIOD, 0.6)
    drift = wave(WEIGHT_SHIFT_PERIOD * 1.7, 0.15)
    heading = np.full(num_frames, params.heading)
    forward = np.stack([np.cos(heading), np.sin(heading)], axis=-1)
    left = np.stack([-np.sin(heading), np.cos(heading)], axis=-1)
    centre = np.asarray(params.position)
    feet, yaws = stance_feet(rig, centre, params.heading, params.stance_width)

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
        ankle=np.broadcast_to(feet, (num_frames, 2, 3)).copy(),
        foot_yaw=np.broadcast_to(yaws, (num_frames, 2)).copy(),
        foot_pitch=np.zeros((num_frames, 2)),
        toe_flex=np.zeros((num_frames, 2)),
        spine=np.stack([0.015 * amount * breath, -yaw - 0.05 * amount * look, -0.9 * roll], axis=-1),
        arm_swing=np.stack([0.03 * amount * drift + 0.02, -0.03 * amount * drift + 0.02], axis=-1),
        elbow=np.full((num_frames, 2), 0.2) + 0.03 * amount * breath[:, None],
        head=body_orientation_for_heading(heading + 0.2 * amount * look) @ rot_x(nod),
    )
    return MotionPlan(targets=targets, contact=np.ones((num_frames, 4), dtype=bool), smoothing=0.3)


def idle(skeleton: Skeleton, betas: np.ndarray, params: IdleParams, fps: float, num_frames: int) -> GeneratedMotion:
    """Stand ``params`` for ``num_frames`` frames at ``fps`` with the body ``skeleton`` / ``betas`` (10,)."""
    fps, num_frames = frames(fps, num_frames)
    betas = check_betas(betas)
    if not isinstance(params, IdleParams):
        raise ValueError(f"params: expected IdleParams, got {type(params).__name__}")
    rig = Rig.from_skeleton(skeleton)
    return realize(rig, betas, fps, idle_plan(rig, params, np.arange(num_frames) / fps))
