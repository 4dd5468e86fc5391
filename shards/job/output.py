"""The output folder of a run: one writer at a time, and nothing of the user's touched.

- ``OutputLock``: an exclusive lock file ``.worldclips.lock`` holding the writer's host, pid and
  start time, created atomically with its content (Storage.create_exclusive). A lock whose
  holder was on this host and is gone is taken over; a live holder (or one on another host) is
  named in a one-line refusal.
- ``check_overwrite_target``: ``--overwrite`` refuses ``/``, the home folder and the current
  folder; ``check_overwrite``: and any folder holding files this project did not write (a few
  are listed).
- ``PreviousDataset``: with ``--overwrite`` the old dataset stays whole until the new run has
  its first shard: its manifest is set aside (so the folder never looks complete while it
  changes) and put back if the run fails before then; once the first new shard exists the old
  dataset's leftovers (its set-aside manifest, its shards beyond the new run's, its config) go.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from worldclips.shards.format.schema import CONFIG_NAME, MANIFEST_NAME, SHARD_PATTERN
from worldclips.shards.format.storage import LocalStorage, Storage
from worldclips.shards.format.writer import process_alive, temporary_writer
from worldclips.shards.job.resume import RECORD_PATTERN

LOCK_NAME = ".worldclips.lock"
PREVIOUS_MANIFEST = ".worldclips-previous-manifest.json"
FOREIGN_SHOWN = 3


class OutputBusy(RuntimeError):
    """Another run holds the output's lock."""


def is_dataset_file(name: str) -> bool:
    """Files a run writes into its output: shards, completion records, config and manifest."""
    return name in (MANIFEST_NAME, CONFIG_NAME) or bool(SHARD_PATTERN.match(name) or RECORD_PATTERN.match(name))


def is_own_file(name: str) -> bool:
    """Anything this project may have written into an output folder."""
    return is_dataset_file(name) or name in (LOCK_NAME, PREVIOUS_MANIFEST) or temporary_writer(name) is not None


class OutputLock:
    """``with OutputLock(storage, out): ...``: the run's exclusive claim on its output."""

    def __init__(self, storage: Storage, out: str):
        self.storage, self.out = storage, out
        self.holder = {"host": socket.gethostname(), "pid": os.getpid(), "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
        self.held = False

    def __enter__(self) -> "OutputLock":
        data = json.dumps(self.holder).encode()
        for _ in range(2):
            if self.storage.create_exclusive(LOCK_NAME, data):
                self.held = True
                return self
            other = self._read_holder()
            if other is not None and not self._gone(other):
                raise OutputBusy(
                    f"out: {self.out} is being written by another worldclips generate (host {other.get('host')}, "
                    f"pid {other.get('pid')}, since {other.get('started')}); wait for it, or remove "
                    f"{self.storage.where(LOCK_NAME)} if that run is gone"
                )
            self.storage.remove(LOCK_NAME)  # its holder is gone: take the lock over
        raise OutputBusy(f"out: cannot take the lock {self.storage.where(LOCK_NAME)} (another run keeps taking it)")

    def __exit__(self, *exc) -> None:
        if self.held:
            other = self._read_holder()
            if other == self.holder:
                self.storage.remove(LOCK_NAME)
            self.held = False

    def _read_holder(self) -> dict | None:
        try:
            holder = json.loads(self.storage.read_bytes(LOCK_NAME)[:4096])
        except (OSError, ValueError):
            return None  # removed meanwhile, or not a lock of ours: treat as gone
        return holder if isinstance(holder, dict) else None

    @staticmethod
    def _gone(holder: dict) -> bool:
        pid = holder.get("pid")
        if holder.get("host") != socket.gethostname() or not isinstance(pid, int):
            return False  # another machine's run: cannot tell, so it is not taken over
        return not process_alive(pid)


def refused_folder(out: str) -> str | None:
    """Why ``--overwrite`` must not touch this folder (``/``, home, current folder), or None."""
    path = Path(out).expanduser().resolve()
    for label, danger in (("the root folder", Path("/")), ("your home folder", Path.home()), ("the current folder", Path.cwd())):
        if path == danger.resolve():
            return f"out: --overwrite refuses {label} ({path}); give a folder of its own"
    return None


def check_overwrite_target(storage: Storage, out: str) -> None:
    """--overwrite never aims at ``/``, the home folder or the current folder, dataset or not."""
    if isinstance(storage, LocalStorage):
        problem = refused_folder(out)
        if problem:
            raise ValueError(problem)


def check_overwrite(out: str, names: list[str]) -> None:
    """Refuse --overwrite where it would remove or replace files that are not a dataset's."""
    foreign = [name for name in names if not is_own_file(name)]
    if foreign:
        shown = ", ".join(foreign[:FOREIGN_SHOWN]) + (f" and {len(foreign) - FOREIGN_SHOWN} more" if len(foreign) > FOREIGN_SHOWN else "")
        raise ValueError(f"out: {out} holds files worldclips did not write ({shown}); --overwrite replaces only a dataset folder")


class PreviousDataset:
    """The dataset an --overwrite run replaces, kept until the new run has its first shard."""

    def __init__(self, storage: Storage, names: list[str]):
        self.storage = storage
        self.names = [n for n in names if is_dataset_file(n) and n != MANIFEST_NAME]
        self.had_manifest = MANIFEST_NAME in names
        self.pending = True

    def set_aside(self) -> None:
        """Before anything new is written: the manifest aside, stale completion records removed."""
        if self.had_manifest:
            self.storage.rename(MANIFEST_NAME, PREVIOUS_MANIFEST)
        for name in self.names:
            if RECORD_PATTERN.match(name):
                self.storage.remove(name)

    def first_shard_written(self, new_shards: set[str]) -> None:
        """The new run has a shard: remove what is left of the old dataset."""
        if not self.pending:
            return
        self.pending = False
        for name in self.names:
            if name == CONFIG_NAME or (SHARD_PATTERN.match(name) and name not in new_shards):
                self.storage.remove(name)
        self.storage.remove(PREVIOUS_MANIFEST)

    def restore(self) -> None:
        """The new run failed before its first shard: the old dataset is whole again."""
        if self.pending and self.had_manifest:
            self.storage.rename(PREVIOUS_MANIFEST, MANIFEST_NAME)
        self.pending = False
