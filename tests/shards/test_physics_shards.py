"""Schema v3 through the CLI: physics setups from the config are generated, validated and read
back with velocities in objects.npz and contact events in contacts.npz; validate catches broken
contacts and still reads v2 samples."""

import hashlib
import json
import shutil

import numpy as np
import pytest

from tests.shards.layers_helpers import as_raw_layers
import yaml

from worldclips.shards.job.config import ConfigError, resolve_config
from worldclips.shards.format.reader import iter_samples, read_shard
from worldclips.motions.safe_arrays import load_npz
from worldclips.shards.format.sample import npz_bytes
from worldclips.shards.format.schema import SCHEMA_VERSION, members, npz_arrays, schema_table
from worldclips.shards.format.validate import validate_dataset
from worldclips.shards.format.writer import sample_tar_bytes
from worldclips.cli import main

SETUPS = ("glass_off_table", "ball_throw", "knock_over", "stack_topple", "uniform", "collision", "parabola")
ARGS = ["--no-ray", "--frames", "30", "--size", "48x36", "--clips-per-shard", "4", "--seed", "3", "--quiet"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("physics")
    config = root / "physics.yaml"
    config.write_text(yaml.safe_dump({"scene": {"physics": {**{s: 1.0 for s in SETUPS}, "split": "ood"}}}))
    out = root / "data"
    assert main(["generate", "--out", str(out), "--config", str(config), "--clips", "8", *ARGS]) == 0
    return out


def test_physics_dataset_validates_and_covers_the_setups(dataset, capsys):
    assert main(["validate", str(dataset)]) == 0
    assert "OK: 2 shards, 8 samples" in capsys.readouterr().out
    scenarios = {sample.meta["scenario"] for sample in iter_samples(dataset)}
    assert len(scenarios & set(SETUPS)) >= 4


def test_velocities_contacts_and_scenario_params(dataset):
    for sample in iter_samples(dataset):
        meta = sample.meta
        assert meta["schema_version"] == SCHEMA_VERSION == 6
        params = meta["scenario_params"]
        physics = params["physics"]
        assert physics["setup"] == meta["scenario"] and physics["split"] in ("id", "ood")
        assert set(physics["values"]) >= set(physics["ranges"]) and physics["ranges"]
        for name, ranges in physics["ranges"].items():
            assert any(lo <= physics["values"][name] <= hi for lo, hi in ranges)
        dynamic = {row["id"] for row in meta["instances"] if row["kind"] == "object" and row["dynamic"]}
        assert len(dynamic) == params["num_dynamic_props"] == len(meta["spec"]["dynamic_props"]) > 0
        objects, contacts = sample.objects, sample.contacts
        speed = np.linalg.norm(objects["linear_velocity"], axis=-1)  # (O, T)
        rows = np.isin(objects["instance_id"], list(dynamic))
        assert speed[rows].max() > 0.2 and np.all(speed[~rows] == 0)  # static objects (ground, table) never move
        poses = objects["world_from_object"][rows]
        assert np.abs(poses[:, -1, :3, 3] - poses[:, 0, :3, 3]).max() > 0.01
        assert contacts["frame"].dtype == np.int32 and contacts["position"].shape == (len(contacts["frame"]), 3)
        touching = set(contacts["instance_a"].tolist()) | set(contacts["instance_b"].tolist())
        assert touching & dynamic  # the props meet the ground, furniture, each other or a hand
        if meta["scenario"] in ("glass_off_table", "ball_throw", "knock_over"):
            people = {row["id"] for row in meta["instances"] if row["kind"] == "person"}
            feet = np.isin(contacts["instance_b"], list(people)) & (contacts["instance_a"] == 1)
            assert feet.any() and np.all(contacts["impulse"][feet] == 0)  # kinematic foot-ground contacts


def _copy_with(dataset, tmp_path, change):
    copy = shutil.copytree(dataset, tmp_path / "copy")
    shard = copy / "shard-000000.tar"
    samples = read_shard(shard)
    key = next(iter(samples))
    change(samples[key])
    data = sample_tar_bytes(list(samples.items()))
    shard.write_bytes(data)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["shards"][0].update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    (copy / "manifest.json").write_text(json.dumps(manifest))
    return "\n".join(validate_dataset(copy, decode_video=False).errors)


def _edit_contacts(edit):
    def change(members):
        contacts = load_npz(members["contacts.npz"])
        edit(contacts)
        members["contacts.npz"] = npz_bytes(contacts)

    return change


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c["normal"].__setitem__(0, [0.0, 0.0, 2.0]), "contacts.npz/normal: expected unit vectors"),
        (lambda c: c["instance_b"].__setitem__(0, 999), "contacts.npz/instance_a/b: ids [999] are not in the instance table"),
        (lambda c: c["instance_a"].__setitem__(0, c["instance_b"][0]), "expected instance_a < instance_b"),
        (lambda c: c["frame"].__setitem__(0, 30), "contacts.npz/frame: frames outside 0..29"),
        (lambda c: c["impulse"].__setitem__(0, -1.0), "contacts.npz/impulse: expected impulses >= 0"),
        (lambda c: c["position"].__setitem__(0, [np.nan, 0.0, 0.0]), "contacts.npz/position: contains NaN"),
        (lambda c: c.__setitem__("impulse", c["impulse"].astype(np.float32)), "contacts.npz/impulse: dtype float32, expected float64"),
        (lambda c: c.pop("normal"), "contacts.npz: arrays"),
    ],
)
def test_validate_catches_broken_contacts(dataset, tmp_path, edit, message):
    assert message in _copy_with(dataset, tmp_path, _edit_contacts(edit))


def test_validate_catches_a_moving_static_object_and_a_missing_contacts_member(dataset, tmp_path):
    def moving_ground(members):
        objects = load_npz(members["objects.npz"])
        objects["linear_velocity"][0, 3] = [0.0, 1.0, 0.0]  # the ground (static) moves
        members["objects.npz"] = npz_bytes(objects)

    assert "objects.npz/linear_velocity: a static object (dynamic: false) has a non-zero velocity" in _copy_with(dataset, tmp_path, moving_ground)
    shutil.rmtree(tmp_path / "copy")
    assert "expected ['camera.npz', 'contacts.npz'" in _copy_with(dataset, tmp_path, lambda m: m.pop("contacts.npz"))


def test_validate_reads_schema_v2_samples(dataset, tmp_path):
    def as_v2(members):
        meta = json.loads(members["meta.json"])
        meta["schema_version"] = 2
        members["meta.json"] = json.dumps(meta).encode()
        members.pop("contacts.npz")
        objects = load_npz(members["objects.npz"])
        objects.pop("linear_velocity"), objects.pop("angular_velocity")
        members["objects.npz"] = npz_bytes(objects)
        as_raw_layers(members)  # schema v4 compressed them

    assert _copy_with(dataset, tmp_path, as_v2) == ""


def test_schema_v3_and_v4_tables():
    assert "contacts.npz" in members(3) and "contacts.npz" not in members(2)
    assert {"depth.npy", "seg.npy"} <= set(members(3)) and not {"depth.npz", "seg.npz"} & set(members(3))
    assert {"depth.npz", "seg.npz"} <= set(members(4)) and not {"depth.npy", "seg.npy"} & set(members(4))
    assert set(npz_arrays("contacts.npz")) == {"frame", "instance_a", "instance_b", "position", "normal", "impulse"}
    assert {"linear_velocity", "angular_velocity"} <= set(npz_arrays("objects.npz", 3))
    assert "linear_velocity" not in npz_arrays("objects.npz", 2)
    table = schema_table()
    assert "| contacts.npz | normal | float64 | (E, 3) |" in table and "| objects.npz | angular_velocity | float64 | (O, T, 3) |" in table


@pytest.mark.parametrize(
    "physics, message",
    [
        ({"ball_throw": -1}, "scene.physics.ball_throw: expected a weight >= 0, got -1"),
        ({"uniform": 1, "split": "train"}, "scene.physics.split: expected 'id' or 'ood', got 'train'"),
        ({"bowling": 1}, "scene.physics: unknown field 'bowling'"),
        ({"uniform": "lots"}, "scene.physics.uniform: expected a finite number"),
        ({"none": 0}, "scene.physics: expected at least one positive weight"),
    ],
)
def test_bad_physics_config_gives_one_line_errors(tmp_path, physics, message):
    with pytest.raises(ConfigError) as error:
        resolve_config({"scene": {"physics": physics}}, {"out": str(tmp_path)})
    assert message in str(error.value) and "\n" not in str(error.value)


def test_physics_config_round_trips_through_config_yaml(tmp_path):
    config = resolve_config({"scene": {"physics": {"uniform": 2, "none": 1, "split": "ood"}}}, {"out": str(tmp_path)})
    assert config.scene.physics.uniform == 2.0 and config.scene.physics.split == "ood"
    again = resolve_config(yaml.safe_load(yaml.safe_dump(config.to_dict())), {})
    assert again == config


def test_dynamic_props_are_rendered_and_previewed(dataset, tmp_path):
    seen = 0
    for sample in iter_samples(dataset):
        dynamic = [row["id"] for row in sample.meta["instances"] if row["kind"] == "object" and row["dynamic"]]
        seen += bool(np.isin(sample.segmentation, dynamic).any())
    assert seen >= 6  # of 8 clips at 48x36: the props are in view and have their own ids
    assert main(["preview", str(dataset), "--out", str(tmp_path / "preview"), "--max-clips", "2"]) == 0
    assert len(list((tmp_path / "preview").glob("*.png"))) == 2


def test_physics_shards_are_byte_identical_for_the_same_seed(dataset, tmp_path):
    config = dataset.parent / "physics.yaml"
    again = tmp_path / "again"
    assert main(["generate", "--out", str(again), "--config", str(config), "--clips", "8", *ARGS]) == 0
    for name in ("shard-000000.tar", "shard-000001.tar"):
        assert (again / name).read_bytes() == (dataset / name).read_bytes(), name
