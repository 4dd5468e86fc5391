"""The schema of a scenario file: every section and its distributions (docs/scenarios.md).

A scenario is a frozen dataclass tree read with scenes.serialization.from_jsonable, so unknown
fields, wrong types and bad ranges are errors naming the field path. Distributions are
scenes.scenarios.dists types; the layout is one of scenes.scenarios.layout_schema; the
properties are scenes.scenarios.checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from worldclips.scenes.scene import PATTERNS
from worldclips.scenes.scenarios.checks import Check, label
from worldclips.scenes.scenarios.dists import Count, Number, Weights, check_count, check_number, check_weights, top
from worldclips.scenes.scenarios.layout_schema import Layout
from worldclips.scenes.spec import ALL_CAMERA_FAMILIES, STATIC_CATEGORIES

MAX_SIDE = 4096


@dataclass(frozen=True)
class LightingDist:
    """The sun (elevation above the horizon, azimuth, intensity, warmth: 0 white .. 0.3 orange) and
    scales of the sky's and the ground's ambient light and of the background (sky) colour."""

    sun_elevation_deg: Number = (25.0, 70.0)
    sun_azimuth_deg: Number = (-180.0, 180.0)
    intensity: Number = (2.2, 3.2)
    warmth: Number = (0.0, 0.15)
    sky: Number = (0.7, 1.1)
    bounce: Number = (0.7, 1.1)
    background: Number = (0.8, 1.1)

    def __post_init__(self) -> None:
        for name, low, high in (("sun_elevation_deg", 5, 90), ("sun_azimuth_deg", -360, 360), ("intensity", 0.1, 10),
                                ("warmth", 0, 0.3), ("sky", 0, 3), ("bounce", 0, 3), ("background", 0, 2)):  # fmt: skip
            check_number(name, getattr(self, name), low, high)


@dataclass(frozen=True)
class GroundDist:
    """The ground's pattern (by weight) and its scale (repeats per metre)."""

    patterns: Weights = ("checker", "tiles", "noise", "stripes")
    scale: Number = (0.5, 2.0)

    def __post_init__(self) -> None:
        check_weights("patterns", self.patterns, PATTERNS)
        check_number("scale", self.scale, 0.05, 20.0)


@dataclass(frozen=True)
class CameraDist:
    """The camera path family (by weight) and its parameters.

    azimuth_deg: where the camera stands, about the layout's preferred side (0: straight in front).
    distance_m, height_m: from the layout's focus point; fov_deg: horizontal field of view.
    sweep_deg: orbit and orbit_follow (direction random); move_m: dolly travel; pan_deg: pan_tilt
    swing; smoothing_s: tracking and orbit_follow; follow: the character (a layout role) that
    tracking and orbit_follow cameras follow ("": the layout's main character); roll_deg.
    """

    family: Weights = "static"
    fov_deg: Number = (45.0, 65.0)
    distance_m: Number = (4.0, 6.0)
    height_m: Number = (1.0, 2.0)
    azimuth_deg: Number = (-30.0, 30.0)
    sweep_deg: Number = (30.0, 90.0)
    move_m: Number = (0.5, 1.5)
    pan_deg: Number = (10.0, 30.0)
    smoothing_s: Number = (0.3, 0.8)
    roll_deg: Number = 0.0
    follow: str = ""

    def __post_init__(self) -> None:
        check_weights("family", self.family, ALL_CAMERA_FAMILIES)
        for name, low, high in (("fov_deg", 10, 120), ("distance_m", 0.5, 100), ("height_m", 0.4, 50), ("azimuth_deg", -360, 360),
                                ("sweep_deg", 0, 720), ("move_m", 0, 20), ("pan_deg", 0, 120), ("smoothing_s", 0.01, 5),
                                ("roll_deg", -30, 30)):  # fmt: skip
            check_number(name, getattr(self, name), low, high)


@dataclass(frozen=True)
class ClutterDist:
    """Static props around the action: how many, of which categories, and how far from the focus."""

    count: Count = 0
    categories: Weights = ("box", "sphere", "table", "chair")
    min_distance_m: float = 2.5
    max_distance_m: float = 6.0

    def __post_init__(self) -> None:
        check_count("count", self.count, 0, 8)
        check_weights("categories", self.categories, STATIC_CATEGORIES)
        check_number("min_distance_m", (self.min_distance_m, self.max_distance_m), 0.5, 50.0)


@dataclass(frozen=True)
class ExtrasDist:
    """Extra people around the action (none by default), with motions drawn by weight."""

    count: Count = 0
    motions: Weights = field(default_factory=lambda: {"walk": 1.0, "idle": 1.0, "wave": 1.0})
    min_distance_m: float = 3.0
    walk_speed_mps: tuple[float, float] = (0.8, 1.4)

    def __post_init__(self) -> None:
        check_count("count", self.count, 0, 3)
        check_weights("motions", self.motions, ("walk", "run", "idle", "wave", "turn", "dance", "jump", "reach"))
        check_number("min_distance_m", self.min_distance_m, 0.5, 50.0)
        check_number("walk_speed_mps", self.walk_speed_mps, 0.5, 2.0)


@dataclass(frozen=True)
class Scenario:
    """A scenario: distributions for every choice of a clip and the properties its clips must have.

    fps: one value or a list of choices; duration_s: seconds (a Number); resolution: [W, H] or a
    list of choices. views: clips come in groups of ``views`` consecutive clip indices that share
    one performance (characters, motions, props, lighting) seen by different cameras. split:
    the default id/ood split of physics layouts (``--split`` overrides it).
    """

    layout: Layout
    description: str = ""
    fps: float | tuple[float, ...] = 24.0
    duration_s: Number = 2.0
    resolution: tuple[int, int] | tuple[tuple[int, int], ...] = (256, 256)
    views: int = 1
    split: str = "id"
    lighting: LightingDist = field(default_factory=LightingDist)
    ground: GroundDist = field(default_factory=GroundDist)
    camera: CameraDist = field(default_factory=CameraDist)
    clutter: ClutterDist = field(default_factory=ClutterDist)
    extras: ExtrasDist = field(default_factory=ExtrasDist)
    properties: tuple[Check, ...] = ()

    def __post_init__(self) -> None:
        fps = self.fps if isinstance(self.fps, tuple) else (self.fps,)
        if not fps or not all(1.0 <= f <= 240.0 for f in fps):
            raise ValueError(f"fps: expected a number (or a list of numbers) in 1..240, got {self.fps!r}")
        check_number("duration_s", self.duration_s, 0.1, 60.0)
        for width, height in self.resolutions:
            if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
                raise ValueError(f"resolution: expected [width, height] within 1..{MAX_SIDE}, got {[width, height]}")
            if width % 2 or height % 2:
                raise ValueError(f"resolution: expected even width and height (H.264 4:2:0), got {[width, height]}")
        if isinstance(self.views, bool) or not isinstance(self.views, int) or not 1 <= self.views <= 64:
            raise ValueError(f"views: expected an integer in 1..64, got {self.views!r}")
        if self.views > 1 and self.layout.kind in ("ball_pass", "physics"):
            raise ValueError(f"views: layout {self.layout.kind} times its action to the camera; it needs views: 1")
        if self.split not in ("id", "ood"):
            raise ValueError(f"split: expected 'id' or 'ood', got {self.split!r}")
        characters, objects = self.layout.roles()
        if self.camera.follow and self.camera.follow not in characters:
            raise ValueError(f"camera.follow: {self.camera.follow!r} is not a character of layout {self.layout.kind} (expected one of {list(characters)})")
        seen: set[str] = set()
        for index, check in enumerate(self.properties):
            if label(check) in seen:
                raise ValueError(f"properties[{index}].name: two properties are called {label(check)!r}; give each a name")
            seen.add(label(check))
            for name, role in check.ROLE_FIELDS.items():
                value, allowed = getattr(check, name), {"character": characters, "object": objects, "any": characters + objects}[role]
                if value not in allowed:
                    what = "a character or object" if role == "any" else f"an {role}" if role == "object" else f"a {role}"
                    raise ValueError(f"properties[{index}].{name}: {value!r} is not {what} of layout {self.layout.kind} (expected one of {list(allowed)})")

    @property
    def resolutions(self) -> tuple[tuple[int, int], ...]:
        return self.resolution if isinstance(self.resolution[0], tuple) else (self.resolution,)

    @property
    def fps_choices(self) -> tuple[float, ...]:
        return self.fps if isinstance(self.fps, tuple) else (self.fps,)

    def max_frames(self) -> int:
        """The most frames a clip of this scenario can have (for the memory check)."""
        return int(round(top(self.duration_s) * max(self.fps_choices))) + 1
