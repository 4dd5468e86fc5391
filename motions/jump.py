"""Procedural two-footed jump: crouch, push off, a ballistic flight phase, landing, standing up.

Timeline (seconds): standing until ``start``; the pelvis sinks into a crouch (arms swing back);
the push raises it to take-off height while the heels rise about the balls of the feet (toes
on the ground); at take-off the pelvis leaves with the vertical speed v0 = sqrt(2 g height) and
flies on a parabola (g = 9.81 m/s^2) for 2 v0 / g seconds, the feet tucked under it; the toes
touch down first on the landing spot ``distance`` metres ahead, the heels come down, the knees
absorb the landing and the body stands up again. Nothing touches the ground during the flight.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from worldclips.motions.body import Skeleton
from worldclips.motions.conventions import body_orientation_for_heading
from worldclips.motions.feet import ball_pivot, pivot_ankle
from worldclips.motions.gait import FootTracks
from worldclips.motions.generated import GeneratedMotion, contact_labels
from worldclips.motions.idle import STANCE_WIDTH_RANGE, stance_feet
from worldclips.motions.ik import REACH_FRACTION
from worldclips.motions.kinematics import keyframes, minimum_jerk, rot_x
from worldclips.motions.plan import MotionPlan, realize
from worldclips.motions.rig import Rig
from worldclips.motions.standing import STANDING_HEIGHT, standing_targets, with_fields
from worldclips.motions.validation import betas as check_betas
from worldclips.motions.validation import check_family, duration, frames, real, reals

G = 9.81
TAKEOFF_PITCH = 0.55  # rad the heels are up at take-off
LANDING_PITCH = 0.3  # rad the heels are up when the toes touch down
HEEL_DOWN_TIME = 0.1  # s from toe touch-down to the heels on the ground
RECOVER_TIME = 0.5  # s from the deepest landing crouch to standing


@dataclass(frozen=True)
class JumpParams:
    """A standing jump.

    position: world XY (m) between the feet before the jump; heading: facing (rad).
    height: rise of the pelvis above its take-off height (m, [0.05, 0.5]).
    distance: forward displacement of the feet (m, [0, 1.2]).
    start: seconds standing before the crouch; crouch_time: seconds to sink ([0.2, 1.0]).
    stance_width: distance between the ankles (m, [0.08, 0.5]); phase: breathing offset ([0, 1)).
    """

    position: tuple[float, float]
    heading: float
    height: float = 0.2
    distance: float = 0.3
    start: float = 0.2
    crouch_time: float = 0.4
    stance_width: float = 0.22
    phase: float = 0.0
    family: Literal["jump"] = "jump"

    def __post_init__(self) -> None:
        check_family(self, "jump")
        object.__setattr__(self, "position", reals("JumpParams.position", self.position, count=2))
        object.__setattr__(self, "heading", real("JumpParams.heading", self.heading))
        object.__setattr__(self, "height", real("JumpParams.height", self.height, 0.05, 0.5))
        object.__setattr__(self, "distance", real("JumpParams.distance", self.distance, 0.0, 1.2))
        object.__setattr__(self, "start", duration("JumpParams.start", self.start))
        object.__setattr__(self, "crouch_time", real("JumpParams.crouch_time", self.crouch_time, 0.2, 1.0))
        width = real("JumpParams.stance_width", self.stance_width, *STANCE_WIDTH_RANGE)
        object.__setattr__(self, "stance_width", width)
        object.__setattr__(self, "phase", real("JumpParams.phase", self.phase, 0.0, 1.0, high_open=True))

    @property
    def flight_time(self) -> float:
        return 2.0 * np.sqrt(2.0 * G * self.height) / G

    @property
    def duration(self) -> float:
        """Seconds from the clip start until the jumper stands still again (an upper bound)."""
        return self.start + self.crouch_time + 0.35 + self.flight_time + 0.4 + RECOVER_TIME

    @property
    def landing_position(self) -> tuple[float, float]:
        forward = np.array([np.cos(self.heading), np.sin(self.heading)])
        return tuple(float(c) for c in np.asarray(self.position) + self.distance * forward)


def _hermite(u: np.ndarray, p0: float, p1: float, m0: float, m1: float) -> np.ndarray:
    """Cubic Hermite from p0 to p1 with end slopes m0, m1 (per unit u)."""
    u2, u3 = u * u, u * u * u
    return (2 * u3 - 3 * u2 + 1) * p0 + (u3 - 2 * u2 + u) * m0 + (-2 * u3 + 3 * u2) * p1 + (u3 - u2) * m1


def _piecewise(t: np.ndarray, pieces: list[tuple[float, float, callable]], before: float, after: callable) -> np.ndarray:
    out = np.full(len(t), before, dtype=np.float64)
    for start, end, function in pieces:
        inside = (t >= start) & (t < end)
        out[inside] = function(t[inside])
    last = pieces[-1][1]
    out[t >= last] = after(t[t >= last])
    return out


def jump_plan(rig: Rig, params: JumpParams, t: np.ndarray) -> MotionPlan:
    """The plan of a jump at times ``t`` (T,) seconds."""
    s, heading = rig.scale, params.heading
    forward = np.array([np.cos(heading), np.sin(heading), 0.0])
    ankle0, yaw = stance_feet(rig, np.asarray(params.position), heading, params.stance_width)
    ankle1 = ankle0 + params.distance * forward
    standing = rig.pelvis_height * STANDING_HEIGHT
    depth = (0.12 + 0.3 * params.height) * s
    v0 = np.sqrt(2.0 * G * params.height)
    flight = params.flight_time
    ball = [ball_pivot(rig, side) for side in (0, 1)]
    toes_up = [pivot_ankle(ankle0[side][None], yaw[side : side + 1], np.array([TAKEOFF_PITCH]), ball[side])[0] for side in (0, 1)]
    hip_drop = -rig.hip_offset[:, 1].mean()  # hips below the pelvis joint (native y is up)
    reach = REACH_FRACTION * float(np.min(rig.thigh_length + rig.shin_length))
    width = 0.5 * params.stance_width
    lateral = np.abs(np.abs(rig.hip_offset[:, 0]).mean() - width)
    z_to = min(standing + 0.06 * s, max(t_[2] for t_ in toes_up) + np.sqrt(reach**2 - lateral**2 - 0.1**2) + hip_drop - 0.01)
    z_low, z_absorb = standing - depth, standing - 0.7 * depth
    t1 = params.start + params.crouch_time
    push = float(np.clip(2.0 * (z_to - z_low) / v0, 0.12, 0.35))
    t2 = t1 + push
    t3 = t2 + flight
    absorb = float(np.clip(2.0 * (z_to - z_absorb) / v0, 0.1, 0.4))
    t4 = t3 + absorb
    x_low = -0.05 * s * depth / 0.2
    vx = (params.distance - x_low) / (flight + 0.5 * (push + absorb))
    x_to, x_land = x_low + 0.5 * vx * push, params.distance - 0.5 * vx * absorb

    z = _piecewise(t, [
        (params.start, t1, lambda x: standing - depth * minimum_jerk((x - params.start) / params.crouch_time)),
        (t1, t2, lambda x: _hermite((x - t1) / push, z_low, z_to, 0.0, v0 * push)),
        (t2, t3, lambda x: z_to + v0 * (x - t2) - 0.5 * G * (x - t2) ** 2),
        (t3, t4, lambda x: _hermite((x - t3) / absorb, z_to, z_absorb, -v0 * absorb, 0.0)),
    ], standing, lambda x: z_absorb + (standing - z_absorb) * minimum_jerk((x - t4) / RECOVER_TIME))  # fmt: skip
    along = _piecewise(t, [
        (params.start, t1, lambda x: x_low * minimum_jerk((x - params.start) / params.crouch_time)),
        (t1, t2, lambda x: _hermite((x - t1) / push, x_low, x_to, 0.0, vx * push)),
        (t2, t3, lambda x: x_to + vx * (x - t2)),
        (t3, t4, lambda x: _hermite((x - t3) / absorb, x_land, params.distance, vx * absorb, 0.0)),
    ], 0.0, lambda x: np.full(len(x), params.distance))  # fmt: skip
    centre = np.asarray(params.position)[None] + along[:, None] * forward[None, :2]
    pelvis = np.concatenate([centre, z[:, None]], axis=1)

    rise = np.clip((t - (t2 - 0.7 * push)) / (0.7 * push), 0.0, 1.0) ** 1.5 * TAKEOFF_PITCH
    heel_down = LANDING_PITCH * (1.0 - minimum_jerk((t - t3) / HEEL_DOWN_TIME))
    u = np.clip((t - t2) / flight, 0.0, 1.0)
    in_air_pitch = TAKEOFF_PITCH + (LANDING_PITCH - TAKEOFF_PITCH) * minimum_jerk(u)
    pitch = np.where(t < t2, rise, np.where(t < t3, in_air_pitch, heel_down))
    ankle = np.empty((len(t), 2, 3))
    for side in (0, 1):
        on_start = pivot_ankle(np.broadcast_to(ankle0[side], (len(t), 3)), np.full(len(t), yaw[side]), pitch, ball[side])
        on_land = pivot_ankle(np.broadcast_to(ankle1[side], (len(t), 3)), np.full(len(t), yaw[side]), pitch, ball[side])
        at_to = pivot_ankle(ankle0[side][None], yaw[side : side + 1], np.array([TAKEOFF_PITCH]), ball[side])[0]
        at_land = pivot_ankle(ankle1[side][None], yaw[side : side + 1], np.array([LANDING_PITCH]), ball[side])[0]
        pelvis_to = np.array([*(np.asarray(params.position) + x_to * forward[:2]), z_to])
        pelvis_land = np.array([*(np.asarray(params.position) + x_land * forward[:2]), z_to])
        offset = (at_to - pelvis_to) + ((at_land - pelvis_land) - (at_to - pelvis_to)) * minimum_jerk(u)[:, None]
        offset[:, 2] += (0.08 + 0.25 * params.height) * s * np.sin(np.pi * u) ** 2  # tuck the feet up
        in_air = pelvis + offset
        ankle[:, side] = np.where((t < t2)[:, None], on_start, np.where((t < t3)[:, None], in_air, on_land))
    feet = FootTracks(
        ankle=ankle, yaw=np.broadcast_to(yaw, (len(t), 2)).copy(), pitch=np.stack([pitch, pitch], 1),
        toe_flex=-np.stack([pitch, pitch], 1),
        heel_contact=np.repeat(((t < t2 - 0.7 * push) | (t >= t3 + HEEL_DOWN_TIME))[:, None], 2, axis=1),
        toe_contact=np.repeat(((t < t2) | (t >= t3))[:, None], 2, axis=1),
    )  # fmt: skip
    keys = [params.start, t1, t2, 0.5 * (t2 + t3), t3 + 0.5 * absorb, t4 + RECOVER_TIME]
    lean = keyframes(t, keys, [0.02, 0.3, -0.02, 0.06, 0.3, 0.02])
    spine = keyframes(t, keys, [0.0, 0.35, -0.05, 0.1, 0.4, 0.0])
    arm_keys = [params.start, t1, 0.5 * (t2 + t3), t4, t4 + RECOVER_TIME]
    arms = keyframes(t, arm_keys, [0.03, -0.6, 1.1, 0.6, 0.03])
    elbow = keyframes(t, arm_keys, [0.2, 0.3, 0.45, 0.6, 0.2])
    heading_t = np.full(len(t), heading)
    base = standing_targets(rig, feet, heading_t, t, phase=params.phase, centre=centre)
    spine3 = base.spine.copy()
    spine3[:, 0] += spine
    targets = with_fields(
        base, pelvis=pelvis, pelvis_rotation=body_orientation_for_heading(heading_t) @ rot_x(lean),
        spine=spine3, arm_swing=np.stack([arms, arms], 1), elbow=np.stack([elbow, elbow], 1),
    )  # fmt: skip
    return MotionPlan(targets=targets, contact=contact_labels(feet.heel_contact, feet.toe_contact), smoothing=0.08)


def jump(skeleton: Skeleton, betas: np.ndarray, params: JumpParams, fps: float, num_frames: int) -> GeneratedMotion:
    """Jump ``params`` for ``num_frames`` frames at ``fps`` with the body ``skeleton`` / ``betas`` (10,)."""
    fps, num_frames = frames(fps, num_frames)
    betas = check_betas(betas)
    if not isinstance(params, JumpParams):
        raise ValueError(f"params: expected JumpParams, got {type(params).__name__}")
    rig = Rig.from_skeleton(skeleton)
    return realize(rig, betas, fps, jump_plan(rig, params, np.arange(num_frames) / fps))
