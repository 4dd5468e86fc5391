"""One raw WebDataset sample (member name -> bytes) -> a training example of numpy arrays.

Only the members below are read, each with an explicit decoder that never unpickles
(``numpy.load(allow_pickle=False)``, ``json``, PyAV). A random temporal crop (start and stride)
picks ``frames`` frames; the image is centre-cropped to the target aspect and resized, and the
intrinsics and 2D joints follow the same crop and scale (pixel centres at integers).

Example fields (F frames, h x w the target size, P = max_persons):
    video          uint8   (F, 3, h, w)
    depth          float32 (F, h, w)        planar metres, 0 = no surface
    K              float32 (F, 3, 3)        for the h x w image
    cam_from_world float32 (F, 4, 4)
    joints3d_cam   float32 (P, F, 55, 3)    in each frame's camera (OpenCV), metres
    joints2d       float32 (P, F, 55, 2)    pixels of the h x w image, -1 where undefined
    joints_valid   bool    (P, 55)
    person_mask    bool    (P,)
    skeleton       uint8   (F, 3, h, w)     rendered skeleton maps (when asked for)
    fps            float32 ()
    caption        str                      from meta.json's scenario (train.text)
"""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from worldclips.motions.safe_arrays import MAX_NPZ_BYTES, load_npz
from worldclips.motions.conventions import PROJECTION_UNDEFINED
from worldclips.shards.format.layer_registry import inflated_limits
from worldclips.shards.format.reader import clip_sizes
from worldclips.shards.format.layers import (
    DEPTH_ARRAY,
    DEPTH_MEMBER,
    SEG_ARRAY,
    SEG_MEMBER,
    decode_depth,
    decode_depth_run,
    depth_chunk_names,
)
from worldclips.shards.format.schema import META_MEMBER, VIDEO_MEMBER
from worldclips.train.cond.pose import skeleton_maps
from worldclips.train.config import DataConfig
from worldclips.train.text import caption
from worldclips.train.video import decode_frames

MEMBERS = (META_MEMBER, VIDEO_MEMBER, "camera.npz", "pose.npz")  # and depth.npz (schema v4) or depth.npy
DEPTH_MEMBERS = (DEPTH_MEMBER, "depth.npy")
READ_MEMBERS = (*MEMBERS, *DEPTH_MEMBERS)  # what the loader takes from a shard
POSE_ARRAYS = ("joints3d", "joints2d", "joints_valid")
CACHE_MEMBERS = ("inputs.npz", "caption.txt", "meta.json")  # a latent-cache sample (train.latent_cache)
JOINT_ARRAYS = ("joints3d_cam", "joints_valid", "person_mask")


def _npy(data: bytes, member: str) -> np.ndarray:
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as error:
        raise ValueError(f"{member}: not a readable .npy array ({error})") from None


def _npy_view(data: bytes, member: str) -> np.ndarray:
    """A read-only view of an .npy member's array in its bytes (no copy; object dtypes refused)."""
    try:
        stream = io.BytesIO(data)
        version = np.lib.format.read_magic(stream)
        if version not in ((1, 0), (2, 0)):
            return _npy(data, member)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(stream)
        if dtype.hasobject or fortran:
            raise ValueError(f"unsupported array layout (dtype {dtype}, fortran order {fortran})")
        return np.frombuffer(data, dtype=dtype, count=int(np.prod(shape)), offset=stream.tell()).reshape(shape)
    except Exception as error:
        raise ValueError(f"{member}: not a readable .npy array ({error})") from None


def _npz(data: bytes, member: str, names: tuple[str, ...], max_bytes: int = MAX_NPZ_BYTES) -> dict[str, np.ndarray]:
    """An .npz member's arrays (declared sizes checked before inflating; see motions.safe_arrays)."""
    arrays = load_npz(data, member, max_bytes)
    missing = [name for name in names if name not in arrays]
    if missing:
        raise ValueError(f"{member}: not an .npz archive with {', '.join(names)} (no {missing[0]})")
    return arrays


def _depth_frames(data: bytes, sizes: tuple[int, int, int], first: int, last: int, rows: np.ndarray,
                  cols: np.ndarray) -> tuple[int, np.ndarray]:  # fmt: skip
    """depth.npz -> (f, depth of frames f ... >= last at pixels ``rows`` x ``cols``) with f <= first:
    only the chunks that hold frames ``first`` ... ``last`` are inflated (schema v6; v4-v5: frames
    0 ... last) and only the pixels wanted are decoded; declared sizes are checked against the
    clip's (meta.json) before anything is inflated."""
    limit = inflated_limits(*sizes)[DEPTH_MEMBER]
    arrays = load_npz(data, DEPTH_MEMBER, limit, only={DEPTH_ARRAY, *depth_chunk_names(sizes[0], first, last)})
    for name, planes in arrays.items():
        if planes.ndim != 4 or planes.shape[2:] != sizes[1:]:
            raise ValueError(f"{DEPTH_MEMBER}/{name}: shape {planes.shape}, meta.json declares {sizes[1]}x{sizes[2]} frames")
    if DEPTH_ARRAY in arrays:  # schema v4-v5: one run of time differences
        arrays[DEPTH_ARRAY] = arrays[DEPTH_ARRAY][:, : last + 1]
    wanted = {name: planes.take(rows, axis=2).take(cols, axis=3) for name, planes in arrays.items()}  # time differences
    if DEPTH_ARRAY in wanted:  # are per pixel: decoding a subset of pixels gives their depth
        start, depth = 0, decode_depth(wanted, DEPTH_MEMBER)
    else:
        start, depth = decode_depth_run(wanted, DEPTH_MEMBER)
    if not start <= first <= last < start + len(depth):
        raise ValueError(f"{DEPTH_MEMBER}: frames {start}-{start + len(depth) - 1}, the crop needs {first}-{last}")
    return start, depth


def choose_frames(num_frames: int, frames: int, strides: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Indices of a random temporal crop: a stride among those that fit, then a start."""
    fitting = [s for s in strides if (frames - 1) * s + 1 <= num_frames]
    if not fitting:
        raise ValueError(f"clip has {num_frames} frames, too short for {frames} frames at stride {min(strides)}")
    stride = fitting[int(rng.integers(len(fitting)))]
    start = int(rng.integers(num_frames - (frames - 1) * stride))
    return start + stride * np.arange(frames)


def crop_box(height: int, width: int, target_h: int, target_w: int) -> tuple[int, int, int, int]:
    """(top, left, crop_h, crop_w): the largest centred crop with the target aspect ratio."""
    if width * target_h > height * target_w:  # too wide
        crop_h, crop_w = height, max(1, round(height * target_w / target_h))
    else:
        crop_h, crop_w = max(1, round(width * target_h / target_w)), width
    return (height - crop_h) // 2, (width - crop_w) // 2, crop_h, crop_w


def adjust_pixels(points: np.ndarray, top: int, left: int, scale_y: float, scale_x: float) -> np.ndarray:
    """Pixel-centre coordinates (..., 2) through a crop then a resize; undefined (-1) stays -1."""
    undefined = np.all(points == PROJECTION_UNDEFINED, axis=-1, keepdims=True)
    x = (points[..., 0] - left + 0.5) * scale_x - 0.5
    y = (points[..., 1] - top + 0.5) * scale_y - 0.5
    return np.where(undefined, PROJECTION_UNDEFINED, np.stack([x, y], axis=-1)).astype(np.float32)


def adjust_intrinsics(K: np.ndarray, top: int, left: int, scale_y: float, scale_x: float) -> np.ndarray:
    """K (..., 3, 3) for the same crop and resize (pixel centres at integers)."""
    out = K.astype(np.float64).copy()
    out[..., 0, :] *= scale_x
    out[..., 1, :] *= scale_y
    out[..., 0, 2] = (K[..., 0, 2] - left + 0.5) * scale_x - 0.5
    out[..., 1, 2] = (K[..., 1, 2] - top + 0.5) * scale_y - 0.5
    return out.astype(np.float32)


def resize_frames(frames: np.ndarray, box, size: tuple[int, int]) -> np.ndarray:
    """(F, H, W, 3) uint8 -> cropped and resized (F, 3, h, w) uint8 (PIL bilinear, antialiased
    when shrinking; single-threaded, so loader workers never fight over threads)."""
    top, left, crop_h, crop_w = box
    if (crop_h, crop_w) == size:
        return frames[:, top : top + crop_h, left : left + crop_w].transpose(0, 3, 1, 2).copy()
    out = np.empty((len(frames), size[0], size[1], 3), np.uint8)
    for i, frame in enumerate(frames):
        image = Image.fromarray(np.ascontiguousarray(frame[top : top + crop_h, left : left + crop_w]))
        out[i] = np.asarray(image.resize((size[1], size[0]), Image.Resampling.BILINEAR) if image.size != size[::-1] else image)
    return out.transpose(0, 3, 1, 2)


def nearest_pixels(box, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the input pixels under the output pixels' centres, for a crop ``box`` resized to ``size``."""
    top, left, crop_h, crop_w = box
    rows = top + np.minimum(((np.arange(size[0]) + 0.5) * crop_h / size[0]).astype(int), crop_h - 1)
    cols = left + np.minimum(((np.arange(size[1]) + 0.5) * crop_w / size[1]).astype(int), crop_w - 1)
    return rows, cols


def resize_nearest(maps: np.ndarray, box, size: tuple[int, int]) -> np.ndarray:
    """(F, H, W) -> cropped (F, h, w), each output pixel taking the input pixel under its centre."""
    rows, cols = nearest_pixels(box, size)
    return maps.take(rows, axis=1).take(cols, axis=2)


def is_verified(raw: dict) -> bool:
    """False for a scenario clip kept with ``verified: false`` (its properties were not all met)."""
    try:
        return json.loads(raw.get(META_MEMBER, b"{}")).get("verified") is not False
    except (ValueError, AttributeError):
        return True  # unreadable meta.json: decode_example reports it


def decode_example(raw: dict, config: DataConfig, rng: np.random.Generator, skeletons: bool = True,
                   person_pixels: bool = False) -> dict:  # fmt: skip
    """Raw sample -> example dict (see module docstring). Raises ValueError on bad data.
    ``person_pixels``: also "person_pixels" (F, H, W) bool, the pixels of every person (from the
    segmentation, same crop and resize), for metrics over people and background."""
    missing = [m for m in MEMBERS if m not in raw] + ([] if DEPTH_MEMBER in raw or "depth.npy" in raw else [DEPTH_MEMBER])
    if missing:
        raise ValueError(f"missing member {missing[0]}")
    meta = json.loads(raw[META_MEMBER])
    if meta.get("verified") is False and not config.unverified:
        raise ValueError("a scenario clip without its verified properties (meta.json verified: false; data.unverified: true keeps it)")
    if DEPTH_MEMBER in raw:  # inflated below, beside the video's decoding: only the chunks the crop needs
        sizes = clip_sizes(meta, META_MEMBER)
        num_frames, height, width = sizes
        decode = lambda first, last, rows, cols: _depth_frames(raw[DEPTH_MEMBER], sizes, first, last, rows, cols)  # noqa: E731
    else:
        stored = _npy_view(raw["depth.npy"], "depth.npy")
        if stored.ndim != 3 or stored.dtype != np.float32:
            raise ValueError(f"depth: expected float32 (T, H, W), got {stored.dtype} {stored.shape}")
        num_frames, height, width = stored.shape
        decode = lambda first, last, rows, cols: (0, stored.take(rows, axis=1).take(cols, axis=2))  # noqa: E731
    camera = _npz(raw["camera.npz"], "camera.npz", ("K", "cam_from_world"))
    pose = _npz(raw["pose.npz"], "pose.npz", POSE_ARRAYS)
    if camera["K"].shape != (num_frames, 3, 3) or camera["cam_from_world"].shape != (num_frames, 4, 4):
        raise ValueError(f"camera.npz: shapes {camera['K'].shape}, {camera['cam_from_world'].shape} for {num_frames} frames")
    joints3d, joints2d, joints_valid = pose["joints3d"], pose["joints2d"], pose["joints_valid"]
    if joints3d.ndim != 4 or joints3d.shape[1:] != (num_frames, 55, 3) or joints2d.shape[:-1] != joints3d.shape[:-1]:
        raise ValueError(f"pose.npz: joints shapes {joints3d.shape}, {joints2d.shape} for {num_frames} frames")

    indices = choose_frames(num_frames, config.frames, config.strides, rng)
    size = (config.height, config.width)
    box = crop_box(height, width, *size)
    rows, cols = nearest_pixels(box, size)
    with ThreadPoolExecutor(1) as beside:  # zlib, numpy and PyAV release the GIL: depth and video overlap
        depth_frames = beside.submit(decode, int(indices[0]), int(indices[-1]), rows, cols)
        rgb = decode_frames(raw[VIDEO_MEMBER], indices)  # (F, H, W, 3)
        depth_start, depth = depth_frames.result()  # (t, h, w): the crop's pixels from frame depth_start
    if rgb.shape[1:3] != (height, width):
        raise ValueError(f"rgb.mp4: frames are {rgb.shape[2]}x{rgb.shape[1]}, depth is {width}x{height}")
    scale_y, scale_x = config.height / box[2], config.width / box[3]
    video = resize_frames(rgb, box, size)
    depth_out = depth[indices - depth_start]

    cam_from_world = camera["cam_from_world"][indices]
    K = adjust_intrinsics(camera["K"][indices], box[0], box[1], scale_y, scale_x)
    persons = min(joints3d.shape[0], config.max_persons)
    shape = (config.max_persons, config.frames, 55)
    joints_cam = np.zeros((*shape, 3), np.float32)
    pixels = np.full((*shape, 2), PROJECTION_UNDEFINED, np.float32)
    valid = np.zeros((config.max_persons, 55), bool)
    world = joints3d[:persons][:, indices].astype(np.float64)  # (p, F, 55, 3)
    rotation, translation = cam_from_world[:, :3, :3], cam_from_world[:, :3, 3]
    joints_cam[:persons] = np.einsum("fij,pfkj->pfki", rotation, world) + translation[None, :, None, :]
    pixels[:persons] = adjust_pixels(joints2d[:persons][:, indices], box[0], box[1], scale_y, scale_x)
    valid[:persons] = joints_valid[:persons]
    example = {
        "video": video,
        "depth": np.ascontiguousarray(depth_out, dtype=np.float32),
        "K": K,
        "cam_from_world": cam_from_world.astype(np.float32),
        "joints3d_cam": joints_cam,
        "joints2d": pixels,
        "joints_valid": valid,
        "person_mask": np.arange(config.max_persons) < persons,
        "caption": caption(meta),
        "fps": np.float32(meta.get("fps", 24.0) / (indices[1] - indices[0] if len(indices) > 1 else 1)),
    }
    if skeletons:
        example["skeleton"] = skeleton_maps(pixels, valid, *size).transpose(0, 3, 1, 2).copy()
    if person_pixels:
        if SEG_MEMBER in raw:
            limit = inflated_limits(num_frames, height, width)[SEG_MEMBER]
            segmentation = _npz(raw[SEG_MEMBER], SEG_MEMBER, (SEG_ARRAY,), limit)[SEG_ARRAY]
        elif "seg.npy" in raw:
            segmentation = _npy_view(raw["seg.npy"], "seg.npy")
        else:
            raise ValueError(f"missing member {SEG_MEMBER}")
        if segmentation.shape != (num_frames, height, width):
            raise ValueError(f"segmentation: shape {segmentation.shape}, depth is {(num_frames, height, width)}")
        people = [row["id"] for row in meta.get("instances", []) if isinstance(row, dict) and row.get("kind") == "person"]
        example["person_pixels"] = resize_nearest(np.isin(segmentation[indices], people), box, size)
    return example


def decode_cached(raw: dict) -> dict:
    """A cache sample (member -> bytes) -> example arrays for ``collate`` (no unpickling; sizes checked)."""
    if "inputs.npz" not in raw:
        raise ValueError("missing member inputs.npz")
    arrays = load_npz(raw["inputs.npz"], "inputs.npz")
    for name in ("latents", "cond"):
        if name not in arrays or arrays[name].dtype != np.float32 or arrays[name].ndim != 4:
            raise ValueError(f"inputs.npz/{name}: expected float32 (C, T, h, w)")
    example = {name: np.ascontiguousarray(value) for name, value in arrays.items()}
    example["caption"] = raw.get("caption.txt", b"").decode("utf-8", errors="replace")
    return example
