"""The one OpenCV -> Blender camera conversion of the code base (and its inverse, for tests).

worldclips cameras follow ``motions.conventions``: an OpenCV frame (+X right, +Y down, +Z
forward), ``K`` in pixels with integer pixel coordinates at pixel centres. A Blender camera
looks down its local -Z with +Y up and is described by a focal length and sensor width in
millimetres, a lens shift and a pixel aspect ratio. ``blender_camera_from_opencv`` is the only
function that converts one into the other; the Cycles worker applies the numbers it returns
and does no camera maths of its own.

How the numbers follow from Blender's view plane (sensor fit HORIZONTAL, resolution W x H):
one pixel spans ``sensor_width / (lens * W)`` horizontally at unit distance, so
``lens = fx * sensor_width / W``; one pixel spans ``pixel_aspect_y / pixel_aspect_x`` times that
vertically, so ``pixel_aspect_y / pixel_aspect_x = fx / fy``. Blender puts pixel (x, y) (y
counted from the bottom) at view-plane position (x + 0.5, y + 0.5) and shifts the plane by
``shift * W`` pixels on both axes, which places the OpenCV pixel centre (u, v) on ray
``((u - cx) / fx, (v - cy) / fy, 1)`` when

    shift_x = ((W - 1) / 2 - cx) / W
    shift_y = (cy - (H - 1) / 2) * fx / (fy * W)

Blender images are stored bottom row first; the worker flips them so that row 0 is the top row.
Cycles' depth pass is planar (distance along the viewing axis), the same quantity as OpenCV z.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SENSOR_WIDTH_MM = 36.0
# Maps OpenCV camera-frame points to Blender camera-frame points (and back: it is its own inverse).
BLENDER_CAMERA_FROM_OPENCV = np.diag([1.0, -1.0, -1.0, 1.0])


@dataclass(frozen=True, eq=False)
class BlenderCamera:
    """Blender camera settings for one frame (sensor fit HORIZONTAL).

    world_from_camera: (4, 4) float64 matrix_world of the camera object (Blender camera frame:
        +X right, +Y up, looking down -Z).
    lens_mm, sensor_width_mm: focal length and sensor width in millimetres.
    shift_x, shift_y: lens shift in units of the image width (Blender's convention).
    pixel_aspect_x, pixel_aspect_y: render pixel aspect (both >= 1, one of them exactly 1).
    """

    world_from_camera: np.ndarray
    lens_mm: float
    sensor_width_mm: float
    shift_x: float
    shift_y: float
    pixel_aspect_x: float
    pixel_aspect_y: float


def blender_camera_from_opencv(
    K: np.ndarray, cam_from_world: np.ndarray, width: int, height: int, sensor_width_mm: float = SENSOR_WIDTH_MM
) -> BlenderCamera:
    """(3, 3) K and (4, 4) OpenCV cam_from_world of a W x H image -> Blender camera settings.

    Raises ValueError for a skewed K (Blender cameras have none) or non-positive focal lengths.
    """
    K = np.asarray(K, dtype=np.float64)
    cam_from_world = np.asarray(cam_from_world, dtype=np.float64)
    if K.shape != (3, 3) or cam_from_world.shape != (4, 4):
        raise ValueError(f"camera: expected (3, 3) K and (4, 4) cam_from_world, got {K.shape} and {cam_from_world.shape}")
    fx, fy, cx, cy, skew = K[0, 0], K[1, 1], K[0, 2], K[1, 2], K[0, 1]
    if not (fx > 0 and fy > 0):
        raise ValueError(f"camera: focal lengths must be positive, got fx={fx}, fy={fy}")
    if abs(skew) > 1e-9 * fx:
        raise ValueError(f"camera: the Cycles backend cannot render a skewed K (K[0, 1] = {skew})")
    width, height = int(width), int(height)
    world_from_cv = np.linalg.inv(cam_from_world)
    ratio = fx / fy  # pixel_aspect_y / pixel_aspect_x
    aspect_x, aspect_y = (1.0, ratio) if ratio >= 1.0 else (1.0 / ratio, 1.0)
    return BlenderCamera(
        world_from_camera=world_from_cv @ BLENDER_CAMERA_FROM_OPENCV,
        lens_mm=float(fx * sensor_width_mm / width),
        sensor_width_mm=float(sensor_width_mm),
        shift_x=float(((width - 1) / 2.0 - cx) / width),
        shift_y=float((cy - (height - 1) / 2.0) * fx / (fy * width)),
        pixel_aspect_x=float(aspect_x),
        pixel_aspect_y=float(aspect_y),
    )


def opencv_from_blender_camera(camera: BlenderCamera, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of ``blender_camera_from_opencv``: (K (3, 3), cam_from_world (4, 4)), float64."""
    width, height = int(width), int(height)
    fx = camera.lens_mm * width / camera.sensor_width_mm
    fy = fx * camera.pixel_aspect_x / camera.pixel_aspect_y
    cx = (width - 1) / 2.0 - camera.shift_x * width
    cy = (height - 1) / 2.0 + camera.shift_y * width * fy / fx
    K = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
    world_from_cv = np.asarray(camera.world_from_camera, dtype=np.float64) @ BLENDER_CAMERA_FROM_OPENCV
    return K, np.linalg.inv(world_from_cv)
