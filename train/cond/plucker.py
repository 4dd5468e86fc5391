"""Plücker ray maps from ``K`` and ``cam_from_world``, expressed in the first frame's camera.

For the pixel centre (u, v) of frame t the ray leaves the camera centre o_t with direction d_t;
both are written in camera 0's frame (OpenCV axes): d = R_0t K_t^-1 [u, v, 1] (unit length),
o = camera t's centre in camera 0, and the map holds (d, o x d), 6 channels. The first frame's
centre is the origin, so its moments are zero. Maps can be sampled on a coarser grid than the
image (e.g. the latent grid): grid cell (i, j) looks through the image point at its centre,
((j + 0.5) * W / w - 0.5, (i + 0.5) * H / h - 0.5) with pixel centres at integers.
"""

from __future__ import annotations

import torch


def invert_rigid(a_from_b: torch.Tensor) -> torch.Tensor:
    """(..., 4, 4) rigid transforms -> their inverses (R^T, -R^T t)."""
    rotation, translation = a_from_b[..., :3, :3], a_from_b[..., :3, 3:]
    inverse = torch.zeros_like(a_from_b)
    inverse[..., :3, :3] = rotation.transpose(-1, -2)
    inverse[..., :3, 3:] = -rotation.transpose(-1, -2) @ translation
    inverse[..., 3, 3] = 1.0
    return inverse


def pixel_grid(height: int, width: int, image_size: tuple[int, int], like: torch.Tensor) -> torch.Tensor:
    """(height, width, 3) homogeneous image points (u, v, 1) at the centres of a height x width grid
    laid over an image of image_size = (H, W) pixels."""
    image_h, image_w = image_size
    v = (torch.arange(height, dtype=like.dtype, device=like.device) + 0.5) * (image_h / height) - 0.5
    u = (torch.arange(width, dtype=like.dtype, device=like.device) + 0.5) * (image_w / width) - 0.5
    vv, uu = torch.meshgrid(v, u, indexing="ij")
    return torch.stack([uu, vv, torch.ones_like(uu)], dim=-1)


def plucker_rays(
    K: torch.Tensor, cam_from_world: torch.Tensor, height: int, width: int, image_size: tuple[int, int]
) -> torch.Tensor:
    """K (..., T, 3, 3) and cam_from_world (..., T, 4, 4) -> (..., T, 6, height, width) Plücker maps
    (direction, moment) relative to frame 0's camera."""
    cam0_from_camt = cam_from_world[..., :1, :, :] @ invert_rigid(cam_from_world)
    rotation, origin = cam0_from_camt[..., :3, :3], cam0_from_camt[..., :3, 3]  # (..., T, 3, 3), (..., T, 3)
    points = pixel_grid(height, width, image_size, K)  # (h, w, 3)
    directions_cam = torch.einsum("...ij,hwj->...hwi", torch.linalg.inv(K), points)
    directions = torch.einsum("...ij,...hwj->...hwi", rotation, directions_cam)
    directions = directions / directions.norm(dim=-1, keepdim=True)
    origin = origin[..., None, None, :].expand_as(directions)
    moments = torch.cross(origin, directions, dim=-1)
    return torch.cat([directions, moments], dim=-1).movedim(-1, -3)


def pack_frames(x: torch.Tensor) -> torch.Tensor:
    """Per-frame maps (..., T, C, h, w) with T = 4k + 1 -> per-latent-frame maps (..., k + 1, 4C, h, w):
    the first frame repeated 4 times, then groups of 4 frames (the Wan VAE's temporal packing)."""
    frames = x.shape[-4]
    if (frames - 1) % 4:
        raise ValueError(f"pack_frames: expected 4k + 1 frames, got {frames}")
    first = x[..., :1, :, :, :].expand(*x.shape[:-4], 4, *x.shape[-3:])
    x = torch.cat([first, x[..., 1:, :, :, :]], dim=-4)
    x = x.unflatten(-4, (-1, 4))  # (..., k + 1, 4, C, h, w)
    return x.flatten(-4, -3)
