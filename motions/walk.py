"""Procedural walk of an SMPL-X body along a 2D path with turns and speed changes.

The pelvis follows the rounded path (motions.path) by arc length s(t) = integral of the speed;
footsteps are planned from the gait phase (motions.gait) and stay fixed while a foot is planted;
legs reach their feet by analytic IK (motions.ik), with the pelvis lowered smoothly wherever a
leg could not reach; spine, arms and head follow the gait (motions.upper_body).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from worldclips.motions.body import Skeleton
from worldclips.motions.conventions import body_orientation_for_heading
from worldclips.motions.gait import WALK_STYLE, GaitStyle, GaitTiming, plan_feet, speed_at
from worldclips.motions.generated import GeneratedMotion, contact_labels
from worldclips.motions.kinematics import rot_x, rot_y, rot_z
from worldclips.motions.path import SmoothPath
from worldclips.motions.plan import MotionPlan, realize
from worldclips.motions.rig import Rig
from worldclips.motions.synthesis import BodyTargets
from worldclips.motions.validation import betas as check_betas
from worldclips.motions.validation import check_family, frames, real, reals

SPEED_RANGE = (0.5, 2.0)  # m/s
STEP_WIDTH_RANGE = (0.05, 0.4)  # m
ARM_SWING_RANGE = (0.0, 3.0)
LOOK_AHEAD = 0.8  # m along the path the head looks towards (anticipates turns)
STANDING_HEIGHT = 0.965  # wished pelvis height at mid-stance, in rest pelvis heights above the sole


@dataclass(frozen=True)
class WalkParams:
    """A walk along a path; plain floats and tuples (JSON lists are accepted and converted).

    waypoints: (N >= 2) world XY points (m); the walker starts at waypoints[0] and follows the
        polyline with rounded corners, straight on past the last waypoint if the clip needs it.
    speed_keys: (K >= 1) speeds (m/s, in [0.5, 2.0]) at K times spread uniformly over the clip,
        smoothly interpolated.
    step_width: lateral distance between the left and right ankle lines (m, [0.05, 0.4]).
    arm_swing: scale of the arm swing ([0, 3]).
    phase: gait phase offset in cycles ([0, 1)); 0 starts at the left heel strike.
    """

    waypoints: tuple[tuple[float, float], ...]
    speed_keys: tuple[float, ...]
    step_width: float = 0.16
    arm_swing: float = 1.0
    phase: float = 0.0
    family: Literal["walk"] = "walk"

    def __post_init__(self) -> None:
        check_family(self, "walk")
        check_route(self, SPEED_RANGE)


def check_route(params, speed_range: tuple[float, float]) -> None:
    """Validate and normalise the fields WalkParams and RunParams share (errors name the field)."""
    name = type(params).__name__
    if isinstance(params.waypoints, (str, bytes)) or not hasattr(params.waypoints, "__len__"):
        raise ValueError(f"{name}.waypoints: expected a sequence of (x, y) points, got {params.waypoints!r}")
    points = tuple(reals(f"{name}.waypoints[{i}]", p, count=2) for i, p in enumerate(params.waypoints))
    if len(points) < 2:
        raise ValueError(f"{name}.waypoints: expected at least 2 points, got {len(points)}")
    gaps = np.linalg.norm(np.diff(np.array(points), axis=0), axis=1)
    if np.any(gaps < 1e-3):
        i = int(np.argmin(gaps))
        raise ValueError(f"{name}.waypoints: points {i} and {i + 1} coincide (closer than 1 mm)")
    speeds = reals(f"{name}.speed_keys", params.speed_keys)
    for v in speeds:
        if not speed_range[0] <= v <= speed_range[1]:
            low, high = speed_range
            raise ValueError(f"{name}.speed_keys: expected speeds in [{low}, {high}] m/s, got {v:g}")
    object.__setattr__(params, "waypoints", points)
    object.__setattr__(params, "speed_keys", speeds)
    object.__setattr__(params, "step_width", real(f"{name}.step_width", params.step_width, *STEP_WIDTH_RANGE))
    object.__setattr__(params, "arm_swing", real(f"{name}.arm_swing", params.arm_swing, *ARM_SWING_RANGE))
    object.__setattr__(params, "phase", real(f"{name}.phase", params.phase, 0.0, 1.0, high_open=True))


def walk_path_length(params: WalkParams, fps: float, num_frames: int) -> float:
    """Arc length (m) the pelvis covers along the rounded path between the first and last frame.

    The speed keys are blended with smoothsteps, so each blend covers the mean of its two keys.
    Compare with ``SmoothPath.from_waypoints(params.waypoints).length`` (the rounded path up to
    the last waypoint, a little shorter than the polyline); past it the walk goes straight on.
    """
    fps, num_frames = frames(fps, num_frames)
    keys = np.asarray(params.speed_keys, dtype=np.float64)
    duration = (num_frames - 1) / fps
    if keys.size == 1:
        return float(keys[0] * duration)
    return float(np.sum(0.5 * (keys[1:] + keys[:-1])) * duration / (keys.size - 1))


@dataclass(frozen=True)
class LocomotionBody:
    """How the pelvis and upper body move with the gait; each (a, b) pair is a + b * speed.

    sway: sideways pelvis shift towards the stance foot (leg-scaled m); yaw, roll, tilt: pelvis
    turn, drop and forward lean (rad); height: pelvis height at mid-stance in rest pelvis heights;
    bounce: vertical pelvis motion (leg-scaled m; > 0 highest at mid-stance as in walking, < 0
    lowest there as in running); arm: arm swing (rad); elbow: elbow flexion (rad).
    """

    sway: tuple[float, float] = (0.032, -0.008)
    yaw: tuple[float, float] = (0.03, 0.04)
    roll: tuple[float, float] = (0.03, 0.015)
    tilt: tuple[float, float] = (0.03, 0.03)
    height: float = STANDING_HEIGHT
    bounce: tuple[float, float] = (0.008, 0.008)
    arm: tuple[float, float] = (0.1, 0.15)
    elbow: tuple[float, float] = (0.25, 0.08)

    def at(self, name: str, speed: np.ndarray) -> np.ndarray:
        a, b = getattr(self, name)
        return a + b * speed


WALK_BODY = LocomotionBody()


def locomotion_plan(rig: Rig, params, times: np.ndarray, style: GaitStyle = WALK_STYLE, body: LocomotionBody = WALK_BODY) -> MotionPlan:
    """The plan of a walk (or, with the run's style and body, a run) at ``times`` (T,) seconds."""
    path = SmoothPath.from_waypoints(np.array(params.waypoints))
    timing = GaitTiming.build(np.array(params.speed_keys), times[-1], params.phase, rig.scale, style)
    feet = plan_feet(rig, path, timing, times, params.step_width, style)

    speed = speed_at(np.array(params.speed_keys), times[-1], times)
    point, heading = path.evaluate(timing.arc_at(times))
    cycle = 2.0 * np.pi * timing.phase_at(times)  # 0 at the left heel strike
    stance = cycle - 2.0 * np.pi * style.plant_phase  # 0 when the pelvis passes over the left ankle
    s = rig.scale
    sway = body.at("sway", speed) * s * np.cos(stance)  # towards the foot in stance
    yaw = -body.at("yaw", speed) * np.cos(cycle)  # the hip of the leading leg forwards
    roll = body.at("roll", speed) * np.cos(stance)  # the swing side's hip drops
    tilt = body.at("tilt", speed)
    normal = np.stack([-np.sin(heading), np.cos(heading)], axis=-1)
    height = rig.pelvis_height * body.height + body.at("bounce", speed) * s * np.cos(2.0 * stance)
    arm = params.arm_swing * body.at("arm", speed)
    swing = np.stack([arm * np.cos(cycle - np.pi), arm * np.cos(cycle)], axis=-1)  # opposite to the legs
    look = path.evaluate(timing.arc_at(times) + LOOK_AHEAD)[1]
    look = heading + np.clip(look - heading, -0.5, 0.5)
    targets = BodyTargets(
        pelvis_rotation=body_orientation_for_heading(heading) @ rot_y(yaw) @ rot_z(roll) @ rot_x(tilt),
        pelvis=np.concatenate([point + sway[:, None] * normal, height[:, None]], axis=1),
        ankle=feet.ankle,
        foot_yaw=feet.yaw,
        foot_pitch=feet.pitch,
        toe_flex=feet.toe_flex,
        spine=np.stack([0.02 * speed - 0.7 * tilt, -1.6 * yaw, -0.8 * roll], axis=-1),
        arm_swing=swing,
        elbow=body.at("elbow", speed)[:, None] + 0.6 * np.maximum(swing, 0.0),
        head=body_orientation_for_heading(look) @ rot_x(0.05 + 0.5 * (tilt - WALK_BODY.at("tilt", speed))),
    )
    cycle_time = float(np.min(2.0 * style.step_length(speed, rig.scale) / speed))
    contact = contact_labels(feet.heel_contact, feet.toe_contact)
    return MotionPlan(targets=targets, contact=contact, smoothing=0.1 * cycle_time)


def walk(skeleton: Skeleton, betas: np.ndarray, params: WalkParams, fps: float, num_frames: int) -> GeneratedMotion:
    """Walk ``params`` for ``num_frames`` frames at ``fps`` with the body ``skeleton`` / ``betas`` (10,).

    Frame i is at time i / fps; the speed keys span frames 0 to num_frames - 1. A heel is in
    contact from heel strike until it rises before toe-off, the toes from the end of the
    heel-strike roll until toe-off; both (the foot planted flat) for about a third of each cycle.
    """
    fps, num_frames = frames(fps, num_frames)
    betas = check_betas(betas)
    if not isinstance(params, WalkParams):
        raise ValueError(f"params: expected WalkParams, got {type(params).__name__}")
    rig = Rig.from_skeleton(skeleton)
    return realize(rig, betas, fps, locomotion_plan(rig, params, np.arange(num_frames) / fps))
