"""Reading shards back: tar members grouped by sample key, decoded without unpickling."""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from worldclips.motions.safe_arrays import load_npy, load_npz
from worldclips.shards.format.layers import DEPTH_MEMBER, SEG_MEMBER, decode_depth, inflated_limits
from worldclips.shards.format.names import UnsafeName, shard_inside, shown, split_member
from worldclips.shards.format.meta_schema import expanded
from worldclips.shards.format.schema import MANIFEST_NAME, MAX_FRAMES, MAX_SIDE, SHARD_PATTERN
from worldclips.shards.format.video import decode_mp4


MAX_MEMBER_BYTES = 1 << 30  # one member of a shard (a 4096x4096x2000-frame clip is refused by generate)
MAX_MEMBERS = 1 << 16


class ShardFormatError(ValueError):
    """A shard file is not a tar of regular ``<key>.<member>`` files."""


def check_member_header(info: tarfile.TarInfo, where: str) -> tuple[str, str]:
    """(key, member) of a tar member, after its type, size and name are checked (nothing read yet)."""
    if not info.isfile():
        raise ShardFormatError(f"{where}: member {shown(info.name)} is not a regular file")
    if info.issparse():
        raise ShardFormatError(f"{where}: member {shown(info.name)} is a sparse file")
    if info.size > MAX_MEMBER_BYTES:
        raise ShardFormatError(f"{where}: member {shown(info.name)} declares {info.size} bytes, more than {MAX_MEMBER_BYTES}")
    try:
        return split_member(info.name, where)
    except UnsafeName as error:
        raise ShardFormatError(str(error)) from None


def read_shard(path: Path) -> dict[str, dict[str, bytes]]:
    """Samples of a tar shard in file order: key -> member name -> bytes (names and sizes checked first)."""
    samples: dict[str, dict[str, bytes]] = {}
    where = Path(path).name
    try:
        with tarfile.open(path, mode="r:") as archive:
            for count, info in enumerate(archive):
                if count >= MAX_MEMBERS:
                    raise ShardFormatError(f"{where}: more than {MAX_MEMBERS} members")
                key, member = check_member_header(info, where)
                samples.setdefault(key, {})[member] = archive.extractfile(info).read()
    except tarfile.TarError as error:
        raise ShardFormatError(f"{where}: not a readable tar ({error})") from None
    return samples


@dataclass(frozen=True, eq=False)
class DecodedSample:
    """One sample's members as arrays (see shards.format.schema for shapes); ``meta``: meta.json with
    its JSON text fields parsed (shards.format.meta_schema.expanded)."""

    key: str
    meta: dict
    rgb: np.ndarray
    depth: np.ndarray
    segmentation: np.ndarray
    camera: dict[str, np.ndarray]
    pose: dict[str, np.ndarray]
    objects: dict[str, np.ndarray]
    contacts: dict[str, np.ndarray] | None = None  # schema v3 on


REQUIRED_MEMBERS = ("meta.json", "rgb.mp4", "camera.npz", "pose.npz", "objects.npz")
LAYER_MEMBERS = {"npy": ("depth.npy", "seg.npy"), "npz": (DEPTH_MEMBER, SEG_MEMBER)}  # schema v1-v3, v4 on


def depth_and_segmentation(members: dict[str, bytes], sizes: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(T, H, W) float32 depth and uint16 ids from a sample's layer members, whichever schema
    stored them (raw .npy, or the compressed .npz of shards.format.layers: their declared sizes
    are checked against the clip's before anything is inflated)."""
    if DEPTH_MEMBER in members:
        limits = inflated_limits(*sizes)
        depth = decode_depth(load_npz(members[DEPTH_MEMBER], DEPTH_MEMBER, max_bytes=limits[DEPTH_MEMBER]))
        seg_arrays = load_npz(members[SEG_MEMBER], SEG_MEMBER, max_bytes=limits[SEG_MEMBER])
        if "seg" not in seg_arrays:
            raise ShardFormatError(f"{SEG_MEMBER}: no 'seg' array")
        return depth, seg_arrays["seg"]
    return load_npy(members["depth.npy"], "depth.npy"), load_npy(members["seg.npy"], "seg.npy")


def decode_sample(key: str, members: dict[str, bytes]) -> DecodedSample:
    """Decode one sample's members; a missing or unreadable member raises a ValueError naming it."""
    layers = LAYER_MEMBERS["npz" if DEPTH_MEMBER in members or SEG_MEMBER in members else "npy"]
    missing = [name for name in (*REQUIRED_MEMBERS, *layers) if name not in members]
    if missing:
        raise ShardFormatError(f"{key}: missing member {missing[0]}")
    try:
        meta = json.loads(members["meta.json"])
    except ValueError as error:
        raise ShardFormatError(f"{key}.meta.json: not valid JSON ({error})") from None
    if not isinstance(meta, dict):
        raise ShardFormatError(f"{key}.meta.json: expected a JSON object")
    sizes = clip_sizes(meta, f"{key}.meta.json")
    try:
        depth, segmentation = depth_and_segmentation(members, sizes)
        sample = DecodedSample(
            key=key,
            meta=expanded(meta),
            rgb=decode_mp4(members["rgb.mp4"], sizes),
            depth=depth,
            segmentation=segmentation,
            camera=load_npz(members["camera.npz"], "camera.npz"),
            pose=load_npz(members["pose.npz"], "pose.npz"),
            objects=load_npz(members["objects.npz"], "objects.npz"),
            contacts=load_npz(members["contacts.npz"], "contacts.npz") if "contacts.npz" in members else None,
        )
    except ShardFormatError:
        raise
    except ValueError as error:  # a member that does not decode
        raise ShardFormatError(f"{key}: {error}") from None
    for name, array in zip(layers, (sample.depth, sample.segmentation)):
        if array.shape != sizes:
            raise ShardFormatError(f"{key}.{name}: shape {array.shape}, meta.json declares {sizes}")
    return sample



def clip_sizes(meta: dict, where: str) -> tuple[int, int, int]:
    """(T, H, W) a meta.json declares, each an integer in range (the bounds generate accepts)."""
    sizes = []
    for name, high in (("num_frames", MAX_FRAMES), ("height", MAX_SIDE), ("width", MAX_SIDE)):
        value = meta.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
            raise ShardFormatError(f"{where}: {name}: expected an integer in 1..{high}, got {shown(value)}")
        sizes.append(value)
    return tuple(sizes)


MAX_MANIFEST_BYTES = 64 << 20


def parse_manifest(data: bytes, where: str) -> dict:
    """A manifest's bytes (local or remote) -> its JSON, size and structure checked; errors name ``where``."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise ShardFormatError(f"{where}: more than the {MAX_MANIFEST_BYTES} bytes a manifest may have")
    try:
        manifest = json.loads(data)
    except ValueError as error:
        raise ShardFormatError(f"{where}: not valid JSON ({error})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("shards"), list):
        raise ShardFormatError(f"{where}: not a worldclips manifest (no shards list)")
    if not all(isinstance(entry, dict) and "name" in entry for entry in manifest["shards"]):
        raise ShardFormatError(f"{where}: every shards entry needs a name")
    return manifest


def read_manifest(directory: str | Path) -> dict:
    """A dataset's manifest.json, read (at most one byte past the limit) and parsed."""
    path = Path(directory) / MANIFEST_NAME
    with open(path, "rb") as handle:
        return parse_manifest(handle.read(MAX_MANIFEST_BYTES + 1), str(path))


def shard_paths(directory: str | Path) -> list[Path]:
    """Shard files of a dataset in manifest order (or sorted when the manifest is missing); every
    name is checked and must resolve inside the dataset (names.shard_inside)."""
    directory = Path(directory)
    if (directory / MANIFEST_NAME).is_file():
        where = str(directory / MANIFEST_NAME)
        try:
            return [shard_inside(directory, entry["name"], where) for entry in read_manifest(directory)["shards"]]
        except UnsafeName as error:
            raise ShardFormatError(str(error)) from None
    paths = sorted(p for p in directory.glob("shard-*.tar") if SHARD_PATTERN.fullmatch(p.name))
    try:
        return [shard_inside(directory, p.name, str(directory)) for p in paths]
    except UnsafeName as error:
        raise ShardFormatError(str(error)) from None


def iter_samples(directory: str | Path) -> Iterator[DecodedSample]:
    for path in shard_paths(directory):
        for key, members in read_shard(path).items():
            yield decode_sample(key, members)
