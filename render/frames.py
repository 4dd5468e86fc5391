"""RenderedClip: the per-frame arrays a renderer produces for a Scene."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worldclips.render.surface_layers import SurfaceLayers


@dataclass(frozen=True, eq=False)
class RenderedClip:
    """Images of one clip, row 0 at the top of the image (OpenCV convention).

    rgb: (T, H, W, 3) uint8 sRGB.
    depth: (T, H, W) float32 planar camera z in metres, 0 where no surface.
    segmentation: (T, H, W) uint16 instance ids, 0 where no object.
    surface: normals and optical flow (render.surface_layers) when they were asked for, else None.
    """

    rgb: np.ndarray
    depth: np.ndarray
    segmentation: np.ndarray
    surface: SurfaceLayers | None = None
