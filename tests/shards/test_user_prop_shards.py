"""User meshes through ``worldclips generate --prop-dir``: the clips show them (instances labelled
with the user's category, in the segmentation), the run records each file's sha256, and bad
folders stop the run before anything is written."""

import json

import numpy as np
import pytest

from worldclips.cli import main
from worldclips.shards.format.meta_schema import expanded
from worldclips.shards.format.reader import read_shard
from worldclips.shards.format.validate import validate_dataset
from worldclips.scenes.serialization import to_jsonable
from worldclips.shards.job.config import ConfigError, load_yaml_config, resolve_config
from tests.scenes.user_prop_files import write_folder
from tests.shards.layers_helpers import layers

ARGS = ["--clips", "2", "--no-ray", "--frames", "4", "--size", "64x48", "--clips-per-shard", "2", "--seed", "1", "--quiet"]


@pytest.fixture(scope="module")
def prop_dir(tmp_path_factory):
    return write_folder(tmp_path_factory.mktemp("props"))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, prop_dir):
    out = tmp_path_factory.mktemp("user_props") / "data"
    config = tmp_path_factory.mktemp("config") / "config.yaml"
    config.write_text("scene: {props: [4, 6], user_prop_share: 1.0}\n")
    assert main(["generate", "--out", str(out), "--prop-dir", str(prop_dir), "--config", str(config), *ARGS]) == 0
    return out


def test_clips_show_the_user_meshes_with_their_labels(dataset, prop_dir):
    assert validate_dataset(dataset).ok
    labels_seen = set()
    for members in read_shard(dataset / "shard-000000.tar").values():
        meta = expanded(json.loads(members["meta.json"]))
        spec = meta["spec"]
        meshes = [p for p in spec["props"] if p["category"] == "mesh"]
        assert meshes and all(p["asset"]["file"].startswith(str(prop_dir)) for p in meshes)
        by_name = {row["name"]: row for row in meta["instances"]}
        segmentation = layers(members)[1]
        for prop in meshes:
            row = by_name[prop["name"]]
            assert row["category"] == prop["asset"]["label"]
            labels_seen.add(row["category"])
        assert set(meta["scenario_params"]["prop_categories"]) & {"floor lamp", "ring", "crate"}
        assert np.isin([by_name[p["name"]]["id"] for p in meshes], segmentation).any()
    assert labels_seen


def test_the_run_records_the_meshes_and_its_config_runs_again(dataset, tmp_path):
    saved = load_yaml_config(dataset / "config.yaml")
    assert {entry["label"] for entry in saved["user_props"]} == {"floor lamp", "ring", "crate"}
    assert all(len(entry["sha256"]) == 64 for entry in saved["user_props"])
    again = resolve_config(saved, {"out": str(tmp_path / "again")})
    assert to_jsonable(again.user_props) == saved["user_props"]


def test_bad_prop_folders_stop_the_run_with_one_line(tmp_path):
    with pytest.raises(ConfigError, match="prop_dir: .* is not a directory"):
        resolve_config({}, {"out": str(tmp_path / "o"), "prop_dir": str(tmp_path / "missing")})
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="has no props.yaml"):
        resolve_config({}, {"out": str(tmp_path / "o"), "prop_dir": str(tmp_path / "empty")})
    with pytest.raises(ConfigError, match="user_prop_share: expected 0..1"):
        resolve_config({"scene": {"user_prop_share": 2}}, {"out": str(tmp_path / "o")})
    assert not (tmp_path / "o").exists()
