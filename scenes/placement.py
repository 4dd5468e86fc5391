"""Keeping things apart: clearances between characters, props and the camera, and the checks.

Characters are vertical body cylinders sweeping a path over time (``tracks``: per character
(centres (T, 2), radius)); static props are discs (``placed``: (xy (2,), radius)).
"""

from __future__ import annotations

import numpy as np

from worldclips.motions.path import SmoothPath

SWEPT_CLEARANCE_M = 0.1  # minimum gap between two characters' body cylinders in the same frame
PROP_CLEARANCE_M = 0.1  # gap kept between a character's body cylinder (any frame) and a prop
CAMERA_BODY_CLEARANCE_M = 0.6  # gap kept between a character's body cylinder and the camera
CAMERA_PROP_CLEARANCE_M = 0.4
MIN_CAMERA_HEIGHT_M = 0.4


def path_points(waypoints: np.ndarray, length: float, spacing: float = 0.05) -> np.ndarray:
    """(N, 2) points every ``spacing`` metres along the walker's rounded path, up to ``length``."""
    points, _ = SmoothPath.from_waypoints(np.asarray(waypoints)).evaluate(np.arange(0.0, length + spacing, spacing))
    return points


def min_distance(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) == 0 or len(b) == 0:
        return np.inf
    return float(np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1).min()))


def camera_clear(eyes: np.ndarray, occupied: list[np.ndarray], placed) -> bool:
    if eyes[:, 2].min() < MIN_CAMERA_HEIGHT_M:
        return False
    if any(min_distance(eyes[:, :2], path) < r + CAMERA_BODY_CLEARANCE_M for path, r in occupied):
        return False
    return all(np.linalg.norm(eyes[:, :2] - xy, axis=1).min() > r + CAMERA_PROP_CLEARANCE_M for xy, r in placed)


