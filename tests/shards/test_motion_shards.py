"""Motions in the shards: user files drive characters through ``--motion-dir``, every sample has
``pose.npz/foot_contact`` (schema v2), validate checks it and still reads v1 samples, and the
motion config fields give one-line errors."""

import hashlib
import json
import shutil

import numpy as np
import pytest

from tests.shards.layers_helpers import as_raw_layers

from worldclips.motions.catalog import generate_motion
from worldclips.motions.dance import DanceParams
from worldclips.motions.mannequin_body import MannequinBody
from worldclips.motions.walk import WalkParams
from worldclips.shards.job.config import ConfigError, resolve_config
from worldclips.shards.format.meta_schema import expanded
from worldclips.shards.format.reader import read_shard
from worldclips.motions.safe_arrays import load_npz
from worldclips.shards.format.sample import npz_bytes
from worldclips.shards.format.schema import SCHEMA_VERSION, npz_arrays
from worldclips.shards.format.validate import SampleError, _check_foot_contact, validate_dataset
from worldclips.shards.format.writer import sample_tar_bytes
from tests.motions.mocap_writers import write_amass, write_bvh
from worldclips.cli import main

ARGS = ["--clips", "3", "--no-ray", "--frames", "8", "--size", "40x32", "--clips-per-shard", "3", "--seed", "4", "--quiet"]


@pytest.fixture(scope="module")
def motion_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("mocap")
    body, betas = MannequinBody(), np.zeros(10)
    skeleton = body.skeleton(betas)
    walk = generate_motion(WalkParams(((0.0, 0.0), (4.0, 0.0)), (1.2,)), skeleton, betas, 50.0, 100).motion
    dance = generate_motion(DanceParams((0.0, 0.0), 0.0), skeleton, betas, 30.0, 60).motion
    (root / "amass").mkdir()
    write_amass(root / "amass" / "walk.npz", walk)
    write_bvh(root / "dance.bvh", dance, skeleton.rest_joints, "mixamo")
    return root


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, motion_dir):
    out = tmp_path_factory.mktemp("motions") / "data"
    assert main(["generate", "--out", str(out), "--motion-dir", str(motion_dir), *ARGS]) == 0
    return out


def _samples(dataset):
    return read_shard(dataset / "shard-000000.tar")


def test_user_files_drive_the_characters(dataset, motion_dir):
    assert validate_dataset(dataset).ok
    kinds, files = set(), set()
    for members in _samples(dataset).values():
        meta = expanded(json.loads(members["meta.json"]))  # spec: JSON text in meta.json
        assert meta["schema_version"] == SCHEMA_VERSION == 6
        for character in meta["spec"]["characters"]:
            motion = character["motion"]
            kinds.add(motion["family"])
            files.add(motion["path"])
            assert motion["root"] == str(motion_dir)
    assert kinds == {"file"} and files <= {"amass/walk.npz", "dance.bvh"}


def test_foot_contact_is_in_every_pose_npz(dataset):
    for members in _samples(dataset).values():
        pose = load_npz(members["pose.npz"])
        contact = pose["foot_contact"]
        assert contact.dtype == bool and contact.shape == pose["joints3d"].shape[:2] + (4,)
        assert contact.any()  # the characters stand or walk on the ground
        for k, joint in enumerate((7, 10, 8, 11)):  # heel -> ankle, toe -> toe joint
            assert np.all(pose["joints3d"][:, :, joint, 2][contact[:, :, k]] < 0.25)


def test_config_mixes_procedural_and_file_motions(tmp_path, motion_dir):
    config = resolve_config({"scene": {"motions": {"walk": 1.0, "file": 2.0}}}, {"out": str(tmp_path), "motion_dir": str(motion_dir)})
    assert config.scene.motion_dir == config.motion_dir == str(motion_dir)
    assert config.scene.weights.walk == 1.0 and config.scene.weights.file == 2.0 and config.scene.weights.run == 0.0
    again = resolve_config(json.loads(json.dumps(config.to_dict())), {})  # the saved config.yaml loads back
    assert again == config


@pytest.mark.parametrize(
    "file_values, flags, message",
    [
        ({"scene": {"motions": {"file": 1.0}}}, {}, "scene.motions.file: file motions need a motion directory"),
        ({"scene": {"motions": {"walk": -1.0}}}, {}, "scene.motions.walk: expected a weight >= 0"),
        ({"scene": {"motions": {"fly": 1.0}}}, {}, "unknown field 'fly'"),
        ({"scene": {"motions": {}}}, {}, "scene.motions: expected at least one positive weight"),
        ({}, {"motion_dir": "/nonexistent/mocap"}, "motion_dir: /nonexistent/mocap is not a directory"),
        ({"scene": {"motions": {"walk": 1.0}, "idle_probability": 0.5}}, {}, "scene.idle_probability: give either"),
    ],
)
def test_bad_motion_config_gives_one_line_errors(tmp_path, file_values, flags, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        resolve_config(file_values, {"out": str(tmp_path), **flags})


def test_empty_motion_dir_is_refused(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["generate", "--out", str(tmp_path / "out"), "--motion-dir", str(tmp_path / "empty"), *ARGS]) == 2
    assert "motion_dir: no .npz or .bvh files" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def _rewrite(directory, change):
    shard = directory / "shard-000000.tar"
    samples = read_shard(shard)
    key = next(iter(samples))
    change(samples[key])
    data = sample_tar_bytes(list(samples.items()))
    shard.write_bytes(data)
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["shards"][0].update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    (directory / "manifest.json").write_text(json.dumps(manifest))


def _copy(dataset, tmp_path):
    return shutil.copytree(dataset, tmp_path / "copy")


def test_validate_checks_foot_contact(dataset, tmp_path):
    def float_labels(members):
        pose = load_npz(members["pose.npz"])
        pose["foot_contact"] = pose["foot_contact"].astype(np.float32)
        members["pose.npz"] = npz_bytes(pose)

    copy = _copy(dataset, tmp_path)
    _rewrite(copy, float_labels)
    assert "pose.npz/foot_contact: dtype float32, expected bool" in "\n".join(validate_dataset(copy).errors)

    joints = np.zeros((1, 3, 55, 3), dtype=np.float32)
    joints[0, 1, 10, 2] = 0.4  # the left toe joint 40 cm up in frame 1
    contact = np.zeros((1, 3, 4), dtype=bool)
    _check_foot_contact(contact, joints)
    contact[0, 1, 1] = True
    with pytest.raises(SampleError, match="pose.npz/foot_contact: left_toe in contact with its joint 0.400 m above"):
        _check_foot_contact(contact, joints)


def test_validate_reads_schema_v1_samples(dataset, tmp_path):
    def as_v1(members):
        meta = json.loads(members["meta.json"])
        meta["schema_version"] = 1
        members["meta.json"] = json.dumps(meta).encode()
        pose = load_npz(members["pose.npz"])
        pose.pop("foot_contact")
        members["pose.npz"] = npz_bytes(pose)
        members.pop("contacts.npz")  # schema v3 (tests/shards/test_physics_shards.py)
        objects = load_npz(members["objects.npz"])
        objects.pop("linear_velocity"), objects.pop("angular_velocity")
        members["objects.npz"] = npz_bytes(objects)
        as_raw_layers(members)  # schema v4 compressed them

    copy = _copy(dataset, tmp_path)
    _rewrite(copy, as_v1)
    assert validate_dataset(copy).ok
    assert "foot_contact" not in npz_arrays("pose.npz", 1) and "foot_contact" in npz_arrays("pose.npz", 2)
