"""``scene.physics`` in the config: how often each physics setup is drawn, and the parameter
ranges the setups draw from.

The single-object cases (uniform, collision, parabola) have in-distribution (``id``) and
out-of-distribution (``ood``) ranges that do not overlap, in the manner of Kang et al. 2025,
"How Far is Video Generation from World Model: A Physical Law Perspective": the OOD ranges lie
on both sides of the ID ones. ``split`` picks which ones are drawn. The other setups have one
set of ranges (recorded with split "id"). Every clip records the ranges it was drawn from and
the values drawn in meta.json's ``scenario_params.physics``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from worldclips.scenes.spec import PHYSICS_SETUPS

Ranges = tuple[tuple[float, float], ...]

# Single-object cases: name -> split -> intervals. Speeds m/s, radii m, angles rad (from the ground).
SPLIT_RANGES: dict[str, dict[str, dict[str, Ranges]]] = {
    "uniform": {
        "speed": {"id": ((1.0, 3.0),), "ood": ((0.3, 0.7), (3.5, 5.0))},
        "radius": {"id": ((0.08, 0.15),), "ood": ((0.04, 0.06), (0.18, 0.25))},
    },
    "collision": {
        "speed": {"id": ((1.0, 3.0),), "ood": ((0.3, 0.7), (3.5, 5.0))},
        "radius": {"id": ((0.08, 0.15),), "ood": ((0.04, 0.06), (0.18, 0.25))},
        "mass_ratio": {"id": ((0.5, 2.0),), "ood": ((0.2, 0.4), (2.5, 5.0))},
    },
    "parabola": {
        "speed": {"id": ((2.0, 4.0),), "ood": ((1.0, 1.7), (4.5, 6.0))},
        "angle": {"id": ((0.52, 1.05),), "ood": ((0.17, 0.44), (1.13, 1.4))},
        "radius": {"id": ((0.08, 0.15),), "ood": ((0.04, 0.06), (0.18, 0.25))},
    },
}
# What a scenario's own split ranges may span (the simulation's and the camera framing's limits).
SPLIT_BOUNDS: dict[str, tuple[float, float]] = {"speed": (0.05, 20.0), "radius": (0.02, 0.5), "mass_ratio": (0.05, 20.0),
                                                "angle": (0.0, 1.5)}  # fmt: skip
# Ranges shared by both splits of the single-object cases (nuisance parameters).
COMMON_RANGES: dict[str, dict[str, Ranges]] = {
    "uniform": {"density": ((300.0, 1200.0),)},
    "collision": {"density": ((300.0, 1200.0),), "restitution": ((0.7, 0.95),), "speed_b_share": ((0.0, 1.0),)},
    "parabola": {"density": ((300.0, 1200.0),), "height": ((0.3, 1.0),), "restitution": ((0.3, 0.8),)},
}


def draw(rng: np.random.Generator, ranges: Ranges) -> float:
    """A value uniform over the union of ``ranges`` (intervals weighted by their length)."""
    widths = np.array([high - low for low, high in ranges], dtype=np.float64)
    k = int(rng.choice(len(ranges), p=widths / widths.sum())) if len(ranges) > 1 else 0
    return round(float(rng.uniform(*ranges[k])), 4)


@dataclass(frozen=True)
class PhysicsConfig:
    """Relative weights of the physics setups (``none``: a default scene) and the range split.

    split: "id" or "ood", the ranges of the single-object cases. substep_hz: simulation rate.
    """

    glass_off_table: float = 0.0
    ball_throw: float = 0.0
    knock_over: float = 0.0
    stack_topple: float = 0.0
    uniform: float = 0.0
    collision: float = 0.0
    parabola: float = 0.0
    none: float = 0.0
    split: str = "id"
    substep_hz: float = 1000.0

    def __post_init__(self) -> None:
        for name in (*PHYSICS_SETUPS, "none"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value >= 0):
                raise ValueError(f"scene.physics.{name}: expected a weight >= 0, got {value!r}")
        if self.total <= 0:
            raise ValueError(f"scene.physics: expected at least one positive weight among {[*PHYSICS_SETUPS, 'none']}")
        if self.split not in ("id", "ood"):
            raise ValueError(f"scene.physics.split: expected 'id' or 'ood', got {self.split!r}")
        if not (isinstance(self.substep_hz, (int, float)) and 500.0 <= self.substep_hz <= 20000.0):
            raise ValueError(f"scene.physics.substep_hz: expected 500..20000 Hz, got {self.substep_hz!r}")

    @property
    def total(self) -> float:
        return float(sum(getattr(self, name) for name in (*PHYSICS_SETUPS, "none")))

    def choose(self, rng: np.random.Generator) -> str:
        """A setup name, or "none"."""
        names = (*PHYSICS_SETUPS, "none")
        weights = np.array([getattr(self, name) for name in names], dtype=np.float64)
        return names[int(rng.choice(len(names), p=weights / weights.sum()))]


assert {f.name for f in fields(PhysicsConfig)} >= set(PHYSICS_SETUPS)
