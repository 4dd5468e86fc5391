"""Condition dropout in training and classifier-free guidance per condition at sampling.

Conditions, by name: ``first_frame`` (its latents and frame mask), ``camera`` (Plücker maps),
``reprojection`` (the reprojected first frame's latents and coverage mask), ``depth`` and
``pose_maps`` (their latents), ``pose_grid`` (body-part maps on the latent grid), ``pose_tokens`` (the 3D joint tokens) and ``text``.
Dropping a condition for a sample sets it to its null value: zeros on its channels of
``ModelInputs.cond`` (a dropped first frame also zeroes its mask, "no frame given", and the
reprojected first frame, whose frame 0 is the first frame itself), zero
Plücker maps, no persons for the joint tokens (``person_mask`` false), the null (zero) text
embedding. Training drops each condition of each sample independently with its own probability
(``ModelConfig.drop_<name>``), from a generator of its own per step, so that the model learns
both the conditional and the unconditional velocity and must draw the scene from the 3D
conditions when the first frame is missing.

Guidance with groups g_1..g_k (each a set of conditions and a scale s_i), conditions outside
every group always on:

    v = v_0 + sum_i s_i (v_i - v_(i-1)),   v_i = v(groups 1..i on, the later ones dropped)

so v_0 has every grouped condition dropped and v_k is the plain conditional velocity; all
scales 1 give v_k exactly. One group with scale s is ordinary classifier-free guidance on it.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from worldclips.train.conditions import ModelInputs
from worldclips.train.config import ModelConfig
from worldclips.train.model import COVERAGE_MASK_CHANNELS, FIRST_FRAME_MASK_CHANNELS, POSE_GRID_CHANNELS

CONDITIONS = ("first_frame", "camera", "reprojection", "depth", "pose_maps", "pose_grid", "pose_tokens", "text")


def enabled_conditions(config: ModelConfig) -> tuple[str, ...]:
    """The conditions this model takes (text always: the null embedding is its dropped value)."""
    on = {"first_frame": config.first_frame, "camera": config.camera, "reprojection": config.reprojection,
          "depth": config.depth != "none",
          "pose_maps": config.pose_maps, "pose_grid": config.pose_grid, "pose_tokens": config.pose_tokens, "text": True}  # fmt: skip
    return tuple(name for name in CONDITIONS if on[name])


def condition_channels(config: ModelConfig, latent_channels: int) -> dict[str, list[slice]]:
    """The channel ranges of each condition in ``ModelInputs.cond`` (model_inputs' order: depth,
    skeleton, first-frame and reprojection latents, then the first-frame and coverage masks, then
    the pose grid)."""
    slices: dict[str, list[slice]] = {}
    start = 0
    videos = (("depth", config.depth != "none"), ("pose_maps", config.pose_maps), ("first_frame", config.first_frame),
              ("reprojection", config.reprojection))  # fmt: skip
    for name, on in videos:
        if on:
            slices[name] = [slice(start, start + latent_channels)]
            start += latent_channels
    for name, on, channels in (("first_frame", config.first_frame, FIRST_FRAME_MASK_CHANNELS),
                               ("reprojection", config.reprojection, COVERAGE_MASK_CHANNELS)):  # fmt: skip
        if on:
            slices[name].append(slice(start, start + channels))
            start += channels
    if config.pose_grid:
        slices["pose_grid"] = [slice(start, start + POSE_GRID_CHANNELS)]
    return slices


def drop_conditions(inputs: ModelInputs, dropped: dict[str, torch.Tensor], config: ModelConfig,
                    latent_channels: int) -> ModelInputs:  # fmt: skip
    """``inputs`` with each condition set to its null value for the samples where ``dropped[name]``
    ((B,) bool) is true; conditions not in ``dropped`` are kept."""
    cond, plucker, joints, text = inputs.cond, inputs.plucker, inputs.joints, inputs.text
    channels = condition_channels(config, latent_channels)
    for name, mask in dropped.items():
        if name not in CONDITIONS:
            raise ValueError(f"unknown condition {name!r} (expected one of {', '.join(CONDITIONS)})")
        if not bool(mask.any()):
            continue
        keep = (~mask.to(torch.bool)).to(cond.device)
        if name in channels:
            cond = cond.clone()
            for part in channels[name] + (channels.get("reprojection", []) if name == "first_frame" else []):
                cond[:, part] = cond[:, part] * keep.view(-1, 1, 1, 1, 1).to(cond.dtype)
        elif name == "camera" and plucker is not None:
            plucker = plucker * keep.view(-1, 1, 1, 1, 1).to(plucker.dtype)
        elif name == "pose_tokens" and joints is not None:
            joints = (joints[0], joints[1], joints[2] & keep.view(-1, 1).to(joints[2].device))
        elif name == "text" and text is not None:
            text = text * keep.view(-1, 1, 1).to(text.dtype)
    return replace(inputs, cond=cond, plucker=plucker, joints=joints, text=text)


def dropout_probabilities(config: ModelConfig) -> dict[str, float]:
    """drop_<name> of every condition the model takes."""
    return {name: float(getattr(config, f"drop_{name}")) for name in enabled_conditions(config)}


def draw_dropout(batch_size: int, config: ModelConfig, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """(B,) bool per condition: which samples of the batch train without it."""
    return {name: torch.rand(batch_size, generator=generator) < probability
            for name, probability in dropout_probabilities(config).items()}  # fmt: skip


def parse_guidance(text: str, config: ModelConfig) -> list[tuple[tuple[str, ...], float]]:
    """"camera=3,depth+pose_maps=2" -> [(("camera",), 3.0), (("depth", "pose_maps"), 2.0)] (order kept)."""
    groups = []
    taken: set[str] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        names, sep, scale = part.partition("=")
        try:
            value = float(scale)
        except ValueError:
            value = float("nan")
        if not sep or not value == value:
            raise ValueError(f"guidance: expected NAME=SCALE or NAME+NAME=SCALE, got {part!r}")
        group = tuple(n.strip() for n in names.split("+"))
        unknown = [n for n in group if n not in enabled_conditions(config)]
        if unknown:
            raise ValueError(f"guidance: {unknown[0]!r} is not a condition of this model "
                             f"(expected some of {', '.join(enabled_conditions(config))})")  # fmt: skip
        if "text" in group and not config.text_encoder:
            raise ValueError("guidance: text needs a text encoder (model.text_encoder); this model's text is the null embedding")
        if taken & set(group):
            raise ValueError(f"guidance: {sorted(taken & set(group))[0]!r} appears in two groups")
        taken |= set(group)
        groups.append((group, value))
    return groups


def guided_velocity(predict, inputs: ModelInputs, groups: list[tuple[tuple[str, ...], float]], config: ModelConfig,
                    latent_channels: int, x: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """The guided velocity above; predict(x, timestep, inputs) -> v. Without groups, one call."""
    if not groups:
        return predict(x, timestep, inputs)
    batch = x.shape[0]
    everything = [name for group, _ in groups for name in group]
    velocities = []
    for level in range(len(groups) + 1):
        off = everything[sum(len(g) for g, _ in groups[:level]):]
        dropped = {name: torch.ones(batch, dtype=torch.bool) for name in off}
        velocities.append(predict(x, timestep, drop_conditions(inputs, dropped, config, latent_channels)).float())
    guided = velocities[0]
    for level, (_, scale) in enumerate(groups, start=1):
        guided = guided + scale * (velocities[level] - velocities[level - 1])
    return guided


def shuffle_condition(inputs: ModelInputs, name: str, order: torch.Tensor, config: ModelConfig,
                      latent_channels: int) -> ModelInputs:  # fmt: skip
    """``inputs`` with one condition taken from other clips: sample b gets clip ``order[b]``'s."""
    cond, plucker, joints, text = inputs.cond, inputs.plucker, inputs.joints, inputs.text
    channels = condition_channels(config, latent_channels)
    if name in channels:
        cond = cond.clone()
        for part in channels[name]:
            cond[:, part] = inputs.cond[order.to(cond.device)][:, part]
    elif name == "camera" and plucker is not None:
        plucker = plucker[order.to(plucker.device)]
    elif name == "pose_tokens" and joints is not None:
        joints = tuple(part[order.to(part.device)] for part in joints)
    elif name == "text" and text is not None:
        text = text[order.to(text.device)]
    elif name not in CONDITIONS:
        raise ValueError(f"unknown condition {name!r} (expected one of {', '.join(CONDITIONS)})")
    return replace(inputs, cond=cond, plucker=plucker, joints=joints, text=text)
