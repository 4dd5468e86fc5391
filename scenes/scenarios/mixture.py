"""Weighted mixtures of scenarios, and which scenario each clip index gets.

``--scenario`` names one scenario (a preset or a file), a mixture written inline
(``occlusion_pass:2,orbit_walk:1``) or a mixture file (YAML with ``scenarios: {name: weight}``,
names being presets or paths relative to that file). The resolved scenarios are kept in the
run's config, so a dataset records exactly what it was drawn from.

Clip index i belongs to block i // B (B: the largest ``views`` of the mixture, so that the views
of a multi-view scenario stay together); the block picks its scenario from the low-discrepancy
sequence u = frac(offset + block x (sqrt(5) - 1) / 2) against the cumulative weights, with the
offset drawn from the run seed. The choice depends on the run seed and the clip index only (not
on re-draws), and the shares follow the weights closely even over a few clips.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from worldclips.scenes.scenarios.loader import ScenarioError, load_scenario, locate, read_yaml
from worldclips.scenes.scenarios.schema import Scenario

GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
MIX_TAG = 0x6D6978  # "mix": the stream of the mixture offset


@dataclass(frozen=True)
class MixtureEntry:
    """One scenario of a mixture and its weight (> 0)."""

    name: str
    weight: float
    scenario: Scenario


@dataclass(frozen=True)
class ScenarioMixture:
    """The scenarios a run draws from. source: what was asked for; split: "id", "ood" or None
    (each scenario's own default)."""

    source: str
    entries: tuple[MixtureEntry, ...]
    split: str | None = None

    def __post_init__(self) -> None:
        if not self.entries:
            raise ValueError("scenario: expected at least one scenario")
        names = [e.name for e in self.entries]
        if len(set(names)) != len(names):
            raise ValueError(f"scenario: {sorted(n for n in names if names.count(n) > 1)[0]!r} appears twice in the mixture")
        if any(not (math.isfinite(e.weight) and e.weight > 0) for e in self.entries):
            raise ValueError(f"scenario: expected weights > 0, got {[e.weight for e in self.entries]}")
        views = [e.scenario.views for e in self.entries]
        if any(max(views) % v for v in views):
            raise ValueError(f"scenario: views of the mixed scenarios must divide each other, got {views}")
        if self.split not in (None, "id", "ood"):
            raise ValueError(f"split: expected 'id' or 'ood', got {self.split!r}")

    @property
    def block(self) -> int:
        return max(e.scenario.views for e in self.entries)

    def choose(self, run_seed: int, clip_index: int) -> MixtureEntry:
        """The scenario of clip ``clip_index`` (a pure function of the run seed and the index)."""
        if len(self.entries) == 1:
            return self.entries[0]
        offset = np.random.default_rng(np.random.SeedSequence([int(run_seed), MIX_TAG])).random()
        u = (offset + (clip_index // self.block) * GOLDEN) % 1.0
        weights = np.array([e.weight for e in self.entries], dtype=np.float64)
        edges = np.cumsum(weights / weights.sum())
        return self.entries[min(int(np.searchsorted(edges, u, side="right")), len(self.entries) - 1)]

    def split_of(self, scenario: Scenario) -> str:
        return self.split or scenario.split

    def max_frames(self) -> int:
        return max(e.scenario.max_frames() for e in self.entries)

    def max_pixels(self) -> int:
        return max(w * h for e in self.entries for w, h in e.scenario.resolutions)


def _parse_inline(text: str) -> list[tuple[str, float]]:
    parts = []
    for item in text.split(","):
        name, _, weight = item.strip().rpartition(":") if ":" in item else (item.strip(), "", "1")
        try:
            value = float(weight)
        except ValueError:
            raise ScenarioError(f"scenario: {item.strip()!r}: expected NAME or NAME:WEIGHT with a number as the weight") from None
        if not name:
            raise ScenarioError(f"scenario: {item.strip()!r}: missing the scenario name")
        parts.append((name, value))
    return parts


def load_mixture(text: str, split: str | None = None) -> ScenarioMixture:
    """The mixture named by ``--scenario`` (see the module docstring)."""
    text = str(text).strip()
    if not text:
        raise ScenarioError("scenario: expected a scenario name, a file or NAME:WEIGHT,...")
    base = None
    if "," in text or (":" in text and not text.endswith((".yaml", ".yml"))):
        wanted = _parse_inline(text)
    else:
        path = locate(text)
        data = read_yaml(path)
        if "scenarios" not in data:
            wanted = [(text, 1.0)]
        else:
            unknown = sorted(set(data) - {"scenarios", "description"})
            if unknown:
                raise ScenarioError(f"{path}: unknown field {unknown[0]!r} in a mixture file (expected ['description', 'scenarios'])")
            table = data["scenarios"]
            if not isinstance(table, dict) or not table:
                raise ScenarioError(f"{path}: scenarios: expected a mapping of scenario names to weights")
            wanted, base = [], path.parent
            for name, weight in table.items():
                if isinstance(weight, bool) or not isinstance(weight, (int, float)):
                    raise ScenarioError(f"{path}: scenarios.{name}: expected a weight > 0, got {weight!r}")
                wanted.append((str(name), float(weight)))
    entries = []
    for name, weight in wanted:
        target = name
        if base is not None and name.endswith((".yaml", ".yml")) and not Path(name).is_absolute():
            target = str(base / name)
        stem, scenario = load_scenario(target)
        entries.append(MixtureEntry(stem, weight, scenario))
    try:
        return ScenarioMixture(source=text, entries=tuple(entries), split=split)
    except ValueError as error:
        raise ScenarioError(str(error)) from None
