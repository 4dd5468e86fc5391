"""H.264 encoding gives the same bytes for the same frames, whatever was in memory before.

With x264's macroblock-tree rate control on, small rendered clips came out differently from one
call to the next in the same process (about half the calls at 32x24); a shard's bytes then
depended on the worker that wrote it."""

import hashlib
import os

import pytest

from worldclips.scenes.build import build_scene
from worldclips.scenes.sampling import sample_clip_spec
from worldclips.shards.job.config import resolve_config
from worldclips.shards.job.shard_task import job_tools
from worldclips.shards.format.video import encode_mp4


@pytest.fixture(scope="module")
def clips():
    config = resolve_config({}, {"out": "unused", "frames": 12, "size": "32x24", "seed": 5})
    body, renderer = job_tools(config)
    try:
        specs = [sample_clip_spec(config.scene, 5, i, config.fps, 12, 32, 24) for i in range(3)]
        return [renderer.render(build_scene(spec, body)).rgb for spec in specs]
    finally:
        renderer.release()


def test_same_frames_same_bytes_after_heap_churn(clips):
    for frames in clips:
        digests = set()
        for n in range(10):
            churn = [os.urandom(4096 * (1 + n % 5)) for _ in range(100)]
            digests.add(hashlib.sha256(encode_mp4(frames, 24.0)).hexdigest())
            del churn
        assert len(digests) == 1
