"""What ``validate`` checks in the optional layers (shards.format.layer_registry), beyond the shapes
and dtypes their decoders already insist on. Each check takes the decoded layer, the clip's
(T, H, W) and its segmentation, and returns problems as one-line strings (empty: fine)."""

from __future__ import annotations

import numpy as np

UNIT_TOLERANCE = 2e-3  # float16 unit vectors: |n| within this of 1
TRACK_ON_OWN_INSTANCE = 0.95  # visible tracks whose nearest pixel shows their own instance


def check_normals(normals: np.ndarray, sizes: tuple[int, int, int], segmentation: np.ndarray) -> list[str]:
    if normals.shape != (*sizes, 3):
        return [f"normals.npz: shape {normals.shape}, meta.json declares {(*sizes, 3)}"]
    values = normals.astype(np.float32)
    if not np.isfinite(values).all():
        return ["normals.npz: values that are not finite"]
    length = np.linalg.norm(values, axis=-1)
    drawn = length > 0
    if np.any(np.abs(length[drawn] - 1.0) > UNIT_TOLERANCE):
        return [f"normals.npz: normals that are not unit length (worst {np.max(np.abs(length[drawn] - 1.0)):.4f})"]
    return []


def check_flow(flow: dict[str, np.ndarray], sizes: tuple[int, int, int], segmentation: np.ndarray) -> list[str]:
    problems = []
    for name in ("forward", "backward"):
        if flow[name].shape != (*sizes, 2):
            problems.append(f"flow.npz/{name}: shape {flow[name].shape}, meta.json declares {(*sizes, 2)}")
        elif not np.isfinite(flow[name]).all():
            problems.append(f"flow.npz/{name}: values that are not finite")
        if flow[f"occluded_{name}"].shape != sizes:
            problems.append(f"flow.npz/occluded_{name}: shape {flow[f'occluded_{name}'].shape}, meta.json declares {sizes}")
    if problems:
        return problems
    if not (flow["occluded_forward"][-1].all() and flow["occluded_backward"][0].all()):
        problems.append("flow.npz: the last frame's forward / first frame's backward flow must be all occluded")
    return problems


def check_tracks(tracks: dict[str, np.ndarray], sizes: tuple[int, int, int], segmentation: np.ndarray) -> list[str]:
    frames, height, width = sizes
    count = len(tracks["query_points"])
    shapes = {"query_points": (count, 3), "tracks": (count, frames, 2), "visible": (count, frames),
              "points_world": (count, frames, 3), "instance_ids": (count,), "kinds": (count,)}  # fmt: skip
    wrong = [f"tracks.npz/{name}: shape {tracks[name].shape}, expected {shape}" for name, shape in shapes.items()
             if tracks[name].shape != shape]  # fmt: skip
    if wrong:
        return wrong[:1]
    if not (np.isfinite(tracks["tracks"]).all() and np.isfinite(tracks["points_world"]).all()):
        return ["tracks.npz: positions that are not finite"]
    if count == 0:
        return []
    if np.any(tracks["kinds"] > 2):
        return ["tracks.npz/kinds: expected 0 (person), 1 (prop) or 2 (scenery)"]
    first = tracks["query_points"][:, 0].astype(np.int64)
    if np.any(first < 0) or np.any(first >= frames) or not tracks["visible"][np.arange(count), first].all():
        return ["tracks.npz/query_points: every query frame must be one where its point is visible"]
    point, frame = np.nonzero(tracks["visible"])
    uv = tracks["tracks"][point, frame]
    column, row = np.rint(uv[:, 0]).astype(np.int64), np.rint(uv[:, 1]).astype(np.int64)
    if np.any((column < 0) | (column >= width) | (row < 0) | (row >= height)):
        return ["tracks.npz: visible tracks outside the image"]
    own = segmentation[frame, row, column] == tracks["instance_ids"][point]
    if own.mean() < TRACK_ON_OWN_INSTANCE:
        return [f"tracks.npz: only {own.mean():.1%} of visible track points lie on their own instance's pixels"]
    return []
