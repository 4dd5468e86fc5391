"""Ground-truth arrays of a rendered clip, as in the sample schema (shards.format.schema)."""

from __future__ import annotations

import numpy as np

from worldclips.motions.conventions import JOINT_VISIBILITY_TOLERANCE_M, NUM_BETAS, NUM_JOINTS, project_points
from worldclips.motions.motion import FRAME_PARAMETERS
from worldclips.render.frames import RenderedClip
from worldclips.scenes.physics_spec import ContactEvents
from worldclips.scenes.scene import Scene


def camera_arrays(scene: Scene) -> dict[str, np.ndarray]:
    """camera.npz: K (T, 3, 3) and cam_from_world (T, 4, 4), float64."""
    return {
        "K": scene.camera.K.astype(np.float64),
        "cam_from_world": scene.camera.cam_from_world.astype(np.float64),
    }


def joints_visibility(
    uv: np.ndarray, z: np.ndarray, depth: np.ndarray, segmentation: np.ndarray, instance_id: int
) -> np.ndarray:
    """(T, J) bool: the joint projects inside the image, the person's own surface is at its pixel,
    and that surface lies less than JOINT_VISIBILITY_TOLERANCE_M in front of the joint.

    uv (T, J, 2) pixels and z (T, J) planar depth of the joints; depth (T, H, W) and
    segmentation (T, H, W) as rendered.
    """
    frames, height, width = depth.shape
    pixel = np.rint(uv).astype(np.int64)
    inside = (z > 0) & (pixel[..., 0] >= 0) & (pixel[..., 0] < width) & (pixel[..., 1] >= 0) & (pixel[..., 1] < height)
    u = np.clip(pixel[..., 0], 0, width - 1)
    v = np.clip(pixel[..., 1], 0, height - 1)
    t = np.arange(frames)[:, None]
    own_surface = segmentation[t, v, u] == instance_id
    not_behind = z - depth[t, v, u] <= JOINT_VISIBILITY_TOLERANCE_M
    return inside & own_surface & not_behind


def pose_arrays(scene: Scene, rendered: RenderedClip) -> dict[str, np.ndarray]:
    """pose.npz: SMPL-X parameters, joints3d/2d, visibility and validity, foot contacts per person."""
    people = scene.characters
    frames = scene.num_frames

    def stacked(values: list[np.ndarray], empty_shape: tuple[int, ...], dtype) -> np.ndarray:
        return np.stack(values).astype(dtype) if values else np.zeros(empty_shape, dtype)

    out = {
        name: stacked([getattr(c.motion, name) for c in people], (0, frames, *tail), np.float32)
        for name, tail in FRAME_PARAMETERS.items()
    }
    out["betas"] = stacked([c.motion.betas for c in people], (0, NUM_BETAS), np.float32)
    joints3d, joints2d, visible, valid = [], [], [], []
    K, cam_from_world = scene.camera.K, scene.camera.cam_from_world
    for character in people:
        joints = character.body.joints.astype(np.float32)
        uv, z = project_points(K, cam_from_world, joints.astype(np.float64))
        joints3d.append(joints)
        joints2d.append(uv.astype(np.float32))
        seen = joints_visibility(uv, z, rendered.depth, rendered.segmentation, character.instance_id)
        visible.append(seen & character.body.joints_valid[None, :])
        valid.append(character.body.joints_valid)
    out["joints3d"] = stacked(joints3d, (0, frames, NUM_JOINTS, 3), np.float32)
    out["joints2d"] = stacked(joints2d, (0, frames, NUM_JOINTS, 2), np.float32)
    out["joints_visible"] = stacked(visible, (0, frames, NUM_JOINTS), bool)
    out["joints_valid"] = stacked(valid, (0, NUM_JOINTS), bool)
    out["instance_id"] = np.array([c.instance_id for c in people], dtype=np.int32)
    out["foot_contact"] = stacked([_foot_contact(c, frames) for c in people], (0, frames, 4), bool)
    return out


def _foot_contact(character, frames: int) -> np.ndarray:
    """(T, 4) bool contacts (left heel, left toe, right heel, right toe); all false if the body has none."""
    contact = character.body.foot_contact
    return np.zeros((frames, 4), dtype=bool) if contact is None else np.asarray(contact, dtype=bool)


def objects_arrays(scene: Scene) -> dict[str, np.ndarray]:
    """objects.npz: world_from_object (O, T, 4, 4), linear_velocity and angular_velocity (O, T, 3)
    float64 (simulated for dynamic props, finite differences for carried ones, 0 for static
    objects) and instance_id (O,) int32."""
    frames = scene.num_frames
    poses = [o.world_from_object for o in scene.objects]
    velocities = [o.velocities(scene.fps) for o in scene.objects]
    stack = lambda arrays, tail: np.stack(arrays).astype(np.float64) if arrays else np.zeros((0, frames, *tail))  # noqa: E731
    return {
        "world_from_object": stack(poses, (4, 4)),
        "linear_velocity": stack([v[0] for v in velocities], (3,)),
        "angular_velocity": stack([v[1] for v in velocities], (3,)),
        "instance_id": np.array([o.instance_id for o in scene.objects], dtype=np.int32),
    }


def contacts_arrays(scene: Scene) -> dict[str, np.ndarray]:
    """contacts.npz: E contact events (scenes.physics_spec.ContactEvents); none when the scene has none."""
    events = scene.contacts if scene.contacts is not None else ContactEvents.from_rows([])
    return {
        "frame": np.asarray(events.frame, dtype=np.int32),
        "instance_a": np.asarray(events.instance_a, dtype=np.int32),
        "instance_b": np.asarray(events.instance_b, dtype=np.int32),
        "position": np.asarray(events.position, dtype=np.float64).reshape(-1, 3),
        "normal": np.asarray(events.normal, dtype=np.float64).reshape(-1, 3),
        "impulse": np.asarray(events.impulse, dtype=np.float64),
    }
