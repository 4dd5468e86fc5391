"""The short learnability checks' shared part: a tiny model trained on a list of synthetic clips."""

from __future__ import annotations

import torch

from worldclips.train.conditions import model_inputs
from worldclips.train.flow import flow_loss
from worldclips.train.heldout import concat_inputs, slice_inputs
from worldclips.train.loader import collate
from worldclips.train.trainer import build_model


def train_on_clips(config, clips: list[dict], steps: int, generator: torch.Generator, train_clips: int = 64):
    """The model of ``config`` (weights from torch seed 0) trained ``steps`` AdamW steps (lr 2e-3)
    on batches of 8 drawn from the first ``train_clips`` clips, batches and noise from
    ``generator`` -> (model in eval mode, codec, encode: examples -> ModelInputs)."""
    torch.manual_seed(0)
    model, codec = build_model(config, None)

    def encode(examples):
        with torch.no_grad():
            return concat_inputs([model_inputs(collate(examples[i : i + 16]), codec, config.model) for i in range(0, len(examples), 16)])

    inputs = encode(clips)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    for _ in range(steps):
        part = slice_inputs(inputs, torch.randint(0, train_clips, (8,), generator=generator))
        loss = flow_loss(lambda x, t: model(x, t, part.cond, part.plucker), part.latents, 1.0, generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval(), codec, encode
