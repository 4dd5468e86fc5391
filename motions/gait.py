"""Gait timing and footstep planning for the procedural walk.

Timing: the speed v(t) comes from keys spread uniformly over the clip, blended with smoothsteps;
arc length s(t) = integral of v and gait phase phi(t) = phase + integral of cadence, with
cadence = v / (2 step_length(v)) cycles per second (one cycle = one left and one right step).
Outside the clip the speed is held, so s and phi are defined for footsteps before and after it.

Footsteps: each foot's cycle starts at heel strike. Within a cycle, for the foot phase r in [0, 1):
[0, a) the foot rolls down about the heel, [a, D - c) it is planted flat (contact), [D - c, D)
the heel rises about the ball (toes flat on the ground), [D, 1) it swings to the next footstep.
Footstep k of a foot lies on the path where the pelvis is at foot phase k + PLANT_PHASE, offset
sideways by half the step width, and points along the path's heading there. The heel rises with
an ease-in, so the foot leaves the ground moving; the swing starts with that momentum (a cubic
with unit initial slope), lifts the foot most early in the swing and lands softly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motions.feet import ball_pivot, clearance_height, heel_pivot, pivot_ankle
from motions.kinematics import minimum_jerk, smoothstep
from motions.path import SmoothPath
from motions.rig import SIDE_SIGN, Rig

HEEL_STRIKE = 0.06  # a: share of the cycle rolling down about the heel
HEEL_RISE = 0.2  # c: share of the cycle with the heel rising before toe-off
PLANT_PHASE = 0.22  # foot phase at which the pelvis passes over the planted ankle
GRID_RATE = 240.0  # Hz, integration grid of s(t) and phi(t)
FOOT_PHASE_OFFSET = (0.0, 0.5)  # left, right


def step_length(speed: np.ndarray, scale: float) -> np.ndarray:
    """Distance between consecutive left and right footsteps (m) at ``speed`` (m/s)."""
    return (0.45 + 0.2 * np.asarray(speed)) * scale


def duty_factor(speed: np.ndarray) -> np.ndarray:
    """Share of a cycle a foot is on the ground (heel strike to toe-off)."""
    return 0.65 - 0.05 * np.asarray(speed)


def heel_strike_pitch(speed: np.ndarray) -> np.ndarray:
    """Toe-up angle of the foot at heel strike (rad)."""
    return 0.12 + 0.08 * np.asarray(speed)


def toe_off_pitch(speed: np.ndarray) -> np.ndarray:
    """Heel-up angle of the foot at toe-off (rad)."""
    return 0.45 + 0.15 * np.asarray(speed)


def swing_lift(speed: np.ndarray, scale: float) -> np.ndarray:
    """Extra ankle height at mid-swing above the height that keeps the sole on the ground (m)."""
    return (0.05 + 0.02 * np.asarray(speed)) * scale


def speed_at(speed_keys: np.ndarray, duration: float, t: np.ndarray) -> np.ndarray:
    """(...,) speeds at times t: keys at uniform times over [0, duration], smoothstep blends, held outside."""
    keys = np.asarray(speed_keys, dtype=np.float64)
    if keys.size == 1 or duration <= 0:
        return np.full(np.shape(t), keys[0])
    x = np.clip(np.asarray(t, dtype=np.float64) / duration, 0.0, 1.0) * (keys.size - 1)
    i = np.minimum(np.floor(x).astype(int), keys.size - 2)
    return keys[i] + (keys[i + 1] - keys[i]) * smoothstep(x - i)


@dataclass(frozen=True, eq=False)
class GaitTiming:
    """s(t) and phi(t) sampled on a fine grid that extends past both ends of the clip.

    t: (G,) seconds; speed, arc, phase: (G,) m/s, metres along the path, gait cycles.
    """

    t: np.ndarray
    speed: np.ndarray
    arc: np.ndarray
    phase: np.ndarray

    @classmethod
    def build(cls, speed_keys: np.ndarray, duration: float, phase0: float, scale: float) -> "GaitTiming":
        keys = np.asarray(speed_keys, dtype=np.float64)
        slowest_cycle = float(np.max(2.0 * step_length(keys, scale) / keys))
        pad = int(np.ceil(2.5 * slowest_cycle * GRID_RATE))
        main = max(int(np.ceil(duration * GRID_RATE)), 1)
        dt = duration / main if duration > 0 else 1.0 / GRID_RATE
        t = np.arange(-pad, main + pad + 1) * dt
        speed = speed_at(keys, duration, t)
        cadence = speed / (2.0 * step_length(speed, scale))
        arc = np.concatenate([[0.0], np.cumsum(0.5 * (speed[1:] + speed[:-1]) * dt)])
        phase = np.concatenate([[0.0], np.cumsum(0.5 * (cadence[1:] + cadence[:-1]) * dt)])
        return cls(t=t, speed=speed, arc=arc - arc[pad], phase=phase - phase[pad] + phase0)

    def arc_at(self, t: np.ndarray) -> np.ndarray:
        return np.interp(t, self.t, self.arc)

    def phase_at(self, t: np.ndarray) -> np.ndarray:
        return np.interp(t, self.t, self.phase)

    def time_at_phase(self, phase: np.ndarray) -> np.ndarray:
        return np.interp(phase, self.phase, self.t)


@dataclass(frozen=True, eq=False)
class FootTracks:
    """Per-frame pose of both feet (side 0 left, 1 right).

    ankle: (T, 2, 3) world ankle joint positions.
    yaw, pitch, toe_flex: (T, 2) radians (see motions.feet).
    contact: (T, 2) bool, foot planted flat (ankle and toe fixed on the ground).
    """

    ankle: np.ndarray
    yaw: np.ndarray
    pitch: np.ndarray
    toe_flex: np.ndarray
    contact: np.ndarray


def _footsteps(rig, side, path, timing, cycles, step_width):
    """Flat ankle positions (K, 3) and yaws (K,) of a foot's footsteps number ``cycles`` (K,)."""
    t = timing.time_at_phase(cycles + PLANT_PHASE - FOOT_PHASE_OFFSET[side])
    point, heading = path.evaluate(timing.arc_at(t))
    normal = np.stack([-np.sin(heading), np.cos(heading)], axis=-1)
    xy = point + SIDE_SIGN[side] * 0.5 * step_width * normal
    return np.concatenate([xy, np.full((len(xy), 1), rig.ankle_height[side])], axis=1), heading


def plan_feet(rig: Rig, path: SmoothPath, timing: GaitTiming, times: np.ndarray, step_width: float) -> FootTracks:
    """Foot poses at ``times`` (T,) seconds for a walk along ``path``."""
    speed = np.interp(times, timing.t, timing.speed)
    duty, rise = duty_factor(speed), HEEL_RISE
    strike_pitch, off_pitch = heel_strike_pitch(speed), toe_off_pitch(speed)
    out = {name: np.zeros((len(times), 2)) for name in ("yaw", "pitch", "toe_flex")}
    ankle, contact = np.zeros((len(times), 2, 3)), np.zeros((len(times), 2), dtype=bool)
    for side in (0, 1):
        foot_phase = timing.phase_at(times) + FOOT_PHASE_OFFSET[side]
        cycle = np.floor(foot_phase)
        r = foot_phase - cycle
        first = int(cycle.min())
        cycles = np.arange(first, int(cycle.max()) + 2)
        steps, step_yaw = _footsteps(rig, side, path, timing, cycles, step_width)
        k = cycle.astype(int) - first
        flat, yaw, next_flat, next_yaw = steps[k], step_yaw[k], steps[k + 1], step_yaw[k + 1]
        heel, ball = heel_pivot(rig, side), ball_pivot(rig, side)

        strike = -strike_pitch * (1.0 - smoothstep(r / HEEL_STRIKE))
        lift = off_pitch * np.clip((r - (duty - rise)) / rise, 0.0, 1.0) ** 1.5
        stance_pitch = np.where(r < HEEL_STRIKE, strike, lift)
        on_heel = pivot_ankle(flat, yaw, stance_pitch, heel)
        on_ball = pivot_ankle(flat, yaw, stance_pitch, ball)
        stance_ankle = np.where((r < HEEL_STRIKE)[:, None], on_heel, on_ball)
        stance_flex = np.where(r < HEEL_STRIKE, 0.0, -lift)

        u = np.clip((r - duty) / (1.0 - duty), 0.0, 1.0)
        blend = u + u**2 - u**3  # slope 1 at toe-off, 0 at heel strike
        toe_off = pivot_ankle(flat, yaw, off_pitch, ball)
        strike_pose = pivot_ankle(next_flat, next_yaw, -strike_pitch, heel)
        swing_pitch = off_pitch + (-strike_pitch - off_pitch) * minimum_jerk(u)
        swing_flex = -off_pitch * (1.0 - smoothstep(2.0 * u))
        swing_ankle = toe_off + (strike_pose - toe_off) * blend[:, None]
        bump = 6.75 * u * (1.0 - u) ** 2  # peaks (1) at a third of the swing
        swing_ankle[:, 2] = clearance_height(rig, side, swing_pitch, swing_flex) + swing_lift(speed, rig.scale) * bump

        swinging = r >= duty
        ankle[:, side] = np.where(swinging[:, None], swing_ankle, stance_ankle)
        out["yaw"][:, side] = np.where(swinging, yaw + (next_yaw - yaw) * blend, yaw)
        out["pitch"][:, side] = np.where(swinging, swing_pitch, stance_pitch)
        out["toe_flex"][:, side] = np.where(swinging, swing_flex, stance_flex)
        contact[:, side] = (r >= HEEL_STRIKE) & (r < duty - rise)
    return FootTracks(ankle=ankle, contact=contact, **out)
