"""worldclips conventions: the one place where frames, units and coordinate conversions live.

Every package (motions -> scenes -> render -> shards -> train) imports its frame and camera
conventions from here; ``docs/conventions.md`` states the same facts in prose and a test checks
the two against each other.

World
    Right-handed, +Z up, ground plane at z = 0, metres, seconds, radians.
Transforms
    ``a_from_b`` is a 4x4 matrix mapping homogeneous points in frame b to frame a.
Camera
    OpenCV frame: +X right, +Y down, +Z forward. ``K`` is in pixels and integer pixel
    coordinates (u, v) are pixel centres; u grows to the right, v grows downwards, row 0 is the
    top image row.
Depth
    Planar z in the camera frame (not ray length), float32 metres, 0 where no surface.
SMPL-X
    Axis-angle, no hand PCA, hand poses relative to the flat hand (``flat_hand_mean=True``),
    55 joints in the order of ``smplx.joint_names.JOINT_NAMES[:55]``. Parameters land directly in
    the Z-up world (the AMASS way): the body model's native frame is Y-up / Z-forward and
    ``global_orient`` carries the rotation to Z-up. ``global_orient`` rotates about the pelvis
    joint, and the pelvis lands at ``transl + rest_pelvis`` whatever ``global_orient`` is.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

WORLD_UP = np.array([0.0, 0.0, 1.0])
GRAVITY = np.array([0.0, 0.0, -9.81])
GROUND_HEIGHT = 0.0
DEPTH_BACKGROUND = 0.0
SEGMENTATION_BACKGROUND = 0
# Joints whose depth lies further than this behind the rendered surface at their pixel are
# treated as self-occluded (a joint centre sits inside the limb, at most ~15 cm under the skin).
JOINT_VISIBILITY_TOLERANCE_M = 0.15
# Points closer to the camera plane than this have no defined projection: joints2d is set to
# PROJECTION_UNDEFINED and the joint is not visible.
MIN_PROJECTION_DEPTH_M = 1e-3
PROJECTION_UNDEFINED = -1.0

SMPLX_JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "jaw", "left_eye_smplhf", "right_eye_smplhf",
    "left_index1", "left_index2", "left_index3", "left_middle1", "left_middle2", "left_middle3",
    "left_pinky1", "left_pinky2", "left_pinky3", "left_ring1", "left_ring2", "left_ring3",
    "left_thumb1", "left_thumb2", "left_thumb3",
    "right_index1", "right_index2", "right_index3", "right_middle1", "right_middle2",
    "right_middle3", "right_pinky1", "right_pinky2", "right_pinky3", "right_ring1",
    "right_ring2", "right_ring3", "right_thumb1", "right_thumb2", "right_thumb3",
)  # fmt: skip
SMPLX_PARENTS: tuple[int, ...] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 15, 15, 15,
    20, 25, 26, 20, 28, 29, 20, 31, 32, 20, 34, 35, 20, 37, 38,
    21, 40, 41, 21, 43, 44, 21, 46, 47, 21, 49, 50, 21, 52, 53,
)  # fmt: skip
NUM_JOINTS = 55
NUM_BODY_JOINTS = 21
NUM_HAND_JOINTS = 15
NUM_BETAS = 10
NUM_EXPRESSION = 10

# The body model's native frame is Y-up with the body facing +Z and its left side at +X. This
# rotation (+90 degrees about X) takes native coordinates to the Z-up world: a body with
# global_orient = axis_angle(WORLD_FROM_NATIVE) stands upright facing -Y.
WORLD_FROM_NATIVE = Rotation.from_euler("x", 90.0, degrees=True).as_matrix()


def joint_index(name: str) -> int:
    """Index of an SMPL-X joint name in the 55-joint order."""
    return SMPLX_JOINT_NAMES.index(name)


def axis_angle_to_matrix(axis_angle: np.ndarray) -> np.ndarray:
    """(..., 3) axis-angle -> (..., 3, 3) rotation matrices."""
    axis_angle = np.asarray(axis_angle, dtype=np.float64)
    flat = axis_angle.reshape(-1, 3)
    return Rotation.from_rotvec(flat).as_matrix().reshape(*axis_angle.shape[:-1], 3, 3)


def matrix_to_axis_angle(matrix: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation matrices -> (..., 3) axis-angle with angle in [0, pi]."""
    matrix = np.asarray(matrix, dtype=np.float64)
    flat = matrix.reshape(-1, 3, 3)
    return Rotation.from_matrix(flat).as_rotvec().reshape(*matrix.shape[:-2], 3)


def rotation_z(angle: np.ndarray | float) -> np.ndarray:
    """(...,) angles -> (..., 3, 3) rotations about world +Z (counter-clockwise seen from above)."""
    angle = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(angle), np.sin(angle)
    zero, one = np.zeros_like(angle), np.ones_like(angle)
    return np.stack(
        [np.stack([c, -s, zero], -1), np.stack([s, c, zero], -1), np.stack([zero, zero, one], -1)], -2
    )


def body_orientation_for_heading(heading: np.ndarray | float) -> np.ndarray:
    """(...,) headings -> (..., 3, 3) world_from_native rotations of an upright body.

    ``heading`` is the walking direction in the ground plane, measured counter-clockwise from
    world +X. The native body faces +Z, which WORLD_FROM_NATIVE maps to -Y; a further yaw of
    heading + pi/2 turns -Y onto (cos heading, sin heading, 0).
    """
    return rotation_z(np.asarray(heading, dtype=np.float64) + np.pi / 2) @ WORLD_FROM_NATIVE


def make_transform(rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation and (..., 3) translation -> (..., 4, 4) rigid transform."""
    rotation = np.asarray(rotation, dtype=np.float64)
    translation = np.asarray(translation, dtype=np.float64)
    batch = np.broadcast_shapes(rotation.shape[:-2], translation.shape[:-1])
    out = np.zeros((*batch, 4, 4))
    out[..., :3, :3] = rotation
    out[..., :3, 3] = translation
    out[..., 3, 3] = 1.0
    return out


def transform_points(a_from_b: np.ndarray, points_b: np.ndarray) -> np.ndarray:
    """Apply (..., 4, 4) transforms to (..., N, 3) points; returns (..., N, 3)."""
    rotation = a_from_b[..., None, :3, :3]
    return np.einsum("...ij,...j->...i", rotation, points_b) + a_from_b[..., None, :3, 3]


def invert_rigid(a_from_b: np.ndarray) -> np.ndarray:
    """Inverse of (..., 4, 4) rigid transforms: returns b_from_a."""
    rotation_t = np.swapaxes(a_from_b[..., :3, :3], -1, -2)
    translation = -np.einsum("...ij,...j->...i", rotation_t, a_from_b[..., :3, 3])
    return make_transform(rotation_t, translation)


def look_at_cam_from_world(eye: np.ndarray, target: np.ndarray, roll: np.ndarray | float = 0.0) -> np.ndarray:
    """OpenCV camera at ``eye`` (..., 3) looking at ``target`` (..., 3) -> (..., 4, 4) cam_from_world.

    The camera's +Z points at the target, +X is horizontal (world up projects to image up) and
    ``roll`` (radians) rotates the image clockwise about the viewing axis. The viewing direction
    must not be vertical.
    """
    eye = np.asarray(eye, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    forward = target - eye
    forward = forward / np.linalg.norm(forward, axis=-1, keepdims=True)
    right = np.cross(forward, WORLD_UP)
    norm = np.linalg.norm(right, axis=-1, keepdims=True)
    if np.any(norm < 1e-6):
        raise ValueError("look_at: the viewing direction is vertical, the image orientation is undefined")
    right = right / norm
    down = np.cross(forward, right)
    roll = np.asarray(roll, dtype=np.float64)[..., None]
    right, down = np.cos(roll) * right + np.sin(roll) * down, -np.sin(roll) * right + np.cos(roll) * down
    world_from_cam_rotation = np.stack([right, down, forward], axis=-1)
    return invert_rigid(make_transform(world_from_cam_rotation, eye))


def intrinsics(focal_px: float, width: int, height: int) -> np.ndarray:
    """(3, 3) pinhole K with square pixels and the principal point at the image centre.

    With pixel centres at integer coordinates the image spans [-0.5, W - 0.5], so its centre
    is at ((W - 1) / 2, (H - 1) / 2).
    """
    return np.array(
        [[focal_px, 0.0, (width - 1) / 2.0], [0.0, focal_px, (height - 1) / 2.0], [0.0, 0.0, 1.0]]
    )


def project_points(K: np.ndarray, cam_from_world: np.ndarray, points_world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pinhole projection of (..., N, 3) world points with (..., 3, 3) K and (..., 4, 4) cam_from_world.

    Returns (uv (..., N, 2) pixels, z (..., N) planar depth). Points with z below
    MIN_PROJECTION_DEPTH_M get uv = PROJECTION_UNDEFINED.
    """
    points_cam = transform_points(cam_from_world, points_world)
    z = points_cam[..., 2]
    safe_z = np.where(z > MIN_PROJECTION_DEPTH_M, z, 1.0)
    normalized = points_cam[..., :2] / safe_z[..., None]
    uv = np.einsum("...ij,...nj->...ni", K[..., :2, :2], normalized) + K[..., None, :2, 2]
    uv = np.where((z > MIN_PROJECTION_DEPTH_M)[..., None], uv, PROJECTION_UNDEFINED)
    return uv, z


def gl_clip_from_cam(K: np.ndarray, width: int, height: int, near: float, far: float) -> np.ndarray:
    """(4, 4) matrix taking OpenCV camera-frame points straight to OpenGL clip space.

    Chosen so that the OpenGL framebuffer row 0 (the first row glReadPixels returns) is image
    row v = 0, and the pixel centre (u, v) of the OpenCV convention falls on the OpenGL
    fragment centre (u + 0.5, v + 0.5): x_ndc = 2 (u + 0.5) / W - 1, y_ndc = 2 (v + 0.5) / H - 1.
    Depth is mapped to [-1, 1] between ``near`` and ``far`` with clip w = camera z.
    This is the only OpenCV -> OpenGL conversion in the code base.
    """
    fx, fy, cx, cy, skew = K[0, 0], K[1, 1], K[0, 2], K[1, 2], K[0, 1]
    return np.array(
        [
            [2.0 * fx / width, 2.0 * skew / width, 2.0 * (cx + 0.5) / width - 1.0, 0.0],
            [0.0, 2.0 * fy / height, 2.0 * (cy + 0.5) / height - 1.0, 0.0],
            [0.0, 0.0, (far + near) / (far - near), -2.0 * far * near / (far - near)],
            [0.0, 0.0, 1.0, 0.0],
        ]
    )
