"""Rectified flow matching (as Wan and SD3 train): x_t = (1 - s) x_0 + s e, the model predicts
the velocity v = e - x_0 at timestep 1000 s; sampling integrates dx/ds = v from s = 1 to 0.

Noise levels s are drawn logit-normal, then shifted: s' = k s / (1 + (k - 1) s) (k > 1 spends more
time at high noise, as large videos need)."""

from __future__ import annotations

from typing import Callable

import torch

TIMESTEP_SCALE = 1000.0


def shift_sigmas(sigmas: torch.Tensor, shift: float) -> torch.Tensor:
    return shift * sigmas / (1.0 + (shift - 1.0) * sigmas)


def sample_sigmas(batch: int, shift: float, generator: torch.Generator | None, device) -> torch.Tensor:
    """(batch,) noise levels in (0, 1): sigmoid of a standard normal, shifted."""
    normal = torch.randn(batch, generator=generator, device="cpu").to(device)
    return shift_sigmas(torch.sigmoid(normal), shift)


def noisy_and_target(latents: torch.Tensor, noise: torch.Tensor, sigmas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(x_t, v) for latents (B, ...) and sigmas (B,)."""
    s = sigmas.view(-1, *([1] * (latents.ndim - 1)))
    return (1.0 - s) * latents + s * noise, noise - latents


def flow_loss(predict: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], latents: torch.Tensor,
              shift: float, generator: torch.Generator | None = None) -> torch.Tensor:  # fmt: skip
    """Mean squared velocity error; predict(x_t, timestep (B,)) -> v."""
    noise = torch.randn(latents.shape, generator=generator, device="cpu").to(latents.device, latents.dtype)
    sigmas = sample_sigmas(latents.shape[0], shift, generator, latents.device)
    noisy, target = noisy_and_target(latents, noise, sigmas)
    prediction = predict(noisy, sigmas * TIMESTEP_SCALE)
    return torch.nn.functional.mse_loss(prediction.float(), target.float())


@torch.no_grad()
def sample(predict: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], shape: tuple[int, ...], steps: int,
           shift: float, generator: torch.Generator | None = None, device="cpu") -> torch.Tensor:  # fmt: skip
    """Euler integration of the flow from pure noise (s = 1) to data (s = 0) in ``steps`` steps."""
    x = torch.randn(shape, generator=generator, device="cpu").to(device)
    sigmas = shift_sigmas(torch.linspace(1.0, 0.0, steps + 1, device=device), shift)
    for s, s_next in zip(sigmas[:-1], sigmas[1:]):
        timestep = torch.full((shape[0],), float(s) * TIMESTEP_SCALE, device=device)
        x = x + (s_next - s) * predict(x, timestep).float()
    return x
