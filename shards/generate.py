"""The generate job: seed -> clips -> verified shard files and a manifest written last.

Each clip is a pure function of (config, clip index): ``make_sample`` can run on any worker in
any order and gives the same bytes.
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from tqdm import tqdm

from motions.body import BodyModel
from render.frames import RenderedClip
from scenes.build import build_scene
from scenes.sampling import sample_clip_spec
from shards.config import GenerateConfig, config_yaml
from shards.sample import build_meta, encode_sample
from shards.schema import CONFIG_NAME, MANIFEST_NAME, SCHEMA_VERSION, SHARD_PATTERN, sample_key, shard_name
from shards.writer import ShardRecord, remove_temporaries, write_atomic, write_shard

VERSIONED_PACKAGES = ("worldclips", "numpy", "scipy", "moderngl", "mannequin-x", "av", "smplx")


class OutputExists(ValueError):
    """The output directory already holds a dataset."""


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def make_body_model(config: GenerateConfig) -> BodyModel:
    """mannequin-x by default; the licensed SMPL-X model when smplx_model_dir is set."""
    if config.smplx_model_dir:
        from motions.smplx_body import SmplxBody

        return SmplxBody(config.smplx_model_dir)
    from motions.mannequin_body import MannequinBody

    return MannequinBody()


def make_renderer(config: GenerateConfig, device_index: int | None = None):
    from render.raster import RasterRenderer

    return RasterRenderer(config.width, config.height, device_index=device_index)


def _dataset_files(out: Path) -> list[Path]:
    if not out.is_dir():
        return []
    return [p for p in out.iterdir() if p.name in (MANIFEST_NAME, CONFIG_NAME) or SHARD_PATTERN.match(p.name)]


def check_output_dir(out: Path, overwrite: bool = False) -> None:
    """Refuse a directory that already holds a dataset unless ``overwrite`` is given."""
    if out.exists() and not out.is_dir():
        raise OutputExists(f"out: {out} exists and is not a directory")
    if _dataset_files(out) and not overwrite:
        raise OutputExists(f"out: {out} already holds a dataset; choose a new directory or pass --overwrite")


@dataclass(frozen=True)
class ClipResult:
    key: str
    members: dict[str, bytes]
    num_frames: int


def make_sample(config: GenerateConfig, clip_index: int, body: BodyModel, renderer, versions: dict) -> ClipResult:
    """Sample, build, render and encode one clip."""
    spec = sample_clip_spec(config.scene, config.seed, clip_index, config.fps, config.frames, config.width, config.height)
    scene = build_scene(spec, body)
    rendered: RenderedClip = renderer.render(scene)
    key = sample_key(config.run, clip_index)
    meta = build_meta(key, config.run, spec, scene, body.name, config.backend, versions)
    return ClipResult(key=key, members=encode_sample(meta, scene, rendered), num_frames=scene.num_frames)


def shard_ranges(config: GenerateConfig) -> list[range]:
    """Clip indices of each shard."""
    per = config.clips_per_shard
    return [range(start, min(start + per, config.clips)) for start in range(0, config.clips, per)]


def manifest(config: GenerateConfig, records: list[ShardRecord], versions: dict, renderer_info: str, wall_s: float) -> dict:
    frames = config.clips * config.frames
    return {
        "schema_version": SCHEMA_VERSION,
        "run": {
            "name": config.run,
            "seed": config.seed,
            "config": config.to_dict(),
            "versions": versions,
            "renderer": renderer_info,
        },
        "summary": {
            "clips": config.clips,
            "frames": frames,
            "shards": len(records),
            "wall_s": round(wall_s, 3),
            "clips_per_s": round(config.clips / wall_s, 3) if wall_s > 0 else None,
            "frames_per_s": round(frames / wall_s, 2) if wall_s > 0 else None,
        },
        "shards": [
            {"name": r.name, "samples": r.samples, "bytes": r.bytes, "sha256": r.sha256, "keys": list(r.keys)}
            for r in records
        ],
    }


def generate(config: GenerateConfig, progress: bool = True, overwrite: bool = False) -> Path:
    """Run the whole job; returns the output directory. The manifest is written last.

    With ``overwrite``, a dataset already in the directory (its shards, config and manifest,
    nothing else) is removed once the config, body model and renderer have been checked.
    """
    out = Path(config.out)
    check_output_dir(out, overwrite)
    body = make_body_model(config)
    renderer = make_renderer(config)
    versions = package_versions()
    manifest_path = out / MANIFEST_NAME
    manifest_path.unlink(missing_ok=True)  # first, so a half-removed dataset never looks complete
    for old in _dataset_files(out):
        old.unlink()
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    records: list[ShardRecord] = []
    bar = tqdm(total=config.clips, unit="clip", disable=not progress, dynamic_ncols=True, desc="generate")
    try:
        for shard_index, indices in enumerate(shard_ranges(config)):
            samples = []
            for clip_index in indices:
                result = make_sample(config, clip_index, body, renderer, versions)
                samples.append((result.key, result.members))
                bar.update(1)
                elapsed = time.perf_counter() - started
                bar.set_postfix(frames_per_s=f"{bar.n * config.frames / max(elapsed, 1e-9):.1f}", shards=len(records))
            records.append(write_shard(out, shard_name(shard_index), samples))
        wall = time.perf_counter() - started
        write_atomic(out / CONFIG_NAME, config_yaml(config).encode())
        document = manifest(config, records, versions, getattr(renderer, "description", config.backend), wall)
        write_atomic(out / MANIFEST_NAME, (json.dumps(document, indent=1, sort_keys=True) + "\n").encode())
    finally:
        bar.close()
        remove_temporaries(out)
    return out
