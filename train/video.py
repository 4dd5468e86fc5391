"""rgb.mp4 in memory with PyAV: decode only the frames a crop needs (encoding: shards.format.video)."""

from __future__ import annotations

import io
from typing import Sequence

import av
import numpy as np

from worldclips.shards.format.video import frame_to_rgb


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
                frames[index] = frame_to_rgb(frame)
            if index >= last:
                break
    if last not in frames:
        raise ValueError(f"rgb.mp4: needed frame {last}, the video has {len(frames) and max(frames) + 1 or 0} frames")
    return np.stack([frames[int(i)] for i in indices])
