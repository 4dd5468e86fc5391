"""Where shards come from: ``--data`` (a local dataset directory, tar files or URLs) -> shard URLs.

- a local directory written by ``worldclips generate``: its manifest's shards, or every
  ``shard-*.tar`` when the manifest is missing;
- local tar files or brace patterns (``data/shard-{000000..000009}.tar``), ``::``-separated;
- URLs that webdataset opens: ``http(s)://``, ``gs://``, ``hf://``, ``pipe:CMD``; ``s3://`` URLs
  are read through ``aws s3 cp URL -``. A URL that does not end in ``.tar`` is a dataset root:
  its ``manifest.json`` names the shards.
"""

from __future__ import annotations

import json
from pathlib import Path

import braceexpand

from worldclips.shards.format.schema import MANIFEST_NAME

REMOTE_PREFIXES = ("http://", "https://", "gs://", "hf://", "s3://", "ais://", "pipe:")


def is_remote(spec: str) -> bool:
    return spec.startswith(REMOTE_PREFIXES)


def _expand(spec: str) -> list[str]:
    return [url for part in spec.split("::") if part for url in braceexpand.braceexpand(part)]


def _readable_url(url: str) -> str:
    """A URL webdataset's gopen can open (s3 goes through the aws CLI)."""
    return f"pipe:aws s3 cp {url} -" if url.startswith("s3://") else url


def _manifest_shards(manifest: dict, where: str) -> list[str]:
    try:
        return [entry["name"] for entry in manifest["shards"]]
    except (KeyError, TypeError):
        raise ValueError(f"{where}: not a worldclips manifest (no shards list)") from None


def _local_directory(directory: Path) -> list[str]:
    manifest = directory / MANIFEST_NAME
    if manifest.is_file():
        try:
            names = _manifest_shards(json.loads(manifest.read_text()), str(manifest))
        except json.JSONDecodeError as error:
            raise ValueError(f"{manifest}: not valid JSON ({error})") from None
        missing = [name for name in names if not (directory / name).is_file()]
        if missing:
            raise FileNotFoundError(f"--data: {directory / missing[0]} is listed in the manifest but missing")
        paths = [directory / name for name in names]
    else:
        paths = sorted(directory.glob("shard-*.tar")) or sorted(directory.glob("*.tar"))
    if not paths:
        raise FileNotFoundError(f"--data: no shards (shard-*.tar) in {directory}")
    return [str(p) for p in paths]


def _remote_root(root: str) -> list[str]:
    from webdataset.gopen import gopen

    url = root.rstrip("/") + "/" + MANIFEST_NAME
    try:
        with gopen(_readable_url(url), "rb") as stream:
            manifest = json.loads(stream.read())
    except Exception as error:
        raise FileNotFoundError(f"--data: cannot read {url} ({error})") from None
    return [_readable_url(root.rstrip("/") + "/" + name) for name in _manifest_shards(manifest, url)]


def shard_urls(spec: str | Path) -> list[str]:
    """``--data`` -> the list of shard URLs or paths, in dataset order. Errors name what is missing."""
    spec = str(spec).strip()
    if not spec:
        raise ValueError("--data: expected a directory, tar files or URLs, got an empty string")
    if is_remote(spec):
        urls = _expand(spec)
        if len(urls) == 1 and not urls[0].endswith(".tar") and not urls[0].startswith("pipe:"):
            return _remote_root(urls[0])
        return [_readable_url(url) for url in urls]
    path = Path(spec)
    if path.is_dir():
        return _local_directory(path)
    urls = _expand(spec)
    missing = [url for url in urls if not Path(url).is_file()]
    if missing:
        raise FileNotFoundError(f"--data: {missing[0]} does not exist")
    return urls
