"""The streaming loader: shapes and dtypes, geometry after crop and resize, distinct samples per
worker, exact resume positions, corrupt samples skipped and counted, nothing unpickled."""

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from worldclips.shards.format.reader import read_shard
from worldclips.train.config import DataConfig
from worldclips.train.loader import ShardStream, iter_examples, make_loader
from worldclips.train.sources import shard_urls

SHAPES = {
    "video": ((2, 9, 3, 32, 32), torch.uint8), "depth": ((2, 9, 32, 32), torch.float32),
    "K": ((2, 9, 3, 3), torch.float32), "cam_from_world": ((2, 9, 4, 4), torch.float32),
    "joints3d_cam": ((2, 3, 9, 55, 3), torch.float32), "joints2d": ((2, 3, 9, 55, 2), torch.float32),
    "joints_valid": ((2, 3, 55), torch.bool), "person_mask": ((2, 3), torch.bool),  # max_persons 3: the default scene's most
    "skeleton": ((2, 9, 3, 32, 32), torch.uint8), "fps": ((2,), torch.float32),
}  # fmt: skip


def config(**changes) -> DataConfig:
    return DataConfig(**{"height": 32, "width": 32, "batch_size": 2, "shuffle_buffer": 4, **changes})


def test_batch_shapes_and_dtypes(dataset):
    batch = next(iter(make_loader(shard_urls(dataset), config())))
    for name, (shape, dtype) in SHAPES.items():
        assert tuple(batch[name].shape) == shape and batch[name].dtype == dtype, name
    assert len(batch["key"]) == 2 and batch["skipped"] == 0 and batch["worker"] == 0
    assert batch["depth"].max() > 0 and batch["person_mask"][:, 0].all()


def test_intrinsics_and_joints_follow_the_crop_and_resize(dataset):
    """Projecting the camera-frame joints with the adjusted K lands on the adjusted joints2d."""
    for example in iter_examples(shard_urls(dataset), config(frames=5, strides=(2,), height=48, width=32)):
        K, points = example["K"].astype(np.float64), example["joints3d_cam"].astype(np.float64)
        defined = (example["joints2d"][..., 0] != -1) & example["person_mask"][:, None, None]
        z = np.where(defined, points[..., 2], 1.0)
        u = (K[None, :, None, 0, 0] * points[..., 0] + K[None, :, None, 0, 1] * points[..., 1]) / z + K[None, :, None, 0, 2]
        v = K[None, :, None, 1, 1] * points[..., 1] / z + K[None, :, None, 1, 2]
        assert defined.sum() > 50
        np.testing.assert_allclose(np.stack([u, v], -1)[defined], example["joints2d"][defined], atol=2e-3)
        assert example["video"].shape == (5, 3, 48, 32) and example["fps"] == 12.0  # 24 fps at stride 2


def _epoch0_keys(loader, batches):
    keys: dict[int, set] = {}
    for _, batch in zip(range(batches), loader):
        if batch["epoch"] == 0:
            keys.setdefault(batch["worker"], set()).update(batch["key"])
    return keys


def test_workers_read_distinct_samples(dataset):
    urls = shard_urls(dataset)  # 3 shards of 2 clips
    keys = _epoch0_keys(make_loader(urls, config(num_workers=2)), 6)
    assert set(keys) == {0, 1} and not keys[0] & keys[1]
    assert len(keys[0] | keys[1]) == 6
    # Fewer shards than streams: every worker reads the shard and keeps every other sample.
    keys = _epoch0_keys(make_loader(urls[:1], config(num_workers=2, batch_size=1)), 4)
    assert len(keys[0]) == len(keys[1]) == 1 and keys[0] != keys[1]
    # Ranks split the same way.
    ranks = [next(iter(ShardStream(urls, config(batch_size=1), rank=r, world_size=3)))["key"][0] for r in range(3)]
    assert len(set(ranks)) == 3


def test_resume_position_continues_the_stream(dataset):
    urls = shard_urls(dataset)
    reference = [b for _, b in zip(range(6), ShardStream(urls, config()))]
    for consumed in (2, 4):  # within epoch 0, then within epoch 1
        last = reference[consumed - 1]
        resumed = next(iter(ShardStream(urls, config(), start={0: (last["epoch"], last["index"] + 1)})))
        assert resumed["key"] == reference[consumed]["key"]
        assert torch.equal(resumed["video"], reference[consumed]["video"])
    assert [b["epoch"] for b in reference] == [0, 0, 0, 1, 1, 1]
    assert sorted(k for b in reference[:3] for k in b["key"]) == sorted(k for b in reference[3:] for k in b["key"])


class Evil:
    """Unpickling this creates a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def _add(archive, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def test_corrupt_samples_are_skipped_and_counted_and_nothing_is_unpickled(dataset, tmp_path):
    marker = tmp_path / "unpickled"
    good_key, members = next(iter(read_shard(shard_urls(dataset)[0]).items()))
    buffer = io.BytesIO()
    np.savez(buffer, depth_delta_bytes=np.array([Evil(str(marker))], dtype=object))  # pickles the object
    bad = {
        "bad-00000001": {**members, "depth.npz": b"not an array"},
        "bad-00000002": {**members, "rgb.mp4": members["rgb.mp4"][:200]},
        "bad-00000003": {**members, "depth.npz": buffer.getvalue()},
        "bad-00000004": {k: v for k, v in members.items() if k != "pose.npz"},
    }
    shard = tmp_path / "shard-000000.tar"
    with tarfile.open(shard, "w") as archive:
        for key, sample in [(good_key, members), *bad.items(), ("good-00000005", members)]:
            for member, data in sample.items():
                _add(archive, f"{key}.{member}", data)
            _add(archive, f"{key}.evil.pyd", pickle.dumps(Evil(str(marker))))
            _add(archive, f"{key}.evil.pth", pickle.dumps(Evil(str(marker))))
    batch = next(iter(ShardStream([str(shard)], config(shuffle_buffer=1))))
    assert sorted(batch["key"]) == sorted([good_key, "good-00000005"])
    assert batch["skipped"] == 4
    assert not marker.exists()
    with pytest.raises(RuntimeError, match="no decodable sample"):
        only_bad = tmp_path / "bad.tar"
        with tarfile.open(only_bad, "w") as archive:
            for member, data in bad["bad-00000001"].items():
                _add(archive, f"bad-00000001.{member}", data)
        next(iter(ShardStream([str(only_bad)], config())))


def test_short_clips_are_skipped(dataset):
    stream = ShardStream(shard_urls(dataset), config(frames=13, strides=(1,)))
    with pytest.raises(RuntimeError, match="no decodable sample"):  # every clip has 12 frames
        next(iter(stream))


def test_data_sources_give_clear_errors(dataset, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        shard_urls(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="no shards"):
        shard_urls(tmp_path)
    assert shard_urls(f"{dataset}/shard-{{000000..000001}}.tar") == shard_urls(dataset)[:2]
    assert shard_urls("s3://bucket/d/shard-000000.tar") == ["s3://bucket/d/shard-000000.tar"]  # read by fsspec, no shell
    assert shard_urls("https://host/d/shard-{000000..000001}.tar")[1] == "https://host/d/shard-000001.tar"


def test_crop_and_resize_helpers():
    from worldclips.train.decode import crop_box, resize_frames, resize_nearest

    assert crop_box(40, 48, 32, 32) == (0, 4, 40, 40) and crop_box(48, 40, 64, 32) == (0, 8, 48, 24)
    maps = np.arange(2 * 4 * 6, dtype=np.float32).reshape(2, 4, 6)
    # 4x4 crop at column 1, halved: output pixel (i, j) takes input (2i + 1, 1 + 2j + 1) under its centre.
    assert np.array_equal(resize_nearest(maps, (0, 1, 4, 4), (2, 2)), maps[:, [1, 3]][:, :, [2, 4]])
    frames = np.random.default_rng(0).integers(0, 256, (3, 8, 10, 3), dtype=np.uint8)
    assert np.array_equal(resize_frames(frames, (0, 1, 8, 8), (8, 8)), frames[:, :, 1:9].transpose(0, 3, 1, 2))
    flat = np.full((1, 8, 8, 3), 77, np.uint8)
    assert np.all(resize_frames(flat, (0, 0, 8, 8), (4, 4)) == 77)


def test_unverified_scenario_clips_are_skipped_unless_asked_for(dataset, tmp_path):
    import json

    members = dict(next(iter(read_shard(shard_urls(dataset)[0]).values())))
    meta = json.loads(members["meta.json"])
    shard = tmp_path / "shard-000000.tar"
    with tarfile.open(shard, "w") as archive:
        for key, verified in [("ok-00000000", True), ("no-00000001", False), ("ok-00000002", True)]:
            changed = {**members, "meta.json": json.dumps({**meta, "scenario": "occlusion_pass", "verified": verified}).encode()}
            for member, data in changed.items():
                _add(archive, f"{key}.{member}", data)
    batch = next(iter(ShardStream([str(shard)], config(shuffle_buffer=1))))
    assert sorted(batch["key"]) == ["ok-00000000", "ok-00000002"] and batch["skipped"] == 1
    batch = next(iter(ShardStream([str(shard)], config(shuffle_buffer=1, unverified=True))))
    assert batch["key"][0] == "ok-00000000" and batch["skipped"] == 0
    assert "no-00000001" in next(iter(ShardStream([str(shard)], config(shuffle_buffer=1, batch_size=3, unverified=True))))["key"]


def test_depth_is_exact_for_every_crop_from_chunks_one_run_or_raw(dataset):
    """The loader inflates only the depth chunks a crop needs and decodes only its pixels: the result
    equals the whole clip's depth (reader) cropped by hand, for crops inside one chunk and across
    chunks, and for clips stored as one run (schema v4-v5) or raw (v1-v3)."""
    from worldclips.motions.safe_arrays import load_npz
    from worldclips.shards.format.layers import DEPTH_ARRAY, decode_depth, encode_float_bits
    from worldclips.shards.format.sample import npy_bytes, npz_bytes
    from worldclips.train.decode import choose_frames, crop_box, decode_example, resize_nearest

    _, members = next(iter(read_shard(shard_urls(dataset)[0]).items()))
    depth = decode_depth(load_npz(members["depth.npz"]))
    assert depth.shape[0] == 12 and len(load_npz(members["depth.npz"])) == 2  # chunks of 8 and 4 frames
    stored = {
        "chunks (v6)": members,
        "one run (v4-v5)": {**members, "depth.npz": npz_bytes({DEPTH_ARRAY: encode_float_bits(depth, 0)}, deflate=True)},
        "raw (v1-v3)": {**{k: v for k, v in members.items() if k != "depth.npz"}, "depth.npy": npy_bytes(depth)},
    }
    starts = set()
    for data in (config(frames=5, strides=(1, 2), height=32, width=32), config(frames=1, height=32, width=32)):
        for seed in range(24):
            indices = choose_frames(12, data.frames, data.strides, np.random.default_rng(seed))
            starts.add((int(indices[0]) // 8, int(indices[-1]) // 8))
            expected = resize_nearest(depth[indices], crop_box(*depth.shape[1:], 32, 32), (32, 32))
            for form, raw in stored.items():
                example = decode_example(raw, data, np.random.default_rng(seed))
                np.testing.assert_array_equal(example["depth"].view(np.uint32), expected.view(np.uint32), err_msg=f"{form} {indices}")
    assert starts == {(0, 0), (0, 1), (1, 1)}  # crops inside the first chunk, across both, inside the second
