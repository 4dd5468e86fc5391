"""Scenario clips in the generate job: which scenario a clip index gets, its spec, its verification.

The scenario comes from the run's mixture (scenes.scenarios.mixture: a function of the run seed
and the clip index, so a re-draw keeps it); the spec from scenes.scenarios.sampler with the
draw's seed; frames, fps and size given on the command line override the scenario's. The
properties are measured on the arrays the sample stores (shards.format.properties).
"""

from __future__ import annotations

import numpy as np

from worldclips.render.frames import RenderedClip
from worldclips.scenes.scenarios.mixture import MixtureEntry
from worldclips.scenes.scenarios.sampler import sample_scenario_clip
from worldclips.scenes.spec import ClipSpec
from worldclips.shards.job.config import GenerateConfig
from worldclips.shards.format.meta_schema import json_text
from worldclips.shards.format.properties import ClipData, measure


def scenario_spec(config: GenerateConfig, clip_index: int, seed: int) -> tuple[MixtureEntry, ClipSpec, dict]:
    """(the clip's scenario, its spec drawn with ``seed``, meta.json's scenario_params.scenario)."""
    mixture = config.resolved_scenario
    entry = mixture.choose(config.seed, clip_index)
    spec, info = sample_scenario_clip(
        entry.name, entry.scenario, mixture.split_of(entry.scenario), config.seed, clip_index, seed,
        fps=config.fps, frames=config.frames, size=config.fixed_size,
    )  # fmt: skip
    if len(mixture.entries) > 1:
        info["mixture"] = {e.name: e.weight for e in mixture.entries}
    return entry, spec, info


def verify(entry: MixtureEntry, meta: dict, rendered: RenderedClip, arrays: dict[str, dict[str, np.ndarray]]) -> dict:
    """Measure the scenario's properties; records them (as JSON text) and ``verified`` in ``meta``."""
    results = measure(entry.scenario.properties, ClipData.from_arrays(meta, rendered.segmentation, arrays))
    meta["properties"] = json_text(results)  # JSON text: one meta.json schema (shards.format.meta_schema)
    meta["verified"] = all(r["passed"] for r in results.values())
    return results
