"""The first frame reprojected into every frame through its depth and the camera path.

Each pixel (u, v) of frame 0 with planar depth d is lifted to X_0 = d K_0^-1 [u, v, 1] in camera
0 (OpenCV axes), moved into camera t by cam_t_from_cam_0 = cam_from_world_t cam_from_world_0^-1
and projected with K_t. It is splatted, nearest surface first (a z-buffer), onto the pixel it
lands nearest to; target pixels no point landed on then take the nearest surface among the
points landing closer than one pixel (along each axis), which closes the cracks a
surface seen closer would otherwise show (and also reaches up to one pixel into a disocclusion). Pixels with no surface (depth 0: sky, the void) are
placed at ``FAR`` metres, so they move with the camera's rotation only, as a sky at infinity
does. What frame t sees that frame 0 did not (disocclusions, the borders a camera turns to) is
left uncovered: 0 in the video, false in the coverage mask.

Everything is treated as static: a person who moves stays where frame 0 saw them, which is what
the pose conditions then correct. For frame 0 the result is the first frame itself.
"""

from __future__ import annotations

import torch

from worldclips.train.cond.plucker import invert_rigid, pack_frames, pixel_grid

FAR = 1.0e4  # metres: where pixels with no surface are put
EPSILON = 1e-6  # pixels: landings closer than this to a pixel centre count as on it


def _owners(targets: torch.Tensor, depth: torch.Tensor, sources: torch.Tensor, size: int) -> torch.Tensor:
    """(size,) index of the nearest source point landing on each target pixel, -1 where none:
    targets, depth and sources are (n,) (flat target index, camera depth, flat source index).
    Ties in depth go to the larger source index, so the result does not depend on the order."""
    nearest = torch.full((size,), float("inf"), dtype=depth.dtype, device=depth.device)
    nearest = nearest.scatter_reduce(0, targets, depth, reduce="amin")
    front = depth <= nearest[targets]
    owner = torch.full((size,), -1, dtype=torch.long, device=depth.device)
    return owner.scatter_reduce(0, targets[front], sources[front], reduce="amax")


def reproject_first_frame(video: torch.Tensor, depth0: torch.Tensor, K: torch.Tensor,
                          cam_from_world: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """video (B, C, F, H, W) (frame 0 is used), depth0 (B, H, W) planar metres of frame 0 (0 = no
    surface), K (B, F, 3, 3), cam_from_world (B, F, 4, 4) -> (reprojected (B, C, F, H, W),
    covered (B, F, H, W) bool)."""
    batch, channels, frames, height, width = video.shape
    compute = torch.float64  # float32 moves a point landing on a pixel centre across it by its last bit
    depth = torch.where(depth0 > 0, depth0.to(compute), torch.full_like(depth0, FAR, dtype=compute))
    points = torch.einsum("bij,hwj->bhwi", torch.linalg.inv(K[:, 0].to(compute)), pixel_grid(height, width, (height, width), depth))
    points = (points * depth[..., None]).reshape(batch, -1, 3)  # (B, HW, 3) in camera 0
    cam_t_from_cam_0 = cam_from_world.to(compute) @ invert_rigid(cam_from_world[:, :1].to(compute))
    colours = video[:, :, 0].reshape(batch, channels, -1)
    pixels = height * width
    sources = torch.arange(batch * pixels, device=video.device)  # flat (b, source pixel)
    batch_offset = (torch.arange(batch, device=video.device) * pixels)[:, None]
    out = torch.zeros_like(video)
    covered = torch.zeros(batch, frames, height, width, dtype=torch.bool, device=video.device)
    for t in range(frames):
        moved = torch.einsum("bij,bnj->bni", cam_t_from_cam_0[:, t, :3, :3], points) + cam_t_from_cam_0[:, t, None, :3, 3]
        projected = torch.einsum("bij,bnj->bni", K[:, t].to(compute), moved)
        z = moved[..., 2]
        front = z > 1e-6
        u = projected[..., 0] / torch.where(front, projected[..., 2], torch.ones_like(z))
        v = projected[..., 1] / torch.where(front, projected[..., 2], torch.ones_like(z))

        def landing(col: torch.Tensor, row: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            ok = front & (col >= 0) & (col < width) & (row >= 0) & (row < height)
            target = batch_offset + row.clamp(0, height - 1).long() * width + col.clamp(0, width - 1).long()
            return target[ok], ok

        target, ok = landing(torch.round(u), torch.round(v))
        owner = _owners(target, z[ok], sources[ok.flatten()], batch * pixels)
        # the pixels closer than one pixel along each axis: 2 x 2 of them, 1 on an exact pixel centre
        within = lambda x: (torch.ceil(x - 1 + EPSILON), torch.floor(x + 1 - EPSILON))  # noqa: E731
        footprint = [landing(col, row) for col in within(u) for row in within(v)]
        fill_target = torch.cat([f[0] for f in footprint])
        fill_depth = torch.cat([z[f[1]] for f in footprint])
        fill_source = torch.cat([sources[f[1].flatten()] for f in footprint])
        holes = owner[fill_target] < 0
        filled = _owners(fill_target[holes], fill_depth[holes], fill_source[holes], batch * pixels)
        owner = torch.where(owner >= 0, owner, filled).view(batch, pixels)
        hit = owner >= 0
        local = (owner - batch_offset).clamp_min(0)  # source pixel within its own clip
        picked = torch.gather(colours, 2, local[:, None, :].expand(-1, channels, -1))
        out[:, :, t] = (picked * hit[:, None, :].to(video.dtype)).view(batch, channels, height, width)
        covered[:, t] = hit.view(batch, height, width)
    return out, covered


def coverage_mask(covered: torch.Tensor, spatial: int) -> torch.Tensor:
    """(B, F, H, W) bool -> (B, 4, 1 + (F - 1) / 4, H / spatial, W / spatial): the covered fraction of
    each latent cell, packed 4 frames per latent frame (frame 0 repeated 4 times)."""
    fraction = torch.nn.functional.avg_pool2d(covered.float(), spatial)  # (B, F, h, w)
    return pack_frames(fraction.unsqueeze(2)).transpose(1, 2)
