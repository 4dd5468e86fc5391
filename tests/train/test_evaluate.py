"""`worldclips eval`: condition effects are exactly zero for conditions a model cannot see and
appear for one it can; image metrics match hand computation; the command writes its report."""

import json
import math

import numpy as np
import torch

from worldclips.cli import main
from worldclips.train.build import random_transformer
from worldclips.train.config import replace
from worldclips.train.evaluate import condition_effects, image_metrics, shuffled_camera_paths
from worldclips.train.model import ConditionedWan
from worldclips.train.trainer import train
from tests.train.test_guidance import Z, _inputs


def test_effects_are_zero_for_unseen_conditions_and_appear_for_a_used_one(tiny):
    torch.manual_seed(0)
    model = ConditionedWan(random_transformer(tiny.model), tiny.model).eval()
    inputs = _inputs(tiny, batch=5, seed=2)
    inputs = type(inputs)(inputs.latents, inputs.cond, inputs.plucker, inputs.joints, None)
    report = condition_effects(model, inputs, tiny.model, Z, noise_levels=(0.5,), chunk=2,
                               conditions=("first_frame", "camera", "depth", "pose_maps", "pose_grid", "pose_tokens"))  # fmt: skip
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
    assert set(report["effects"]["0.3"]["conditions"]) == {"first_frame", "camera", "reprojection", "depth", "pose_maps", "pose_grid", "pose_tokens"}
    sample = report["samples"][0]
    assert sample["frames_scored"] == tiny.data.frames - 1 and sample["frame"]["psnr"] > 0
    camera = sample["camera"]  # SfM on 32x32 frames of a 2-step model: reported, recovered or not
    assert camera["ground_truth"]["frames"] == camera["generated"]["frames"] == tiny.data.frames
    assert set(report["camera"]) >= {"generated.rotation_deg", "ground_truth.recovered"}
    printed = capsys.readouterr().out
    assert "camera by SfM: generated" in printed and "wrote" in printed
    assert main(args[:-6] + ["--clips", "1"]) == 2  # one clip cannot be shuffled: one-line error


def _orbit_cameras(count: int, frames: int, generator: torch.Generator):
    """K (count, frames, 3, 3) and cam_from_world (count, frames, 4, 4) of random orbits around the origin."""
    from worldclips.motions.conventions import look_at_cam_from_world

    K = torch.tensor([[40.0, 0.0, 31.5], [0.0, 40.0, 31.5], [0.0, 0.0, 1.0]]).expand(count, frames, 3, 3)
    poses = []
    for _ in range(count):
        start, speed, radius, height = (torch.rand(4, generator=generator) * torch.tensor([6.3, 0.6, 3.0, 2.0])).tolist()
        angles = start + (speed - 0.3) * torch.arange(frames).float()
        eyes = [((radius + 2) * math.cos(a), (radius + 2) * math.sin(a), 0.5 + height) for a in angles.tolist()]
        poses.append(np.stack([look_at_cam_from_world(np.array(e), np.array([0.0, 0.0, 1.0])) for e in eyes]))
    return K, torch.from_numpy(np.stack(poses)).float()


def test_the_camera_pathway_learns_what_only_the_camera_tells(tiny):
    """A task where the target latents are a fixed function of the Plücker maps: after a short
    training the held-out loss with the true camera is far below the loss with cameras shuffled
    across clips (the adapter, its initialisation and the ray scale let the camera through)."""
    from worldclips.train.cond.plucker import pack_frames, plucker_rays
    from worldclips.train.conditions import ModelInputs
    from worldclips.train.flow import flow_loss

    config = replace(tiny, model={"depth": "none", "pose_maps": False, "pose_grid": False, "pose_tokens": False, "first_frame": False,
                                  "reprojection": False}).model
    generator = torch.Generator().manual_seed(0)
    K, poses = _orbit_cameras(96, 9, generator)
    plucker = pack_frames(plucker_rays(K, poses, 8, 8, (64, 64))).transpose(1, 2)  # (N, 24, 3, 8, 8)
    mix = torch.randn(Z, 24, generator=generator) / 24**0.5
    target = torch.einsum("zc,nctij->nztij", mix, plucker)
    target = (target - target.mean()) / target.std()
    torch.manual_seed(0)
    model = ConditionedWan(random_transformer(config), config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    cond = torch.zeros(8, 0, 3, 8, 8)
    for _ in range(250):
        pick = torch.randint(0, 64, (8,), generator=generator)
        loss = flow_loss(lambda x, t: model(x, t, cond, plucker[pick]), target[pick], 1.0, generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    held = slice(64, 96)
    inputs = ModelInputs(target[held], torch.zeros(32, 0, 3, 8, 8), plucker[held], None)
    report = condition_effects(model.eval(), inputs, config, Z, noise_levels=(0.5,), chunk=16, conditions=("camera",))
    camera = report["0.5"]["conditions"]["camera"]["shuffled"]
    # measured: loss 0.048 with the true camera, +3.76 (z 6.2) with cameras shuffled
    assert camera["z"] > 4 and camera["mean_delta"] > 10 * report["0.5"]["loss"], (report["0.5"]["loss"], camera)


def _pose(yaw: float, position) -> np.ndarray:
    cam_from_world = np.eye(4)
    cam_from_world[:3, :3] = [[math.cos(yaw), 0, -math.sin(yaw)], [0, 1, 0], [math.sin(yaw), 0, math.cos(yaw)]]
    cam_from_world[:3, 3] = -cam_from_world[:3, :3] @ np.asarray(position, dtype=float)
    return cam_from_world


def test_a_shuffled_camera_is_the_next_clips_motion_from_the_clips_own_first_camera():
    still = np.stack([_pose(0.3, [1.0, 0.0, 2.0])] * 3).astype(np.float32)
    dolly = np.stack([_pose(0.0, [0.0, 0.0, z]) for z in (0.0, 0.5, 1.0)]).astype(np.float32)
    shuffled = shuffled_camera_paths([{"key": "a", "cam_from_world": still}, {"key": "b", "cam_from_world": dolly}])
    # clip a now dollies 0.5 m per frame along its own viewing direction, from its own first camera
    path = shuffled[0]["cam_from_world"].astype(np.float64)
    assert np.allclose(path[0], still[0], atol=1e-6)
    centres = [-p[:3, :3].T @ p[:3, 3] for p in path]
    forward = path[0][2, :3]  # the camera's +z axis in the world
    for t in (1, 2):
        assert np.allclose(centres[t] - centres[0], 0.5 * t * forward, atol=1e-5)
        assert np.allclose(path[t][:3, :3], still[0][:3, :3], atol=1e-6)
    assert np.allclose(shuffled[1]["cam_from_world"], dolly[:1].repeat(3, 0), atol=1e-6)  # clip b stands still
    assert shuffled[0]["key"] == "a" and shuffled[0]["cam_from_world"].dtype == np.float32


def _sliding_plane_clips(count: int, frames: int, size: int, generator: torch.Generator) -> list[dict]:
    """Clips of a textured wall at 2-6 m filmed by a camera sliding sideways by a whole number of
    pixels a frame (-2..2, made by cropping a wider texture): frame t is the texture window moved
    by t * shift pixels, with no renderer and no reprojection involved."""
    focal = float(size)
    K = np.array([[focal, 0.0, (size - 1) / 2], [0.0, focal, (size - 1) / 2], [0.0, 0.0, 1.0]], dtype=np.float32)
    margin = 2 * (frames - 1)
    clips = []
    for index in range(count):
        coarse = torch.rand(1, 3, size // 4, (size + 2 * margin) // 4 + 1, generator=generator)
        texture = torch.nn.functional.interpolate(coarse, scale_factor=4, mode="bilinear")[0, :, :size]
        shift = int(torch.randint(-2, 3, (1,), generator=generator))
        depth = 2.0 + 4.0 * float(torch.rand(1, generator=generator))
        video = np.stack([(texture[:, :, margin + t * shift : margin + t * shift + size] * 255).byte().numpy()
                          for t in range(frames)])  # fmt: skip
        cam_from_world = np.tile(np.eye(4, dtype=np.float32), (frames, 1, 1))
        cam_from_world[:, 0, 3] = -np.arange(frames) * shift * depth / focal  # slides by shift * d / f metres a frame
        clips.append({"key": f"slide-{index:08d}", "video": video, "depth": np.full((frames, size, size), depth, np.float32),
                      "K": np.tile(K, (frames, 1, 1)), "cam_from_world": cam_from_world, "caption": ""})  # fmt: skip
    return clips


def test_a_model_trained_on_moving_cameras_pays_for_a_shuffled_camera(tiny):
    """The short learnability check: a tiny model trained on clips where only the camera moves
    (first frame, rays and the reprojected first frame given) loses many standard errors when each
    held-out clip gets another clip's camera motion."""
    from tests.train.learnability import train_on_clips

    config = replace(tiny, model={"depth": "none", "pose_maps": False, "pose_grid": False, "pose_tokens": False})
    generator = torch.Generator().manual_seed(0)
    clips = _sliding_plane_clips(96, config.data.frames, config.data.height, generator)
    model, codec, encode = train_on_clips(config, clips, 300, generator)
    held = clips[64:]
    report = condition_effects(model, encode(held), config.model, codec.channels, noise_levels=(0.5,), chunk=16,
                               conditions=("camera",), shuffled_inputs={"camera": encode(shuffled_camera_paths(held))})  # fmt: skip
    camera = report["0.5"]["conditions"]["camera"]["shuffled"]
    # measured: loss 0.85 with the true camera, +0.55 (z 10.5) with the camera motions shuffled
    assert camera["z"] > 5 and camera["mean_delta"] > 0.2 * report["0.5"]["loss"], (report["0.5"]["loss"], camera)
