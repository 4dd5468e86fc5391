"""Held-out clips: the first clips of a dataset with fixed crops, their inputs encoded once, sliced
and joined, and the flow-matching loss of each clip at a fixed noise level and fixed noise (for
``worldclips eval`` and the trainer's validation loss)."""

from __future__ import annotations

import torch

from worldclips.train.conditions import ModelInputs, model_inputs, to_device
from worldclips.train.flow import TIMESTEP_SCALE, noisy_and_target
from worldclips.train.loader import collate, iter_examples
from worldclips.train.sources import shard_urls


def first_examples(data: str, config, count: int, seed: int = 0, person_pixels: bool = False) -> list[dict]:
    """The first ``count`` clips of ``data`` as examples (crops drawn with ``seed``; scenario clips
    kept unverified are skipped as the training loader skips them)."""
    examples = []
    for example in iter_examples(shard_urls(data), config.data, skeletons=config.model.pose_maps, seed=seed,
                                 person_pixels=person_pixels, skip_unverified=True):  # fmt: skip
        examples.append(example)
        if len(examples) >= count:
            break
    return examples


def encode_examples(examples: list[dict], config, codec, text_encoder, device, encode_target: bool = True) -> ModelInputs:
    """All examples' model inputs (target latents included unless ``encode_target`` is false),
    encoded batch by batch and joined."""
    chunk = max(1, config.data.batch_size)
    parts = []
    with torch.no_grad():
        for start in range(0, len(examples), chunk):
            group = [{k: v for k, v in e.items() if k != "person_pixels"} for e in examples[start : start + chunk]]
            parts.append(model_inputs(to_device(collate(group), device), codec, config.model, encode_target, text_encoder))
    return concat_inputs(parts)


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
