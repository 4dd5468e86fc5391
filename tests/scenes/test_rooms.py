"""Indoor rooms: the walls close the room except where its windows are (checked point by point
on the wall planes), bad room specs are refused by name, sampled rooms hold the camera, every
path and prop with room to spare, and a ball kicked at a wall stays inside."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from worldclips.motions.mannequin_body import MannequinBody
from worldclips.scenes.build import build_scene, instance_ids
from worldclips.scenes.dressing import photo_dress
from worldclips.scenes.rooms import (
    CONTENT_MARGIN_M, OUTSIDE_DROP_M, WALL_THICKNESS_M, RoomSpec, WindowSpec, room_parts,
)  # fmt: skip
from worldclips.scenes.sampling import sample_clip_spec
from worldclips.scenes.scene import Lighting, Material
from worldclips.scenes.scene_config import SceneConfig
from worldclips.scenes.spec import CameraSpec, ClipSpec, DynamicPropSpec, Kick, StaticCamera

GREY = Material((0.5, 0.5, 0.5))
INDOORS = SceneConfig(indoor_share=1.0)


def _room(**changes) -> RoomSpec:
    fields = dict(
        bounds=(-3.0, -2.5, 3.0, 2.5), height=2.8,
        windows=(WindowSpec("south", 0.5, 1.2, 0.9, 2.1), WindowSpec("east", -1.0, 0.8, 0.8, 2.2),
                 WindowSpec("east", 1.2, 0.6, 1.0, 2.0)),
        lights=((0.0, 0.0),), wall=GREY, ceiling=GREY, trim=GREY, outside=GREY,
    )  # fmt: skip
    fields.update(changes)
    return RoomSpec(**fields)


def _inside_any(points: np.ndarray, boxes) -> np.ndarray:
    inside = np.zeros(len(points), dtype=bool)
    for size, centre in boxes:
        half, centre = np.asarray(size) / 2, np.asarray(centre)
        inside |= np.all(np.abs(points - centre) <= half + 1e-9, axis=1)
    return inside


def _in_window(side: str, along: np.ndarray, z: np.ndarray, windows) -> np.ndarray:
    out = np.zeros(len(along), dtype=bool)
    for w in windows:
        if w.side == side:
            out |= (np.abs(along - w.center) < w.width / 2) & (z > w.sill) & (z < w.head)
    return out


def test_walls_close_the_room_except_at_its_windows():
    room = _room()
    x0, y0, x1, y1 = room.bounds
    walls = [box for part in room_parts(room) if part.category == "wall" for box in part.boxes]
    depth = -WALL_THICKNESS_M / 2  # the middle of the wall, outside the interior
    rng = np.random.default_rng(0)
    for side in ("south", "east", "north", "west"):
        along = rng.uniform(-2.4, 2.4, 4000) if side in ("east", "west") else rng.uniform(-2.9, 2.9, 4000)
        z = rng.uniform(-OUTSIDE_DROP_M + 0.01, room.height - 0.01, 4000)
        if side == "south":
            points = np.column_stack([along, np.full_like(along, y0 + depth), z])
        elif side == "north":
            points = np.column_stack([along, np.full_like(along, y1 - depth), z])
        elif side == "east":
            points = np.column_stack([np.full_like(along, x1 - depth), along, z])
        else:
            points = np.column_stack([np.full_like(along, x0 + depth), along, z])
        opening = _in_window(side, along, z, room.windows)
        solid = _inside_any(points, walls)
        if side in ("south", "east"):
            assert opening.sum() > 50
        else:
            assert not opening.any()  # no windows on the north and west walls
        np.testing.assert_array_equal(solid, ~opening, err_msg=side)
    # corners: the south and north walls run past the east and west ones
    corners = np.array([[x0 - 0.07, y0 - 0.07, 1.0], [x1 + 0.07, y1 + 0.07, 1.0], [x0 - 0.07, y1 + 0.07, 0.2]])
    assert _inside_any(corners, walls).all()
    # nothing of the walls or ceiling reaches into the interior
    interior = np.random.default_rng(1).uniform([x0 + 0.02, y0 + 0.02, 0.1], [x1 - 0.02, y1 - 0.02, room.height - 0.06], (5000, 3))
    solid_parts = [box for part in room_parts(room) if part.category in ("wall", "ceiling") for box in part.boxes]
    assert not _inside_any(interior, solid_parts).any()
    ceiling = [box for part in room_parts(room) if part.category == "ceiling" for box in part.boxes]
    above = np.column_stack([interior[:, :2], np.full(len(interior), room.height + 0.05)])
    assert _inside_any(above, ceiling).all()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"bounds": (0.0, 0.0, 1.0, 5.0)}, "RoomSpec.bounds"),
        ({"height": 1.5}, "RoomSpec.height"),
        ({"windows": (WindowSpec("up", 0.0, 1.0, 1.0, 2.0),)}, "side"),
        ({"windows": (WindowSpec("south", 2.8, 1.0, 1.0, 2.0),)}, "does not fit"),
        ({"windows": (WindowSpec("south", 0.0, 1.0, 2.0, 1.0),)}, "sill"),
        ({"windows": (WindowSpec("south", 0.0, 1.0, 1.0, 3.5),)}, "head"),
        ({"windows": (WindowSpec("west", 0.0, 1.0, 1.0, 2.0), WindowSpec("west", 0.5, 1.0, 1.0, 2.0))}, "overlap"),
        ({"lights": ((5.0, 0.0),)}, "RoomSpec.lights"),
        ({"bounds": (0.0, 0.0, 40.0, 5.0), "windows": tuple(WindowSpec("south", -18.0 + 2 * i, 0.5, 1.0, 2.0)
                                                           for i in range(9))}, "more than 8 on the south wall"),
    ],
)
def test_bad_rooms_are_refused_by_name(changes, field):
    with pytest.raises(ValueError, match=field):
        _room(**changes)


def _eyes(scene) -> np.ndarray:
    world_from_cam = np.linalg.inv(np.asarray(scene.camera.cam_from_world))
    return world_from_cam[:, :3, 3]


def test_sampled_rooms_hold_the_camera_people_and_props():
    body = MannequinBody()
    for index in range(10):
        spec = sample_clip_spec(INDOORS, 11, index, 24.0, 24, 64, 48)
        room = spec.room
        assert room is not None and room.windows and room.lights
        x0, y0, x1, y1 = room.bounds
        assert x1 - x0 >= 4.0 and y1 - y0 >= 4.0
        scene = build_scene(spec, body)
        eyes = _eyes(scene)
        margin = CONTENT_MARGIN_M - 0.15  # tracking cameras follow a smoothed path
        assert np.all((eyes[:, 0] > x0 + margin) & (eyes[:, 0] < x1 - margin)), index
        assert np.all((eyes[:, 1] > y0 + margin) & (eyes[:, 1] < y1 - margin)), index
        assert eyes[:, 2].max() < room.height - 0.3
        for character in scene.characters:
            vertices = np.stack([character.body.mesh.vertices(t) for t in range(0, spec.num_frames, 4)])
            assert vertices[..., 0].min() > x0 and vertices[..., 0].max() < x1, character.name
            assert vertices[..., 1].min() > y0 and vertices[..., 1].max() < y1, character.name
            assert vertices[..., 2].max() < room.height
        for obj in scene.objects:
            if obj.category in ("ground", "wall", "ceiling", "window", "skirting", "lamp"):
                continue
            world = np.asarray(obj.mesh.vertices) @ obj.world_from_object[0, :3, :3].T + obj.world_from_object[0, :3, 3]
            assert world[:, 0].min() > x0 - 1e-3 and world[:, 0].max() < x1 + 1e-3, obj.name
            assert world[:, 1].min() > y0 - 1e-3 and world[:, 1].max() < y1 + 1e-3, obj.name
            assert world[:, 2].max() < room.height
        furniture = [p for p in spec.props if p.name.startswith("furniture")]
        for prop in furniture:  # backs against a wall: within 5 cm of one
            obj = next(o for o in scene.objects if o.name == prop.name)
            world = np.asarray(obj.mesh.vertices) @ obj.world_from_object[0, :3, :3].T + obj.world_from_object[0, :3, 3]
            gaps = [world[:, 0].min() - x0, x1 - world[:, 0].max(), world[:, 1].min() - y0, y1 - world[:, 1].max()]
            assert min(gaps) < 0.05, prop.name


def test_content_too_wide_for_a_room_stays_outdoors():
    wide = SceneConfig(indoor_share=1.0, arena_radius=30.0)
    specs = [sample_clip_spec(wide, 1, i, 24.0, 8, 64, 48) for i in range(6)]
    for spec in specs:
        assert spec.room is None or max(spec.room.bounds[2] - spec.room.bounds[0], spec.room.bounds[3] - spec.room.bounds[1]) <= 60
    assert any(spec.room is None for spec in specs)


def test_rooms_are_drawn_after_everything_else_and_round_trip():
    for index in range(6):
        outdoors = sample_clip_spec(SceneConfig(indoor_share=0.0), 5, index, 24.0, 16, 64, 48)
        indoors = sample_clip_spec(INDOORS, 5, index, 24.0, 16, 64, 48)
        assert outdoors.room is None
        assert indoors.characters == outdoors.characters and indoors.camera == outdoors.camera
        assert indoors.props[: len(outdoors.props)] == outdoors.props
        assert ClipSpec.from_json(indoors.to_json()) == indoors
        assert sample_clip_spec(INDOORS, 5, index, 24.0, 16, 64, 48) == indoors
    mixed = [sample_clip_spec(SceneConfig(), 5, i, 24.0, 16, 64, 48).room is not None for i in range(24)]
    assert 4 <= sum(mixed) <= 20  # the default config draws both


def test_photo_dress_gives_rooms_their_own_look_and_keeps_outdoor_clips():
    spec = sample_clip_spec(INDOORS, 3, 0, 24.0, 16, 64, 48)
    dressed = photo_dress(spec)
    outdoor = photo_dress(dataclasses.replace(spec, room=None))
    assert dressed.characters == outdoor.characters and dressed.props == outdoor.props
    assert dressed.lighting.sun_direction == outdoor.lighting.sun_direction
    assert dressed.ground.pattern in ("planks", "tiles", "carpet")
    assert dressed.room.outside == outdoor.ground  # the windows show the ground the clip had outdoors
    assert dressed.look.exposure > 2 * outdoor.look.exposure  # exposed for the shade of the ceiling
    assert dressed.room.lamp.emission > 0 and dressed.look.haze_m > 100


def test_a_ball_kicked_at_a_wall_stays_in_the_room():
    room = _room(windows=())
    ball = DynamicPropSpec(
        name="ball0", category="ball", shape="sphere", size=(0.11,), mass=0.45, position=(0.0, 0.0, 0.5),
        material=GREY, restitution=0.6, kicks=(Kick(frame=0, linear=(7.0, 1.0, 1.5)),),
    )  # fmt: skip
    spec = ClipSpec(
        run_seed=0, clip_index=0, scenario="default", fps=30.0, num_frames=60, width=64, height=48, ground=GREY,
        lighting=Lighting((0.3, 0.2, 0.9), (1.0, 1.0, 1.0), (0.3, 0.35, 0.4), (0.1, 0.1, 0.1)),
        background_color=(0.5, 0.6, 0.7), characters=(), props=(),
        camera=CameraSpec(path=StaticCamera(eye=(-2.0, 2.0, 1.6), target=(0.0, 0.0, 0.5)), fov_deg=60.0),
        dynamic_props=(ball,), room=room,
    )  # fmt: skip
    scene = build_scene(spec, MannequinBody())
    track = next(o for o in scene.objects if o.name == "ball0").world_from_object[:, :3, 3]
    x0, y0, x1, y1 = room.bounds
    assert track[:, 0].max() <= x1 - 0.11 + 0.01  # bounced off the east wall
    assert track[:, 0].max() > x1 - 0.5  # and it did get there
    assert np.all((track[:, 1] > y0) & (track[:, 1] < y1))
    ids = instance_ids(spec)
    contacts = scene.contacts
    pairs = set(zip(contacts.instance_a.tolist(), contacts.instance_b.tolist()))
    wall = ids["wall_east"]
    assert (min(wall, ids["ball0"]), max(wall, ids["ball0"])) in pairs
