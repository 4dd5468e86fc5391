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


def encode_float_bits(array: np.ndarray, axis: int) -> np.ndarray:
    """float32 array -> (4, *shape) uint8: its bit patterns (little-endian uint32) differenced along
    ``axis`` (the first entry kept, wrapping modulo 2^32), the four bytes as four planes."""
    array = np.ascontiguousarray(array, dtype="<f4")
    bits = np.moveaxis(array.view("<u4"), axis, 0)
    delta = bits.copy()
    delta[1:] -= bits[:-1]  # uint32: wraps modulo 2^32, undone exactly by a uint32 cumsum
    delta = np.ascontiguousarray(np.moveaxis(delta, 0, axis))
    return np.ascontiguousarray(np.moveaxis(delta.view(np.uint8).reshape(*array.shape, 4), -1, 0))


def decode_float_bits(planes: np.ndarray, axis: int) -> np.ndarray:
    """The inverse of ``encode_float_bits``: (4, *shape) uint8 -> float32, bit for bit."""
    delta = np.moveaxis(planes, 0, -1).copy().view("<u4")[..., 0]
    return np.cumsum(delta, axis=axis, dtype=np.uint32).view("<f4")


def encode_depth(depth: np.ndarray) -> dict[str, np.ndarray]:
    """(T, H, W) float32 depth -> {"depth_delta_bytes": (4, T, H, W) uint8} (see the module docstring)."""
    if np.ndim(depth) != 3:
        raise ValueError(f"depth: expected (T, H, W), got shape {np.shape(depth)}")
    return {DEPTH_ARRAY: encode_float_bits(depth, axis=0)}


def decode_depth(arrays: dict[str, np.ndarray], member: str = DEPTH_MEMBER, frames: int | None = None) -> np.ndarray:
    """The arrays of a depth.npz -> (T, H, W) float32 depth, bit for bit; with ``frames`` only the
    first ``frames`` frames (the time differences need nothing later)."""
    planes = arrays.get(DEPTH_ARRAY)
    if planes is None or planes.dtype != np.uint8 or planes.ndim != 4 or planes.shape[0] != 4:
        shown = "missing" if planes is None else f"{planes.dtype} {planes.shape}"
        raise ValueError(f"{member}/{DEPTH_ARRAY}: expected uint8 (4, T, H, W), got {shown}")
    return decode_float_bits(planes if frames is None else planes[:, :frames], axis=0)


def encode_segmentation(segmentation: np.ndarray) -> dict[str, np.ndarray]:
    return {SEG_ARRAY: np.ascontiguousarray(segmentation, dtype="<u2")}


def decode_segmentation_member(arrays: dict[str, np.ndarray], member: str = SEG_MEMBER) -> np.ndarray:
    """The arrays of a seg.npz -> (T, H, W) uint16 ids."""
    seg = arrays.get(SEG_ARRAY)
    if seg is None or seg.ndim != 3:
        shown = "missing" if seg is None else f"{seg.dtype} {seg.shape}"
        raise ValueError(f"{member}/{SEG_ARRAY}: expected (T, H, W) ids, got {shown}")
    return seg
