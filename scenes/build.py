"""ClipSpec -> Scene: generate motions, pose bodies, place props, simulate, resolve the camera. No randomness.

Procedural motions come from motions.catalog; user files (FileMotion) are read from the
directory recorded in the spec, or from ``motion_dir`` when the clip is rebuilt elsewhere. Every
body gets its foot contacts (PosedBody.foot_contact); a prop that a character carries moves
with that character's hand. Dynamic props are simulated with MuJoCo after the characters are
posed (scenes.physics_scene); every scene gets its contact events (clips without dynamic props:
foot-ground contacts only, without a simulation). Attachments move a character's body with
another's hand before anything is simulated (scenes.attachments); passed balls follow hands and
ballistic arcs (scenes.passes).
"""

from __future__ import annotations

import numpy as np

import dataclasses
from pathlib import Path

from worldclips.motions.body import BodyModel
from worldclips.motions.catalog import generate_motion
from worldclips.motions.files import FileMotion, file_motion
from worldclips.scenes import meshes
from worldclips.scenes.asset_cache import AssetCache
from worldclips.scenes.attachments import attach_motion, attachment_offset
from worldclips.scenes.camera_paths import camera_track
from worldclips.scenes.passes import pass_contact_rows, pass_trajectory
from worldclips.scenes.physics_spec import ContactEvents
from worldclips.scenes.physics_scene import contacts_without_props, simulate_clip
from worldclips.scenes.rooms import OUTSIDE_DROP_M, floor_mesh, part_mesh, room_lamps, room_parts
from worldclips.scenes.scene import Character, Scene, SceneObject
from worldclips.scenes.spec import ClipSpec, PropSpec
from worldclips.scenes.user_props import asset_mesh
from worldclips.motions.conventions import make_transform, rotation_z

GROUND_EXTENT_M = 50.0
GROUND_ID = 1


def _static_pose(rotation: np.ndarray, translation: np.ndarray, num_frames: int) -> np.ndarray:
    """(T, 4, 4) copies of one rigid transform."""
    return np.broadcast_to(make_transform(rotation, translation), (num_frames, 4, 4)).copy()


def _prop_object(prop: PropSpec, instance_id: int, num_frames: int, moved: dict) -> SceneObject:
    """A prop standing still, or following the track a character's motion gave it (carried)."""
    if prop.name in moved:
        pose, dynamic = np.asarray(moved[prop.name], dtype=np.float64), True
    else:
        pose, dynamic = _static_pose(rotation_z(prop.yaw), np.array([*prop.position, 0.0]), num_frames), False
    if prop.asset is not None:  # a user's mesh: its instance is labelled with the user's category
        return SceneObject(instance_id, prop.name, prop.asset.label, dynamic, asset_mesh(prop.asset), prop.material, pose)
    mesh = meshes.prop_mesh(prop.category, prop.size)
    return SceneObject(instance_id, prop.name, prop.category, dynamic, mesh, prop.material, pose)


OUTSIDE_NAME = "outside"  # a room's view: the ground beyond its windows


def instance_ids(spec: ClipSpec) -> dict[str, int]:
    """Instance id per name: ground 1 (a room's floor), then characters, then props, then dynamic
    props, then passed balls, in spec order; then a room's parts and the ground outside it."""
    names = ["ground"] + [c.name for c in spec.characters] + [p.name for p in spec.props] + [p.name for p in spec.dynamic_props]
    names += [p.name for p in spec.passes]
    if spec.room is not None:
        names += [part.name for part in room_parts(spec.room)] + [OUTSIDE_NAME]
    if len(set(names)) != len(names):
        raise ValueError("ClipSpec: character and prop names must be unique and not 'ground'")
    return {name: i + GROUND_ID for i, name in enumerate(names)}


def build_scene(spec: ClipSpec, body: BodyModel, motion_dir: str | None = None, assets: AssetCache | None = None) -> Scene:
    """Resolve every per-frame value of ``spec`` with ``body`` as the body model.

    motion_dir: where user motion files are (default: the directory each FileMotion recorded).
    assets: decoded HDRI maps kept across clips (scenes.asset_cache), or None.
    """
    ids = instance_ids(spec)
    frames = spec.num_frames
    ground_mesh = meshes.ground(GROUND_EXTENT_M) if spec.room is None else floor_mesh(spec.room)
    ground = SceneObject(GROUND_ID, "ground", "ground", False, ground_mesh, spec.ground, _static_pose(np.eye(3), np.zeros(3), frames))
    characters, moved = [], {}
    for character in spec.characters:
        betas = np.asarray(character.betas, dtype=np.float32)
        skeleton = body.skeleton(betas)
        params = character.motion_params
        if isinstance(params, FileMotion):
            generated, posed = file_motion(params, skeleton, betas, body, spec.fps, frames, motion_dir)
        else:
            generated = generate_motion(params, skeleton, betas, spec.fps, frames)
            posed = body.pose(generated.motion)
        posed = dataclasses.replace(posed, foot_contact=generated.contact)
        moved.update(generated.objects)
        characters.append(Character(ids[character.name], character.name, generated.motion, posed, character.material,
                                    character.outfit))  # fmt: skip
    characters = _attach(spec, characters, body)
    unknown = sorted(set(moved) - {prop.name for prop in spec.props})
    if unknown:
        raise ValueError(f"ClipSpec.props: a character carries {unknown[0]!r}, which is not a prop of the clip")
    props = [_prop_object(prop, ids[prop.name], frames, moved) for prop in spec.props]
    if spec.dynamic_props:
        result = simulate_clip(spec, characters, ids, set(moved), GROUND_ID)
        for index, prop in enumerate(spec.dynamic_props):
            mesh = meshes.dynamic_prop_mesh(prop.category, prop.shape, prop.size)
            props.append(
                SceneObject(
                    ids[prop.name], prop.name, prop.category, True, mesh, prop.material, result.world_from_object[index],
                    result.linear_velocity[index], result.angular_velocity[index],
                )
            )  # fmt: skip
        contacts = result.contacts
    else:
        contacts = contacts_without_props(characters, GROUND_ID)
    if spec.passes:
        by_name = {c.name: c for c in characters}
        rows = _rows(contacts)
        for prop in spec.passes:
            poses, hand_rows = pass_trajectory(prop, by_name, spec.fps, frames)
            mesh = meshes.dynamic_prop_mesh("ball", "sphere", (prop.radius,))
            props.append(SceneObject(ids[prop.name], prop.name, prop.category, True, mesh, prop.material, poses))
            rows += pass_contact_rows(prop, ids[prop.name], hand_rows, ids, poses)
        contacts = ContactEvents.from_rows(rows)
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
        objects=(ground, *props, *_room_objects(spec, ids)),
        characters=tuple(characters),
        background_color=spec.background_color,
        look=spec.look,
        contacts=contacts,
        sky_image=_sky_image(spec, assets),
        lamps=room_lamps(spec.room) if spec.room is not None else (),
    )


def _room_objects(spec: ClipSpec, ids: dict[str, int]) -> list[SceneObject]:
    """A room's walls, window frames, skirting, ceiling and lights (world-frame meshes, identity
    pose) and the ground outside, OUTSIDE_DROP_M below the floor; nothing outdoors."""
    room = spec.room
    if room is None:
        return []
    identity = _static_pose(np.eye(3), np.zeros(3), spec.num_frames)
    objects = [SceneObject(ids[part.name], part.name, part.category, False, part_mesh(part), part.material, identity)
               for part in room_parts(room)]  # fmt: skip
    outside = meshes.ground(GROUND_EXTENT_M, -OUTSIDE_DROP_M)
    objects.append(SceneObject(ids[OUTSIDE_NAME], OUTSIDE_NAME, "ground", False, outside, room.outside, identity))
    return objects


def _sky_image(spec: ClipSpec, assets: AssetCache | None = None) -> np.ndarray | None:
    """The clip's HDRI map, turned and resampled (None: the analytic sky or the flat look)."""
    look = spec.look
    if look is None or not look.environment:
        return None
    from worldclips.scenes.environments import map_light

    path = Path(look.environment)
    if not path.is_file():
        raise FileNotFoundError(f"look.environment: {path} is missing (the map this clip was drawn with)")
    sha256, light = map_light(path, look.environment_rotation, assets)
    if look.environment_sha256 and sha256 != look.environment_sha256:
        raise ValueError(f"look.environment: {path} is not the map this clip was drawn with (sha256 differs)")
    return light.image


def _attach(spec: ClipSpec, characters: list[Character], body: BodyModel) -> list[Character]:
    """Characters after their attachments (in spec order, each to the current pose of its carrier)."""
    for attachment in spec.attachments:
        by_name = {c.name: i for i, c in enumerate(characters)}
        index = by_name[attachment.character]
        carrier = characters[by_name[attachment.to]]
        offset = attachment_offset(attachment, carrier.body.joints, spec.fps)
        character = characters[index]
        motion, labels = attach_motion(character.motion, character.body.foot_contact, offset)
        posed = dataclasses.replace(body.pose(motion), foot_contact=labels)
        characters[index] = dataclasses.replace(character, motion=motion, body=posed)
    return characters


def _rows(contacts: ContactEvents) -> list[tuple]:
    return [
        (int(f), int(a), int(b), p, n, float(i))
        for f, a, b, p, n, i in zip(contacts.frame, contacts.instance_a, contacts.instance_b, contacts.position, contacts.normal, contacts.impulse)
    ]
