"""A room in the raster backend: depth and instance ids at pixel centres against trimesh's ray
caster on the same room built here by hand, box by box, from its numbers (walls around a window
opening, frame, board, skirting, ceiling, light, floor and the ground outside)."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from worldclips.motions.mannequin_body import MannequinBody
from worldclips.scenes.build import build_scene, instance_ids
from worldclips.scenes.dressing import photo_dress
from worldclips.scenes.rooms import RoomSpec, WindowSpec
from worldclips.scenes.scene import Lighting, Material
from worldclips.scenes.spec import CameraSpec, ClipSpec, StaticCamera
from tests.render import scene_builders as sb

GREY = Material((0.5, 0.5, 0.5))
ROOM = RoomSpec(bounds=(-3.0, -2.5, 3.0, 2.5), height=2.8, windows=(WindowSpec("south", 0.5, 1.2, 0.9, 2.1),),
                lights=((0.0, 0.0),), wall=GREY, ceiling=GREY, trim=GREY, outside=Material((0.3, 0.5, 0.2)))  # fmt: skip

# (name, (x0, x1), (y0, y1), (z0, z1)) of every box, written out from the room's numbers:
# walls 0.15 m thick reaching 0.45 m below the floor, the window x (-0.1, 1.1) z (0.9, 2.1).
BOXES = [
    ("wall_south", (-3.15, -0.1), (-2.65, -2.5), (-0.45, 2.8)),
    ("wall_south", (1.1, 3.15), (-2.65, -2.5), (-0.45, 2.8)),
    ("wall_south", (-0.1, 1.1), (-2.65, -2.5), (-0.45, 0.9)),
    ("wall_south", (-0.1, 1.1), (-2.65, -2.5), (2.1, 2.8)),
    ("wall_north", (-3.15, 3.15), (2.5, 2.65), (-0.45, 2.8)),
    ("wall_east", (3.0, 3.15), (-2.5, 2.5), (-0.45, 2.8)),
    ("wall_west", (-3.15, -3.0), (-2.5, 2.5), (-0.45, 2.8)),
    ("window_frames", (-0.1, -0.05), (-2.65, -2.5), (0.9, 2.1)),
    ("window_frames", (1.05, 1.1), (-2.65, -2.5), (0.9, 2.1)),
    ("window_frames", (-0.05, 1.05), (-2.65, -2.5), (2.05, 2.1)),
    ("window_frames", (-0.05, 1.05), (-2.65, -2.5), (0.9, 0.95)),
    ("window_frames", (-0.15, 1.15), (-2.5, -2.45), (0.87, 0.9)),
    ("skirting", (-3.0, 3.0), (-2.5, -2.485), (0.0, 0.08)),
    ("skirting", (-3.0, 3.0), (2.485, 2.5), (0.0, 0.08)),
    ("skirting", (2.985, 3.0), (-2.485, 2.485), (0.0, 0.08)),
    ("skirting", (-3.0, -2.985), (-2.485, 2.485), (0.0, 0.08)),
    ("ceiling", (-3.15, 3.15), (-2.65, 2.65), (2.8, 2.95)),
    ("ceiling_lights", (-0.25, 0.25), (-0.25, 0.25), (2.76, 2.8)),
]


def _box(x, y, z) -> trimesh.Trimesh:
    extents = [x[1] - x[0], y[1] - y[0], z[1] - z[0]]
    return trimesh.creation.box(extents, trimesh.transformations.translation_matrix([sum(x) / 2, sum(y) / 2, sum(z) / 2]))


def _plane(x, y, z) -> trimesh.Trimesh:
    corners = [[x[0], y[0], z], [x[1], y[0], z], [x[1], y[1], z], [x[0], y[1], z]]
    return trimesh.Trimesh(corners, [[0, 1, 2], [0, 2, 3]], process=False)


def _smooth(depth: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """(H, W) pixels whose 3 x 3 neighbours hold the same id and a depth within 5 % (the ground
    outside is seen 15-50 m away at a grazing angle: its depth steps are large but smooth)."""
    ok = np.zeros(depth.shape, dtype=bool)
    ok[1:-1, 1:-1] = True
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            ok &= np.roll(seg, (dy, dx), axis=(0, 1)) == seg
            ok &= np.abs(np.roll(depth, (dy, dx), axis=(0, 1)) - depth) <= 0.05 * depth
    return ok


@pytest.mark.parametrize("look", ["flat", "photo"])
@pytest.mark.parametrize("eye, target", [((0.8, -0.6, 2.4), (0.5, -4.0, 0.2)), ((-2.2, -1.5, 2.4), (2.0, 1.5, 0.5))])
def test_room_depth_and_ids_match_ray_casting_boxes_built_by_hand(make_renderer, look, eye, target):
    width, height = 128, 96
    spec = ClipSpec(
        run_seed=0, clip_index=0, scenario="default", fps=24.0, num_frames=1, width=width, height=height,
        ground=GREY, lighting=Lighting((0.3, -0.5, 0.8), (1.0, 1.0, 1.0), (0.3, 0.35, 0.4), (0.1, 0.1, 0.1)),
        background_color=(0.5, 0.6, 0.7), characters=(), props=(), room=ROOM,
        camera=CameraSpec(path=StaticCamera(eye=eye, target=target), fov_deg=80.0),
    )  # fmt: skip
    if look == "photo":
        spec = photo_dress(spec)
    scene = build_scene(spec, MannequinBody())
    clip = make_renderer(width, height).render(scene)
    depth, seg = clip.depth[0], clip.segmentation[0]

    ids = instance_ids(spec)
    parts = [(_box(x, y, z), ids[name]) for name, x, y, z in BOXES]
    parts.append((_plane((-3.15, 3.15), (-2.65, 2.65), 0.0), ids["ground"]))
    parts.append((_plane((-50.0, 50.0), (-50.0, 50.0), -0.45), ids["outside"]))
    merged = trimesh.util.concatenate([mesh for mesh, _ in parts])
    owner = np.concatenate([np.full(len(mesh.faces), instance) for mesh, instance in parts])

    v, u = np.nonzero(_smooth(depth, seg))
    pixels = np.stack([u, v], axis=1)
    triangle, ray, hit_depth = sb.trimesh_first_hits(scene, 0, pixels, merged)
    expected_id = np.zeros(len(pixels), dtype=np.int64)
    expected_depth = np.zeros(len(pixels))
    expected_id[ray] = owner[triangle]
    expected_depth[ray] = hit_depth

    got_id, got_depth = seg[v, u].astype(np.int64), depth[v, u]
    seen = set(expected_id.tolist())
    assert {ids["wall_south"], ids["window_frames"], ids["ground"]} <= seen or {ids["wall_north"], ids["wall_east"], ids["ground"]} <= seen
    agree = got_id == expected_id
    assert agree.mean() > 0.999, np.unique(np.stack([got_id[~agree], expected_id[~agree]], 1), axis=0)[:10]
    np.testing.assert_allclose(got_depth[agree], expected_depth[agree], rtol=2e-5, atol=2e-5)
    if eye[0] > 0:  # looking at the window: the ground outside shows through it
        assert (expected_id == ids["outside"]).sum() > 20
        assert (got_id == ids["outside"]).sum() > 20


def test_ceiling_lights_light_the_floor_as_small_lambertian_panels(make_renderer):
    """Only the room's light panel lights the floor (no sun, no ambient): each floor pixel is
    albedo * radiance * area * cos(panel) * cos(floor) / (pi d^2), computed here from the ground
    point each pixel sees, through the sRGB curve of the flat look."""
    import dataclasses

    from worldclips.motions.conventions import invert_rigid as world_from

    lamp = Material((1.0, 0.9, 0.8), emission=20.0)
    room = dataclasses.replace(ROOM, lights=((0.5, 0.3),), lamp=lamp)
    width = height = 64
    spec = ClipSpec(
        run_seed=0, clip_index=0, scenario="default", fps=24.0, num_frames=1, width=width, height=height, ground=GREY,
        lighting=Lighting((0.3, -0.5, 0.8), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),
        background_color=(0.5, 0.6, 0.7), characters=(), props=(), room=room,
        camera=CameraSpec(path=StaticCamera(eye=(1.2, 1.0, 2.0), target=(0.8, 0.6, 0.0)), fov_deg=70.0),
    )  # fmt: skip
    scene = build_scene(spec, MannequinBody())
    clip = make_renderer(width, height).render(scene)
    v, u = np.nonzero(clip.segmentation[0] == instance_ids(spec)["ground"])
    assert len(u) > 1000
    cam = world_from(scene.camera.cam_from_world[0])
    rays = cam[:3, :3] @ np.linalg.solve(scene.camera.K[0], np.stack([u, v, np.ones(len(u))]).astype(np.float64))
    points = cam[:3, 3][:, None] + rays * (-cam[2, 3] / rays[2])  # on z = 0
    d = np.array([0.5, 0.3, room.height - 0.04])[:, None] - points
    d2 = (d**2).sum(axis=0)
    cosine = d[2] / np.sqrt(d2)  # the panel faces down, the floor up: the same cosine twice
    radiance = np.array(lamp.base_color) * lamp.emission
    linear = np.clip(0.5 * radiance[:, None] * 0.25 * cosine**2 / (np.pi * d2), 0.0, 1.0)
    srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    got = clip.rgb[0][v, u].T / 255.0
    assert np.abs(got - srgb).max() < 3 / 255
    assert got[0].max() > 1.5 * got[0].min()  # brighter under the light than away from it (sRGB)
