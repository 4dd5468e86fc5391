"""Samples streamed out of tar shards, local or on object storage, with every member checked.

Shards are opened with fsspec (a local path, ``s3://``, ``gs://``, ``https://``, ``hf://``...),
never through a shell pipe, so no name read from a manifest ever becomes a command. Each tar
member's type, size and name are checked before its bytes are read (a sparse or oversized
member, a ``../`` or absolute name is refused: shards.format.reader.check_member_header).
Consecutive members of one key form a sample, as in webdataset: ``{"__key__", "__url__",
member: bytes}``.
"""

from __future__ import annotations

import tarfile
from typing import Callable, Iterable, Iterator

import fsspec

from worldclips.shards.format.reader import check_member_header


def open_shard(url: str):
    """A binary stream of a local path or any fsspec URL."""
    return fsspec.open(url, "rb").open()


def shard_samples(
    urls: Iterable[str], handler: Callable[[Exception], bool] | None = None, select: Callable[[str], bool] | None = None
) -> Iterator[dict]:
    """Samples of each shard in turn. ``select(member)``: which members to read (default all).
    A bad shard raises, or with ``handler`` is reported to it and skipped when it returns True."""
    for url in urls:
        try:
            yield from _samples_of(url, select)
        except Exception as error:
            if handler is None or not handler(ValueError(f"{url}: {error}")):
                raise


def _samples_of(url: str, select: Callable[[str], bool] | None) -> Iterator[dict]:
    where = url.rsplit("/", 1)[-1]
    current: dict | None = None
    with open_shard(url) as stream, tarfile.open(fileobj=stream, mode="r|") as archive:
        for info in archive:
            key, member = check_member_header(info, where)
            if current is not None and current["__key__"] != key:
                yield current
                current = None
            if current is None:
                current = {"__key__": key, "__url__": url}
            if select is None or select(member):
                if member in current:
                    raise ValueError(f"{where}: member {key}.{member} appears twice")
                current[member] = archive.extractfile(info).read()
    if current is not None:
        yield current
