"""The generate job's driver: shards to make -> shard tasks -> config.yaml and manifest.json, last.

Each clip is a pure function of (config, clip index) (shards.job.recipe). The unit of work is one
shard (shards.job.shard_task): it renders its clips and writes the shard straight to the output
(atomically) plus a completion record. The Ray farm (``shards.job.farm``) and the single-process
path (``--no-ray``) both run it, so every mode gives the same shards. The driver, ``generate``,
only records completions and writes ``config.yaml`` and then ``manifest.json`` last.

With a scenario (``config.resolved_scenario``) the manifest reports the acceptance rates per
scenario and property (shards.job.acceptance).
"""

from __future__ import annotations

import contextlib
import json
import platform
import time
from contextlib import ExitStack
from importlib import metadata
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from worldclips.motions.bodies import make_body_model
from worldclips.motions.body import BodyModel
from worldclips.scenes.asset_cache import AssetCache
from worldclips.shards.format.schema import CONFIG_NAME, MANIFEST_NAME, SCHEMA_VERSION, sample_key, shard_name
from worldclips.shards.format.storage import LocalStorage, Storage, open_storage
from worldclips.shards.format.writer import ShardRecord
from worldclips.shards.job import acceptance
from worldclips.shards.job.config import GenerateConfig, config_yaml
from worldclips.shards.job.output import OutputLock, PreviousDataset, check_overwrite, check_overwrite_target, is_dataset_file
from worldclips.shards.job.resume import ShardOutcome, plan_resume, record_entry, record_name, shard_indices
from worldclips.shards.job.shard_task import FaultHooks, job_renderer, render_shard

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
    assets = AssetCache()  # decoded HDRI maps, kept across the run's clips
    for shard_index in todo:
        on_outcome(render_shard(config, shard_index, versions, storage, body, renderer, hooks, assets))
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

    The output is locked for the run (shards.job.output.OutputLock). With ``overwrite``, a
    dataset already in the output (only a folder with nothing but a dataset's files, never ``/``,
    home or the current folder) is replaced: it stays whole until the new run has its first
    shard (shards.job.output.PreviousDataset).
    With ``resume``, shards already there that match their records are kept and only the
    missing or damaged ones are generated; the result equals an uninterrupted run.
    """
    if overwrite and resume:
        raise ValueError("resume: --resume and --overwrite exclude each other")
    storage = open_storage(config.out)
    location: Path | str = Path(config.out) if not hasattr(storage, "fs") else storage.url
    if storage.is_file():
        raise OutputExists(f"out: {config.out} exists and is not a directory")
    if overwrite:
        check_overwrite_target(storage, str(config.out))
    created = not storage.exists()
    storage.makedirs()  # the lock lives in the output; a read-only --out fails here, before any rendering
    try:
        with OutputLock(storage, str(config.out)):
            return _generate_locked(config, storage, location, progress, overwrite, resume, hooks)
    finally:
        if created and isinstance(storage, LocalStorage) and not storage.names():
            with contextlib.suppress(OSError):
                storage.path.rmdir()  # a run that wrote nothing leaves no folder behind


def _generate_locked(
    config: GenerateConfig, storage: Storage, location, progress: bool, overwrite: bool, resume: bool, hooks: FaultHooks | None,
) -> Path | str:  # fmt: skip
    names = storage.names()
    existing = [n for n in names if is_dataset_file(n)]
    if existing and not (overwrite or resume):
        raise OutputExists(
            f"out: {config.out} already holds a dataset; choose a new directory, pass --resume to finish it "
            "or --overwrite to replace it"
        )
    if overwrite and existing:
        check_overwrite(str(config.out), names)
    started = time.perf_counter()
    body = make_body_model(config.smplx_model_dir)
    versions = package_versions()
    todo = list(range(len(shard_indices(config))))
    kept: dict[int, ShardOutcome] = {}
    if resume and existing:
        plan = plan_resume(storage, config, versions, names)
        if plan.manifest_ok and CONFIG_NAME in names:
            return location  # complete and verified: nothing to do
        todo, kept = plan.todo, plan.kept
    previous = PreviousDataset(storage, names) if overwrite and existing else None
    with ExitStack() as stack:
        renderer, farm_run = None, None
        stack.callback(_remove_temporaries_quietly, storage)  # last: after Ray has stopped every writer
        if config.ray and todo:  # start Ray and check the request before anything is written
            from worldclips.shards.job.farm import Farm

            farm_run = stack.enter_context(Farm(config))
        elif not config.ray:
            renderer = job_renderer(config)
            stack.callback(renderer.release)
        if previous is not None:  # overwrite: the old dataset stays until the first new shard
            previous.set_aside()
            stack.callback(previous.restore)  # a no-op once the first new shard exists
        else:
            storage.remove(MANIFEST_NAME)  # first, so a dataset being changed never looks complete
        if resume and existing:
            storage.remove(CONFIG_NAME)
            for name in plan.stale_names(set(names)):
                storage.remove(name)
        storage.remove_temporaries()
        new_shards = {shard_name(i) for i in range(len(shard_indices(config)))}
        on_first = (lambda: previous.first_shard_written(new_shards)) if previous is not None else None
        return _run(config, storage, location, todo, kept, versions, started, farm_run, body, renderer, hooks, progress, on_first)


def _remove_temporaries_quietly(storage: Storage) -> None:
    try:
        storage.remove_temporaries()
    except OSError:
        pass  # best effort on the way out; the next run (or --resume) removes them too


def _run(
    config: GenerateConfig, storage: Storage, location, todo: list[int], kept: dict[int, ShardOutcome], versions: dict,
    started: float, farm_run, body: BodyModel, renderer, hooks: FaultHooks | None, progress: bool,
    on_first_shard: Callable[[], None] | None = None,
) -> Path | str:  # fmt: skip
    bar = tqdm(total=config.clips, unit="clip", disable=not progress, dynamic_ncols=True, desc="generate")
    tally = _Tally(config, bar, started)

    def arrived(outcome: ShardOutcome) -> None:
        if on_first_shard is not None:
            on_first_shard()
        tally.add(outcome)

    try:
        for outcome in kept.values():
            tally.add(outcome)
        if farm_run is not None:
            run_info = farm_run.run(todo, versions, hooks, arrived)
        else:
            run_info = _run_single_process(config, todo, versions, storage, body, renderer, hooks, arrived)
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
