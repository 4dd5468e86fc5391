"""AdamW over the trainable parameters, warmup + cosine learning rate, and an EMA of the weights."""

from __future__ import annotations

import math

import torch
from torch import nn

from worldclips.train.config import OptimConfig
from worldclips.train.sharding import shard_like


def make_optimizer(parameters: dict[str, torch.Tensor], config: OptimConfig) -> torch.optim.Optimizer:
    """AdamW; no weight decay on biases, norms and embeddings (1-D parameters)."""
    decay = [p for p in parameters.values() if p.ndim >= 2]
    no_decay = [p for p in parameters.values() if p.ndim < 2]
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.lr, betas=tuple(config.betas), fused=torch.cuda.is_available())


def learning_rate(step: int, config: OptimConfig) -> float:
    """Linear warmup over warmup_steps, then cosine decay to lr * min_lr_ratio at config.steps."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = min(1.0, (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps))
    floor = config.lr * config.min_lr_ratio
    return floor + 0.5 * (config.lr - floor) * (1.0 + math.cos(math.pi * progress))


class EMA:
    """Exponential moving average of named parameters, kept in float32 on their device (sharded
    like them under FSDP: ``load_state_dict`` takes full tensors and keeps this rank's shard)."""

    def __init__(self, parameters: dict[str, torch.Tensor], decay: float):
        self.decay = decay
        self.shadow = {name: p.detach().float().clone() for name, p in parameters.items()}

    @torch.no_grad()
    def update(self, parameters: dict[str, torch.Tensor]) -> None:
        for name, p in parameters.items():
            self.shadow[name].lerp_(p.detach().float(), 1.0 - self.decay)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.shadow

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        missing = set(self.shadow) - set(state)
        if missing:
            raise ValueError(f"ema.safetensors: missing {sorted(missing)[0]}")
        for name, value in self.shadow.items():
            value.copy_(shard_like(state[name], value))

    @torch.no_grad()
    def copy_to(self, model: nn.Module) -> None:
        """Write the averaged weights into the model (for sampling)."""
        parameters = dict(model.named_parameters())
        for name, value in self.shadow.items():
            parameters[name].copy_(value)
