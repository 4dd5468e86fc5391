"""The OpenCV -> Blender camera conversion (render.cycles.camera): round trips and projections.

No Blender needed: Blender's projection is written out here from its view-plane definition
(sensor fit HORIZONTAL: one pixel spans sensor / (lens * W) horizontally and pixel_aspect_y /
pixel_aspect_x times that vertically, the plane is shifted by shift * W pixels, pixel (x, y)
counted from the bottom-left has its centre at (x + 0.5, y + 0.5), the camera looks down -Z).
The real renders in test_cycles.py check the same numbers against the raster backend.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from worldclips.motions.conventions import look_at_cam_from_world, make_transform, project_points
from worldclips.render.cycles.camera import (
    BLENDER_CAMERA_FROM_OPENCV,
    BlenderCamera,
    blender_camera_from_opencv,
    opencv_from_blender_camera,
)


def _random_camera(rng: np.random.Generator, width: int, height: int):
    fx = rng.uniform(0.4, 2.0) * width
    fy = fx * rng.uniform(0.7, 1.4)
    cx = (width - 1) / 2 + rng.uniform(-0.2, 0.2) * width
    cy = (height - 1) / 2 + rng.uniform(-0.2, 0.2) * height
    K = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
    rotation = Rotation.random(random_state=int(rng.integers(1 << 31))).as_matrix()
    cam_from_world = make_transform(rotation, rng.normal(0.0, 3.0, 3))
    return K, cam_from_world


def blender_project(camera: BlenderCamera, width: int, height: int, points_world: np.ndarray) -> np.ndarray:
    """(N, 2) OpenCV pixel coordinates of world points seen by a Blender camera (Blender's model)."""
    camera_from_world = np.linalg.inv(camera.world_from_camera)
    p = points_world @ camera_from_world[:3, :3].T + camera_from_world[:3, 3]
    depth = -p[:, 2]  # Blender cameras look down -Z
    x, y = p[:, 0] / depth, p[:, 1] / depth
    pixel_x = camera.sensor_width_mm / (camera.lens_mm * width)  # view-plane width of one pixel
    pixel_y = pixel_x * camera.pixel_aspect_y / camera.pixel_aspect_x
    # View plane centred on the axis, shifted by shift * W pixel widths (both axes use W).
    raster_x = (x / pixel_x) - camera.shift_x * width + width / 2.0  # 0 at the left edge
    raster_y = (y - camera.shift_y * width * pixel_x) / pixel_y + height / 2.0  # 0 at the bottom edge
    # Pixel (x, y) covers [x, x + 1) with its centre at x + 0.5; rows are stored bottom-up.
    return np.stack([raster_x - 0.5, height - raster_y - 0.5], axis=1)


@pytest.mark.parametrize("size", [(32, 24), (257, 131), (100, 300)])
def test_round_trip_opencv_blender_opencv(size):
    width, height = size
    rng = np.random.default_rng(width * 1000 + height)
    for _ in range(20):
        K, cam_from_world = _random_camera(rng, width, height)
        camera = blender_camera_from_opencv(K, cam_from_world, width, height)
        K_back, cam_from_world_back = opencv_from_blender_camera(camera, width, height)
        assert np.abs(K_back - K).max() < 1e-9 * width
        assert np.abs(cam_from_world_back - cam_from_world).max() < 1e-9
        assert min(camera.pixel_aspect_x, camera.pixel_aspect_y) == 1.0  # Blender needs both >= 1
        again = blender_camera_from_opencv(K_back, cam_from_world_back, width, height)
        for name in ("lens_mm", "shift_x", "shift_y", "pixel_aspect_x", "pixel_aspect_y"):
            assert getattr(again, name) == pytest.approx(getattr(camera, name), abs=1e-12)


@pytest.mark.parametrize("size", [(32, 24), (64, 64), (41, 97)])
def test_blender_projection_lands_on_opencv_pixel_centres(size):
    width, height = size
    rng = np.random.default_rng(7 + width)
    for _ in range(10):
        K, cam_from_world = _random_camera(rng, width, height)
        camera = blender_camera_from_opencv(K, cam_from_world, width, height)
        points_cam = np.column_stack([rng.uniform(-2, 2, 50), rng.uniform(-2, 2, 50), rng.uniform(0.5, 9, 50)])
        world_from_cam = np.linalg.inv(cam_from_world)
        points = points_cam @ world_from_cam[:3, :3].T + world_from_cam[:3, 3]
        expected, _ = project_points(K, cam_from_world, points)
        assert np.abs(blender_project(camera, width, height, points) - expected).max() < 1e-7


def test_default_camera_has_no_shift_and_looks_down_minus_z():
    width, height = 64, 48
    K = np.array([[50.0, 0.0, (width - 1) / 2], [0.0, 50.0, (height - 1) / 2], [0.0, 0.0, 1.0]])
    cam_from_world = look_at_cam_from_world(np.array([0.0, -5.0, 1.0]), np.array([0.0, 0.0, 1.0]))
    camera = blender_camera_from_opencv(K, cam_from_world, width, height)
    assert camera.shift_x == 0.0 and camera.shift_y == 0.0
    assert (camera.pixel_aspect_x, camera.pixel_aspect_y) == (1.0, 1.0)
    assert camera.lens_mm == pytest.approx(50.0 * camera.sensor_width_mm / width)
    # OpenCV looks along +Z: the Blender camera's -Z axis must point at the target (+Y world),
    # and its +Y (image up) must be world up.
    assert np.allclose(-camera.world_from_camera[:3, 2], [0.0, 1.0, 0.0])
    assert np.allclose(camera.world_from_camera[:3, 1], [0.0, 0.0, 1.0])
    assert np.allclose(camera.world_from_camera[:3, 3], [0.0, -5.0, 1.0])
    assert np.array_equal(BLENDER_CAMERA_FROM_OPENCV @ BLENDER_CAMERA_FROM_OPENCV, np.eye(4))


def test_unrepresentable_cameras_are_refused():
    cam_from_world = np.eye(4)
    with pytest.raises(ValueError, match="skewed K"):
        blender_camera_from_opencv(np.array([[50.0, 2.0, 16], [0, 50.0, 12], [0, 0, 1]]), cam_from_world, 32, 24)
    with pytest.raises(ValueError, match="focal lengths must be positive"):
        blender_camera_from_opencv(np.array([[-50.0, 0, 16], [0, 50.0, 12], [0, 0, 1]]), cam_from_world, 32, 24)


def test_the_conversion_lives_in_one_place():
    """No other module of the code base builds a Blender camera or flips OpenCV axes for Blender."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    hits = []
    for path in root.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts or path.name == "camera.py":
            continue
        text = path.read_text(errors="replace")
        if "sensor_width_mm /" in text or "BLENDER_CAMERA_FROM_OPENCV =" in text or "shift_x = (" in text:
            hits.append(str(path.relative_to(root)))
    assert hits == []
