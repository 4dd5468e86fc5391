"""Shard files: tar archives written under a temporary name and renamed only when complete.

Members carry a fixed mtime, owner and mode, and appear in a fixed order, so the same samples
always give the same bytes. A shard that fails half-way (error, full disk, Ctrl-C) leaves no
file behind.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import tarfile
from dataclasses import dataclass
from pathlib import Path

TAR_MTIME = 0
TEMP_PREFIX = ".tmp-"
# A temporary this project wrote: ".tmp-<file of a dataset>.<writer pid>-<8 hex>". Only names of
# exactly this form are ever removed as leftovers; anything else in a folder is the user's.
TEMP_PATTERN = re.compile(r"^\.tmp-(shard-\d{6}\.tar|shard-\d{6}\.done\.json|manifest\.json|config\.yaml|\.worldclips\.lock)\.(\d+)-[0-9a-f]{8}$")


def temporary_name(name: str) -> str:
    """A run-unique temporary name for ``name`` (the writer's pid and a random tag)."""
    return f"{TEMP_PREFIX}{name}.{os.getpid()}-{secrets.token_hex(4)}"


def temporary_writer(name: str) -> int | None:
    """The pid that wrote one of our temporaries, None for any other name."""
    match = TEMP_PATTERN.match(name)
    return int(match.group(2)) if match else None


def process_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class ShardRecord:
    """What the manifest records of one finished shard."""

    name: str
    samples: int
    bytes: int
    sha256: str
    keys: tuple[str, ...]


def _tar_info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = TAR_MTIME
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def sample_tar_bytes(samples: list[tuple[str, dict[str, bytes]]]) -> bytes:
    """A tar archive of (key, members) samples in the given order, members sorted by name."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for key, members in samples:
            for member in sorted(members):
                data = members[member]
                archive.addfile(_tar_info(f"{key}.{member}", len(data)), io.BytesIO(data))
    return buffer.getvalue()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync, then rename over ``path``."""
    path = Path(path)
    temporary = path.with_name(temporary_name(path.name))
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def write_shard(directory: Path, name: str, samples: list[tuple[str, dict[str, bytes]]]) -> ShardRecord:
    """Write one complete shard atomically and return its record."""
    data = sample_tar_bytes(samples)
    write_atomic(Path(directory) / name, data)
    return ShardRecord(
        name=name, samples=len(samples), bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
        keys=tuple(key for key, _ in samples),
    )  # fmt: skip


def remove_temporaries(directory: Path) -> None:
    """Delete our temporaries (TEMP_PATTERN) whose writer is gone; nothing else is touched."""
    for leftover in Path(directory).glob(f"{TEMP_PREFIX}*"):
        pid = temporary_writer(leftover.name)
        if pid is not None and (pid == os.getpid() or not process_alive(pid)):
            leftover.unlink(missing_ok=True)
