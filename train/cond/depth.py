"""Depth maps as a condition video in [-1, 1] (3 equal channels for the VAE).

- ``log``: fixed log scale over LOG_RANGE metres: near -> -1, far -> +1, no surface -> +1.
  The same depth always gives the same value, so metric scale survives.
- ``normalized``: inverse depth normalised per clip by its nearest and farthest surfaces:
  nearest -> +1, farthest -> -1, no surface -> -1. Scale-free, like monocular depth maps.
"""

from __future__ import annotations

import math

import torch

LOG_RANGE = (0.1, 100.0)  # metres


def log_depth(depth: torch.Tensor) -> torch.Tensor:
    """(...) planar depth in metres, 0 = no surface -> same shape in [-1, 1]."""
    near, far = LOG_RANGE
    scaled = (torch.log(depth.clamp(near, far)) - math.log(near)) / (math.log(far) - math.log(near))
    return torch.where(depth > 0, scaled * 2.0 - 1.0, torch.ones_like(depth))


def normalized_depth(depth: torch.Tensor) -> torch.Tensor:
    """(B, T, H, W) depth -> per-clip normalised inverse depth in [-1, 1]."""
    valid = depth > 0
    inverse = torch.where(valid, 1.0 / depth.clamp_min(1e-6), torch.zeros_like(depth))
    dims = tuple(range(1, depth.ndim))
    big = torch.finfo(depth.dtype).max
    low = torch.where(valid, inverse, torch.full_like(depth, big)).amin(dim=dims, keepdim=True)
    high = torch.where(valid, inverse, torch.full_like(depth, -big)).amax(dim=dims, keepdim=True)
    span = (high - low).clamp_min(1e-12)
    scaled = ((inverse - low) / span).clamp(0.0, 1.0) * 2.0 - 1.0
    return torch.where(valid, scaled, -torch.ones_like(depth))


def depth_video(depth: torch.Tensor, mode: str) -> torch.Tensor:
    """(B, T, H, W) depth -> (B, 3, T, H, W) condition video in [-1, 1]."""
    if mode == "log":
        maps = log_depth(depth)
    elif mode == "normalized":
        maps = normalized_depth(depth)
    else:
        raise ValueError(f"depth mode: expected log or normalized, got {mode!r}")
    return maps.unsqueeze(1).expand(-1, 3, -1, -1, -1)
