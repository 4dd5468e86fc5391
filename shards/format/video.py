"""H.264 mp4 encoding and decoding in memory with PyAV, deterministic byte for byte.

Frames are converted to yuv420p with the BT.709 matrix in limited ("TV", MPEG) range, and the
stream is tagged so (colour primaries, transfer and matrix BT.709, range limited), so that players
and decoders convert it back with the same matrix (untagged H.264 is read as BT.601 by some and
BT.709 by others). 4:2:0 needs even sizes: an odd width or height is refused (``generate``
refuses odd sizes up front; preview pads its panels). Encoding is single-threaded and bit-exact (no version strings, no timestamps),
so the same frames always give the same bytes. x264's macroblock-tree rate control is off: with
it, small frames (measured: 32x24, 48x36, 96x64) gave different bytes from one call to the next
in the same process, depending on what was in memory before (so a shard's bytes would depend on
the worker that wrote it). Without it files are ~15-50% larger at the same CRF, still a small
part of a sample next to depth.npy and seg.npy.
"""

from __future__ import annotations

import io

import av
import numpy as np

CRF = 18
PRESET = "veryfast"
X264_PARAMS = "no-mbtree=1"  # deterministic output (see the module docstring)
PIXEL_FORMAT = "yuv420p"
BT709 = 1  # ISO/IEC 23091-4 code of BT.709 primaries, transfer and matrix
LIMITED_RANGE = 1  # AVCOL_RANGE_MPEG: Y in 16..235, chroma in 16..240


def encode_mp4(frames: np.ndarray, fps: float, crf: int = CRF) -> bytes:
    """(T, H, W, 3) uint8 RGB -> mp4 bytes."""
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"encode_mp4: expected (T, H, W, 3) uint8 frames, got {frames.shape} {frames.dtype}")
    _, height, width, _ = frames.shape
    if width % 2 or height % 2:
        raise ValueError(f"encode_mp4: H.264 4:2:0 needs an even width and height, got {width}x{height}")
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("libx264", rate=_rate(fps), options={"crf": str(crf), "preset": PRESET, "x264-params": X264_PARAMS})
        stream.width, stream.height = width, height
        stream.pix_fmt = PIXEL_FORMAT
        context = stream.codec_context
        context.thread_count = 1
        context.colorspace = context.color_primaries = context.color_trc = BT709
        context.color_range = LIMITED_RANGE
        for frame in frames:
            rgb = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            yuv = rgb.reformat(format=PIXEL_FORMAT, dst_colorspace="ITU709", dst_color_range="MPEG",
                               dst_color_trc=BT709, dst_color_primaries=BT709)  # fmt: skip
            container.mux(stream.encode(yuv))
        container.mux(stream.encode())
    return buffer.getvalue()


def frame_to_rgb(frame: av.VideoFrame) -> np.ndarray:
    """A decoded frame -> (H, W, 3) uint8 RGB, with the matrix and range the stream is tagged with
    (untagged streams, such as those of datasets written before the tags, are read as BT.601)."""
    return frame.to_ndarray(format="rgb24")


def _rate(fps: float):
    from fractions import Fraction

    return Fraction(fps).limit_denominator(1001)


def decode_mp4(data: bytes, expected: tuple[int, int, int] | None = None) -> np.ndarray:
    """mp4 bytes -> (T, H, W, 3) uint8 RGB.

    expected: (T, H, W) the sample declares; a stream of another frame size is refused before
    any frame is decoded, and decoding stops past T frames (a hostile file cannot make it
    allocate more than the declared clip).
    """
    frames = []
    with av.open(io.BytesIO(data), mode="r") as container:
        if not container.streams.video:
            raise ValueError("rgb.mp4: no video stream")
        if expected is not None:
            context = container.streams.video[0].codec_context
            if (context.height, context.width) != tuple(expected[1:]):
                raise ValueError(f"rgb.mp4: frames of {context.width}x{context.height}, expected {expected[2]}x{expected[1]}")
        for frame in container.decode(video=0):
            if expected is not None and len(frames) >= expected[0]:
                raise ValueError(f"rgb.mp4: more than the {expected[0]} frames the sample declares")
            frames.append(frame_to_rgb(frame))
    if not frames:
        raise ValueError("rgb.mp4: no video frames")
    return np.stack(frames)
