"""``worldclips eval``: does a checkpoint use its 3D conditions? A JSON report and a short table.

1. Condition effects. For N held-out clips (fixed crops), fixed noise and fixed noise levels s,
   the flow-matching loss per clip with the true conditions, with one condition shuffled across
   clips (clip b gets clip b+1's, a derangement; for the camera, clip b+1's camera motion started
   from clip b's first camera, so that the rays and the reprojected first frame follow it) and
   with it zeroed (its null value, as condition dropout trains it: train.guidance). The report gives, per condition and level, the
   mean paired difference against the true loss, its standard error over clips and their ratio
   z: a model that ignores a condition shows differences of 0 (exactly 0 while its input layer is
   still zero); one that uses it, a loss that rises by many standard errors.
2. Sample metrics. For the first few clips, a clip sampled from all the conditions against the
   ground-truth video: PSNR and SSIM over the whole frame, over the persons' pixels and over
   the background (from the clip's segmentation). Frame 0 is excluded when the model is given the
   first frame (it would only measure the VAE).

3. Camera adherence (with pycolmap, ``train.camera_sfm``): the camera path recovered by
   structure from motion from each sampled clip and, as the estimator's own error floor, from
   its ground-truth video, against the ground-truth path: rotation and translation errors.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from worldclips.train.conditions import ModelInputs
from worldclips.train.flow import sample
from worldclips.train.heldout import encode_examples, first_examples, per_clip_losses, slice_inputs
from worldclips.train.guidance import drop_conditions, enabled_conditions, shuffle_condition

NOISE_LEVELS = (0.25, 0.5, 0.75)


def paired_effect(changed: torch.Tensor, true: torch.Tensor) -> dict:
    """Mean and standard error of the per-clip loss differences, and their ratio."""
    delta = (changed - true).double()
    mean = float(delta.mean())
    stderr = float(delta.std(unbiased=True) / math.sqrt(len(delta))) if len(delta) > 1 else float("nan")
    z = mean / stderr if stderr > 0 else (0.0 if mean == 0 else math.copysign(math.inf, mean))
    return {"mean_delta": mean, "stderr": stderr, "z": z}


def condition_effects(model, inputs: ModelInputs, config, latent_channels: int, noise_levels=NOISE_LEVELS,
                      seed: int = 0, chunk: int = 4, conditions: tuple[str, ...] | None = None,
                      shuffled_inputs: dict[str, ModelInputs] | None = None) -> dict:  # fmt: skip
    """Per noise level: the true loss and, per condition, the shuffled and zeroed effects.
    ``shuffled_inputs``: per condition, inputs already encoded with it shuffled (in the order
    b -> b + 1), used instead of swapping its channels (the camera: see shuffled_camera_paths)."""
    count = len(inputs.cond)
    if count < 2:
        raise ValueError("eval: needs at least 2 clips (shuffling swaps conditions between clips)")
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(inputs.latents.shape, generator=generator).to(inputs.latents.device, inputs.latents.dtype)
    order = torch.roll(torch.arange(count), -1)  # clip b gets clip b + 1's condition
    names = conditions if conditions is not None else enabled_conditions(config)
    report = {}
    for level in noise_levels:
        true = per_clip_losses(model, inputs, noise, level, chunk)
        rows = {}
        for name in names:
            shuffled = (shuffled_inputs or {}).get(name) or shuffle_condition(inputs, name, order, config, latent_channels)
            zeroed = drop_conditions(inputs, {name: torch.ones(count, dtype=torch.bool)}, config, latent_channels)
            rows[name] = {
                "shuffled": paired_effect(per_clip_losses(model, shuffled, noise, level, chunk), true),
                "zeroed": paired_effect(per_clip_losses(model, zeroed, noise, level, chunk), true),
            }
        report[f"{level:g}"] = {"loss": float(true.mean()), "loss_stderr": float(true.std() / math.sqrt(count)),
                                "conditions": rows}  # fmt: skip
    return report


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).float()


def ssim_map(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(F, 3, H, W) images in [0, 1] -> (F, H, W) SSIM (Gaussian 11x11, sigma 1.5, mean over channels)."""
    window = _gaussian_window().to(a)[None, None].repeat(3, 1, 1, 1)
    pad = window.shape[-1] // 2
    blur = lambda x: F.conv2d(F.pad(x, (pad,) * 4, mode="reflect"), window, groups=3)  # noqa: E731
    mu_a, mu_b = blur(a), blur(b)
    var_a, var_b = blur(a * a) - mu_a**2, blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2
    value = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return value.mean(1)


def image_metrics(generated: np.ndarray, truth: np.ndarray, people: np.ndarray) -> dict:
    """PSNR (dB) and SSIM of (F, H, W, 3) uint8 frames over the frame, the persons and the rest."""
    a = torch.from_numpy(generated).float().permute(0, 3, 1, 2) / 255.0
    b = torch.from_numpy(truth).float().permute(0, 3, 1, 2) / 255.0
    error = (a - b).square().mean(1)  # (F, H, W)
    similarity = ssim_map(a, b)
    masks = {"frame": torch.ones_like(error, dtype=torch.bool), "persons": torch.from_numpy(people),
             "background": ~torch.from_numpy(people)}  # fmt: skip
    out = {}
    for name, mask in masks.items():
        if not bool(mask.any()):
            out[name] = {"psnr": None, "ssim": None, "pixels": 0}
            continue
        mse = float(error[mask].mean())
        out[name] = {"psnr": 10 * math.log10(1.0 / max(mse, 1e-12)), "ssim": float(similarity[mask].mean()),
                     "pixels": int(mask.sum())}  # fmt: skip
    return out


def camera_adherence(generated: np.ndarray, example: dict) -> dict:
    """SfM camera errors of the generated frames and of the ground-truth frames (the estimator's
    floor), both (F, H, W, 3) uint8, against the example's ground-truth path."""
    from worldclips.train.camera_sfm import path_errors, recover_path

    truth, K, ignore = example["video"].transpose(0, 2, 3, 1), example["K"][0].astype(np.float64), example["person_pixels"]
    true_path, depth0 = example["cam_from_world"].astype(np.float64), example["depth"][0]
    return {name: path_errors(recover_path(np.ascontiguousarray(frames), K, ignore), true_path, depth0)
            for name, frames in (("generated", generated), ("ground_truth", truth))}  # fmt: skip


def camera_summary(samples: list[dict]) -> dict:
    """Means over the sampled clips where SfM recovered a path (rotation in degrees, translation in metres)."""
    out = {}
    for name in ("generated", "ground_truth"):
        rows = [s["camera"][name] for s in samples if "camera" in s]
        for field in ("rotation_deg", "translation_m"):
            values = [r[field] for r in rows if r[field] is not None]
            out[f"{name}.{field}"] = float(np.mean(values)) if values else None
        out[f"{name}.recovered"] = f"{sum(r['rotation_deg'] is not None for r in rows)}/{len(rows)}"
    return out


def shuffled_camera_paths(examples: list[dict]) -> list[dict]:
    """The examples with clip b filmed along clip b + 1's camera motion from its own first camera:
    cam_from_world_t = (cam_t cam_0^-1 of clip b + 1) cam_0 of clip b, intrinsics kept. Every input
    made from the camera (Plücker rays, the reprojected first frame) then follows the other path."""
    shuffled = []
    for index, example in enumerate(examples):
        other = examples[(index + 1) % len(examples)]["cam_from_world"].astype(np.float64)
        frames = min(len(other), len(example["cam_from_world"]))
        motion = other[:frames] @ np.linalg.inv(other[:1])
        path = np.array(example["cam_from_world"], dtype=np.float64)
        path[:frames] = motion @ path[:1]
        shuffled.append({**example, "cam_from_world": path.astype(example["cam_from_world"].dtype)})
    return shuffled


def evaluate(checkpoint: Path, data: str, clips: int = 16, noise_levels=NOISE_LEVELS, samples: int = 2,
             steps: int = 20, seed: int = 0, base: Path | None = None, camera_sfm: bool = True) -> dict:  # fmt: skip
    """The report (see the module docstring); writes nothing. ``camera_sfm``: also camera
    adherence by structure from motion (needs pycolmap: a clear error without it)."""
    from worldclips.train.sample import load_for_inference, to_frames
    from worldclips.train.trainer import make_text_encoder

    if camera_sfm and samples:
        from worldclips.train.camera_sfm import pycolmap_module

        pycolmap_module()  # before any work: the one-line error when it is missing
    config, model, codec, device, path, base = load_for_inference(checkpoint, base)
    text_encoder = make_text_encoder(config, base, model, device)
    examples = first_examples(data, config, clips, seed=seed, person_pixels=True)
    if len(examples) < 2:
        raise ValueError(f"--data: {data} has {len(examples)} clip(s); eval needs at least 2")
    chunk = max(1, config.data.batch_size)
    inputs = encode_examples(examples, config, codec, text_encoder, device)
    conditions = tuple(c for c in enabled_conditions(config.model) if c != "text" or text_encoder is not None)
    shuffled = {}
    if config.model.camera:
        moved = encode_examples(shuffled_camera_paths(examples), config, codec, text_encoder, device, encode_target=False)
        shuffled["camera"] = replace(moved, latents=inputs.latents)  # the same targets: only the camera's inputs differ
    report = {
        "checkpoint": str(path),
        "data": str(data),
        "clips": len(examples),
        "keys": [e["key"] for e in examples],
        "noise_levels": [float(level) for level in noise_levels],
        "seed": seed,
        "effects": condition_effects(model, inputs, config.model, codec.channels, noise_levels, seed, chunk, conditions,
                                     shuffled),
        "samples": [],
    }
    skip_first = 1 if config.model.first_frame or config.model.reprojection else 0
    for index in range(min(samples, len(examples))):
        one = slice_inputs(inputs, slice(index, index + 1))
        generator = torch.Generator().manual_seed(seed + index)
        with torch.no_grad():
            latents = sample(lambda x, t: model(x, t, one.cond, one.plucker, one.text, one.joints), tuple(one.latents.shape),
                             steps, config.train.timestep_shift, generator, device)  # fmt: skip
            generated = to_frames(codec.decode(latents)[0])
        truth = examples[index]["video"].transpose(0, 2, 3, 1)
        frames = len(truth)
        metrics = image_metrics(generated[skip_first:frames], truth[skip_first:], examples[index]["person_pixels"][skip_first:])
        report["samples"].append({"key": examples[index]["key"], "steps": steps, "frames_scored": frames - skip_first, **metrics})
        if camera_sfm:
            report["samples"][-1]["camera"] = camera_adherence(generated[:frames], examples[index])
    if camera_sfm and report["samples"]:
        report["camera"] = camera_summary(report["samples"])
    return report


def effects_table(report: dict) -> str:
    """The condition effects as text: one row per condition and noise level."""
    lines = [f"{'condition':<12} {'noise':>5}  {'shuffled: delta (stderr)':>28} {'z':>7}  {'zeroed: delta (stderr)':>28} {'z':>7}"]
    for level, row in report["effects"].items():
        lines.append(f"{'(true loss)':<12} {level:>5}  {row['loss']:>28.5f}")
        for name, effect in row["conditions"].items():
            s, z = effect["shuffled"], effect["zeroed"]
            lines.append(f"{name:<12} {level:>5}  {s['mean_delta']:>+17.5f} ({s['stderr']:.5f}) {s['z']:>7.1f}  "
                         f"{z['mean_delta']:>+17.5f} ({z['stderr']:.5f}) {z['z']:>7.1f}")  # fmt: skip
    for item in report["samples"]:
        parts = [f"{region} PSNR {m['psnr']:.2f} dB SSIM {m['ssim']:.3f}" for region in ("frame", "persons", "background")
                 if (m := item[region])["psnr"] is not None]  # fmt: skip
        lines.append(f"sample {item['key']}: " + "; ".join(parts))
        if "camera" in item:
            lines.append(f"  camera by SfM: generated {_camera_text(item['camera']['generated'])}; "
                         f"ground truth (estimator floor) {_camera_text(item['camera']['ground_truth'])}")  # fmt: skip
    return "\n".join(lines)


def _camera_text(errors: dict) -> str:
    if errors["rotation_deg"] is None:
        return f"not recovered ({errors['registered']}/{errors['frames']} frames registered)"
    translation = "n/a" if errors["translation_m"] is None else f"{errors['translation_m']:.3f} m"
    return (f"rotation {errors['rotation_deg']:.2f} deg, translation {translation} "
            f"(path {errors['path_length_m']:.2f} m, {errors['registered']}/{errors['frames']} frames)")


def write_report(report: dict, out: Path) -> None:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")

