"""Does a model trained with the bundled trainer use its 3D conditions? The ablation tables.

Usage: python bench/conditioning.py [--out /tmp/worldclips-conditioning] [--clips 256] [--steps 1500]
                                    [--size 128x128] [--tasks camera,pose]

Two learnability tasks, each a ``worldclips generate`` config of its own (``--clips`` training
clips and 32 held-out clips of another seed), trained on the latent cache with the tiny
architecture widened (4 layers, camera adapter 64), then ``worldclips eval`` on the held-out clips:
the loss with each condition true, shuffled across clips and zeroed, at noise levels 0.5, 0.75
and 1 (pure noise: everything after the first frame must come from the conditions).

- camera: the camera is the only cause of change. One person standing still among 6-8 props, in
  a room or on open ground, filmed by pan/tilt cameras turning tens of degrees
  (``scene.pan_tilt_swing: 5``); the model gets the first frame, the camera's Plücker rays and
  the first frame reprojected into every frame (``train.cond.reprojection``). Shuffling the
  camera gives clip b clip b+1's camera motion from its own first camera: rays and reprojection.
- pose: the person is the only cause of change. A static camera with a narrower field of view
  (28-32 degrees, so that the person covers more latent cells) films one person walking slowly
  (0.5-0.9 m/s, staying in frame); the model gets the first frame (also reprojected: repeated,
  the camera being static), the skeleton maps, the pose grid (``train.cond.pose_grid``) and the
  3D joint tokens.

A pathway check trains the same architecture on targets that are a fixed linear function of real
Plücker maps (only the camera explains them). The README's "Does it use the conditions" figures
come from here; each task takes a few minutes on two CPU cores.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

from worldclips.train.build import random_transformer
from worldclips.train.conditions import ModelInputs
from worldclips.train.config import load_config
from worldclips.train.decode import decode_cached
from worldclips.train.evaluate import condition_effects, effects_table
from worldclips.train.flow import flow_loss
from worldclips.train.model import ConditionedWan
from worldclips.train.shard_stream import shard_samples
from worldclips.train.sources import shard_urls

PLACE = {"characters": [1, 1], "props": [6, 8], "fov_deg": [40, 50]}
TASKS = {
    "camera": (
        {**PLACE, "camera_families": ["pan_tilt"], "pan_tilt_swing": 5.0, "motions": {"idle": 1.0}},
        {"first_frame": True, "camera": True, "reprojection": True, "pose_maps": False, "pose_grid": False, "pose_tokens": False},
    ),
    "pose": (
        {**PLACE, "camera_families": ["static"], "motions": {"walk": 1.0}, "fov_deg": [28, 32], "walk_speed": [0.5, 0.9]},
        {"first_frame": True, "camera": False, "reprojection": True, "pose_maps": True, "pose_grid": True, "pose_tokens": True},
    ),
}
ARCHITECTURE = {"depth": "none", "num_layers": 4, "head_dim": 16, "num_heads": 2, "ffn_dim": 64, "camera_hidden": 64,
                "drop_first_frame": 0.0, "drop_camera": 0.1, "drop_reprojection": 0.0, "drop_depth": 0.0, "drop_pose_maps": 0.1,
                "drop_pose_grid": 0.1, "drop_pose_tokens": 0.1, "drop_text": 0.0}  # fmt: skip
NOISE_LEVELS = "0.5,0.75,1.0"


def worldclips(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "worldclips", *args], check=True)


def write_yaml(path: Path, values: dict) -> Path:
    path.write_text(json.dumps(values, indent=1))  # JSON is YAML
    return path


def run_task(out: Path, name: str, clips: int, steps: int, size: str) -> dict:
    """Data, latent cache, training and eval of one task (steps already done are kept)."""
    scene, conditions = TASKS[name]
    width, height = (int(v) for v in size.split("x"))
    data = {"frames": 17, "fps": 6.0, "size": size, "clips_per_shard": 32, "scene": scene}
    for split, seed, count in (("train", 100, clips), ("held", 900, 32)):
        if not (out / f"{name}-{split}" / "manifest.json").is_file():
            config = write_yaml(out / f"{name}-{split}.yaml", {**data, "clips": count, "seed": seed})
            worldclips("generate", "--config", str(config), "--out", str(out / f"{name}-{split}"), "--quiet")
    config = write_yaml(out / f"{name}.yaml", {
        "preset": "tiny", "data": {"frames": 9, "height": height, "width": width, "batch_size": 8, "strides": [2]},
        "model": {**ARCHITECTURE, **conditions},
        "train": {"steps": steps, "lr": 1e-3, "warmup_steps": 50, "log_every": 250, "checkpoint_every": 10**6},
    })  # fmt: skip
    train, latents, run = out / f"{name}-train", out / f"{name}.latents", out / f"{name}.run"
    if not (latents / "latents.json").is_file():
        worldclips("encode", "--data", str(train), "--config", str(config), "--out", str(latents), "--quiet")
    if not (run / "checkpoints" / "latest").is_file():
        worldclips("train", "--data", str(train), "--latents", str(latents), "--config", str(config), "--out", str(run),
                   "--no-tensorboard")  # fmt: skip
    report = out / f"{name}.eval.json"
    worldclips("eval", "--checkpoint", str(run), "--data", str(out / f"{name}-held"), "--out", str(report),
               "--clips", "32", "--samples", "0", "--noise-levels", NOISE_LEVELS)  # fmt: skip
    return json.loads(report.read_text())


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
    held_count = min(32, len(plucker) // 4)  # the last clips of the cache, held out
    train = len(plucker) - held_count
    empty = torch.zeros(8, model.cond_channels, *target.shape[2:])
    for _ in range(steps):
        pick = torch.randint(0, train, (8,), generator=generator)
        loss = flow_loss(lambda x, t: model(x, t, empty, plucker[pick]), target[pick], 1.0, generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    held = slice(train, None)
    inputs = ModelInputs(target[held], torch.zeros(held_count, model.cond_channels, *target.shape[2:]), plucker[held], None)
    return condition_effects(model.eval(), inputs, config, 4, noise_levels=(0.25, 0.5, 0.75), chunk=16, conditions=("camera",))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="/tmp/worldclips-conditioning")
    parser.add_argument("--clips", type=int, default=256)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--size", default="128x128")
    parser.add_argument("--tasks", default="camera,pose")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    reports = {name: run_task(out, name, args.clips, args.steps, args.size) for name in args.tasks.split(",")}
    for name, report in reports.items():
        print(f"\n{name} task ({TASKS[name][0]['camera_families'][0]} camera, {list(TASKS[name][0]['motions'])[0]}):")
        print(effects_table(report))
    if "camera" in reports:
        print("\npathway check (targets a fixed function of the Plücker maps):")
        report = pathway_check(out / "camera.yaml", out / "camera.latents", args.steps // 3)
        print(effects_table({"effects": report, "samples": []}))
    print(f"\n{time.perf_counter() - started:.0f} s in all; data, caches, runs and reports in {out}")


if __name__ == "__main__":
    main()
