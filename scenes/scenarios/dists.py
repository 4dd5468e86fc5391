"""Distributions in scenario files, and drawing from them.

- ``Number``: a fixed number (``1.2``) or a uniform range (``[0.8, 1.6]``, low <= high).
- ``Count``: a fixed integer (``2``) or a uniform integer range (``[1, 3]``, both ends included).
- ``Weights``: one option (``walk``), a uniform choice (``[walk, run]``) or weights
  (``{walk: 3, run: 1}``; weights >= 0, at least one positive).

Checks raise ValueError with a message that starts with the field's name (scenes.serialization
then reports the whole path: ``camera.fov_deg: expected ...``). ``Draws`` draws from the clip's
generator and remembers what it drew (meta.json's ``scenario_params.scenario``); fixed values
draw nothing, so they do not change the draws after them.
"""

from __future__ import annotations

import math

import numpy as np

Number = float | tuple[float, float]
Count = int | tuple[int, int]
Weights = str | tuple[str, ...] | dict[str, float]


def check_number(name: str, value: Number, low: float = -math.inf, high: float = math.inf) -> None:
    """A fixed value or [low, high] range inside [low, high]."""
    values = value if isinstance(value, tuple) else (value,)
    if isinstance(value, tuple) and not value[0] <= value[1]:
        raise ValueError(f"{name}: expected [low, high] with low <= high, got {list(value)}")
    if not all(low <= v <= high for v in values):
        shown = list(value) if isinstance(value, tuple) else value
        raise ValueError(f"{name}: expected values in [{low:g}, {high:g}], got {shown}")


def check_count(name: str, value: Count, low: int = 0, high: int = 1000) -> None:
    check_number(name, value, low, high)


def options(value: Weights) -> dict[str, float]:
    """The options of a Weights value with their weights."""
    if isinstance(value, str):
        return {value: 1.0}
    if isinstance(value, tuple):
        return {v: 1.0 for v in value}
    return {k: float(v) for k, v in value.items()}


def check_weights(name: str, value: Weights, allowed: tuple[str, ...] | None = None) -> None:
    """Options known (if ``allowed``), weights >= 0 and at least one positive."""
    table = options(value)
    if not table:
        raise ValueError(f"{name}: expected at least one option")
    for option, weight in table.items():
        if allowed is not None and option not in allowed:
            raise ValueError(f"{name}: unknown option {option!r} (expected one of {list(allowed)})")
        if not (math.isfinite(weight) and weight >= 0):
            raise ValueError(f"{name}.{option}: expected a weight >= 0, got {weight!r}")
    if sum(table.values()) <= 0:
        raise ValueError(f"{name}: expected at least one positive weight")


def number(rng: np.random.Generator, value: Number, digits: int = 4) -> float:
    if isinstance(value, tuple):
        return round(float(rng.uniform(value[0], value[1])), digits) if value[1] > value[0] else float(value[0])
    return float(value)


def count(rng: np.random.Generator, value: Count) -> int:
    if isinstance(value, tuple):
        return int(rng.integers(value[0], value[1] + 1)) if value[1] > value[0] else int(value[0])
    return int(value)


def choose(rng: np.random.Generator, value: Weights) -> str:
    table = options(value)
    names = list(table)
    if len(names) == 1:
        return names[0]
    weights = np.array([table[n] for n in names], dtype=np.float64)
    return names[int(rng.choice(len(names), p=weights / weights.sum()))]


def top(value: Number) -> float:
    """The largest value a Number can take."""
    return float(value[1] if isinstance(value, tuple) else value)


class Draws:
    """Draws from one generator that remember their values (by name) and categorical choices."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.values: dict[str, float] = {}
        self.choices: dict[str, str] = {}

    def number(self, name: str, value: Number, digits: int = 4) -> float:
        self.values[name] = number(self.rng, value, digits)
        return self.values[name]

    def count(self, name: str, value: Count) -> int:
        self.values[name] = count(self.rng, value)
        return int(self.values[name])

    def choice(self, name: str, value: Weights) -> str:
        self.choices[name] = choose(self.rng, value)
        return self.choices[name]

    def sign(self, name: str) -> float:
        """-1 or +1 with equal odds (recorded)."""
        self.values[name] = float(self.rng.choice([-1.0, 1.0]))
        return self.values[name]

    def note(self, name: str, value: float) -> float:
        """A derived value worth recording."""
        self.values[name] = round(float(value), 4)
        return self.values[name]
