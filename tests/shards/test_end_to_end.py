"""`worldclips generate` through the CLI: validates, is byte-reproducible, reads back with stock
webdataset, and its ground truth agrees with a projection computed by hand."""

import io
import json

import av
import numpy as np
import pytest
import webdataset as wds

from worldclips.shards.format.schema import SCHEMA_VERSION, chunked_arrays, npz_arrays, npz_members, npy_members
from worldclips.cli import main

# --no-ray: single process (the Ray farm gives the same bytes: tests/shards/test_farm.py)
ARGS = ["--clips", "3", "--no-ray", "--frames", "10", "--size", "48x36", "--clips-per-shard", "2", "--seed", "11", "--quiet"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e") / "data"
    assert main(["generate", "--out", str(out), *ARGS]) == 0
    return out


def test_layout_and_validate(dataset, capsys):
    names = sorted(p.name for p in dataset.iterdir())
    assert names == ["config.yaml", "manifest.json", "shard-000000.tar", "shard-000001.tar"]
    manifest = json.loads((dataset / "manifest.json").read_text())
    assert [s["samples"] for s in manifest["shards"]] == [2, 1]
    assert manifest["run"]["config"]["frames"] == 10 and manifest["summary"]["clips"] == 3
    assert main(["validate", str(dataset)]) == 0
    assert "OK: 2 shards, 3 samples" in capsys.readouterr().out


def test_same_seed_gives_byte_identical_shards(dataset, tmp_path):
    again = tmp_path / "again"
    assert main(["generate", "--out", str(again), *ARGS]) == 0
    for name in ("shard-000000.tar", "shard-000001.tar"):
        assert (again / name).read_bytes() == (dataset / name).read_bytes(), name
    manifests = [json.loads((d / "manifest.json").read_text()) for d in (dataset, again)]
    assert manifests[0]["shards"] == manifests[1]["shards"]
    other = tmp_path / "other"
    assert main(["generate", "--out", str(other), *ARGS[:-2], "12", "--quiet"]) == 0
    assert (other / "shard-000000.tar").read_bytes() != (dataset / "shard-000000.tar").read_bytes()


def _stock_samples(dataset):
    urls = [str(p) for p in sorted(dataset.glob("shard-*.tar"))]
    return list(wds.WebDataset(urls, shardshuffle=False).decode())


def _depth_and_seg(sample: dict) -> tuple[np.ndarray, np.ndarray]:
    """The layers by the numpy recipe of docs/conventions.md, from stock webdataset's npz dicts."""

    def frames(planes):
        delta = np.moveaxis(planes, 0, -1).copy().view("<u4")[..., 0]
        return np.cumsum(delta, axis=0, dtype=np.uint32).view("<f4")

    archive = sample["depth.npz"]
    depth = np.concatenate([frames(archive[name]) for name in sorted(archive)])
    return depth, sample["seg.npz"]["seg"]


def test_stock_webdataset_reads_the_schema(dataset):
    samples = _stock_samples(dataset)
    assert [s["__key__"] for s in samples] == ["seed11-00000000", "seed11-00000001", "seed11-00000002"]
    for sample in samples:
        meta = sample["meta.json"]
        persons = sum(row["kind"] == "person" for row in meta["instances"])
        objects = sum(row["kind"] == "object" for row in meta["instances"])
        sizes = {"T": 10, "H": 36, "W": 48, "P": persons, "O": objects, "E": len(sample["contacts.npz"]["frame"])}
        assert npy_members(SCHEMA_VERSION) == () and "depth.npy" not in sample  # v4: the layers are compressed
        for member in npz_members(SCHEMA_VERSION):
            arrays = chunked_arrays(npz_arrays(member, SCHEMA_VERSION), sizes)
            assert set(sample[member]) == set(arrays)
            for name, (dtype, shape) in arrays.items():
                assert sample[member][name].dtype == np.dtype(dtype), (member, name)
                assert sample[member][name].shape == shape, (member, name)
        with av.open(io.BytesIO(sample["rgb.mp4"])) as container:
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        assert len(frames) == 10 and frames[0].shape == (36, 48, 3)
        assert meta["width"] == 48 and meta["fps"] == 24.0 and meta["clip_index"] == int(sample["__key__"][-8:])


def test_joints2d_is_the_projection_of_joints3d_by_hand(dataset):
    checked = 0
    for sample in _stock_samples(dataset):
        pose, camera = sample["pose.npz"], sample["camera.npz"]
        for person in range(pose["joints3d"].shape[0]):
            for t in range(6):
                K, cam_from_world = camera["K"][t], camera["cam_from_world"][t]
                for joint in range(55):
                    X, Y, Z = cam_from_world[:3, :3] @ pose["joints3d"][person, t, joint] + cam_from_world[:3, 3]
                    if Z <= 1e-3:
                        assert tuple(pose["joints2d"][person, t, joint]) == (-1.0, -1.0)
                        continue
                    u = K[0, 0] * X / Z + K[0, 1] * Y / Z + K[0, 2]
                    v = K[1, 1] * Y / Z + K[1, 2]
                    np.testing.assert_allclose(pose["joints2d"][person, t, joint], (u, v), atol=2e-3)
                    checked += 1
    assert checked > 100


def test_visible_joints_sit_just_behind_their_own_surface(dataset):
    visible_total = 0
    for sample in _stock_samples(dataset):
        pose, (depth, seg) = sample["pose.npz"], _depth_and_seg(sample)
        camera = sample["camera.npz"]
        for person, instance in enumerate(pose["instance_id"]):
            t, j = np.nonzero(pose["joints_visible"][person])
            visible_total += len(t)
            uv = np.rint(pose["joints2d"][person, t, j]).astype(int)
            assert np.all(seg[t, uv[:, 1], uv[:, 0]] == instance)
            cam = camera["cam_from_world"][t]
            z = np.einsum("nij,nj->ni", cam[:, :3, :3], pose["joints3d"][person, t, j]) + cam[:, :3, 3]
            surface = depth[t, uv[:, 1], uv[:, 0]]
            assert np.all(surface > 0) and np.all(z[:, 2] - surface < 0.15 + 1e-6)
        assert not np.any(pose["joints_visible"] & ~pose["joints_valid"][:, None, :])
    assert visible_total > 0


def test_instance_table_and_segmentation(dataset):
    for sample in _stock_samples(dataset):
        table = {row["id"]: row for row in sample["meta.json"]["instances"]}
        assert table[1]["category"] == "ground" and table[1]["dynamic"] is False
        assert all(row["dynamic"] for row in table.values() if row["kind"] == "person")
        depth, seg = _depth_and_seg(sample)
        assert depth.dtype == np.float32 and seg.dtype == np.uint16 and depth.shape == seg.shape == (10, 36, 48)
        assert set(np.unique(seg).tolist()) <= {0, *table}
        assert np.array_equal(depth == 0, seg == 0)
        assert np.isfinite(depth).all() and depth.max() > 1.0


def test_overwrite_replaces_only_a_dataset_folder(dataset, tmp_path, capsys):
    out = tmp_path / "over"
    assert main(["generate", "--out", str(out), *ARGS]) == 0
    before = sorted(p.name for p in out.iterdir())
    (out / "notes.txt").write_text("keep me")
    assert main(["generate", "--out", str(out), *ARGS]) == 2
    assert "already holds a dataset" in capsys.readouterr().err
    # a folder holding a file worldclips did not write is refused, and nothing in it changes
    assert main(["generate", "--out", str(out), "--overwrite", "--clips", "1", *ARGS[2:]]) == 2
    err = capsys.readouterr().err.strip()
    assert "did not write (notes.txt)" in err and len(err.splitlines()) == 1
    assert (out / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in out.iterdir()) == sorted([*before, "notes.txt"])
    (out / "notes.txt").unlink()
    assert main(["generate", "--out", str(out), "--overwrite", "--clips", "1", *ARGS[2:]]) == 0
    assert sorted(p.name for p in out.glob("shard-*")) == ["shard-000000.tar"]
    assert sorted(p.name for p in out.iterdir()) == ["config.yaml", "manifest.json", "shard-000000.tar"]
    assert main(["validate", str(out)]) == 0


def test_licensed_smplx_body_path_end_to_end(tmp_path):
    """--smplx-model-dir switches every body to SMPL-X meshes through smplx (stand-in model file)."""
    from tests.motions.smplx_fixture import write_fake_smplx_model

    write_fake_smplx_model(tmp_path / "models")
    out = tmp_path / "smplx_data"
    args = ["--clips", "1", "--no-ray", "--frames", "4", "--size", "40x30", "--smplx-model-dir", str(tmp_path / "models"), "--quiet"]
    assert main(["generate", "--out", str(out), *args]) == 0
    assert main(["validate", str(out)]) == 0
    sample = _stock_samples(out)[0]
    assert sample["meta.json"]["body_model"] == "smplx"
    assert sample["pose.npz"]["joints_valid"].all()
    persons = sample["pose.npz"]["instance_id"]
    assert np.isin(persons, _depth_and_seg(sample)[1]).any()  # the SMPL-X meshes were drawn
