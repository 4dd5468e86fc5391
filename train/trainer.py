"""The training loop: flow matching on streamed shards, with DDP, bf16 autocast, gradient
accumulation and clipping, EMA, warmup + cosine LR, checkpoints and exact resume.

Single process: ``worldclips train ...``; several GPUs: ``torchrun --nproc-per-node N -m
worldclips train ...`` (each rank reads its own streams; rank 0 logs and writes checkpoints).
The noise of step s on rank r is drawn from a generator seeded with (seed, rank, s), so a
resumed run draws what the uninterrupted run would have drawn.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from worldclips.train.build import LatentCodec, build_backbone, check_base
from worldclips.train.checkpoint import latest_checkpoint, load_checkpoint, load_model_weights, save_checkpoint
from worldclips.train.conditions import ModelInputs, model_inputs, to_device
from worldclips.train.guidance import draw_dropout, drop_conditions
from worldclips.train.heldout import encode_examples, first_examples, per_clip_losses
from worldclips.train.latent_cache import cached_inputs, check_fingerprint, read_cache_manifest
from worldclips.train.config import RunConfig, read_config, replace, save_config
from worldclips.train.flow import flow_loss
from worldclips.train.loader import make_loader
from worldclips.train.logs import TrainLog
from worldclips.train.model import ConditionedWan, apply_lora, trainable_parameters
from worldclips.train.optim import EMA, learning_rate, make_optimizer
from worldclips.train.sharding import (
    full_model_state, full_tensor, full_tensors, load_optimizer_state, names_keyed, optimizer_state, set_gradient_sync,
    shard_model,
)  # fmt: skip
from worldclips.train.sources import shard_urls

CONFIG_NAME = "config.json"


@dataclass(frozen=True)
class Distributed:
    rank: int
    world_size: int
    device: torch.device


def setup_distributed() -> Distributed:
    """torchrun's RANK / WORLD_SIZE / LOCAL_RANK, or a single process on cuda:0 or the CPU."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size > 1:
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if torch.cuda.is_available():
            torch.cuda.set_device(local_rank)
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        device = torch.device(f"cuda:{local_rank}") if torch.cuda.is_available() else torch.device("cpu")
        return Distributed(dist.get_rank(), world_size, device)
    return Distributed(0, 1, torch.device("cuda" if torch.cuda.is_available() else "cpu"))


def build_model(config: RunConfig, base: Path | None) -> tuple[ConditionedWan, LatentCodec]:
    """The conditioned model and the frozen VAE; every random weight is drawn from train.seed."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.train.seed)
        transformer, vae = build_backbone(config.model, base)
        model = ConditionedWan(transformer, config.model)
        if config.model.lora_rank:
            apply_lora(model, config.model.lora_rank, config.model.lora_alpha)
    return model, LatentCodec(vae)


def make_text_encoder(config: RunConfig, base: Path | None, model: ConditionedWan, device: torch.device):
    """The frozen text encoder of --base when model.text_encoder is set, else None (null text)."""
    if not config.model.text_encoder:
        return None
    if base is None:
        raise ValueError("model.text_encoder: needs --base with text_encoder/ and tokenizer/")
    from worldclips.train.text import TextEncoder

    encoder = TextEncoder(Path(base), config.model.text_len, device)
    if encoder.width != model.text_dim:
        raise ValueError(f"--base: text encoder width {encoder.width} != transformer text_dim {model.text_dim}")
    return encoder


DROPOUT_STREAM = 1  # the condition dropout's draws, apart from the noise's (stream 0)


def step_generator(seed: int, rank: int, step: int, micro: int = 0, stream: int = 0) -> torch.Generator:
    entropy = [seed, rank, step, micro] + ([stream] if stream else [])
    return torch.Generator().manual_seed(int(np.random.SeedSequence(entropy).generate_state(1)[0]))


def training_loss(model, codec: LatentCodec, batch: dict, config: RunConfig, generator: torch.Generator,
                  text_encoder=None, dropout: torch.Generator | None = None) -> torch.Tensor:  # fmt: skip
    """Flow-matching loss of one batch (already on the model's device); with a ``dropout``
    generator, each condition of each sample is dropped with its drop_<name> probability."""
    if "latents" in batch:  # a latent-cache batch: the VAE pass was done by `worldclips encode`
        inputs = cached_inputs(batch, batch["latents"].device)
        if text_encoder is not None:
            inputs = dataclasses.replace(inputs, text=text_encoder(batch["caption"]))
    else:
        inputs = model_inputs(batch, codec, config.model, text_encoder=text_encoder)
    if dropout is not None:
        dropped = draw_dropout(inputs.cond.shape[0], config.model, dropout)
        inputs = drop_conditions(inputs, dropped, config.model, codec.channels)
    return inputs_loss(model, inputs, config, generator)


def inputs_loss(model, inputs: ModelInputs, config: RunConfig, generator: torch.Generator) -> torch.Tensor:
    """Flow-matching loss on encoded inputs (target latents and conditions)."""
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if inputs.latents.is_cuda and config.train.bf16
                else contextlib.nullcontext())  # fmt: skip
    with autocast:
        return flow_loss(lambda x, t: model(x, t, inputs.cond, inputs.plucker, inputs.text, inputs.joints),
                         inputs.latents, config.train.timestep_shift, generator)  # fmt: skip


VALIDATION_NOISE_LEVELS = (0.25, 0.5, 0.75)


def held_out_inputs(data: str, config: RunConfig, codec: LatentCodec, text_encoder, device) -> ModelInputs:
    """The first ``train.val_clips`` clips of ``data`` (fixed crops, unverified ones skipped), encoded once."""
    examples = first_examples(data, config, config.train.val_clips)
    if not examples:
        raise ValueError(f"--val-data: no clips in {data}")
    return encode_examples(examples, config, codec, text_encoder, device)


def validation_loss(model, inputs: ModelInputs, config: RunConfig) -> float:
    """Mean flow-matching loss of the held-out inputs over fixed noise levels and fixed noise."""
    noise = torch.randn(inputs.latents.shape, generator=torch.Generator().manual_seed(config.train.seed))
    noise = noise.to(inputs.latents.device, inputs.latents.dtype)
    was_training = model.training
    model.train(False)
    try:
        losses = [per_clip_losses(model, inputs, noise, level, config.data.batch_size).mean()
                  for level in VALIDATION_NOISE_LEVELS]  # fmt: skip
    finally:
        model.train(was_training)
    return float(torch.stack(losses).mean())


def prepare_run_dir(out: Path, config: RunConfig | None, resume: bool, steps: int | None) -> tuple[RunConfig, Path | None]:
    """(config to use, checkpoint to resume from or None). A new run refuses a directory that already
    holds one. ``resume`` continues from the latest checkpoint, or starts at step 0 when the run's
    first start failed before any checkpoint (or with no run there yet, from ``config`` or the
    default ``tiny`` preset); it keeps the saved config, and a ``config`` passed with
    it must equal the saved one (``steps`` may extend it either way)."""
    out = Path(out)
    if resume:
        if not (out / CONFIG_NAME).is_file():  # nothing to resume yet: a fresh start
            if out.exists() and not out.is_dir():
                raise FileExistsError(f"--out: {out} exists and is not a directory")
            return _with_steps(config or RunConfig(), steps), None
        saved = read_config(out / CONFIG_NAME)
        if config is not None:
            differing = config_differences(saved, config)
            if differing:
                raise ValueError(f"--config: differs from the run's saved config ({out / CONFIG_NAME}) in "
                                 f"{', '.join(differing[:6])}; leave --config out or choose a new --out")  # fmt: skip
        return _with_steps(saved, steps), latest_checkpoint(out)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"--out: {out} exists and is not a directory")
    if (out / CONFIG_NAME).exists() or latest_checkpoint(out) is not None:
        raise FileExistsError(f"--out: {out} already holds a run; pass --resume or choose a new directory")
    if config is None:
        raise ValueError("--config: expected a preset (tiny, wan-1.3b, wan-14b) or a YAML file")
    return _with_steps(config, steps), None


def _with_steps(config: RunConfig, steps: int | None) -> RunConfig:
    return replace(config, train={"steps": steps}) if steps is not None else config


def config_differences(saved: RunConfig, given: RunConfig) -> list[str]:
    """Dotted names of the fields where ``given`` differs from ``saved``, ignoring ``train.steps``
    (a resumed run may extend it)."""
    a, b = (json.loads(json.dumps(c.to_dict())) for c in (saved, given))  # tuples and lists alike
    return [f"{section}.{name}" for section in a for name in a[section]
            if (section, name) != ("train", "steps") and a[section][name] != b.get(section, {}).get(name)]  # fmt: skip


def restore_positions(state: dict, config: RunConfig, world: Distributed, num_shards: int, log: TrainLog) -> dict:
    """This rank's loader start (worker -> (epoch, index)) from a checkpoint's data position."""
    data = state.get("data", {})
    same = (data.get("world_size") == world.world_size and data.get("num_workers") == config.data.num_workers
            and data.get("num_shards") == num_shards)  # fmt: skip
    positions = data.get("positions", [])
    if same and world.rank < len(positions):
        return {int(w): tuple(p) for w, p in positions[world.rank].items()}
    epochs = [p[0] for rank in positions for p in rank.values()] or [0]
    log.message(f"resume: data layout changed (ranks, workers or shards); streams restart at epoch {max(epochs) + 1}")
    return {w: (max(epochs) + 1, 0) for w in range(max(1, config.data.num_workers))}


def mean_over_ranks(value: float, world: Distributed) -> float:
    if world.world_size == 1:
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=world.device)
    dist.all_reduce(tensor)
    return float(tensor) / world.world_size


def gather(value, world: Distributed) -> list:
    if world.world_size == 1:
        return [value]
    out = [None] * world.world_size
    dist.all_gather_object(out, value)
    return out


def train(data: str, config: RunConfig | None, out: Path, resume: bool = False, base: Path | None = None,
          steps: int | None = None, tensorboard: bool = True, latents: str | None = None,
          val_data: str | None = None) -> dict:  # fmt: skip
    """Train to config.train.steps (or ``steps``); returns {"step", "loss", "checkpoint", "rank"}.
    With ``resume`` the config comes from ``out`` (pass None). ``latents``: a latent cache of
    ``data`` (train.latent_cache) to read instead of the clips. ``val_data``: held-out clips whose
    loss is logged (``val_loss``) every ``train.val_every`` steps and at the end."""
    if base is not None:
        check_base(Path(base))
    urls = shard_urls(data)
    cache = None
    if latents is not None:
        cache = (str(latents), read_cache_manifest(Path(latents)), str(data))
        urls = shard_urls(latents)
    config, checkpoint = prepare_run_dir(Path(out), config, resume, steps)
    if config.model.text_encoder and base is None and checkpoint is None:
        raise ValueError("model.text_encoder: needs --base with text_encoder/ and tokenizer/")
    world = setup_distributed()
    out = Path(out)
    log = TrainLog(out, enabled=world.rank == 0, tensorboard=tensorboard)
    try:
        return _train(urls, config, out, checkpoint, base, world, log, cache, val_data)
    finally:
        log.close()
        if world.world_size > 1:
            dist.destroy_process_group()


def _train(urls, config: RunConfig, out: Path, checkpoint: Path | None, base, world: Distributed, log: TrainLog,
           cache: tuple[str, dict, str] | None = None, val_data: str | None = None) -> dict:  # fmt: skip
    tc = config.train
    if world.rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        save_config(config, out / CONFIG_NAME)
    loaded = load_checkpoint(checkpoint) if checkpoint is not None else None
    if loaded is not None and base is None and loaded.state.get("base"):
        base = Path(loaded.state["base"])  # a resumed LoRA run rebuilds on the same base
    model, codec = build_model(config, base)
    if cache is not None:  # before the VAE is cast to bf16: the cache hashed its float32 weights
        check_fingerprint(cache[1], config, codec, cache[0], cache[2])
    fsdp = tc.fsdp and world.world_size > 1
    if not fsdp:  # under FSDP each rank moves only its shard to the device (fully_shard)
        model.to(world.device)
    codec.to(world.device, dtype=torch.bfloat16 if world.device.type == "cuda" and tc.bf16 else torch.float32)
    codec.mean.data, codec.std.data = codec.mean.float(), codec.std.float()
    text = make_text_encoder(config, base, model, world.device)
    if loaded is not None:  # full weights, before any sharding
        load_model_weights(model, loaded.model, partial=base is not None, where=str(checkpoint))
    if fsdp:
        shard_model(model, bf16_params=world.device.type == "cuda" and tc.bf16)
    params = trainable_parameters(model)
    optimizer = make_optimizer(params, tc)
    ema = EMA(params, tc.ema_decay)
    step, start, state = 0, {}, {}
    if loaded is not None:
        state = loaded.state
        ema.load_state_dict({k: v.to(world.device) for k, v in loaded.ema.items()})
        restore_optimizer(model, optimizer, loaded.optimizer, fsdp, checkpoint)
        cpu_rng = loaded.rng.get(f"cpu.rank{world.rank}")
        if cpu_rng is not None:
            torch.set_rng_state(cpu_rng)
        if world.device.type == "cuda" and f"cuda.rank{world.rank}" in loaded.rng:
            torch.cuda.set_rng_state(loaded.rng[f"cuda.rank{world.rank}"])
        step = int(state["step"])
        start = restore_positions(state, config, world, len(urls), log)
        log.message(f"resumed from {checkpoint} at step {step}")
    trained = model
    if world.world_size > 1 and not fsdp:
        trained = torch.nn.parallel.DistributedDataParallel(model, device_ids=[world.device.index] if world.device.type == "cuda" else None)
    loader = make_loader(urls, config.data, world.rank, world.world_size, start, skeletons=config.model.pose_maps,
                         pin_memory=world.device.type == "cuda", cached=cache is not None)  # fmt: skip
    positions = {int(w): list(p) for w, p in start.items()}
    skipped: dict[int, int] = {}
    n_trainable = sum(p.numel() for p in params.values())
    log.message(f"training {n_trainable / 1e6:.2f}M of {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M "
                f"parameters on {world.world_size} x {world.device.type}{' (FSDP)' if fsdp else ''}, {len(urls)} shards, steps {step} -> {tc.steps}")  # fmt: skip
    validation = held_out_inputs(val_data, config, codec, text, world.device) if val_data else None
    batches, loss_value = iter(loader), float("nan")
    window_start, window_samples, data_wait = time.perf_counter(), 0, 0.0
    window_loss, window_steps = torch.zeros((), device=world.device), 0  # the logged loss: a mean since the last log
    model.train()
    while step < tc.steps:
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, tc)
        total = torch.zeros((), device=world.device)
        for micro in range(tc.grad_accum):
            waited = time.perf_counter()
            batch = next(batches)
            data_wait += time.perf_counter() - waited
            positions[batch["worker"]] = [batch["epoch"], batch["index"] + 1]
            skipped[batch["worker"]] = batch["skipped"]
            sync = micro == tc.grad_accum - 1 or world.world_size == 1
            if fsdp:
                set_gradient_sync(trained, sync)
            with contextlib.nullcontext() if sync or fsdp else trained.no_sync():
                loss = training_loss(trained, codec, to_device(batch, world.device), config,
                                     step_generator(tc.seed, world.rank, step, micro), text,
                                     step_generator(tc.seed, world.rank, step, micro, DROPOUT_STREAM)) / tc.grad_accum  # fmt: skip
                loss.backward()
            total += loss.detach()
            window_samples += len(batch["key"]) * world.world_size
        grad_norm = full_tensor(torch.nn.utils.clip_grad_norm_(list(params.values()), tc.grad_clip))
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        ema.update(params)
        step += 1
        window_loss += total
        window_steps += 1
        if step % tc.log_every == 0 or step == tc.steps:
            loss_value = mean_over_ranks(window_loss.item() / window_steps, world)  # the only host sync of a step
            elapsed = time.perf_counter() - window_start
            log.scalars(step, tc.steps, {
                "loss": loss_value, "lr": optimizer.param_groups[0]["lr"], "grad_norm": float(grad_norm),
                "samples_per_s": window_samples / elapsed, "data_wait": data_wait / elapsed,
                "skipped": float(sum(skipped.values())),
            })  # fmt: skip
            window_start, window_samples, data_wait = time.perf_counter(), 0, 0.0
            window_loss, window_steps = torch.zeros((), device=world.device), 0
        if validation is not None and ((tc.val_every and step % tc.val_every == 0) or step == tc.steps):
            log.scalars(step, tc.steps, {"val_loss": validation_loss(model, validation, config)})
        if step % tc.checkpoint_every == 0 or step == tc.steps:
            path = _save(out, step, model, ema, optimizer, positions, config, world, len(urls), base, loss_value, fsdp)
            if path is not None:
                log.message(f"saved {path}")
    if world.world_size > 1:
        dist.barrier()  # the last checkpoint is complete before any rank returns
    return {"step": step, "loss": loss_value, "checkpoint": str(latest_checkpoint(out)), "rank": world.rank}


def restore_optimizer(model, optimizer, saved: dict, fsdp: bool, checkpoint: Path) -> None:
    """AdamW state from a checkpoint: keyed by parameter names (any layout, sharded or not), or
    torch's index-keyed state of checkpoints written before names (only without FSDP)."""
    try:
        if names_keyed(saved):
            load_optimizer_state(model, optimizer, saved)
        elif fsdp:
            raise ValueError("its state is index-keyed (an older checkpoint); resume it with train.fsdp: false")
        else:
            optimizer.load_state_dict(saved)
    except (ValueError, KeyError, RuntimeError) as error:
        raise ValueError(f"checkpoint {checkpoint}: optimizer.pt does not fit this model ({str(error).splitlines()[0][:300]})") from None


def _save(out, step, model, ema, optimizer, positions, config, world, num_shards, base, loss, fsdp) -> Path | None:
    """Rank 0 writes full tensors; under FSDP every rank takes part in gathering them."""
    all_positions = gather({str(w): p for w, p in positions.items()}, world)
    rng = {f"cpu.rank{r}": s for r, s in enumerate(gather(torch.get_rng_state(), world))}
    if world.device.type == "cuda":
        rng.update({f"cuda.rank{r}": s.cpu() for r, s in enumerate(gather(torch.cuda.get_rng_state(), world))})
    trained_names = None if base is None else {n for n, p in model.named_parameters() if p.requires_grad}
    if fsdp:
        weights, averaged = full_model_state(model, trained_names), full_tensors(ema.state_dict())
        optimizer_saved = optimizer_state(model, optimizer)
    elif world.rank == 0:
        weights = {n: t for n, t in model.state_dict().items() if trained_names is None or n in trained_names}
        averaged, optimizer_saved = ema.state_dict(), optimizer_state(model, optimizer)
    if world.rank != 0:
        return None
    state = {
        "base": str(base) if base is not None else None, "loss": loss,
        "data": {"world_size": world.world_size, "num_workers": config.data.num_workers, "num_shards": num_shards,
                 "positions": all_positions},
    }  # fmt: skip
    return save_checkpoint(out, step, weights, averaged, optimizer_saved, rng, state, keep=config.train.keep_checkpoints)
