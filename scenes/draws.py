"""Draw helpers shared by every spec sampler (default scene, physics setups, scenarios).

Colours, materials, body shapes, character looks, prop sizes and the sun/sky/ground look of a
clip. Every helper takes the clip's ``numpy.random.Generator`` explicitly and rounds what it
returns, so specs stay short JSON with the same values on every machine.
"""

from __future__ import annotations

import colorsys

import numpy as np

from worldclips.scenes.scene import Lighting, Material
from worldclips.scenes.spec import CharacterSpec

PATTERNS = ("plain", "checker", "stripes", "noise")
GROUND_PATTERNS = ("checker", "tiles", "noise", "stripes")


def clip_rng(run_seed: int, clip_index: int) -> np.random.Generator:
    """The generator of one clip, derived from (run seed, clip index) only."""
    return np.random.default_rng(np.random.SeedSequence([int(run_seed), int(clip_index)]))


def r4(value, digits: int = 4) -> float:
    return round(float(value), digits)


def v4(values, digits: int = 4) -> tuple[float, ...]:
    return tuple(r4(v, digits) for v in values)


def color(rng: np.random.Generator, saturation=(0.2, 0.8), value=(0.3, 0.9)) -> tuple[float, float, float]:
    """A linear RGB colour drawn in HSV (hue uniform) and converted from sRGB-ish gamma 2.2."""
    rgb = colorsys.hsv_to_rgb(rng.uniform(0, 1), rng.uniform(*saturation), rng.uniform(*value))
    return tuple(round(float(c) ** 2.2, 4) for c in rgb)


def material(rng: np.random.Generator, patterns: tuple[str, ...] = PATTERNS) -> Material:
    return Material(base_color=color(rng), pattern=str(rng.choice(patterns)), pattern_color=color(rng),
                    pattern_scale=r4(rng.uniform(2.0, 8.0), 3), roughness=r4(rng.uniform(0.3, 0.9), 3))  # fmt: skip


def body_shape(rng: np.random.Generator) -> tuple[float, ...]:
    """Random betas (10,), standard normal clipped to +-2.5."""
    return v4(np.clip(rng.normal(0.0, 1.0, size=10), -2.5, 2.5))


def character_look(rng: np.random.Generator) -> Material:
    """A character's base material (its clothing colour)."""
    return Material(base_color=color(rng, (0.1, 0.5), (0.4, 0.9)), roughness=r4(rng.uniform(0.4, 0.8), 3))


def prop_size(rng: np.random.Generator, category: str) -> tuple[float, ...]:
    """Size parameters of a static prop of ``category`` (scenes.meshes)."""
    u = lambda lo, hi: r4(rng.uniform(lo, hi), 3)  # noqa: E731
    if category == "box":
        return (u(0.2, 0.9), u(0.2, 0.9), u(0.15, 1.0))
    if category == "sphere":
        return (u(0.1, 0.45),)
    if category == "chair":
        return (u(0.4, 0.55), u(0.4, 0.55), u(0.42, 0.5), u(0.35, 0.5))
    if category == "shelf":
        return (u(0.6, 1.2), u(0.3, 0.45), u(1.0, 1.9))
    if category == "wall":
        return (u(1.5, 4.0), u(0.1, 0.2), u(1.0, 2.5))
    return (u(0.7, 1.6), u(0.6, 1.0), u(0.7, 0.8))


def sun_lighting(elevation: float, azimuth: float, warmth: float, intensity: float, sky: float, bounce: float) -> Lighting:
    """A sun at (elevation, azimuth) radians, warmth 0..0.15, plus sky and ground ambient scaled by sky, bounce."""
    sun = (np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth), np.sin(elevation))
    return Lighting(
        sun_direction=v4(sun, 5),
        sun_color=v4(np.array([1.0, 1.0 - warmth / 2, 1.0 - warmth]) * intensity),
        sky_color=v4(np.array([0.35, 0.45, 0.6]) * sky),
        ground_color=v4(np.array([0.25, 0.22, 0.18]) * bounce),
    )


def sky_color(scale: float) -> tuple[float, float, float]:
    return v4(np.array([0.55, 0.7, 0.9]) * scale)


def sample_look(rng: np.random.Generator) -> tuple[Lighting, Material, tuple[float, float, float]]:
    """The sun, ambient light, ground material and sky colour of a default clip."""
    elevation, azimuth = rng.uniform(np.radians(25), np.radians(70)), rng.uniform(-np.pi, np.pi)
    warmth, intensity = rng.uniform(0.0, 0.15), rng.uniform(2.2, 3.2)
    lighting = sun_lighting(elevation, azimuth, warmth, intensity, rng.uniform(0.7, 1.1), rng.uniform(0.7, 1.1))
    ground = material(rng, GROUND_PATTERNS)
    ground = Material(ground.base_color, ground.pattern, ground.pattern_color, r4(rng.uniform(0.5, 2.0), 3), ground.roughness)
    return lighting, ground, sky_color(rng.uniform(0.8, 1.1))


def person(rng: np.random.Generator, name: str, motion, betas: tuple[float, ...] | None = None) -> CharacterSpec:
    """A character with random betas (unless given) and look, moving by ``motion``."""
    betas = body_shape(rng) if betas is None else betas
    return CharacterSpec(name=name, betas=betas, material=character_look(rng), motion=motion)


def cycle_phase(rng: np.random.Generator, digits: int = 3) -> float:
    """A phase offset in [0, 1), rounded down to ``digits`` decimals so that it never becomes 1.0."""
    scale = 10**digits
    return min(np.floor(rng.uniform() * scale), scale - 1) / scale
