"""Procedural pick-up and carry: bend down, grasp a box on the ground with one hand, lift it,
and carry it a few steps; from the grasp on the box moves rigidly with the wrist.

The box stands in front of the person, a little to the side of the grasping hand. The person
bends (pelvis down, trunk forwards, knees bent; motions.reach) just enough to put the wrist on
the box's top, holds it from ``start + reach_time`` on, straightens up over ``lift_time`` while
the hand moves to a carrying pose in front of the hip, then walks ``steps`` short steps
straight ahead and closes the feet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from worldclips.motions.body import Skeleton
from worldclips.motions.conventions import make_transform, rotation_z
from worldclips.motions.generated import GeneratedMotion, contact_labels
from worldclips.motions.idle import STANCE_WIDTH_RANGE, stance_feet
from worldclips.motions.kinematics import keyframes
from worldclips.motions.plan import Grasp, MotionPlan, realize
from worldclips.motions.reach import bend_towards, look_at, required_bend
from worldclips.motions.rig import SIDE_SIGN, SIDES, Rig
from worldclips.motions.standing import standing_targets, with_fields
from worldclips.motions.steps import Step, plan_steps
from worldclips.motions.validation import betas as check_betas
from worldclips.motions.validation import check_family, choice, duration, frames, real, reals

CARRY_POSE = np.array([0.24, -0.02, 0.3])  # native (out, up, forward) of the carrying wrist from the pelvis, leg-scaled m
GRIP_ABOVE = 0.045  # m from the box top up to the wrist joint
TIME_RANGE = (0.4, 3.0)


@dataclass(frozen=True)
class CarryParams:
    """Picking up a box and carrying it.

    position: world XY (m) between the feet at the start; heading: facing (rad).
    object_name: name of the box prop that is carried (it must exist in the clip).
    object_size: (sx, sy, sz) of the box (m, each in [0.08, 0.35]); object_distance: box centre
        ahead of the feet (m, [0.25, 0.6]); the box is turned like the person.
    side: grasping hand, "left" or "right". start, reach_time, lift_time: seconds (the last two
    in [0.4, 3.0]). steps: carrying steps ([0, 8]); step_length (m, [0.15, 0.5]);
    step_time (s per step, [0.35, 1.0]). stance_width: m; phase: breathing offset ([0, 1)).
    """

    position: tuple[float, float]
    heading: float
    object_name: str
    object_size: tuple[float, float, float] = (0.2, 0.2, 0.2)
    object_distance: float = 0.4
    side: str = "right"
    start: float = 0.2
    reach_time: float = 1.0
    lift_time: float = 0.9
    steps: int = 4
    step_length: float = 0.35
    step_time: float = 0.55
    stance_width: float = 0.22
    phase: float = 0.0
    family: Literal["carry"] = "carry"

    def __post_init__(self) -> None:
        check_family(self, "carry")
        object.__setattr__(self, "position", reals("CarryParams.position", self.position, count=2))
        object.__setattr__(self, "heading", real("CarryParams.heading", self.heading))
        if not isinstance(self.object_name, str) or not self.object_name:
            raise ValueError(f"CarryParams.object_name: expected the name of a prop, got {self.object_name!r}")
        size = reals("CarryParams.object_size", self.object_size, count=3)
        if min(size) < 0.08 or max(size) > 0.35:
            raise ValueError(f"CarryParams.object_size: expected sizes in [0.08, 0.35] m, got {list(size)}")
        object.__setattr__(self, "object_size", size)
        object.__setattr__(self, "object_distance", real("CarryParams.object_distance", self.object_distance, 0.25, 0.6))
        choice("CarryParams.side", self.side, SIDES)
        object.__setattr__(self, "start", duration("CarryParams.start", self.start))
        object.__setattr__(self, "reach_time", real("CarryParams.reach_time", self.reach_time, *TIME_RANGE))
        object.__setattr__(self, "lift_time", real("CarryParams.lift_time", self.lift_time, *TIME_RANGE))
        if isinstance(self.steps, bool) or not isinstance(self.steps, (int, np.integer)) or not 0 <= self.steps <= 8:
            raise ValueError(f"CarryParams.steps: expected an integer in [0, 8], got {self.steps!r}")
        object.__setattr__(self, "step_length", real("CarryParams.step_length", self.step_length, 0.15, 0.5))
        object.__setattr__(self, "step_time", real("CarryParams.step_time", self.step_time, 0.35, 1.0))
        width = real("CarryParams.stance_width", self.stance_width, *STANCE_WIDTH_RANGE)
        object.__setattr__(self, "stance_width", width)
        object.__setattr__(self, "phase", real("CarryParams.phase", self.phase, 0.0, 1.0, high_open=True))

    @property
    def duration(self) -> float:
        """Seconds from the clip start until the carrier has closed its feet after the last step."""
        steps = self.steps + (1 if self.steps else 0)
        return self.start + self.reach_time + self.lift_time + 0.1 + steps * self.step_time

    @property
    def object_position(self) -> tuple[float, float]:
        """World XY of the box's footprint centre before it is picked up."""
        forward = np.array([np.cos(self.heading), np.sin(self.heading)])
        left = np.array([-forward[1], forward[0]])
        sign = SIDE_SIGN[SIDES.index(self.side)]
        xy = np.asarray(self.position) + self.object_distance * forward + sign * 0.12 * left
        return (float(xy[0]), float(xy[1]))

    @property
    def object_yaw(self) -> float:
        return float(self.heading)


def carry_plan(rig: Rig, params: CarryParams, t: np.ndarray) -> MotionPlan:
    """The plan of picking up and carrying at times ``t`` (T,) seconds."""
    side, sign = SIDES.index(params.side), SIDE_SIGN[SIDES.index(params.side)]
    forward = np.array([np.cos(params.heading), np.sin(params.heading)])
    ankle, yaw = stance_feet(rig, np.asarray(params.position), params.heading, params.stance_width)
    t_grasp = params.start + params.reach_time
    t_lift = t_grasp + params.lift_time
    steps, position = [], ankle[:, :2].copy()
    for k in range(params.steps + (1 if params.steps else 0)):
        foot = (1 - side) if k % 2 == 0 else side  # the free side's foot leads
        last = k == params.steps
        position[foot] = position[1 - foot] + (0.0 if last else params.step_length) * forward
        position[foot] += SIDE_SIGN[foot] * params.stance_width * np.array([-forward[1], forward[0]])
        lift = t_lift + 0.1 + k * params.step_time
        steps.append(Step(foot, lift, lift + 0.75 * params.step_time, tuple(position[foot]), float(yaw[foot])))
    feet = plan_steps(rig, ankle, yaw, steps, t, height=0.05)
    base = standing_targets(rig, feet, np.full(len(t), params.heading), t, phase=params.phase)
    top = np.array([*params.object_position, params.object_size[2] + GRIP_ABOVE]) - np.array([*forward, 0.0]) * 0.04
    frame = int(np.argmin(np.abs(t - t_grasp)))
    bend_amount = keyframes(t, [params.start, t_grasp, t_lift], [0.0, 1.0, 0.0])
    bend = required_bend(rig, base, frame, top, side, 0.3 * sign * -1.0)
    targets = bend_towards(rig, base, bend * bend_amount, -0.3 * sign)
    carry = targets.pelvis + np.einsum("tij,j->ti", targets.pelvis_rotation, rig.scale * CARRY_POSE * np.array([sign, 1.0, 1.0]))
    to_carry = keyframes(t, [t_grasp, t_lift], [0.0, 1.0])[:, None]
    hand = np.zeros((len(t), 2, 3))
    hand[:, side] = top + (carry - top) * to_carry
    hand_weight = np.zeros((len(t), 2))
    hand_weight[:, side] = keyframes(t, [params.start, t_grasp], [0.0, 1.0])
    curl = np.ones((len(t), 2))
    curl[:, side] = keyframes(t, [params.start, t_grasp - 0.2, t_grasp], [1.0, 0.3, 1.8])
    look = look_at(targets.pelvis + np.array([0.0, 0.0, 0.6]), top)
    head = np.where((t < t_grasp + 0.3 * params.lift_time)[:, None, None], look, targets.head)
    targets = with_fields(targets, hand=hand, hand_weight=hand_weight, finger_curl=curl, head=head)
    start = make_transform(rotation_z(params.object_yaw), np.array([*params.object_position, 0.0]))
    grasp = Grasp(name=params.object_name, side=side, time=t_grasp, start=start)
    contact = contact_labels(feet.heel_contact, feet.toe_contact)
    return MotionPlan(targets=targets, contact=contact, smoothing=0.3, grasps=(grasp,))


def carry(skeleton: Skeleton, betas: np.ndarray, params: CarryParams, fps: float, num_frames: int) -> GeneratedMotion:
    """Pick up and carry ``params`` for ``num_frames`` frames at ``fps`` (``objects`` holds the box's track)."""
    fps, num_frames = frames(fps, num_frames)
    betas = check_betas(betas)
    if not isinstance(params, CarryParams):
        raise ValueError(f"params: expected CarryParams, got {type(params).__name__}")
    rig = Rig.from_skeleton(skeleton)
    return realize(rig, betas, fps, carry_plan(rig, params, np.arange(num_frames) / fps))
