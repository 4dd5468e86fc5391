"""Sample schema v6: the members of one WebDataset sample (one clip), their dtypes and shapes.

Shapes use symbols: T frames, H height, W width, P persons, O objects (ground and props),
E contact events; integers are literal sizes. docs/conventions.md carries the same table
(checked by a test).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from worldclips.shards.format.layer_registry import LAYERS
from worldclips.shards.format.layers import DEPTH_CHUNK_FRAMES, depth_chunk_name, depth_chunk_names

DEPTH_CHUNK_ARRAYS = depth_chunk_name(0)[:-3] + "<i>"  # the depth chunks' row of the schema

SCHEMA_VERSION = 6
# validate reads all: v1 has no pose.npz/foot_contact; v1 and v2 have no contacts.npz and no
# objects.npz velocities; v1-v3 store depth and segmentation raw (depth.npy, seg.npy), v4
# compressed and losslessly (depth.npz, seg.npz: shards.format.layers); v5 adds meta.json's
# ``layers`` and the optional layer members it lists (normals.npz, flow.npz, tracks.npz:
# shards.format.layer_registry); v6 stores depth.npz in chunks of 8 frames (a reader inflates only
# the frames it needs).
SUPPORTED_SCHEMA_VERSIONS = (1, 2, 3, 4, 5, 6)
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]+-\d{8}$")
RUN_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SHARD_PATTERN = re.compile(r"^shard-\d{6}\.tar$")
MANIFEST_NAME = "manifest.json"
MAX_FRAMES = 2000  # frames of one clip
MAX_SIDE = 4096  # pixels of a clip's width or height
CONFIG_NAME = "config.yaml"
# The conventions every meta.json restates (docs/conventions.md quotes them verbatim).
CONVENTIONS = {
    "world": "right-handed, +Z up, ground z=0, metres, seconds, radians",
    "camera": "OpenCV (+X right, +Y down, +Z forward), K in pixels, integer pixel coordinates are pixel centres",
    "depth": "planar camera z, float32 metres, 0 = no surface",
    "segmentation": "uint16 instance ids, 0 = no object",
    "smplx": "axis-angle, no hand PCA, flat_hand_mean=true, Z-up world (AMASS style), 55 joints",
    "transforms": "a_from_b maps points in frame b to frame a",
}


@dataclass(frozen=True)
class ArraySpec:
    """dtype (numpy name), shape (symbols or ints), meaning and the schema version that added it."""

    dtype: str
    shape: tuple[str | int, ...]
    description: str
    since: int = 1
    until: int | None = None  # the last schema version that has it (None: still current)


# Members stored as a single .npy array (schema v1-v3; v4 stores them in depth.npz and seg.npz).
NPY_MEMBERS: dict[str, ArraySpec] = {
    "depth.npy": ArraySpec("float32", ("T", "H", "W"), "planar camera z in metres, 0 where no surface (v1-v3; v4: depth.npz)"),
    "seg.npy": ArraySpec("uint16", ("T", "H", "W"), "instance id per pixel, 0 where no object (v1-v3; v4: seg.npz)"),
}

# Members stored as .npz archives of named arrays.
NPZ_MEMBERS: dict[str, dict[str, ArraySpec]] = {
    "camera.npz": {
        "K": ArraySpec("float64", ("T", 3, 3), "intrinsics in pixels, pixel centres at integers"),
        "cam_from_world": ArraySpec("float64", ("T", 4, 4), "OpenCV extrinsics"),
    },
    "pose.npz": {
        "global_orient": ArraySpec("float32", ("P", "T", 3), "pelvis axis-angle, Z-up world"),
        "body_pose": ArraySpec("float32", ("P", "T", 21, 3), "body joints axis-angle"),
        "left_hand_pose": ArraySpec("float32", ("P", "T", 15, 3), "axis-angle, relative to the flat hand"),
        "right_hand_pose": ArraySpec("float32", ("P", "T", 15, 3), "axis-angle, relative to the flat hand"),
        "jaw_pose": ArraySpec("float32", ("P", "T", 3), "axis-angle"),
        "leye_pose": ArraySpec("float32", ("P", "T", 3), "axis-angle"),
        "reye_pose": ArraySpec("float32", ("P", "T", 3), "axis-angle"),
        "betas": ArraySpec("float32", ("P", 10), "shape coefficients"),
        "expression": ArraySpec("float32", ("P", "T", 10), "expression coefficients"),
        "transl": ArraySpec("float32", ("P", "T", 3), "metres; pelvis = transl + rest pelvis"),
        "joints3d": ArraySpec("float32", ("P", "T", 55, 3), "SMPL-X joints in the world, metres"),
        "joints2d": ArraySpec("float32", ("P", "T", 55, 2), "pixels; -1 where the joint is behind the camera"),
        "joints_visible": ArraySpec("bool", ("P", "T", 55), "in the image and not occluded"),
        "joints_valid": ArraySpec("bool", ("P", 55), "the body model gives the joint exactly"),
        "instance_id": ArraySpec("int32", ("P",), "segmentation id of each person"),
        "foot_contact": ArraySpec(
            "bool", ("P", "T", 4), "left heel, left toe, right heel, right toe on the ground and not sliding (v2)", since=2
        ),
    },
    "objects.npz": {
        "world_from_object": ArraySpec("float64", ("O", "T", 4, 4), "rigid pose of the ground and every prop"),
        "instance_id": ArraySpec("int32", ("O",), "segmentation id of each object"),
        "linear_velocity": ArraySpec("float64", ("O", "T", 3), "world velocity of the object's origin, m/s; 0 for static objects (v3)", since=3),
        "angular_velocity": ArraySpec("float64", ("O", "T", 3), "world angular velocity, rad/s; 0 for static objects (v3)", since=3),
    },
    "depth.npz": {
        "depth_delta_bytes": ArraySpec(
            "uint8", (4, "T", "H", "W"),
            "bytes of the time differences of planar camera z's float32 bits; decodes losslessly to (T, H, W) metres, 0 where no surface (v4-v5)",
            since=4, until=5,
        ),
        DEPTH_CHUNK_ARRAYS: ArraySpec(
            "uint8", (4, "t", "H", "W"),
            f"chunk i (000, 001, ...): frames {DEPTH_CHUNK_FRAMES}i on, t = {DEPTH_CHUNK_FRAMES} (the last chunk: the rest); "
            "bytes of the time differences of planar camera z's float32 bits within the chunk; decode losslessly to metres, 0 where no surface (v6)",
            since=6,
        ),
    },
    "seg.npz": {
        "seg": ArraySpec("uint16", ("T", "H", "W"), "instance id per pixel, 0 where no object (v4, deflated)", since=4),
    },
    "contacts.npz": {
        "frame": ArraySpec("int32", ("E",), "frame of the contact event (v3)", since=3),
        "instance_a": ArraySpec("int32", ("E",), "instance id of one body, the smaller id (v3)", since=3),
        "instance_b": ArraySpec("int32", ("E",), "instance id of the other body, a < b (v3)", since=3),
        "position": ArraySpec("float64", ("E", 3), "mean world contact point, metres (v3)", since=3),
        "normal": ArraySpec("float64", ("E", 3), "unit contact normal in the world, from a to b (v3)", since=3),
        "impulse": ArraySpec("float64", ("E",), "normal impulse over the frame, N*s; 0 for kinematic contacts (v3)", since=3),
    },
}
# Members added after v1: the schema version that added them.
MEMBER_SINCE = {"contacts.npz": 3, "depth.npz": 4, "seg.npz": 4}
# Members dropped after a version: the last schema version that has them.
MEMBER_UNTIL = {"depth.npy": 3, "seg.npy": 3}

VIDEO_MEMBER = "rgb.mp4"
META_MEMBER = "meta.json"
MEMBERS: tuple[str, ...] = tuple(sorted([META_MEMBER, VIDEO_MEMBER, *NPY_MEMBERS, *NPZ_MEMBERS]))

# Fields every meta.json carries.
META_FIELDS: tuple[str, ...] = (
    "schema_version", "clip_id", "run", "run_seed", "clip_index", "fps", "num_frames", "width", "height",
    "scenario", "scenario_params", "spec", "instances", "body_model", "renderer", "conventions", "versions",
)  # fmt: skip
META_FIELDS_SINCE = {"layers": 5}  # fields added later: the schema version that added them
INSTANCE_FIELDS: tuple[str, ...] = ("id", "name", "category", "dynamic", "kind")


def members(version: int = SCHEMA_VERSION) -> tuple[str, ...]:
    """The members of a sample of schema ``version``, sorted."""
    return tuple(name for name in MEMBERS if MEMBER_SINCE.get(name, 1) <= version <= MEMBER_UNTIL.get(name, version))


def npz_members(version: int = SCHEMA_VERSION) -> tuple[str, ...]:
    """The .npz members of a sample of schema ``version``."""
    return tuple(name for name in NPZ_MEMBERS if MEMBER_SINCE.get(name, 1) <= version)


def npy_members(version: int = SCHEMA_VERSION) -> tuple[str, ...]:
    """The .npy members of a sample of schema ``version`` (none from v4)."""
    return tuple(name for name in NPY_MEMBERS if version <= MEMBER_UNTIL.get(name, version))


def npz_arrays(member: str, version: int = SCHEMA_VERSION) -> dict[str, ArraySpec]:
    """The arrays of an .npz member in samples of schema ``version`` (``depth_delta_bytes_<i>``
    stands for the depth chunks: ``chunked_arrays`` lists them for a clip)."""
    return {name: spec for name, spec in NPZ_MEMBERS[member].items() if spec.since <= version <= (spec.until or version)}


def chunked_arrays(specs: dict[str, ArraySpec], sizes: dict[str, int]) -> dict[str, tuple[str, tuple[int, ...]]]:
    """name -> (dtype, shape) of every array a member of a clip of ``sizes`` holds, the depth chunks
    (``depth_delta_bytes_<i>``) spelled out."""
    arrays = {}
    for name, spec in specs.items():
        if name != DEPTH_CHUNK_ARRAYS:
            arrays[name] = (spec.dtype, resolve_shape(spec.shape, sizes))
            continue
        for index, chunk in enumerate(depth_chunk_names(sizes["T"])):
            frames = min(DEPTH_CHUNK_FRAMES, sizes["T"] - index * DEPTH_CHUNK_FRAMES)
            arrays[chunk] = (spec.dtype, resolve_shape(spec.shape, {**sizes, "t": frames}))
    return arrays


def resolve_shape(shape: tuple[str | int, ...], sizes: dict[str, int]) -> tuple[int, ...]:
    """Replace shape symbols by their sizes, e.g. ("T", 3) with {"T": 48} -> (48, 3)."""
    return tuple(sizes[d] if isinstance(d, str) else d for d in shape)


def sample_key(run: str, clip_index: int) -> str:
    """``<run>-<index:08d>``: no dots, so WebDataset keeps the key whole."""
    if not RUN_NAME_PATTERN.match(run):
        raise ValueError(f"run_name: expected 1-64 letters, digits, '_' or '-', got {run!r}")
    if not 0 <= clip_index < 10**8:
        raise ValueError(f"clip index: expected 0..99999999, got {clip_index}")
    return f"{run}-{clip_index:08d}"


def shard_name(index: int) -> str:
    return f"shard-{index:06d}.tar"


def schema_table() -> str:
    """The markdown table of every array member (embedded in docs/conventions.md)."""
    rows = ["| member | array | dtype | shape | meaning |", "|---|---|---|---|---|"]
    for member, spec in NPY_MEMBERS.items():
        rows.append(f"| {member} | | {spec.dtype} | ({', '.join(map(str, spec.shape))}) | {spec.description} |")
    for member, arrays in NPZ_MEMBERS.items():
        for name, spec in arrays.items():
            rows.append(f"| {member} | {name} | {spec.dtype} | ({', '.join(map(str, spec.shape))}) | {spec.description} |")
    for layer in LAYERS.values():
        if not layer.required:
            rows.append(f"| {layer.member} | | | | optional layer `{layer.name}` (v5, listed in meta.json `layers`): {layer.stored} |")
    return "\n".join(rows)
