"""Build the Wan transformer and VAE: random weights from a ModelConfig, or a local diffusers
folder (``--base PATH`` holding ``transformer/`` and ``vae/``, as ``save_pretrained`` writes them).
Nothing is ever downloaded (``local_files_only=True``)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from worldclips.train.config import ModelConfig

PATCH_SIZE = (1, 2, 2)


def random_transformer(config: ModelConfig) -> nn.Module:
    from diffusers.models.transformers.transformer_wan import WanTransformer3DModel

    return WanTransformer3DModel(
        patch_size=PATCH_SIZE, num_attention_heads=config.num_heads, attention_head_dim=config.head_dim,
        in_channels=config.vae_z_dim, out_channels=config.vae_z_dim, text_dim=config.text_dim,
        freq_dim=config.freq_dim, ffn_dim=config.ffn_dim, num_layers=config.num_layers,
    )  # fmt: skip


def random_vae(config: ModelConfig) -> nn.Module:
    from diffusers.models.autoencoders.autoencoder_kl_wan import AutoencoderKLWan

    z = config.vae_z_dim
    return AutoencoderKLWan(
        base_dim=config.vae_base_dim, z_dim=z, dim_mult=list(config.vae_dim_mult),
        num_res_blocks=config.vae_num_res_blocks, latents_mean=[0.0] * z, latents_std=[1.0] * z,
    )  # fmt: skip


def check_base(base: Path) -> None:
    if not base.is_dir():
        raise FileNotFoundError(f"--base: {base} is not a directory")
    for part in ("transformer", "vae"):
        if not (base / part / "config.json").is_file():
            raise FileNotFoundError(f"--base: {base / part / 'config.json'} is missing (expected a diffusers Wan "
                                    "folder with transformer/ and vae/)")  # fmt: skip


def load_base(base: Path) -> tuple[nn.Module, nn.Module]:
    """(transformer, vae) from a local diffusers folder, float32."""
    from diffusers.models.autoencoders.autoencoder_kl_wan import AutoencoderKLWan
    from diffusers.models.transformers.transformer_wan import WanTransformer3DModel

    check_base(base)
    try:
        transformer = WanTransformer3DModel.from_pretrained(base / "transformer", local_files_only=True, torch_dtype=torch.float32)
        vae = AutoencoderKLWan.from_pretrained(base / "vae", local_files_only=True, torch_dtype=torch.float32)
    except (OSError, ValueError, EnvironmentError) as error:
        raise ValueError(f"--base: cannot load {base} ({str(error).splitlines()[0]})") from None
    return transformer, vae


def build_backbone(config: ModelConfig, base: Path | None) -> tuple[nn.Module, nn.Module]:
    """(transformer, vae): from --base when given, else random weights (torch's global generator)."""
    if base is not None:
        return load_base(Path(base))
    return random_transformer(config), random_vae(config)


class LatentCodec(nn.Module):
    """The frozen VAE with its latent normalisation: video in [-1, 1] <-> normalised latents.

    encode: (B, 3, T, H, W) -> (B, z, 1 + (T - 1) / 4, H / 8, W / 8); decode is the inverse.
    """

    def __init__(self, vae: nn.Module):
        super().__init__()
        self.vae = vae.requires_grad_(False).train(False)
        z = vae.config.z_dim
        self.register_buffer("mean", torch.tensor(vae.config.latents_mean, dtype=torch.float32).view(1, z, 1, 1, 1))
        self.register_buffer("std", torch.tensor(vae.config.latents_std, dtype=torch.float32).view(1, z, 1, 1, 1))
        self.channels = z
        self.spatial = 2 ** sum(1 for _ in vae.config.dim_mult[1:])  # 8 for the 4-level Wan VAE
        self.temporal = 4

    @torch.no_grad()
    def encode(self, video: torch.Tensor) -> torch.Tensor:
        dtype = next(self.vae.parameters()).dtype
        latents = self.vae.encode(video.to(dtype)).latent_dist.mode().float()
        return (latents - self.mean) / self.std

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        dtype = next(self.vae.parameters()).dtype
        video = self.vae.decode((latents * self.std + self.mean).to(dtype)).sample.float()
        return video.clamp(-1.0, 1.0)
