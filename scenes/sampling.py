"""Seeded sampling of a ClipSpec: characters whose bodies never meet (a swept-volume check over
time), each with the props its motion needs (a chair, a box), other props that do not overlap
anything, lights, materials and a camera path that never enters geometry; for a share of clips
(SceneConfig.indoor_share), a room drawn around all of it with furniture against its walls.

All randomness comes from ``clip_rng(run_seed, clip_index)``, so any clip can be redrawn alone,
on any worker, in any order.
"""

from __future__ import annotations

import numpy as np

from worldclips.scenes import meshes
from worldclips.scenes.camera_paths import eye_and_target
from worldclips.scenes.draws import (
    GROUND_PATTERNS, PATTERNS, body_shape, character_look, clip_rng, material, prop_size, sample_look,
)  # fmt: skip
from worldclips.scenes.motion_sampling import sample_motion, swept_clear
from worldclips.scenes.physics_sampling import sample_physics_clip
from worldclips.scenes.placement import (
    CAMERA_PROP_CLEARANCE_M, PROP_CLEARANCE_M, SWEPT_CLEARANCE_M, camera_clear, min_distance,
)  # fmt: skip
from worldclips.scenes.rooms import FURNITURE, WALL_SIDES, against_wall, blocks_window, sample_room, wall_length
from worldclips.scenes.scene_config import SceneConfig
from worldclips.scenes.spec import (
    CameraSpec,
    CharacterSpec,
    ClipSpec,
    DollyCamera,
    OrbitCamera,
    PanTiltCamera,
    PropSpec,
    StaticCamera,
    TrackingCamera,
    USER_MESH,
)
from worldclips.scenes.user_props import MeshAsset

MOVING_KINDS = ("walk", "run", "carry", "file")  # characters a tracking camera may follow
ATTEMPTS = 60


def sample_characters(rng, config: SceneConfig, fps: float, num_frames: int):
    """Characters whose body cylinders never meet in the same frame (a swept-volume check over
    time), each inside the arena; returns (characters, tracks [(centres (T, 2), radius)], props)."""
    count = int(rng.integers(config.characters[0], config.characters[1] + 1))
    weights = config.weights
    characters, sampled, props = [], [], []
    for index in range(count):
        name = f"person{index}"
        betas = body_shape(rng)
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
        look = character_look(rng)
        character_betas = candidate.betas if candidate.betas is not None else betas
        characters.append(CharacterSpec(name=name, betas=character_betas, material=look, motion=candidate.motion))
    return characters, [(s.centres, s.radius) for s in sampled], props


def _sample_props(rng, config: SceneConfig, occupied: list, character_props: list[dict], user_props: tuple[MeshAsset, ...] = ()):
    """The characters' own props (chairs, boxes) and 0..N random static props clear of everything;
    with ``user_props``, each random prop is one of them with probability ``config.user_prop_share``."""
    patterns = PATTERNS
    props, placed = [], []  # placed: (xy, radius)
    for fields in character_props:
        props.append(PropSpec(material=material(rng, patterns), **fields))
        placed.append((np.asarray(fields["position"]), meshes.footprint_radius(fields["category"], fields["size"])))
    count = int(rng.integers(config.props[0], config.props[1] + 1))
    for index in range(count):
        asset = None
        if user_props and rng.uniform() < config.user_prop_share:  # no draw without user props: clips stay as they were
            asset = user_props[int(rng.integers(len(user_props)))]
            category, size = USER_MESH, tuple(asset.size)
        else:
            category = str(rng.choice(config.prop_categories))
            size = prop_size(rng, category)
        radius = meshes.footprint_radius(category, size)
        for _ in range(ATTEMPTS):
            position = rng.uniform(-1.0, 1.0, size=2) * (config.arena_radius + 1.0)
            if _prop_clear(position, radius, occupied, placed):
                break
        else:
            continue
        placed.append((position, radius))
        props.append(
            PropSpec(
                name=f"{category}{index}", category=category, size=size,
                position=tuple(round(float(c), 4) for c in position), yaw=round(float(rng.uniform(-np.pi, np.pi)), 4),
                material=material(rng, patterns), asset=asset,
            )
        )  # fmt: skip
    return props, placed


def _prop_clear(position: np.ndarray, radius: float, occupied: list, placed: list) -> bool:
    """A prop footprint at ``position`` keeps its clearance from every path and placed prop."""
    clear_paths = all(min_distance(position[None], path) > radius + r + PROP_CLEARANCE_M for path, r in occupied)
    return clear_paths and all(np.linalg.norm(position - xy) > radius + r + 0.1 for xy, r in placed)


def _sample_camera_path(rng, family: str, focus: np.ndarray, characters: list[CharacterSpec], swing: float = 1.2):
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
        move = np.array([*rng.uniform(-swing, swing, size=2), rng.uniform(-swing / 4, swing / 4)])
        return PanTiltCamera(eye=r3(eye), target_start=r3(target - move / 2), target_end=r3(target + move / 2))
    walkers = [i for i, c in enumerate(characters) if c.motion_kind in MOVING_KINDS] or list(range(len(characters)))
    offset = eye - target
    return TrackingCamera(character=int(rng.choice(walkers)), offset=r3(offset), smoothing_s=round(float(rng.uniform(0.3, 1.0)), 3))


def _camera_eyes(path, num_frames: int, occupied: list[np.ndarray], characters) -> np.ndarray:
    """Eye positions to check: the path's frames, or for tracking every point of the tracked path plus the offset."""
    if isinstance(path, TrackingCamera):
        track = occupied[path.character][0]
        return np.column_stack([track, np.full(len(track), 0.95)]) + np.asarray(path.offset)
    return eye_and_target(CameraSpec(path=path, fov_deg=60.0), num_frames, 1.0, [])[0]


def sample_clip_spec(
    config: SceneConfig, run_seed: int, clip_index: int, fps: float, num_frames: int, width: int, height: int,
    user_props: tuple[MeshAsset, ...] = (),
) -> ClipSpec:
    """Draw one clip's spec; deterministic in (config, run_seed, clip_index, fps, num_frames, size, user_props).

    With ``config.physics``, a physics setup is drawn first (scenes.physics_sampling); "none"
    continues with the default scene. ``user_props``: meshes of the user's folder
    (scenes.user_props.read_prop_folder) that some random static props are.
    """
    rng = clip_rng(run_seed, clip_index)
    if config.physics is not None:
        setup = config.physics.choose(rng)
        if setup != "none":
            return sample_physics_clip(config, setup, rng, run_seed, clip_index, fps, num_frames, width, height)
    characters, occupied, character_props = sample_characters(rng, config, fps, num_frames)
    props, placed = _sample_props(rng, config, occupied, character_props, user_props)
    focus = np.mean([path[len(path) // 2] for path, _ in occupied], axis=0)
    for _ in range(ATTEMPTS):
        family = str(rng.choice(config.camera_families))
        path = _sample_camera_path(rng, family, focus, characters, config.pan_tilt_swing)
        eyes = _camera_eyes(path, num_frames, occupied, characters)
        if camera_clear(eyes, occupied, placed):
            break
    else:  # a high static camera outside the arena always fits
        eye = np.array([config.arena_radius + 5.0, 0.0, 3.0])
        path = StaticCamera(eye=tuple(float(c) for c in eye), target=(float(focus[0]), float(focus[1]), 0.9))
        eyes = eye[None]
    fov = round(float(rng.uniform(*config.fov_deg)), 3)
    lighting, ground, background = sample_look(rng)
    roll = round(float(rng.normal(0.0, 0.03)), 4)
    room = None
    if config.indoor_share > 0 and rng.uniform() < config.indoor_share:  # no draw outdoors only: clips stay as they were
        room, floor, furniture = _sample_indoors(rng, occupied, placed, eyes, props)
        if room is not None:  # None: too wide for a room (a very large arena), the clip stays outdoors
            ground, props = floor, props + furniture
    return ClipSpec(
        run_seed=run_seed, clip_index=clip_index, scenario="default", fps=fps, num_frames=num_frames,
        width=width, height=height, ground=ground, lighting=lighting, background_color=background,
        characters=tuple(characters), props=tuple(props),
        camera=CameraSpec(path=path, fov_deg=fov, roll=roll), room=room,
    )  # fmt: skip


INDOOR_FLOORS = ("planks", "tiles", "carpet")


def _sample_indoors(rng, occupied: list, placed: list, eyes: np.ndarray, props: list[PropSpec]):
    """A room around everything drawn so far, its floor material and 1-3 pieces of furniture
    standing against its walls, clear of the paths, the props, the camera and the windows."""
    top = max([meshes.prop_height(p.category, p.size) for p in props], default=0.0)
    materials = lambda: (material(rng), material(rng, ("plain",)), material(rng, ("plain",)), material(rng, GROUND_PATTERNS))  # noqa: E731
    room = sample_room(rng, occupied, placed, eyes, top, materials)
    if room is None:
        return None, None, []
    floor = material(rng, INDOOR_FLOORS)
    furniture = []
    for index in range(int(rng.integers(1, 4))):
        category = str(rng.choice(FURNITURE))
        size = prop_size(rng, category)
        radius = meshes.footprint_radius(category, size)
        for _ in range(20):
            side = WALL_SIDES[int(rng.integers(4))]
            half = wall_length(room.bounds, side) / 2 - size[0] / 2 - 0.05
            along = float(rng.uniform(-half, half)) if half > 0 else 0.0
            xy, yaw = against_wall(room, side, along, size[1])
            position = np.asarray(xy)
            if (half > 0 and not blocks_window(room, side, along, size[0], meshes.prop_height(category, size))
                    and _prop_clear(position, radius, occupied, placed)
                    and np.linalg.norm(eyes[:, :2] - position, axis=1).min() > radius + CAMERA_PROP_CLEARANCE_M):  # fmt: skip
                break
        else:
            continue
        placed = placed + [(position, radius)]
        furniture.append(PropSpec(
            name=f"furniture{index}", category=category, size=size, position=tuple(round(float(c), 4) for c in position),
            yaw=round(yaw, 4), material=material(rng),
        ))  # fmt: skip
    return room, floor, furniture
