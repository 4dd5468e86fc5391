"""The sRGB transfer function (IEC 61966-2-1) and 8-bit sRGB <-> linear light.

``srgb_to_linear`` and ``linear_to_srgb`` work on any float array (numpy's vectorised ``power``,
whose last bit can depend on the CPU's instruction set). What ends up in a clip's bytes goes
through ``decode_srgb8`` and ``encode_srgb8`` instead: a 256-entry table and the 255 decision
thresholds between codes, computed with Python's ``math.pow`` (the C library's scalar pow, not
numpy's SIMD loops), and only comparisons, so frames encode to the same bytes on every worker.
"""

from __future__ import annotations

import math

import numpy as np


def srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    """sRGB values in [0, 1] -> linear."""
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear values in [0, 1] -> sRGB."""
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * np.power(np.maximum(linear, 0.0031308), 1 / 2.4) - 0.055)


def _to_linear(value: float) -> float:
    return value / 12.92 if value <= 0.04045 else math.pow((value + 0.055) / 1.055, 2.4)


def srgb8_table() -> np.ndarray:
    """(256,) float64 linear value of each 8-bit sRGB code."""
    return np.array([_to_linear(code / 255.0) for code in range(256)])


def decode_srgb8(codes: np.ndarray) -> np.ndarray:
    """uint8 sRGB codes -> float64 linear values (exactly the table's)."""
    return srgb8_table()[codes]


def encode_srgb8(linear: np.ndarray) -> np.ndarray:
    """Linear values -> the nearest 8-bit sRGB code in sRGB terms (round half up), clipped to [0, 255]:
    the code whose interval [k - 1/2, k + 1/2] / 255 holds the value's sRGB encoding, found by
    comparing with the linear values of the interval ends."""
    thresholds = np.array([_to_linear((code + 0.5) / 255.0) for code in range(255)])
    return np.searchsorted(thresholds, linear, side="right").astype(np.uint8)
