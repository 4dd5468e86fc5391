"""validate and preview read datasets on object storage (fsspec URLs) as well as local folders:
an S3 bucket (moto's server on loopback, as tests/shards/test_storage_s3.py) and fsspec's memory
filesystem. Shards are streamed and hashed in one pass; a corrupt, truncated, missing or unlisted
remote shard is reported; nothing is written to the remote location; previews stay local."""

import json

import fsspec
import pytest

from worldclips.cli import main
from worldclips.shards.format.reader import first_sample, iter_samples, read_shard, shard_locations
from worldclips.shards.format.validate import validate_dataset

ARGS = ["--clips", "3", "--frames", "4", "--size", "32x24", "--clips-per-shard", "2", "--seed", "5", "--no-ray", "--quiet"]
SHARDS = ["shard-000000.tar", "shard-000001.tar"]


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    out = tmp_path_factory.mktemp("remote") / "data"
    assert main(["generate", "--out", str(out), *ARGS]) == 0
    return out


def upload(local, url: str) -> dict[str, bytes]:
    """Copy the dataset's files to ``url``; their bytes by name."""
    fs, root = fsspec.core.url_to_fs(url)
    files = {path.name: path.read_bytes() for path in sorted(local.iterdir()) if path.is_file()}
    for name, data in files.items():
        fs.pipe_file(f"{root}/{name}", data)
    return files


def contents(url: str) -> dict[str, bytes]:
    fs, root = fsspec.core.url_to_fs(url)
    fs.invalidate_cache()
    return {path[len(root) + 1:]: fs.cat_file(path) for path in sorted(fs.find(root))}


@pytest.fixture
def memory(local, request):
    url = f"memory://wc-remote/{request.node.name}"
    upload(local, url)
    yield url
    fsspec.filesystem("memory").rm(url.removeprefix("memory://"), recursive=True)


def test_validate_and_preview_a_memory_dataset_without_writing_to_it(local, memory, tmp_path, capsys):
    before = contents(memory)
    report = validate_dataset(memory)
    assert report.ok, report.errors
    assert (report.shards, report.samples) == (2, 3) and report.samples == validate_dataset(local).samples
    assert [str(s) for s in shard_locations(memory)] == [f"{memory}/{name}" for name in SHARDS]
    assert read_shard(f"{memory}/{SHARDS[0]}") == read_shard(local / SHARDS[0])  # streamed, same members
    assert first_sample(f"{memory}/{SHARDS[1]}") == read_shard(local / SHARDS[1])["seed5-00000002"]
    assert [s.key for s in iter_samples(memory)] == [s.key for s in iter_samples(local)]
    assert main(["validate", memory + "/"]) == 0
    assert "OK: 2 shards, 3 samples" in capsys.readouterr().out
    out = tmp_path / "preview"
    assert main(["preview", memory, "--out", str(out), "--max-clips", "2"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["seed5-00000000.mp4", "seed5-00000000.png", "seed5-00000001.mp4", "seed5-00000001.png"]
    assert contents(memory) == before  # read only
    assert main(["preview", memory, "--out", "memory://elsewhere"]) == 2  # previews are local files
    assert main(["validate", memory, "--cross-check"]) == 2
    assert contents(memory) == before


def test_a_corrupt_truncated_missing_or_unlisted_remote_shard_is_reported(memory):
    fs = fsspec.filesystem("memory")
    root = memory.removeprefix("memory://")
    data = fs.cat_file(f"{root}/{SHARDS[0]}")
    fs.pipe_file(f"{root}/{SHARDS[0]}", data[:2000] + bytes([data[2000] ^ 1]) + data[2001:])  # one flipped bit
    fs.pipe_file(f"{root}/shard-000009.tar", data)
    errors = validate_dataset(memory).errors
    assert errors[0] == "shard-000009.tar: shard not listed in the manifest"
    assert errors[1] == f"{SHARDS[0]}: size or sha256 differs from the manifest (corrupt or truncated)" and len(errors) == 2
    fs.pipe_file(f"{root}/{SHARDS[0]}", data + b"\0" * 4096)  # longer than recorded: reading stops there
    fs.rm(f"{root}/shard-000009.tar")
    fs.pipe_file(f"{root}/{SHARDS[1]}", fs.cat_file(f"{root}/{SHARDS[1]}")[:3000])  # truncated
    assert validate_dataset(memory).errors == [f"{name}: size or sha256 differs from the manifest (corrupt or truncated)" for name in SHARDS]
    fs.rm(f"{root}/{SHARDS[1]}")
    assert f"{SHARDS[1]}: listed in the manifest but missing" in validate_dataset(memory).errors


def test_hostile_or_missing_remote_datasets_are_reported_in_one_line(memory, capsys):
    fs = fsspec.filesystem("memory")
    root = memory.removeprefix("memory://")
    manifest = json.loads(fs.cat_file(f"{root}/manifest.json"))
    manifest["shards"][0]["name"] = "../other/shard-000000.tar"
    fs.pipe_file(f"{root}/manifest.json", json.dumps(manifest).encode())
    errors = validate_dataset(memory).errors
    assert any("does not match shard-NNNNNN.tar" in e for e in errors), errors
    assert validate_dataset("memory://wc-remote/nothing-here").errors == ["memory://wc-remote/nothing-here: no dataset there"]
    fs.rm(f"{root}/manifest.json")
    assert "manifest.json: missing or unreadable" in validate_dataset(memory).errors[0]
    assert main(["validate", "nosuchscheme://bucket/data"]) != 0
    assert len(capsys.readouterr().out.strip().splitlines()) <= 2


pytest.importorskip("moto.server")  # s3_endpoint: tests/shards/conftest.py


def test_validate_and_preview_a_dataset_in_an_s3_bucket(s3_endpoint, local, tmp_path, capsys):
    url = "s3://worldclips-remote/datasets/run1"
    fsspec.filesystem("s3").mkdir("worldclips-remote")
    files = upload(local, url)
    assert main(["validate", url]) == 0
    assert "OK: 2 shards, 3 samples" in capsys.readouterr().out
    assert main(["preview", url, "--out", str(tmp_path / "preview"), "--max-clips", "1"]) == 0
    assert sorted(p.name for p in (tmp_path / "preview").iterdir()) == ["seed5-00000000.mp4", "seed5-00000000.png"]
    fs = fsspec.filesystem("s3")
    data = files[SHARDS[1]]
    fs.pipe_file(f"{url}/{SHARDS[1]}", data[:-1024] + b"\1" * 1024)  # damaged end blocks
    assert validate_dataset(url).errors == [f"{SHARDS[1]}: size or sha256 differs from the manifest (corrupt or truncated)"]
    assert main(["validate", url]) == 1
    assert contents(url) == {**files, SHARDS[1]: data[:-1024] + b"\1" * 1024}  # nothing written by validate or preview
