"""The reprojected first frame against projections worked out by hand: a plane seen by a sliding
camera shifts by f * baseline / depth pixels, a nearer square hides the plane and uncovers what
frame 0 did not see, a sky (no surface) follows the camera's rotation only."""

import math

import pytest
import torch

from worldclips.train.cond.reprojection import coverage_mask, reproject_first_frame

H, W, FOCAL = 32, 48, 40.0
CX, CY = (W - 1) / 2, (H - 1) / 2


def intrinsics(frames: int) -> torch.Tensor:
    K = torch.tensor([[FOCAL, 0.0, CX], [0.0, FOCAL, CY], [0.0, 0.0, 1.0]])
    return K.expand(1, frames, 3, 3)


def still_video(frames: int, seed: int = 0) -> torch.Tensor:
    image = torch.rand(1, 3, 1, H, W, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    return image.expand(1, 3, frames, H, W).contiguous()


def sliding_cameras(offsets_x: list[float]) -> torch.Tensor:
    """cam_from_world of a camera at world x = offset looking down +z (OpenCV axes)."""
    cams = torch.eye(4).repeat(1, len(offsets_x), 1, 1)
    for t, x in enumerate(offsets_x):
        cams[0, t, 0, 3] = -x
    return cams


def test_frame_zero_is_the_first_frame_and_a_slide_shifts_a_plane_by_f_b_over_d():
    video, depth = still_video(3), torch.full((1, H, W), 4.0)
    out, covered = reproject_first_frame(video, depth, intrinsics(3), sliding_cameras([0.0, 0.3, 0.6]))
    assert torch.equal(out[:, :, 0], video[:, :, 0]) and bool(covered[:, 0].all())
    for t, shift in ((1, 3), (2, 6)):  # 40 px * 0.3 m / 4 m = 3 px per step, to the left
        assert torch.allclose(out[0, :, t, :, : W - shift], video[0, :, 0, :, shift:])
        assert bool(covered[0, t, :, : W - shift].all()) and not bool(covered[0, t, :, W - shift :].any())
        assert bool((out[0, :, t, :, W - shift :] == 0).all())


def test_a_nearer_square_hides_the_plane_and_uncovers_what_frame_zero_did_not_see():
    video = torch.zeros(1, 3, 2, H, W)
    video[0, 0] = 0.5  # the far plane: red
    depth = torch.full((1, H, W), 8.0)
    rows, cols = slice(12, 20), slice(20, 28)
    video[0, :, :, rows, cols] = torch.tensor([-0.5, 0.9, -0.5])[:, None, None, None]  # the square: green
    depth[0, rows, cols] = 2.0
    out, covered = reproject_first_frame(video, depth, intrinsics(2), sliding_cameras([0.0, 0.4]))
    # the camera slides 0.4 m right: the square (2 m) moves 8 px left, the plane (8 m) 2 px left
    square_after = out[0, :, 1, rows, 12:20]
    assert torch.allclose(square_after, torch.tensor([-0.5, 0.9, -0.5])[:, None, None].expand_as(square_after))
    # the plane frame 0 saw beside the square lands at columns ..17 and 26..45 of frame 1: columns
    # 20..25 show plane frame 0 did not see (the crack filling may reach one pixel into it)
    assert not bool(covered[0, 1, 13:19, 21:25].any())
    assert bool((out[0, :, 1, 13:19, 21:25] == 0).all())
    assert torch.allclose(out[0, :, 1, rows, 26:30], torch.tensor([0.5, 0.0, 0.0])[:, None, None].expand(3, 8, 4))
    assert bool(covered[0, 1, :, : W - 2].sum() >= H * (W - 2) - 8 * 6)
    assert bool(covered[0, 1, :, : W - 2].sum() <= H * (W - 2) - 6 * 4)


def test_the_sky_follows_the_rotation_only():
    video, depth = still_video(2, seed=1), torch.zeros(1, H, W)  # no surface anywhere
    angle = math.atan(5.0 / FOCAL)  # a pan that moves the centre column by 5 px
    cams = torch.eye(4).repeat(1, 2, 1, 1)
    cams[0, 1, :3, :3] = torch.tensor([[math.cos(angle), 0.0, -math.sin(angle)], [0.0, 1.0, 0.0],
                                       [math.sin(angle), 0.0, math.cos(angle)]])  # fmt: skip
    cams[0, 1, :3, 3] = torch.tensor([3.0, 0.0, -2.0])  # a translation a sky at infinity ignores
    out, covered = reproject_first_frame(video, depth, intrinsics(2), cams)
    landed = {}
    for u in range(W):  # where frame 0's column u lands, by hand: rotate the ray, project
        x = (u - CX) / FOCAL
        rotated_x, rotated_z = math.cos(angle) * x - math.sin(angle), math.sin(angle) * x + math.cos(angle)
        landed.setdefault(round(CX + FOCAL * rotated_x / rotated_z), []).append(u)
    row = int(CY)  # the row through the centre stays put (y = 0 rays stay at y = 0)
    checked = 0
    for target, sources in landed.items():
        if 0 <= target < W and len(sources) == 1:
            assert bool(covered[0, 1, row, target]), target
            assert torch.equal(out[0, :, 1, row, target], video[0, :, 0, row, sources[0]]), target
            checked += 1
    assert checked > W // 2
    assert not bool(covered[0, 1, row, W - 5 :].any())  # the 5 columns the pan turned to


def test_coverage_is_packed_like_the_first_frame_mask():
    covered = torch.zeros(1, 9, 16, 16, dtype=torch.bool)
    covered[:, 0] = True
    covered[:, 1:5, :, :8] = True  # frames 1-4: the left half
    packed = coverage_mask(covered, 8)  # (1, 4, 3, 2, 2)
    assert packed.shape == (1, 4, 3, 2, 2)
    assert bool((packed[0, :, 0] == 1).all())
    assert torch.equal(packed[0, :, 1], torch.tensor([[1.0, 0.0], [1.0, 0.0]]).expand(4, 2, 2))
    assert bool((packed[0, :, 2] == 0).all())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("slide", [0.1, 0.2, 0.5, 0.7])
def test_whole_pixel_slides_cover_exactly_what_is_visible_whatever_the_precision(slide, dtype):
    """Every point lands on a pixel centre: coverage must not depend on the last bit of u."""
    video, depth = still_video(2).to(dtype), torch.full((1, H, W), 4.0, dtype=dtype)
    cams = sliding_cameras([0.0, slide]).to(dtype)
    out, covered = reproject_first_frame(video, depth, intrinsics(2).to(dtype), cams)
    shift = round(FOCAL * slide / 4.0)  # 1, 2, 5, 7 px
    assert bool(covered[0, 1, :, : W - shift].all()) and not bool(covered[0, 1, :, W - shift :].any())
    assert torch.equal(out[0, :, 1, :, : W - shift], video[0, :, 0, :, shift:])
