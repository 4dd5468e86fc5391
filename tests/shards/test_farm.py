"""The Ray render farm: the same shards whatever the mode or worker count, killed workers and
hung tasks retried without partial or duplicate shards, failing clips re-drawn and recorded,
Ctrl-C plus --resume equal to an uninterrupted run, damaged shards regenerated on resume, and
GPU requests that no node can satisfy refused up front.

Clips are tiny (32x24, 3 frames) so that Ray's start-up (a few seconds per run) dominates."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from worldclips.shards.job import farm, processes
from worldclips.shards.job.config import resolve_config
from worldclips.shards.job.generate import generate
from worldclips.shards.job.shard_task import ClipsFailed, FaultHooks
from worldclips.shards.format.meta_schema import expanded
from worldclips.shards.format.reader import read_shard
from worldclips.shards.format.validate import validate_dataset
from worldclips.cli import main

ARGS = ["--clips", "6", "--frames", "3", "--size", "32x24", "--clips-per-shard", "2", "--seed", "5", "--quiet"]
FIELDS = {"clips": 6, "frames": 3, "size": "32x24", "clips_per_shard": 2, "seed": 5}
SHARDS = ["shard-000000.tar", "shard-000001.tar", "shard-000002.tar"]


def config(out, **fields):
    return resolve_config({}, {"out": str(out), **FIELDS, **fields})


def manifest(directory):
    return json.loads((Path(directory) / "manifest.json").read_text())


def assert_same_dataset(expected, actual):
    """Same shard files byte for byte, same manifest entries and failures, nothing else left."""
    expected, actual = Path(expected), Path(actual)
    assert sorted(p.name for p in actual.iterdir()) == ["config.yaml", "manifest.json", *SHARDS]
    for name in SHARDS:
        assert (actual / name).read_bytes() == (expected / name).read_bytes(), name
    a, b = manifest(expected), manifest(actual)
    assert a["shards"] == b["shards"] and a["failures"] == b["failures"]
    report = validate_dataset(actual)
    assert report.ok, report.errors
    assert report.samples == 6


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("farm") / "reference"
    assert main(["generate", "--out", str(out), *ARGS, "--no-ray"]) == 0
    return out


def test_one_and_two_workers_give_the_shards_of_no_ray(reference, tmp_path):
    for workers in (1, 2):
        out = tmp_path / f"workers{workers}"
        assert main(["generate", "--out", str(out), *ARGS, "--workers", str(workers)]) == 0
        assert_same_dataset(reference, out)
        summary = manifest(out)["summary"]
        assert summary["mode"] == "ray" and summary["workers"] == workers
        assert sum(row["clips"] for row in summary["per_worker"].values()) == 6
        assert summary["retries"] == 0 and summary["shards_generated"] == 3
    assert manifest(reference)["summary"]["mode"] == "single-process"


def test_failing_clips_are_redrawn_deterministically_and_recorded(reference, tmp_path):
    hooks = FaultHooks(failing_draws=((1, 1), (4, 2)))
    single = generate(config(tmp_path / "single", ray=False), progress=False, hooks=hooks)
    farmed = generate(config(tmp_path / "farm", workers=2), progress=False, hooks=hooks)
    assert_same_dataset(single, farmed)
    failures = manifest(farmed)["failures"]
    assert [(f["shard"], f["clip_index"], f["attempt"]) for f in failures] == [(0, 1, 0), (2, 4, 0), (2, 4, 1)]
    assert failures[0]["seed"] == 5 and failures[1]["seed"] == 5 and failures[2]["seed"] != 5
    assert all("cannot be built" in f["error"] for f in failures)
    assert manifest(farmed)["summary"]["failed_draws"] == 3
    # untouched shards are those of a run without failures; re-drawn clips say so in meta.json
    assert (farmed / SHARDS[1]).read_bytes() == (reference / SHARDS[1]).read_bytes()
    meta = expanded(json.loads(read_shard(farmed / SHARDS[2])["seed5-00000004"]["meta.json"]))  # spec: JSON text
    assert meta["redraw"]["attempt"] == 2 and meta["run_seed"] == 5 and meta["spec"]["run_seed"] == meta["redraw"]["seed"]
    assert json.loads(read_shard(farmed / SHARDS[2])["seed5-00000005"]["meta.json"])["redraw"] == {"attempt": 0, "seed": 5}


def test_a_clip_failing_more_than_max_redraws_stops_the_run(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ClipsFailed, match=r"clip 3: all 2 draws failed \(max_redraws 1\)"):
        generate(config(out, ray=False, max_redraws=1), progress=False, hooks=FaultHooks(failing_draws=((3, 2),)))
    assert not (out / "manifest.json").exists()


def test_a_killed_worker_is_retried_and_leaves_no_partial_or_duplicate_shard(reference, tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    killed = []

    def kill_the_worker_of_shard_1():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            found = sorted(pids.glob("000001.*"))
            if found:
                pid = int(found[0].name.split(".")[1])  # <shard>.<pid>: the name is there before the text
                os.kill(pid, signal.SIGKILL)  # mid-shard: it sleeps after each clip
                killed.append(pid)
            time.sleep(0.02)

    killer = threading.Thread(target=kill_the_worker_of_shard_1, daemon=True)
    killer.start()
    out = generate(config(tmp_path / "out", workers=2), progress=False, hooks=FaultHooks(pid_dir=str(pids), clip_delay_s=0.5))
    killer.join(timeout=5)
    assert killed, "shard 1 never started"
    assert_same_dataset(reference, out)
    summary = manifest(out)["summary"]
    assert summary["retries"] == 1 and summary["retried"][0]["shard"] == 1
    assert "worker died" in summary["retried"][0]["reason"]
    assert len(list(pids.glob("000001.*"))) == 2  # the killed try and the retry, in another process
    assert f"{os.uname().nodename}:{killed[0]}" not in summary["per_worker"]


def test_a_task_over_its_time_limit_is_cancelled_and_retried(reference, tmp_path):
    hooks = FaultHooks(hang_shard=2, marker_dir=str(tmp_path))
    out = generate(config(tmp_path / "out", workers=2, task_timeout_s=8), progress=False, hooks=hooks)
    assert (tmp_path / "hang-000002").exists()
    assert_same_dataset(reference, out)
    summary = manifest(out)["summary"]
    assert summary["timeouts"] >= 1 and summary["retries"] == summary["timeouts"]
    assert {"shard": 2, "attempt": 0, "reason": "timed out after 8 s"} in summary["retried"]


def test_ctrl_c_then_resume_equals_an_uninterrupted_run(reference, tmp_path):
    out = tmp_path / "out"
    script = textwrap.dedent(
        f"""
        import sys
        from worldclips.shards.job.config import resolve_config
        from worldclips.shards.job.generate import generate
        from worldclips.shards.job.shard_task import FaultHooks
        config = resolve_config({{}}, {{"out": {str(out)!r}, "workers": 2, **{FIELDS!r}}})
        try:
            generate(config, progress=False, hooks=FaultHooks(clip_delay_s=1.0))
        except KeyboardInterrupt:
            sys.exit(130)
        """
    )
    # its own session: SIGINT goes to the whole process group, as Ctrl-C in a terminal does
    process = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not list(out.glob("shard-*.tar")):
            time.sleep(0.05)
        assert list(out.glob("shard-*.tar")), "no shard finished in time"
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, err
    names = sorted(p.name for p in out.iterdir())
    kept = [n for n in names if n.endswith(".tar")]
    assert 1 <= len(kept) < 3 and all(n.startswith("shard-") for n in names), names  # no manifest, no .tmp-*
    assert main(["generate", "--out", str(out), *ARGS, "--resume", "--workers", "2"]) == 0
    assert_same_dataset(reference, out)
    summary = manifest(out)["summary"]
    assert summary["shards_reused"] == len(kept) and summary["shards_generated"] == 3 - len(kept)


def test_resume_regenerates_corrupt_truncated_and_missing_shards(reference, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(reference, out)
    before = (out / "manifest.json").read_bytes()
    assert main(["generate", "--out", str(out), *ARGS, "--resume", "--no-ray"]) == 0  # complete: nothing to do
    assert (out / "manifest.json").read_bytes() == before
    data = bytearray((out / SHARDS[0]).read_bytes())
    data[len(data) // 2] ^= 0x01
    (out / SHARDS[0]).write_bytes(bytes(data))
    (out / SHARDS[2]).write_bytes(data[: len(data) // 3])  # truncated
    (out / ".tmp-shard-000001.tar.4194303-0badc0de").write_bytes(b"partial")  # a dead writer's temporary
    assert not validate_dataset(out).ok
    assert main(["generate", "--out", str(out), *ARGS, "--resume", "--no-ray"]) == 0
    assert_same_dataset(reference, out)
    summary = manifest(out)["summary"]
    assert (summary["shards_reused"], summary["shards_generated"]) == (1, 2)
    (out / SHARDS[1]).unlink()
    (out / "manifest.json").unlink()
    # no manifest and no completion records (the manifest replaced them): every shard is made again
    assert main(["generate", "--out", str(out), *ARGS, "--resume", "--no-ray"]) == 0
    assert_same_dataset(reference, out)
    assert manifest(out)["summary"]["shards_generated"] == 3
    capsys.readouterr()
    assert main(["generate", "--out", str(out), *ARGS[:-2], "6", "--quiet", "--resume", "--no-ray"]) == 2
    err = capsys.readouterr().err.strip()
    assert "was made with a different config" in err and len(err.splitlines()) == 1


def test_joins_a_cluster_started_with_ray_start(reference, tmp_path):
    """--address HOST:PORT: a head node started by `ray start --head` on loopback, joined by the CLI
    in its own process, as a user would (Ray caches an auth token per process)."""
    import secrets
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32), "RAY_USAGE_STATS_ENABLED": "0"}
    temp = Path(f"/tmp/wc-ray-head-{os.getpid()}")  # short: Ray's socket paths have a length limit
    log = tmp_path / "head.log"
    command = [
        str(Path(sys.executable).parent / "ray"), "start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1",
        "--num-cpus=2", "--include-dashboard=false", f"--temp-dir={temp}", "--block",
    ]  # fmt: skip
    with open(log, "w") as output:
        head = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env={**os.environ, **auth})
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and "Ray runtime started" not in log.read_text():
            assert head.poll() is None, log.read_text()
            time.sleep(0.2)
        out = tmp_path / "out"
        client = [sys.executable, "-m", "worldclips", "generate", "--out", str(out), *ARGS, "--address", f"127.0.0.1:{port}"]
        result = subprocess.run(client, env={**os.environ, **auth}, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        assert_same_dataset(reference, out)
        summary = manifest(out)["summary"]
        assert summary["cluster"] == f"joined 127.0.0.1:{port}" and summary["workers"] == 2
    finally:
        head.terminate()  # `ray start --block` stops the processes it started
        head.wait(timeout=60)
        shutil.rmtree(temp, ignore_errors=True)


def test_an_unsatisfiable_gpu_request_fails_fast_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["generate", "--out", str(out), *ARGS, "--workers", "1", "--gpus-per-task", "1"]) == 1
    err = capsys.readouterr().err.strip()
    assert "gpus_per_task: each shard task asks for 1 GPU but no node of the Ray cluster has one" in err
    assert len(err.splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--workers", "0"], "workers: expected an integer in 1..100000, got 0"),
        (["--gpus-per-task", "1.5"], "gpus_per_task: above 1 it must be a whole number"),
        (["--gpus-per-task", "-1"], "gpus_per_task: expected a number"),
        (["--task-timeout-s", "0"], "task_timeout_s: expected a number in 1"),
        (["--address", "not an address"], "address: expected 'auto' or HOST:PORT"),
        (["--address", "auto", "--no-ray"], "address: joining a Ray cluster needs Ray"),
        (["--max-redraws", "-1"], "max_redraws: expected an integer"),
        (["--resume", "--overwrite"], "resume: --resume and --overwrite exclude each other"),
    ],
)
def test_bad_farm_flags_give_one_line_and_write_nothing(tmp_path, capsys, flags, message):
    out = tmp_path / "out"
    assert main(["generate", "--out", str(out), *ARGS, *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_resources_slots_per_node_and_gpu_device_selection(monkeypatch):
    """Without a GPU cluster at hand: the planning and the device choice against stated resources."""
    nodes = [{"CPU": 16.0, "GPU": 2.0}, {"CPU": 8.0}]
    monkeypatch.setattr(farm, "_alive_nodes", lambda: nodes)
    assert farm.plan_resources(config("unused")) == (1.0, 2)  # one task per GPU
    assert farm.plan_resources(config("unused", gpus_per_task=0.5)) == (0.5, 4)
    assert farm.plan_resources(config("unused", gpus_per_task=0)) == (0.0, 24)  # CPUs everywhere
    assert farm.plan_resources(config("unused", gpus_per_task=0, workers=3)) == (0.0, 3)
    with pytest.raises(farm.FarmError, match="asks for 4 GPU but no node of the Ray cluster has 4"):
        farm.plan_resources(config("unused", gpus_per_task=4))
    monkeypatch.setattr(farm, "_alive_nodes", lambda: [{"CPU": 2.0}])
    assert farm.plan_resources(config("unused")) == (0.0, 2)
    monkeypatch.setattr(farm.ray, "get_gpu_ids", lambda: [3])
    assert farm._gpu_device_index() == 3  # the EGL device follows the GPU Ray assigned
    monkeypatch.setattr(farm.ray, "get_gpu_ids", lambda: [])
    assert farm._gpu_device_index() is None


def test_farm_fields_in_yaml_round_trip_and_do_not_change_the_fingerprint(tmp_path):
    from worldclips.shards.job.config import config_yaml, load_yaml_config, output_fields
    from worldclips.shards.job.resume import output_fingerprint

    path = tmp_path / "farm.yaml"
    path.write_text("workers: 3\naddress: auto\ngpus_per_task: 0.5\ntask_timeout_s: 60\nmax_in_flight: 9\nmax_redraws: 1\n")
    farmed = resolve_config(load_yaml_config(path), {"out": str(tmp_path / "a"), **FIELDS})
    assert (farmed.workers, farmed.address, farmed.gpus_per_task, farmed.ray) == (3, "auto", 0.5, True)
    (tmp_path / "resolved.yaml").write_text(config_yaml(farmed))
    assert resolve_config(load_yaml_config(tmp_path / "resolved.yaml"), {}) == farmed
    plain = config(tmp_path / "b", ray=False, max_redraws=1)
    assert output_fields(farmed) == output_fields(plain)  # where and how it runs is not what it makes
    assert output_fingerprint(farmed, {"numpy": "2"}) == output_fingerprint(plain, {"numpy": "2"})
    assert output_fingerprint(farmed, {"numpy": "2"}) != output_fingerprint(plain, {"numpy": "3"})
    assert output_fingerprint(config(tmp_path / "c", max_redraws=2), {}) != output_fingerprint(plain, {})


def test_a_dead_local_ray_node_gives_one_line_and_resume_finishes(tmp_path):
    """SIGKILL of the local raylet mid-run: one line saying so and naming --resume, which then finishes."""
    out = tmp_path / "out"
    args = [sys.executable, "-m", "worldclips", "generate", "--out", str(out), "--clips", "6", "--frames", "12",
            "--size", "64x48", "--clips-per-shard", "1", "--workers", "2", "--quiet"]  # fmt: skip
    run = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(out.glob("shard-*.tar")) and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.1)
    raylets = [pid for pid in processes.descendants(run.pid) if processes.process_name(pid) == "raylet"]
    assert raylets, "no raylet under the driver"
    os.kill(raylets[0], signal.SIGKILL)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 1, err
    assert err.strip().splitlines()[-1].startswith("worldclips: error: the local Ray node died (raylet pid")
    assert "--resume" in err.strip().splitlines()[-1]
    assert subprocess.run([*args, "--resume"], capture_output=True, text=True, timeout=300).returncode == 0
    assert validate_dataset(out).ok


def _instance_folders() -> set[Path]:
    return set(Path(processes.TEMP_ROOT).glob(processes.TEMP_PREFIX + "*"))


def _started_run(args: list[str], out: Path) -> tuple[subprocess.Popen, Path]:
    """A generate run in a child process, once it has written a new shard; and its instance folder."""
    before, shards = _instance_folders(), set(out.glob("shard-*.tar"))
    run = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while set(out.glob("shard-*.tar")) <= shards and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.05)
    (folder,) = _instance_folders() - before
    return run, folder


def _processes_naming(folder: Path) -> list[int]:
    needle = os.fsencode(str(folder))
    return [pid for pid in processes.process_table() if needle in Path(f"/proc/{pid}/cmdline").read_bytes()]


def test_sigterm_ends_in_one_line_and_a_killed_drivers_leftovers_go_with_the_next_run(tmp_path):
    """The local instance's folder is private (0700) and records its driver. SIGTERM: one line, exit
    143, no Ray stack dump, nothing left. SIGKILL of the driver: Ray processes and the folder stay;
    the next run (--resume) stops exactly those and removes the folder, then finishes the dataset."""
    out = tmp_path / "out"
    args = [sys.executable, "-m", "worldclips", "generate", "--out", str(out), "--clips", "6", "--frames", "12",
            "--size", "64x48", "--clips-per-shard", "1", "--workers", "2", "--quiet"]  # fmt: skip
    run, folder = _started_run(args, out)
    assert folder.stat().st_mode & 0o777 == 0o700
    assert json.loads((folder / processes.OWNER_RECORD).read_text())["pid"] == run.pid
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 143, err
    assert err.strip() == "worldclips: terminated; finished shards were kept, partial files removed"
    assert not folder.exists() and not _processes_naming(folder)

    run, folder = _started_run([*args, "--resume"], out)
    run.kill()
    run.communicate(timeout=60)
    assert folder.is_dir()  # what a killed driver leaves (and some of its Ray processes, often)
    finished = subprocess.run([*args, "--resume"], capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert not folder.exists() and not _processes_naming(folder)
    assert validate_dataset(out).ok


def test_only_provably_dead_instances_of_ours_are_removed(monkeypatch, tmp_path):
    monkeypatch.setattr(processes, "TEMP_ROOT", str(tmp_path))
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        def folder(name: str, record: dict | None, mode: int = 0o700) -> Path:
            path = tmp_path / (processes.TEMP_PREFIX + name)
            path.mkdir(mode=mode)
            path.chmod(mode)
            if record is not None:
                (path / processes.OWNER_RECORD).write_text(json.dumps({"uid": os.getuid(), **record}))
            return path

        live = folder("live", {"pid": alive.pid, "start": processes.start_ticks(alive.pid)})
        gone = folder("gone", {"pid": dead.pid, "start": 1})
        reused = folder("reused", {"pid": alive.pid, "start": processes.start_ticks(alive.pid) - 1})  # pid reused
        anonymous = folder("anonymous", None)
        shared = folder("shared", {"pid": dead.pid, "start": 1}, mode=0o777)
        (tmp_path / (processes.TEMP_PREFIX + "link")).symlink_to(gone)
        assert sorted(processes.remove_dead_instances()) == sorted([str(gone), str(reused)])
        assert live.is_dir() and anonymous.is_dir() and shared.is_dir() and alive.poll() is None
    finally:
        alive.kill()
        alive.wait()
