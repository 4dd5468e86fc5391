"""Reading .npy and .npz members without unpickling and without trusting their declared sizes.

A hostile member can be tiny on disk and claim gigabytes: an .npy header with a huge shape, or a
zip entry that inflates 1000-fold. Before anything is allocated or inflated:
- an .npy header must describe a plain (non-object) dtype whose byte count is exactly the data
  that follows it;
- an .npz (zip) may hold only ``<name>.npy`` entries; the sizes its directory declares are added
  up and refused over ``max_bytes``, and each entry's .npy header must agree with its declared
  size (zipfile never inflates past a declared size).
Every problem is a ValueError naming the member.
"""

from __future__ import annotations

import io
import zipfile
from typing import Collection

import numpy as np

MAX_NPZ_BYTES = 256 << 20  # inflated bytes of one .npz member (pose, camera, objects, contacts)
MAX_NPZ_ENTRIES = 512  # a 2000-frame clip's depth.npz holds 250 chunks


def _header(stream, member: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, payload bytes) declared by the .npy header at the stream's position."""
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version in ((2, 0), (3, 0)):
            shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"npy format version {version}")
    except Exception as error:
        raise ValueError(f"{member}: not a readable .npy array ({error})") from error
    if dtype.hasobject:
        raise ValueError(f"{member}: object arrays are refused (they would need unpickling)")
    if any(int(n) < 0 for n in shape):
        raise ValueError(f"{member}: negative shape {shape}")
    return tuple(int(n) for n in shape), dtype, int(np.prod(shape, dtype=np.int64)) * dtype.itemsize


def load_npy(data: bytes, member: str = "array") -> np.ndarray:
    """An .npy member; its header must declare exactly the bytes it carries."""
    stream = io.BytesIO(data)
    shape, dtype, payload = _header(stream, member)
    if payload != len(data) - stream.tell():
        raise ValueError(f"{member}: header declares {shape} {dtype} ({payload} bytes), the member holds {len(data) - stream.tell()}")
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as error:
        raise ValueError(f"{member}: not a readable .npy array ({error})") from error


def load_npz(data: bytes, member: str = "archive", max_bytes: int = MAX_NPZ_BYTES,
             only: Collection[str] | None = None) -> dict[str, np.ndarray]:  # fmt: skip
    """An .npz member's arrays, refused before inflating when its declared sizes exceed ``max_bytes``;
    with ``only``, just those of its arrays (the others are not inflated)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise ValueError(f"{member}: not a readable .npz archive ({error})") from error
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_NPZ_ENTRIES:
            raise ValueError(f"{member}: {len(entries)} entries, expected at most {MAX_NPZ_ENTRIES}")
        declared = sum(info.file_size for info in entries)
        if declared > max_bytes:
            raise ValueError(f"{member}: declares {declared} bytes when inflated, more than the {max_bytes} allowed")
        arrays = {}
        for info in entries:
            name = info.filename
            if not name.endswith(".npy") or "/" in name or name.startswith("."):
                raise ValueError(f"{member}: entry {name[:60]!r} is not an <array>.npy entry")
            where = f"{member}/{name[:-4]}"
            if only is not None and name[:-4] not in only:
                continue
            try:
                with archive.open(info) as stream:
                    shape, dtype, payload = _header(stream, where)
                    if payload != info.file_size - stream.tell():
                        raise ValueError(f"{where}: header declares {payload} bytes, the entry declares {info.file_size - stream.tell()}")
                with archive.open(info) as stream:
                    arrays[name[:-4]] = np.lib.format.read_array(stream, allow_pickle=False)
            except ValueError:
                raise
            except Exception as error:  # bad CRC, truncated deflate stream, ...
                raise ValueError(f"{where}: not a readable array ({error})") from error
        return arrays
