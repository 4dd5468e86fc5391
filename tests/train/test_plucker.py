"""Plücker rays against an independent computation: the line through two unprojected points."""

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from worldclips.train.cond.plucker import pack_frames, plucker_rays


def random_cameras(rng, frames):
    K = np.zeros((frames, 3, 3))
    K[:, 0, 0], K[:, 1, 1] = rng.uniform(30, 80, frames), rng.uniform(30, 80, frames)
    K[:, 0, 1] = rng.uniform(-2, 2, frames)  # skew
    K[:, 0, 2], K[:, 1, 2], K[:, 2, 2] = rng.uniform(20, 40, frames), rng.uniform(15, 30, frames), 1.0
    cam_from_world = np.tile(np.eye(4), (frames, 1, 1))
    cam_from_world[:, :3, :3] = Rotation.random(frames, random_state=rng.integers(1 << 31)).as_matrix()
    cam_from_world[:, :3, 3] = rng.normal(size=(frames, 3)) * 3
    return K, cam_from_world


def reference(K, cam_from_world, height, width, image_h, image_w):
    """Per pixel, float64: unproject at depths 1 and 3, carry both points to camera 0, take the line."""
    frames = K.shape[0]
    out = np.zeros((frames, 6, height, width))
    cam0_from_world = cam_from_world[0]
    for t in range(frames):
        world_from_cam = np.linalg.inv(cam_from_world[t])
        for i in range(height):
            for j in range(width):
                u = (j + 0.5) * image_w / width - 0.5
                v = (i + 0.5) * image_h / height - 0.5
                ray = np.linalg.solve(K[t], [u, v, 1.0])
                p1, p2 = ((cam0_from_world @ world_from_cam @ np.append(ray * z, 1.0))[:3] for z in (1.0, 3.0))
                direction = (p2 - p1) / np.linalg.norm(p2 - p1)
                out[t, :3, i, j] = direction
                out[t, 3:, i, j] = np.cross(p1, direction)
    return out


def test_plucker_matches_two_point_lines():
    rng = np.random.default_rng(0)
    K, cam_from_world = random_cameras(rng, 5)
    got = plucker_rays(torch.tensor(K, dtype=torch.float32), torch.tensor(cam_from_world, dtype=torch.float32), 6, 8, (48, 64))
    assert got.shape == (5, 6, 6, 8) and got.dtype == torch.float32
    expected = reference(K, cam_from_world, 6, 8, 48, 64)
    np.testing.assert_allclose(got.numpy(), expected, atol=2e-5 * np.abs(expected).max() + 1e-5)


def test_first_frame_is_the_origin_and_batches_are_independent():
    rng = np.random.default_rng(1)
    cams = [random_cameras(rng, 3) for _ in range(2)]
    K = torch.tensor(np.stack([c[0] for c in cams]))
    cam_from_world = torch.tensor(np.stack([c[1] for c in cams]))
    rays = plucker_rays(K, cam_from_world, 4, 4, (32, 32))  # float64 through
    assert rays.shape == (2, 3, 6, 4, 4)
    assert torch.allclose(rays[:, 0, 3:], rays.new_zeros(()), atol=1e-12)
    assert torch.allclose(rays[:, :, :3].norm(dim=2), rays.new_ones(()), atol=1e-12)
    for b in range(2):
        single = plucker_rays(K[b], cam_from_world[b], 4, 4, (32, 32))
        assert torch.allclose(rays[b], single)
    # Moving the whole world rigidly changes nothing: the rays are relative to frame 0.
    shift = torch.eye(4, dtype=torch.float64)
    shift[:3, :3] = torch.tensor(Rotation.from_euler("zyx", [0.3, -0.2, 1.0]).as_matrix())
    shift[:3, 3] = torch.tensor([1.0, -2.0, 0.5])
    moved = plucker_rays(K, cam_from_world @ torch.linalg.inv(shift), 4, 4, (32, 32))
    assert torch.allclose(moved, rays, atol=1e-9)


def test_pack_frames_repeats_the_first_frame_then_groups_of_four():
    x = torch.arange(9, dtype=torch.float32).view(9, 1, 1, 1).expand(9, 2, 1, 1)
    packed = pack_frames(x)
    assert packed.shape == (3, 8, 1, 1)
    assert packed[0, :, 0, 0].tolist() == [0.0] * 8
    assert packed[1, :, 0, 0].tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    assert packed[2, :, 0, 0].tolist() == [5, 5, 6, 6, 7, 7, 8, 8]
