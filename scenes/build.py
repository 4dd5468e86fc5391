"""ClipSpec -> Scene: generate motions, pose bodies, place props, resolve the camera. No randomness."""

from __future__ import annotations

import numpy as np

from motions.body import BodyModel
from motions.idle import idle
from motions.walk import walk
from scenes import meshes
from scenes.camera_paths import camera_track
from scenes.scene import Character, Scene, SceneObject
from scenes.spec import ClipSpec, PropSpec
from motions.conventions import make_transform, rotation_z

GROUND_EXTENT_M = 50.0
GROUND_ID = 1


def _static_pose(rotation: np.ndarray, translation: np.ndarray, num_frames: int) -> np.ndarray:
    """(T, 4, 4) copies of one rigid transform."""
    return np.broadcast_to(make_transform(rotation, translation), (num_frames, 4, 4)).copy()


def _prop_object(prop: PropSpec, instance_id: int, num_frames: int) -> SceneObject:
    pose = _static_pose(rotation_z(prop.yaw), np.array([*prop.position, 0.0]), num_frames)
    mesh = meshes.prop_mesh(prop.category, prop.size)
    return SceneObject(instance_id, prop.name, prop.category, False, mesh, prop.material, pose)


def instance_ids(spec: ClipSpec) -> dict[str, int]:
    """Instance id per name: ground 1, then characters, then props, in spec order."""
    names = ["ground"] + [c.name for c in spec.characters] + [p.name for p in spec.props]
    if len(set(names)) != len(names):
        raise ValueError("ClipSpec: character and prop names must be unique and not 'ground'")
    return {name: i + GROUND_ID for i, name in enumerate(names)}


def build_scene(spec: ClipSpec, body: BodyModel) -> Scene:
    """Resolve every per-frame value of ``spec`` with ``body`` as the body model."""
    ids = instance_ids(spec)
    frames = spec.num_frames
    ground = SceneObject(
        GROUND_ID, "ground", "ground", False, meshes.ground(GROUND_EXTENT_M), spec.ground,
        _static_pose(np.eye(3), np.zeros(3), frames),
    )  # fmt: skip
    characters = []
    for character in spec.characters:
        betas = np.asarray(character.betas, dtype=np.float32)
        skeleton = body.skeleton(betas)
        if character.walk is not None:
            generated = walk(skeleton, betas, character.walk, spec.fps, frames)
        else:
            generated = idle(skeleton, betas, character.idle, spec.fps, frames)
        posed = body.pose(generated.motion)
        characters.append(Character(ids[character.name], character.name, generated.motion, posed, character.material))
    props = [_prop_object(prop, ids[prop.name], frames) for prop in spec.props]
    camera = camera_track(
        spec.camera, spec.width, spec.height, frames, spec.fps, [c.body.joints[:, 0] for c in characters]
    )
    return Scene(
        width=spec.width,
        height=spec.height,
        fps=spec.fps,
        num_frames=frames,
        camera=camera,
        lighting=spec.lighting,
        objects=(ground, *props),
        characters=tuple(characters),
        background_color=spec.background_color,
    )
