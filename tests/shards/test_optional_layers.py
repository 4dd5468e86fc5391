"""The optional layers (normals, flow, tracks) through generate, validate, preview, the reader and
stock tools; the layer declarations; their codecs; and what validate refuses."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile

import numpy as np
import pytest
from PIL import Image

from worldclips.cli import main
from worldclips.shards.format.layer_registry import LAYERS, REQUIRED_LAYERS, inflated_limits
from worldclips.shards.format.layers import NPY_HEADER_SLACK, decode_float_bits, encode_float_bits
from worldclips.shards.format.schema import SCHEMA_VERSION
from worldclips.shards.format.reader import iter_samples
from worldclips.shards.format.stock import decode_member
from worldclips.shards.format.validate import check_sample
from worldclips.shards.job.config import ConfigError, parse_layers, resolve_config

ALL = "rgb,depth,seg,normals,flow,tracks"
ARGS = ["--clips", "2", "--no-ray", "--frames", "5", "--size", "64x48", "--clips-per-shard", "2", "--seed", "3",
        "--num-tracks", "30", "--quiet"]  # fmt: skip


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("layers") / "data"
    assert main(["generate", "--out", str(out), "--layers", ALL, *ARGS]) == 0
    return out


def _members(dataset) -> dict[str, bytes]:
    with tarfile.open(dataset / "shard-000000.tar") as archive:
        return {info.name: archive.extractfile(info).read() for info in archive}


def test_every_layer_is_written_listed_and_validates(dataset, capsys):
    members = _members(dataset)
    for key in ("seed3-00000000", "seed3-00000001"):
        meta = json.loads(members[f"{key}.meta.json"])
        assert meta["layers"] == list(LAYERS) and meta["schema_version"] == SCHEMA_VERSION
        for layer in LAYERS.values():
            assert f"{key}.{layer.member}" in members
    assert main(["validate", str(dataset)]) == 0
    assert "OK: 1 shards, 2 samples" in capsys.readouterr().out


def test_reader_and_stock_decoder_give_the_layers(dataset):
    sample = next(iter_samples(dataset))
    frames, height, width = sample.depth.shape
    assert sample.layers["normals"].shape == (frames, height, width, 3)
    assert sample.layers["flow"]["forward"].shape == (frames, height, width, 2)
    tracks = sample.layers["tracks"]
    assert tracks["tracks"].shape[1:] == (frames, 2) and 0 < len(tracks["tracks"]) <= 30
    members = _members(dataset)
    flow = decode_member("seed3-00000000.flow.npz", members["seed3-00000000.flow.npz"])
    np.testing.assert_array_equal(flow["forward"], sample.layers["flow"]["forward"])
    # numpy alone, by the recipe in docs/conventions.md
    raw = np.load(io.BytesIO(members["seed3-00000000.flow.npz"]))
    planes = raw["forward_delta_bytes"]
    recipe = np.cumsum(np.moveaxis(planes, 0, -1).copy().view("<u4")[..., 0], axis=2, dtype=np.uint32).view("<f4")
    np.testing.assert_array_equal(recipe, flow["forward"])
    normals = np.load(io.BytesIO(members["seed3-00000000.normals.npz"]))["normals"]
    np.testing.assert_array_equal(normals, sample.layers["normals"])


def test_default_run_writes_only_the_required_layers(tmp_path):
    out = tmp_path / "plain"
    assert main(["generate", "--out", str(out), *ARGS[:-3], "--quiet"]) == 0
    members = _members(out)
    meta = json.loads(members["seed3-00000000.meta.json"])
    assert meta["layers"] == list(REQUIRED_LAYERS)
    assert not any(name.endswith(("normals.npz", "flow.npz", "tracks.npz")) for name in members)


def test_preview_draws_a_panel_per_layer(dataset, tmp_path):
    assert main(["preview", str(dataset), "--out", str(tmp_path / "p")]) == 0
    sheet = Image.open(tmp_path / "p" / "seed3-00000000.png")
    assert sheet.size[0] == 7 * 64  # RGB | depth | seg | skeleton | normals | flow | tracks


def _sample(dataset, key, member, change) -> dict[str, bytes]:
    """One sample's members (names without the key), with one npz member's arrays changed."""
    members = {name.split(".", 1)[1]: data for name, data in _members(dataset).items() if name.startswith(key + ".")}
    arrays = dict(np.load(io.BytesIO(members[member])))
    change(arrays)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    members[member] = buffer.getvalue()
    return members


@pytest.mark.parametrize(
    "member, change, message",
    [
        ("tracks.npz", lambda a: a.__setitem__("instance_ids", a["instance_ids"] * 0 + 999), "lie on their own instance"),
        ("normals.npz", lambda a: a.__setitem__("normals", a["normals"] * np.float16(2)), "unit length"),
        ("flow.npz", lambda a: a.pop("occluded_backward"), "occluded_backward"),
    ],
)  # fmt: skip
def test_validate_refuses_broken_layers(dataset, member, change, message):
    members = _sample(dataset, "seed3-00000000", member, change)
    with pytest.raises(ValueError, match=message):
        check_sample("seed3-00000000", members)
    check_sample("seed3-00000000", _sample(dataset, "seed3-00000000", member, lambda a: None))  # unchanged: fine


def test_layers_config_field_and_flag(tmp_path):
    assert parse_layers("flow, tracks") == ("rgb", "depth", "seg", "flow", "tracks")
    assert parse_layers(["tracks", "normals"]) == ("rgb", "depth", "seg", "normals", "tracks")
    with pytest.raises(ConfigError, match=r"layers: unknown layer 'optical'"):
        parse_layers("rgb,optical")
    with pytest.raises(ConfigError, match="need the raster backend"):
        resolve_config({"layers": ["flow"], "backend": "cycles"}, {"out": str(tmp_path / "x")})
    with pytest.raises(ConfigError, match="num_tracks"):
        resolve_config({"layers": ["tracks"], "num_tracks": 0}, {"out": str(tmp_path / "x")})
    config = resolve_config({"layers": ["tracks"], "backend": "cycles"}, {"out": str(tmp_path / "x")})
    assert config.layers == ("rgb", "depth", "seg", "tracks")  # tracks come from geometry: any backend


def test_float_bit_planes_are_lossless_along_any_axis():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(3, 4, 5, 2)).astype(np.float32)
    values[0, 0, 0] = [np.inf, -0.0]
    for axis in range(4):
        planes = encode_float_bits(values, axis)
        assert planes.shape == (4, 3, 4, 5, 2) and planes.dtype == np.uint8
        np.testing.assert_array_equal(decode_float_bits(planes, axis).view(np.uint32), values.view(np.uint32))


def test_size_bounds_hold_the_written_layers_tightly(dataset):
    """Each layer member's declared inflated size fits its bound; pixel layers' bounds exceed their
    real size by no more than the npy headers' slack (a hostile member cannot hide much more)."""
    members = _members(dataset)
    meta = json.loads(members["seed3-00000000.meta.json"])
    limits = inflated_limits(meta["num_frames"], meta["height"], meta["width"])
    for layer in LAYERS.values():
        if layer.decode is None:
            continue
        with zipfile.ZipFile(io.BytesIO(members[f"seed3-00000000.{layer.member}"])) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
        assert inflated <= limits[layer.member], layer.name
        if not layer.per_track:
            assert limits[layer.member] - inflated <= layer.arrays * NPY_HEADER_SLACK, layer.name


def test_depth_decodes_up_to_any_frame_exactly():
    from worldclips.shards.format.layers import DEPTH_ARRAY, decode_depth, encode_depth, encode_float_bits

    depth = np.random.default_rng(1).uniform(0.5, 30.0, size=(19, 5, 6)).astype(np.float32)
    depth[2, 1, 1] = 0.0
    arrays = encode_depth(depth)
    assert sorted(arrays) == ["depth_delta_bytes_000", "depth_delta_bytes_001", "depth_delta_bytes_002"]
    assert [arrays[name].shape[1] for name in sorted(arrays)] == [8, 8, 3]
    legacy = {DEPTH_ARRAY: encode_float_bits(depth, axis=0)}  # schema v4-v5: one run over the clip
    for frames in (1, 3, 8, 9, 16, 17, 19):
        for stored in (arrays, legacy):
            np.testing.assert_array_equal(decode_depth(stored, frames=frames).view(np.uint32), depth[:frames].view(np.uint32))


def test_depth_chunks_decode_alone_and_broken_runs_are_refused():
    from worldclips.shards.format.layers import decode_depth, decode_depth_run, depth_chunk_names, encode_depth

    depth = np.random.default_rng(2).uniform(0.5, 30.0, size=(20, 4, 4)).astype(np.float32)
    arrays = encode_depth(depth)
    assert depth_chunk_names(20, 9, 16) == ["depth_delta_bytes_001", "depth_delta_bytes_002"]
    first, frames = decode_depth_run({name: arrays[name] for name in depth_chunk_names(20, 9, 16)})
    assert first == 8 and frames.shape == (12, 4, 4)
    np.testing.assert_array_equal(frames.view(np.uint32), depth[8:20].view(np.uint32))
    gap = {name: arrays[name] for name in ("depth_delta_bytes_000", "depth_delta_bytes_002")}
    with pytest.raises(ValueError, match="not consecutive"):
        decode_depth(gap)
    with pytest.raises(ValueError, match="no depth_delta_bytes_000"):
        decode_depth({"depth_delta_bytes_001": arrays["depth_delta_bytes_001"]})
    short_first = {"depth_delta_bytes_000": arrays["depth_delta_bytes_002"], "depth_delta_bytes_001": arrays["depth_delta_bytes_001"]}
    with pytest.raises(ValueError, match="after a chunk"):
        decode_depth(short_first)
    with pytest.raises(ValueError, match="expected arrays depth_delta_bytes_000"):
        decode_depth({"depth_delta_bytes_x": arrays["depth_delta_bytes_000"]})
