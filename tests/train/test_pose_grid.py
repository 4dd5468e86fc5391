"""The pose grid (body-part maps on the latent grid) against distances computed cell by cell."""

import json
import math

import numpy as np
import pytest
import torch

from worldclips.motions.conventions import PROJECTION_UNDEFINED, joint_index
from worldclips.train.cond.pose_grid import PARTS, POSE_GRID_CHANNELS, pose_grid, pose_grid_frames
from worldclips.train.config import read_config, replace, save_config
from worldclips.train.latent_cache import check_fingerprint, fingerprint

LEFT_HIP, LEFT_KNEE, LEFT_ANKLE = (joint_index(n) for n in ("left_hip", "left_knee", "left_ankle"))


def _joints(persons: int = 1, frames: int = 1):
    """(1, P, F, 55, 2) undefined joints, (1, P, 55) valid, (1, P) present."""
    joints = torch.full((1, persons, frames, 55, 2), PROJECTION_UNDEFINED)
    return joints, torch.ones(1, persons, 55, dtype=torch.bool), torch.ones(1, persons, dtype=torch.bool)


def _by_hand(a, b, h, w, cell):
    """exp(-d^2 / (2 (cell / 2)^2)) of each cell centre's distance to segment a-b, one cell at a time."""
    out = np.zeros((h, w))
    a, b = np.asarray(a, float), np.asarray(b, float)
    for i in range(h):
        for j in range(w):
            centre = np.array([(j + 0.5) * cell - 0.5, (i + 0.5) * cell - 0.5])  # (u, v), pixel centres at integers
            t = min(1.0, max(0.0, float((centre - a) @ (b - a) / ((b - a) @ (b - a)))))
            d = np.linalg.norm(centre - (a + t * (b - a)))
            out[i, j] = math.exp(-(d**2) / (2 * (cell / 2) ** 2))
    return out


def test_a_thigh_lights_its_own_channel_by_the_distance_to_its_bone():
    joints, valid, present = _joints()
    joints[0, 0, 0, LEFT_HIP] = torch.tensor([4.0, 12.0])
    joints[0, 0, 0, LEFT_KNEE] = torch.tensor([27.0, 21.0])
    maps = pose_grid_frames(joints, valid, present, (4, 5), 8)  # a 40 x 32 image
    assert maps.shape == (1, 1, len(PARTS), 4, 5)
    thigh = PARTS.index("left_thigh")
    expected = _by_hand((4.0, 12.0), (27.0, 21.0), 4, 5, 8)
    assert np.allclose(maps[0, 0, thigh].numpy(), expected, atol=1e-6)
    others = [k for k in range(len(PARTS)) if k != thigh]
    assert torch.all(maps[0, 0, others] == 0)  # every other bone has an undefined joint
    assert expected.max() > 0.9 and expected.min() < 0.01  # on the bone ~1, two cells away ~0


def test_bones_need_both_joints_defined_valid_and_the_person_present():
    joints, valid, present = _joints(persons=2)
    joints[0, :, 0, LEFT_HIP] = torch.tensor([4.0, 4.0])
    joints[0, :, 0, LEFT_KNEE] = torch.tensor([4.0, 20.0])
    joints[0, :, 0, LEFT_ANKLE] = torch.tensor([20.0, 20.0])
    thigh, shin = PARTS.index("left_thigh"), PARTS.index("left_shin")
    both = pose_grid_frames(joints, valid, present, (4, 4), 8)
    assert both[0, 0, thigh].max() > 0.9 and both[0, 0, shin].max() > 0.9
    valid[0, :, LEFT_ANKLE] = False  # the shin loses its end joint for both persons
    no_shin = pose_grid_frames(joints, valid, present, (4, 4), 8)
    assert torch.all(no_shin[0, 0, shin] == 0) and torch.equal(no_shin[0, 0, thigh], both[0, 0, thigh])
    present[0, 0] = False  # the first person absent: the second one's thigh alone, the same maps
    assert torch.equal(pose_grid_frames(joints, valid, present, (4, 4), 8), no_shin)
    present[0, 1] = False
    assert torch.all(pose_grid_frames(joints, valid, present, (4, 4), 8) == 0)


def test_two_persons_give_the_nearer_bone_and_frames_pack_four_per_latent_frame():
    joints, valid, present = _joints(persons=2, frames=5)
    for t in range(5):  # person 0's thigh moves right one cell per frame; person 1's stays at the left edge
        joints[0, 0, t, LEFT_HIP] = torch.tensor([3.5 + 8 * t, 3.5])
        joints[0, 0, t, LEFT_KNEE] = torch.tensor([3.5 + 8 * t, 27.5])
        joints[0, 1, t, LEFT_HIP] = torch.tensor([3.5, 3.5])
        joints[0, 1, t, LEFT_KNEE] = torch.tensor([3.5, 27.5])
    frames = pose_grid_frames(joints, valid, present, (4, 6), 8)
    thigh = PARTS.index("left_thigh")
    for t in range(5):
        expected = np.maximum(_by_hand((3.5 + 8 * t, 3.5), (3.5 + 8 * t, 27.5), 4, 6, 8), _by_hand((3.5, 3.5), (3.5, 27.5), 4, 6, 8))
        assert np.allclose(frames[0, t, thigh].numpy(), expected, atol=1e-6)
        assert torch.all(frames[0, t, thigh, :, t] == 1.0)  # the column the bone runs through
    packed = pose_grid(joints, valid, present, (4, 6), 8)
    assert packed.shape == (1, POSE_GRID_CHANNELS, 2, 4, 6)
    channels = len(PARTS)
    for k in range(4):  # latent frame 0: frame 0 four times; latent frame 1: frames 1-4
        assert torch.equal(packed[0, k * channels : (k + 1) * channels, 0], frames[0, 0])
        assert torch.equal(packed[0, k * channels : (k + 1) * channels, 1], frames[0, 1 + k])


def test_runs_and_caches_made_before_the_pose_grid_read_as_without_it(tmp_path, tiny):

    saved = tmp_path / "config.json"
    save_config(tiny, saved)
    values = json.loads(saved.read_text())
    del values["model"]["pose_grid"], values["model"]["drop_pose_grid"]
    saved.write_text(json.dumps(values))
    old = read_config(saved)
    assert not old.model.pose_grid and tiny.model.pose_grid
    codec = type("Codec", (), {"state_dict": lambda self: {}})()  # no weights: the same VAE digest everywhere
    manifest = {"fingerprint": {k: v for k, v in fingerprint(old, codec).items() if k != "pose_grid"}}
    check_fingerprint(manifest, old, codec, "cache")  # an older cache: made without the grid, as the old run
    with pytest.raises(ValueError, match="pose_grid False \\(run: True\\)"):
        check_fingerprint(manifest, replace(old, model={"pose_grid": True}), codec, "cache")


def test_the_model_inputs_carry_the_grid_of_the_joints_seen_through_the_crop(dataset, tiny):
    """On decoded clips (cropped and resized): the pose grid's torso channel in ModelInputs.cond at the
    cell where the pelvis projects is at least the pelvis's falloff there, the projection done here by hand from the 3D
    joints in the camera frame and the crop's K (not from joints2d)."""
    from worldclips.train.build import LatentCodec, random_vae
    from worldclips.train.conditions import model_inputs
    from worldclips.train.guidance import condition_channels
    from worldclips.train.loader import collate, iter_examples
    from worldclips.train.sources import shard_urls

    codec = LatentCodec(random_vae(tiny.model))
    examples = iter_examples(shard_urls(dataset), tiny.data)
    batch = collate([next(examples) for _ in range(4)])
    inputs = model_inputs(batch, codec, tiny.model, encode_target=False)
    from worldclips.train.model import condition_channels as channel_count

    assert inputs.cond.shape[1] == channel_count(tiny.model, codec.channels)
    grid = inputs.cond[:, condition_channels(tiny.model, codec.channels)["pose_grid"][0]]  # (B, 56, T_lat, h, w)
    h, w = grid.shape[-2:]
    assert torch.equal(grid, pose_grid(batch["joints2d"], batch["joints_valid"], batch["person_mask"], (h, w), 8))
    assert float(grid.amin()) < 1e-3 and float(grid.amax()) > 0.9  # cells far from a part, cells on one
    torso, checked = PARTS.index("torso"), 0
    for b in range(4):
        for p in range(batch["person_mask"].shape[1]):
            if not batch["person_mask"][b, p]:
                continue
            pelvis = batch["joints3d_cam"][b, p, 0, 0].double()  # frame 0, joint 0
            u, v, z = (batch["K"][b, 0].double() @ pelvis).tolist()
            u, v = u / z, v / z
            if z <= 0 or not (0 <= u < 8 * w - 0.5 and 0 <= v < 8 * h - 0.5):
                continue
            i, j = int((v + 0.5) // 8), int((u + 0.5) // 8)
            d2 = ((j + 0.5) * 8 - 0.5 - u) ** 2 + ((i + 0.5) * 8 - 0.5 - v) ** 2  # cell centre to the pelvis
            # the pelvis ends torso bones: the torso map is at least the pelvis's own falloff there
            assert grid[b, torso, 0, i, j] >= math.exp(-d2 / (2 * 4.0**2)) - 1e-4, (b, p, u, v)
            checked += 1
    assert checked >= 2


def _walking_bar_clips(count: int, frames: int, size: int, generator: torch.Generator) -> list[dict]:
    """A still textured wall (static camera) and one 'person': a red bar 10 px wide and 40 px tall
    walking sideways 2-4 px a frame from a random start; its 55 joints lie on the bar's axis, so
    the pose grid says where it is. No renderer involved."""
    focal = float(size)
    K = np.array([[focal, 0.0, (size - 1) / 2], [0.0, focal, (size - 1) / 2], [0.0, 0.0, 1.0]], dtype=np.float32)
    clips = []
    for index in range(count):
        coarse = torch.rand(1, 3, size // 4, size // 4, generator=generator)
        wall = torch.nn.functional.interpolate(coarse, scale_factor=4, mode="bilinear")[0] * 0.5 + 0.25
        speed = float(torch.randint(2, 5, (1,), generator=generator)) * (1 if torch.rand(1, generator=generator) < 0.5 else -1)
        start = size / 4 + size / 2 * float(torch.rand(1, generator=generator))
        top = 8 + int(torch.randint(0, 12, (1,), generator=generator))
        video, joints2d = [], np.full((1, frames, 55, 2), PROJECTION_UNDEFINED, np.float32)
        for t in range(frames):
            x = start + speed * t
            frame = wall.clone()
            frame[:, top : top + 40, max(round(x - 5), 0) : max(min(round(x + 5), size), 0)] = torch.tensor([1.0, 0.1, 0.1])[:, None, None]
            video.append((frame * 255).byte().numpy())
            joints2d[0, t, :, 0] = x - 0.5
            joints2d[0, t, :, 1] = np.linspace(top, top + 39, 55)
        clips.append({"key": f"walk-{index:08d}", "video": np.stack(video), "depth": np.full((frames, size, size), 3.0, np.float32),
                      "K": np.tile(K, (frames, 1, 1)), "cam_from_world": np.tile(np.eye(4, dtype=np.float32), (frames, 1, 1)),
                      "joints2d": joints2d, "joints_valid": np.ones((1, 55), bool), "person_mask": np.ones(1, bool),
                      "caption": ""})  # fmt: skip
    return clips


def test_a_model_trained_on_walkers_pays_for_a_shuffled_pose_grid(tiny):
    """The short pose learnability check: a tiny model trained on clips where only a walker moves
    (first frame, its reprojection and the pose grid given) loses many standard errors when the
    held-out clips' pose grids are shuffled across clips, at half and at full noise."""
    from worldclips.train.evaluate import condition_effects
    from tests.train.learnability import train_on_clips

    config = replace(tiny, data={"height": 64, "width": 64},
                     model={"depth": "none", "pose_maps": False, "pose_tokens": False, "camera": False})  # fmt: skip
    generator = torch.Generator().manual_seed(0)
    clips = _walking_bar_clips(96, config.data.frames, config.data.height, generator)
    model, codec, encode = train_on_clips(config, clips, 600, generator)
    report = condition_effects(model, encode(clips[64:]), config.model, codec.channels, noise_levels=(0.5, 1.0),
                               chunk=16, conditions=("pose_grid",))  # fmt: skip
    for level in report:  # measured: +0.054 (z 5.3) on a loss of 0.93 at noise 0.5, +0.024 (z 6.3) on 0.56 at 1
        shuffled = report[level]["conditions"]["pose_grid"]["shuffled"]
        assert shuffled["z"] > 3.5 and shuffled["mean_delta"] > 0.02 * report[level]["loss"], (level, shuffled)
