"""Seeded sampling of one character's motion: its kind (by weights), its parameters, the props it
needs (a chair to sit on, a box to carry) and the space it sweeps over the clip.

Every draw comes from the clip's generator, in a fixed order, so specs stay deterministic. User
motion files come from ``motions.files.scan_motion_dir`` (sorted, scanned once per process).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache

import numpy as np

from worldclips.motions.carry import CarryParams
from worldclips.motions.catalog import BODY_RADIUS, KINDS, MotionSpec, motion_track
from worldclips.motions.dance import DanceParams
from worldclips.motions.files import FileMotion, load_motion_file, scan_motion_dir, window_motion
from worldclips.motions.idle import IdleParams
from worldclips.motions.jump import JumpParams
from worldclips.motions.reach import ReachParams
from worldclips.motions.run import RunParams
from worldclips.motions.sequence import Segment, SequenceParams, exit_state
from worldclips.motions.sit import SitParams, seat_height_for
from worldclips.motions.turn import TurnParams
from worldclips.motions.walk import WalkParams, walk_path_length
from worldclips.motions.wave import WaveParams
from worldclips.scenes.draws import cycle_phase

FILE_RADIUS = BODY_RADIUS + 0.15  # mocap arms can reach further out than the procedural poses
SEQUENCE_WIDTH = 0.22  # stance width shared by the segments of a sequence


@dataclass(frozen=True)
class MotionWeights:
    """Relative weights of the motion kinds characters are drawn from (0 = never)."""

    walk: float = 0.0
    run: float = 0.0
    idle: float = 0.0
    jump: float = 0.0
    sit: float = 0.0
    reach: float = 0.0
    carry: float = 0.0
    wave: float = 0.0
    turn: float = 0.0
    dance: float = 0.0
    sequence: float = 0.0
    file: float = 0.0

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < float("inf"):
                raise ValueError(f"scene.motions.{field.name}: expected a weight >= 0, got {value!r}")
        if self.total <= 0:
            raise ValueError("scene.motions: expected at least one positive weight")

    @property
    def total(self) -> float:
        return float(sum(getattr(self, k) for k in KINDS))

    def choose(self, rng: np.random.Generator) -> str:
        weights = np.array([getattr(self, k) for k in KINDS], dtype=np.float64)
        return str(KINDS[int(rng.choice(len(KINDS), p=weights / weights.sum()))])


DEFAULT_WEIGHTS = MotionWeights(
    walk=3.0, run=1.0, idle=1.0, jump=1.0, sit=1.0, reach=1.0, carry=1.0, wave=1.0, turn=1.0, dance=1.0, sequence=1.0
)
FILE_WEIGHTS = MotionWeights(file=1.0)


@dataclass(frozen=True, eq=False)
class SampledMotion:
    """A character's motion, the props it brings (PropSpec field dicts without material), and its
    swept volume: centres (T, 2) per frame and a radius."""

    motion: MotionSpec
    props: tuple[dict, ...]
    centres: np.ndarray
    radius: float
    betas: tuple[float, ...] | None = None


def _r(value: float, digits: int = 4) -> float:
    return round(float(value), digits)


def _xy(rng, radius: float) -> tuple[float, float]:
    return tuple(_r(c) for c in rng.uniform(-radius, radius, size=2))


def _route(rng, length: float, arena: float) -> tuple[tuple[float, float], ...]:
    start = rng.uniform(-0.6, 0.6, size=2) * arena
    heading = np.arctan2(-start[1], -start[0]) + rng.uniform(-1.2, 1.2)  # roughly across the arena
    turns = int(rng.integers(0, 3))
    cuts = np.sort(rng.uniform(0.2, 0.8, size=turns)) * length
    points = [start]
    for i, segment in enumerate(np.diff(np.concatenate([[0.0], cuts, [length]]))):
        if i > 0:
            heading += rng.uniform(np.radians(20), np.radians(90)) * rng.choice([-1, 1])
        points.append(points[-1] + segment * np.array([np.cos(heading), np.sin(heading)]))
    return tuple(tuple(_r(c) for c in p) for p in points)


def _locomotion(rng, kind: str, speeds: tuple[float, float], arena: float, fps: float, frames: int) -> MotionSpec:
    keys = tuple(_r(v, 3) for v in rng.uniform(*speeds, size=3))
    phase = cycle_phase(rng)
    cls = WalkParams if kind == "walk" else RunParams
    length = walk_path_length(WalkParams(((0.0, 0.0), (1.0, 0.0)), (1.0,)), fps, frames) * float(np.mean(keys)) + 0.5
    width = _r(rng.uniform(0.12, 0.2) if kind == "walk" else rng.uniform(0.08, 0.14), 3)
    return cls(waypoints=_route(rng, length, arena), speed_keys=keys, phase=phase, step_width=width)


def standing_motion(rng, kind: str, position, heading: float, duration: float, betas, width: float = 0.22, start=None):
    """Params of the in-place kinds at ``position`` / ``heading`` (start drawn unless given)."""
    begin = _r(rng.uniform(0.0, 0.2 * duration) if start is None else start, 3)
    common = dict(position=position, heading=_r(heading), stance_width=width, phase=cycle_phase(rng))
    side = str(rng.choice(["left", "right"]))
    if kind == "idle":
        return IdleParams(sway=_r(rng.uniform(0.5, 1.5), 3), **common)
    if kind == "wave":
        return WaveParams(side=side, start=begin, raise_time=_r(rng.uniform(0.3, 0.6), 3), wave_time=_r(rng.uniform(1.0, 2.5), 3),
                          lower_time=_r(rng.uniform(0.4, 0.7), 3), frequency=_r(rng.uniform(1.5, 3.0), 3),
                          amplitude=_r(rng.uniform(0.06, 0.15), 3), **common)  # fmt: skip
    if kind == "turn":
        return TurnParams(angle=_r(rng.uniform(0.6, 2.4) * rng.choice([-1, 1])), start=begin, step_time=_r(rng.uniform(0.35, 0.55), 3), **common)
    if kind == "jump":
        return JumpParams(height=_r(rng.uniform(0.1, 0.45), 3), distance=_r(rng.uniform(0.0, 1.0), 3), start=begin,
                          crouch_time=_r(rng.uniform(0.3, 0.6), 3), **common)  # fmt: skip
    if kind == "dance":
        return DanceParams(tempo=_r(rng.uniform(90, 130), 2), step=_r(rng.uniform(0.15, 0.3), 3), bounce=_r(rng.uniform(0.3, 1.0), 3),
                           arms=_r(rng.uniform(0.3, 1.0), 3), start=begin, **common)  # fmt: skip
    # reach: a point on the hand's side, in front, between knee and head height
    sign = 1.0 if side == "left" else -1.0
    azimuth = heading + sign * rng.uniform(0.0, 0.9)
    distance, height = rng.uniform(0.35, 0.6), rng.uniform(0.5, 1.5)
    target = (position[0] + distance * np.cos(azimuth), position[1] + distance * np.sin(azimuth), height)
    return ReachParams(target=tuple(_r(c) for c in target), side=side, start=begin, reach_time=_r(rng.uniform(0.6, 1.0), 3),
                       hold=_r(rng.uniform(0.3, 1.2), 3), return_time=_r(rng.uniform(0.6, 1.0), 3), **common)  # fmt: skip


def _sequence(rng, position, heading: float, betas) -> SequenceParams:
    segments, blend = [], 0.5
    for i in range(int(rng.integers(2, 4))):
        last = i > 0 and rng.uniform() < 0.4
        kinds = ["idle", "wave", "turn", "jump", "reach"] + (["dance"] if last else [])
        motion = standing_motion(rng, str(rng.choice(kinds)), position, heading, 2.0, betas, SEQUENCE_WIDTH, start=0.1)
        if isinstance(motion, (IdleParams, DanceParams)):
            length = rng.uniform(0.8, 1.5)
        else:
            length = motion.duration + 0.5 * blend + rng.uniform(0.1, 0.4)
        segments.append(Segment(motion=motion, duration=_r(length, 3)))
        position, heading = tuple(_r(c) for c in exit_state(motion)[0]), float(exit_state(motion)[1])
        if last:
            break
    return SequenceParams(segments=tuple(segments), blend=blend)


@lru_cache(maxsize=1)
def _default_skeleton():
    from worldclips.motions.mannequin_body import MannequinBody

    return MannequinBody().skeleton(np.zeros(10))


def _file(rng, motion_dir: str, arena: float, fps: float, frames: int, betas) -> tuple[FileMotion, tuple | None]:
    files = scan_motion_dir(motion_dir)
    path = files[int(rng.integers(len(files)))]
    skeleton = _default_skeleton()
    loaded = load_motion_file(FileMotion(motion_dir, path, 0.0, (0.0, 0.0), 0.0).file(), skeleton, np.zeros(10))
    length = (loaded.motion.num_frames - 1) / loaded.motion.fps
    start = _r(rng.uniform(0.0, max(length - (frames - 1) / fps, 0.0)), 4)
    position = np.array(_xy(rng, 0.6 * arena))
    heading = np.arctan2(-position[1], -position[0]) + rng.uniform(-1.0, 1.0)
    file_betas = tuple(_r(b) for b in loaded.motion.betas) if path.lower().endswith(".npz") else None
    return FileMotion(root=motion_dir, path=path, start=start, position=tuple(position), heading=_r(heading)), file_betas


def sample_motion(rng, kind: str, name: str, arena: float, walk_speed, fps: float, frames: int, betas, motion_dir=None) -> SampledMotion:
    """Draw a motion of ``kind`` for the character ``name`` with ``betas`` (for the seat height)."""
    duration = (frames - 1) / fps
    if kind in ("walk", "run"):
        motion = _locomotion(rng, kind, walk_speed if kind == "walk" else (2.0, 3.5), arena, fps, frames)
        centres, radius = motion_track(motion, fps, frames)
        return SampledMotion(motion, (), centres, radius)
    if kind == "file":
        motion, file_betas = _file(rng, motion_dir, arena, fps, frames, betas)
        placed = window_motion(motion, _default_skeleton(), np.asarray(file_betas or betas), fps, frames)
        centres = placed.transl[:, :2].astype(np.float64) + _default_skeleton().rest_joints[0][:2]  # pelvis = transl + rest pelvis
        return SampledMotion(motion, (), centres, FILE_RADIUS, file_betas)
    position = _xy(rng, 0.5 * arena)
    heading = rng.uniform(-np.pi, np.pi)
    props: tuple[dict, ...] = ()
    if kind == "sit":
        depth, seat = _r(rng.uniform(0.38, 0.44), 3), _r(seat_height_for(betas, rng.uniform()), 3)
        motion = SitParams(
            chair_position=position, chair_yaw=_r(heading), seat_height=seat, seat_depth=depth,
            start=_r(rng.uniform(0.0, 0.15 * duration), 3), down_time=_r(rng.uniform(0.9, 1.4), 3),
            hold=_r(rng.uniform(0.2, 1.0), 3), up_time=_r(rng.uniform(0.9, 1.4), 3), phase=cycle_phase(rng),
            chair=f"{name}_chair",
        )  # fmt: skip
        size = (_r(rng.uniform(0.42, 0.5), 3), depth, seat, _r(rng.uniform(0.35, 0.5), 3))
        props = (dict(name=motion.chair, category="chair", size=size, position=position, yaw=_r(heading)),)
    elif kind == "carry":
        motion = CarryParams(
            position=position, heading=_r(heading), object_name=f"{name}_box",
            object_size=tuple(_r(c, 3) for c in rng.uniform(0.15, 0.3, size=3)), object_distance=_r(rng.uniform(0.3, 0.5), 3),
            side=str(rng.choice(["left", "right"])), start=_r(rng.uniform(0.0, 0.15 * duration), 3),
            reach_time=_r(rng.uniform(0.7, 1.1), 3), lift_time=_r(rng.uniform(0.6, 0.9), 3), steps=int(rng.integers(2, 7)),
            step_length=_r(rng.uniform(0.25, 0.4), 3), step_time=_r(rng.uniform(0.45, 0.6), 3), phase=cycle_phase(rng),
        )  # fmt: skip
        box = dict(name=motion.object_name, category="box", size=motion.object_size, position=tuple(_r(c) for c in motion.object_position), yaw=_r(motion.object_yaw))
        props = (box,)
    elif kind == "sequence":
        motion = _sequence(rng, position, heading, betas)
    else:
        motion = standing_motion(rng, kind, position, heading, duration, betas)
    centres, radius = motion_track(motion, fps, frames)
    return SampledMotion(motion, props, centres, radius)


def swept_clear(a: SampledMotion, b: SampledMotion, clearance: float) -> bool:
    """True when the two bodies' cylinders keep ``clearance`` apart in every frame."""
    gap = np.linalg.norm(a.centres - b.centres, axis=1).min() - a.radius - b.radius
    return bool(gap > clearance)
