"""Trainer throughput: loader samples/s against what a training step consumes, and on a GPU the
step time, tokens/s and model FLOPs utilisation of a Wan-1.3B-sized random config.

Usage: python bench/train.py [--data DIR] [--config tiny] [--workers 0 2] [--batches 20]
                             [--gpu-config wan-1.3b] [--gpu-steps 10] [--skip-cpu] [--skip-gpu]

CPU part (always): shards from --data, or made here by `worldclips generate` (--clips, --frames,
--size); the loader (decode, crop, resize, skeleton maps) is timed over --batches batches for each
--workers count, then full training steps of --config (VAE encoding of the target and condition
videos, forward, backward, AdamW, EMA) on one loader batch. The ratio says whether the loader
keeps up with the model here.

GPU part (when CUDA is available): the --gpu-config model (random weights, bf16 autocast, AdamW,
gradient checkpointing as configured) on random latents and conditions at its data size (480x832
x 33 frames for wan-1.3b: 9 x 30 x 52 = 14040 tokens), after warm-up steps. Model FLOPs count the
transformer's matmuls and attention (forward x 3 for forward + backward, recomputation not
counted); MFU divides by the device's dense bf16 peak (--peak-tflops, or 989 for H100 / H200).
The frozen VAE encoding of the four videos a real step needs (target, depth, skeleton, first
frame) is timed separately. --gpu-dry-run runs the GPU code on the CPU with a small model to check it.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

# This script is bench/train.py: keep its folder off the import path so that `train` is the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from worldclips.train.conditions import ModelInputs, model_inputs, to_device  # noqa: E402
from worldclips.train.config import RunConfig, load_config, replace  # noqa: E402
from worldclips.train.latent_cache import encode_dataset  # noqa: E402
from worldclips.train.loader import make_loader  # noqa: E402
from worldclips.train.model import trainable_parameters  # noqa: E402
from worldclips.train.optim import EMA, make_optimizer  # noqa: E402
from worldclips.train.sources import shard_urls  # noqa: E402
from worldclips.train.trainer import build_model, inputs_loss, step_generator  # noqa: E402

PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}


def make_dataset(out: Path, clips: int, frames: int, size: str) -> Path:
    command = [sys.executable, "-m", "worldclips", "generate", "--out", str(out), "--clips", str(clips),
               "--frames", str(frames), "--size", size, "--clips-per-shard", "4", "--quiet"]  # fmt: skip
    subprocess.run(command, check=True)
    return out


def loader_rate(urls: list[str], config: RunConfig, workers: int, batches: int, cached: bool = False) -> tuple[float, dict]:
    data = replace(config, data={"num_workers": workers}).data
    iterator = iter(make_loader(urls, data, skeletons=config.model.pose_maps, cached=cached))
    first = next(iterator)  # worker start-up and shuffle-buffer fill are not counted
    started = time.perf_counter()
    samples = sum(len(next(iterator)["key"]) for _ in range(batches))
    return samples / (time.perf_counter() - started), first


def step_rate(config: RunConfig, batch: dict, steps: int, device: torch.device, cached: bool = False) -> float:
    """Samples/s of full training steps on one batch; ``cached``: the VAE encoding done once
    beforehand, as a latent cache (train.latent_cache) gives it."""
    model, codec = build_model(config, None)
    model.to(device).train()
    codec.to(device)
    params = trainable_parameters(model)
    optimizer, ema = make_optimizer(params, config.train), EMA(params, config.train.ema_decay)
    batch = to_device(batch, device)
    if cached:
        with torch.no_grad():
            encoded = model_inputs(batch, codec, config.model)

    def step(i: int) -> None:
        inputs = encoded if cached else model_inputs(batch, codec, config.model)
        loss = inputs_loss(model, inputs, config, step_generator(0, 0, i))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        ema.update(params)

    step(0)
    times = []
    for i in range(steps):  # the median step: robust to bursts of other load on a shared machine
        started = time.perf_counter()
        step(i + 1)
        times.append(time.perf_counter() - started)
    return len(batch["key"]) / statistics.median(times)


def cpu_part(args) -> None:
    config = load_config(args.config)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(args.data) if args.data else make_dataset(Path(tmp) / "data", args.clips, args.frames, args.size)
        urls = shard_urls(data)
        d = config.data
        print(f"CPU ({os.cpu_count()} cores, {torch.get_num_threads()} torch threads, load average "
              f"{os.getloadavg()[0]:.1f} before the bench): data {data} "
              f"({len(urls)} shards); batches of {d.batch_size} x {d.frames} frames at {d.width}x{d.height}")  # fmt: skip
        batch, rates = None, {}
        for workers in args.workers:
            rates[workers], batch = loader_rate(urls, config, workers, args.batches)
            print(f"  loader, {workers} workers: {rates[workers]:.1f} samples/s")
        if args.loader_only:
            return
        consumed = step_rate(config, batch, args.steps, torch.device("cpu"))
        print(f"  training step ({args.config}, VAE encode + forward + backward + AdamW + EMA): {consumed:.1f} samples/s")
        best = max(rates, key=rates.get)
        print(f"  loader / step consumption: {rates[best] / consumed:.2f} (best loader: {best} workers)")
        cached = step_rate(config, batch, args.steps, torch.device("cpu"), cached=True)
        cache_dir = Path(tmp) / "latents"
        encode_dataset(str(data), config, build_model(config, None)[1], cache_dir, progress=lambda line: None)
        cache_rate, _ = loader_rate(shard_urls(cache_dir), config, 0, args.batches, cached=True)
        print(f"  with the latent cache (`worldclips encode`): step {cached:.1f} samples/s ({cached / consumed:.1f}x), "
              f"cache loader (0 workers) {cache_rate:.1f} samples/s")


def transformer_flops(config: RunConfig, tokens: int, context: int) -> float:
    """Forward matmul + attention FLOPs of the transformer blocks for one sample."""
    m = config.model
    dim, ffn = m.num_heads * m.head_dim, m.ffn_dim
    per_layer = (8 * tokens * dim * dim + 4 * tokens * tokens * dim  # self-attention: q, k, v, o; scores, values
                 + 4 * tokens * dim * dim + 4 * context * dim * dim + 4 * tokens * context * dim  # cross-attention
                 + 4 * tokens * dim * ffn)  # fmt: skip
    return m.num_layers * per_layer


def random_inputs(model, config: RunConfig, device, generator) -> tuple[ModelInputs, tuple]:
    d = config.data
    z, latent = model.transformer.config.in_channels, (1 + (d.frames - 1) // 4, d.height // 8, d.width // 8)
    b, persons = d.batch_size, d.max_persons
    joints = (torch.randn(b, persons, d.frames, 55, 3, generator=generator).to(device) + 3.0,
              torch.ones(b, persons, 55, dtype=torch.bool, device=device), torch.ones(b, persons, dtype=torch.bool, device=device))  # fmt: skip
    inputs = ModelInputs(
        latents=torch.randn(b, z, *latent, generator=generator).to(device),
        cond=torch.randn(b, model.cond_channels, *latent, generator=generator).to(device),
        plucker=torch.randn(b, 24, *latent, generator=generator).to(device) if config.model.camera else None,
        joints=joints if config.model.pose_tokens else None,
    )
    return inputs, latent


def gpu_part(args, device: torch.device) -> None:
    config = load_config(args.gpu_config)
    if args.gpu_dry_run:  # the same code path with a model and clip small enough for a CPU
        config = replace(config, data={"frames": 5, "height": 64, "width": 64}, model={
            "num_layers": 2, "num_heads": 2, "head_dim": 32, "ffn_dim": 128, "text_dim": 32, "text_len": 16,
            "vae_base_dim": 8, "vae_z_dim": 4, "vae_dim_mult": (1, 1, 1, 1), "vae_num_res_blocks": 1})  # fmt: skip
    model, codec = build_model(config, None)
    model.to(device).train()
    codec.to(device, dtype=torch.bfloat16 if device.type == "cuda" else torch.float32)
    codec.mean.data, codec.std.data = codec.mean.float(), codec.std.float()
    params = trainable_parameters(model)
    optimizer, ema = make_optimizer(params, config.train), EMA(params, config.train.ema_decay)
    generator = torch.Generator().manual_seed(0)
    inputs, latent = random_inputs(model, config, device, generator)
    d, sync = config.data, (torch.cuda.synchronize if device.type == "cuda" else (lambda: None))
    tokens = latent[0] * (latent[1] // 2) * (latent[2] // 2)
    context = config.model.text_len + (d.max_persons * latent[0] if config.model.pose_tokens else 0)

    def step(i: int) -> None:
        inputs_loss(model, inputs, config, step_generator(0, 0, i)).backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), config.train.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        ema.update(params)

    for i in range(args.gpu_warmup):
        step(i)
    sync()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    for i in range(args.gpu_steps):
        step(args.gpu_warmup + i)
    sync()
    step_s = (time.perf_counter() - started) / args.gpu_steps
    video = torch.rand(4 * d.batch_size, 3, d.frames, d.height, d.width, generator=generator).to(device) * 2 - 1
    codec.encode(video[:1])
    sync()
    started = time.perf_counter()
    codec.encode(video)
    sync()
    vae_s = time.perf_counter() - started
    flops = 3 * transformer_flops(config, tokens, context) * d.batch_size
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    peak = args.peak_tflops or next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"GPU ({name}, {datetime.date.today()}): {args.gpu_config} random init, {n_params / 1e9:.2f}B parameters, "
          f"batch {d.batch_size} x {d.frames} frames at {d.width}x{d.height} = {tokens} tokens per sample"
          f"{', gradient checkpointing' if config.model.gradient_checkpointing else ''}")  # fmt: skip
    print(f"  step (forward + backward + AdamW + EMA{', bf16 autocast' if device.type == 'cuda' else ''}): {step_s * 1000:.0f} ms, "
          f"{tokens * d.batch_size / step_s:.0f} tokens/s, {flops / step_s / 1e12:.1f} model TFLOP/s"
          + (f", MFU {flops / step_s / (peak * 1e12):.1%} of {peak:.0f} TFLOP/s" if peak else ""))  # fmt: skip
    if device.type == "cuda":
        print(f"  peak memory {torch.cuda.max_memory_allocated(device) / 2**30:.1f} GiB")
    print(f"  VAE encode of the 4 videos of a step (bf16, no grad): {vae_s * 1000:.0f} ms "
          f"({vae_s / (vae_s + step_s):.0%} of a step that encodes on the fly)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="dataset directory (default: generate one in a temporary directory)")
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--size", default="128x128")
    parser.add_argument("--config", default="tiny", help="config of the CPU part (preset or YAML)")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    parser.add_argument("--batches", type=int, default=100, help="loader batches timed per worker count")
    parser.add_argument("--steps", type=int, default=10, help="training steps timed on the CPU")
    parser.add_argument("--threads", type=int, help="torch threads of the CPU part (default: torch's choice)")
    parser.add_argument("--gpu-config", default="wan-1.3b")
    parser.add_argument("--gpu-steps", type=int, default=10)
    parser.add_argument("--gpu-warmup", type=int, default=3)
    parser.add_argument("--peak-tflops", type=float, help="dense bf16 peak of the GPU (default: by name)")
    parser.add_argument("--gpu-dry-run", action="store_true", help="check the GPU part on the CPU (small model, 64x64 x 5 frames)")
    parser.add_argument("--loader-only", action="store_true", help="CPU part: time the loader, not the model")
    parser.add_argument("--skip-cpu", action="store_true")
    parser.add_argument("--skip-gpu", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if not args.skip_cpu:
        cpu_part(args)
    if args.skip_gpu:
        return
    if torch.cuda.is_available():
        gpu_part(args, torch.device("cuda"))
    elif args.gpu_dry_run:
        gpu_part(args, torch.device("cpu"))
    else:
        print("GPU: no CUDA device here; run this script on a GPU machine to record step time, tokens/s and MFU")


if __name__ == "__main__":
    main()
