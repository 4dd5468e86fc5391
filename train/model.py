"""The conditioned video diffusion model: diffusers' WanTransformer3DModel with the 3D conditions
entering the way control fine-tunes do.

- Condition latents (depth, skeleton maps, first frame + mask, reprojected first frame + coverage)
  and the pose grid (body-part maps on the latent grid, ``train.cond.pose_grid``) are concatenated to the noisy
  latents on channels and go through the input projection; the projection's weights for the new
  channels start at zero (``ControlPatchEmbed.control``), so at step 0 the model is the base model.
  One Conv3d over the concatenation equals the base conv on the latents plus a zero-initialised
  conv on the conditions; they are kept as two convs so LoRA runs can freeze the base one.
- Plücker ray maps, packed 4 frames per latent frame, go through a small camera adapter whose
  output (zero-initialised last layer) is added to the patch tokens.
- 3D joint tokens are appended to the text context; with no text encoder the text context is a
  null embedding (zeros, ``text_len`` tokens).

The modified patch embedding replaces ``transformer.patch_embedding``, so diffusers' own forward
(rotary embeddings, blocks, gradient checkpointing, LoRA adapters) runs unchanged on
``hidden_states = cat([noisy, conditions, plucker], dim=1)``.
"""

from __future__ import annotations

import torch
from torch import nn

from worldclips.train.cond.pose import JointTokens
from worldclips.train.cond.pose_grid import POSE_GRID_CHANNELS
from worldclips.train.config import ModelConfig

FIRST_FRAME_MASK_CHANNELS = 4
COVERAGE_MASK_CHANNELS = 4  # the reprojected first frame's coverage, 4 frames per latent frame
PLUCKER_CHANNELS = 6 * 4  # 6 per frame, 4 frames per latent frame


def condition_channels(config: ModelConfig, latent_channels: int) -> int:
    """Channels of the condition latents: z per VAE-encoded condition video, + 4 channels per mask,
    + 56 of the pose grid."""
    videos = (config.depth != "none") + config.pose_maps + config.first_frame + config.reprojection
    masks = FIRST_FRAME_MASK_CHANNELS * config.first_frame + COVERAGE_MASK_CHANNELS * config.reprojection
    return videos * latent_channels + masks + POSE_GRID_CHANNELS * config.pose_grid


class CameraAdapter(nn.Module):
    """(B, 24, T_lat, h, w) packed Plücker maps on the latent grid -> (B, D, T_lat, h/ph, w/pw)."""

    def __init__(self, hidden: int, dim: int, patch_size: tuple[int, int, int]):
        super().__init__()
        self.patchify = nn.Conv3d(PLUCKER_CHANNELS, hidden, kernel_size=patch_size, stride=patch_size)
        self.act = nn.SiLU()
        self.out = nn.Conv3d(hidden, dim, kernel_size=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, plucker: torch.Tensor) -> torch.Tensor:
        return self.out(self.act(self.patchify(plucker)))


class ControlPatchEmbed(nn.Module):
    """Input projection over cat([latents (z), conditions (C), plucker (24 or 0)]) on channels."""

    def __init__(self, base: nn.Conv3d, cond_channels: int, camera_hidden: int | None):
        super().__init__()
        dim, patch = base.out_channels, tuple(base.kernel_size)
        self.latent = base
        self.control = nn.Conv3d(cond_channels, dim, kernel_size=patch, stride=patch, bias=False) if cond_channels else None
        if self.control is not None:
            nn.init.zeros_(self.control.weight)
        self.camera = CameraAdapter(camera_hidden, dim, patch) if camera_hidden else None
        self.split = (base.in_channels, cond_channels, PLUCKER_CHANNELS if camera_hidden else 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != sum(self.split):
            raise ValueError(f"patch embedding: expected {sum(self.split)} channels {self.split}, got {x.shape[1]}")
        latents, cond, plucker = x.split(self.split, dim=1)
        out = self.latent(latents)
        if self.control is not None:
            out = out + self.control(cond.to(out.dtype))
        if self.camera is not None:
            out = out + self.camera(plucker.to(out.dtype))
        return out


class ConditionedWan(nn.Module):
    """Velocity prediction v(x_t, t | conditions).

    forward(noisy (B, z, T_lat, h, w), timestep (B,) in [0, 1000], cond (B, C, T_lat, h, w),
            plucker (B, 24, T_lat, h, w) or None, context (B, L, text_dim) or None,
            joints: (joints3d_cam, joints_valid, person_mask) or None) -> (B, z, T_lat, h, w)
    """

    def __init__(self, transformer: nn.Module, config: ModelConfig):
        super().__init__()
        latent_channels = transformer.config.in_channels
        self.transformer = transformer
        self.cond_channels = condition_channels(config, latent_channels)
        transformer.patch_embedding = ControlPatchEmbed(
            transformer.patch_embedding, self.cond_channels, config.camera_hidden if config.camera else None
        )
        self.text_dim, self.text_len = transformer.config.text_dim, config.text_len
        self.joint_tokens = JointTokens(self.text_dim) if config.pose_tokens else None
        if config.gradient_checkpointing:
            transformer.enable_gradient_checkpointing()

    def context(self, batch_size: int, text: torch.Tensor | None, joints, like: torch.Tensor) -> torch.Tensor:
        if text is None:  # the null text embedding
            text = torch.zeros(batch_size, self.text_len, self.text_dim, dtype=like.dtype, device=like.device)
        if self.joint_tokens is not None and joints is not None:
            text = torch.cat([text, self.joint_tokens(*joints).to(text.dtype)], dim=1)
        return text

    def forward(self, noisy, timestep, cond, plucker=None, text=None, joints=None) -> torch.Tensor:
        parts = [noisy, cond.to(noisy.dtype)] + ([plucker.to(noisy.dtype)] if plucker is not None else [])
        context = self.context(noisy.shape[0], text, joints, noisy)
        return self.transformer(torch.cat(parts, dim=1), timestep, context, return_dict=False)[0]


LORA_TARGETS = ("to_q", "to_k", "to_v", "to_out.0", "ffn.net.0.proj", "ffn.net.2")
NEW_MODULES = ("patch_embedding.control", "patch_embedding.camera", "joint_tokens")


def apply_lora(model: ConditionedWan, rank: int, alpha: float) -> None:
    """Freeze the base transformer; train LoRA adapters (peft) and every module added here."""
    from peft import LoraConfig

    model.requires_grad_(False)
    lora = LoraConfig(r=rank, lora_alpha=alpha or rank, target_modules=list(LORA_TARGETS), init_lora_weights=True)
    model.transformer.add_adapter(lora)
    for name, parameter in model.named_parameters():
        if "lora_" in name or any(name.startswith(f"transformer.{m}") or name.startswith(m) for m in NEW_MODULES):
            parameter.requires_grad_(True)


def trainable_parameters(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: p for name, p in model.named_parameters() if p.requires_grad}
