"""ClipSpec: the seed and every choice of one clip, JSON round-trippable.

``scenes.sampling`` draws a ClipSpec from a seeded generator; ``scenes.build`` turns it into a
Scene without any further randomness. Storing the spec in a sample's meta.json is therefore
enough to rebuild the clip exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from motions.catalog import MotionSpec
from motions.idle import IdleParams
from motions.walk import WalkParams
from scenes.scene import Lighting, Material
from scenes.serialization import from_jsonable, to_jsonable

SPEC_VERSION = 2  # 2: CharacterSpec.motion (every motion kind); version 1 specs (walk / idle) still load
Vec2 = tuple[float, float]
Vec3 = tuple[float, float, float]
PROP_CATEGORIES = ("box", "sphere", "chair", "table")


@dataclass(frozen=True)
class CharacterSpec:
    """One person: body shape, look and motion.

    motion: any motion kind (motions.catalog.MotionSpec: walk, run, idle, jump, sit, reach,
        carry, wave, turn, dance, sequence or a user file), told apart in JSON by its ``family``.
    walk, idle: the fields of spec version 1, still accepted; exactly one of motion / walk /
        idle is set.
    """

    name: str
    betas: tuple[float, ...]
    material: Material
    walk: WalkParams | None = None
    idle: IdleParams | None = None
    motion: MotionSpec | None = None

    def __post_init__(self) -> None:
        if len(self.betas) != 10:
            raise ValueError(f"CharacterSpec.betas: expected 10 values, got {len(self.betas)}")
        if sum(m is not None for m in (self.walk, self.idle, self.motion)) != 1:
            raise ValueError("CharacterSpec: exactly one of motion, walk or idle must be given")

    @property
    def motion_params(self) -> MotionSpec:
        """The character's motion, whichever field holds it."""
        return self.motion if self.motion is not None else (self.walk if self.walk is not None else self.idle)

    @property
    def motion_kind(self) -> str:
        """"walk", "run", "sit", "file", ... (the motion's family)."""
        return self.motion_params.family


@dataclass(frozen=True)
class PropSpec:
    """A static prop standing on the ground.

    category: one of PROP_CATEGORIES.
    size: metres; box (sx, sy, sz), sphere (radius,), chair (width, depth, seat height, back
        height), table (width, depth, height).
    position: world XY of the footprint centre; yaw: radians about +Z.
    """

    name: str
    category: str
    size: tuple[float, ...]
    position: Vec2
    yaw: float
    material: Material

    def __post_init__(self) -> None:
        if self.category not in PROP_CATEGORIES:
            raise ValueError(f"PropSpec.category: expected one of {PROP_CATEGORIES}, got {self.category!r}")
        expected = {"box": 3, "sphere": 1, "chair": 4, "table": 3}[self.category]
        if len(self.size) != expected or min(self.size) <= 0:
            raise ValueError(f"PropSpec.size: a {self.category} needs {expected} positive sizes, got {self.size}")


@dataclass(frozen=True)
class StaticCamera:
    """A fixed camera at ``eye`` looking at ``target``."""

    eye: Vec3
    target: Vec3
    family: Literal["static"] = "static"


@dataclass(frozen=True)
class OrbitCamera:
    """A camera circling ``center`` at ``radius`` and ``height``, from ``start`` through ``sweep`` radians."""

    center: Vec3
    radius: float
    height: float
    start: float
    sweep: float
    family: Literal["orbit"] = "orbit"


@dataclass(frozen=True)
class DollyCamera:
    """A camera translating from ``eye_start`` to ``eye_end`` while looking at ``target``."""

    eye_start: Vec3
    eye_end: Vec3
    target: Vec3
    family: Literal["dolly"] = "dolly"


@dataclass(frozen=True)
class PanTiltCamera:
    """A fixed camera turning its gaze from ``target_start`` to ``target_end``."""

    eye: Vec3
    target_start: Vec3
    target_end: Vec3
    family: Literal["pan_tilt"] = "pan_tilt"


@dataclass(frozen=True)
class TrackingCamera:
    """A camera keeping a constant world offset from a character's smoothed pelvis and looking at it."""

    character: int
    offset: Vec3
    smoothing_s: float = 0.5
    family: Literal["tracking"] = "tracking"


CameraPath = StaticCamera | OrbitCamera | DollyCamera | PanTiltCamera | TrackingCamera
CAMERA_FAMILIES = ("static", "orbit", "dolly", "pan_tilt", "tracking")


@dataclass(frozen=True)
class CameraSpec:
    """The camera path and its horizontal field of view (degrees); roll in radians."""

    path: CameraPath
    fov_deg: float
    roll: float = 0.0

    def __post_init__(self) -> None:
        if not 5.0 <= self.fov_deg <= 150.0:
            raise ValueError(f"CameraSpec.fov_deg: expected 5..150 degrees, got {self.fov_deg}")


@dataclass(frozen=True)
class ClipSpec:
    """Everything that decides one clip.

    run_seed, clip_index: where it came from (the generator was seeded with both).
    num_frames at fps; width x height pixels.
    """

    run_seed: int
    clip_index: int
    scenario: str
    fps: float
    num_frames: int
    width: int
    height: int
    ground: Material
    lighting: Lighting
    background_color: Vec3
    characters: tuple[CharacterSpec, ...]
    props: tuple[PropSpec, ...]
    camera: CameraSpec
    version: int = SPEC_VERSION

    def __post_init__(self) -> None:
        if self.num_frames < 1:
            raise ValueError(f"ClipSpec.num_frames: expected >= 1, got {self.num_frames}")
        if self.width < 1 or self.height < 1:
            raise ValueError(f"ClipSpec.width/height: expected >= 1, got {self.width}x{self.height}")
        if not self.fps > 0:
            raise ValueError(f"ClipSpec.fps: expected > 0, got {self.fps}")

    def to_json(self) -> str:
        return json.dumps(to_jsonable(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ClipSpec":
        return from_jsonable(cls, upgrade(json.loads(text)))


def upgrade(data: object) -> object:
    """Spec JSON of older versions in today's layout (version 1: walk / idle params had no family)."""
    if isinstance(data, dict):
        for character in data.get("characters") or ():
            for kind in ("walk", "idle"):
                params = character.get(kind) if isinstance(character, dict) else None
                if isinstance(params, dict) and "family" not in params:
                    character[kind] = {**params, "family": kind}
    return data
