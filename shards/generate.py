"""The generate job: seed -> clips -> verified shard files and a manifest written last.

Each clip is a pure function of (config, clip index): ``make_sample`` can run on any worker in
any order and gives the same bytes. The unit of work is one shard: ``render_shard`` renders its
clips and writes the shard straight to the output (atomically) plus a completion record. The
Ray farm (``shards.farm``) and the single-process path (``--no-ray``) both call it, so every mode
gives the same shards. The driver, ``generate``, only records completions and writes
``config.yaml`` and then ``manifest.json`` last.

With a scenario (``config.resolved_scenario``) each clip is drawn from the scenario its index
gets and its properties are measured on the ground truth after rendering (shards.properties); a
clip without them is drawn again like one that failed to build, and the last draw of a clip that
never had them is kept, marked ``verified: false``. The manifest reports the acceptance rates
per scenario and property (shards.acceptance).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import socket
import time
from contextlib import ExitStack
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm import tqdm

from motions.body import BodyModel
from render.frames import RenderedClip
from scenes.build import build_scene
from scenes.sampling import sample_clip_spec
from shards.config import GenerateConfig, config_yaml
from shards.progress import (
    RECORD_PATTERN,
    ClipFailure,
    ShardOutcome,
    output_fingerprint,
    plan_resume,
    record_bytes,
    record_entry,
    record_name,
    shard_indices,
)
from shards import acceptance
from shards.properties import PropertiesFailed
from shards.sample import build_meta, encode_sample, ground_truth_arrays
from shards.scenario_clips import scenario_spec, verify
from shards.schema import CONFIG_NAME, MANIFEST_NAME, SCHEMA_VERSION, SHARD_PATTERN, sample_key, shard_name
from shards.storage import Storage, open_storage
from shards.writer import ShardRecord, sample_tar_bytes

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
    if config.backend == "cycles":  # Blender in its own environment and process (docs/cycles.md)
        from render.cycles import CyclesRenderer

        return CyclesRenderer(config.width, config.height, device_index=device_index, config=config.cycles)
    from render.raster import RasterRenderer

    return RasterRenderer(config.width, config.height, device_index=device_index)


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


def is_dataset_file(name: str) -> bool:
    """Files a run writes into its output: shards, completion records, config and manifest."""
    return name in (MANIFEST_NAME, CONFIG_NAME) or bool(SHARD_PATTERN.match(name) or RECORD_PATTERN.match(name))


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


def make_sample(
    config: GenerateConfig, clip_index: int, body: BodyModel, renderer, versions: dict, attempt: int = 0, final: bool = True
) -> ClipResult:
    """Sample, build, render and encode one clip.

    ``attempt`` > 0 re-draws a clip whose earlier draws failed: the spec is drawn with
    ``draw_seed(run seed, clip index, attempt)`` (recorded as the spec's ``run_seed``) and
    ``meta.json`` records ``redraw`` = {attempt, seed}; ``run_seed`` in ``meta.json`` stays the run's.
    A scenario clip that lacks a property raises PropertiesFailed unless ``final`` (the last
    draw allowed), which is kept with ``verified: false``.
    """
    seed = draw_seed(config.seed, clip_index, attempt)
    entry, info = None, None
    if config.resolved_scenario is None:
        spec = sample_clip_spec(config.scene, seed, clip_index, config.fps, config.frames, config.width, config.height)
    else:
        entry, spec, info = scenario_spec(config, clip_index, seed)
    scene = build_scene(spec, body)
    rendered: RenderedClip = renderer.render(scene)
    key = sample_key(config.run, clip_index)
    meta = build_meta(key, config.run, spec, scene, body.name, config.backend, versions, info)
    if attempt:
        meta["run_seed"] = config.seed
        meta["redraw"] = {"attempt": attempt, "seed": seed}
    arrays = ground_truth_arrays(scene, rendered)
    results = None
    if entry is not None:
        results = verify(entry, meta, rendered, arrays)
        if not all(r["passed"] for r in results.values()) and not final:
            raise PropertiesFailed(results, entry.name)
    members = encode_sample(meta, scene, rendered, arrays)
    return ClipResult(key, members, scene.num_frames, entry.name if entry else None, results)


def shard_ranges(config: GenerateConfig) -> list[range]:
    """Clip indices of each shard."""
    return shard_indices(config)


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
) -> ShardOutcome:
    """Render one shard's clips, write the shard atomically, then its completion record.

    A clip whose scene cannot be built or rendered is drawn again (``draw_seed``) up to
    ``config.max_redraws`` times; each failed draw is reported in the outcome. More failures
    raise ClipsFailed (deterministic: a retry would fail the same way).
    """
    started, cpu_started = time.perf_counter(), time.process_time()
    if hooks is not None:
        hooks.shard_started(shard_index)
    samples: list[tuple[str, dict[str, bytes]]] = []
    failures: list[ClipFailure] = []
    checks: dict = {}  # scenario clips: property tallies (shards.acceptance)
    frames = 0
    for clip_index in shard_indices(config)[shard_index]:
        for attempt in range(config.max_redraws + 1):
            seed = draw_seed(config.seed, clip_index, attempt)
            try:
                if hooks is not None:
                    hooks.before_draw(clip_index, attempt)
                result = make_sample(config, clip_index, body, renderer, versions, attempt=attempt, final=attempt == config.max_redraws)
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


def manifest(
    config: GenerateConfig,
    records: list[ShardRecord],
    versions: dict,
    renderer_info: str,
    wall_s: float,
    failures: list[dict] | None = None,
    run_summary: dict | None = None,
    frames: int | None = None,
    shard_extras: list[dict] | None = None,
) -> dict:
    """The manifest: per shard its record (plus ``shard_extras``), per run the config, versions,
    failures and a summary. ``frames``: of all clips (default: clips x the run's frames)."""
    frames = config.clips * config.frames if frames is None else frames
    summary = {
        "clips": config.clips,
        "frames": frames,
        "shards": len(records),
        "wall_s": round(wall_s, 3),
        "clips_per_s": round(config.clips / wall_s, 3) if wall_s > 0 else None,
        "frames_per_s": round(frames / wall_s, 2) if wall_s > 0 else None,
    }
    summary.update(run_summary or {})
    return {
        "schema_version": SCHEMA_VERSION,
        "run": {
            "name": config.run,
            "seed": config.seed,
            "config": config.to_dict(),
            "versions": versions,
            "renderer": renderer_info,
        },
        "summary": summary,
        "failures": list(failures or []),
        "shards": [{**record_entry(r), **(extra or {})} for r, extra in zip(records, shard_extras or [None] * len(records))],
    }


class _Tally:
    """Completed shards as they arrive: progress bar, per-worker counts."""

    def __init__(self, config: GenerateConfig, bar: tqdm, started: float):
        self.config, self.bar, self.started = config, bar, started
        self.outcomes: dict[int, ShardOutcome] = {}
        self.arrived: dict[int, float] = {}  # driver clock when each shard's completion arrived
        self.generated_clips = 0
        self.generated_frames = 0
        self.failures = 0

    def frames_of(self, outcome: ShardOutcome) -> int:
        """Frames of a shard's clips (recorded, or clips x the run's frames for older records)."""
        return outcome.frames or outcome.record.samples * (self.config.frames or 0)

    def add(self, outcome: ShardOutcome) -> None:
        self.outcomes[outcome.index] = outcome
        self.arrived[outcome.index] = time.perf_counter()
        clips = outcome.record.samples
        self.failures += len(outcome.failures)
        if not outcome.reused:
            self.generated_clips += clips
            self.generated_frames += self.frames_of(outcome)
        self.bar.update(clips)
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        self.bar.set_postfix(
            frames_per_s=f"{self.generated_frames / elapsed:.1f}",
            failures=self.failures, shards=len(self.outcomes),
        )  # fmt: skip

    def per_worker(self) -> dict[str, dict]:
        workers: dict[str, dict] = {}
        for outcome in self.outcomes.values():
            if outcome.reused:
                continue
            row = workers.setdefault(
                outcome.worker, {"shards": 0, "clips": 0, "frames": 0, "busy_s": 0.0, "cpu_s": 0.0, "device": outcome.device}
            )
            row["shards"] += 1
            row["clips"] += outcome.record.samples
            row["frames"] += self.frames_of(outcome)
            row["busy_s"] = round(row["busy_s"] + outcome.seconds, 3)
            row["cpu_s"] = round(row["cpu_s"] + outcome.cpu_s, 3)
        for worker, row in workers.items():
            # Time between two shards of a worker not spent inside a shard task: dispatch, result
            # transfer, the driver's bookkeeping (everything but the first shard's start-up).
            done = sorted((self.arrived[o.index], o.seconds) for o in self.outcomes.values() if o.worker == worker and not o.reused)
            gaps = [t - t_before - seconds for (t_before, _), (t, seconds) in zip(done, done[1:])]
            row["between_shards_s"] = round(sum(gaps), 3)
        return dict(sorted(workers.items()))


def _run_single_process(
    config: GenerateConfig, todo: list[int], versions: dict, storage: Storage, body: BodyModel, renderer,
    hooks: FaultHooks | None, on_outcome: Callable[[ShardOutcome], None],
) -> dict:  # fmt: skip
    for shard_index in todo:
        on_outcome(render_shard(config, shard_index, versions, storage, body, renderer, hooks))
    mode = "single-process" if not config.ray else "ray (every shard reused, Ray not started)"
    return {"mode": mode, "workers": 1, "startup_s": 0.0, "retries": 0, "timeouts": 0}


def generate(
    config: GenerateConfig,
    progress: bool = True,
    overwrite: bool = False,
    resume: bool = False,
    hooks: FaultHooks | None = None,
) -> Path | str:
    """Run the whole job; returns the output location. The manifest is written last.

    With ``overwrite``, a dataset already in the output (its shards, completion records, config
    and manifest, nothing else) is removed once the config and the body model have been checked.
    With ``resume``, shards already there that match their records are kept and only the
    missing or damaged ones are generated; the result equals an uninterrupted run.
    """
    if overwrite and resume:
        raise ValueError("resume: --resume and --overwrite exclude each other")
    storage = open_storage(config.out)
    location: Path | str = Path(config.out) if not hasattr(storage, "fs") else storage.url
    if storage.is_file():
        raise OutputExists(f"out: {config.out} exists and is not a directory")
    names = storage.names()
    existing = [n for n in names if is_dataset_file(n)]
    if existing and not (overwrite or resume):
        raise OutputExists(
            f"out: {config.out} already holds a dataset; choose a new directory, pass --resume to finish it "
            "or --overwrite to replace it"
        )
    started = time.perf_counter()
    body = make_body_model(config)
    versions = package_versions()
    todo = list(range(len(shard_indices(config))))
    kept: dict[int, ShardOutcome] = {}
    if resume and existing:
        plan = plan_resume(storage, config, versions, names)
        if plan.manifest_ok and CONFIG_NAME in names:
            return location  # complete and verified: nothing to do
        todo, kept = plan.todo, plan.kept
    with ExitStack() as stack:
        renderer, farm_run = None, None
        stack.callback(_remove_temporaries_quietly, storage)  # last: after Ray has stopped every writer
        if config.ray and todo:  # start Ray and check the request before anything is written
            from shards.farm import Farm

            farm_run = stack.enter_context(Farm(config))
        elif not config.ray:
            renderer = make_renderer(config)
            stack.callback(renderer.release)
        storage.remove(MANIFEST_NAME)  # first, so a dataset being changed never looks complete
        if resume and existing:
            storage.remove(CONFIG_NAME)
            for name in plan.stale_names(set(names)):
                storage.remove(name)
        elif existing:  # overwrite
            for name in existing:
                storage.remove(name)
        storage.remove_temporaries()
        storage.makedirs()
        return _run(config, storage, location, todo, kept, versions, started, farm_run, body, renderer, hooks, progress)


def _remove_temporaries_quietly(storage: Storage) -> None:
    try:
        storage.remove_temporaries()
    except OSError:
        pass  # best effort on the way out; the next run (or --resume) removes them too


def _run(
    config: GenerateConfig, storage: Storage, location, todo: list[int], kept: dict[int, ShardOutcome], versions: dict,
    started: float, farm_run, body: BodyModel, renderer, hooks: FaultHooks | None, progress: bool,
) -> Path | str:  # fmt: skip
    bar = tqdm(total=config.clips, unit="clip", disable=not progress, dynamic_ncols=True, desc="generate")
    tally = _Tally(config, bar, started)
    try:
        for outcome in kept.values():
            tally.add(outcome)
        if farm_run is not None:
            run_info = farm_run.run(todo, versions, hooks, tally.add)
        else:
            run_info = _run_single_process(config, todo, versions, storage, body, renderer, hooks, tally.add)
        wall = time.perf_counter() - started
        outcomes = [tally.outcomes[i] for i in sorted(tally.outcomes)]
        missing = sorted(set(range(len(shard_indices(config)))) - set(tally.outcomes))
        if missing:
            raise RuntimeError(f"generate: shards {missing[:5]} were not written")
        generated = [o for o in outcomes if not o.reused]
        frames = tally.generated_frames
        devices = sorted({o.device for o in generated})
        summary = {
            **run_info,
            "clips_per_s": round(tally.generated_clips / wall, 3) if wall > 0 else None,
            "frames_per_s": round(frames / wall, 2) if wall > 0 else None,
            "shards_generated": len(generated),
            "shards_reused": len(outcomes) - len(generated),
            "failed_draws": tally.failures,
            "per_worker": tally.per_worker(),
        }
        failures = [{"shard": o.index, **f.to_dict()} for o in outcomes for f in o.failures]
        extras = None
        if config.resolved_scenario is not None:
            total: dict = {}
            for outcome in outcomes:
                total = acceptance.merge(total, outcome.checks)
            summary["scenarios"] = acceptance.summary(total)
            summary["unverified_clips"] = [sample_key(config.run, f["clip_index"]) for f in failures if f.get("kept")]
            extras = [{"frames": tally.frames_of(o), "checks": o.checks} for o in outcomes]
        renderer_info = devices[0] if len(devices) == 1 else ("; ".join(devices) if devices else config.backend)
        storage.write_bytes(CONFIG_NAME, config_yaml(config).encode())
        all_frames = sum(tally.frames_of(o) for o in outcomes)
        document = manifest(config, [o.record for o in outcomes], versions, renderer_info, wall, failures, summary, all_frames, extras)
        storage.write_bytes(MANIFEST_NAME, (json.dumps(document, indent=1, sort_keys=True) + "\n").encode())
        for outcome in outcomes:  # the manifest now holds what the completion records said
            storage.remove(record_name(outcome.record.name))
    finally:
        bar.close()
        storage.remove_temporaries()
    return location
