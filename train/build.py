"""Build the Wan transformer and VAE: random weights from a ModelConfig, or a local diffusers
folder (``--base PATH`` holding ``transformer/`` and ``vae/``, as ``save_pretrained`` writes them).
Nothing is ever downloaded (``local_files_only=True``)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn
import torch.nn.functional as F

from worldclips.train.config import ModelConfig

PATCH_SIZE = (1, 2, 2)


def random_transformer(config: ModelConfig) -> nn.Module:
    from diffusers.models.transformers.transformer_wan import WanTransformer3DModel

    return WanTransformer3DModel(
        patch_size=PATCH_SIZE, num_attention_heads=config.num_heads, attention_head_dim=config.head_dim,
        in_channels=config.vae_z_dim, out_channels=config.vae_z_dim, text_dim=config.text_dim,
        freq_dim=config.freq_dim, ffn_dim=config.ffn_dim, num_layers=config.num_layers,
    )  # fmt: skip


CALIBRATION_SEED = 20261202  # the calibration videos of random VAEs (fixed: the same VAE gets the same statistics)


def calibration_video(batch: int = 4, frames: int = 9, size: int = 64) -> torch.Tensor:
    """(B, 3, frames, size, size) in [-1, 1]: smooth random colour fields drifting over time, a
    fixed stand-in for natural video (low frequencies dominate) to measure latent statistics on."""
    generator = torch.Generator().manual_seed(CALIBRATION_SEED)
    coarse = torch.randn(batch, 3, 1, 6, 6 + frames, generator=generator)
    fine = torch.randn(batch, 3, 1, 24, 24 + 4 * frames, generator=generator) * 0.3
    video = []
    for t in range(frames):  # the fields slide sideways, as under a panning camera
        field = F.interpolate(coarse[..., t : t + 6].squeeze(2), size=(size, size), mode="bicubic", align_corners=False)
        field = field + F.interpolate(fine[..., 4 * t : 4 * t + 24].squeeze(2), size=(size, size), mode="bilinear",
                                      align_corners=False)  # fmt: skip
        video.append(torch.tanh(0.8 * field))
    return torch.stack(video, dim=2)


def random_vae(config: ModelConfig) -> nn.Module:
    """A Wan VAE of the configured dims with random weights (torch's global generator), its time
    kernels made frame-local (``frame_local_time_kernels``: each latent frame encodes its own
    frames), its latent normalisation measured on ``calibration_video`` so that latents have
    unit variance per channel, like a trained VAE's normalised latents (with mean 0 / std 1 a
    random VAE's latents have a standard deviation near 0.14: the flow-matching noise would drown
    the signal)."""
    from diffusers.models.autoencoders.autoencoder_kl_wan import AutoencoderKLWan

    z = config.vae_z_dim
    vae = AutoencoderKLWan(
        base_dim=config.vae_base_dim, z_dim=z, dim_mult=list(config.vae_dim_mult),
        num_res_blocks=config.vae_num_res_blocks, latents_mean=[0.0] * z, latents_std=[1.0] * z,
    )  # fmt: skip
    frame_local_time_kernels(vae)
    with torch.no_grad():  # in float64, rounded: the same statistics whatever the thread count
        latents = vae.double().train(False).encode(calibration_video().double()).latent_dist.mode()
    vae.float()
    mean = latents.mean(dim=(0, 2, 3, 4))
    std = latents.std(dim=(0, 2, 3, 4)).clamp_min(1e-6)
    vae.register_to_config(latents_mean=[round(float(v), 6) for v in mean], latents_std=[round(float(v), 6) for v in std])
    return vae


def frame_local_time_kernels(vae: nn.Module) -> None:
    """Make a random Wan VAE a per-frame image codec with the Wan layout in time.

    The causal VAE encodes frame 0 alone, then groups of 4 frames, each group's time kernels
    reaching into cached features of the previous group. With random weights that left the latent
    frames after the first a function of the first frame: replacing frames 1-8 of a clip by
    another clip's moved its later latents by 1.6 % of the difference between the two clips, and
    a still image of frame 0 gave later latents within 0.5 % of the moving clip's. Training
    targets then carry no motion, and no camera or pose condition can explain anything. Here
    every causal time kernel keeps only its current-frame tap (the sum of its taps), and the
    temporal resampling convolutions become identities on the current frame: latent frame k
    encodes frame 4k with the same image encoder as frame 0, and decoding repeats each latent
    frame over its group. Trained VAEs (``--base``) are used as they are.
    """
    from diffusers.models.autoencoders.autoencoder_kl_wan import WanCausalConv3d, WanResample

    resampling = {id(m.time_conv) for m in vae.modules() if isinstance(m, WanResample) and hasattr(m, "time_conv")}
    with torch.no_grad():
        for module in vae.modules():
            if not isinstance(module, WanCausalConv3d) or module.weight.shape[2] == 1:
                continue
            weight = module.weight  # (out, in, kt, kh, kw); tap kt - 1 is the current frame
            if id(module) in resampling:  # (out = k * in, in, 3, 1, 1): k copies of the current frame
                channels = weight.shape[1]
                weight.zero_()
                module.bias.zero_()
                for copy in range(weight.shape[0] // channels):
                    weight[copy * channels : (copy + 1) * channels, :, -1, 0, 0] = torch.eye(channels)
            else:
                weight[:, :, -1] = weight.sum(dim=2)
                weight[:, :, :-1] = 0.0


def _read_part_config(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            values = json.loads(handle.read(1 << 20))
    except (OSError, ValueError) as error:
        raise ValueError(f"--base: {path} is not readable JSON ({error})") from None
    if not isinstance(values, dict):
        raise ValueError(f"--base: {path}: expected a JSON object")
    return values


def check_base(base: Path) -> None:
    """A diffusers Wan text-to-video folder, checked before any weight is read: transformer/ and
    vae/ present, and the transformer taking exactly the VAE's latent channels (an image-to-video
    checkpoint takes 36: latents, first-frame latents and mask, plus an image encoder; this
    trainer gives the first frame through its own condition channels instead)."""
    if not base.is_dir():
        raise FileNotFoundError(f"--base: {base} is not a directory")
    for part in ("transformer", "vae"):
        if not (base / part / "config.json").is_file():
            raise FileNotFoundError(f"--base: {base / part / 'config.json'} is missing (expected a diffusers Wan "
                                    "folder with transformer/ and vae/)")  # fmt: skip
    transformer = _read_part_config(base / "transformer" / "config.json")
    vae = _read_part_config(base / "vae" / "config.json")
    channels, z = transformer.get("in_channels"), vae.get("z_dim")
    if channels != z:
        kind = " (an image-to-video checkpoint: use the text-to-video one of the same size)" if transformer.get("image_dim") else ""
        raise ValueError(f"--base: transformer in_channels {channels} differs from the VAE's z_dim {z}{kind}")


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
