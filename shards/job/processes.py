"""Processes of a local Ray instance, read from Linux ``/proc`` (elsewhere: nothing found), and the
private temporary folder each instance keeps its files in.

A local instance's folder is ``/tmp/wc-ray-*``, made by ``mkdtemp`` (mode 0700: private to the
user) and holding an owner record (the driver's pid and start time). When a driver dies without
stopping its instance (SIGKILL, out of memory), some of Ray's processes outlive it, ignore SIGTERM
and keep the folder. The next local instance removes such leftovers, but only those it can prove
were a worldclips instance of this user whose driver is gone: a folder of this user, private,
not a symlink, with a readable owner record naming a driver that no longer runs; and only the
processes of this user whose command line names that folder.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import signal
import stat
import tempfile
import time

TEMP_PREFIX = "wc-ray-"
TEMP_ROOT = "/tmp"  # short: Ray's socket paths have a length limit
OWNER_RECORD = "worldclips-owner.json"
MAX_OWNER_RECORD_BYTES = 4096


def parent_and_state(pid: int) -> tuple[int, str] | None:
    """(parent pid, state letter) of a process from its /proc stat line; None when it is gone."""
    fields = _stat_fields(pid)
    return None if fields is None else (int(fields[1]), fields[0].decode())


def start_ticks(pid: int) -> int | None:
    """The process's start time (clock ticks after boot): with the pid, it names one process."""
    fields = _stat_fields(pid)
    return None if fields is None else int(fields[19])


def _stat_fields(pid: int) -> list[bytes] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            line = handle.read()
    except OSError:
        return None
    return line[line.rindex(b")") + 2 :].split()  # after "pid (command) ": state, ppid, ...


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (not gone, not a zombie)."""
    found = parent_and_state(pid)
    return found is not None and found[1] not in ("Z", "X")


def process_name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as handle:
            return handle.read().strip() or "a Ray process"
    except OSError:
        return "a Ray process"


def process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state) of every process."""
    table = {}
    try:
        entries = [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return table
    for pid in entries:
        found = parent_and_state(pid)
        if found is not None:
            table[pid] = found
    return table


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in process_table().items():
        children.setdefault(parent, []).append(pid)
    found, stack = set(), [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def wait_until_gone(pids: set[int], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while pids and time.monotonic() < deadline:
        pids = {pid for pid in pids if running(pid)}
        if pids:
            time.sleep(0.05)


def make_instance_folder() -> str:
    """A fresh private folder for a local instance, with this driver's owner record in it."""
    folder = tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=TEMP_ROOT)  # mode 0700
    record = {"pid": os.getpid(), "start": start_ticks(os.getpid()), "uid": os.getuid()}
    with open(os.path.join(folder, OWNER_RECORD), "x") as handle:
        json.dump(record, handle)
    return folder


def remove_dead_instances(kill_wait_s: float = 10.0) -> list[str]:
    """Stop the leftover processes of this user's dead local instances and remove their folders
    (see the module docstring for what counts as proof); returns the folders removed."""
    removed = []
    for folder in sorted(glob.glob(os.path.join(TEMP_ROOT, TEMP_PREFIX + "*"))):
        if not _is_dead_instance(folder):
            continue
        names_folder = re.compile(re.escape(os.fsencode(folder)) + rb"(?![\w.-])").search  # not a longer name
        leftovers = {pid for pid in _own_processes() if names_folder(_command_line(pid))}
        for pid in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)  # Ray's agents ignore SIGTERM
            except OSError:
                pass
        wait_until_gone(leftovers, kill_wait_s)
        shutil.rmtree(folder, ignore_errors=True)
        if not os.path.exists(folder):
            removed.append(folder)
    return removed


def _is_dead_instance(folder: str) -> bool:
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return False
    record = _owner_record(os.path.join(folder, OWNER_RECORD))
    if record is None or record.get("uid") != os.getuid():
        return False
    pid, start = record.get("pid"), record.get("start")
    if not isinstance(pid, int) or not isinstance(start, int) or pid == os.getpid():
        return False
    return not (running(pid) and start_ticks(pid) == start)


def _owner_record(path: str) -> dict | None:
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_OWNER_RECORD_BYTES:
            return None
        with open(path, "rb") as handle:
            record = json.loads(handle.read(MAX_OWNER_RECORD_BYTES))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _own_processes() -> list[int]:
    uid, own = os.getuid(), []
    for pid in process_table():
        try:
            if os.stat(f"/proc/{pid}").st_uid == uid and pid != os.getpid():
                own.append(pid)
        except OSError:
            pass
    return own


def _command_line(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read()
    except OSError:
        return b""
