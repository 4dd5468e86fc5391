"""Sun shadow map fitting: an orthographic light frustum around the shadow casters, per frame.

An orthographic sun projects every caster point along the sun direction, so a receiver can only
be shadowed where a caster covers the map: the frustum only has to hold the casters (in light
space x, y and depth). Receivers further from the sun than the far plane (the ground below) are
compared at the far plane and so are shadowed exactly where a caster covers the texel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Frustum padding around caster bounds, metres (keeps PCF taps and normal offsets inside the map).
SHADOW_MARGIN_M = 0.1
# Receiver offsets, in shadow-map texels along the surface normal and in metres along the sun.
NORMAL_OFFSET_TEXELS = 1.5
DEPTH_BIAS_M = 0.01


@dataclass(frozen=True, eq=False)
class ShadowFit:
    """Per-frame sun shadow frustum.

    clip_from_world: (T, 4, 4) float64 orthographic light clip transform (x, y, z in [-1, 1]).
    valid: (T,) bool, false where no caster exists (shadow lookups are skipped).
    texel_m: (T,) world size of one shadow-map texel (the larger of the two axes).
    depth_range_m: (T,) distance between the near and far planes.
    """

    clip_from_world: np.ndarray
    valid: np.ndarray
    texel_m: np.ndarray
    depth_range_m: np.ndarray

    def params(self, map_size: int) -> np.ndarray:
        """(T, 4) shader parameters: normal offset (m), depth bias (NDC 0..1), texel (uv units), valid."""
        out = np.zeros((len(self.valid), 4), dtype=np.float64)
        out[:, 0] = NORMAL_OFFSET_TEXELS * self.texel_m
        out[:, 1] = DEPTH_BIAS_M / np.maximum(self.depth_range_m, 1e-6)
        out[:, 2] = 1.0 / float(map_size)
        out[:, 3] = self.valid
        return out


def light_from_world_rotation(sun_direction: np.ndarray) -> np.ndarray:
    """(3, 3) rotation whose rows are the light's right, up and viewing (away from the sun) axes."""
    towards_sun = np.asarray(sun_direction, dtype=np.float64)
    norm = np.linalg.norm(towards_sun)
    if not np.isfinite(norm) or norm < 1e-9:
        raise ValueError(f"Lighting.sun_direction: expected a non-zero vector, got {sun_direction!r}")
    forward = -towards_sun / norm
    helper = np.array([0.0, 0.0, 1.0]) if abs(forward[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    right = np.cross(forward, helper)
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    return np.stack([right, up, forward])


def union_bounds(bounds: list[np.ndarray], num_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame union of (T, 2, 3) bounds -> ((T, 2, 3) bounds, (T,) valid)."""
    if not bounds:
        return np.zeros((num_frames, 2, 3)), np.zeros(num_frames, dtype=bool)
    stacked = np.stack([np.asarray(b, dtype=np.float64) for b in bounds])  # (N, T, 2, 3)
    out = np.stack([stacked[:, :, 0].min(axis=0), stacked[:, :, 1].max(axis=0)], axis=1)
    valid = np.all(np.isfinite(out), axis=(1, 2))
    return np.where(valid[:, None, None], out, 0.0), valid


def fit_sun_shadow(caster_bounds: np.ndarray, valid: np.ndarray, sun_direction: np.ndarray, map_size: int) -> ShadowFit:
    """Orthographic sun frusta around (T, 2, 3) world caster bounds for a square map of map_size texels."""
    rotation = light_from_world_rotation(sun_direction)
    lo, hi = caster_bounds[:, 0], caster_bounds[:, 1]
    select = np.array([[i & 1, (i >> 1) & 1, (i >> 2) & 1] for i in range(8)], dtype=bool)
    corners = np.where(select, hi[:, None, :], lo[:, None, :])  # (T, 8, 3)
    light = corners @ rotation.T
    light_lo = light.min(axis=1) - SHADOW_MARGIN_M
    light_hi = light.max(axis=1) + SHADOW_MARGIN_M
    extent = light_hi - light_lo  # (T, 3), all > 0 thanks to the margin
    scale = 2.0 / extent
    offset = -1.0 - light_lo * scale
    clip = np.zeros((len(caster_bounds), 4, 4))
    clip[:, :3, :3] = scale[:, :, None] * rotation[None]
    clip[:, :3, 3] = offset
    clip[:, 3, 3] = 1.0
    texel = np.max(extent[:, :2], axis=1) / float(map_size)
    valid = np.asarray(valid, dtype=bool)
    return ShadowFit(clip_from_world=clip, valid=valid, texel_m=texel, depth_range_m=extent[:, 2])
