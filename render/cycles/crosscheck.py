"""Cross-check: ground truth of the same Scene from two backends (Cycles and raster) must agree.

Figures over every frame, leaving out silhouette edges (1 pixel wide on each side):

- depth: median |difference| under 1 mm, and at least 99 % of the pixels within 1 cm, over the
  pixels where both backends see a surface;
- segmentation: at least 99 % of the pixels hold the same instance id (background included).

A pixel is a silhouette edge when its 3x3 neighbourhood, in either clip, holds another instance
id (or background), or a depth step larger than 10 % of its own depth (an occluding contour
within one instance, such as an arm in front of the body). There, which surface a pixel centre
sees depends on sub-pixel details of each renderer's geometry; everywhere else both must give the
same surface.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEPTH_MEDIAN_LIMIT_M = 1e-3
DEPTH_TOLERANCE_M = 1e-2
DEPTH_WITHIN_MIN = 0.99
SEGMENTATION_AGREEMENT_MIN = 0.99
CONTOUR_STEP = 0.10


@dataclass(frozen=True)
class CrossCheck:
    """Agreement of two clips' depth and segmentation (edges excluded)."""

    depth_median_m: float
    depth_within_1cm: float
    segmentation_agreement: float
    compared_pixels: int
    depth_pixels: int
    edge_pixels: int

    @property
    def ok(self) -> bool:
        return (
            self.depth_median_m < DEPTH_MEDIAN_LIMIT_M
            and self.depth_within_1cm >= DEPTH_WITHIN_MIN
            and self.segmentation_agreement >= SEGMENTATION_AGREEMENT_MIN
        )

    def summary(self) -> str:
        return (
            f"depth median |diff| {self.depth_median_m * 1000:.3f} mm (limit 1), "
            f"{self.depth_within_1cm * 100:.2f}% within 1 cm (min 99), "
            f"segmentation agreement {self.segmentation_agreement * 100:.2f}% (min 99); "
            f"{self.compared_pixels} pixels compared, {self.edge_pixels} edge pixels left out"
        )


def edge_mask(depth: np.ndarray, segmentation: np.ndarray) -> np.ndarray:
    """(..., H, W) bool: silhouette edges and occluding contours (see the module docstring)."""
    depth = np.asarray(depth, dtype=np.float64)
    seg = np.asarray(segmentation)
    pad = [(0, 0)] * (seg.ndim - 2) + [(1, 1), (1, 1)]
    seg_p = np.pad(seg, pad, mode="edge")
    depth_p = np.pad(depth, pad, mode="edge")
    height, width = seg.shape[-2:]
    edges = np.zeros(seg.shape, dtype=bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == dx == 0:
                continue
            seg_n = seg_p[..., 1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width]
            depth_n = depth_p[..., 1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width]
            edges |= seg_n != seg
            edges |= np.abs(depth_n - depth) > CONTOUR_STEP * np.minimum(depth, depth_n)
    return edges


def cross_check(depth_a, seg_a, depth_b, seg_b) -> CrossCheck:
    """Compare (T, H, W) depth and segmentation of two renderings of the same scene."""
    depth_a, depth_b = np.asarray(depth_a, dtype=np.float64), np.asarray(depth_b, dtype=np.float64)
    seg_a, seg_b = np.asarray(seg_a), np.asarray(seg_b)
    if not (depth_a.shape == depth_b.shape == seg_a.shape == seg_b.shape):
        raise ValueError(f"cross-check: shapes differ: {depth_a.shape}, {depth_b.shape}, {seg_a.shape}, {seg_b.shape}")
    edges = edge_mask(depth_a, seg_a) | edge_mask(depth_b, seg_b)
    keep = ~edges
    compared = int(keep.sum())
    surfaces = keep & (seg_a > 0) & (seg_b > 0) & (depth_a > 0) & (depth_b > 0)
    difference = np.abs(depth_a - depth_b)[surfaces]
    return CrossCheck(
        depth_median_m=float(np.median(difference)) if difference.size else 0.0,
        depth_within_1cm=float(np.mean(difference <= DEPTH_TOLERANCE_M)) if difference.size else 1.0,
        segmentation_agreement=float(np.mean(seg_a[keep] == seg_b[keep])) if compared else 1.0,
        compared_pixels=compared,
        depth_pixels=int(difference.size),
        edge_pixels=int(edges.sum()),
    )


def cross_check_clips(a, b) -> CrossCheck:
    """cross_check of two RenderedClips."""
    return cross_check(a.depth, a.segmentation, b.depth, b.segmentation)
