"""Reading shards back: tar members grouped by sample key, decoded without unpickling."""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from worldclips.shards.format.sample import load_npy, load_npz
from worldclips.shards.format.schema import MANIFEST_NAME
from worldclips.shards.format.video import decode_mp4


class ShardFormatError(ValueError):
    """A shard file is not a tar of regular ``<key>.<member>`` files."""


def read_shard(path: Path) -> dict[str, dict[str, bytes]]:
    """Samples of a tar shard in file order: key -> member name -> bytes."""
    samples: dict[str, dict[str, bytes]] = {}
    with tarfile.open(path, mode="r:") as archive:
        for info in archive:
            if not info.isfile():
                raise ShardFormatError(f"{info.name}: not a regular file")
            key, dot, member = info.name.partition(".")
            if not dot:
                raise ShardFormatError(f"{info.name}: member name has no extension")
            samples.setdefault(key, {})[member] = archive.extractfile(info).read()
    return samples


@dataclass(frozen=True, eq=False)
class DecodedSample:
    """One sample's members as arrays (see shards.format.schema for shapes)."""

    key: str
    meta: dict
    rgb: np.ndarray
    depth: np.ndarray
    segmentation: np.ndarray
    camera: dict[str, np.ndarray]
    pose: dict[str, np.ndarray]
    objects: dict[str, np.ndarray]
    contacts: dict[str, np.ndarray] | None = None  # schema v3 on


def decode_sample(key: str, members: dict[str, bytes]) -> DecodedSample:
    return DecodedSample(
        key=key,
        meta=json.loads(members["meta.json"]),
        rgb=decode_mp4(members["rgb.mp4"]),
        depth=load_npy(members["depth.npy"], "depth.npy"),
        segmentation=load_npy(members["seg.npy"], "seg.npy"),
        camera=load_npz(members["camera.npz"], "camera.npz"),
        pose=load_npz(members["pose.npz"], "pose.npz"),
        objects=load_npz(members["objects.npz"], "objects.npz"),
        contacts=load_npz(members["contacts.npz"], "contacts.npz") if "contacts.npz" in members else None,
    )


def shard_paths(directory: str | Path) -> list[Path]:
    """Shard files of a dataset in manifest order (or sorted when the manifest is missing)."""
    directory = Path(directory)
    manifest = directory / MANIFEST_NAME
    if manifest.is_file():
        return [directory / entry["name"] for entry in json.loads(manifest.read_text())["shards"]]
    return sorted(directory.glob("shard-*.tar"))


def iter_samples(directory: str | Path) -> Iterator[DecodedSample]:
    for path in shard_paths(directory):
        for key, members in read_shard(path).items():
            yield decode_sample(key, members)
