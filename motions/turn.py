"""Procedural turn in place: small steps that rotate the feet about the standing point.

The turn is split into pairs of steps of at most 45 degrees: the foot on the turning side steps
first (opening the stance), the other one follows (closing it). The pelvis shifts over the
supporting foot before each step and faces between the feet; the head leads the turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from worldclips.motions.body import Skeleton
from worldclips.motions.conventions import body_orientation_for_heading
from worldclips.motions.generated import GeneratedMotion, contact_labels
from worldclips.motions.idle import STANCE_WIDTH_RANGE, stance_feet
from worldclips.motions.kinematics import rot_x
from worldclips.motions.plan import MotionPlan, realize
from worldclips.motions.rig import Rig
from worldclips.motions.standing import heading_track, standing_targets, with_fields
from worldclips.motions.steps import Step, plan_steps, smooth
from worldclips.motions.validation import betas as check_betas
from worldclips.motions.validation import check_family, duration, frames, real, reals

MAX_STEP_TURN = np.pi / 4
STEP_TIME_RANGE = (0.3, 1.0)  # s per step
SWING_SHARE = 0.7  # share of a step's time the foot is in the air
HEAD_LEAD = 0.3  # s the head looks ahead in the turn


@dataclass(frozen=True)
class TurnParams:
    """Turning on the spot.

    position: world XY (m) of the point between the feet; heading: initial facing (rad).
    angle: total turn (rad, [-2 pi, 2 pi], > 0 counter-clockwise seen from above, i.e. to the left).
    start: seconds before the first step; step_time: seconds per step ([0.3, 1.0]).
    stance_width: distance between the ankles (m, [0.08, 0.5]); phase: breathing offset ([0, 1)).
    """

    position: tuple[float, float]
    heading: float
    angle: float
    start: float = 0.2
    step_time: float = 0.45
    stance_width: float = 0.22
    phase: float = 0.0
    family: Literal["turn"] = "turn"

    def __post_init__(self) -> None:
        check_family(self, "turn")
        object.__setattr__(self, "position", reals("TurnParams.position", self.position, count=2))
        object.__setattr__(self, "heading", real("TurnParams.heading", self.heading))
        object.__setattr__(self, "angle", real("TurnParams.angle", self.angle, -2 * np.pi, 2 * np.pi))
        object.__setattr__(self, "start", duration("TurnParams.start", self.start))
        object.__setattr__(self, "step_time", real("TurnParams.step_time", self.step_time, *STEP_TIME_RANGE))
        width = real("TurnParams.stance_width", self.stance_width, *STANCE_WIDTH_RANGE)
        object.__setattr__(self, "stance_width", width)
        object.__setattr__(self, "phase", real("TurnParams.phase", self.phase, 0.0, 1.0, high_open=True))

    @property
    def duration(self) -> float:
        """Seconds from the clip start until the last step has landed."""
        return self.start + 2 * turn_pairs(self.angle) * self.step_time


def turn_pairs(angle: float) -> int:
    return max(1, int(np.ceil(abs(angle) / MAX_STEP_TURN - 1e-9)))


def turn_plan(rig: Rig, params: TurnParams, t: np.ndarray) -> MotionPlan:
    """The plan of a turn at times ``t`` (T,) seconds."""
    ankle, yaw = stance_feet(rig, np.asarray(params.position), params.heading, params.stance_width)
    pairs = turn_pairs(params.angle)
    lead = 0 if params.angle >= 0 else 1  # the foot on the turning side opens the stance
    steps = []
    for k in range(pairs):
        heading = params.heading + params.angle * (k + 1) / pairs
        new_ankle, new_yaw = stance_feet(rig, np.asarray(params.position), heading, params.stance_width)
        for i, side in enumerate((lead, 1 - lead)):
            lift = params.start + (2 * k + i) * params.step_time
            land = lift + SWING_SHARE * params.step_time
            steps.append(Step(side, lift, land, tuple(new_ankle[side, :2]), float(new_yaw[side])))
    feet = plan_steps(rig, ankle, yaw, steps, t)
    heading = smooth(heading_track(feet), t, 0.08)
    ahead = np.interp(t + HEAD_LEAD, t, heading, right=heading[-1])
    stepping = smooth((~feet.contact).any(axis=1).astype(float), t, 0.1)
    targets = standing_targets(rig, feet, heading, t, phase=params.phase, drop=0.015 * rig.scale * stepping)
    spine = targets.spine.copy()
    spine[:, 1] += 0.5 * (ahead - heading)  # the chest turns a little ahead of the pelvis
    targets = with_fields(targets, spine=spine, head=body_orientation_for_heading(ahead) @ rot_x(np.full(len(t), 0.06)))
    return MotionPlan(targets=targets, contact=contact_labels(feet.heel_contact, feet.toe_contact), smoothing=0.2)


def turn(skeleton: Skeleton, betas: np.ndarray, params: TurnParams, fps: float, num_frames: int) -> GeneratedMotion:
    """Turn ``params`` for ``num_frames`` frames at ``fps`` with the body ``skeleton`` / ``betas`` (10,)."""
    fps, num_frames = frames(fps, num_frames)
    betas = check_betas(betas)
    if not isinstance(params, TurnParams):
        raise ValueError(f"params: expected TurnParams, got {type(params).__name__}")
    rig = Rig.from_skeleton(skeleton)
    return realize(rig, betas, fps, turn_plan(rig, params, np.arange(num_frames) / fps))
