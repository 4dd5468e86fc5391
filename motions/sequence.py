"""A sequence of standing motions (idle, wave, reach, turn, dance, jump) blended without pops.

Segment i runs on its own clock from its start time (the sum of the earlier durations). Around
each boundary the plans are blended over ``blend`` seconds with a smoothstep weight, whose zero
slope at both ends keeps every target's velocity continuous (motions.plan). Each segment must
start where the previous one ends: same stance centre (a jump moves it by its distance), same
facing (a turn changes it by its angle) and the same stance width, so the planted feet of both
plans coincide and nothing slides while blending.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from worldclips.motions.body import Skeleton
from worldclips.motions.dance import DanceParams, dance_plan
from worldclips.motions.generated import GeneratedMotion
from worldclips.motions.idle import IdleParams, idle_plan
from worldclips.motions.jump import JumpParams, jump_plan
from worldclips.motions.kinematics import smoothstep
from worldclips.motions.plan import MotionPlan, blend_plans, realize
from worldclips.motions.reach import ReachParams, reach_plan
from worldclips.motions.rig import Rig
from worldclips.motions.turn import TurnParams, turn_plan
from worldclips.motions.validation import betas as check_betas
from worldclips.motions.validation import check_family, frames, real
from worldclips.motions.wave import WaveParams, wave_plan

SegmentMotion = IdleParams | WaveParams | ReachParams | TurnParams | DanceParams | JumpParams
PLANNERS = {
    IdleParams: idle_plan, WaveParams: wave_plan, ReachParams: reach_plan,
    TurnParams: turn_plan, DanceParams: dance_plan, JumpParams: jump_plan,
}  # fmt: skip
POSITION_TOLERANCE = 0.01  # m
HEADING_TOLERANCE = 0.02  # rad


@dataclass(frozen=True)
class Segment:
    """One motion of a sequence and how long it lasts (s, > 0; the last one runs on to the clip's end)."""

    motion: SegmentMotion
    duration: float


@dataclass(frozen=True)
class SequenceParams:
    """Standing motions one after the other; ``blend`` seconds ([0.1, 2.0]) around each boundary."""

    segments: tuple[Segment, ...]
    blend: float = 0.5
    family: Literal["sequence"] = "sequence"

    def __post_init__(self) -> None:
        check_family(self, "sequence")
        if isinstance(self.segments, (str, bytes)) or not hasattr(self.segments, "__len__") or not self.segments:
            raise ValueError("SequenceParams.segments: expected at least one segment")
        object.__setattr__(self, "segments", tuple(self.segments))
        object.__setattr__(self, "blend", real("SequenceParams.blend", self.blend, 0.1, 2.0))
        for i, segment in enumerate(self.segments):
            where = f"SequenceParams.segments[{i}]"
            if not isinstance(segment, Segment) or type(segment.motion) not in PLANNERS:
                names = sorted(p.__name__ for p in PLANNERS)
                raise ValueError(f"{where}: expected a Segment with one of {names}")
            if real(f"{where}.duration", segment.duration, 0.0) <= 0.0:
                raise ValueError(f"{where}.duration: expected a positive number of seconds")
            if i < len(self.segments) - 1:
                if isinstance(segment.motion, DanceParams):
                    raise ValueError(f"{where}.motion: a dance loop never ends; it can only be the last segment")
                if segment.motion.duration > segment.duration - 0.5 * self.blend + 1e-9:
                    need = segment.motion.duration + 0.5 * self.blend
                    raise ValueError(f"{where}.duration: the motion needs {need:.3f} s (its own time plus half the blend)")
        for i in range(1, len(self.segments)):
            _check_continuity(self.segments[i - 1].motion, self.segments[i].motion, f"SequenceParams.segments[{i}]")

    @property
    def position(self) -> tuple[float, float]:
        return self.segments[0].motion.position

    @property
    def heading(self) -> float:
        return self.segments[0].motion.heading


def exit_state(motion: SegmentMotion) -> tuple[np.ndarray, float]:
    """(stance centre (2,), facing) when the motion has finished."""
    if isinstance(motion, TurnParams):
        return np.asarray(motion.position), motion.heading + motion.angle
    if isinstance(motion, JumpParams):
        return np.asarray(motion.landing_position), motion.heading
    return np.asarray(motion.position), motion.heading


def _check_continuity(before: SegmentMotion, after: SegmentMotion, where: str) -> None:
    position, heading = exit_state(before)
    if np.linalg.norm(np.asarray(after.position) - position) > POSITION_TOLERANCE:
        raise ValueError(f"{where}.motion.position: expected {tuple(np.round(position, 4))} where the previous segment ends")
    if abs(np.angle(np.exp(1j * (after.heading - heading)))) > HEADING_TOLERANCE:
        raise ValueError(f"{where}.motion.heading: expected {heading:.4f} rad where the previous segment ends")
    if abs(after.stance_width - before.stance_width) > 1e-6:
        raise ValueError(f"{where}.motion.stance_width: expected {before.stance_width:g} like the previous segment")


def sequence_plan(rig: Rig, params: SequenceParams, t: np.ndarray) -> MotionPlan:
    """The blended plan of all segments at times ``t`` (T,) seconds."""
    start, plan = 0.0, None
    for segment in params.segments:
        segment_plan = PLANNERS[type(segment.motion)](rig, segment.motion, t - start)
        if plan is None:
            plan = segment_plan
        else:
            weight = smoothstep((t - (start - 0.5 * params.blend)) / params.blend)
            plan = blend_plans(plan, segment_plan, weight)
        start += segment.duration
    return plan


def sequence(skeleton: Skeleton, betas: np.ndarray, params: SequenceParams, fps: float, num_frames: int) -> GeneratedMotion:
    """Play ``params`` for ``num_frames`` frames at ``fps`` with the body ``skeleton`` / ``betas`` (10,)."""
    fps, num_frames = frames(fps, num_frames)
    betas = check_betas(betas)
    if not isinstance(params, SequenceParams):
        raise ValueError(f"params: expected SequenceParams, got {type(params).__name__}")
    rig = Rig.from_skeleton(skeleton)
    return realize(rig, betas, fps, sequence_plan(rig, params, np.arange(num_frames) / fps))
