"""Depth, pose and first-frame conditions against values computed independently by hand."""

import math

import numpy as np
import torch

from worldclips.motions.conventions import PROJECTION_UNDEFINED, SMPLX_PARENTS
from worldclips.train.cond.depth import depth_video, log_depth, normalized_depth
from worldclips.train.cond.first_frame import first_frame_mask, first_frame_video
from worldclips.train.cond.pose import BONES, JointTokens, joint_features, line_width, skeleton_maps


def test_log_depth_fixed_scale():
    depth = torch.tensor([0.1, 100.0, math.sqrt(10.0), 0.0, 0.01, 1000.0])
    expected = [-1.0, 1.0, 0.0, 1.0, -1.0, 1.0]  # ends, geometric middle, no surface, clamped
    assert torch.allclose(log_depth(depth), torch.tensor(expected), atol=1e-6)


def test_normalized_depth_per_clip():
    clip_a = torch.tensor([[[1.0, 2.0], [4.0, 0.0]]])  # inverse depths 1, 0.5, 0.25
    clip_b = torch.tensor([[[10.0, 10.0], [20.0, 0.0]]])  # inverse 0.1, 0.1, 0.05
    out = normalized_depth(torch.stack([clip_a, clip_b]))
    assert torch.allclose(out[0, 0].flatten(), torch.tensor([1.0, -1.0 / 3.0, -1.0, -1.0]), atol=1e-6)
    assert torch.allclose(out[1, 0].flatten(), torch.tensor([1.0, 1.0, -1.0, -1.0]), atol=1e-6)
    video = depth_video(torch.stack([clip_a, clip_b]), "normalized")
    assert video.shape == (2, 3, 1, 2, 2) and torch.equal(video[:, 0], video[:, 2])


def distance_to_segment(points, a, b):
    ab = b - a
    t = np.clip(((points - a) @ ab) / (ab @ ab), 0.0, 1.0)
    return np.linalg.norm(points - (a + t[:, None] * ab), axis=1)


def test_skeleton_bone_covers_its_segment_and_nothing_far():
    height, width = 48, 64
    joints = np.full((1, 1, 55, 2), PROJECTION_UNDEFINED, np.float32)
    valid = np.zeros((1, 55), bool)
    joints[0, 0, 0], joints[0, 0, 1] = (10.0, 5.0), (50.0, 40.0)  # pelvis -> left hip, bone (0, 1)
    valid[0, [0, 1]] = True
    image = skeleton_maps(joints, valid, height, width)[0]
    assert image.shape == (height, width, 3) and image.dtype == np.uint8
    lit = image.any(axis=-1)
    ys, xs = np.mgrid[:height, :width]
    distance = distance_to_segment(np.stack([xs.ravel(), ys.ravel()], 1).astype(float), joints[0, 0, 0], joints[0, 0, 1])
    distance = distance.reshape(height, width)
    assert not lit[distance > line_width(height, width) / 2 + 1.0].any()
    for s in np.linspace(0.0, 1.0, 30):  # every point of the bone has a lit pixel next to it
        x, y = np.round(joints[0, 0, 0] + s * (joints[0, 0, 1] - joints[0, 0, 0])).astype(int)
        assert lit[y - 1 : y + 2, x - 1 : x + 2].any()
    assert 40 <= lit.sum() <= 2 * 54  # one pixel per step along the major axis (40), bone length 53
    colours = {tuple(c) for c in image[lit]}
    assert len(colours) == 1  # one colour per bone


def test_skeleton_skips_invalid_and_undefined_joints():
    joints = np.full((2, 2, 55, 2), 20.0, np.float32)
    joints[..., 0] += np.arange(55)[None, None] % 7
    valid = np.ones((2, 55), bool)
    valid[0] = False  # person 0 has no valid joint
    joints[1, 1] = PROJECTION_UNDEFINED  # person 1 is behind the camera in frame 1
    maps = skeleton_maps(joints, valid, 40, 40)
    assert maps[0].any() and not maps[1].any()
    assert all(SMPLX_PARENTS[child] == parent for parent, child in BONES) and len(BONES) == 51


def test_joint_tokens_pack_frames_and_mask_absent_persons():
    batch, persons, frames = 2, 3, 9
    joints = torch.randn(batch, persons, frames, 55, 3)
    valid = torch.ones(batch, persons, 55, dtype=torch.bool)
    valid[:, :, 22] = False
    person_mask = torch.tensor([[True, True, False], [True, False, False]])
    features = joint_features(joints, valid, person_mask)
    assert features.shape == (batch, persons * 3, 4 * 55 * 4 + 1)
    per_token = features.view(batch, persons, 3, -1)
    # token (b, p, latent frame 1) holds frames 1..4; joint j of frame f sits at ((f - 1) * 55 + j) * 4
    f, j = 3, 5
    start = ((f - 1) * 55 + j) * 4
    assert torch.equal(per_token[0, 1, 1, start : start + 3], joints[0, 1, f, j])
    assert per_token[0, 1, 1, start + 3] == 1.0
    start_jaw = ((f - 1) * 55 + 22) * 4
    assert torch.all(per_token[0, 1, 1, start_jaw : start_jaw + 4] == 0)
    assert torch.all(per_token[0, 2] == 0) and torch.all(per_token[1, 1:] == 0)  # absent persons
    assert torch.all(per_token[0, 0, :, -1] == 1)
    tokens = JointTokens(text_dim=16)(joints, valid, person_mask)
    assert tokens.shape == (batch, persons * 3, 16)


def test_first_frame_video_and_mask_follow_the_wan_i2v_layout():
    video = torch.rand(2, 3, 9, 16, 16) * 2 - 1
    given = first_frame_video(video)
    assert torch.equal(given[:, :, 0], video[:, :, 0]) and torch.all(given[:, :, 1:] == 0)
    mask = first_frame_mask(2, 9, 4, 4, video)
    # The diffusers Wan image-to-video pipeline builds its mask this way:
    reference = torch.ones(2, 1, 9, 4, 4)
    reference[:, :, 1:] = 0
    first = torch.repeat_interleave(reference[:, :, 0:1], dim=2, repeats=4)
    reference = torch.cat([first, reference[:, :, 1:]], dim=2).view(2, -1, 4, 4, 4).transpose(1, 2)
    assert mask.shape == (2, 4, 3, 4, 4) and torch.equal(mask, reference)
