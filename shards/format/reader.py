"""Reading shards back: tar members grouped by sample key, decoded without unpickling.

A dataset is a local directory or an fsspec URL (``s3://bucket/prefix``, ``gs://...``,
``memory://...``; ``file://`` is a local path); remote shards are streamed, never copied to disk,
and nothing is ever written there.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from worldclips.motions.safe_arrays import load_npy, load_npz
from worldclips.shards.format.layer_registry import LAYERS, inflated_limits
from worldclips.shards.format.layers import DEPTH_MEMBER, SEG_MEMBER, decode_depth
from worldclips.shards.format.meta_schema import expanded
from worldclips.shards.format.names import UnsafeName, shard_inside, shard_url_inside, shown, split_member
from worldclips.shards.format.schema import MANIFEST_NAME, MAX_FRAMES, MAX_SIDE, SHARD_PATTERN
from worldclips.shards.format.storage import is_url, open_storage
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


class ShardDigestError(ShardFormatError):
    """A shard's bytes differ from the size or sha256 its manifest records."""


def dataset_root(dataset: str | Path) -> Path | str:
    """A local directory as a Path (``file://`` URLs too), any other URL as a string without a trailing /."""
    text = str(dataset)
    if text.startswith("file://"):
        return Path(text[len("file://"):])
    return text.rstrip("/") if is_url(text) else Path(dataset)


def open_binary(location: str | Path):
    """A binary stream of a local file or an fsspec URL (read in blocks, nothing copied to disk)."""
    if isinstance(location, Path) or not is_url(str(location)):
        return open(dataset_root(location), "rb")
    import fsspec

    return fsspec.open(str(location), "rb").open()


def _members(archive: tarfile.TarFile, where: str, stop_after_first: bool = False) -> dict[str, dict[str, bytes]]:
    samples: dict[str, dict[str, bytes]] = {}
    for count, info in enumerate(archive):
        if count >= MAX_MEMBERS:
            raise ShardFormatError(f"{where}: more than {MAX_MEMBERS} members")
        key, member = check_member_header(info, where)
        if stop_after_first and samples and key not in samples:
            break
        samples.setdefault(key, {})[member] = archive.extractfile(info).read()
    return samples


def read_shard(path: str | Path, stop_after_first: bool = False) -> dict[str, dict[str, bytes]]:
    """Samples of a tar shard (a path or an fsspec URL, streamed) in file order: key -> member
    name -> bytes (names and sizes checked first); only the first sample with ``stop_after_first``."""
    where = str(path).rstrip("/").rpartition("/")[2]
    try:
        if isinstance(path, Path) or not is_url(str(path)):
            with tarfile.open(dataset_root(path), mode="r:") as archive:
                return _members(archive, where, stop_after_first)
        with open_binary(path) as handle, tarfile.open(fileobj=handle, mode="r|") as archive:
            return _members(archive, where, stop_after_first)
    except tarfile.TarError as error:
        raise ShardFormatError(f"{where}: not a readable tar ({error})") from None


def first_sample(shard: str | Path) -> dict[str, bytes]:
    """The members of a shard's first sample (the stream stops there)."""
    samples = read_shard(shard, stop_after_first=True)
    return next(iter(samples.values()), {})


class _Hashing:
    """A read-only stream that hashes what passes through it and refuses more than ``limit`` bytes."""

    def __init__(self, raw, limit: int, where: str):
        self.raw, self.limit, self.where = raw, limit, where
        self.sha, self.size = hashlib.sha256(), 0

    def read(self, size: int = -1) -> bytes:
        want = self.limit + 1 - self.size if size is None or size < 0 else min(size, self.limit + 1 - self.size)
        data = self.raw.read(max(want, 0)) if want > 0 else b""
        self.size += len(data)
        self.sha.update(data)
        if self.size > self.limit:
            raise ShardDigestError(f"{self.where}: more bytes than the {self.limit} the manifest records")
        return data

    def drain(self) -> None:
        while self.read(1 << 22):
            pass


def read_verified_shard(location: str | Path, size: object, sha256: object) -> dict[str, dict[str, bytes]]:
    """``read_shard`` in one pass that also hashes the bytes as they stream: ShardDigestError when
    they differ from the manifest's ``size`` and ``sha256`` (reading stops past ``size`` bytes),
    ShardFormatError when the tar is unreadable; the samples only when both agree."""
    where = str(location).rstrip("/").rpartition("/")[2]
    if isinstance(size, bool) or not isinstance(size, int) or size < 0 or not isinstance(sha256, str):
        raise ShardDigestError(f"{where}: the manifest records no valid size and sha256")
    samples, problem = None, None
    with open_binary(location) as raw:
        stream = _Hashing(raw, size, where)
        try:
            with tarfile.open(fileobj=stream, mode="r|") as archive:
                samples = _members(archive, where)
        except ShardDigestError:
            raise
        except (tarfile.TarError, ShardFormatError, EOFError) as error:
            problem = error
        stream.drain()
    if stream.size != size or stream.sha.hexdigest() != sha256:
        raise ShardDigestError(f"{where}: size or sha256 differs from the manifest")
    if problem is not None:
        raise ShardFormatError(f"{where}: not a readable tar ({problem})") from None
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
    layers: dict[str, object] | None = None  # optional layers (v5): name -> decoded (shards.format.layer_registry)


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


def optional_layers(members: dict[str, bytes], sizes: tuple[int, int, int]) -> dict[str, object]:
    """The optional layers present (normals, flow, tracks), decoded; declared sizes checked first."""
    limits = inflated_limits(*sizes)
    return {layer.name: layer.decode(load_npz(members[layer.member], layer.member, max_bytes=limits[layer.member]), layer.member)
            for layer in LAYERS.values() if not layer.required and layer.member in members}  # fmt: skip


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
            layers=optional_layers(members, sizes),
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
    """A dataset's manifest.json (local or a URL), read (at most one byte past the limit) and parsed."""
    root = dataset_root(directory)
    where = str(root / MANIFEST_NAME) if isinstance(root, Path) else f"{root}/{MANIFEST_NAME}"
    with open_binary(root / MANIFEST_NAME if isinstance(root, Path) else where) as handle:
        return parse_manifest(handle.read(MAX_MANIFEST_BYTES + 1), where)


def shard_location(dataset: str | Path, name: object, where: str) -> Path | str:
    """Where a shard named by a manifest is: a path inside a local dataset (names.shard_inside) or
    a URL under a remote one (names.shard_url_inside); the name is checked either way."""
    root = dataset_root(dataset)
    try:
        return shard_inside(root, name, where) if isinstance(root, Path) else shard_url_inside(root, name, where)
    except UnsafeName as error:
        raise ShardFormatError(str(error)) from None


def shard_locations(dataset: str | Path) -> list[Path | str]:
    """``shard_paths`` of a local dataset; of a remote one, the shards its manifest lists (or, with
    no manifest, its shard-NNNNNN.tar objects, sorted)."""
    root = dataset_root(dataset)
    if isinstance(root, Path):
        return shard_paths(root)
    storage = open_storage(root, role="dataset")
    where = f"{root}/{MANIFEST_NAME}"
    if MANIFEST_NAME in storage.names():
        return [shard_location(root, entry["name"], where) for entry in read_manifest(root)["shards"]]
    return [shard_location(root, name, root) for name in storage.names() if SHARD_PATTERN.fullmatch(name)]


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
    """Every sample of a dataset (a local directory or a URL), decoded, in manifest order."""
    for path in shard_locations(directory):
        for key, members in read_shard(path).items():
            yield decode_sample(key, members)
