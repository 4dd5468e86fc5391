"""--out s3://bucket/prefix against a real S3-compatible server (moto's server mode) on loopback:
the farm writes the same objects as a local run, nothing temporary is left, and --resume
regenerates missing and corrupt objects. Credentials and the endpoint come from the standard
AWS environment variables, as they would for a real bucket."""

import json

import pytest

from worldclips.shards.format.storage import FsspecStorage, LocalStorage, open_storage
from worldclips.cli import main

pytest.importorskip("moto.server")  # s3_endpoint: tests/shards/conftest.py

ARGS = ["--clips", "6", "--frames", "3", "--size", "32x24", "--clips-per-shard", "2", "--seed", "5", "--quiet"]
SHARDS = ["shard-000000.tar", "shard-000001.tar", "shard-000002.tar"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("s3ref") / "reference"
    assert main(["generate", "--out", str(out), *ARGS, "--no-ray"]) == 0
    return out


def _objects(storage):
    return {name: storage.read_bytes(name) for name in storage.names()}


def test_storage_picks_the_backend_and_writes_whole_objects(s3_endpoint, tmp_path):
    assert isinstance(open_storage(str(tmp_path)), LocalStorage)
    assert isinstance(open_storage(f"file://{tmp_path}"), LocalStorage)
    s3 = open_storage("s3://unit-bucket/some/prefix")
    assert isinstance(s3, FsspecStorage) and s3.atomic_upload
    assert not s3.exists() and s3.names() == []
    s3.makedirs()
    s3.write_bytes("a.bin", b"x" * 1000)
    assert s3.names() == ["a.bin"] and s3.digest("a.bin")[0] == 1000
    s3.remove("a.bin")
    s3.remove("never-there")
    assert s3.names() == []
    memory = open_storage("memory://wc-test/run")  # no atomic upload: temporary name, then mv
    assert not memory.atomic_upload
    memory.makedirs()
    memory.write_bytes("b.bin", b"abc")
    assert memory.names() == ["b.bin"] and memory.read_bytes("b.bin") == b"abc"


def test_generate_to_s3_then_resume(s3_endpoint, reference, capsys):
    url = "s3://worldclips-test/runs/demo"
    assert main(["generate", "--out", url, *ARGS, "--workers", "2"]) == 0
    storage = open_storage(url)
    objects = _objects(storage)
    assert sorted(objects) == ["config.yaml", "manifest.json", *SHARDS]  # no .tmp-*, no completion records
    for name in SHARDS:
        assert objects[name] == (reference / name).read_bytes(), name
    manifest = json.loads(objects["manifest.json"])
    assert manifest["shards"] == json.loads((reference / "manifest.json").read_text())["shards"]

    capsys.readouterr()
    assert main(["generate", "--out", url, *ARGS, "--no-ray"]) == 2
    assert "already holds a dataset" in capsys.readouterr().err

    storage.remove(SHARDS[1])
    storage.write_bytes(SHARDS[2], objects[SHARDS[2]][:1000])  # truncated
    assert main(["generate", "--out", url, *ARGS, "--resume", "--no-ray"]) == 0
    again = _objects(storage)
    assert sorted(again) == sorted(objects)
    for name in SHARDS:
        assert again[name] == objects[name], name
    summary = json.loads(again["manifest.json"])["summary"]
    assert (summary["shards_reused"], summary["shards_generated"]) == (1, 2)
