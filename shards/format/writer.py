"""Shard files: tar archives written under a temporary name and renamed only when complete.

Members carry a fixed mtime, owner and mode, and appear in a fixed order, so the same samples
always give the same bytes. A shard that fails half-way (error, full disk, Ctrl-C) leaves no
file behind.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

TAR_MTIME = 0
TEMP_PREFIX = ".tmp-"


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
    temporary = path.with_name(f"{TEMP_PREFIX}{path.name}.{os.getpid()}")
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
    """Delete temporary files a killed writer may have left in ``directory``."""
    for leftover in Path(directory).glob(f"{TEMP_PREFIX}*"):
        leftover.unlink(missing_ok=True)
