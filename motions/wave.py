"""Procedural wave: standing, one hand raised beside the head waves side to side, then comes down.

The hand target sits above and outside the shoulder in the body frame and swings along the
body's left-right axis at ``frequency``; arm IK (elbow out and down) reaches it with a weight
that eases in over ``raise_time`` and out over ``lower_time``. The person stands as in idle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from worldclips.motions.body import Skeleton
from worldclips.motions.generated import GeneratedMotion
from worldclips.motions.idle import STANCE_WIDTH_RANGE, IdleParams, idle_plan
from worldclips.motions.kinematics import keyframes
from worldclips.motions.plan import MotionPlan, realize
from worldclips.motions.rig import SIDE_SIGN, SIDES, Rig
from worldclips.motions.standing import with_fields
from worldclips.motions.upper_body import SHOULDERS
from worldclips.motions.validation import betas as check_betas
from worldclips.motions.validation import check_family, choice, duration, frames, real, reals

TIME_RANGE = (0.2, 2.0)  # s to raise or lower the hand
HAND_OFFSET = np.array([0.12, 0.33, 0.1])  # native (out, up, forward) from the shoulder, leg-scaled m


@dataclass(frozen=True)
class WaveParams:
    """Waving one hand.

    position: world XY (m) between the feet; heading: facing (rad); side: "left" or "right".
    start: seconds before raising the hand; raise_time, lower_time: seconds ([0.2, 2.0]);
    wave_time: seconds of waving. frequency: waves per second ([1, 4]); amplitude: sideways
    hand travel each way (m, [0.03, 0.25]). stance_width (m); phase: idle sway offset ([0, 1)).
    """

    position: tuple[float, float]
    heading: float
    side: str = "right"
    start: float = 0.2
    raise_time: float = 0.5
    wave_time: float = 2.0
    lower_time: float = 0.6
    frequency: float = 2.0
    amplitude: float = 0.12
    stance_width: float = 0.22
    phase: float = 0.0
    family: Literal["wave"] = "wave"

    def __post_init__(self) -> None:
        check_family(self, "wave")
        object.__setattr__(self, "position", reals("WaveParams.position", self.position, count=2))
        object.__setattr__(self, "heading", real("WaveParams.heading", self.heading))
        choice("WaveParams.side", self.side, SIDES)
        object.__setattr__(self, "start", duration("WaveParams.start", self.start))
        object.__setattr__(self, "raise_time", real("WaveParams.raise_time", self.raise_time, *TIME_RANGE))
        object.__setattr__(self, "wave_time", duration("WaveParams.wave_time", self.wave_time))
        object.__setattr__(self, "lower_time", real("WaveParams.lower_time", self.lower_time, *TIME_RANGE))
        object.__setattr__(self, "frequency", real("WaveParams.frequency", self.frequency, 1.0, 4.0))
        object.__setattr__(self, "amplitude", real("WaveParams.amplitude", self.amplitude, 0.03, 0.25))
        width = real("WaveParams.stance_width", self.stance_width, *STANCE_WIDTH_RANGE)
        object.__setattr__(self, "stance_width", width)
        object.__setattr__(self, "phase", real("WaveParams.phase", self.phase, 0.0, 1.0, high_open=True))

    @property
    def duration(self) -> float:
        """Seconds from the clip start until the hand is down again."""
        return self.start + self.raise_time + self.wave_time + self.lower_time


def wave_plan(rig: Rig, params: WaveParams, t: np.ndarray) -> MotionPlan:
    """The plan of a wave at times ``t`` (T,) seconds."""
    idle = IdleParams(position=params.position, heading=params.heading, sway=0.6, phase=params.phase, stance_width=params.stance_width)
    base = idle_plan(rig, idle, t)
    side = SIDES.index(params.side)
    sign = SIDE_SIGN[side]
    t1 = params.start + params.raise_time
    t2 = t1 + params.wave_time
    weight = keyframes(t, [params.start, t1, t2, t2 + params.lower_time], [0.0, 1.0, 1.0, 0.0])
    swing = params.amplitude * np.sin(2.0 * np.pi * params.frequency * np.clip(t - t1 + 0.5 / params.frequency, 0.0, None))
    swing *= keyframes(t, [t1 - 0.5 * params.raise_time, t1, t2, t2 + 0.3 * params.lower_time], [0.0, 1.0, 1.0, 0.0])
    rest = rig.rest_joints[SHOULDERS[side]] - rig.rest_joints[0]
    native = rest + rig.scale * HAND_OFFSET * np.array([sign, 1.0, 1.0])
    native = native[None, :] + np.outer(sign * swing, [1.0, 0.0, 0.0])
    targets = base.targets
    hand = np.zeros((len(t), 2, 3))
    hand[:, side] = targets.pelvis + np.einsum("tij,tj->ti", targets.pelvis_rotation, native)
    hand_weight = np.zeros((len(t), 2))
    hand_weight[:, side] = weight
    pole = np.einsum("tij,sj->tsi", targets.pelvis_rotation, np.array([[1.0, -0.7, -0.3], [-1.0, -0.7, -0.3]]))
    curl = np.ones((len(t), 2))
    curl[:, side] = 1.0 - 0.8 * weight
    spine = targets.spine.copy()
    spine[:, 2] += -sign * 0.06 * weight  # lean slightly away from the raised arm
    targets = with_fields(targets, hand=hand, hand_weight=hand_weight, elbow_pole=pole, finger_curl=curl, spine=spine)
    return MotionPlan(targets=targets, contact=base.contact, smoothing=0.3)


def wave(skeleton: Skeleton, betas: np.ndarray, params: WaveParams, fps: float, num_frames: int) -> GeneratedMotion:
    """Wave ``params`` for ``num_frames`` frames at ``fps`` with the body ``skeleton`` / ``betas`` (10,)."""
    fps, num_frames = frames(fps, num_frames)
    betas = check_betas(betas)
    if not isinstance(params, WaveParams):
        raise ValueError(f"params: expected WaveParams, got {type(params).__name__}")
    rig = Rig.from_skeleton(skeleton)
    return realize(rig, betas, fps, wave_plan(rig, params, np.arange(num_frames) / fps))
