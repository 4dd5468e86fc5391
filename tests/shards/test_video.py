"""rgb.mp4: tagged BT.709 limited range, colours that survive the round trip, even sizes only."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from worldclips.shards.format.video import decode_mp4, encode_mp4

PATCHES = {(0, 0): (255, 0, 0), (0, 1): (0, 255, 0), (1, 0): (0, 0, 255), (1, 1): (200, 150, 50)}


def _patch_frames(frames: int = 3, side: int = 64) -> np.ndarray:
    video = np.zeros((frames, side, side, 3), np.uint8)
    half = side // 2
    for (row, col), rgb in PATCHES.items():
        video[:, row * half:(row + 1) * half, col * half:(col + 1) * half] = rgb
    return video


def test_stream_is_tagged_bt709_limited_range():
    data = encode_mp4(_patch_frames(), 24.0)
    with av.open(io.BytesIO(data)) as container:
        context = container.streams.video[0].codec_context
        assert context.pix_fmt == "yuv420p"
        assert (context.colorspace, context.color_primaries, context.color_trc) == (1, 1, 1)  # BT.709
        assert context.color_range == 1  # limited (MPEG)


@pytest.mark.parametrize("matrix", ["tagged", "explicit-bt709"])
def test_colours_survive_the_round_trip(matrix):
    video = _patch_frames()
    data = encode_mp4(video, 24.0, crf=4)
    if matrix == "tagged":
        decoded = decode_mp4(data)
    else:  # what a player that honours the tags does, spelled out: BT.709, limited -> full range
        with av.open(io.BytesIO(data)) as container:
            decoded = np.stack([f.reformat(format="rgb24", src_colorspace="ITU709", src_color_range="MPEG",
                                           dst_color_range="JPEG").to_ndarray() for f in container.decode(video=0)])
    for (row, col), rgb in PATCHES.items():
        centre = decoded[:, row * 32 + 16, col * 32 + 16].astype(int)
        assert np.abs(centre - np.array(rgb)).max() <= 4, (rgb, centre[0])


def test_odd_sizes_are_refused():
    with pytest.raises(ValueError, match="even width and height"):
        encode_mp4(np.zeros((2, 31, 32, 3), np.uint8), 24.0)
