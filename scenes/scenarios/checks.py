"""The properties a scenario's clips must have: declarations only (what to measure, thresholds).

Each class is one kind of check (``check:`` in the scenario file); ``shards.format.properties`` measures
it on a clip's ground truth after rendering. Fields naming characters or objects refer to the
roles of the scenario's layout (``ROLE_FIELDS``: field -> "character", "object" or "any"); the
loader checks them. ``name`` tells two checks of the same kind apart (default: the kind).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal


def _positive(name: str, value: float, high: float = float("inf")) -> None:
    if not (isinstance(value, (int, float)) and 0 < value <= high):
        raise ValueError(f"{name}: expected a number in (0, {high:g}], got {value!r}")


def _frames(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}: expected an integer >= 1, got {value!r}")


@dataclass(frozen=True)
class Occluded:
    """The object's visible pixel count (segmentation) drops below ``below`` x its peak for at
    least ``min_frames`` consecutive frames and later recovers to ``recover`` x the peak; the peak
    must be at least ``min_peak_px`` pixels (a speck cannot be verified)."""

    object: str
    below: float = 0.2
    min_frames: int = 3
    recover: float = 0.5
    min_peak_px: int = 12
    name: str = ""
    check: Literal["occluded"] = "occluded"
    ROLE_FIELDS: ClassVar[dict[str, str]] = {"object": "object"}

    def __post_init__(self) -> None:
        _positive("below", self.below, 1.0)
        _positive("recover", self.recover, 1.0)
        _frames("min_frames", self.min_frames)
        _frames("min_peak_px", self.min_peak_px)
        if self.recover <= self.below:
            raise ValueError(f"recover: expected more than below ({self.below}), got {self.recover}")


@dataclass(frozen=True)
class Visible:
    """The character or object covers at least ``min_px`` pixels in at least ``min_fraction`` of the frames."""

    target: str
    min_fraction: float = 0.8
    min_px: int = 20
    name: str = ""
    check: Literal["visible"] = "visible"
    ROLE_FIELDS: ClassVar[dict[str, str]] = {"target": "any"}

    def __post_init__(self) -> None:
        _positive("min_fraction", self.min_fraction, 1.0)
        _frames("min_px", self.min_px)


@dataclass(frozen=True)
class OrbitSweep:
    """The camera's azimuth about the character's pelvis (unwrapped) spans at least ``min_deg``."""

    character: str
    min_deg: float = 90.0
    name: str = ""
    check: Literal["orbit_sweep"] = "orbit_sweep"
    ROLE_FIELDS: ClassVar[dict[str, str]] = {"character": "character"}

    def __post_init__(self) -> None:
        _positive("min_deg", self.min_deg, 3600.0)


@dataclass(frozen=True)
class StraightPath:
    """The character's pelvis ground track stays within ``max_deviation_m`` of its best-fit line
    and covers at least ``min_length_m`` along it."""

    character: str
    max_deviation_m: float = 0.05
    min_length_m: float = 1.0
    name: str = ""
    check: Literal["straight_path"] = "straight_path"
    ROLE_FIELDS: ClassVar[dict[str, str]] = {"character": "character"}

    def __post_init__(self) -> None:
        _positive("max_deviation_m", self.max_deviation_m)
        _positive("min_length_m", self.min_length_m)


@dataclass(frozen=True)
class Airborne:
    """Both feet of the character are off the ground (no heel or toe contact) for at least
    ``min_frames`` consecutive frames; with ``lands``, a foot touches down again afterwards."""

    character: str
    min_frames: int = 3
    lands: bool = True
    name: str = ""
    check: Literal["airborne"] = "airborne"
    ROLE_FIELDS: ClassVar[dict[str, str]] = {"character": "character"}

    def __post_init__(self) -> None:
        _frames("min_frames", self.min_frames)


@dataclass(frozen=True)
class Seated:
    """The character's pelvis joint comes within ``max_distance_m`` of the chair's sitting point
    (the seat's centre, ``pelvis_above_seat_m`` above the seat surface: where the pelvis joint of a
    seated SMPL-X body is); before that its pelvis travels at least ``min_approach_m`` on the
    ground; with ``stands_up``, it ends at least ``min_rise_m`` above its lowest height."""

    character: str
    chair: str
    max_distance_m: float = 0.1
    pelvis_above_seat_m: float = 0.21
    min_approach_m: float = 0.0
    stands_up: bool = True
    min_rise_m: float = 0.25
    name: str = ""
    check: Literal["seated"] = "seated"
    ROLE_FIELDS: ClassVar[dict[str, str]] = {"character": "character", "chair": "object"}

    def __post_init__(self) -> None:
        _positive("max_distance_m", self.max_distance_m)
        _positive("pelvis_above_seat_m", self.pelvis_above_seat_m, 1.0)
        _positive("min_rise_m", self.min_rise_m)
        if not self.min_approach_m >= 0:
            raise ValueError(f"min_approach_m: expected a number >= 0, got {self.min_approach_m!r}")


@dataclass(frozen=True)
class ReachesFloor:
    """The object touches the ground (a contact event with the ground) after falling at least ``min_drop_m``."""

    object: str
    min_drop_m: float = 0.3
    name: str = ""
    check: Literal["reaches_floor"] = "reaches_floor"
    ROLE_FIELDS: ClassVar[dict[str, str]] = {"object": "object"}

    def __post_init__(self) -> None:
        _positive("min_drop_m", self.min_drop_m)


@dataclass(frozen=True)
class Lifted:
    """The character is off the ground (no foot contact) for at least ``min_frames`` frames while
    ``by`` keeps a foot on the ground, and its pelvis rises at least ``min_rise_m``."""

    character: str
    by: str
    min_frames: int = 6
    min_rise_m: float = 0.2
    name: str = ""
    check: Literal["lifted"] = "lifted"
    ROLE_FIELDS: ClassVar[dict[str, str]] = {"character": "character", "by": "character"}

    def __post_init__(self) -> None:
        _frames("min_frames", self.min_frames)
        _positive("min_rise_m", self.min_rise_m)


@dataclass(frozen=True)
class Collides:
    """Objects ``a`` and ``b`` touch (a contact event between them)."""

    a: str
    b: str
    name: str = ""
    check: Literal["collides"] = "collides"
    ROLE_FIELDS: ClassVar[dict[str, str]] = {"a": "object", "b": "object"}


@dataclass(frozen=True)
class ConstantSpeed:
    """The object's ground speed (from its poses) stays within ``tolerance`` (relative) of its mean."""

    object: str
    tolerance: float = 0.05
    name: str = ""
    check: Literal["constant_speed"] = "constant_speed"
    ROLE_FIELDS: ClassVar[dict[str, str]] = {"object": "object"}

    def __post_init__(self) -> None:
        _positive("tolerance", self.tolerance, 1.0)


@dataclass(frozen=True)
class Ballistic:
    """Until it first touches the ground the object flies on a parabola: the vertical acceleration
    fitted to its positions is within ``tolerance`` (relative) of g, over at least ``min_frames`` frames."""

    object: str
    tolerance: float = 0.02
    min_frames: int = 5
    name: str = ""
    check: Literal["ballistic"] = "ballistic"
    ROLE_FIELDS: ClassVar[dict[str, str]] = {"object": "object"}

    def __post_init__(self) -> None:
        _positive("tolerance", self.tolerance, 1.0)
        _frames("min_frames", self.min_frames)


@dataclass(frozen=True)
class SpeedInRange:
    """The object's speed measured over its first frames (``frames``) lies in the ranges its clip's
    physics setup drew ``value`` from (meta.json's scenario_params.physics: the id or ood split),
    within ``tolerance`` (relative)."""

    object: str
    value: str = "speed"
    frames: int = 3
    tolerance: float = 0.02
    name: str = ""
    check: Literal["speed_in_range"] = "speed_in_range"
    ROLE_FIELDS: ClassVar[dict[str, str]] = {"object": "object"}

    def __post_init__(self) -> None:
        _frames("frames", self.frames)
        _positive("tolerance", self.tolerance, 1.0)


Check = Occluded | Visible | OrbitSweep | StraightPath | Airborne | Seated | ReachesFloor | Lifted | Collides | ConstantSpeed | Ballistic | SpeedInRange
CHECK_CLASSES = {cls.__dataclass_fields__["check"].default: cls for cls in Check.__args__}
CHECK_KINDS = tuple(CHECK_CLASSES)


def label(check: Check) -> str:
    """The check's name in meta.json and the run summary."""
    return check.name or check.check
