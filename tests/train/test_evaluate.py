"""`worldclips eval`: condition effects are exactly zero for conditions a model cannot see and
appear for one it can; image metrics match hand computation; the command writes its report."""

import json
import math

import numpy as np
import torch

from worldclips.cli import main
from worldclips.train.build import random_transformer
from worldclips.train.config import replace
from worldclips.train.evaluate import condition_effects, image_metrics
from worldclips.train.model import ConditionedWan
from worldclips.train.trainer import train
from tests.train.test_guidance import Z, _inputs


def test_effects_are_zero_for_unseen_conditions_and_appear_for_a_used_one(tiny):
    torch.manual_seed(0)
    model = ConditionedWan(random_transformer(tiny.model), tiny.model).eval()
    inputs = _inputs(tiny, batch=5, seed=2)
    inputs = type(inputs)(inputs.latents, inputs.cond, inputs.plucker, inputs.joints, None)
    report = condition_effects(model, inputs, tiny.model, Z, noise_levels=(0.5,), chunk=2,
                               conditions=("first_frame", "camera", "depth", "pose_maps", "pose_tokens"))  # fmt: skip
    for name, row in report["0.5"]["conditions"].items():  # every new input layer starts at zero
        assert row["shuffled"]["mean_delta"] == 0.0 and row["zeroed"]["mean_delta"] == 0.0, name
    with torch.no_grad():  # now the camera adapter's output layer is live
        model.transformer.patch_embedding.camera.out.weight.normal_(0.0, 0.5)
    report = condition_effects(model, inputs, tiny.model, Z, noise_levels=(0.5,), chunk=2,
                               conditions=("camera", "depth"))  # fmt: skip
    camera, depth = report["0.5"]["conditions"]["camera"], report["0.5"]["conditions"]["depth"]
    assert camera["zeroed"]["mean_delta"] != 0.0 and camera["shuffled"]["stderr"] > 0
    assert depth["zeroed"]["mean_delta"] == 0.0 and depth["shuffled"]["mean_delta"] == 0.0


def test_image_metrics_match_hand_computation():
    rng = np.random.default_rng(0)
    truth = rng.integers(20, 200, size=(3, 32, 32, 3)).astype(np.uint8)
    people = np.zeros((3, 32, 32), bool)
    people[:, 8:20, 8:20] = True
    shifted = truth.copy()
    shifted[people] += 10  # only the persons differ, by 10 levels
    metrics = image_metrics(shifted, truth, people)
    assert math.isclose(metrics["persons"]["psnr"], 20 * math.log10(255 / 10), abs_tol=1e-3)
    assert metrics["background"]["psnr"] == 120.0 and math.isclose(metrics["background"]["ssim"], 1.0, abs_tol=0.02)
    whole = 10 * math.log10(1 / ((10 / 255) ** 2 * people.mean()))
    assert math.isclose(metrics["frame"]["psnr"], whole, abs_tol=1e-3)
    assert metrics["persons"]["ssim"] < 1.0


def test_eval_command_writes_a_report(dataset, tiny, tmp_path, capsys):
    run = tmp_path / "run"
    train(str(dataset), replace(tiny, train={"steps": 2}), run, tensorboard=False)
    out = tmp_path / "eval.json"
    args = ["eval", "--checkpoint", str(run), "--data", str(dataset), "--out", str(out), "--clips", "4",
            "--noise-levels", "0.3,0.9", "--samples", "1", "--steps", "2"]  # fmt: skip
    assert main(args) == 0
    report = json.loads(out.read_text())
    assert report["clips"] == 4 and set(report["effects"]) == {"0.3", "0.9"}
    assert set(report["effects"]["0.3"]["conditions"]) == {"first_frame", "camera", "depth", "pose_maps", "pose_tokens"}
    sample = report["samples"][0]
    assert sample["frames_scored"] == tiny.data.frames - 1 and sample["frame"]["psnr"] > 0
    printed = capsys.readouterr().out
    assert "camera" in printed and "wrote" in printed
    assert main(args[:-6] + ["--clips", "1"]) == 2  # one clip cannot be shuffled: one-line error
