"""Does a model trained with the bundled trainer use its 3D conditions? The ablation table.

Usage: python bench/conditioning.py [--out /tmp/conditioning] [--clips 256] [--steps 1500]
                                    [--size 64x64] [--fps 6] [--config FILE.yaml]

1. Data: ``worldclips generate`` of a scene built so that the camera is the main cause of change
   (one person standing, 6-8 props, orbit / dolly / pan-tilt cameras), ``--clips`` training clips
   and 32 held-out clips (another seed); ``worldclips encode`` caches their latents.
2. Two runs of the tiny architecture widened (4 layers, camera adapter 64; the config is written
   beside the data): with the first frame, and without it (the model then has to draw the scene
   from the camera and the noisy input alone).
3. ``worldclips eval`` of each on the held-out clips: the loss with each condition true, shuffled
   across clips and zeroed, at noise levels 0.25, 0.5 and 0.75, with standard errors.
4. A pathway check: the same architecture trained on targets that are a fixed linear function of
   real Plücker maps (only the camera explains them), evaluated the same way.

It prints the tables (the README's "Does it use the conditions" figures come from here). Each
run trains on the latent cache: a few minutes on two CPU cores for the defaults.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

from worldclips.train.conditions import ModelInputs
from worldclips.train.config import load_config
from worldclips.train.decode import decode_cached
from worldclips.train.evaluate import condition_effects, effects_table
from worldclips.train.flow import flow_loss
from worldclips.train.model import ConditionedWan
from worldclips.train.build import random_transformer
from worldclips.train.shard_stream import shard_samples
from worldclips.train.sources import shard_urls

SCENE = {"characters": [1, 1], "props": [6, 8], "camera_families": ["orbit", "dolly", "pan_tilt"], "motions": {"idle": 1.0}}
MODEL = {"depth": "none", "pose_maps": False, "pose_tokens": False, "camera": True, "num_layers": 4, "head_dim": 16,
         "num_heads": 2, "ffn_dim": 64, "camera_hidden": 64, "drop_first_frame": 0.0, "drop_camera": 0.1,
         "drop_depth": 0.0, "drop_pose_maps": 0.0, "drop_pose_tokens": 0.0, "drop_text": 0.0}  # fmt: skip


def worldclips(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "worldclips", *args], check=True)


def write_yaml(path: Path, values: dict) -> Path:
    path.write_text(json.dumps(values, indent=1))  # JSON is YAML
    return path


def pathway_check(config_file: Path, latents: Path, steps: int) -> dict:
    """Targets = a fixed linear map of real Plücker maps; the camera is the only explanation."""
    config = load_config(config_file).model
    plucker = torch.stack([torch.from_numpy(decode_cached(s)["plucker"]) for s in shard_samples(shard_urls(str(latents)))])
    generator = torch.Generator().manual_seed(0)
    mix = torch.randn(4, plucker.shape[1], generator=generator) / plucker.shape[1] ** 0.5
    target = torch.einsum("zc,nctij->nztij", mix, plucker)
    target = (target - target.mean()) / target.std()
    torch.manual_seed(0)
    model = ConditionedWan(random_transformer(config), config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    train = len(plucker) - 32
    empty = torch.zeros(8, model.cond_channels, *target.shape[2:])
    for _ in range(steps):
        pick = torch.randint(0, train, (8,), generator=generator)
        loss = flow_loss(lambda x, t: model(x, t, empty, plucker[pick]), target[pick], 1.0, generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    held = slice(train, None)
    inputs = ModelInputs(target[held], torch.zeros(32, model.cond_channels, *target.shape[2:]), plucker[held], None)
    return condition_effects(model.eval(), inputs, config, 4, noise_levels=(0.25, 0.5, 0.75), chunk=16, conditions=("camera",))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="/tmp/worldclips-conditioning")
    parser.add_argument("--clips", type=int, default=256)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--size", default="64x64")
    parser.add_argument("--fps", type=float, default=6.0)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    data = {"frames": 17, "fps": args.fps, "size": args.size, "clips_per_shard": 32, "scene": SCENE}
    for name, seed, clips in (("train", 100, args.clips), ("held", 900, 32)):
        if not (out / name / "manifest.json").is_file():
            config = write_yaml(out / f"{name}.yaml", {**data, "clips": clips, "seed": seed})
            worldclips("generate", "--config", str(config), "--out", str(out / name), "--quiet")
    width, height = (int(v) for v in args.size.split("x"))
    for first_frame in (True, False):
        tag = "with-first-frame" if first_frame else "without-first-frame"
        config = write_yaml(out / f"{tag}.yaml", {
            "preset": "tiny", "data": {"frames": 9, "height": height, "width": width, "batch_size": 8, "strides": [2]},
            "model": {**MODEL, "first_frame": first_frame},
            "train": {"steps": args.steps, "lr": 1e-3, "warmup_steps": 50, "log_every": 250, "checkpoint_every": 10**6},
        })  # fmt: skip
        latents, run = out / f"{tag}.latents", out / f"{tag}.run"
        if not (latents / "latents.json").is_file():
            worldclips("encode", "--data", str(out / "train"), "--config", str(config), "--out", str(latents), "--quiet")
        if not (run / "checkpoints" / "latest").is_file():
            worldclips("train", "--data", str(out / "train"), "--latents", str(latents), "--config", str(config),
                       "--out", str(run), "--no-tensorboard")  # fmt: skip
        worldclips("eval", "--checkpoint", str(run), "--data", str(out / "held"), "--out", str(out / f"{tag}.eval.json"),
                   "--clips", "32", "--samples", "0")  # fmt: skip
    print("\npathway check (targets a fixed function of the Plücker maps):")
    report = pathway_check(out / "without-first-frame.yaml", out / "without-first-frame.latents", args.steps // 3)
    print(effects_table({"effects": report, "samples": []}))
    print(f"\n{time.perf_counter() - started:.0f} s in all; data, caches, runs and reports in {out}")


if __name__ == "__main__":
    main()
