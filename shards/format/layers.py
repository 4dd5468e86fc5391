"""Lossless, compact storage of the depth and segmentation layers (schema v4), readable with numpy.

``depth.npz`` holds ``depth_delta_bytes``: (4, T, H, W) uint8. The float32 depth's bit patterns
(little-endian uint32) are differenced along time (frame 0 kept, then frame t minus frame t-1,
wrapping modulo 2^32), and the four bytes of each difference are stored as four planes, so that
deflate sees long runs (a static surface differences to zero; the high bytes barely change).
``seg.npz`` holds ``seg``: (T, H, W) uint16, deflated. Both archives use deflate with fixed
timestamps (byte-identical for the same clip; written by ``shards.format.sample.npz_bytes``). numpy alone reads them back exactly::

    planes = np.load("depth.npz")["depth_delta_bytes"]                      # (4, T, H, W) uint8
    delta = np.moveaxis(planes, 0, -1).copy().view("<u4")[..., 0]            # (T, H, W) uint32
    depth = np.cumsum(delta, axis=0, dtype=np.uint32).view("<f4")            # (T, H, W) float32
    seg = np.load("seg.npz")["seg"]                                          # (T, H, W) uint16

(``decode_depth`` below is that recipe.) A default clip's depth shrinks about 6x and its
segmentation about 100x against the raw .npy members of schema v3.
"""

from __future__ import annotations

import numpy as np

DEPTH_MEMBER, SEG_MEMBER = "depth.npz", "seg.npz"
DEPTH_ARRAY, SEG_ARRAY = "depth_delta_bytes", "seg"
NPY_HEADER_SLACK = 4096  # an .npy header's bytes, beyond its array's


def inflated_limits(frames: int, height: int, width: int) -> dict[str, int]:
    """The most bytes each layer member of a (frames, height, width) clip may declare when inflated."""
    pixels = frames * height * width
    return {DEPTH_MEMBER: 4 * pixels + NPY_HEADER_SLACK, SEG_MEMBER: 2 * pixels + NPY_HEADER_SLACK}


def encode_depth(depth: np.ndarray) -> dict[str, np.ndarray]:
    """(T, H, W) float32 depth -> {"depth_delta_bytes": (4, T, H, W) uint8} (see the module docstring)."""
    depth = np.ascontiguousarray(depth, dtype="<f4")
    if depth.ndim != 3:
        raise ValueError(f"depth: expected (T, H, W), got shape {depth.shape}")
    bits = depth.view("<u4")
    delta = bits.copy()
    delta[1:] -= bits[:-1]  # uint32: wraps modulo 2^32, undone exactly by a uint32 cumsum
    return {DEPTH_ARRAY: np.ascontiguousarray(np.moveaxis(delta.view(np.uint8).reshape(*depth.shape, 4), -1, 0))}


def decode_depth(arrays: dict[str, np.ndarray], member: str = DEPTH_MEMBER) -> np.ndarray:
    """The arrays of a depth.npz -> (T, H, W) float32 depth, bit for bit."""
    planes = arrays.get(DEPTH_ARRAY)
    if planes is None or planes.dtype != np.uint8 or planes.ndim != 4 or planes.shape[0] != 4:
        shown = "missing" if planes is None else f"{planes.dtype} {planes.shape}"
        raise ValueError(f"{member}/{DEPTH_ARRAY}: expected uint8 (4, T, H, W), got {shown}")
    delta = np.moveaxis(planes, 0, -1).copy().view("<u4")[..., 0]
    return np.cumsum(delta, axis=0, dtype=np.uint32).view("<f4")


def encode_segmentation(segmentation: np.ndarray) -> dict[str, np.ndarray]:
    return {SEG_ARRAY: np.ascontiguousarray(segmentation, dtype="<u2")}
