"""Seeded sampling of a ClipSpec: characters whose bodies never meet (a swept-volume check over
time), each with the props its motion needs (a chair, a box), other props that do not overlap
anything, lights, materials and a camera path that never enters geometry.

All randomness comes from ``clip_rng(run_seed, clip_index)``, so any clip can be redrawn alone,
on any worker, in any order.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

from motions.path import SmoothPath
from scenes import meshes
from scenes.motion_sampling import DEFAULT_WEIGHTS, FILE_WEIGHTS, MotionWeights, sample_motion, swept_clear
from scenes.physics_config import PhysicsConfig
from scenes.scene import Lighting, Material
from scenes.spec import (
    CAMERA_FAMILIES,
    PROP_CATEGORIES,
    STATIC_CATEGORIES,
    CameraSpec,
    CharacterSpec,
    ClipSpec,
    DollyCamera,
    OrbitCamera,
    PanTiltCamera,
    PropSpec,
    StaticCamera,
    TrackingCamera,
)

SWEPT_CLEARANCE_M = 0.1  # minimum gap between two characters' body cylinders in the same frame
PROP_CLEARANCE_M = 0.1  # gap kept between a character's body cylinder (any frame) and a prop
CAMERA_BODY_CLEARANCE_M = 0.6  # gap kept between a character's body cylinder and the camera
MOVING_KINDS = ("walk", "run", "carry", "file")  # characters a tracking camera may follow
CAMERA_PROP_CLEARANCE_M = 0.4
MIN_CAMERA_HEIGHT_M = 0.4
ATTEMPTS = 60


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


def clip_rng(run_seed: int, clip_index: int) -> np.random.Generator:
    """The generator of one clip, derived from (run seed, clip index) only."""
    return np.random.default_rng(np.random.SeedSequence([int(run_seed), int(clip_index)]))


def _color(rng: np.random.Generator, saturation=(0.2, 0.8), value=(0.3, 0.9)) -> tuple[float, float, float]:
    rgb = colorsys.hsv_to_rgb(rng.uniform(0, 1), rng.uniform(*saturation), rng.uniform(*value))
    return tuple(round(float(c) ** 2.2, 4) for c in rgb)  # sRGB-ish -> linear


def _material(rng: np.random.Generator, patterns: tuple[str, ...]) -> Material:
    return Material(
        base_color=_color(rng),
        pattern=str(rng.choice(patterns)),
        pattern_color=_color(rng),
        pattern_scale=round(float(rng.uniform(2.0, 8.0)), 3),
        roughness=round(float(rng.uniform(0.3, 0.9)), 3),
    )


def path_points(waypoints: np.ndarray, length: float, spacing: float = 0.05) -> np.ndarray:
    """(N, 2) points every ``spacing`` metres along the walker's rounded path, up to ``length``."""
    points, _ = SmoothPath.from_waypoints(np.asarray(waypoints)).evaluate(np.arange(0.0, length + spacing, spacing))
    return points


def _min_distance(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) == 0 or len(b) == 0:
        return np.inf
    return float(np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1).min()))


def _sample_characters(rng, config: SceneConfig, fps: float, num_frames: int):
    """Characters whose body cylinders never meet in the same frame (a swept-volume check over
    time), each inside the arena; returns (characters, tracks [(centres (T, 2), radius)], props)."""
    count = int(rng.integers(config.characters[0], config.characters[1] + 1))
    weights = config.weights
    characters, sampled, props = [], [], []
    for index in range(count):
        name = f"person{index}"
        betas = tuple(round(float(b), 4) for b in np.clip(rng.normal(0.0, 1.0, size=10), -2.5, 2.5))
        for _ in range(ATTEMPTS):
            kind = weights.choose(rng)
            candidate = sample_motion(
                rng, kind, name, config.arena_radius, config.walk_speed, fps, num_frames, betas, config.motion_dir
            )
            inside = np.linalg.norm(candidate.centres, axis=1).max() <= config.arena_radius
            if inside and all(swept_clear(candidate, other, SWEPT_CLEARANCE_M) for other in sampled):
                break
        else:
            break  # the arena is full: fewer characters, deterministically
        sampled.append(candidate)
        props.extend(candidate.props)
        material = Material(base_color=_color(rng, (0.1, 0.5), (0.4, 0.9)), roughness=round(float(rng.uniform(0.4, 0.8)), 3))
        character_betas = candidate.betas if candidate.betas is not None else betas
        characters.append(CharacterSpec(name=name, betas=character_betas, material=material, motion=candidate.motion))
    return characters, [(s.centres, s.radius) for s in sampled], props


def _prop_size(rng, category: str) -> tuple[float, ...]:
    u = lambda lo, hi: round(float(rng.uniform(lo, hi)), 3)  # noqa: E731
    if category == "box":
        return (u(0.2, 0.9), u(0.2, 0.9), u(0.15, 1.0))
    if category == "sphere":
        return (u(0.1, 0.45),)
    if category == "chair":
        return (u(0.4, 0.55), u(0.4, 0.55), u(0.42, 0.5), u(0.35, 0.5))
    if category == "shelf":
        return (u(0.6, 1.2), u(0.3, 0.45), u(1.0, 1.9))
    if category == "wall":
        return (u(1.5, 4.0), u(0.1, 0.2), u(1.0, 2.5))
    return (u(0.7, 1.6), u(0.6, 1.0), u(0.7, 0.8))


def _sample_props(rng, config: SceneConfig, occupied: list, character_props: list[dict]):
    """The characters' own props (chairs, boxes) and 0..N random static props clear of everything."""
    patterns = ("plain", "checker", "stripes", "noise")
    props, placed = [], []  # placed: (xy, radius)
    for fields in character_props:
        props.append(PropSpec(material=_material(rng, patterns), **fields))
        placed.append((np.asarray(fields["position"]), meshes.footprint_radius(fields["category"], fields["size"])))
    count = int(rng.integers(config.props[0], config.props[1] + 1))
    for index in range(count):
        category = str(rng.choice(config.prop_categories))
        size = _prop_size(rng, category)
        radius = meshes.footprint_radius(category, size)
        for _ in range(ATTEMPTS):
            position = rng.uniform(-1.0, 1.0, size=2) * (config.arena_radius + 1.0)
            clear_paths = all(_min_distance(position[None], path) > radius + r + PROP_CLEARANCE_M for path, r in occupied)
            clear_props = all(np.linalg.norm(position - xy) > radius + r + 0.1 for xy, r in placed)
            if clear_paths and clear_props:
                break
        else:
            continue
        placed.append((position, radius))
        props.append(
            PropSpec(
                name=f"{category}{index}", category=category, size=size,
                position=tuple(round(float(c), 4) for c in position), yaw=round(float(rng.uniform(-np.pi, np.pi)), 4),
                material=_material(rng, patterns),
            )
        )  # fmt: skip
    return props, placed


def _sample_camera_path(rng, family: str, focus: np.ndarray, characters: list[CharacterSpec]):
    distance = rng.uniform(3.5, 7.0)
    height = rng.uniform(0.8, 2.5)
    azimuth = rng.uniform(-np.pi, np.pi)
    target = np.array([focus[0], focus[1], rng.uniform(0.7, 1.1)])
    eye = target + np.array([distance * np.cos(azimuth), distance * np.sin(azimuth), height - target[2]])
    r3 = lambda v: tuple(round(float(c), 4) for c in v)  # noqa: E731
    if family == "static":
        return StaticCamera(eye=r3(eye), target=r3(target))
    if family == "orbit":
        sweep = rng.uniform(np.radians(30), np.radians(120)) * rng.choice([-1, 1])
        return OrbitCamera(center=r3(target), radius=round(float(distance), 4), height=round(float(height), 4), start=round(float(azimuth), 4), sweep=round(float(sweep), 4))
    if family == "dolly":
        direction = (target - eye) / np.linalg.norm(target - eye)
        side = np.cross(direction, [0.0, 0.0, 1.0])
        move = rng.uniform(-1.5, 1.5) * direction + rng.uniform(-2.0, 2.0) * side
        return DollyCamera(eye_start=r3(eye), eye_end=r3(eye + move), target=r3(target))
    if family == "pan_tilt":
        swing = np.array([*rng.uniform(-1.2, 1.2, size=2), rng.uniform(-0.3, 0.3)])
        return PanTiltCamera(eye=r3(eye), target_start=r3(target - swing / 2), target_end=r3(target + swing / 2))
    walkers = [i for i, c in enumerate(characters) if c.motion_kind in MOVING_KINDS] or list(range(len(characters)))
    offset = eye - target
    return TrackingCamera(character=int(rng.choice(walkers)), offset=r3(offset), smoothing_s=round(float(rng.uniform(0.3, 1.0)), 3))


def _camera_clear(eyes: np.ndarray, occupied: list[np.ndarray], placed) -> bool:
    if eyes[:, 2].min() < MIN_CAMERA_HEIGHT_M:
        return False
    if any(_min_distance(eyes[:, :2], path) < r + CAMERA_BODY_CLEARANCE_M for path, r in occupied):
        return False
    return all(np.linalg.norm(eyes[:, :2] - xy, axis=1).min() > r + CAMERA_PROP_CLEARANCE_M for xy, r in placed)


def _camera_eyes(path, num_frames: int, occupied: list[np.ndarray], characters) -> np.ndarray:
    """Eye positions to check: the path's frames, or for tracking every point of the tracked path plus the offset."""
    from scenes.camera_paths import eye_and_target

    if isinstance(path, TrackingCamera):
        track = occupied[path.character][0]
        return np.column_stack([track, np.full(len(track), 0.95)]) + np.asarray(path.offset)
    return eye_and_target(CameraSpec(path=path, fov_deg=60.0), num_frames, 1.0, [])[0]


def sample_look(rng) -> tuple[Lighting, Material, tuple[float, float, float]]:
    """The sun, ambient light, ground material and sky colour of a clip."""
    sun_elevation, sun_azimuth = rng.uniform(np.radians(25), np.radians(70)), rng.uniform(-np.pi, np.pi)
    sun = (np.cos(sun_elevation) * np.cos(sun_azimuth), np.cos(sun_elevation) * np.sin(sun_azimuth), np.sin(sun_elevation))
    warmth = rng.uniform(0.0, 0.15)
    intensity = rng.uniform(2.2, 3.2)
    lighting = Lighting(
        sun_direction=tuple(round(float(c), 5) for c in sun),
        sun_color=tuple(round(float(c * intensity), 4) for c in (1.0, 1.0 - warmth / 2, 1.0 - warmth)),
        sky_color=tuple(round(float(c), 4) for c in np.array([0.35, 0.45, 0.6]) * rng.uniform(0.7, 1.1)),
        ground_color=tuple(round(float(c), 4) for c in np.array([0.25, 0.22, 0.18]) * rng.uniform(0.7, 1.1)),
    )
    ground = _material(rng, ("checker", "tiles", "noise", "stripes"))
    ground = Material(ground.base_color, ground.pattern, ground.pattern_color, round(float(rng.uniform(0.5, 2.0)), 3), ground.roughness)
    background = tuple(round(float(c), 4) for c in np.array([0.55, 0.7, 0.9]) * rng.uniform(0.8, 1.1))
    return lighting, ground, background


def sample_clip_spec(
    config: SceneConfig, run_seed: int, clip_index: int, fps: float, num_frames: int, width: int, height: int
) -> ClipSpec:
    """Draw one clip's spec; deterministic in (config, run_seed, clip_index, fps, num_frames, size).

    With ``config.physics``, a physics setup is drawn first (scenes.physics_sampling); "none"
    continues with the default scene.
    """
    rng = clip_rng(run_seed, clip_index)
    if config.physics is not None:
        setup = config.physics.choose(rng)
        if setup != "none":
            from scenes.physics_sampling import sample_physics_clip

            return sample_physics_clip(config, setup, rng, run_seed, clip_index, fps, num_frames, width, height)
    characters, occupied, character_props = _sample_characters(rng, config, fps, num_frames)
    props, placed = _sample_props(rng, config, occupied, character_props)
    focus = np.mean([path[len(path) // 2] for path, _ in occupied], axis=0)
    for _ in range(ATTEMPTS):
        family = str(rng.choice(config.camera_families))
        path = _sample_camera_path(rng, family, focus, characters)
        if _camera_clear(_camera_eyes(path, num_frames, occupied, characters), occupied, placed):
            break
    else:  # a high static camera outside the arena always fits
        eye = np.array([config.arena_radius + 5.0, 0.0, 3.0])
        path = StaticCamera(eye=tuple(float(c) for c in eye), target=(float(focus[0]), float(focus[1]), 0.9))
    fov = round(float(rng.uniform(*config.fov_deg)), 3)
    lighting, ground, background = sample_look(rng)
    return ClipSpec(
        run_seed=run_seed, clip_index=clip_index, scenario="default", fps=fps, num_frames=num_frames,
        width=width, height=height, ground=ground, lighting=lighting, background_color=background,
        characters=tuple(characters), props=tuple(props),
        camera=CameraSpec(path=path, fov_deg=fov, roll=round(float(rng.normal(0.0, 0.03)), 4)),
    )  # fmt: skip
