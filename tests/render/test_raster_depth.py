"""Planar depth of the raster backend against analytic scenes (within 1e-4 m)."""

from __future__ import annotations

import numpy as np

from worldclips.motions.conventions import intrinsics, make_transform
from tests.render import scene_builders as sb

TOLERANCE_M = 1e-4


def _pixel_rays(K: np.ndarray, width: int, height: int) -> np.ndarray:
    """(H, W, 3) camera-frame rays through pixel centres, scaled to z = 1."""
    u, v = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    pixels = np.stack([u, v, np.ones_like(u)], axis=-1)
    return pixels @ np.linalg.inv(K).T


def test_fronto_parallel_plane_has_constant_depth(make_renderer):
    width, height, distance = 64, 48, 3.25
    K = intrinsics(50.0, width, height)
    # Camera at the world origin looking along world +Z (identity extrinsics); the plane faces it.
    plane = sb.rigid_object(3, sb.quad_mesh(3.0, 2.0), sb.translation(0.1, -0.05, distance, np.diag([1.0, -1.0, -1.0])))
    scene = sb.scene(width, height, sb.camera(K, np.eye(4)), [plane])
    clip = make_renderer(width, height).render(scene)
    covered = clip.segmentation[0] == 3
    assert covered.sum() > 0.4 * width * height and not covered.all()
    assert np.abs(clip.depth[0][covered] - distance).max() < TOLERANCE_M
    assert np.all(clip.depth[0][~covered] == 0.0)


def test_tilted_plane_depth_matches_ray_plane_intersection(make_renderer):
    width, height = 80, 60
    K = intrinsics(70.0, width, height)
    # Plane through (0, 0, 4) in the camera frame, tilted 50 degrees about the camera x axis
    # and 20 degrees about y; it covers the whole image.
    angle_x, angle_y = np.radians(50.0), np.radians(20.0)
    rx = np.array([[1, 0, 0], [0, np.cos(angle_x), -np.sin(angle_x)], [0, np.sin(angle_x), np.cos(angle_x)]])
    ry = np.array([[np.cos(angle_y), 0, np.sin(angle_y)], [0, 1, 0], [-np.sin(angle_y), 0, np.cos(angle_y)]])
    rotation = rx @ ry
    centre = np.array([0.0, 0.0, 4.0])
    plane = sb.rigid_object(9, sb.quad_mesh(400.0, 400.0), make_transform(rotation, centre))
    cam_from_world = sb.translation(0.3, -0.2, 0.5)  # the world is shifted: the test goes through extrinsics
    world_from_cam = np.linalg.inv(cam_from_world)
    plane = sb.rigid_object(9, plane.mesh, world_from_cam @ make_transform(rotation, centre))
    scene = sb.scene(width, height, sb.camera(K, cam_from_world, far=2000.0), [plane])
    clip = make_renderer(width, height).render(scene)

    normal = rotation[:, 2]  # plane normal in the camera frame
    rays = _pixel_rays(K, width, height)
    expected = (normal @ centre) / (rays @ normal)  # z of the hit, since rays have z = 1
    assert np.all(clip.segmentation[0] == 9)
    assert expected.min() > 1.0 and expected.max() / expected.min() > 1.5  # really tilted
    assert np.abs(clip.depth[0] - expected).max() < TOLERANCE_M


def _ray_box_depth(rays: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Slab test of camera-frame rays (z = 1) from the origin against an axis-aligned box; 0 = miss."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t1, t2 = lo / rays, hi / rays
    t_near = np.nanmax(np.minimum(t1, t2), axis=-1)
    t_far = np.nanmin(np.maximum(t1, t2), axis=-1)
    hit = (t_near <= t_far) & (t_near > 0)
    return np.where(hit, t_near, 0.0)


def test_box_depth_matches_slab_intersection(make_renderer):
    width, height = 96, 72
    K = intrinsics(80.0, width, height)
    lo, hi = np.array([-0.7, -0.4, 2.5]), np.array([0.5, 0.6, 3.4])
    # The box is axis aligned in the camera frame; place the camera somewhere in the world.
    cam_from_world = sb.looking_camera(width, height, eye=(1.0, -4.0, 1.5), target=(0.0, 0.0, 0.5)).cam_from_world[0]
    world_from_cam = np.linalg.inv(cam_from_world)
    box = sb.rigid_object(4, sb.box_mesh(hi - lo), world_from_cam @ sb.translation(*((lo + hi) / 2)))
    scene = sb.scene(width, height, sb.camera(K, cam_from_world), [box])
    clip = make_renderer(width, height).render(scene)

    expected = _ray_box_depth(_pixel_rays(K, width, height), lo, hi)
    depth, seg = clip.depth[0], clip.segmentation[0]
    interior = sb.interior_mask(expected, (expected > 0).astype(np.uint16), jump_m=0.02)
    assert interior.sum() > 500
    assert np.array_equal(seg[interior] == 4, expected[interior] > 0)
    assert np.abs(depth[interior] - expected[interior]).max() < TOLERANCE_M
    assert np.all((seg == 0) == (depth == 0.0))


def test_depth_is_exact_at_grazing_angle_far_away(make_renderer):
    """A ground plane seen at a low angle out to ~50 m: per-pixel ray-plane depth, relative 2e-6."""
    width, height = 64, 64
    pitch = np.radians(30.5)  # the top image row looks ~1.5 degrees below the horizon
    eye = np.array([0.0, -5.0, 1.6])
    cam = sb.looking_camera(width, height, eye=eye, target=eye + [0.0, np.cos(pitch), -np.sin(pitch)], far=500.0)
    ground = sb.rigid_object(1, sb.quad_mesh(400.0, 400.0), np.eye(4), category="ground")
    scene = sb.scene(width, height, cam, [ground])
    clip = make_renderer(width, height).render(scene)

    K, cam_from_world = cam.K[0], cam.cam_from_world[0]
    rays_cam = _pixel_rays(K, width, height)
    world_from_cam = np.linalg.inv(cam_from_world)
    rays_world = rays_cam @ world_from_cam[:3, :3].T
    eye = world_from_cam[:3, 3]
    t = -eye[2] / rays_world[..., 2]  # ray parameter where z_world = 0; planar depth = t (ray z = 1)
    hits = (t > 0) & (t < 500.0)
    seg = clip.segmentation[0]
    assert hits.all() and np.all(seg == 1)
    depth = clip.depth[0]
    assert t[hits].max() > 40.0
    assert np.all(np.abs(depth[hits] - t[hits]) <= TOLERANCE_M + 2e-6 * t[hits])
