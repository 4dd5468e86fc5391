"""rgb.mp4 in memory with PyAV: decode only the frames a crop needs; encode generated clips."""

from __future__ import annotations

import io
from fractions import Fraction
from typing import Sequence

import av
import numpy as np


def decode_frames(data: bytes, indices: Sequence[int]) -> np.ndarray:
    """mp4 bytes -> (len(indices), H, W, 3) uint8 RGB frames at those indices (in that order).

    Decoding stops after the last index; only the selected frames are converted to RGB.
    """
    wanted = sorted(set(int(i) for i in indices))
    if not wanted or wanted[0] < 0:
        raise ValueError(f"rgb.mp4: bad frame indices {list(indices)[:4]}...")
    last, frames = wanted[-1], {}
    with av.open(io.BytesIO(data), mode="r") as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in wanted:
                frames[index] = frame.to_ndarray(format="rgb24")
            if index >= last:
                break
    if last not in frames:
        raise ValueError(f"rgb.mp4: needed frame {last}, the video has {len(frames) and max(frames) + 1 or 0} frames")
    return np.stack([frames[int(i)] for i in indices])


def encode_mp4(frames: np.ndarray, fps: float, crf: int = 18) -> bytes:
    """(T, H, W, 3) uint8 RGB -> H.264 mp4 bytes (yuv420p for even sizes, yuv444p otherwise)."""
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"encode_mp4: expected (T, H, W, 3) uint8 frames, got {frames.shape} {frames.dtype}")
    _, height, width, _ = frames.shape
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001), options={"crf": str(crf)})
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")))
        container.mux(stream.encode())
    return buffer.getvalue()
