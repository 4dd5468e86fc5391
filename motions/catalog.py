"""Every kind of character motion: the JSON-friendly spec union, generation, and the space it needs.

A motion spec is one of the params dataclasses below; each has a ``family`` field naming its
kind, which is how scenes.serialization tells them apart in JSON. ``generate_motion`` runs the
procedural generators; ``motion_track`` gives, without a body model, the ground point a motion
occupies in every frame and a radius around it (the swept volume the scene sampler keeps apart).
"""

from __future__ import annotations

import numpy as np

from worldclips.motions.body import Skeleton
from worldclips.motions.carry import CarryParams, carry
from worldclips.motions.dance import DanceParams, dance
from worldclips.motions.files import FileMotion
from worldclips.motions.gait import GaitTiming
from worldclips.motions.generated import GeneratedMotion
from worldclips.motions.idle import IdleParams, idle
from worldclips.motions.jump import JumpParams, jump
from worldclips.motions.path import SmoothPath
from worldclips.motions.reach import ReachParams, reach
from worldclips.motions.run import RunParams, run
from worldclips.motions.sequence import SequenceParams, exit_state, sequence
from worldclips.motions.sit import SitParams, seated_pelvis, sit
from worldclips.motions.turn import TurnParams, turn
from worldclips.motions.walk import WalkParams, walk
from worldclips.motions.wave import WaveParams, wave

MotionSpec = (
    WalkParams | RunParams | IdleParams | JumpParams | SitParams | ReachParams | CarryParams | WaveParams
    | TurnParams | DanceParams | SequenceParams | FileMotion
)  # fmt: skip
GENERATORS = {
    WalkParams: walk, RunParams: run, IdleParams: idle, JumpParams: jump, SitParams: sit, ReachParams: reach,
    CarryParams: carry, WaveParams: wave, TurnParams: turn, DanceParams: dance, SequenceParams: sequence,
}  # fmt: skip
PROCEDURAL_KINDS = tuple(cls.__dataclass_fields__["family"].default for cls in GENERATORS)
KINDS = (*PROCEDURAL_KINDS, "file")
BODY_RADIUS = 0.45  # m around the pelvis that holds a standing or walking body (arms swinging)


def kind_of(params: MotionSpec) -> str:
    """The motion's kind ("walk", "sit", "file", ...)."""
    return params.family


def generate_motion(params: MotionSpec, skeleton: Skeleton, betas: np.ndarray, fps: float, num_frames: int) -> GeneratedMotion:
    """Run the procedural generator of ``params`` (file motions go through motions.files.file_motion)."""
    generator = GENERATORS.get(type(params))
    if generator is None:
        raise ValueError(f"motion: no procedural generator for {type(params).__name__}")
    return generator(skeleton, betas, params, fps, num_frames)


def _hold(t: np.ndarray, start: float, end: float, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    u = np.clip((t - start) / max(end - start, 1e-9), 0.0, 1.0)[:, None]
    return np.asarray(a) + (np.asarray(b) - np.asarray(a)) * u


def motion_track(params: MotionSpec, fps: float, num_frames: int) -> tuple[np.ndarray, float]:
    """(centres (T, 2), radius): a vertical cylinder per frame that contains the moving body.

    File motions are not covered (they need the file; see scenes.sampling).
    """
    t = np.arange(num_frames) / fps
    forward = lambda h: np.array([np.cos(h), np.sin(h)])  # noqa: E731
    if isinstance(params, (WalkParams, RunParams)):
        timing = GaitTiming.build(np.array(params.speed_keys), t[-1], 0.0, 1.0)
        points, _ = SmoothPath.from_waypoints(np.array(params.waypoints)).evaluate(timing.arc_at(t))
        return points, BODY_RADIUS
    if isinstance(params, SitParams):
        seat = seated_pelvis_estimate(params)
        spot = seat + 0.5 * forward(params.heading)
        middle = (seat + spot) / 2
        if params.approach_steps:  # walking to the chair first
            centres = _hold(t, 0.0, params.approach_duration, spot + params.approach_offset, middle)
            return centres, BODY_RADIUS + 0.3
        return np.broadcast_to(middle, (num_frames, 2)).copy(), BODY_RADIUS + 0.3
    if isinstance(params, ReachParams):
        reach_out = np.linalg.norm(np.asarray(params.target[:2]) - np.asarray(params.position)) + 0.15
        return np.broadcast_to(params.position, (num_frames, 2)).copy(), max(BODY_RADIUS, reach_out)
    if isinstance(params, CarryParams):
        end = np.asarray(params.position) + params.steps * params.step_length * forward(params.heading)
        lift = params.start + params.reach_time + params.lift_time
        centres = _hold(t, lift, lift + (params.steps + 1) * params.step_time, params.position, end)
        return centres, BODY_RADIUS + 0.15
    if isinstance(params, JumpParams):
        takeoff = params.start + params.crouch_time
        centres = _hold(t, takeoff, takeoff + 0.3 + params.flight_time, params.position, params.landing_position)
        return centres, BODY_RADIUS + 0.1
    if isinstance(params, DanceParams):
        return np.broadcast_to(params.position, (num_frames, 2)).copy(), BODY_RADIUS + 2 * params.step
    if isinstance(params, SequenceParams):
        centres, start = np.empty((num_frames, 2)), 0.0
        for segment in params.segments:
            begin, end = np.asarray(segment.motion.position), exit_state(segment.motion)[0]
            inside = t >= start
            centres[inside] = _hold(t[inside], start, start + segment.duration, begin, end)
            start += segment.duration
        extra = max((2 * s.motion.step if isinstance(s.motion, DanceParams) else 0.1) for s in params.segments)
        return centres, BODY_RADIUS + extra + 0.1
    if isinstance(params, (IdleParams, WaveParams, TurnParams)):
        return np.broadcast_to(params.position, (num_frames, 2)).copy(), BODY_RADIUS + (0.1 if isinstance(params, WaveParams) else 0.0)
    raise ValueError(f"motion_track: no track for {type(params).__name__}")


def seated_pelvis_estimate(params: SitParams) -> np.ndarray:
    """(2,) XY of the seated pelvis for an average body (no skeleton needed)."""
    forward = np.array([np.cos(params.heading), np.sin(params.heading)])
    return np.asarray(params.chair_position) + (-0.5 * params.seat_depth + 0.17) * forward


__all__ = ["MotionSpec", "KINDS", "PROCEDURAL_KINDS", "generate_motion", "motion_track", "kind_of", "seated_pelvis"]
