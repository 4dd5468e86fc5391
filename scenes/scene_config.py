"""SceneConfig: the distributions the default scene draws from (the ``scene:`` block of a config)."""

from __future__ import annotations

from dataclasses import dataclass

from worldclips.scenes.motion_sampling import DEFAULT_WEIGHTS, FILE_WEIGHTS, MotionWeights
from worldclips.scenes.physics_config import PhysicsConfig
from worldclips.scenes.spec import CAMERA_FAMILIES, PROP_CATEGORIES, STATIC_CATEGORIES


@dataclass(frozen=True)
class SceneConfig:
    """Distributions the default scenario draws from (ranges are inclusive [low, high])."""

    characters: tuple[int, int] = (1, 3)
    props: tuple[int, int] = (3, 6)
    prop_categories: tuple[str, ...] = PROP_CATEGORIES
    camera_families: tuple[str, ...] = CAMERA_FAMILIES
    fov_deg: tuple[float, float] = (40.0, 75.0)
    walk_speed: tuple[float, float] = (0.7, 1.6)
    idle_probability: float | None = None
    arena_radius: float = 4.0
    motions: MotionWeights | None = None
    motion_dir: str | None = None
    physics: PhysicsConfig | None = None  # physics setups (scenes.physics_sampling); None: never
    user_prop_share: float = 0.5  # with a prop folder (prop_dir), the share of random props that are its meshes
    indoor_share: float = 0.5  # the share of clips inside a room (scenes.rooms) rather than on open ground
    pan_tilt_swing: float = 1.2  # pan_tilt cameras: metres the gaze target moves, up to ± this sideways and ± a quarter of it up

    def __post_init__(self) -> None:
        for name in ("characters", "props", "fov_deg", "walk_speed"):
            low, high = getattr(self, name)
            if not low <= high:
                raise ValueError(f"scene.{name}: expected [low, high] with low <= high, got {[low, high]}")
        if not (1 <= self.characters[0] and self.characters[1] <= 3):
            raise ValueError(f"scene.characters: expected a range within [1, 3], got {list(self.characters)}")
        if not (0 <= self.props[0] and self.props[1] <= 8):
            raise ValueError(f"scene.props: expected a range within [0, 8], got {list(self.props)}")
        if not (0.5 <= self.walk_speed[0] and self.walk_speed[1] <= 2.0):
            raise ValueError(f"scene.walk_speed: expected a range within [0.5, 2.0] m/s, got {list(self.walk_speed)}")
        if not (10.0 <= self.fov_deg[0] and self.fov_deg[1] <= 120.0):
            raise ValueError(f"scene.fov_deg: expected a range within [10, 120] degrees, got {list(self.fov_deg)}")
        if self.idle_probability is not None and not 0.0 <= self.idle_probability <= 1.0:
            raise ValueError(f"scene.idle_probability: expected 0..1, got {self.idle_probability}")
        if self.motions is not None and self.idle_probability is not None:
            raise ValueError("scene.idle_probability: give either motions (weights per kind) or idle_probability, not both")
        if self.weights.file > 0 and not self.motion_dir:
            raise ValueError("scene.motions.file: file motions need a motion directory (--motion-dir or motion_dir)")
        if not 0.0 <= self.user_prop_share <= 1.0:
            raise ValueError(f"scene.user_prop_share: expected 0..1, got {self.user_prop_share}")
        if not 0.0 <= self.indoor_share <= 1.0:
            raise ValueError(f"scene.indoor_share: expected 0..1, got {self.indoor_share}")
        if not 0.1 <= self.pan_tilt_swing <= 10.0:
            raise ValueError(f"scene.pan_tilt_swing: expected 0.1..10 m, got {self.pan_tilt_swing}")
        if not 2.0 <= self.arena_radius <= 50.0:
            raise ValueError(f"scene.arena_radius: expected 2..50 m, got {self.arena_radius}")
        for name, allowed in (("prop_categories", STATIC_CATEGORIES), ("camera_families", CAMERA_FAMILIES)):
            values = getattr(self, name)
            if not values or any(v not in allowed for v in values):
                raise ValueError(f"scene.{name}: expected a non-empty subset of {list(allowed)}, got {list(values)}")

    @property
    def weights(self) -> MotionWeights:
        """The motion kinds characters are drawn from: ``motions`` if given; else walk / idle by
        ``idle_probability`` if given; else only the user's files when a motion directory is set;
        else every procedural kind (DEFAULT_WEIGHTS)."""
        if self.motions is not None:
            return self.motions
        if self.idle_probability is not None:
            return MotionWeights(walk=1.0 - self.idle_probability, idle=self.idle_probability)
        return FILE_WEIGHTS if self.motion_dir else DEFAULT_WEIGHTS
