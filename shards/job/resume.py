"""What a finished shard leaves behind, and how ``--resume`` decides which shards to keep.

A shard task writes its shard (atomically), then a completion record beside it,
``shard-000007.done.json``: the shard's size, sha256 and keys, the clips that failed and were
re-drawn, and the fingerprint of everything that decides the bytes (the output fields of the
config and the package versions). The manifest, written last, carries the same facts for every
shard, and the completion records are removed once it is written.

``plan_resume`` keeps a shard only when its file is present and its size and sha256 match a
record (the manifest's entry or its completion record) made with the same fingerprint, and its
keys are the ones this run expects; everything else is generated again. A record or manifest
made with a different config or different package versions stops the run: mixing them would not
give the dataset of an uninterrupted run.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from worldclips.shards.job.config import ConfigError, GenerateConfig, output_fields, resolve_config
from worldclips.shards.format.schema import MANIFEST_NAME, SHARD_PATTERN, sample_key, shard_name
from worldclips.shards.format.storage import Storage
from worldclips.shards.format.writer import ShardRecord

RECORD_PATTERN = re.compile(r"^shard-(\d{6})\.done\.json$")
RECORD_VERSION = 1


class ResumeError(ValueError):
    """The output holds a dataset that this run cannot continue (one line)."""


@dataclass(frozen=True)
class ClipFailure:
    """One draw of a clip that could not be built or rendered, or did not have its scenario's
    properties (then ``properties`` holds what was measured); it was replaced by a re-draw, except
    the last draw of a clip that never passed, which is kept (``kept``) and marked unverified."""

    clip_index: int
    attempt: int
    seed: int  # the seed of the failed draw (the run seed for attempt 0)
    error: str
    properties: dict | None = None
    kept: bool = False

    def to_dict(self) -> dict:
        row = {"clip_index": self.clip_index, "attempt": self.attempt, "seed": self.seed, "error": self.error}
        if self.properties is not None:
            row["properties"] = self.properties
        if self.kept:
            row["kept"] = True
        return row

    @classmethod
    def from_dict(cls, data: dict) -> "ClipFailure":
        return cls(int(data["clip_index"]), int(data["attempt"]), int(data["seed"]), str(data["error"]), data.get("properties"),
                   bool(data.get("kept", False)))  # fmt: skip


@dataclass(frozen=True)
class ShardOutcome:
    """What a shard task reports back to the driver (small; the shard itself is in storage)."""

    index: int
    record: ShardRecord
    failures: tuple[ClipFailure, ...] = ()
    worker: str = ""  # host:pid of the process that rendered it
    device: str = ""  # the GL device (renderer description) it rendered on
    seconds: float = 0.0  # wall time spent inside the task
    cpu_s: float = 0.0  # CPU time of the worker process meanwhile (all its threads)
    reused: bool = False  # kept from an earlier run by --resume
    frames: int = 0  # frames of its clips (0: unknown, clips x the run's frames)
    checks: dict = field(default_factory=dict)  # scenario -> property tallies (shards.job.acceptance)


def _shard_number(name: str) -> int:
    if not SHARD_PATTERN.match(name):
        raise ValueError(f"{name}: not a shard name")
    return int(name[len("shard-"):-len(".tar")])


def record_name(shard: str) -> str:
    """``shard-000007.tar`` -> ``shard-000007.done.json``."""
    return shard.removesuffix(".tar") + ".done.json"


def shard_indices(config: GenerateConfig) -> list[range]:
    """Clip indices of each shard."""
    per = config.clips_per_shard
    return [range(start, min(start + per, config.clips)) for start in range(0, config.clips, per)]


def expected_keys(config: GenerateConfig, shard_index: int) -> tuple[str, ...]:
    return tuple(sample_key(config.run, i) for i in shard_indices(config)[shard_index])


def output_fingerprint(config: GenerateConfig, versions: dict) -> str:
    """sha256 of what decides a dataset's bytes: the output fields of the config and the versions."""
    text = json.dumps({"config": output_fields(config), "versions": versions}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def record_entry(record: ShardRecord) -> dict:
    return {"name": record.name, "samples": record.samples, "bytes": record.bytes, "sha256": record.sha256, "keys": list(record.keys)}


def record_bytes(outcome: ShardOutcome, fingerprint: str) -> bytes:
    document = {
        "record_version": RECORD_VERSION,
        "fingerprint": fingerprint,
        "shard": record_entry(outcome.record),
        "failures": [f.to_dict() for f in outcome.failures],
        "frames": outcome.frames,
    }
    if outcome.checks:
        document["checks"] = outcome.checks
    return (json.dumps(document, sort_keys=True) + "\n").encode()


def _shard_record(entry: dict) -> ShardRecord:
    return ShardRecord(
        name=str(entry["name"]), samples=int(entry["samples"]), bytes=int(entry["bytes"]),
        sha256=str(entry["sha256"]), keys=tuple(str(k) for k in entry["keys"]),
    )  # fmt: skip


@dataclass
class ResumePlan:
    """Shards kept from the earlier run, shards to (re)generate, and why."""

    kept: dict[int, ShardOutcome] = field(default_factory=dict)
    todo: list[int] = field(default_factory=list)
    reasons: dict[int, str] = field(default_factory=dict)
    manifest_ok: bool = False  # a complete, matching manifest lists every kept shard

    def stale_names(self, names: set[str]) -> list[str]:
        """Files of shards to regenerate that are present now (corrupt, unrecorded) and their records."""
        stale = []
        for index in self.todo:
            for name in (shard_name(index), record_name(shard_name(index))):
                if name in names:
                    stale.append(name)
        return stale


def _read_json(storage: Storage, name: str) -> dict | None:
    try:
        document = json.loads(storage.read_bytes(name))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def _manifest_candidates(storage: Storage, config: GenerateConfig, fingerprint: str, versions: dict) -> dict[str, ShardOutcome]:
    document = _read_json(storage, MANIFEST_NAME)
    if document is None:
        return {}
    try:
        run = document["run"]
        earlier = resolve_config(run["config"], {"out": config.out}, source=MANIFEST_NAME)
        earlier_fingerprint = output_fingerprint(earlier, run["versions"])
        entries = document["shards"]
        failures: dict[int, list[ClipFailure]] = {}
        for row in document.get("failures", []):
            failures.setdefault(int(row["shard"]), []).append(ClipFailure.from_dict(row))
        if earlier_fingerprint != fingerprint:
            raise ResumeError(
                f"resume: {storage.where(MANIFEST_NAME)} was made with a different config or package versions; "
                "choose a new --out or pass --overwrite"
            )
        found = {}
        for entry in entries:
            record = _shard_record(entry)
            index = _shard_number(record.name)
            found[record.name] = ShardOutcome(index, record, tuple(failures.get(index, ())), reused=True, frames=int(entry.get("frames", 0)),
                                              checks=dict(entry.get("checks", {})))  # fmt: skip
        return found
    except (KeyError, TypeError, ValueError, AttributeError, ConfigError) as error:
        if isinstance(error, ResumeError):
            raise
        return {}  # an unreadable manifest is ignored: the shards' own records still count


def plan_resume(storage: Storage, config: GenerateConfig, versions: dict, names: list[str]) -> ResumePlan:
    """Which shards of ``names`` (the files in the output) are complete and correct for this run."""
    fingerprint = output_fingerprint(config, versions)
    count = len(shard_indices(config))
    present = set(names)
    for name in sorted(present):
        match = SHARD_PATTERN.match(name) or RECORD_PATTERN.match(name)
        if match and int(re.search(r"\d{6}", name).group(0)) >= count:
            raise ResumeError(
                f"resume: {storage.where(name)} is not part of this run ({count} shards); the config differs, "
                "choose a new --out or pass --overwrite"
            )
    candidates: dict[int, list[ShardOutcome]] = {}
    from_manifest = _manifest_candidates(storage, config, fingerprint, versions) if MANIFEST_NAME in present else {}
    for outcome in from_manifest.values():
        candidates.setdefault(outcome.index, []).append(outcome)
    for name in sorted(present):
        match = RECORD_PATTERN.match(name)
        if not match:
            continue
        document = _read_json(storage, name)
        if document is None or document.get("record_version") != RECORD_VERSION:
            continue
        if document.get("fingerprint") != fingerprint:
            raise ResumeError(
                f"resume: {storage.where(name)} was made with a different config or package versions; "
                "choose a new --out or pass --overwrite"
            )
        try:
            record = _shard_record(document["shard"])
            failures = tuple(ClipFailure.from_dict(row) for row in document["failures"])
        except (KeyError, TypeError, ValueError):
            continue
        index = int(match.group(1))
        candidates.setdefault(index, []).append(
            ShardOutcome(index, record, failures, reused=True, frames=int(document.get("frames", 0)), checks=dict(document.get("checks", {})))
        )
    plan = ResumePlan()
    for index in range(count):
        name = shard_name(index)
        keys = expected_keys(config, index)
        if name not in present:
            plan.todo.append(index)
            plan.reasons[index] = "missing"
            continue
        usable = [c for c in candidates.get(index, []) if c.record.name == name and c.record.keys == keys]
        if not usable:
            plan.todo.append(index)
            plan.reasons[index] = "no completion record"
            continue
        size, digest = storage.digest(name)
        match = next((c for c in usable if (c.record.bytes, c.record.sha256) == (size, digest)), None)
        if match is None:
            plan.todo.append(index)
            plan.reasons[index] = "size or sha256 differs from its record (corrupt or truncated)"
            continue
        plan.kept[index] = match
    plan.manifest_ok = not plan.todo and all(shard_name(i) in from_manifest for i in range(count))
    return plan
