"""The clip recipe: (config, clip index, draw) -> one encoded, verified sample.

draw spec -> build scene -> render -> ground truth -> verify -> encode, in ``make_clip``; the
shard task (shards.job.shard_task) calls it for the farm and for ``--no-ray`` alike. A clip is a
pure function of the config, the clip index and the draw, so it gives the same bytes on any
worker, in any order.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from worldclips.motions.body import BodyModel
from worldclips.scenes.asset_cache import AssetCache
from worldclips.scenes.build import build_scene
from worldclips.scenes.dressing import photo_dress
from worldclips.scenes.sampling import sample_clip_spec
from worldclips.render.sensor_noise import add_sensor_noise
from worldclips.render.tracks import point_tracks
from worldclips.shards.format.layer_registry import LAYERS, LayerInputs
from worldclips.shards.format.properties import PropertiesFailed
from worldclips.shards.format.sample import build_meta, encode_sample, ground_truth_arrays
from worldclips.shards.format.schema import sample_key
from worldclips.shards.job.config import GenerateConfig, environment_maps
from worldclips.shards.job.scenario_clips import scenario_spec, verify


TRACKS_STREAM = 7  # the point tracks' random stream, apart from the spec's draws
SENSOR_NOISE_STREAM = 0x5E_4501  # the sensor noise pixels' stream (beyond any redraw attempt number)


@dataclass(frozen=True)
class ClipResult:
    """One encoded clip; scenario clips add their scenario and measured properties."""

    key: str
    members: dict[str, bytes]
    num_frames: int
    scenario: str | None = None
    properties: dict | None = None

    @property
    def verified(self) -> bool:
        return self.properties is None or all(r["passed"] for r in self.properties.values())


def draw_seed(run_seed: int, clip_index: int, attempt: int) -> int:
    """The seed a clip is drawn with: the run seed first, then one derived from (run seed, clip, attempt)."""
    if attempt == 0:
        return int(run_seed)
    state = np.random.SeedSequence([int(run_seed), int(clip_index), int(attempt)]).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))  # 63 bits, a valid run seed


def make_clip(
    config: GenerateConfig, clip_index: int, body: BodyModel, renderer, versions: dict, attempt: int = 0, final: bool = True,
    assets: AssetCache | None = None,
) -> ClipResult:
    """Draw, build, render, measure, verify and encode one clip.

    ``attempt`` > 0 re-draws a clip whose earlier draws failed: the spec is drawn with
    ``draw_seed(run seed, clip index, attempt)`` (recorded as the spec's ``run_seed``) and
    ``meta.json`` records ``redraw`` = {attempt, seed}; ``run_seed`` in ``meta.json`` stays the run's.
    A scenario clip that lacks a property raises PropertiesFailed unless ``final`` (the last
    draw allowed), which is kept with ``verified: false``. ``assets``: the worker's cache of
    decoded HDRI maps (scenes.asset_cache), or None.
    """
    seed = draw_seed(config.seed, clip_index, attempt)
    # 1. draw the spec: every random choice of the clip, as JSON-able values
    entry, info = None, None
    if config.resolved_scenario is None:
        spec = sample_clip_spec(config.scene, seed, clip_index, config.fps, config.frames, config.width, config.height,
                                config.user_props)
    else:
        entry, spec, info = scenario_spec(config, clip_index, seed)
    if config.look == "photo":  # the same clip, dressed: outfits, materials, sky, sensor noise level
        spec = photo_dress(spec, environment_maps(config), config.textures, assets, config.sensor_noise)
    # 2. build the scene (every per-frame value resolved) and 3. render it
    scene = build_scene(spec, body, assets=assets)
    if any(LAYERS[name].surface_pass for name in config.layers):  # the config allows these on raster only
        rendered = renderer.render(scene, surface_layers=True)
    else:
        rendered = renderer.render(scene)
    if scene.look is not None and scene.look.sensor_noise > 0:  # the camera's noise: RGB only
        noise_rng = np.random.default_rng(np.random.SeedSequence([seed, clip_index, SENSOR_NOISE_STREAM]))
        rendered = dataclasses.replace(rendered, rgb=add_sensor_noise(rendered.rgb, scene.look.sensor_noise, noise_rng))
    tracks = None
    if "tracks" in config.layers:
        tracks = point_tracks(scene, rendered.depth, rendered.segmentation, config.num_tracks, [seed, clip_index, TRACKS_STREAM])
    # 4. ground truth in the sample schema's arrays
    key = sample_key(config.run, clip_index)
    meta = build_meta(key, config.run, spec, scene, body.name, config.backend, versions, info, config.layers)
    if attempt:
        meta["run_seed"] = config.seed
        meta["redraw"] = {"attempt": attempt, "seed": seed}
    arrays = ground_truth_arrays(scene, rendered)
    # 5. verify a scenario clip's properties on that ground truth
    results = None
    if entry is not None:
        results = verify(entry, meta, rendered, arrays)
        if not all(r["passed"] for r in results.values()) and not final:
            raise PropertiesFailed(results, entry.name)
    # 6. encode the sample's members
    members = encode_sample(meta, scene, rendered, arrays, LayerInputs(rendered, tracks), config.layers)
    return ClipResult(key, members, scene.num_frames, entry.name if entry else None, results)
