"""Surface normals and optical flow from the raster's surface pass (exact from geometry, not matched).

The raster backend's surface pass (``RasterRenderer.render(scene, surface_layers=True)``) writes,
at every pixel centre, the shading normal in the camera frame and where the surface point seen
there lies in the next and previous frames: the same point of the mesh (same triangle, same
barycentric coordinates, so people's skin moves with the skinning and props with their rigid
motion) projected with that frame's camera. This module turns those buffers into the layers:

flow_forward[t] = (u, v) of the point in frame t + 1 minus the pixel centre (u, v) in frame t,
in pixels, x right and y down (OpenCV / RAFT order, not Kubric's (row, col)); flow_backward[t]
the same towards frame t - 1. Pixels that show no surface (sky) move as points at infinity
(the camera's rotation and intrinsics only). The last frame's forward and the first frame's
backward flow are 0 and marked occluded.

occluded_forward[t] is True where the point is not seen in frame t + 1: it leaves the image, goes
behind the camera, or something lies in front of it at the pixel it lands on (the rendered depth
there is nearer than the point by more than the tolerance: 2% + 2 cm, plus the depth change
across that pixel on its own surface, ``depth_slack``, so that ground seen at a grazing angle is
not taken for an occluder); a sky point is occluded where a surface covers its landing pixel. Flow between frames k apart: follow the tracks layer, or chain
the forward flows (``compose_flow``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A point counts as hidden where the rendered depth at its landing pixel is nearer than
# z * (1 - REL) - ABS - slack: the landing pixel centre may be up to 0.71 px from the point, so
# the surface's own depth there may differ by up to 0.71 of its change to the next pixel (the
# slack, large on ground seen at a grazing angle); real occluders lie further in front.
OCCLUSION_TOLERANCE_REL, OCCLUSION_TOLERANCE_ABS_M = 0.02, 0.02
SLACK_PIXELS = 0.75


@dataclass(frozen=True, eq=False)
class SurfaceLayers:
    """Per-pixel surface layers of one clip, row 0 at the top.

    normals: (T, H, W, 3) float16 unit shading normals in the camera frame (OpenCV: x right, y down,
        z forward), facing the camera; 0 where no surface.
    flow_forward, flow_backward: (T, H, W, 2) float32 pixel motion (dx, dy) to frame t + 1 / t - 1.
    occluded_forward, occluded_backward: (T, H, W) bool, the point not visible in that frame.
    """

    normals: np.ndarray
    flow_forward: np.ndarray
    flow_backward: np.ndarray
    occluded_forward: np.ndarray
    occluded_backward: np.ndarray


def pixel_grid(height: int, width: int) -> np.ndarray:
    """(H, W, 2) float64 pixel centres (u, v)."""
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    return np.stack([u, v], axis=-1)


def infinity_pixels(K_from: np.ndarray, cam_from_world_from: np.ndarray, K_to: np.ndarray, cam_from_world_to: np.ndarray,
                    height: int, width: int) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Where the points at infinity seen at each pixel centre land in another frame:
    ((H, W, 2) float64 (u, v), (H, W) bool in front of that camera)."""
    rotation = cam_from_world_to[:3, :3] @ cam_from_world_from[:3, :3].T  # cam_to <- world <- cam_from
    grid = pixel_grid(height, width)
    rays = np.concatenate([grid, np.ones((height, width, 1))], axis=-1) @ np.linalg.inv(K_from).T
    projected = rays @ (K_to @ rotation).T
    in_front = projected[..., 2] > 1e-9
    safe = np.where(in_front, projected[..., 2], 1.0)[..., None]
    return projected[..., :2] / safe, in_front


def depth_slack(depth: np.ndarray, segmentation: np.ndarray) -> np.ndarray:
    """(..., H, W) float64: SLACK_PIXELS times the largest depth change to a 4-neighbour pixel of
    the same instance (0 where no surface): how much a surface's own depth may differ between a
    pixel centre and a point up to 0.71 px away."""
    depth = depth.astype(np.float64)
    slack = np.zeros_like(depth)
    for axis in (-1, -2):
        step = np.abs(np.diff(depth, axis=axis))
        same = (np.diff(segmentation.astype(np.int64), axis=axis) == 0) & (np.delete(depth, 0, axis=axis) > 0)
        step = np.where(same, step, 0.0)
        lead = [(0, 0)] * depth.ndim
        trail = [(0, 0)] * depth.ndim
        lead[axis], trail[axis] = (1, 0), (0, 1)
        slack = np.maximum(slack, np.maximum(np.pad(step, lead), np.pad(step, trail)))
    return SLACK_PIXELS * slack


def in_front_of(rendered_depth: np.ndarray, z: np.ndarray, slack: np.ndarray) -> np.ndarray:
    """Whether the rendered depth at a point's landing pixel lies in front of the point (depth z)
    by more than the tolerance: 2% + 2 cm + the surface's own ``depth_slack`` there."""
    return rendered_depth < z * (1.0 - OCCLUSION_TOLERANCE_REL) - OCCLUSION_TOLERANCE_ABS_M - slack


def landing_pixels(uv: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest pixel (column, row) of each (..., 2) landing point and whether it lies inside the image."""
    inside = np.all(np.isfinite(uv), axis=-1)
    inside &= (uv[..., 0] > -0.5) & (uv[..., 0] < width - 0.5) & (uv[..., 1] > -0.5) & (uv[..., 1] < height - 0.5)
    column = np.clip(np.rint(np.where(inside, uv[..., 0], 0.0)), 0, width - 1).astype(np.intp)
    row = np.clip(np.rint(np.where(inside, uv[..., 1], 0.0)), 0, height - 1).astype(np.intp)
    return column, row, inside


def flow_to(
    moved: np.ndarray, depth_to: np.ndarray, slack_to: np.ndarray, K_from, cam_from_world_from, K_to, cam_from_world_to,
    near: float,
) -> tuple[np.ndarray, np.ndarray]:
    """One frame's flow towards another frame and its occlusion mask.

    moved: (H, W, 4) float32 (u, v, z, w) of each pixel's surface point in the other frame (w = 1
    where the pixel shows a surface); depth_to: (H, W) the other frame's rendered depth and
    slack_to its ``depth_slack``.
    Returns ((H, W, 2) float32 flow, (H, W) bool occluded).
    """
    height, width = depth_to.shape
    grid = pixel_grid(height, width)
    surface = moved[..., 3] > 0.5
    sky_uv, sky_in_front = infinity_pixels(K_from, cam_from_world_from, K_to, cam_from_world_to, height, width)
    uv = np.where(surface[..., None], moved[..., :2].astype(np.float64), sky_uv)
    in_front = np.where(surface, moved[..., 2] > near, sky_in_front)
    column, row, inside = landing_pixels(uv, width, height)
    landing_depth = depth_to[row, column].astype(np.float64)
    z = moved[..., 2].astype(np.float64)
    covered = np.where(surface, (landing_depth > 0) & in_front_of(landing_depth, z, slack_to[row, column]), landing_depth > 0)
    occluded = ~(in_front & inside) | covered
    flow = np.where(in_front[..., None], uv - grid, 0.0)
    return flow.astype(np.float32), occluded


def surface_layers(
    normal: np.ndarray, next_uvz: np.ndarray, prev_uvz: np.ndarray, depth: np.ndarray, segmentation: np.ndarray,
    K: np.ndarray, cam_from_world: np.ndarray, near: float,
) -> SurfaceLayers:  # fmt: skip
    """The layers from the surface pass: normal, next_uvz, prev_uvz (T, H, W, 4) float32 as read
    back (``render.targets.ImageTargets.read_surface_into``), depth and segmentation (T, H, W),
    the camera's K (T, 3, 3) and cam_from_world (T, 4, 4) and near plane."""
    frames, height, width = depth.shape
    surface = normal[..., 3:4] > 0.5
    normals = np.where(surface, normal[..., :3], 0.0).astype(np.float16)
    flow_forward = np.zeros((frames, height, width, 2), np.float32)
    flow_backward = np.zeros_like(flow_forward)
    occluded_forward = np.ones((frames, height, width), bool)
    occluded_backward = np.ones_like(occluded_forward)
    slack = [depth_slack(depth[t], segmentation[t]) for t in range(frames)]
    for t in range(frames):
        if t + 1 < frames:
            flow_forward[t], occluded_forward[t] = flow_to(
                next_uvz[t], depth[t + 1], slack[t + 1], K[t], cam_from_world[t], K[t + 1], cam_from_world[t + 1], near
            )
        if t > 0:
            flow_backward[t], occluded_backward[t] = flow_to(
                prev_uvz[t], depth[t - 1], slack[t - 1], K[t], cam_from_world[t], K[t - 1], cam_from_world[t - 1], near
            )
    return SurfaceLayers(normals, flow_forward, flow_backward, occluded_forward, occluded_backward)


def compose_flow(flow_forward: np.ndarray, occluded_forward: np.ndarray, start: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Flow from frame ``start`` to frame ``start + steps`` by chaining forward flows (bilinear
    lookup of each next flow at the moved position): ((H, W, 2) float32, (H, W) bool lost: occluded
    in some frame on the way or left the image). Exact ground truth for one step; chaining
    interpolates between pixel centres, so prefer the tracks layer for long ranges."""
    frames, height, width = occluded_forward.shape
    if start < 0 or steps < 1 or start + steps >= frames:
        raise ValueError(f"compose_flow: frames {start}..{start + steps} outside the clip's {frames}")
    grid = pixel_grid(height, width)
    position = grid + flow_forward[start]
    lost = occluded_forward[start].copy()
    for t in range(start + 1, start + steps):
        column, row, inside = landing_pixels(position, width, height)
        lost |= ~inside | occluded_forward[t][row, column]
        position = position + _bilinear(flow_forward[t], position)
    return (position - grid).astype(np.float32), lost


def _bilinear(image: np.ndarray, uv: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    u = np.clip(uv[..., 0], 0, width - 1)
    v = np.clip(uv[..., 1], 0, height - 1)
    u0, v0 = np.floor(u).astype(np.intp), np.floor(v).astype(np.intp)
    u1, v1 = np.minimum(u0 + 1, width - 1), np.minimum(v0 + 1, height - 1)
    fu, fv = (u - u0)[..., None], (v - v0)[..., None]
    top = image[v0, u0] * (1 - fu) + image[v0, u1] * fu
    bottom = image[v1, u0] * (1 - fu) + image[v1, u1] * fu
    return top * (1 - fv) + bottom * fv
