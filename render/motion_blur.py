"""Motion blur for the raster backend: colour averaged over sub-frames spread across the shutter.

``subframe_scene(scene, samples, shutter)`` is the scene sampled ``samples`` times per frame:
sub-frame k of frame t is at time t + shutter (k / (samples - 1) - 1/2), in frames, clamped to the
clip ([0, T - 1]: the first and last frames are blurred on one side only), so the shutter is
centred on the frame time and its middle sub-frame is frame t itself (its arrays copied, not
interpolated). Between two frames, rigid transforms (camera extrinsics, object poses, body bone
matrices) are interpolated with a constant angular velocity (slerp) and a linear translation;
intrinsics, joints and per-frame vertices linearly. ``average_frames`` averages each frame's
sub-frames in linear light (sRGB decoded, averaged, encoded through scenes.srgb's tables: the
same bytes on every CPU), as a sensor integrates light.

The ground truth is never taken from the sub-frames: the renderer renders the scene itself for
depth, segmentation and the other layers, so they stay exact at the frame time (as Cycles does,
docs/cycles.md).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.spatial.transform import Rotation

from worldclips.motions.body import SkinnedMesh, VertexAnimatedMesh
from worldclips.scenes.scene import CameraTrack, Scene
from worldclips.scenes.srgb import encode_srgb8, srgb8_table


def sample_times(frames: int, samples: int, shutter: float) -> np.ndarray:
    """(frames * samples,) times in frames of every sub-frame, frame by frame (see the module docstring)."""
    if samples < 3 or samples % 2 == 0:
        raise ValueError(f"motion blur samples: expected an odd number >= 3 (the middle one is the frame), got {samples}")
    if not 0.0 < shutter <= 2.0:
        raise ValueError(f"motion blur shutter: expected (0, 2] frames, got {shutter}")
    offsets = shutter * (np.arange(samples) / (samples - 1) - 0.5)
    offsets[samples // 2] = 0.0
    times = np.arange(frames, dtype=np.float64)[:, None] + offsets[None, :]
    return np.clip(times, 0.0, frames - 1).reshape(-1)


def _neighbours(times: np.ndarray, frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The frames before and after each time and the fraction of the way between them."""
    before = np.clip(np.floor(times).astype(np.int64), 0, frames - 1)
    after = np.minimum(before + 1, frames - 1)
    return before, after, times - before


def interpolate_linear(values: np.ndarray, times: np.ndarray) -> np.ndarray:
    """(T, ...) per-frame values -> (N, ...) at ``times`` (in frames), exact at whole frames."""
    values = np.asarray(values)
    before, after, fraction = _neighbours(times, len(values))
    weight = fraction.reshape((-1,) + (1,) * (values.ndim - 1))
    out = ((1.0 - weight) * values[before].astype(np.float64) + weight * values[after].astype(np.float64)).astype(values.dtype)
    whole = fraction == 0.0
    out[whole] = values[before[whole]]
    return out


def interpolate_rigid(transforms: np.ndarray, times: np.ndarray) -> np.ndarray:
    """(T, ..., 4, 4) rigid transforms -> (N, ..., 4, 4) at ``times``: rotation by slerp, translation
    linearly, exact at whole frames."""
    transforms = np.asarray(transforms)
    before, after, fraction = _neighbours(times, len(transforms))
    start, end = transforms[before].astype(np.float64), transforms[after].astype(np.float64)
    relative = np.swapaxes(start[..., :3, :3], -1, -2) @ end[..., :3, :3]
    rotvec = Rotation.from_matrix(relative.reshape(-1, 3, 3)).as_rotvec().reshape(relative.shape[:-2] + (3,))
    weight = fraction.reshape((-1,) + (1,) * (transforms.ndim - 2))
    step = Rotation.from_rotvec((rotvec * weight).reshape(-1, 3)).as_matrix().reshape(relative.shape)
    out = start.copy()
    out[..., :3, :3] = start[..., :3, :3] @ step
    out[..., :3, 3] = (1.0 - weight) * start[..., :3, 3] + weight * end[..., :3, 3]
    out = out.astype(transforms.dtype)
    whole = fraction == 0.0
    out[whole] = transforms[before[whole]]
    return out


def _mesh_at(mesh, times: np.ndarray):
    if isinstance(mesh, SkinnedMesh):
        return dataclasses.replace(mesh, bone_matrices=interpolate_rigid(mesh.bone_matrices, times))
    if isinstance(mesh, VertexAnimatedMesh):
        return dataclasses.replace(mesh, frame_vertices=interpolate_linear(mesh.frame_vertices, times))
    raise TypeError(f"motion blur: unsupported body mesh {type(mesh).__name__}")


def subframe_scene(scene: Scene, samples: int, shutter: float) -> Scene:
    """``scene`` with ``scene.num_frames * samples`` frames, the sub-frames of every frame in turn."""
    frames = int(scene.num_frames)
    times = sample_times(frames, samples, shutter)
    camera = scene.camera
    track = CameraTrack(K=interpolate_linear(np.asarray(camera.K)[:frames], times),
                        cam_from_world=interpolate_rigid(np.asarray(camera.cam_from_world)[:frames], times),
                        near=camera.near, far=camera.far, family=camera.family)  # fmt: skip
    objects = tuple(
        dataclasses.replace(o, world_from_object=interpolate_rigid(np.asarray(o.world_from_object)[:frames], times),
                            linear_velocity=None, angular_velocity=None)  # fmt: skip
        for o in scene.objects
    )
    characters = tuple(
        dataclasses.replace(c, body=dataclasses.replace(
            c.body, joints=interpolate_linear(np.asarray(c.body.joints)[:frames], times), mesh=_mesh_at(c.body.mesh, times),
            foot_contact=None))  # fmt: skip
        for c in scene.characters
    )
    return dataclasses.replace(scene, num_frames=len(times), fps=scene.fps * samples, camera=track, objects=objects,
                               characters=characters, contacts=None)  # fmt: skip


def average_frames(rgb: np.ndarray, samples: int) -> np.ndarray:
    """(T * samples, H, W, 3) uint8 sRGB sub-frames -> (T, H, W, 3): each frame's mean in linear light."""
    table = srgb8_table()
    out = np.empty((len(rgb) // samples,) + rgb.shape[1:], dtype=np.uint8)
    for frame in range(len(out)):
        out[frame] = encode_srgb8(table[rgb[frame * samples : (frame + 1) * samples]].mean(axis=0))
    return out
