"""Generate a clip from the conditions of one (held-out) sample with a trained run's EMA weights,
and write it beside the sample's ground truth: each frame is [generated | ground truth]."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from worldclips.train.guidance import drop_conditions, enabled_conditions, guided_velocity, parse_guidance

from worldclips.train.checkpoint import latest_checkpoint, load_checkpoint, load_model_weights
from worldclips.train.conditions import model_inputs, to_device
from worldclips.train.config import read_config
from worldclips.train.flow import sample
from worldclips.train.loader import collate, iter_examples
from worldclips.train.sources import shard_urls
from worldclips.train.trainer import CONFIG_NAME, build_model, make_text_encoder
from worldclips.shards.format.video import encode_mp4


def resolve_checkpoint(path: Path) -> tuple[Path, Path]:
    """--checkpoint RUN_DIR (its latest checkpoint) or RUN_DIR/checkpoints/step-N -> (run dir, checkpoint)."""
    path = Path(path)
    if (path / CONFIG_NAME).is_file():
        checkpoint = latest_checkpoint(path)
        if checkpoint is None:
            raise FileNotFoundError(f"--checkpoint: {path} has no checkpoint yet")
        return path, checkpoint
    if (path / "state.json").is_file() and (path.parent.parent / CONFIG_NAME).is_file():
        return path.parent.parent, path
    raise FileNotFoundError(f"--checkpoint: {path} is neither a run directory nor a checkpoint folder")


def pick_example(data: str, config, key: str | None, skeletons: bool) -> dict:
    for example in iter_examples(shard_urls(data), config.data, skeletons=skeletons):
        if key is None or example["key"] == key:
            return example
    raise ValueError(f"--key: no sample {key!r} in {data}" if key else f"--data: no samples in {data}")


def to_frames(video: torch.Tensor) -> np.ndarray:
    """(3, T, H, W) in [-1, 1] -> (T, H, W, 3) uint8."""
    return ((video.permute(1, 2, 3, 0) + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8).cpu().numpy()


def load_for_inference(checkpoint: Path, base: Path | None = None):
    """(config, model with its EMA weights in eval mode, codec, device, checkpoint path, base) of
    ``--checkpoint`` (a run directory or a checkpoint folder)."""
    run_dir, path = resolve_checkpoint(checkpoint)
    config = read_config(run_dir / CONFIG_NAME)
    loaded = load_checkpoint(path)
    if base is None and loaded.state.get("base"):
        base = Path(loaded.state["base"])
    model, codec = build_model(config, base)
    load_model_weights(model, loaded.model, partial=base is not None, where=str(path))
    parameters = dict(model.named_parameters())
    for name, value in loaded.ema.items():  # sample with the EMA weights
        if name not in parameters:
            raise ValueError(f"checkpoint {path}: EMA weight {name} does not belong to this model")
        parameters[name].data.copy_(value)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.train(False).to(device)
    codec.to(device)
    return config, model, codec, device, path, base


def sample_clip(checkpoint: Path, data: str, out: Path, key: str | None = None, steps: int = 20,
                seed: int = 0, base: Path | None = None, guidance: str = "", without: str = "") -> dict:  # fmt: skip
    """Write out (mp4, [generated | ground truth] per frame); returns {"key", "checkpoint", "frames"}.

    guidance: classifier-free guidance groups, "camera=3,depth+pose_maps=2" (train.guidance);
    without: conditions dropped for the whole sampling, e.g. "first_frame"."""
    config, model, codec, device, path, base = load_for_inference(checkpoint, base)
    groups = parse_guidance(guidance, config.model)
    dropped = [name.strip() for name in without.split(",") if name.strip()]
    for name in dropped:
        if name not in enabled_conditions(config.model):
            raise ValueError(f"--without: {name!r} is not a condition of this model "
                             f"(expected some of {', '.join(enabled_conditions(config.model))})")  # fmt: skip
    both = sorted({name for group, _ in groups for name in group} & set(dropped))
    if both:
        raise ValueError(f"--guidance: {both[0]} is also in --without (guidance on a condition that is off does nothing)")
    example = pick_example(data, config, key, config.model.pose_maps)
    batch = collate([example])
    inputs = model_inputs(to_device(batch, device), codec, config.model, encode_target=False,
                          text_encoder=make_text_encoder(config, base, model, device))  # fmt: skip
    _, _, frames, height, width = batch["video"].permute(0, 2, 1, 3, 4).shape
    shape = (1, codec.channels, 1 + (frames - 1) // 4, height // codec.spatial, width // codec.spatial)
    inputs = drop_conditions(inputs, {name: torch.ones(1, dtype=torch.bool) for name in dropped}, config.model, codec.channels)

    def predict(x, t, given):
        return model(x, t, given.cond, given.plucker, given.text, given.joints)

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        latents = sample(lambda x, t: guided_velocity(predict, inputs, groups, config.model, codec.channels, x, t),
                         shape, steps, config.train.timestep_shift, generator, device)  # fmt: skip
        generated = to_frames(codec.decode(latents)[0])
    truth = batch["video"][0].permute(0, 2, 3, 1).numpy()
    side_by_side = np.concatenate([generated[: len(truth)], truth], axis=2)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(encode_mp4(side_by_side, float(batch["fps"][0])))
    return {"key": example["key"], "checkpoint": str(path), "frames": int(len(truth))}
