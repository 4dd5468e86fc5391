"""AssetCache: decoded asset files (HDRI maps, texture images) kept within one worker process.

A worker renders many clips that draw from the same few maps and texture sets; decoding them again
for every clip (an HDRI map was read twice per clip, once to dress it and once to build it) is
wasted work. The cache is an explicit object that a worker makes once and passes along; nothing
is kept at module level. Entries are keyed by the file's path *and* its sha256, which callers
compute from the bytes on every use, so a changed file is never served from the cache. The cache
holds at most ``max_bytes`` of arrays, dropping the least recently used first.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Hashable, TypeVar

import numpy as np

DEFAULT_MAX_BYTES = 256 << 20

T = TypeVar("T")


def _nbytes(value) -> int:
    """Bytes of the numpy arrays in ``value`` (an array, or a dataclass / tuple holding some)."""
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    fields = getattr(value, "__dataclass_fields__", None)
    if fields:
        return sum(_nbytes(getattr(value, name)) for name in fields)
    return 0


class AssetCache:
    """A bounded least-recently-used map from keys to decoded assets (values are not copied:
    callers must not modify what they get)."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if not (isinstance(max_bytes, int) and max_bytes >= 0):
            raise ValueError(f"AssetCache max_bytes: expected a non-negative int, got {max_bytes!r}")
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        return self._bytes

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        """The value cached under ``key``, or ``load()``'s, kept if it fits."""
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[0]  # type: ignore[return-value]
        self.misses += 1
        value = load()
        size = _nbytes(value)
        if size <= self.max_bytes:
            self._entries[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped
        return value


def cached(cache: AssetCache | None, key: Hashable, load: Callable[[], T]) -> T:
    """``load()`` through ``cache``, or directly without one."""
    return load() if cache is None else cache.get(key, load)
