"""Layouts: how a scenario arranges its cast (``layout:`` in a scenario file, told apart by ``kind``).

A layout places the characters (with their motions), props and actions of a scenario in a
frame that the sampler puts at a random spot and heading; its fields are distributions
(scenes.scenarios.dists). ``roles()`` names the characters and objects that properties may
refer to. The samplers live in scenes.scenarios.layouts and scenes.scenarios.ball_pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from worldclips.motions.catalog import PROCEDURAL_KINDS
from worldclips.scenes.physics_config import SPLIT_BOUNDS, SPLIT_RANGES
from worldclips.scenes.scenarios.dists import Count, Number, Weights, check_count, check_number, check_weights
from worldclips.scenes.spec import PHYSICS_SETUPS

Ranges = tuple[tuple[float, float], ...]
STANDING_KINDS = ("idle", "wave", "dance", "turn", "reach", "jump")


def _numbers(layout, **bounds) -> None:
    for name, (low, high) in bounds.items():
        check_number(name, getattr(layout, name), low, high)


@dataclass(frozen=True)
class FreeLayout:
    """Characters with motions drawn by weight, placed like the default scene (bodies never meet)."""

    characters: Count = (1, 2)
    motions: Weights = field(default_factory=lambda: {"walk": 3.0, "run": 1.0, "jump": 1.0, "dance": 1.0, "wave": 1.0, "reach": 1.0})
    walk_speed_mps: tuple[float, float] = (0.7, 1.6)
    arena_m: float = 3.0
    kind: Literal["free"] = "free"

    def __post_init__(self) -> None:
        check_count("characters", self.characters, 1, 3)
        check_weights("motions", self.motions, tuple(k for k in PROCEDURAL_KINDS if k != "carry"))
        check_number("walk_speed_mps", self.walk_speed_mps, 0.5, 2.0)
        check_number("arena_m", self.arena_m, 2.0, 20.0)

    def roles(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        low = self.characters[0] if isinstance(self.characters, tuple) else self.characters
        return tuple(f"person{i}" for i in range(low)), ()


@dataclass(frozen=True)
class WalkLineLayout:
    """One walker on a straight line through the frame's origin at a constant speed."""

    speed_mps: Number = (0.9, 1.4)
    step_width_m: Number = (0.12, 0.18)
    arm_swing: Number = (0.8, 1.2)
    kind: Literal["walk_line"] = "walk_line"

    def __post_init__(self) -> None:
        _numbers(self, speed_mps=(0.5, 2.0), step_width_m=(0.05, 0.4), arm_swing=(0.0, 3.0))

    def roles(self):
        return ("walker",), ()


@dataclass(frozen=True)
class JumpRunLayout:
    """A standing jump at the frame's origin; optionally a runner crossing behind the jumper (away from the camera)."""

    jump_height_m: Number = (0.25, 0.45)
    jump_distance_m: Number = (0.2, 0.8)
    crouch_s: Number = (0.3, 0.5)
    start_s: Number = (0.2, 0.5)
    runner: bool = True
    run_speed_mps: Number = (2.2, 3.2)
    runner_offset_m: Number = (2.0, 3.0)
    kind: Literal["jump_run"] = "jump_run"

    def __post_init__(self) -> None:
        _numbers(self, jump_height_m=(0.05, 0.5), jump_distance_m=(0.0, 1.2), crouch_s=(0.2, 1.0), start_s=(0.0, 10.0),
                 run_speed_mps=(2.0, 3.5), runner_offset_m=(1.5, 10.0))  # fmt: skip

    def roles(self):
        return (("jumper", "runner") if self.runner else ("jumper",)), ()


@dataclass(frozen=True)
class SitLayout:
    """A chair at the frame's origin; the sitter walks to it (``approach_steps`` steps from the side
    or front, ``approach_deg`` from the seated facing), sits down, stays, stands up."""

    approach_steps: Count = (2, 3)
    approach_deg: Number = (60.0, 110.0)
    step_length_m: Number = (0.25, 0.35)
    step_s: Number = (0.45, 0.55)
    down_s: Number = (0.9, 1.2)
    hold_s: Number = (0.3, 0.7)
    up_s: Number = (0.9, 1.2)
    seat_depth_m: Number = (0.38, 0.44)
    kind: Literal["sit"] = "sit"

    def __post_init__(self) -> None:
        check_count("approach_steps", self.approach_steps, 0, 8)
        _numbers(self, approach_deg=(0.0, 137.0), step_length_m=(0.15, 0.5), step_s=(0.35, 1.0), down_s=(0.6, 3.0),
                 hold_s=(0.0, 10.0), up_s=(0.6, 3.0), seat_depth_m=(0.35, 0.6))  # fmt: skip

    def roles(self):
        return ("sitter",), ("chair",)


@dataclass(frozen=True)
class BallPassLayout:
    """Two passers face each other ``distance_m`` apart, hands held out, and pass a ball back and
    forth ``throws`` times on ballistic arcs; an occluder walks parallel to the pass line,
    ``occluder_offset_m`` towards the camera (negative: behind the passers), timed to cross the
    camera's line of sight to the ball while the ball is held after catch number ``hide_after``."""

    distance_m: Number = (2.6, 3.2)
    throws: Count = (2, 3)
    flight_s: Number = (0.45, 0.6)
    hold_s: Number = (0.5, 0.7)
    ball_radius_m: Number = (0.09, 0.12)
    hand_height_m: Number = (1.1, 1.3)
    occluder_speed_mps: Number = (1.0, 1.4)
    occluder_offset_m: Number = (1.2, 1.5)
    hide_after: int = 1
    kind: Literal["ball_pass"] = "ball_pass"

    def __post_init__(self) -> None:
        check_count("throws", self.throws, 1, 6)
        _numbers(self, distance_m=(1.5, 6.0), flight_s=(0.3, 1.5), hold_s=(0.2, 2.0), ball_radius_m=(0.04, 0.2),
                 hand_height_m=(0.9, 1.5), occluder_speed_mps=(0.5, 2.0), occluder_offset_m=(-6.0, 6.0))  # fmt: skip
        low = self.throws[0] if isinstance(self.throws, tuple) else self.throws
        if not 1 <= self.hide_after <= low:
            raise ValueError(f"hide_after: expected a catch between 1 and the fewest throws ({low}), got {self.hide_after}")

    def roles(self):
        return ("passer_a", "passer_b", "occluder"), ("ball",)


@dataclass(frozen=True)
class LiftLayout:
    """Two dancers face each other ``gap_m`` apart; the lifter reaches up to ``lift_height_m`` with
    one hand and the partner's body follows that hand up and down again (a kinematic attachment)."""

    gap_m: Number = (0.45, 0.55)
    lift_height_m: Number = (1.4, 1.6)
    start_s: Number = (0.2, 0.5)
    reach_s: Number = (0.7, 0.9)
    hold_s: Number = (0.5, 0.9)
    return_s: Number = (0.7, 0.9)
    partner: Weights = field(default_factory=lambda: {"dance": 2.0, "idle": 1.0})
    kind: Literal["lift"] = "lift"

    def __post_init__(self) -> None:
        _numbers(self, gap_m=(0.35, 1.0), lift_height_m=(1.2, 1.9), start_s=(0.0, 10.0), reach_s=(0.3, 3.0), hold_s=(0.0, 10.0),
                 return_s=(0.3, 3.0))  # fmt: skip
        check_weights("partner", self.partner, ("dance", "idle", "wave"))

    def roles(self):
        return ("lifter", "partner"), ()


PHYSICS_ROLES = {
    "glass_off_table": (("person0",), ("table", "glass")),
    "ball_throw": (("thrower", "catcher"), ("ball",)),
    "knock_over": (("walker",), ()),
    "stack_topple": ((), ()),
    "uniform": ((), ("ball",)),
    "collision": ((), ("ball_a", "ball_b")),
    "parabola": ((), ("ball",)),
}


@dataclass(frozen=True)
class PhysicsLayout:
    """One of the physics setups of docs/physics.md, with its own camera. ``splits`` gives the id and
    ood ranges of the single-object setups (uniform, collision, parabola): per value a list of
    [low, high] intervals; values not given keep scenes.physics_config's ranges."""

    setup: str
    splits: dict[str, dict[str, Ranges]] = field(default_factory=dict)
    kind: Literal["physics"] = "physics"

    def __post_init__(self) -> None:
        if self.setup not in PHYSICS_SETUPS:
            raise ValueError(f"setup: expected one of {list(PHYSICS_SETUPS)}, got {self.setup!r}")
        if self.splits and self.setup not in SPLIT_RANGES:
            raise ValueError(f"splits: setup {self.setup!r} has no id/ood ranges (only {list(SPLIT_RANGES)})")
        for split, values in self.splits.items():
            if split not in ("id", "ood"):
                raise ValueError(f"splits: expected 'id' and 'ood', got {split!r}")
            for name, ranges in values.items():
                if name not in SPLIT_RANGES[self.setup]:
                    raise ValueError(f"splits.{split}.{name}: not a split value of {self.setup} (expected one of {list(SPLIT_RANGES[self.setup])})")
                if not ranges or any(not lo < hi for lo, hi in ranges):
                    raise ValueError(f"splits.{split}.{name}: expected [low, high] intervals with low < high, got {[list(r) for r in ranges]}")
                low, high = SPLIT_BOUNDS[name]
                if any(not (low <= lo and hi <= high) for lo, hi in ranges):
                    raise ValueError(f"splits.{split}.{name}: expected intervals within [{low:g}, {high:g}], got {[list(r) for r in ranges]}")
        for name in SPLIT_RANGES.get(self.setup, {}):
            inside, outside = self.ranges(name, "id"), self.ranges(name, "ood")
            for lo, hi in inside:
                if any(not (hi < a or lo > b) for a, b in outside):
                    raise ValueError(f"splits: the id and ood ranges of {name} overlap ({[list(r) for r in inside]} and {[list(r) for r in outside]})")

    def ranges(self, name: str, split: str) -> Ranges:
        """The intervals of a split value (this layout's, else scenes.physics_config's)."""
        return tuple(self.splits.get(split, {}).get(name, SPLIT_RANGES[self.setup][name][split]))

    @property
    def has_splits(self) -> bool:
        return self.setup in SPLIT_RANGES

    def roles(self):
        return PHYSICS_ROLES[self.setup]


Layout = FreeLayout | WalkLineLayout | JumpRunLayout | SitLayout | BallPassLayout | LiftLayout | PhysicsLayout
LAYOUT_KINDS = tuple(cls.__dataclass_fields__["kind"].default for cls in Layout.__args__)
