"""PBR textures through ``worldclips generate --texture-dir``: photo-look clips record the sets
their surfaces use (files and sha256), the run's config records the folder's sets and runs
again, and bad folders stop the run before anything is written."""

import json

import pytest

from worldclips.cli import main
from worldclips.scenes.serialization import to_jsonable
from worldclips.shards.format.meta_schema import expanded
from worldclips.shards.format.reader import read_shard
from worldclips.shards.format.validate import validate_dataset
from worldclips.shards.job.config import ConfigError, load_yaml_config, resolve_config
from tests.scenes.texture_files import write_folder

ARGS = ["--clips", "4", "--no-ray", "--frames", "3", "--size", "48x32", "--clips-per-shard", "4", "--seed", "3", "--quiet"]


def test_clips_use_the_sets_and_the_run_records_them(tmp_path):
    folder = write_folder(tmp_path / "textures")
    out = tmp_path / "data"
    assert main(["generate", "--out", str(out), "--texture-dir", str(folder), *ARGS]) == 0
    assert validate_dataset(out).ok
    used = set()
    for members in read_shard(out / "shard-000000.tar").values():
        spec = expanded(json.loads(members["meta.json"]))["spec"]
        room = spec.get("room") or {}
        for material in [spec["ground"], room.get("wall") or {}] + [p["material"] for p in spec["props"]]:
            texture = material.get("texture")
            if texture:
                assert texture["color"].startswith(str(folder)) and len(texture["color_sha256"]) == 64
                used.add(texture["name"])
    assert used  # 4 clips: some ground, floor, wall or prop drew a set
    saved = load_yaml_config(out / "config.yaml")
    assert {entry["name"] for entry in saved["textures"]} == {"Quadrants", "Tilted"}
    again = resolve_config(saved, {"out": str(tmp_path / "again")})
    assert to_jsonable(again.textures) == saved["textures"]


def test_bad_texture_folders_stop_the_run_with_one_line(tmp_path):
    with pytest.raises(ConfigError, match="texture_dir: .* is not a directory"):
        resolve_config({}, {"out": str(tmp_path / "o"), "texture_dir": str(tmp_path / "missing")})
    folder = write_folder(tmp_path / "t", "Quadrants: {uses: [sky], size: 2}\n")
    with pytest.raises(ConfigError, match="uses: expected some of"):
        resolve_config({}, {"out": str(tmp_path / "o"), "texture_dir": str(folder)})
    assert main(["generate", "--out", str(tmp_path / "o"), "--texture-dir", str(folder), *ARGS]) != 0
    assert not (tmp_path / "o").exists()
