"""Hostile datasets, configs, motion files and output folders (small generated fixtures).

Every case gives its one line (or its safe behaviour): nothing is written outside the output
folder, no command runs, no user file is lost, and peak memory stays bounded (measured with
resource.getrusage in a subprocess).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from worldclips.cli import main

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--clips", "1", "--frames", "3", "--size", "32x24", "--clips-per-shard", "1", "--quiet", "--no-ray"]
MEMORY_LIMIT_MB = 500


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hostile") / "good"
    assert main(["generate", "--out", str(out), *SMALL]) == 0
    return out


def _copy(good: Path, tmp_path: Path, name: str = "data") -> Path:
    copy = tmp_path / name
    shutil.copytree(good, copy)
    return copy


def _members(path: Path) -> list[tuple[str, bytes]]:
    with tarfile.open(path) as archive:
        return [(info.name, archive.extractfile(info).read()) for info in archive]


def _write_tar(path: Path, members: list[tuple[str, bytes]]) -> None:
    with tarfile.open(path, "w") as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def _reseal(dataset: Path, shard: str = "shard-000000.tar", keys: list[str] | None = None) -> None:
    """Make the manifest agree with a tampered shard (size, sha256, keys), as an attacker would."""
    manifest = json.loads((dataset / "manifest.json").read_text())
    data = (dataset / shard).read_bytes()
    for entry in manifest["shards"]:
        if entry["name"] == shard:
            entry.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
            if keys is not None:
                entry["keys"] = keys
    (dataset / "manifest.json").write_text(json.dumps(manifest))


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def _files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


# 1. Nothing is written outside the output folder -------------------------------------------------

@pytest.mark.parametrize("kind", ["dotdot", "absolute"])
def test_preview_never_names_files_after_a_hostile_key(good, tmp_path, capsys, kind):
    data = _copy(good, tmp_path)
    target = tmp_path / "elsewhere"
    target.mkdir()
    hostile = "../elsewhere/x-00000000" if kind == "dotdot" else f"{target}/x-00000000"
    members = [(hostile + "." + name.partition(".")[2], blob) for name, blob in _members(data / "shard-000000.tar")]
    _write_tar(data / "shard-000000.tar", members)
    _reseal(data, keys=[hostile])
    before = _files_under(tmp_path)
    assert main(["preview", str(data), "--out", str(tmp_path / "preview")]) == 1
    assert "does not match <run>-<index:08d>" in _one_line(capsys)
    assert _files_under(tmp_path) == before  # no .mp4/.png anywhere, no preview folder
    assert main(["validate", str(data)]) == 1


# 2, 3. Manifests name shards inside their dataset; no shell ---------------------------------------

@pytest.mark.parametrize("name", ["../x.tar", "/etc/passwd", "/dev/zero", "pipe:touch MARKER", "shard-000000.tar; touch MARKER"])
def test_manifest_shard_names_outside_the_dataset_are_refused(good, tmp_path, capsys, name):
    from worldclips.train.sources import shard_urls

    data = _copy(good, tmp_path)
    (tmp_path / "x.tar").write_bytes((data / "shard-000000.tar").read_bytes())
    manifest = json.loads((data / "manifest.json").read_text())
    manifest["shards"][0]["name"] = name.replace("MARKER", str(tmp_path / "marker"))
    (data / "manifest.json").write_text(json.dumps(manifest))
    assert main(["validate", str(data)]) == 1
    assert "does not match shard-NNNNNN.tar" in capsys.readouterr().out
    assert main(["preview", str(data), "--out", str(tmp_path / "preview")]) == 1
    assert "does not match shard-NNNNNN.tar" in _one_line(capsys)
    with pytest.raises(ValueError, match="does not match shard-NNNNNN.tar"):
        shard_urls(data)
    assert not (tmp_path / "marker").exists() and not (tmp_path / "preview").exists()


def test_a_symlinked_shard_pointing_outside_is_refused(good, tmp_path, capsys):
    data = _copy(good, tmp_path)
    outside = tmp_path / "outside.tar"
    (data / "shard-000000.tar").rename(outside)
    (data / "shard-000000.tar").symlink_to(outside)
    assert main(["validate", str(data)]) == 1
    assert "outside the dataset" in capsys.readouterr().out
    assert main(["preview", str(data), "--out", str(tmp_path / "preview")]) == 1
    assert "outside the dataset" in _one_line(capsys)


def test_remote_shards_are_read_through_fsspec_and_a_remote_manifest_runs_no_command(good, tmp_path):
    import fsspec

    from worldclips.train.shard_stream import shard_samples
    from worldclips.train.sources import shard_urls

    fs = fsspec.filesystem("memory")
    root = "memory://hostile-remote"
    fs.pipe(f"{root}/shard-000000.tar", (good / "shard-000000.tar").read_bytes())
    fs.pipe(f"{root}/manifest.json", (good / "manifest.json").read_bytes())
    urls = shard_urls(root)
    assert urls == [f"{root}/shard-000000.tar"]
    (sample,) = list(shard_samples(urls))
    assert sample["__key__"] == "seed0-00000000" and "depth.npz" in sample
    marker = tmp_path / "marker"
    fs.pipe(f"{root}/manifest.json", json.dumps({"shards": [{"name": f"shard-000000.tar; touch {marker}"}]}).encode())
    with pytest.raises(ValueError, match="does not match shard-NNNNNN.tar"):
        shard_urls(root)
    with pytest.raises(ValueError, match="pipe: sources are refused"):
        shard_urls(f"pipe:touch {marker}")
    assert not marker.exists()
    fs.rm(root, recursive=True)


# 4. One writer per output folder -------------------------------------------------------------------

def test_two_concurrent_generates_into_one_folder(tmp_path):
    out = tmp_path / "shared"
    args = [sys.executable, "-m", "worldclips", "generate", "--out", str(out), "--clips", "2", "--frames", "24",
            "--size", "64x48", "--clips-per-shard", "1", "--quiet", "--no-ray"]  # fmt: skip
    first = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (out / ".worldclips.lock").exists() and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.05)
    second = subprocess.run(args, capture_output=True, text=True, timeout=120)
    _, first_err = first.communicate(timeout=300)
    assert first.returncode == 0, first_err
    assert second.returncode == 1
    line = second.stderr.strip()
    assert len(line.splitlines()) == 1 and "is being written by another worldclips generate" in line
    assert f"pid {first.pid}" in line
    assert not (out / ".worldclips.lock").exists()
    assert main(["validate", str(out)]) == 0


def test_a_lock_left_by_a_dead_run_is_taken_over(tmp_path):
    import socket

    out = tmp_path / "stale"
    out.mkdir()
    (out / ".worldclips.lock").write_text(json.dumps({"host": socket.gethostname(), "pid": 4194303, "started": "earlier"}))
    assert main(["generate", "--out", str(out), *SMALL]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["config.yaml", "manifest.json", "shard-000000.tar"]


# 5, 6. User files are never deleted; a failed run keeps the previous dataset ----------------------

def test_overwrite_refuses_the_home_root_and_current_folders(good, tmp_path, capsys, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.yaml").write_text("my editor settings\n")
    (home / "manifest.json").write_text("{}\n")
    monkeypatch.setenv("HOME", str(home))
    assert main(["generate", "--out", str(home), "--overwrite", *SMALL]) == 2
    assert "refuses your home folder" in _one_line(capsys)
    monkeypatch.chdir(home)
    assert main(["generate", "--out", ".", "--overwrite", *SMALL]) == 2
    assert "refuses" in _one_line(capsys)
    assert (home / "config.yaml").read_text() == "my editor settings\n" and (home / "manifest.json").read_text() == "{}\n"
    assert main(["generate", "--out", "/", "--overwrite", *SMALL]) == 2
    assert "refuses the root folder" in _one_line(capsys)


def test_temporary_looking_user_files_are_never_removed(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    keep = {".tmp-notes.txt": b"mine", ".tmp-shard-000000.tar.123": b"also mine", "notes.txt": b"mine too"}
    for name, data in keep.items():
        (out / name).write_bytes(data)
    assert main(["generate", "--out", str(out), *SMALL]) == 0
    for name, data in keep.items():
        assert (out / name).read_bytes() == data
    assert main(["generate", "--out", str(out), *SMALL, "--resume"]) == 0
    assert all((out / name).exists() for name in keep)


def test_a_failed_overwrite_keeps_the_previous_dataset(good, tmp_path):
    from worldclips.shards.job.config import resolve_config
    from worldclips.shards.job.generate import generate
    from worldclips.shards.job.shard_task import ClipsFailed, FaultHooks

    data = _copy(good, tmp_path)
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    config = resolve_config({}, {"out": str(data), "clips": 2, "frames": 3, "size": "32x24", "clips_per_shard": 1,
                                 "ray": False, "max_redraws": 0, "seed": 9})  # fmt: skip
    with pytest.raises(ClipsFailed):
        generate(config, progress=False, overwrite=True, hooks=FaultHooks(failing_draws=((0, 1),)))
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before
    assert main(["validate", str(data)]) == 0
    assert generate(config, progress=False, overwrite=True) == data  # a run that works replaces it
    assert sorted(p.name for p in data.iterdir()) == ["config.yaml", "manifest.json", "shard-000000.tar", "shard-000001.tar"]


# 7, 8. Bounded memory and one line for tiny hostile inputs ------------------------------------------

def _bounded(tmp_path: Path, argv: list[str]) -> tuple[int, str, float, float]:
    """Run the CLI in a subprocess: (exit status, stderr + stdout, peak RSS in MB, seconds).

    The peak is the process's own high-water mark: getrusage's ru_maxrss, unless Linux carried a
    larger one over from the forking parent (it keeps ru_maxrss across exec), then VmHWM, the
    high-water mark of the process's own address space."""
    code = (
        "import resource, sys\n"
        "from worldclips.cli import main\n"
        f"status = main({argv!r})\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "try:\n"
        "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
        "    peak = min(peak, int(hwm) / 1024)\n"
        "except (OSError, IndexError):\n"
        "    pass\n"
        "print('PEAK_MB', peak, file=sys.stderr)\n"
        "sys.exit(status)\n"
    )
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    seconds = time.monotonic() - started
    lines = [line for line in result.stderr.splitlines() if not line.startswith("PEAK_MB")]
    peak = float(next(line.split()[1] for line in result.stderr.splitlines() if line.startswith("PEAK_MB")))
    return result.returncode, "\n".join(lines) + result.stdout, peak, seconds


ALIAS_BOMB = (
    'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
)


@pytest.mark.parametrize("text, message", [(ALIAS_BOMB, "aliases (*a) are not allowed"),
                                           ("frames: 3\nclips: 1\nframes: 9\n", "duplicate key 'frames'")])
def test_yaml_alias_bombs_and_duplicate_keys_give_one_line(tmp_path, text, message):
    config = tmp_path / "c.yaml"
    config.write_text(text)
    status, output, peak, seconds = _bounded(tmp_path, ["generate", "--out", str(tmp_path / "o"), "--config", str(config)])
    assert status == 2 and message in output and len(output.strip().splitlines()) == 1, output
    assert peak < MEMORY_LIMIT_MB and seconds < 30
    assert not (tmp_path / "o").exists()


def _sample_with(good: Path, tmp_path: Path, member: str, data: bytes) -> Path:
    copy = _copy(good, tmp_path)
    members = [(name, data if name.endswith("." + member) else blob) for name, blob in _members(copy / "shard-000000.tar")]
    _write_tar(copy / "shard-000000.tar", members)
    _reseal(copy)
    return copy


def test_a_tar_member_declaring_2_gib_is_refused_unread(good, tmp_path):
    copy = _copy(good, tmp_path)
    members = _members(copy / "shard-000000.tar")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for name, blob in members[:1]:
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            archive.addfile(info, io.BytesIO(blob))
        big = tarfile.TarInfo(members[1][0])
        big.size = 2 << 30  # the data is not there: a sparse or truncated member that claims 2 GiB
        buffer.write(big.tobuf(format=tarfile.GNU_FORMAT))
    (copy / "shard-000000.tar").write_bytes(buffer.getvalue() + b"\0" * 4096)
    _reseal(copy)
    for argv in (["validate", str(copy)], ["preview", str(copy), "--out", str(tmp_path / "p")]):
        status, output, peak, seconds = _bounded(tmp_path, argv)
        assert status == 1 and "declares 2147483648 bytes" in output, output
        assert peak < MEMORY_LIMIT_MB and seconds < 30
    assert not (tmp_path / "p").exists()


def test_a_pose_npz_inflating_to_1_7_gb_is_refused_before_inflating(good, tmp_path):
    buffer = io.BytesIO()
    count = 1_700_000_000 // 8
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (count,)})
    zeros = bytes(1 << 24)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("joints3d.npy", "w", force_zip64=True) as entry:
            entry.write(header.getvalue())
            left = count * 8
            while left:
                entry.write(zeros[: min(left, len(zeros))])
                left -= min(left, len(zeros))
    bomb = buffer.getvalue()
    assert len(bomb) < 2_000_000
    copy = _sample_with(good, tmp_path, "pose.npz", bomb)
    for argv in (["validate", str(copy)], ["preview", str(copy), "--out", str(tmp_path / "p")]):
        status, output, peak, seconds = _bounded(tmp_path, argv)
        assert status == 1 and "pose.npz: declares 1700000" in output, output
        assert peak < MEMORY_LIMIT_MB and seconds < 30


def test_an_npy_header_claiming_a_huge_shape_is_refused(good, tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": (4, 2000, 4096, 4096)})
    lying = io.BytesIO()
    with zipfile.ZipFile(lying, "w") as archive:
        archive.writestr("depth_delta_bytes.npy", header.getvalue() + bytes(64))
    copy = _sample_with(good, tmp_path, "depth.npz", lying.getvalue())
    status, output, peak, _ = _bounded(tmp_path, ["preview", str(copy), "--out", str(tmp_path / "p")])
    assert status == 1 and "depth.npz/depth_delta_bytes: header declares" in output and peak < MEMORY_LIMIT_MB, output


def test_a_compressed_layer_inflating_beyond_the_clip_is_refused_before_inflating(good, tmp_path):
    """A 90 kB depth.npz that inflates to 92 MB, for a clip whose depth is 9 kB."""
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        array = io.BytesIO()
        np.save(array, np.zeros((4, 3, 2400, 3200), dtype=np.uint8))
        archive.writestr("depth_delta_bytes.npy", array.getvalue())
    assert len(bomb.getvalue()) < 200_000
    copy = _sample_with(good, tmp_path, "depth.npz", bomb.getvalue())
    for argv in (["validate", str(copy)], ["preview", str(copy), "--out", str(tmp_path / "p")]):
        status, output, peak, _ = _bounded(tmp_path, argv)
        assert status == 1 and "depth.npz: declares 92160128 bytes when inflated" in output, output
        assert peak < MEMORY_LIMIT_MB


def test_motion_files_claiming_huge_frame_counts(tmp_path):
    folder = tmp_path / "mocap"
    folder.mkdir()
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**8, 165)})
    with zipfile.ZipFile(folder / "huge.npz", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("poses.npy", "w", force_zip64=True) as entry:
            entry.write(header.getvalue())
            for _ in range(120):  # 1.9 GB of zeros that deflate to ~1.9 MB
                entry.write(bytes(16 << 20))
    assert (folder / "huge.npz").stat().st_size < 2_500_000
    lines = ["HIERARCHY", "ROOT Hips", "{", "  OFFSET 0 0 0", "  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation",
             "  End Site", "  {", "    OFFSET 0 10 0", "  }", "}", "MOTION", "Frames: 10000000", "Frame Time: 0.0333333",
             "0 0 0 0 0 0"]  # fmt: skip
    (folder / "long.bvh").write_text("\n".join(lines) + "\n")
    lines[-1] = "0 0 0 1e308 0 0"
    lines[-3] = "Frames: 1"
    (folder / "wild.bvh").write_text("\n".join(lines) + "\n")
    status, output, peak, seconds = _bounded(tmp_path, ["motions", "check", str(folder)])
    assert status == 1, output
    errors = [line for line in output.splitlines() if line.startswith("ERR")]
    assert len(errors) == 3 and "0 of 3 motion file(s) OK" in output, output  # each file named, the others still checked
    assert any("huge.npz" in e and "declares" in e for e in errors)
    assert any("long.bvh" in e and "expected 10000000 frames" in e for e in errors)
    assert any("wild.bvh" in e and "magnitude" in e for e in errors)
    assert peak < MEMORY_LIMIT_MB and seconds < 60



# 10. Safe reading with stock webdataset ---------------------------------------------------------------

class _Boom:
    """Unpickling this creates a marker file: proof that a reader ran a shard's code."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (Path(self.marker).touch, ())


def test_stock_webdataset_reading_with_decode_safely_never_unpickles(good, tmp_path):
    import pickle

    import webdataset as wds

    from worldclips.shards.format.stock import decode_safely

    marker = tmp_path / "pwned"
    data = _copy(good, tmp_path)
    members = _members(data / "shard-000000.tar")
    payload = pickle.dumps(_Boom(str(marker)))
    _write_tar(data / "shard-000000.tar", [*members, ("seed0-00000000.extra.pyd", payload)])
    (sample,) = list(wds.WebDataset([str(data / "shard-000000.tar")], shardshuffle=False).map(decode_safely))
    assert sample["rgb.mp4"].shape == (3, 24, 32, 3) and sample["rgb.mp4"].dtype == np.uint8
    assert sample["depth.npz"].shape == (3, 24, 32) and sample["depth.npz"].dtype == np.float32
    assert sample["seg.npz"].shape == (3, 24, 32) and sample["meta.json"]["num_frames"] == 3
    assert "joints2d" in sample["pose.npz"]
    assert sample["extra.pyd"] == payload and not marker.exists()  # left as bytes, never unpickled


def test_the_lock_file_appears_with_its_content_or_not_at_all(tmp_path):
    from worldclips.shards.format.storage import LocalStorage

    storage = LocalStorage(tmp_path)
    assert storage.create_exclusive(".worldclips.lock", b'{"pid": 1}')
    assert not storage.create_exclusive(".worldclips.lock", b'{"pid": 2}')
    assert storage.read_bytes(".worldclips.lock") == b'{"pid": 1}'
    assert storage.names() == [".worldclips.lock"]  # no temporary left behind
