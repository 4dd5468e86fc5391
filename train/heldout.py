"""Held-out losses: many clips' encoded inputs, sliced and joined, and the flow-matching loss of
each clip at a fixed noise level and fixed noise (for ``worldclips eval`` and the trainer's
validation loss)."""

from __future__ import annotations

import torch

from worldclips.train.conditions import ModelInputs
from worldclips.train.flow import TIMESTEP_SCALE, noisy_and_target


def slice_inputs(inputs: ModelInputs, index: slice) -> ModelInputs:
    joints = tuple(part[index] for part in inputs.joints) if inputs.joints is not None else None
    pick = lambda t: t[index] if t is not None else None  # noqa: E731
    return ModelInputs(pick(inputs.latents), inputs.cond[index], pick(inputs.plucker), joints, pick(inputs.text))


def concat_inputs(parts: list[ModelInputs]) -> ModelInputs:
    cat = lambda ts: torch.cat(ts) if ts[0] is not None else None  # noqa: E731
    joints = None
    if parts[0].joints is not None:
        joints = tuple(torch.cat([p.joints[k] for p in parts]) for k in range(3))
    return ModelInputs(cat([p.latents for p in parts]), torch.cat([p.cond for p in parts]),
                       cat([p.plucker for p in parts]), joints, cat([p.text for p in parts]))  # fmt: skip


@torch.no_grad()
def per_clip_losses(model, inputs: ModelInputs, noise: torch.Tensor, level: float, chunk: int) -> torch.Tensor:
    """(N,) flow-matching loss of each clip at noise level ``level`` with the given noise."""
    losses = []
    for start in range(0, len(noise), chunk):
        part = slice_inputs(inputs, slice(start, start + chunk))
        sigmas = torch.full((len(part.cond),), float(level), device=part.cond.device)
        noisy, target = noisy_and_target(part.latents, noise[start : start + chunk], sigmas)
        velocity = model(noisy, sigmas * TIMESTEP_SCALE, part.cond, part.plucker, part.text, part.joints)
        losses.append((velocity.float() - target.float()).square().flatten(1).mean(1).cpu())
    return torch.cat(losses)
