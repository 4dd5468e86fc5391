"""Ctrl-C during generate: finished shards stay, no temporary files, no manifest, exit 130."""

import signal
import subprocess
import sys
import time

ARGS = ["--clips", "40", "--frames", "6", "--size", "32x24", "--clips-per-shard", "2", "--quiet"]


def test_ctrl_c_keeps_finished_shards_and_removes_partial_files(tmp_path):
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "worldclips", "generate", "--out", str(out), *ARGS],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(out.glob("shard-*.tar")):
        time.sleep(0.05)
    assert list(out.glob("shard-*.tar")), "no shard finished in time"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "interrupted" in err
    names = sorted(p.name for p in out.iterdir())
    assert names and all(n.startswith("shard-") for n in names), names  # no .tmp-*, no manifest
    from worldclips.shards.format.reader import read_shard

    for shard in out.glob("shard-*.tar"):
        assert len(read_shard(shard)) == 2  # every kept shard is complete
