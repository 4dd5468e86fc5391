"""std140 uniform-block packing for the raster backend (numpy only, no GL).

All per-frame values of a scene are packed once into GPU buffers; drawing frame t only binds the
block ranges at offset t * stride. The layouts here must match the blocks in ``render.glsl``.
Matrices are stored column-major (std140 default), so numpy matrices are transposed.
"""

from __future__ import annotations

import numpy as np

from worldclips.motions.conventions import gl_clip_from_cam, invert_rigid
from worldclips.render import glsl
from worldclips.render.glsl import PATTERN_INDEX
from worldclips.scenes.scene import Lamp, Lighting, Material, PhotoLook
from worldclips.scenes.sky import shader_constants

# Per-frame strides of the blocks: multiples of 256 bytes, the largest uniform-buffer offset
# alignment drivers ask for (16 on llvmpipe, 256 on NVIDIA).
OBJECT_BLOCK_BYTES = 512  # 384 bytes of data
FRAME_BLOCK_BYTES = 1024  # 992 bytes of data
MAX_LAMPS = glsl.MAX_LAMPS  # scenes.rooms.MAX_LAMPS
MAX_OFFSET_ALIGNMENT = 256
MIN_BONE_CAPACITY = 64


def _columns(matrices: np.ndarray) -> np.ndarray:
    """(..., 4, 4) row-major matrices -> (..., 16) column-major floats."""
    return np.swapaxes(np.asarray(matrices, dtype=np.float64), -1, -2).reshape(*np.shape(matrices)[:-2], 16)


def _rgb(value, name: str) -> np.ndarray:
    rgb = np.asarray(value, dtype=np.float64)
    if rgb.shape != (3,) or not np.all(np.isfinite(rgb)):
        raise ValueError(f"{name}: expected 3 finite numbers, got {value!r}")
    return rgb


def supersampled_intrinsics(K: np.ndarray, factor: int) -> np.ndarray:
    """(..., 3, 3) K -> K of an image `factor` (odd) times larger whose middle subpixel of each
    factor x factor block sits exactly on the original pixel centre (u' = factor * u + (factor - 1) / 2)."""
    if factor < 1 or factor % 2 == 0:
        raise ValueError(f"supersample factor: expected an odd integer >= 1, got {factor}")
    out = np.array(K, dtype=np.float64, copy=True)
    out[..., :2, :] *= factor
    out[..., :2, 2] += (factor - 1) / 2.0
    return out


def clip_from_cam(K: np.ndarray, near: float, far: float, width: int, height: int) -> np.ndarray:
    """(T, 3, 3) intrinsics -> (T, 4, 4) OpenGL clip transforms of a width x height raster."""
    return np.stack([gl_clip_from_cam(k, width, height, near, far) for k in np.asarray(K, dtype=np.float64)])


def lamp_count(lamps: tuple[Lamp, ...]) -> int:
    """The number of lamps a scene's programs are compiled for; at most MAX_LAMPS."""
    if len(lamps) > MAX_LAMPS:
        raise ValueError(f"Scene.lamps: {len(lamps)} lamps, the raster backend lights with at most {MAX_LAMPS}")
    return len(lamps)


def frame_blocks(
    K: np.ndarray,
    cam_from_world: np.ndarray,
    near: float,
    far: float,
    lighting: Lighting,
    background_color,
    width: int,
    height: int,
    light_clip_from_world: np.ndarray,
    shadow_params: np.ndarray,
    look: PhotoLook | None = None,
    sky_map: bool = False,
    lamps: tuple[Lamp, ...] = (),
) -> np.ndarray:
    """(T, 256) float32 Frame blocks: camera projection, lights, background, shadow parameters,
    the photographic look (sky constants; all zero for the flat look), cam_from_world and the
    lamps (count, then position + area and radiance of each).

    K (T, 3, 3) must be the intrinsics of the image actually rasterized, width x height pixels.
    """
    K = np.asarray(K, dtype=np.float64)
    cam_from_world = np.asarray(cam_from_world, dtype=np.float64)
    frames = len(K)
    if cam_from_world.shape != (frames, 4, 4):
        raise ValueError(f"cam_from_world: expected shape ({frames}, 4, 4), got {cam_from_world.shape}")
    if not (0.0 < near < far):
        raise ValueError(f"CameraTrack: expected 0 < near < far, got near={near}, far={far}")
    out = np.zeros((frames, FRAME_BLOCK_BYTES // 4), dtype=np.float64)
    out[:, 0:16] = _columns(clip_from_cam(K, near, far, width, height))
    out[:, 16:32] = _columns(light_clip_from_world)
    world_from_cam = invert_rigid(cam_from_world)
    # world = depth * (R_world_from_cam K^-1) [u, v, 1] + camera centre: shading positions are
    # rebuilt from the pixel and its depth instead of being interpolated.
    world_from_pixel = np.zeros((frames, 4, 4))
    world_from_pixel[:, :3, :3] = world_from_cam[:, :3, :3] @ np.linalg.inv(K)
    world_from_pixel[:, :3, 3] = world_from_cam[:, :3, 3]
    world_from_pixel[:, 3, 3] = 1.0
    out[:, 32:48] = _columns(world_from_pixel)
    out[:, 48:51] = world_from_cam[:, :3, 3]
    out[:, 51] = 1.0
    sun = _rgb(lighting.sun_direction, "Lighting.sun_direction")
    out[:, 52:55] = sun / max(np.linalg.norm(sun), 1e-12)
    out[:, 56:59] = _rgb(lighting.sun_color, "Lighting.sun_color")
    out[:, 60:63] = _rgb(lighting.sky_color, "Lighting.sky_color")
    out[:, 64:67] = _rgb(lighting.ground_color, "Lighting.ground_color")
    out[:, 68:71] = _rgb(background_color, "Scene.background_color")
    out[:, 72:76] = shadow_params
    out[:, 100:116] = _columns(cam_from_world)
    if look is not None:
        out[:, 76:80] = 1.0, look.exposure, look.haze_m, float(sky_map)
        out[:, 80:100] = shader_constants(out[0, 52:55], look.turbidity, look.zenith_luminance)
    out[:, 116] = lamp_count(lamps)
    for index, lamp in enumerate(lamps):  # lamp_position[i] (xyz, area), lamp_radiance[i] (rgb)
        out[:, 120 + 4 * index : 123 + 4 * index] = _rgb(lamp.position, "Lamp.position")
        out[:, 123 + 4 * index] = float(lamp.area)
        out[:, 184 + 4 * index : 187 + 4 * index] = _rgb(lamp.radiance, "Lamp.radiance")
    return out.astype(np.float32)


def object_blocks(
    cam_from_world: np.ndarray,
    world_from_object: np.ndarray | None,
    material: Material,
    instance_id: int,
    shadow_offset_m: float = 0.0,
    vertex_tint: bool = False,
    K: np.ndarray | None = None,
) -> np.ndarray:
    """(T, 128) float32 Object blocks of one drawable (world_from_object None: vertices are in world).

    shadow_offset_m: extra distance along the normal before this surface looks up the sun shadow
    map (bodies shadowed by their own simplified proxy need a little more than other surfaces).
    vertex_tint: colours and roughness come from the vertices' tint (a body in an outfit).
    K: (T, 3, 3) intrinsics of the output image: fills the surface-motion matrices, which map the
    drawable's vertices of frame t + 1 (and t - 1, clamped to the clip) to that frame's output
    pixels, (u z, v z, z) (render.surface_layers).
    """
    cam_from_world = np.asarray(cam_from_world, dtype=np.float64)
    frames = len(cam_from_world)
    if world_from_object is None:
        world_from_object = np.broadcast_to(np.eye(4), (frames, 4, 4))
    world_from_object = np.asarray(world_from_object, dtype=np.float64)
    if world_from_object.shape != (frames, 4, 4):
        raise ValueError(f"world_from_object: expected shape ({frames}, 4, 4), got {world_from_object.shape}")
    if not 1 <= int(instance_id) <= 0xFFFF:
        raise ValueError(f"instance_id: expected 1..65535 (uint16 segmentation), got {instance_id}")
    out = np.zeros((frames, OBJECT_BLOCK_BYTES // 4), dtype=np.float64)
    out[:, 0:16] = _columns(cam_from_world @ world_from_object)
    out[:, 16:32] = _columns(world_from_object)
    normal = np.zeros((frames, 4, 4))
    normal[:, :3, :3] = np.swapaxes(np.linalg.inv(world_from_object[:, :3, :3]), -1, -2)
    normal[:, 3, 3] = 1.0
    out[:, 32:48] = _columns(normal)
    out[:, 48:51] = _rgb(material.base_color, "Material.base_color")
    out[:, 51] = float(np.clip(material.roughness, 0.0, 1.0))
    out[:, 52:55] = _rgb(material.pattern_color, "Material.pattern_color")
    out[:, 55] = float(material.pattern_scale) if material.texture is None else 1.0 / float(material.texture.size_m)
    out[:, 60] = float(shadow_offset_m)
    out[:, 61] = float(material.emission)
    if K is not None:
        next_pixels, previous_pixels = neighbour_pixel_from_object(K, cam_from_world, world_from_object)
        out[:, 64:80] = _columns(next_pixels)
        out[:, 80:96] = _columns(previous_pixels)
    packed = out.astype(np.float32)
    info = packed[:, 56:60].view(np.int32)
    info[:, 0] = PATTERN_INDEX[material.pattern]
    info[:, 1] = int(instance_id)
    info[:, 2] = int(vertex_tint)
    if material.texture is not None:  # which of the set's images there are: 1 colour, 2 roughness, 4 normal
        info[:, 3] = 1 | (2 if material.texture.roughness else 0) | (4 if material.texture.normal else 0)
    return packed


def neighbour_pixel_from_object(K: np.ndarray, cam_from_world: np.ndarray, world_from_object: np.ndarray):
    """((T, 4, 4), (T, 4, 4)): for each frame t, the maps of object points to output pixels in frame
    min(t + 1, T - 1) and in frame max(t - 1, 0): rows K [R | t] of that frame's camera times that
    frame's world_from_object, so (x, y, z) = (u z, v z, z); the last row is (0, 0, 0, 1)."""
    K = np.asarray(K, dtype=np.float64)
    frames = len(cam_from_world)
    if K.shape != (frames, 3, 3):
        raise ValueError(f"K: expected shape ({frames}, 3, 3), got {K.shape}")
    pixel_from_world = np.zeros((frames, 4, 4))
    pixel_from_world[:, :3, :] = K @ np.asarray(cam_from_world, dtype=np.float64)[:, :3, :]
    pixel_from_world[:, 3, 3] = 1.0
    pixel_from_object = pixel_from_world @ world_from_object
    index = np.arange(frames)
    return pixel_from_object[np.minimum(index + 1, frames - 1)], pixel_from_object[np.maximum(index - 1, 0)]


def bone_capacity(num_bones: int) -> int:
    """Size of the shader's bone array for a skeleton of num_bones (a power of two >= 64)."""
    capacity = MIN_BONE_CAPACITY
    while capacity < num_bones:
        capacity *= 2
    return capacity


def bone_stride(capacity: int, offset_alignment: int) -> int:
    """Byte stride between frames in a bone buffer: the block size rounded up to the alignment."""
    size = capacity * 64
    return -(-size // offset_alignment) * offset_alignment


def bone_blocks(bone_matrices: np.ndarray, capacity: int, stride: int) -> np.ndarray:
    """(T, B, 4, 4) bone matrices -> (T, stride / 4) float32 Bones blocks."""
    bones = np.asarray(bone_matrices, dtype=np.float32)
    frames, count = bones.shape[:2]
    if count > capacity:
        raise ValueError(f"{count} bones exceed the bone capacity {capacity}")
    out = np.zeros((frames, stride // 4), dtype=np.float32)
    out[:, : count * 16] = np.swapaxes(bones, -1, -2).reshape(frames, count * 16)
    return out
