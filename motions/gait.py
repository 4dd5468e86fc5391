"""Gait timing and footstep planning for the procedural walk and run (coefficients: GaitStyle).

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
with unit initial slope), lifts the foot most early in the swing and lands softly. With a duty
factor D below 0.5 (RUN_STYLE) both feet are in the air between toe-off and the other heel strike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worldclips.motions.feet import ball_pivot, clearance_height, heel_pivot, pivot_ankle
from worldclips.motions.kinematics import minimum_jerk, smoothstep
from worldclips.motions.path import SmoothPath
from worldclips.motions.rig import SIDE_SIGN, Rig

HEEL_STRIKE = 0.06  # a: share of the cycle rolling down about the heel (walking)
HEEL_RISE = 0.2  # c: share of the cycle with the heel rising before toe-off (walking)
PLANT_PHASE = 0.22  # foot phase at which the pelvis passes over the planted ankle (walking)
GRID_RATE = 240.0  # Hz, integration grid of s(t) and phi(t)
FOOT_PHASE_OFFSET = (0.0, 0.5)  # left, right


@dataclass(frozen=True)
class GaitStyle:
    """Coefficients of a gait; each (a, b) pair is a + b * speed (speed in m/s).

    step: distance between consecutive left and right footsteps, in leg-scaled metres.
    duty: share of a cycle a foot is on the ground (below 0.5: a flight phase, running).
    heel_strike, heel_rise: shares of the cycle rolling down about the heel after heel strike
        and rising about the ball before toe-off.
    plant_phase: foot phase at which the pelvis passes over the planted ankle.
    strike_pitch, off_pitch: toe-up angle at heel strike, heel-up angle at toe-off (rad).
    lift: extra ankle height at mid-swing above ground clearance, in leg-scaled metres.
    """

    step: tuple[float, float] = (0.45, 0.2)
    duty: tuple[float, float] = (0.65, -0.05)
    heel_strike: float = 0.06
    heel_rise: float = 0.2
    plant_phase: float = 0.22
    strike_pitch: tuple[float, float] = (0.12, 0.08)
    off_pitch: tuple[float, float] = (0.45, 0.15)
    lift: tuple[float, float] = (0.05, 0.02)

    def step_length(self, speed: np.ndarray, scale: float) -> np.ndarray:
        return (self.step[0] + self.step[1] * np.asarray(speed)) * scale

    def at(self, name: str, speed: np.ndarray) -> np.ndarray:
        a, b = getattr(self, name)
        return a + b * np.asarray(speed)


WALK_STYLE = GaitStyle()
# Running: a short stance (duty 0.38 at 2 m/s down to 0.30 at 4 m/s, so both feet are off the
# ground for 0.12-0.2 of a cycle twice per cycle), a short heel contact, long steps, a high
# heel kick in the swing.
RUN_STYLE = GaitStyle(
    step=(0.5, 0.2), duty=(0.46, -0.04), heel_strike=0.03, heel_rise=0.1, plant_phase=0.16,
    strike_pitch=(0.06, 0.0), off_pitch=(0.5, 0.05), lift=(0.1, 0.04),
)  # fmt: skip


def step_length(speed: np.ndarray, scale: float) -> np.ndarray:
    """Distance between consecutive left and right footsteps (m) at ``speed`` (m/s), walking."""
    return WALK_STYLE.step_length(speed, scale)


def duty_factor(speed: np.ndarray) -> np.ndarray:
    """Share of a cycle a foot is on the ground (heel strike to toe-off), walking."""
    return WALK_STYLE.at("duty", speed)


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
    def build(
        cls, speed_keys: np.ndarray, duration: float, phase0: float, scale: float, style: GaitStyle = WALK_STYLE
    ) -> "GaitTiming":
        keys = np.asarray(speed_keys, dtype=np.float64)
        slowest_cycle = float(np.max(2.0 * style.step_length(keys, scale) / keys))
        pad = int(np.ceil(2.5 * slowest_cycle * GRID_RATE))
        main = max(int(np.ceil(duration * GRID_RATE)), 1)
        dt = duration / main if duration > 0 else 1.0 / GRID_RATE
        t = np.arange(-pad, main + pad + 1) * dt
        speed = speed_at(keys, duration, t)
        cadence = speed / (2.0 * style.step_length(speed, scale))
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
    heel_contact, toe_contact: (T, 2) bool, the heel / the toes on the ground and fixed (the
        heel while the foot rolls down about it or stands flat, the toes while it stands flat or
        its heel rises about the ball).
    """

    ankle: np.ndarray
    yaw: np.ndarray
    pitch: np.ndarray
    toe_flex: np.ndarray
    heel_contact: np.ndarray
    toe_contact: np.ndarray

    @property
    def contact(self) -> np.ndarray:
        """(T, 2) bool, foot planted flat (ankle and toe fixed on the ground)."""
        return self.heel_contact & self.toe_contact


def _footsteps(rig, side, path, timing, cycles, step_width, plant_phase=PLANT_PHASE):
    """Flat ankle positions (K, 3) and yaws (K,) of a foot's footsteps number ``cycles`` (K,)."""
    t = timing.time_at_phase(cycles + plant_phase - FOOT_PHASE_OFFSET[side])
    point, heading = path.evaluate(timing.arc_at(t))
    normal = np.stack([-np.sin(heading), np.cos(heading)], axis=-1)
    xy = point + SIDE_SIGN[side] * 0.5 * step_width * normal
    return np.concatenate([xy, np.full((len(xy), 1), rig.ankle_height[side])], axis=1), heading


def hermite(u: np.ndarray, p0, p1, m0, m1) -> np.ndarray:
    """Cubic Hermite curve from p0 (slope m0) to p1 (slope m1) at u in [0, 1] (broadcasting)."""
    u2, u3 = u * u, u * u * u
    return (2 * u3 - 3 * u2 + 1) * p0 + (u3 - 2 * u2 + u) * m0 + (3 * u2 - 2 * u3) * p1 + (u3 - u2) * m1


def plan_feet(
    rig: Rig, path: SmoothPath, timing: GaitTiming, times: np.ndarray, step_width: float, style: GaitStyle = WALK_STYLE
) -> FootTracks:
    """Foot poses at ``times`` (T,) seconds for a walk (or run, with RUN_STYLE) along ``path``."""
    speed = np.interp(times, timing.t, timing.speed)
    duty, rise, strike_share = style.at("duty", speed), style.heel_rise, style.heel_strike
    strike_pitch, off_pitch = style.at("strike_pitch", speed), style.at("off_pitch", speed)
    out = {name: np.zeros((len(times), 2)) for name in ("yaw", "pitch", "toe_flex")}
    ankle = np.zeros((len(times), 2, 3))
    heel_contact, toe_contact = np.zeros((len(times), 2), dtype=bool), np.zeros((len(times), 2), dtype=bool)
    for side in (0, 1):
        foot_phase = timing.phase_at(times) + FOOT_PHASE_OFFSET[side]
        cycle = np.floor(foot_phase)
        r = foot_phase - cycle
        first = int(cycle.min())
        cycles = np.arange(first, int(cycle.max()) + 2)
        steps, step_yaw = _footsteps(rig, side, path, timing, cycles, step_width, style.plant_phase)
        k = cycle.astype(int) - first
        flat, yaw, next_flat, next_yaw = steps[k], step_yaw[k], steps[k + 1], step_yaw[k + 1]
        heel, ball = heel_pivot(rig, side), ball_pivot(rig, side)

        strike = -strike_pitch * (1.0 - smoothstep(r / strike_share))
        lift = off_pitch * np.clip((r - (duty - rise)) / rise, 0.0, 1.0) ** 1.5
        stance_pitch = np.where(r < strike_share, strike, lift)
        on_heel = pivot_ankle(flat, yaw, stance_pitch, heel)
        on_ball = pivot_ankle(flat, yaw, stance_pitch, ball)
        stance_ankle = np.where((r < strike_share)[:, None], on_heel, on_ball)
        stance_flex = np.where(r < strike_share, 0.0, -lift)

        u = np.clip((r - duty) / (1.0 - duty), 0.0, 1.0)
        # The swing carries on the heel rise's motion (pitch, toe flex and ankle velocity at
        # toe-off are continuous) and lands with zero velocity at the next heel strike.
        rate = 1.5 * off_pitch / rise * (1.0 - duty)  # d pitch / du where the heel rise ends
        toe_off = pivot_ankle(flat, yaw, off_pitch, ball)
        toe_off_velocity = (toe_off - pivot_ankle(flat, yaw, off_pitch - 1e-4, ball)) / 1e-4 * rate[:, None]
        strike_pose = pivot_ankle(next_flat, next_yaw, -strike_pitch, heel)
        swing_pitch = hermite(u, off_pitch, -strike_pitch, rate, 0.0)
        swing_flex = hermite(np.clip(2.0 * u, 0.0, 1.0), -off_pitch, 0.0, -0.5 * rate, 0.0)
        swing_ankle = hermite(u[:, None], toe_off, strike_pose, toe_off_velocity, 0.0)
        bump = 16.0 * u**2 * (1.0 - u) ** 2  # peaks (1) mid-swing, zero slope at both ends
        swing_ankle[:, 2] = clearance_height(rig, side, swing_pitch, swing_flex) + style.at("lift", speed) * rig.scale * bump
        blend = minimum_jerk(u)

        swinging = r >= duty
        ankle[:, side] = np.where(swinging[:, None], swing_ankle, stance_ankle)
        out["yaw"][:, side] = np.where(swinging, yaw + (next_yaw - yaw) * blend, yaw)
        out["pitch"][:, side] = np.where(swinging, swing_pitch, stance_pitch)
        out["toe_flex"][:, side] = np.where(swinging, swing_flex, stance_flex)
        heel_contact[:, side] = r < duty - rise
        toe_contact[:, side] = (r >= strike_share) & (r < duty)
    return FootTracks(ankle=ankle, heel_contact=heel_contact, toe_contact=toe_contact, **out)
