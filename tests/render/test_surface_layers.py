"""Normals and optical flow of the raster backend against independent computation.

Flow: for sampled pixels, an exact float64 ray cast finds the surface point (triangle and
barycentric weights) in frame t; the same triangle's vertices in frame t + 1 (CPU skinning for the
mannequin, the rigid pose for props) place the point again, projected by hand with frame t + 1's
camera. Normals: analytic normals of a plane and of a sphere at the ray-cast point. Occlusion:
the flow warps frame t + 1's depth back onto frame t where the point stays visible.
"""

from __future__ import annotations

import numpy as np
import pytest

from worldclips.render.surface_layers import compose_flow, pixel_grid
from tests.render import scene_builders as sb

FRAMES = 3
WIDTH, HEIGHT = 160, 120


@pytest.fixture(scope="module")
def person():
    return sb.mannequin_character(20, frames=FRAMES, position=(0.2, 0.4), heading=2.0)


def _moving_scene(person):
    """Ground, a static box, a sphere, a box spinning and sliding, a posed person, a moving camera."""
    objects = [
        sb.rigid_object(1, sb.quad_mesh(30.0, 30.0), np.eye(4), FRAMES, category="ground"),
        sb.rigid_object(2, sb.box_mesh((0.6, 0.5, 0.8)), sb.translation(-0.9, 0.9, 0.4), FRAMES),
        sb.rigid_object(3, sb.sphere_mesh(0.35, 4), sb.translation(1.0, 0.2, 0.35), FRAMES, category="sphere"),
        sb.rigid_object(
            4,
            sb.box_mesh((0.3, 0.3, 0.3)),
            np.stack([sb.translation(0.6 + 0.15 * t, -0.6, 0.9, sb.rotation_z(0.5 + 0.3 * t)) for t in range(FRAMES)]),
            category="box",
        ),
    ]
    poses = [sb.looking_camera(WIDTH, HEIGHT, eye=(0.9 + 0.12 * t, -2.4 + 0.05 * t, 1.5), target=(0.2, 0.3, 0.8))
             for t in range(FRAMES)]  # fmt: skip
    cam = sb.camera(poses[0].K[0], np.stack([p.cam_from_world[0] for p in poses]), FRAMES)
    return sb.scene(WIDTH, HEIGHT, cam, objects, [person])


@pytest.fixture(scope="module", params=[1, 3], ids=["supersample1", "supersample3"])
def rendered(request, gl_context, person):
    from worldclips.render.raster import RasterRenderer

    scene = _moving_scene(person)
    renderer = RasterRenderer.from_context(gl_context, WIDTH, HEIGHT, supersample=request.param)
    try:
        clip = renderer.render(scene, surface_layers=True)
        plain = renderer.render(scene)  # the same renderer without the layers: the targets are rebuilt
        return scene, clip, plain
    finally:
        renderer.release()


def _interior_pixels(clip, frame, count, rng, instance=None):
    mask = sb.interior_mask(clip.depth[frame], clip.segmentation[frame])
    if instance is not None:
        mask &= clip.segmentation[frame] == instance
    v, u = np.nonzero(mask)
    pick = rng.choice(len(u), size=min(count, len(u)), replace=False)
    return np.stack([u[pick], v[pick]], axis=1)


def _reference_flow(scene, frame, other, pixels):
    """Where the ray-cast surface points of ``pixels`` in ``frame`` project in ``other``."""
    _, ids, faces, weights = sb.raycast_surface(scene, frame, pixels)
    vertices, all_faces, _ = sb.world_triangles(scene, other)
    points = np.einsum("nk,nkj->nj", weights, vertices[all_faces[faces]])
    uv, z = sb.project(scene.camera, points, other)
    return uv - pixels, ids, faces


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_flow_follows_surface_points_of_people_and_props(rendered, direction):
    scene, clip, _ = rendered
    frame, other = (0, 1) if direction == "forward" else (2, 1)
    flow = clip.surface.flow_forward if direction == "forward" else clip.surface.flow_backward
    rng = np.random.default_rng(7)
    checked = 0
    for instance in (20, 4, 1, 3):  # person (skinned), moving box, ground under a moving camera, sphere
        pixels = _interior_pixels(clip, frame, 60, rng, instance)
        assert len(pixels) > 20, f"instance {instance} should be in view"
        expected, ids, faces = _reference_flow(scene, frame, other, pixels)
        hit = (faces >= 0) & (ids == instance)
        got = flow[frame][pixels[hit, 1], pixels[hit, 0]]
        error = np.linalg.norm(got - expected[hit], axis=1)
        assert np.median(error) < 0.01 and np.max(error) < 0.1, (instance, np.median(error), np.max(error))
        checked += int(hit.sum())
    moving = np.linalg.norm(flow[frame], axis=-1)
    assert np.percentile(moving[clip.depth[frame] > 0], 90) > 1.0, "the scene should move by pixels"
    assert checked > 150


def test_flow_of_sky_follows_camera_rotation(rendered):
    scene, clip, _ = rendered
    sky = clip.depth[0] == 0
    assert sky.sum() > 100
    v, u = np.nonzero(sky)
    cam = scene.camera
    rays = np.stack([u, v, np.ones_like(u)], axis=1).astype(np.float64) @ np.linalg.inv(cam.K[0]).T
    world_dirs = rays @ cam.cam_from_world[0][:3, :3]  # R^T d
    moved = world_dirs @ cam.cam_from_world[1][:3, :3].T @ cam.K[1].T
    expected = moved[:, :2] / moved[:, 2:3] - np.stack([u, v], axis=1)
    assert np.max(np.abs(clip.surface.flow_forward[0][v, u] - expected)) < 1e-3


def test_flow_warps_next_depth_where_visible(rendered):
    """Frame t + 1's depth, looked up where the flow sends each visible point, matches that point's
    own depth in frame t + 1 (the ray-cast reference) for almost every pixel; hidden points don't."""
    scene, clip, _ = rendered
    surface = clip.surface
    visible = ~surface.occluded_forward[0] & (clip.depth[0] > 0)
    occluded = surface.occluded_forward[0] & (clip.depth[0] > 0)
    assert visible.mean() > 0.5 and occluded.sum() > 20, "a moving camera and props hide some points"
    target = pixel_grid(HEIGHT, WIDTH) + surface.flow_forward[0]
    column = np.clip(np.rint(target[..., 0]), 0, WIDTH - 1).astype(int)
    row = np.clip(np.rint(target[..., 1]), 0, HEIGHT - 1).astype(int)
    same = clip.segmentation[1][row, column] == clip.segmentation[0]
    assert same[visible].mean() > 0.97, "visible points land on their own instance"
    assert same[occluded].mean() < 0.9, "most hidden points land on something else"
    assert np.all(surface.occluded_forward[-1]) and np.all(surface.occluded_backward[0])


def test_normals_match_analytic_plane_and_sphere(rendered):
    scene, clip, _ = rendered
    normals = clip.surface.normals.astype(np.float64)
    assert clip.surface.normals.dtype == np.float16
    frame = 1
    cam_from_world = scene.camera.cam_from_world[frame]
    up = cam_from_world[:3, :3] @ np.array([0.0, 0.0, 1.0])
    ground = (clip.segmentation[frame] == 1) & (clip.depth[frame] > 0)
    assert np.max(np.linalg.norm(normals[frame][ground] - up, axis=1)) < 2e-3
    rng = np.random.default_rng(3)
    pixels = _interior_pixels(clip, frame, 80, rng, instance=3)
    depth, ids, _, _ = sb.raycast_surface(scene, frame, pixels)
    rays = np.concatenate([pixels, np.ones((len(pixels), 1))], axis=1) @ np.linalg.inv(scene.camera.K[frame]).T
    points = rays * depth[:, None]
    centre = (cam_from_world @ np.array([1.0, 0.2, 0.35, 1.0]))[:3]
    analytic = (points - centre) / np.linalg.norm(points - centre, axis=1, keepdims=True)
    got = normals[frame][pixels[:, 1], pixels[:, 0]]
    angle = np.degrees(np.arccos(np.clip(np.sum(got * analytic, axis=1) / np.linalg.norm(got, axis=1), -1, 1)))
    assert np.all(ids == 3) and np.median(angle) < 1.0 and np.max(angle) < 3.0, (np.median(angle), np.max(angle))
    unit = np.linalg.norm(normals[clip.depth > 0], axis=-1)
    assert np.all(np.abs(unit - 1.0) < 2e-3) and np.all(normals[clip.depth == 0] == 0)
    facing = np.sum(normals[frame][ground] * rays.mean(axis=0), axis=-1)
    assert np.all(facing < 0), "normals face the camera"


def test_surface_layers_leave_colour_depth_and_ids_unchanged(rendered):
    _, clip, plain = rendered
    assert plain.surface is None
    np.testing.assert_array_equal(plain.rgb, clip.rgb)
    np.testing.assert_array_equal(plain.depth, clip.depth)
    np.testing.assert_array_equal(plain.segmentation, clip.segmentation)


def test_compose_flow_of_one_step_is_the_flow_and_of_two_matches_reprojection(rendered):
    scene, clip, _ = rendered
    surface = clip.surface
    flow, _ = compose_flow(surface.flow_forward, surface.occluded_forward, 0, 1)
    np.testing.assert_array_equal(flow, surface.flow_forward[0])
    two, lost = compose_flow(surface.flow_forward, surface.occluded_forward, 0, 2)
    # the static ground moves with the camera only: unproject with frame 0's depth, project in frame 2
    ground = sb.interior_mask(clip.depth[0], clip.segmentation[0]) & (clip.segmentation[0] == 1) & ~lost
    v, u = np.nonzero(ground)
    cam = scene.camera
    rays = np.stack([u, v, np.ones_like(u)], axis=1).astype(np.float64) @ np.linalg.inv(cam.K[0]).T
    points_cam = rays * clip.depth[0][v, u, None]
    world = (points_cam - cam.cam_from_world[0][:3, 3]) @ cam.cam_from_world[0][:3, :3]
    expected, _ = sb.project(cam, world, 2)
    error = np.linalg.norm(two[v, u] - (expected - np.stack([u, v], axis=1)), axis=1)
    assert len(error) > 500 and np.median(error) < 0.02, (len(error), np.median(error))
    with pytest.raises(ValueError, match="outside the clip"):
        compose_flow(surface.flow_forward, surface.occluded_forward, 1, 2)


def test_ground_at_a_grazing_angle_does_not_hide_itself(gl_context):
    """A camera 1.5 m above a 200 m ground plane looking nearly level and moving forward: the
    ground's depth changes steeply across a pixel far away, yet no ground point that lands inside
    the next image is called occluded (nothing stands on the ground)."""
    from worldclips.render.raster import RasterRenderer

    frames, width, height = 2, 256, 128
    ground = sb.rigid_object(1, sb.quad_mesh(200.0, 200.0), np.eye(4), frames, category="ground")
    poses = [sb.looking_camera(width, height, eye=(0.0, -60.0 + 0.4 * t, 1.5), target=(0.0, 0.0, 0.3)) for t in range(frames)]
    cam = sb.camera(poses[0].K[0], np.stack([p.cam_from_world[0] for p in poses]), frames, far=500.0)
    scene = sb.scene(width, height, cam, [ground])
    renderer = RasterRenderer.from_context(gl_context, width, height, supersample=1)
    try:
        clip = renderer.render(scene, surface_layers=True)
    finally:
        renderer.release()
    target = pixel_grid(height, width) + clip.surface.flow_forward[0]
    inside = (target[..., 0] > -0.5) & (target[..., 0] < width - 0.5) & (target[..., 1] > -0.5) & (target[..., 1] < height - 0.5)
    on_ground = (clip.depth[0] > 0) & inside
    assert on_ground.sum() > 5000 and clip.depth[0].max() > 40.0
    assert clip.surface.occluded_forward[0][on_ground].mean() < 0.001
