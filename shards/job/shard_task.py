"""One shard task: render a shard's clips (with re-draws), write the shard atomically, then its
completion record. The Ray farm (shards.job.farm) and the single-process path (``--no-ray``) both
run it, so every mode gives the same shards.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from worldclips.motions.bodies import make_body_model
from worldclips.motions.body import BodyModel
from worldclips.render.backends import make_renderer
from worldclips.scenes.asset_cache import AssetCache
from worldclips.shards.format.properties import PropertiesFailed
from worldclips.shards.format.schema import shard_name
from worldclips.shards.format.storage import Storage
from worldclips.shards.format.writer import ShardRecord, sample_tar_bytes
from worldclips.shards.job import acceptance
from worldclips.shards.job.config import GenerateConfig
from worldclips.shards.job.recipe import draw_seed, make_clip
from worldclips.shards.job.resume import ClipFailure, ShardOutcome, output_fingerprint, record_bytes, record_name, shard_indices


def job_tools(config: GenerateConfig, device_index: int | None = None) -> tuple[BodyModel, object]:
    """The body model and the renderer a worker renders this config's clips with."""
    return make_body_model(config.smplx_model_dir), job_renderer(config, device_index)


def job_renderer(config: GenerateConfig, device_index: int | None = None):
    """The renderer of this config's backend with its options."""
    return make_renderer(config.backend, config.width, config.height, device_index, config.cycles, config.supersample,
                         config.motion_blur, config.motion_blur_samples)


class ClipsFailed(RuntimeError):
    """A clip failed more draws than ``max_redraws`` allows; retrying the shard gives the same."""


@dataclass(frozen=True)
class FaultHooks:
    """Test-only fault injection for ``generate(..., hooks=...)``; the CLI never sets it.

    failing_draws: (clip index, n): the first n draws of that clip raise, as a scene that cannot
    be built would. pid_dir: each shard task writes ``<shard>.<pid>`` there when it starts (so a
    test can kill that worker). clip_delay_s: sleep after each clip. hang_shard with marker_dir:
    the first task of that shard hangs for an hour (a marker file tells later tries apart).
    """

    failing_draws: tuple[tuple[int, int], ...] = ()
    pid_dir: str | None = None
    clip_delay_s: float = 0.0
    hang_shard: int | None = None
    marker_dir: str | None = None

    def shard_started(self, shard_index: int) -> None:
        if self.pid_dir is not None:
            Path(self.pid_dir, f"{shard_index:06d}.{os.getpid()}").write_text(str(os.getpid()))
        if self.hang_shard == shard_index and self.marker_dir is not None:
            marker = Path(self.marker_dir, f"hang-{shard_index:06d}")
            if not marker.exists():
                marker.write_text(str(os.getpid()))
                time.sleep(3600)

    def before_draw(self, clip_index: int, attempt: int) -> None:
        for index, count in self.failing_draws:
            if index == clip_index and attempt < count:
                raise RuntimeError(f"injected fault: scene of clip {clip_index} draw {attempt} cannot be built")

    def after_clip(self) -> None:
        if self.clip_delay_s > 0:
            time.sleep(self.clip_delay_s)




def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _one_line(error: BaseException, limit: int = 300) -> str:
    text = " ".join(str(error).split()) or "no message"
    return f"{type(error).__name__}: {text}"[:limit]


def render_shard(
    config: GenerateConfig,
    shard_index: int,
    versions: dict,
    storage: Storage,
    body: BodyModel,
    renderer,
    hooks: FaultHooks | None = None,
    assets: AssetCache | None = None,
) -> ShardOutcome:
    """Render one shard's clips, write the shard atomically, then its completion record.

    A clip whose scene cannot be built or rendered is drawn again (``draw_seed``) up to
    ``config.max_redraws`` times; each failed draw is reported in the outcome. More failures
    raise ClipsFailed (deterministic: a retry would fail the same way). ``assets``: the worker's
    cache of decoded HDRI maps, kept across its shards (scenes.asset_cache), or None.
    """
    started, cpu_started = time.perf_counter(), time.process_time()
    if hooks is not None:
        hooks.shard_started(shard_index)
    samples: list[tuple[str, dict[str, bytes]]] = []
    failures: list[ClipFailure] = []
    checks: dict = {}  # scenario clips: property tallies (shards.job.acceptance)
    frames = 0
    for clip_index in shard_indices(config)[shard_index]:
        for attempt in range(config.max_redraws + 1):
            seed = draw_seed(config.seed, clip_index, attempt)
            try:
                if hooks is not None:
                    hooks.before_draw(clip_index, attempt)
                result = make_clip(config, clip_index, body, renderer, versions, attempt=attempt,
                                   final=attempt == config.max_redraws, assets=assets)  # fmt: skip
            except MemoryError:
                raise
            except PropertiesFailed as failed:  # rendered, but not the case the scenario asks for
                acceptance.count_draw(checks, failed.scenario, attempt, failed.results)
                failures.append(ClipFailure(clip_index, attempt, seed, _one_line(failed), failed.results))
                continue
            except Exception as error:  # a scene that cannot be built or rendered
                failures.append(ClipFailure(clip_index, attempt, seed, _one_line(error)))
                continue
            if result.scenario is not None:
                acceptance.count_draw(checks, result.scenario, attempt, result.properties)
                acceptance.count_clip(checks, result.scenario, attempt, result.verified)
                if not result.verified:
                    error = f"properties not met in any of {attempt + 1} draws; the last draw is kept, marked verified: false"
                    failures.append(ClipFailure(clip_index, attempt, seed, error, result.properties, kept=True))
            break
        else:
            raise ClipsFailed(
                f"clip {clip_index}: all {config.max_redraws + 1} draws failed (max_redraws {config.max_redraws}); "
                f"last error: {failures[-1].error}"
            )
        samples.append((result.key, result.members))
        frames += result.num_frames
        if hooks is not None:
            hooks.after_clip()
    name = shard_name(shard_index)
    data = sample_tar_bytes(samples)
    storage.write_bytes(name, data)
    record = ShardRecord(
        name=name, samples=len(samples), bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
        keys=tuple(key for key, _ in samples),
    )  # fmt: skip
    outcome = ShardOutcome(
        index=shard_index, record=record, failures=tuple(failures), worker=worker_name(),
        device=str(getattr(renderer, "description", config.backend)), seconds=time.perf_counter() - started,
        cpu_s=time.process_time() - cpu_started, frames=frames, checks=checks,
    )  # fmt: skip
    storage.write_bytes(record_name(name), record_bytes(outcome, output_fingerprint(config, versions)))
    return outcome


