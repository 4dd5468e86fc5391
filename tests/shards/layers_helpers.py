"""Test helpers: a sample's depth and segmentation in and out of its layer members (schema v4
compressed .npz, or the raw .npy members of schema v1-v3)."""

from __future__ import annotations

import numpy as np

from worldclips.motions.safe_arrays import load_npz
from worldclips.shards.format.layers import DEPTH_MEMBER, SEG_MEMBER, decode_depth, encode_depth
from worldclips.shards.format.sample import npy_bytes, npz_bytes


def layers(members: dict[str, bytes]) -> tuple[np.ndarray, np.ndarray]:
    """(depth, segmentation) of a v4 sample's members."""
    return decode_depth(load_npz(members[DEPTH_MEMBER])), load_npz(members[SEG_MEMBER])["seg"]


def set_depth(members: dict[str, bytes], depth: np.ndarray) -> None:
    members[DEPTH_MEMBER] = npz_bytes(encode_depth(depth), deflate=True)


def set_segmentation(members: dict[str, bytes], segmentation: np.ndarray) -> None:
    members[SEG_MEMBER] = npz_bytes({"seg": segmentation}, deflate=True)  # any dtype: tests write wrong ones


def as_raw_layers(members: dict[str, bytes]) -> None:
    """Replace a v4 sample's compressed layers by the raw depth.npy / seg.npy of schema v1-v3."""
    depth, segmentation = layers(members)
    del members[DEPTH_MEMBER], members[SEG_MEMBER]
    members["depth.npy"], members["seg.npy"] = npy_bytes(depth), npy_bytes(segmentation)
