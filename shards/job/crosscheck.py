"""``worldclips validate --cross-check``: each clip re-rendered by the other backend, compared.

Part of the job, not of the format: it rebuilds a clip's scene from its spec with the run's body
model and renders it, which plain validation (shards.format.validate) never does.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from worldclips.motions.bodies import make_body_model
from worldclips.render.backends import make_renderer
from worldclips.render.cycles.crosscheck import cross_check
from worldclips.scenes.build import build_scene
from worldclips.shards.format.meta_schema import spec_from_meta
from worldclips.shards.format.reader import clip_sizes, depth_and_segmentation, read_shard
from worldclips.shards.format.schema import CONFIG_NAME, MANIFEST_NAME, META_MEMBER
from worldclips.shards.job.config import load_yaml_config, resolve_config


@dataclass(frozen=True)
class CrossCheckResult:
    """One clip's cross-check: its ground truth against the other backend's rendering of it."""

    key: str
    stored: str  # backend that wrote the sample
    reference: str  # backend that re-rendered it
    check: object | None  # render.cycles.crosscheck.CrossCheck, None when it could not run
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.check is not None and self.check.ok


def cross_check_dataset(directory: str | Path, cycles_env: str | None = None):
    """Yield a CrossCheckResult per sample: its scene is rebuilt from meta.json's spec and rendered
    by the other backend (raster for Cycles samples, Cycles ground-truth passes for raster ones),
    and the stored depth and segmentation are compared with that (render.cycles.crosscheck).

    Uses the dataset's config.yaml (body model, Cycles options); ``cycles_env`` overrides the
    Blender environment. Renderers are made on first need; a missing Blender environment raises
    CyclesEnvironmentError.
    """
    directory = Path(directory)
    config = resolve_config(load_yaml_config(directory / CONFIG_NAME), {"out": str(directory)}, str(directory / CONFIG_NAME))
    cycles_options = dataclasses.replace(config.cycles, ground_truth_only=True)
    if cycles_env is not None:
        cycles_options = dataclasses.replace(cycles_options, env=str(cycles_env))
    body = make_body_model(config.smplx_model_dir)
    renderers: dict[str, object] = {}

    def renderer(backend: str):
        if backend not in renderers:
            renderers[backend] = make_renderer(backend, config.width, config.height, cycles=cycles_options)
        return renderers[backend]

    manifest = json.loads((directory / MANIFEST_NAME).read_text())
    try:
        for entry in manifest["shards"]:
            for key, members in read_shard(directory / entry["name"]).items():
                meta = json.loads(members[META_MEMBER])
                stored = str(meta.get("renderer", "raster"))
                reference = "raster" if stored == "cycles" else "cycles"
                try:
                    scene = build_scene(spec_from_meta(meta), body)
                    clip = renderer(reference).render(scene)
                    depth, seg = depth_and_segmentation(members, clip_sizes(meta, key))
                    check = cross_check(depth, seg, clip.depth, clip.segmentation)
                    yield CrossCheckResult(key, stored, reference, check)
                except (ValueError, KeyError, OSError) as error:  # OSError: a map or mesh file gone from this machine
                    yield CrossCheckResult(key, stored, reference, None, f"cannot cross-check ({error})")
    finally:
        for made in renderers.values():
            made.release()
