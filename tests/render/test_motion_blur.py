"""Raster motion blur: the sub-frame scene against interpolation worked out by hand, a moving box's
blurred scanline against the covered fraction of the shutter computed by projection, and the
ground truth unchanged."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from worldclips.render.motion_blur import sample_times, subframe_scene
from tests.render.test_sensor_noise import linear_to_srgb, srgb_to_linear
from tests.render import scene_builders as sb

W, H, FOCAL, DISTANCE, STEP = 64, 48, 60.0, 5.0, 0.5  # the box moves STEP m to +x per frame at DISTANCE


def _moving_box_scene(frames=3, step=STEP):
    poses = np.stack([sb.translation(-0.6 + step * t, 0.0, 0.0) for t in range(frames)])
    box = sb.rigid_object(1, sb.box_mesh((1.0, 1.0, 1.0)), poses, frames)
    cam = sb.camera(sb.intrinsics(FOCAL, W, H), sb.look_at_cam_from_world(np.array([0.0, -DISTANCE - 0.5, 0.0]),
                                                                             np.array([0.0, 0.0, 0.0])), frames)  # fmt: skip
    return sb.scene(W, H, cam, [box])


def test_sub_frames_are_the_frames_in_the_middle_and_interpolate_between():
    frames = 3
    yaw = np.radians([0.0, 30.0, 60.0])
    poses = np.stack([sb.translation(float(t), 2.0 * t, 0.0, Rotation.from_euler("z", a).as_matrix()) for t, a in enumerate(yaw)])
    character = sb.mannequin_character(2, frames=frames)
    cam = sb.looking_camera(W, H, np.array([0.0, -6.0, 1.0]), np.array([0.0, 0.0, 1.0]), frames=frames)
    scene = sb.scene(W, H, cam, [sb.rigid_object(1, sb.box_mesh(), poses, frames)], [character])
    sub = subframe_scene(scene, 5, 1.0)  # offsets -0.5, -0.25, 0, 0.25, 0.5 frames
    assert sub.num_frames == 15 and np.allclose(sample_times(3, 5, 1.0)[:5], [0, 0, 0, 0.25, 0.5])  # clamped at the start
    box = sub.objects[0].world_from_object
    for t in range(frames):  # the middle sub-frame of each frame: that frame's arrays, bit for bit
        assert np.array_equal(box[5 * t + 2], poses[t])
        assert np.array_equal(sub.camera.cam_from_world[5 * t + 2], cam.cam_from_world[t])
        assert np.array_equal(sub.characters[0].body.mesh.bone_matrices[5 * t + 2], character.body.mesh.bone_matrices[t])
    at = {5 * 1 + 0: 0.5, 5 * 1 + 1: 0.75, 5 * 1 + 3: 1.25, 5 * 1 + 4: 1.5}  # frame 1's sub-frames -> times
    for index, time in at.items():
        expected_yaw = np.degrees(Rotation.from_matrix(box[index][:3, :3]).as_euler("zyx")[0])
        assert np.isclose(expected_yaw, 30.0 * time, atol=1e-9)  # constant angular velocity: slerp is exact
        assert np.allclose(box[index][:3, 3], [time, 2.0 * time, 0.0], atol=1e-12)
    with pytest.raises(ValueError, match="odd number"):
        subframe_scene(scene, 4, 0.5)


def test_a_moving_box_blurs_by_the_fraction_of_the_shutter_it_covers(make_renderer):
    scene = _moving_box_scene()
    sharp = make_renderer(W, H).render(scene)
    blurred = make_renderer(W, H, motion_blur=0.5, motion_blur_samples=5).render(scene)
    assert np.array_equal(blurred.depth, sharp.depth) and np.array_equal(blurred.segmentation, sharp.segmentation)
    row = H // 2
    frame = 1
    inside = sharp.segmentation[frame, row] == 1
    box_colour = sharp.rgb[frame, row][inside][len(inside.nonzero()[0]) // 2]
    sky_colour = sharp.rgb[frame, row][~inside][0]
    # the box's front face (y = -0.5) spans x in [-1.1 + STEP tau, -0.1 + STEP tau]; projected by hand
    cx, depth = (W - 1) / 2, DISTANCE
    offsets = 0.5 * (np.arange(5) / 4 - 0.5)
    checked = 0
    for u in range(W):
        covered, ambiguous = 0, False
        for offset in offsets:
            tau = frame + offset
            left, right = cx + FOCAL * (-1.1 + STEP * tau) / depth, cx + FOCAL * (-0.1 + STEP * tau) / depth
            ambiguous |= min(abs(u - left), abs(u - right)) < 0.05
            covered += left <= u <= right
        if ambiguous:
            continue
        share = covered / 5
        expected = linear_to_srgb(share * srgb_to_linear(box_colour / 255) + (1 - share) * srgb_to_linear(sky_colour / 255))
        assert np.all(np.abs(blurred.rgb[frame, row, u].astype(int) - np.rint(expected * 255)) <= 1), (u, share)
        checked += 0 < share < 1
    assert checked >= 4  # the streaks at both edges hold pixels covered part of the time


def test_a_still_scene_is_unchanged_by_motion_blur(make_renderer):
    scene = _moving_box_scene(step=0.0)
    sharp = make_renderer(W, H).render(scene)
    blurred = make_renderer(W, H, motion_blur=0.5).render(scene)
    assert np.array_equal(blurred.rgb, sharp.rgb)


def test_generate_with_motion_blur_changes_rgb_only(tmp_path):
    from worldclips.cli import main
    from worldclips.shards.format.reader import read_shard
    from worldclips.shards.job.config import load_yaml_config

    args = ["--clips", "2", "--no-ray", "--frames", "4", "--size", "48x32", "--clips-per-shard", "2", "--seed", "2", "--quiet"]
    assert main(["generate", "--out", str(tmp_path / "sharp"), *args]) == 0
    assert main(["generate", "--out", str(tmp_path / "blur"), *args, "--motion-blur", "0.5", "--motion-blur-samples", "3"]) == 0
    sharp, blur = (read_shard(tmp_path / name / "shard-000000.tar") for name in ("sharp", "blur"))
    for key, members in sharp.items():
        assert blur[key]["rgb.mp4"] != members["rgb.mp4"]  # people walk, cameras move: something moves in every clip
        assert {m: v for m, v in blur[key].items() if m != "rgb.mp4"} == {m: v for m, v in members.items() if m != "rgb.mp4"}
    assert load_yaml_config(tmp_path / "blur" / "config.yaml")["motion_blur"] == 0.5  # the run records it
    assert main(["generate", "--out", str(tmp_path / "bad"), *args, "--motion-blur-samples", "4"]) != 0
