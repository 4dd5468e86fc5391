"""Procedural walk of an SMPL-X body along a 2D path with turns and speed changes.

The pelvis follows the rounded path (motions.path) by arc length s(t) = integral of the speed;
footsteps are planned from the gait phase (motions.gait) and stay fixed while a foot is planted;
legs reach their feet by analytic IK (motions.ik), with the pelvis lowered smoothly wherever a
leg could not reach; spine, arms and head follow the gait (motions.upper_body).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motions.body import Skeleton
from motions.conventions import body_orientation_for_heading
from motions.gait import PLANT_PHASE, GaitTiming, plan_feet, speed_at, step_length
from motions.generated import GeneratedMotion
from motions.kinematics import rot_x, rot_y, rot_z
from motions.path import SmoothPath
from motions.rig import Rig
from motions.synthesis import BodyTargets, synthesize
from motions.validation import betas as check_betas
from motions.validation import frames, real, reals

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

    def __post_init__(self) -> None:
        if isinstance(self.waypoints, (str, bytes)) or not hasattr(self.waypoints, "__len__"):
            raise ValueError(f"WalkParams.waypoints: expected a sequence of (x, y) points, got {self.waypoints!r}")
        points = tuple(reals(f"WalkParams.waypoints[{i}]", p, count=2) for i, p in enumerate(self.waypoints))
        if len(points) < 2:
            raise ValueError(f"WalkParams.waypoints: expected at least 2 points, got {len(points)}")
        gaps = np.linalg.norm(np.diff(np.array(points), axis=0), axis=1)
        if np.any(gaps < 1e-3):
            i = int(np.argmin(gaps))
            raise ValueError(f"WalkParams.waypoints: points {i} and {i + 1} coincide (closer than 1 mm)")
        speeds = reals("WalkParams.speed_keys", self.speed_keys)
        for v in speeds:
            if not SPEED_RANGE[0] <= v <= SPEED_RANGE[1]:
                low, high = SPEED_RANGE
                raise ValueError(f"WalkParams.speed_keys: expected speeds in [{low}, {high}] m/s, got {v:g}")
        object.__setattr__(self, "waypoints", points)
        object.__setattr__(self, "speed_keys", speeds)
        object.__setattr__(self, "step_width", real("WalkParams.step_width", self.step_width, *STEP_WIDTH_RANGE))
        object.__setattr__(self, "arm_swing", real("WalkParams.arm_swing", self.arm_swing, *ARM_SWING_RANGE))
        object.__setattr__(self, "phase", real("WalkParams.phase", self.phase, 0.0, 1.0, high_open=True))


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


def walk(skeleton: Skeleton, betas: np.ndarray, params: WalkParams, fps: float, num_frames: int) -> GeneratedMotion:
    """Walk ``params`` for ``num_frames`` frames at ``fps`` with the body ``skeleton`` / ``betas`` (10,).

    Frame i is at time i / fps; the speed keys span frames 0 to num_frames - 1. foot_contact is
    true while a foot is planted flat (ankle and toe fixed, sole on the ground): about a third of
    each gait cycle per foot. The heel-strike roll and the heel rise before toe-off, when only
    the heel or the toes touch the ground, are not flagged.
    """
    fps, num_frames = frames(fps, num_frames)
    betas = check_betas(betas)
    if not isinstance(params, WalkParams):
        raise ValueError(f"params: expected WalkParams, got {type(params).__name__}")
    rig = Rig.from_skeleton(skeleton)
    path = SmoothPath.from_waypoints(np.array(params.waypoints))
    times = np.arange(num_frames) / fps
    timing = GaitTiming.build(np.array(params.speed_keys), times[-1], params.phase, rig.scale)
    feet = plan_feet(rig, path, timing, times, params.step_width)

    speed = speed_at(np.array(params.speed_keys), times[-1], times)
    point, heading = path.evaluate(timing.arc_at(times))
    cycle = 2.0 * np.pi * timing.phase_at(times)  # 0 at the left heel strike
    stance = cycle - 2.0 * np.pi * PLANT_PHASE  # 0 when the pelvis passes over the left ankle
    s = rig.scale
    sway = (0.032 - 0.008 * speed) * s * np.cos(stance)  # towards the foot in stance
    yaw = -(0.03 + 0.04 * speed) * np.cos(cycle)  # the hip of the leading leg forwards
    roll = (0.03 + 0.015 * speed) * np.cos(stance)  # the swing side's hip drops
    tilt = 0.03 + 0.03 * speed
    normal = np.stack([-np.sin(heading), np.cos(heading)], axis=-1)
    height = rig.pelvis_height * STANDING_HEIGHT + (0.008 + 0.008 * speed) * s * np.cos(2.0 * stance)
    arm = params.arm_swing * (0.1 + 0.15 * speed)
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
        elbow=0.25 + 0.08 * speed[:, None] + 0.6 * np.maximum(swing, 0.0),
        head=body_orientation_for_heading(look) @ rot_x(0.05),
    )
    cycle_time = float(np.min(2.0 * step_length(speed, rig.scale) / speed))
    motion = synthesize(rig, betas, fps, targets, radius=int(round(0.1 * cycle_time * fps)))
    return GeneratedMotion(motion=motion, foot_contact=feet.contact)
