"""Where shards come from: ``--data`` (a local dataset directory, tar files or URLs) -> shard URLs.

- a local directory written by ``worldclips generate``: its manifest's shards, or every
  ``shard-*.tar`` when the manifest is missing;
- local tar files or brace patterns (``data/shard-{000000..000009}.tar``), ``::``-separated;
- URLs that fsspec opens (``s3://`` with s3fs, ``gs://`` with gcsfs, ``https://``, ``hf://``...),
  read as streams, never through a shell: a ``pipe:`` source is refused. A URL that does not end
  in ``.tar`` is a dataset root: its ``manifest.json`` names the shards, and every name must be
  a shard name of the schema (``shard-NNNNNN.tar``), so a manifest cannot point outside its
  dataset or smuggle in a command.
"""

from __future__ import annotations

from pathlib import Path

import braceexpand

from worldclips.shards.format.names import shard_url_inside
from worldclips.shards.format.reader import MAX_MANIFEST_BYTES, parse_manifest, shard_paths
from worldclips.shards.format.schema import MANIFEST_NAME

def is_remote(spec: str) -> bool:
    """A URL with a scheme (``s3://``, ``https://``, ``memory://``...), not a local path."""
    return "://" in spec.split("::")[0]


def _expand(spec: str) -> list[str]:
    return [url for part in spec.split("::") if part for url in braceexpand.braceexpand(part)]


def _local_directory(directory: Path) -> list[str]:
    if (directory / MANIFEST_NAME).is_file():
        paths = shard_paths(directory)  # names checked, each inside the dataset
        missing = [path for path in paths if not path.is_file()]
        if missing:
            raise FileNotFoundError(f"--data: {missing[0]} is listed in the manifest but missing")
    else:
        paths = sorted(directory.glob("shard-*.tar")) or sorted(directory.glob("*.tar"))
    if not paths:
        raise FileNotFoundError(f"--data: no shards (shard-*.tar) in {directory}")
    return [str(p) for p in paths]


def _remote_root(root: str) -> list[str]:
    import fsspec

    url = root.rstrip("/") + "/" + MANIFEST_NAME
    try:
        with fsspec.open(url, "rb") as stream:
            data = stream.read(MAX_MANIFEST_BYTES + 1)
    except Exception as error:
        raise FileNotFoundError(f"--data: cannot read {url} ({error})") from None
    return [shard_url_inside(root, entry["name"], url) for entry in parse_manifest(data, url)["shards"]]


def shard_urls(spec: str | Path) -> list[str]:
    """``--data`` -> the list of shard URLs or paths, in dataset order. Errors name what is missing."""
    spec = str(spec).strip()
    if not spec:
        raise ValueError("--data: expected a directory, tar files or URLs, got an empty string")
    if spec.startswith("pipe:"):
        raise ValueError("--data: pipe: sources are refused (no shell); give a directory, tar files or an fsspec URL")
    if is_remote(spec):
        urls = _expand(spec)
        if len(urls) == 1 and not urls[0].endswith(".tar"):
            return _remote_root(urls[0])
        return urls
    path = Path(spec)
    if path.is_dir():
        return _local_directory(path)
    urls = _expand(spec)
    missing = [url for url in urls if not Path(url).is_file()]
    if missing:
        raise FileNotFoundError(f"--data: {missing[0]} does not exist")
    return urls
