"""The first frame as a condition (the Wan image-to-video layout): a video holding frame 0 and
zeros after it, to be VAE-encoded, plus a 4-channel mask marking which frames are given."""

from __future__ import annotations

import torch


def first_frame_video(video: torch.Tensor) -> torch.Tensor:
    """(B, 3, T, H, W) video in [-1, 1] -> the same shape with frames 1.. set to 0."""
    out = torch.zeros_like(video)
    out[:, :, :1] = video[:, :, :1]
    return out


def first_frame_mask(batch: int, frames: int, height: int, width: int, like: torch.Tensor) -> torch.Tensor:
    """(B, 4, 1 + (frames - 1) / 4, height, width): 1 where a frame is given (frame 0), else 0,
    packed 4 frames per latent frame with frame 0 repeated 4 times."""
    if (frames - 1) % 4:
        raise ValueError(f"first_frame_mask: expected 4k + 1 frames, got {frames}")
    per_frame = torch.zeros(batch, frames + 3, height, width, dtype=like.dtype, device=like.device)
    per_frame[:, :4] = 1.0
    return per_frame.unflatten(1, (-1, 4)).transpose(1, 2)
