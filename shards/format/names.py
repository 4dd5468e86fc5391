"""Names read from a dataset (sample keys, member names, shard names) checked before any use.

Every byte of a shard or a manifest may come from someone hostile. A key or a shard name
becomes a path (preview's output files, the shards validate and train open) only after it has
matched the schema's pattern here: no ``/``, no ``..``, no absolute path, no control
character, no ``pipe:`` or URL scheme. A shard named by a manifest must also resolve inside its
dataset (a symlinked shard that points outside is refused).
"""

from __future__ import annotations

import re
from pathlib import Path

from worldclips.shards.format.schema import KEY_PATTERN, SHARD_PATTERN

MEMBER_PATTERN = re.compile(r"^[a-z0-9_]{1,32}(\.[a-z0-9_]{1,16}){1,2}$")  # meta.json, rgb.mp4, depth.npy
MAX_NAME_SHOWN = 80


class UnsafeName(ValueError):
    """A key, member or shard name that does not match the schema's pattern."""


def shown(name: object) -> str:
    """A name as it may be printed: repr (control characters escaped), cut short."""
    text = repr(name)
    return text if len(text) <= MAX_NAME_SHOWN else text[: MAX_NAME_SHOWN - 3] + "..."


def check_key(key: object, where: str) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise UnsafeName(f"{where}: sample key {shown(key)} does not match <run>-<index:08d> (letters, digits, _ and -)")
    return key


def split_member(name: object, where: str) -> tuple[str, str]:
    """A tar member name ``<key>.<member>`` -> (key, member), both checked."""
    if not isinstance(name, str):
        raise UnsafeName(f"{where}: member name {shown(name)} is not text")
    key, dot, member = name.partition(".")
    if not dot:
        raise UnsafeName(f"{where}: member {shown(name)} has no extension")
    check_key(key, where)
    if not MEMBER_PATTERN.fullmatch(member):
        raise UnsafeName(f"{where}: member {shown(name)} is not a <key>.<name>.<ext> member of the schema")
    return key, member


def check_shard_name(name: object, where: str) -> str:
    if not isinstance(name, str) or not SHARD_PATTERN.fullmatch(name):
        raise UnsafeName(f"{where}: shard name {shown(name)} does not match shard-NNNNNN.tar")
    return name


def shard_inside(root: str | Path, name: object, where: str) -> Path:
    """``root/name`` for a checked shard name, refused when it resolves outside ``root``."""
    check_shard_name(name, where)
    root = Path(root)
    path = root / name
    resolved, base = path.resolve(), root.resolve()
    if resolved.parent != base:
        raise UnsafeName(f"{where}: shard {name} resolves to {resolved}, outside the dataset {base}")
    return path


def shard_url_inside(root: str, name: object, where: str) -> str:
    """``root/name`` for an object-store dataset root (the name is checked, so it cannot escape)."""
    check_shard_name(name, where)
    return root.rstrip("/") + "/" + name
