"""Hugging Face ``datasets`` reads worldclips shards: meta.json keeps one schema across every clip
(physics setups and none, scenario clips, re-draws), so ``load_dataset("webdataset", ...)`` loads a
mixed dataset in regular and streaming mode with every meta.json field equal to the shard's JSON;
``hf_features`` declares the types, so it loads whichever clips come first."""

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from worldclips.cli import main
from worldclips.motions.mannequin_body import MannequinBody
from worldclips.scenes.build import build_scene
from worldclips.scenes.physics_config import PhysicsConfig
from worldclips.scenes.sampling import sample_clip_spec
from worldclips.scenes.scene_config import SceneConfig
from worldclips.shards.format.meta_schema import (
    JSON_TEXT_FIELDS,
    expanded,
    hf_features,
    json_text,
    parsed,
    schema_problems,
    spec_from_meta,
    type_tree,
)
from worldclips.shards.format.reader import first_sample
from worldclips.shards.format.sample import build_meta
from worldclips.shards.format.video import decode_mp4

datasets = pytest.importorskip("datasets")

ARGS = ["--frames", "12", "--size", "32x24", "--no-ray", "--quiet", "--max-redraws", "0"]
MIX = {"glass_off_table": 1, "ball_throw": 1, "knock_over": 1, "stack_topple": 1, "uniform": 1, "collision": 1, "parabola": 1, "none": 2}


def shape_tree(tree):
    """A type tree with every list reduced to its element's tree (an empty list: any element)."""
    if isinstance(tree, dict):
        return {key: shape_tree(value) for key, value in tree.items()}
    if isinstance(tree, list):
        assert len(tree) <= 1, f"a list mixes element types: {tree}"
        return [shape_tree(tree[0])] if tree else []
    return tree


def same_shape(a, b, path="meta.json") -> list[str]:
    """Where two shape trees differ (an empty list matches any list)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a.keys() ^ b.keys())} in one only"]
        return [p for key in a for p in same_shape(a[key], b[key], f"{path}.{key}")]
    if isinstance(a, list) and isinstance(b, list):
        return same_shape(a[0], b[0], f"{path}[]") if a and b else []
    return [] if a == b else [f"{path}: {a!r} against {b!r}"]


def test_meta_of_a_physics_clip_and_a_default_clip_have_one_key_tree():
    body = MannequinBody()
    metas = []
    for config, scenario in ((SceneConfig(physics=PhysicsConfig(ball_throw=1.0)), None), (SceneConfig(), None),
                             (SceneConfig(physics=PhysicsConfig(uniform=1.0)), {"name": "x", "roles": {"ball": "ball0"}})):  # fmt: skip
        spec = sample_clip_spec(config, 3, 0, 24.0, 6, 32, 24)
        meta = build_meta(f"u-{len(metas):08d}", "u", spec, build_scene(spec, body), body.name, "raster", {"numpy": "2"}, scenario)
        assert spec_from_meta(meta) == spec  # the spec round trip: meta.json -> ClipSpec
        metas.append(meta)
    physics, plain, drawn = metas
    assert parsed(physics, "scenario_params", "physics")["setup"] == "ball_throw"
    assert parsed(plain, "scenario_params", "physics") is None and parsed(plain, "scenario_params", "scenario") is None
    assert parsed(drawn, "scenario_params", "scenario")["roles"] == {"ball": "ball0"} and parsed(plain, "properties") == {}
    drawn["properties"], drawn["verified"] = json_text({"seen": {"check": "visible", "passed": False}}), False  # as the job does
    drawn["redraw"] = {"attempt": 2, "seed": 77}
    trees = [shape_tree(type_tree(json.loads(json.dumps(meta)))) for meta in metas]
    assert same_shape(trees[0], trees[1]) == [] and same_shape(trees[0], trees[2]) == []
    assert trees[0]["scenario_params"]["physics"] == trees[0]["spec"] == trees[0]["properties"] == "str"
    assert trees[0]["fps"] == trees[0]["scenario_params"]["fov_deg"] == "float"
    view = expanded(physics)  # the object view worldclips' readers use
    assert view["spec"]["physics"]["setup"] == "ball_throw" and physics["spec"] == spec_from_meta(physics).to_json()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> list[Path]:
    """Shards of four runs, in load order: a scenario clip with people, props and a dynamic prop
    first (load_dataset infers types from the first five clips), a physics mix with default clips
    and people-less setups, a scenario mixture, and a people-less physics clip."""
    root = tmp_path_factory.mktemp("hf")
    (root / "mix.yaml").write_text(yaml.safe_dump({"scene": {"physics": MIX}}))
    (root / "bare.yaml").write_text(yaml.safe_dump({"scene": {"physics": {"uniform": 1}}}))
    runs = {
        "lead": ["--scenario", "falling_glass", "--clips", "1", "--seed", "1"],
        "mix": ["--config", str(root / "mix.yaml"), "--clips", "8", "--clips-per-shard", "4", "--seed", "2"],
        "scen": ["--scenario", "physics_parabola:1,orbit_walk:1", "--clips", "2", "--seed", "2"],
        "bare": ["--config", str(root / "bare.yaml"), "--clips", "1", "--seed", "1"],
    }
    shards = []
    for name, extra in runs.items():
        assert main(["generate", "--out", str(root / name), "--run-name", name, *ARGS, *extra]) == 0
        shards += sorted((root / name).glob("shard-*.tar"))
    return shards


def shard_members(shards: list[Path]) -> dict[str, dict[str, bytes]]:
    samples: dict[str, dict[str, bytes]] = {}
    for shard in shards:
        with tarfile.open(shard) as archive:
            for info in archive:
                key, _, member = info.name.partition(".")
                samples.setdefault(key, {})[member] = archive.extractfile(info).read()
    return samples


def test_the_mixed_dataset_has_one_meta_schema(dataset):
    samples = shard_members(dataset)
    metas = {key: json.loads(members["meta.json"]) for key, members in samples.items()}
    for key, meta in metas.items():
        assert schema_problems(meta) == [], key
    setups = {parsed(meta, "scenario_params", "physics") is None for meta in metas.values()}
    people = {meta["scenario_params"]["num_people"] == 0 for meta in metas.values()}
    assert setups == people == {True, False}  # physics and none, people and none
    assert {meta["verified"] for meta in metas.values()} >= {True} and any(parsed(m, "properties") for m in metas.values())
    trees = [shape_tree(type_tree(meta)) for meta in metas.values()]
    assert all(same_shape(trees[0], tree) == [] for tree in trees)


def check_rows(rows: list[dict], samples: dict[str, dict[str, bytes]]) -> None:
    assert [row["__key__"] for row in rows] == list(samples)  # every clip, in shard order
    for row in rows:
        members = samples[row["__key__"]]
        assert row["meta.json"] == json.loads(members["meta.json"]), row["__key__"]
        video = row["rgb.mp4"]["bytes"] if isinstance(row["rgb.mp4"], dict) else row["rgb.mp4"]
        assert video == members["rgb.mp4"]
        meta = row["meta.json"]
        assert decode_mp4(video).shape == (meta["num_frames"], meta["height"], meta["width"], 3)
        with np.load(io.BytesIO(members["pose.npz"])) as pose:
            for name in ("joints3d", "instance_id"):
                stored = pose[name]
                loaded = np.asarray(row["pose.npz"][name], dtype=stored.dtype)
                assert np.array_equal(loaded, stored) if stored.size else loaded.size == 0
        for path in JSON_TEXT_FIELDS:
            value = meta
            for name in path:
                value = value[name]
            assert isinstance(value, str), path


def test_load_dataset_regular_and_streaming(dataset, tmp_path):
    samples = shard_members(dataset)
    files = {"train": [str(p) for p in dataset]}
    regular = datasets.load_dataset("webdataset", data_files=files, split="train", cache_dir=str(tmp_path / "cache"))
    assert regular.num_rows == len(samples) == 12
    features = regular.features["meta.json"]
    assert features == hf_features(first_sample(str(dataset[0])))["meta.json"]  # inferred = declared
    for path in JSON_TEXT_FIELDS:
        feature = features[path[0]] if len(path) == 1 else features[path[0]][path[1]]
        assert feature == datasets.Value("string"), path
    regular = regular.cast_column("rgb.mp4", datasets.Video(decode=False))  # bytes, no torchcodec needed
    check_rows(list(regular), samples)
    streaming = datasets.load_dataset("webdataset", data_files=files, split="train", streaming=True).decode(False)
    check_rows(list(streaming), samples)


def test_declared_features_load_a_dataset_whatever_comes_first(dataset, tmp_path):
    """A people-less clip first: its pose arrays are empty, so the types of five clips say nothing
    about them (and datasets 5.2.0 cannot write a batch that starts with an empty multi-dimensional
    array: one clip per batch)."""
    ordered = [dataset[-1], *dataset[:-1]]  # the bare physics clip first
    samples = shard_members(ordered)
    features = hf_features(first_sample(str(ordered[0])))
    files = {"train": [str(p) for p in ordered]}
    regular = datasets.load_dataset("webdataset", data_files=files, split="train", features=features, writer_batch_size=1,
                                    cache_dir=str(tmp_path / "cache"))  # fmt: skip
    check_rows(list(regular), samples)
    streaming = datasets.load_dataset("webdataset", data_files=files, split="train", streaming=True, features=features)
    check_rows(list(streaming), samples)
