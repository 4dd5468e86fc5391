"""8-bit sRGB <-> linear light (the IEC 61966-2-1 transfer function), in one place for the scenes'
colour palettes and the renderers' post-processing (sensor noise, motion blur).

A 256-entry table decodes the codes and the 255 decision thresholds between codes encode linear
values back; both are computed with Python's ``math.pow`` (the C library's scalar pow, not numpy's
SIMD loops, whose last bit can depend on the CPU's instruction set) and used only by indexing and
comparisons, so frames encode to the same bytes on every worker. (The shaders have their own copy
in GLSL, render.glsl.)
"""

from __future__ import annotations

import math

import numpy as np


def _to_linear(value: float) -> float:
    """One sRGB value in [0, 1] -> linear."""
    return value / 12.92 if value <= 0.04045 else math.pow((value + 0.055) / 1.055, 2.4)


def srgb8_table() -> np.ndarray:
    """(256,) float64 linear value of each 8-bit sRGB code."""
    return np.array([_to_linear(code / 255.0) for code in range(256)])


def encode_srgb8(linear: np.ndarray) -> np.ndarray:
    """Linear values -> the nearest 8-bit sRGB code in sRGB terms (round half up), clipped to [0, 255]:
    the code whose interval [k - 1/2, k + 1/2] / 255 holds the value's sRGB encoding, found by
    comparing with the linear values of the interval ends."""
    thresholds = np.array([_to_linear((code + 0.5) / 255.0) for code in range(255)])
    return np.searchsorted(thresholds, linear, side="right").astype(np.uint8)
