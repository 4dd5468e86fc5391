"""Lossless, compact storage of the depth and segmentation layers, readable with numpy alone.

``depth.npz`` (schema v6) holds the clip in chunks of 8 frames, ``depth_delta_bytes_000``,
``depth_delta_bytes_001``, ...: each (4, t, H, W) uint8 with t = 8 (the last chunk: what is left).
Within a chunk the float32 depth's bit patterns (little-endian uint32) are differenced along time
(the chunk's first frame kept, then frame t minus frame t-1, wrapping modulo 2^32), and the four
bytes of each difference are stored as four planes, so that deflate sees long runs (a static
surface differences to zero; the high bytes barely change). Chunks let a reader inflate only the
frames it needs (the trainer's loader takes a short crop); they cost about 12% more bytes than
one run of differences over the clip (schema v4-v5: one array ``depth_delta_bytes`` (4, T, H, W),
still read). ``seg.npz`` holds ``seg``: (T, H, W) uint16, deflated. Both archives use deflate
with fixed timestamps (byte-identical for the same clip; written by
``shards.format.sample.npz_bytes``). numpy alone reads them back exactly::

    def frames(planes):                                                   # (4, t, H, W) uint8
        delta = np.moveaxis(planes, 0, -1).copy().view("<u4")[..., 0]     # (t, H, W) uint32
        return np.cumsum(delta, axis=0, dtype=np.uint32).view("<f4")      # (t, H, W) float32

    archive = np.load("depth.npz")
    depth = np.concatenate([frames(archive[name]) for name in sorted(archive.files)])  # (T, H, W)
    seg = np.load("seg.npz")["seg"]                                       # (T, H, W) uint16

(``decode_depth`` below is that recipe, with checks.) A default clip's depth shrinks about 5x and
its segmentation about 100x against the raw .npy members of schema v3.
"""

from __future__ import annotations

import numpy as np

DEPTH_MEMBER, SEG_MEMBER = "depth.npz", "seg.npz"
DEPTH_ARRAY, SEG_ARRAY = "depth_delta_bytes", "seg"  # DEPTH_ARRAY: schema v4-v5 (one run over the clip)
DEPTH_CHUNK_FRAMES = 8  # frames per depth chunk (schema v6)
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
    if axis != 0:
        bits = np.moveaxis(planes, 0, -1).copy().view("<u4")[..., 0]
        return np.cumsum(bits, axis=axis, dtype=np.uint32).view("<f4")
    interleaved = np.empty((*planes.shape[1:], 4), np.uint8)
    for index in range(planes.shape[1]):  # a frame at a time stays in cache: several times faster
        for byte in range(4):  # than one moveaxis copy of the whole array
            interleaved[index, ..., byte] = planes[byte, index]
    bits = interleaved.view("<u4")[..., 0]
    for index in range(1, bits.shape[0]):  # uint32 adds wrap like the encoder's differences; a few
        np.add(bits[index - 1], bits[index], out=bits[index])  # times faster than np.cumsum on axis 0
    return bits.view("<f4")


def depth_chunk_name(index: int) -> str:
    """The array of depth chunk ``index`` (frames 8 index ... 8 index + 7): depth_delta_bytes_000, ..."""
    return f"{DEPTH_ARRAY}_{index:03d}"


def depth_chunk_names(num_frames: int, first: int = 0, last: int | None = None) -> list[str]:
    """The chunk arrays that hold frames ``first`` ... ``last`` (default: the clip's last) of a clip."""
    last = num_frames - 1 if last is None else last
    return [depth_chunk_name(i) for i in range(first // DEPTH_CHUNK_FRAMES, last // DEPTH_CHUNK_FRAMES + 1)]


def encode_depth(depth: np.ndarray) -> dict[str, np.ndarray]:
    """(T, H, W) float32 depth -> {"depth_delta_bytes_000": (4, 8, H, W) uint8, ...} (module docstring)."""
    if np.ndim(depth) != 3:
        raise ValueError(f"depth: expected (T, H, W), got shape {np.shape(depth)}")
    return {depth_chunk_name(i // DEPTH_CHUNK_FRAMES): encode_float_bits(depth[i : i + DEPTH_CHUNK_FRAMES], axis=0)
            for i in range(0, len(depth), DEPTH_CHUNK_FRAMES)}  # fmt: skip


def decode_depth_run(arrays: dict[str, np.ndarray], member: str = DEPTH_MEMBER) -> tuple[int, np.ndarray]:
    """Consecutive depth chunks (all of a clip's, or those a crop needs) -> (their first frame,
    (t, H, W) float32 depth of their frames), bit for bit; a ValueError names what is wrong."""
    chunks = sorted(name for name in arrays if name.startswith(DEPTH_ARRAY + "_"))
    indices = [name[len(DEPTH_ARRAY) + 1 :] for name in chunks]
    if not chunks or not all(len(i) == 3 and i.isdigit() for i in indices):
        raise ValueError(f"{member}: expected arrays {depth_chunk_name(0)}, {depth_chunk_name(1)}, ..., got {sorted(arrays)[:4]}")
    first = int(indices[0])
    if [int(i) for i in indices] != list(range(first, first + len(chunks))):
        raise ValueError(f"{member}: chunks {indices[:6]} are not consecutive")
    shape = None
    for name in chunks:
        planes = arrays[name]
        if planes.dtype != np.uint8 or planes.ndim != 4 or planes.shape[0] != 4 or not 1 <= planes.shape[1] <= DEPTH_CHUNK_FRAMES:
            raise ValueError(f"{member}/{name}: expected uint8 (4, t, H, W) with t <= {DEPTH_CHUNK_FRAMES}, got {planes.dtype} {planes.shape}")
        if shape is not None and (shape[1] != DEPTH_CHUNK_FRAMES or planes.shape[2:] != shape[2:]):
            raise ValueError(f"{member}/{name}: shape {planes.shape} after a chunk of {shape}")
        shape = planes.shape
    depth = np.concatenate([decode_float_bits(arrays[name], axis=0) for name in chunks])
    return first * DEPTH_CHUNK_FRAMES, depth


def decode_depth(arrays: dict[str, np.ndarray], member: str = DEPTH_MEMBER, frames: int | None = None) -> np.ndarray:
    """The arrays of a depth.npz (v6 chunks, or the v4-v5 single run) -> (T, H, W) float32 depth,
    bit for bit; with ``frames`` only the first ``frames`` frames (from the v4-v5 run: the time
    differences need nothing later)."""
    if DEPTH_ARRAY not in arrays:
        if frames is not None:  # only the chunks that hold the first ``frames`` frames are decoded
            needed = set(depth_chunk_names(frames))
            arrays = {name: planes for name, planes in arrays.items() if name in needed}
        first, depth = decode_depth_run(arrays, member)
        if first != 0:
            raise ValueError(f"{member}: no {depth_chunk_name(0)}")
        return depth if frames is None else depth[:frames]
    planes = arrays[DEPTH_ARRAY]
    if planes.dtype != np.uint8 or planes.ndim != 4 or planes.shape[0] != 4:
        raise ValueError(f"{member}/{DEPTH_ARRAY}: expected uint8 (4, T, H, W), got {planes.dtype} {planes.shape}")
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
