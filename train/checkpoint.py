"""Checkpoints of a run directory, written atomically (a temporary folder renamed into place).

    RUN_DIR/config.json                       the resolved RunConfig
    RUN_DIR/checkpoints/step-00000003/
        model.safetensors   weights not in --base: all of them, or (with --base) the trainable ones
        ema.safetensors     EMA of the trainable weights (float32)
        optimizer.pt        AdamW state (tensors and numbers only: read with weights_only=True)
        rng.safetensors     torch RNG states per rank (cpu, cuda)
        state.json          step, data position of every (rank, worker), base path, losses
    RUN_DIR/checkpoints/latest                name of the newest complete checkpoint
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

CHECKPOINTS = "checkpoints"
LATEST = "latest"
FILES = ("model.safetensors", "ema.safetensors", "optimizer.pt", "rng.safetensors", "state.json")


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint holds, as loaded (tensors on the CPU)."""

    path: Path
    model: dict[str, torch.Tensor]
    ema: dict[str, torch.Tensor]
    optimizer: dict
    rng: dict[str, torch.Tensor]
    state: dict


def _contiguous(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {name: t.detach().to("cpu").contiguous() for name, t in tensors.items()}


def save_checkpoint(run_dir: Path, step: int, model: dict, ema: dict, optimizer: dict, rng: dict, state: dict,
                    keep: int = 3) -> Path:  # fmt: skip
    """Write step-N atomically, point ``latest`` at it, then keep only the newest ``keep``."""
    root = Path(run_dir) / CHECKPOINTS
    root.mkdir(parents=True, exist_ok=True)
    name = f"step-{step:08d}"
    final, tmp = root / name, root / f".tmp-{name}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    save_file(_contiguous(model), str(tmp / "model.safetensors"))
    save_file(_contiguous(ema), str(tmp / "ema.safetensors"))
    torch.save(optimizer, tmp / "optimizer.pt")
    save_file(_contiguous(rng), str(tmp / "rng.safetensors"))
    (tmp / "state.json").write_text(json.dumps({**state, "step": step}, indent=2) + "\n")
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    latest_tmp = root / f".{LATEST}.tmp"
    latest_tmp.write_text(name + "\n")
    os.replace(latest_tmp, root / LATEST)
    for old in sorted(root.glob("step-*"))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(run_dir: Path) -> Path | None:
    pointer = Path(run_dir) / CHECKPOINTS / LATEST
    if not pointer.is_file():
        return None
    path = pointer.parent / pointer.read_text().strip()
    if not path.is_dir():
        raise ValueError(f"{pointer}: points to {path.name}, which is missing")
    return path


def load_checkpoint(path: Path) -> Checkpoint:
    """Read a checkpoint folder; any missing or unreadable file is a one-line ValueError."""
    path = Path(path)
    for name in FILES:
        if not (path / name).is_file():
            raise ValueError(f"checkpoint {path}: {name} is missing")
    try:
        model = load_file(str(path / "model.safetensors"))
        ema = load_file(str(path / "ema.safetensors"))
        rng = load_file(str(path / "rng.safetensors"))
    except Exception as error:
        raise ValueError(f"checkpoint {path}: corrupt safetensors file ({str(error).splitlines()[0]})") from None
    try:
        optimizer = torch.load(path / "optimizer.pt", map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(f"checkpoint {path}: corrupt optimizer.pt ({str(error).splitlines()[0][:200]})") from None
    try:
        state = json.loads((path / "state.json").read_text())
        int(state["step"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"checkpoint {path}: corrupt state.json ({error})") from None
    return Checkpoint(path=path, model=model, ema=ema, optimizer=optimizer, rng=rng, state=state)


def load_model_weights(module: torch.nn.Module, weights: dict[str, torch.Tensor], partial: bool, where: str) -> None:
    """Copy checkpoint weights into the module; every tensor must fit. ``partial``: the checkpoint
    holds only some weights (the rest came from --base); otherwise it must hold all of them."""
    own = module.state_dict()
    unknown = sorted(set(weights) - set(own))
    if unknown:
        raise ValueError(f"{where}: weight {unknown[0]} does not belong to this model (different config?)")
    missing = sorted(set(own) - set(weights))
    if missing and not partial:
        raise ValueError(f"{where}: weight {missing[0]} is missing (different config?)")
    for name, value in weights.items():
        if own[name].shape != value.shape:
            raise ValueError(f"{where}: {name} has shape {tuple(value.shape)}, the model {tuple(own[name].shape)}")
    module.load_state_dict(weights, strict=False)
