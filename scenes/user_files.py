"""Reading a file that a user's folder or a recorded spec names: its size checked before anything
is read, every problem raised as the caller's error class in one line."""

from __future__ import annotations

from pathlib import Path


def read_capped(path: Path, limit: int, error: type[Exception], limit_text: str) -> bytes:
    """The file's bytes; ``error`` when it is larger than ``limit`` bytes ("expected at most
    ``limit_text``") or cannot be read."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise error(f"{path}: {size} bytes, expected at most {limit_text}")
        return path.read_bytes()
    except OSError as problem:
        raise error(f"{path}: cannot read ({problem.strerror or problem})") from problem
