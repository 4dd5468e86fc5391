"""Footstep plans for stepping motions (turning in place, dance steps, a few carrying steps).

A foot stays flat and fixed on the ground except during its steps. A step lifts the foot at
``lift`` and puts it down flat at ``land`` (seconds) on a new spot and yaw: the ankle moves
along a minimum-jerk curve and rises by ``height`` * sin^2(pi u) (u the share of the step done),
so the foot leaves and meets the ground with zero velocity. Heel and toe are in contact exactly
while the foot is not stepping. The pelvis follows the supporting feet (``support_centre``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from worldclips.motions.gait import FootTracks
from worldclips.motions.kinematics import minimum_jerk
from worldclips.motions.rig import Rig

STEP_HEIGHT = 0.06  # m the ankle rises in the middle of a step (scaled with the leg)
SWING_WEIGHT = 0.08  # share of the body weight left on a stepping foot (the pelvis moves over the other)


@dataclass(frozen=True)
class Step:
    """One foot moving: side (0 left, 1 right), lift / land times (s), target ankle xy (m) and yaw (rad)."""

    side: int
    lift: float
    land: float
    xy: tuple[float, float]
    yaw: float


def plan_steps(rig: Rig, ankle: np.ndarray, yaw: np.ndarray, steps: list[Step], t: np.ndarray, height: float = STEP_HEIGHT) -> FootTracks:
    """Foot tracks at times ``t`` (T,) from flat feet at ``ankle`` (2, 3) / ``yaw`` (2,) and ``steps``.

    Steps of one foot must not overlap in time; they are applied in order of their lift times.
    """
    frames = len(t)
    out_ankle = np.empty((frames, 2, 3))
    out_yaw = np.empty((frames, 2))
    planted = np.ones((frames, 2), dtype=bool)
    for side in (0, 1):
        position, heading = np.array(ankle[side, :2], dtype=np.float64), float(yaw[side])
        out_ankle[:, side, :2], out_ankle[:, side, 2], out_yaw[:, side] = position, rig.ankle_height[side], heading
        for step in sorted((s for s in steps if s.side == side), key=lambda s: s.lift):
            if step.land <= step.lift:
                raise ValueError(f"step: land time {step.land} must come after lift time {step.lift}")
            target, turn = np.asarray(step.xy, dtype=np.float64), float(np.angle(np.exp(1j * (step.yaw - heading))))
            u = np.clip((t - step.lift) / (step.land - step.lift), 0.0, 1.0)
            moving = (t > step.lift) & (t < step.land)
            after = t >= step.land
            ease = minimum_jerk(u)
            current = position + (target - position) * ease[:, None]
            out_ankle[moving | after, side, :2] = current[moving | after]
            out_yaw[moving | after, side] = (heading + turn * ease)[moving | after]
            out_ankle[moving, side, 2] += height * rig.scale * np.sin(np.pi * u[moving]) ** 2
            planted[moving, side] = False
            position, heading = target, heading + turn
    zeros = np.zeros((frames, 2))
    return FootTracks(out_ankle, out_yaw, zeros, zeros.copy(), planted, planted.copy())


def support_centre(feet: FootTracks, t: np.ndarray, smoothing: float = 0.12) -> np.ndarray:
    """(T, 2) point the pelvis shifts over: the planted feet weighted, smoothed over ``smoothing`` s.

    The Gaussian smoothing anticipates a step: the weight moves to the supporting foot shortly
    before the other one lifts.
    """
    weight = np.where(feet.contact, 1.0, SWING_WEIGHT)
    centre = np.einsum("ts,tsk->tk", weight, feet.ankle[..., :2]) / weight.sum(axis=1, keepdims=True)
    dt = float(t[1] - t[0]) if len(t) > 1 else 1.0
    return gaussian_filter1d(centre, sigma=max(smoothing / dt, 1e-3), axis=0, mode="nearest")


def smooth(values: np.ndarray, t: np.ndarray, seconds: float) -> np.ndarray:
    """Gaussian smoothing of (T, ...) samples along time with a width of ``seconds``."""
    dt = float(t[1] - t[0]) if len(t) > 1 else 1.0
    return gaussian_filter1d(np.asarray(values, dtype=np.float64), sigma=max(seconds / dt, 1e-3), axis=0, mode="nearest")
