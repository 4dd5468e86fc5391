"""Parameter checks shared by the procedural generators: clear ValueErrors naming the field."""

from __future__ import annotations

import math
from numbers import Real

import numpy as np


def real(
    field: str, value: object, low: float | None = None, high: float | None = None, *, high_open: bool = False
) -> float:
    """``value`` as a float, finite and within [low, high] (or [low, high) when ``high_open``)."""
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise ValueError(f"{field}: expected a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{field}: expected a finite number, got {number}")
    above = high is not None and (number >= high if high_open else number > high)
    if (low is not None and number < low) or above:
        bracket = ")" if high_open else "]"
        raise ValueError(f"{field}: expected a value in [{low}, {high}{bracket}, got {number:g}")
    return number


def reals(field: str, values: object, count: int | None = None, minimum: int = 1) -> tuple[float, ...]:
    """A sequence of finite numbers as a tuple of floats, of length ``count`` or at least ``minimum``."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise ValueError(f"{field}: expected a sequence of numbers, got {values!r}")
    items = tuple(real(f"{field}[{i}]", v) for i, v in enumerate(values))
    if count is not None and len(items) != count:
        raise ValueError(f"{field}: expected {count} numbers, got {len(items)}")
    if len(items) < minimum:
        raise ValueError(f"{field}: expected at least {minimum} number(s), got {len(items)}")
    return items


def frames(fps: object, num_frames: object) -> tuple[float, int]:
    """Validated (fps > 0, num_frames >= 1 integer)."""
    rate = real("fps", fps, 0.0)
    if rate <= 0:
        raise ValueError(f"fps: expected a positive number, got {rate:g}")
    if isinstance(num_frames, bool) or not isinstance(num_frames, (int, np.integer)) or num_frames < 1:
        raise ValueError(f"num_frames: expected an integer >= 1, got {num_frames!r}")
    return rate, int(num_frames)


def betas(values: object) -> np.ndarray:
    """(10,) finite float64 betas."""
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (10,) or not np.all(np.isfinite(array)):
        raise ValueError(f"betas: expected 10 finite numbers, got shape {array.shape}")
    return array


def check_family(params: object, family: str) -> None:
    """The ``family`` tag of a params dataclass (the JSON union discriminator) must be its own."""
    if getattr(params, "family", None) != family:
        name = type(params).__name__
        raise ValueError(f"{name}.family: expected {family!r}, got {getattr(params, 'family', None)!r}")


def choice(field: str, value: object, options: tuple) -> object:
    """``value`` if it is one of ``options``."""
    if isinstance(value, bool) or value not in options:
        raise ValueError(f"{field}: expected one of {list(options)}, got {value!r}")
    return value


def duration(field: str, value: object, high: float = 600.0) -> float:
    """A non-negative finite number of seconds."""
    return real(field, value, 0.0, high)
