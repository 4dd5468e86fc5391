"""A loader batch -> model inputs: target latents and every condition, on the batch's device.

All videos that go through the VAE (target, depth, skeleton maps, first frame, reprojected first
frame) are encoded in one call, stacked on the batch axis; the masks and the pose grid are
computed on the latent grid. Shapes: B batch, F frames, z latent
channels, T_lat = 1 + (F - 1) / 4, h x w = H / 8 x W / 8.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from worldclips.train.build import LatentCodec
from worldclips.train.cond.depth import depth_video
from worldclips.train.cond.first_frame import first_frame_mask, first_frame_video
from worldclips.train.cond.plucker import pack_frames, plucker_rays
from worldclips.train.cond.pose_grid import pose_grid
from worldclips.train.cond.reprojection import coverage_mask, reproject_first_frame
from worldclips.train.config import ModelConfig


@dataclass(frozen=True)
class ModelInputs:
    """latents (B, z, T_lat, h, w) target; cond (B, C, T_lat, h, w); plucker (B, 24, T_lat, h, w)
    or None; joints (joints3d_cam, joints_valid, person_mask) or None; text (B, L, text_dim) or
    None (the model then uses its null text embedding)."""

    latents: torch.Tensor | None
    cond: torch.Tensor
    plucker: torch.Tensor | None
    joints: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None
    text: torch.Tensor | None = None


def to_device(batch: dict, device: torch.device) -> dict:
    """A loader batch with its tensors on ``device`` (strings and ints unchanged)."""
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}


def to_unit(video_uint8: torch.Tensor) -> torch.Tensor:
    """(B, F, 3, H, W) uint8 -> (B, 3, F, H, W) float in [-1, 1]."""
    return video_uint8.permute(0, 2, 1, 3, 4).float() / 127.5 - 1.0


def reprojection(batch: dict, video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The batch's first frame (``video``: its video in [-1, 1]) reprojected into every frame:
    ((B, 3, F, H, W) in [-1, 1], (B, F, H, W) covered)."""
    return reproject_first_frame(video, batch["depth"][:, 0].float(), batch["K"].float(), batch["cam_from_world"].float())


def condition_videos(batch: dict, config: ModelConfig, video: torch.Tensor,
                     reprojected: torch.Tensor | None = None) -> list[torch.Tensor]:  # fmt: skip
    """The condition videos to VAE-encode, in channel order: depth, skeleton, first frame,
    reprojected first frame (``reprojected``, from ``reprojection``); ``video``: the batch's
    video in [-1, 1]."""
    videos = []
    if config.depth != "none":
        videos.append(depth_video(batch["depth"].float(), config.depth))
    if config.pose_maps:
        videos.append(to_unit(batch["skeleton"]))
    if config.first_frame:
        videos.append(first_frame_video(video))
    if config.reprojection:
        if reprojected is None:
            raise ValueError("condition_videos: model.reprojection is on: pass the reprojected first frame")
        videos.append(reprojected)
    return videos


def model_inputs(batch: dict, codec: LatentCodec, config: ModelConfig, encode_target: bool = True,
                 text_encoder=None) -> ModelInputs:  # fmt: skip
    video = to_unit(batch["video"])
    batch_size, _, frames, height, width = video.shape
    reprojected, covered = reprojection(batch, video) if config.reprojection else (None, None)
    videos = ([video] if encode_target else []) + condition_videos(batch, config, video, reprojected)
    latents_all = codec.encode(torch.cat(videos, dim=0)) if videos else None
    chunks = list(latents_all.split(batch_size, dim=0)) if latents_all is not None else []
    latents = chunks.pop(0) if encode_target else None
    latent_frames, h, w = 1 + (frames - 1) // codec.temporal, height // codec.spatial, width // codec.spatial
    if config.first_frame:
        chunks.append(first_frame_mask(batch_size, frames, h, w, video))
    if config.reprojection:
        chunks.append(coverage_mask(covered, codec.spatial).to(video.dtype))
    if config.pose_grid:
        parts = pose_grid(batch["joints2d"], batch["joints_valid"], batch["person_mask"], (h, w), codec.spatial)
        chunks.append(parts.to(video.dtype))
    cond = torch.cat(chunks, dim=1) if chunks else video.new_zeros(batch_size, 0, latent_frames, h, w)
    plucker = None
    if config.camera:
        rays = plucker_rays(batch["K"].float(), batch["cam_from_world"].float(), h, w, (height, width))
        plucker = pack_frames(rays).transpose(1, 2)  # (B, 24, T_lat, h, w)
    joints = None
    if config.pose_tokens:
        joints = (batch["joints3d_cam"].float(), batch["joints_valid"], batch["person_mask"])
    text = text_encoder(batch["caption"]) if text_encoder is not None else None
    return ModelInputs(latents=latents, cond=cond, plucker=plucker, joints=joints, text=text)
