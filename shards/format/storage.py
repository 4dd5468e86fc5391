"""Where a dataset is written: a local directory or an fsspec URL (``s3://bucket/prefix``, ``gs://...``).

Every write is all-or-nothing: a reader (or a resumed run) sees a complete file or none.

- Local paths: the bytes go to a temporary name beside the target (``.tmp-<name>.<pid>-<tag>``),
  are fsynced, then ``os.replace``d over it (``shards.format.writer.write_atomic``).
- Object stores with atomic uploads (S3, GCS, Azure): one upload under the final key. An object
  store has no rename (a "move" is a copy plus a delete); an upload only becomes visible when it
  completes, both for a single PUT and for a multipart upload, so writing the final key once is
  already atomic and costs half the traffic of upload-then-copy. A worker killed mid-upload
  leaves no object (an abandoned multipart upload is invisible; a bucket lifecycle rule
  "abort incomplete multipart uploads" reclaims its parts).
- Any other fsspec filesystem: a temporary name, then ``fs.mv`` onto the final name.

A ``Storage`` is rebuilt from its URL in each worker (``open_storage``), never pickled.
Credentials and endpoints come from the usual places of each backend (for S3: the AWS
environment variables, ``~/.aws``, instance roles; ``AWS_ENDPOINT_URL`` for an S3-compatible
server), never from the dataset config, so they are never written into ``config.yaml``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from worldclips.shards.format.writer import remove_temporaries, temporary_name, temporary_writer, write_atomic

ATOMIC_UPLOAD_PROTOCOLS = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss"})


def is_url(location: str) -> bool:
    """True for ``scheme://...`` locations other than ``file://``."""
    scheme, sep, _ = str(location).partition("://")
    return bool(sep) and scheme.isidentifier() and scheme != "file"


class Storage:
    """A flat directory of named files (shards, config, manifest, completion records)."""

    url: str

    def exists(self) -> bool:
        """Whether the location exists (as a directory or a prefix with objects)."""
        raise NotImplementedError

    def is_file(self) -> bool:
        """Whether the location itself is a file (not usable as an output directory)."""
        return False

    def names(self) -> list[str]:
        """Names of the files directly in the location, sorted."""
        raise NotImplementedError

    def read_bytes(self, name: str) -> bytes:
        raise NotImplementedError

    def write_bytes(self, name: str, data: bytes) -> None:
        """Write ``name`` atomically: afterwards it holds ``data`` whole, or is unchanged."""
        raise NotImplementedError

    def open_read(self, name: str):
        """A binary file object for reading ``name``."""
        raise NotImplementedError

    def digest(self, name: str) -> tuple[int, str]:
        """(size in bytes, sha256 hex) of ``name``, read in blocks."""
        sha = hashlib.sha256()
        size = 0
        with self.open_read(name) as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                sha.update(block)
                size += len(block)
        return size, sha.hexdigest()

    def remove(self, name: str) -> None:
        """Delete ``name`` if present."""
        raise NotImplementedError

    def makedirs(self) -> None:
        raise NotImplementedError

    def remove_temporaries(self) -> None:
        """Delete the temporaries this project's writers left behind (writer.TEMP_PATTERN only:
        a name of any other form is the user's and stays); on object storage writers are on
        other machines, so every temporary of ours is removed (only between runs)."""
        for name in self.names():
            if temporary_writer(name) is not None:
                self.remove(name)

    def where(self, name: str) -> str:
        """The full path or URL of ``name``, for messages."""
        return f"{self.url.rstrip('/')}/{name}"


class LocalStorage(Storage):
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.url = str(self.path)

    def exists(self) -> bool:
        return self.path.is_dir()

    def is_file(self) -> bool:
        return self.path.exists() and not self.path.is_dir()

    def names(self) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(p.name for p in self.path.iterdir() if p.is_file())

    def read_bytes(self, name: str) -> bytes:
        return (self.path / name).read_bytes()

    def open_read(self, name: str):
        return open(self.path / name, "rb")

    def write_bytes(self, name: str, data: bytes) -> None:
        write_atomic(self.path / name, data)

    def remove(self, name: str) -> None:
        (self.path / name).unlink(missing_ok=True)

    def makedirs(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)

    def remove_temporaries(self) -> None:
        remove_temporaries(self.path)

    def rename(self, name: str, new_name: str) -> None:
        os.replace(self.path / name, self.path / new_name)

    def create_exclusive(self, name: str, data: bytes) -> bool:
        """Create ``name`` holding ``data`` unless it exists; False when it existed. Atomic, and a
        reader never sees it empty: the data goes to a temporary first, then is hard-linked in."""
        temporary = self.path / temporary_name(name)
        temporary.write_bytes(data)
        try:
            os.link(temporary, self.path / name)
        except FileExistsError:
            return False
        finally:
            temporary.unlink(missing_ok=True)
        return True

    def where(self, name: str) -> str:
        return str(self.path / name)


class FsspecStorage(Storage):
    def __init__(self, url: str, role: str = "out"):
        """``role``: what the URL was given as, for error messages (``out``, ``dataset``)."""
        import fsspec

        self.url = url.rstrip("/")
        try:
            self.fs, self.root = fsspec.core.url_to_fs(self.url)
        except ImportError as error:
            scheme = url.partition("://")[0]
            raise ValueError(f"{role}: no filesystem for {scheme}:// URLs is installed ({error})") from error
        except ValueError as error:
            raise ValueError(f"{role}: {error}") from error
        self.root = self.root.rstrip("/")
        protocols = self.fs.protocol if isinstance(self.fs.protocol, (tuple, list)) else (self.fs.protocol,)
        self.atomic_upload = any(p in ATOMIC_UPLOAD_PROTOCOLS for p in protocols)

    def _path(self, name: str) -> str:
        return f"{self.root}/{name}"

    def exists(self) -> bool:
        self.fs.invalidate_cache()
        return bool(self.names()) or self.fs.isdir(self.root)

    def is_file(self) -> bool:
        self.fs.invalidate_cache()
        return self.fs.isfile(self.root)

    def names(self) -> list[str]:
        self.fs.invalidate_cache()
        try:
            entries = self.fs.ls(self.root, detail=True)
        except FileNotFoundError:
            return []
        prefix = self.root + "/"
        names = []
        for entry in entries:
            path = str(entry["name"]).rstrip("/")
            if entry.get("type") == "file" and path.startswith(prefix) and "/" not in path[len(prefix):]:
                names.append(path[len(prefix):])
        return sorted(names)

    def read_bytes(self, name: str) -> bytes:
        return self.fs.cat_file(self._path(name))

    def open_read(self, name: str):
        return self.fs.open(self._path(name), "rb")

    def write_bytes(self, name: str, data: bytes) -> None:
        if self.atomic_upload:
            self.fs.pipe_file(self._path(name), data)
            return
        temporary = self._path(temporary_name(name))
        try:
            self.fs.pipe_file(temporary, data)
            self.fs.mv(temporary, self._path(name))
        except BaseException:
            try:
                self.fs.rm(temporary)
            except (FileNotFoundError, OSError):
                pass
            raise

    def remove(self, name: str) -> None:
        try:
            self.fs.rm(self._path(name))
        except FileNotFoundError:
            pass

    def makedirs(self) -> None:
        self.fs.makedirs(self.root, exist_ok=True)

    def rename(self, name: str, new_name: str) -> None:
        self.fs.mv(self._path(name), self._path(new_name))

    def create_exclusive(self, name: str, data: bytes) -> bool:
        """Check, then write: not atomic on an object store (two runs starting within the same
        moment could both pass); locally ``os.O_EXCL`` makes it exact (LocalStorage)."""
        path = self._path(name)
        if self.fs.exists(path):
            return False
        self.fs.pipe_file(path, data)
        return True


def open_storage(location: str | Path, role: str = "out") -> Storage:
    """A local directory for paths (and ``file://`` URLs), fsspec for any other URL; ``role``
    names the location in error messages. Readers (validate, preview) only read through it."""
    location = str(location)
    if location.startswith("file://"):
        return LocalStorage(location[len("file://"):])
    if is_url(location):
        return FsspecStorage(location, role)
    return LocalStorage(location)
