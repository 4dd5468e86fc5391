"""Fully sharded data parallel training (FSDP2, ``torch.distributed.fsdp.fully_shard``).

With ``train.fsdp: true`` under torchrun, every transformer block and then the whole model are
sharded across the ranks: each rank keeps 1/N of the parameters, gradients, AdamW moments and
EMA weights, and gathers a block's full weights only while that block runs. That is what lets a
model that does not fit one GPU train (the ``wan-14b`` preset). The maths is that of DDP: the
same batches and noise give the same weights (tested with gloo on two CPU processes).

Checkpoints stay the single-process format (full tensors with the model's own parameter
names, written by rank 0), so sampling, eval and resuming with another number of ranks or
without FSDP read them unchanged. Gathering them is collective: every rank calls these helpers.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_optimizer_state_dict,
    set_optimizer_state_dict,
)
from torch.distributed.tensor import DTensor, distribute_tensor

FULL = StateDictOptions(full_state_dict=True, cpu_offload=True)


def shard_model(model: nn.Module, bf16_params: bool) -> None:
    """Shard each transformer block, then the rest of the model (in place: its parameters become
    DTensors). ``bf16_params``: blocks compute in bf16 with float32 gradient reduction (GPU)."""
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

    policy = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32) if bf16_params else MixedPrecisionPolicy()
    for block in model.transformer.blocks:
        fully_shard(block, mp_policy=policy)
    fully_shard(model, mp_policy=policy)


def set_gradient_sync(model: nn.Module, sync: bool) -> None:
    """Skip the gradient reduce-scatter on accumulation micro-steps (FSDP's no_sync)."""
    model.set_requires_gradient_sync(sync)


def full_tensor(value: torch.Tensor) -> torch.Tensor:
    """A DTensor's full value (collective), or the tensor itself."""
    return value.full_tensor() if isinstance(value, DTensor) else value


def full_model_state(model: nn.Module, names: set[str] | None = None) -> dict[str, torch.Tensor]:
    """Full weights on the CPU of rank 0 (other ranks get {}); ``names``: only those parameters."""
    state = get_model_state_dict(model, options=FULL)
    return {k: v for k, v in state.items() if names is None or k in names}


def full_tensors(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Gather sharded tensors (e.g. the EMA) to full CPU tensors on every rank."""
    return {name: full_tensor(value).detach().cpu() for name, value in tensors.items()}


def shard_like(full: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """This rank's shard of a full tensor, laid out as ``like`` (a DTensor), or ``full`` itself."""
    if isinstance(like, DTensor):
        return distribute_tensor(full.to(like.device, like.dtype), like.device_mesh, like.placements)
    return full


def optimizer_state(model: nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    """AdamW state keyed by parameter name, full tensors on the CPU (collective under FSDP)."""
    return get_optimizer_state_dict(model, optimizer, options=FULL)


def load_optimizer_state(model: nn.Module, optimizer: torch.optim.Optimizer, state: dict) -> None:
    """Load a state from ``optimizer_state`` into a fresh optimizer, sharded or not. Parameters that
    never had a gradient have no state (strict=False); the model's own weights load strictly."""
    set_optimizer_state_dict(model, optimizer, optim_state_dict=state,
                             options=StateDictOptions(full_state_dict=True, strict=False))  # fmt: skip


def names_keyed(state: dict) -> bool:
    """True for a state from ``optimizer_state`` (parameter names), False for torch's index-keyed one."""
    return all(isinstance(key, str) for key in state.get("state", {}))
