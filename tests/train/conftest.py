"""Shared fixtures: a small dataset made by `worldclips generate` and the tiny config at 32x32."""

import subprocess
import sys

import pytest
import torch

from worldclips.train.config import load_config, replace

GENERATE = ["--clips", "6", "--frames", "12", "--size", "48x40", "--clips-per-shard", "2", "--seed", "3", "--quiet"]


@pytest.fixture(scope="session")
def dataset(tmp_path_factory):
    """3 shards of 2 clips: 12 frames at 48x40 (an aspect the loader has to crop)."""
    out = tmp_path_factory.mktemp("train-data") / "data"
    # In a child process: whatever generate starts (a local Ray instance) ends with it.
    subprocess.run([sys.executable, "-m", "worldclips", "generate", "--out", str(out), *GENERATE], check=True)
    return out


@pytest.fixture(scope="session")
def tiny():
    return replace(load_config("tiny"), data={"height": 32, "width": 32, "batch_size": 2},
                   train={"checkpoint_every": 1000, "warmup_steps": 2})  # fmt: skip


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The tiny model gains nothing from intra-op threads, which spin when the machine is busy."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
