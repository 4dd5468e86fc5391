"""A 2D walking path: a polyline with its corners rounded by circular arcs, by arc length.

The path runs from the first waypoint to the last one and continues straight past both ends
(along the first and last segment), so it is defined for every arc length s, negative ones
included. Each corner is replaced by the arc of radius CORNER_RADIUS tangent to both segments,
shrunk where the segments are too short to hold it (a corner's arc takes at most half of each
adjacent segment); a turn close to 180 degrees on short segments therefore stays sharp.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CORNER_RADIUS = 0.75  # metres: a comfortable walking turn


@dataclass(frozen=True, eq=False)
class SmoothPath:
    """Pieces (lines and arcs) of a rounded polyline, M pieces in order.

    start_s: (M,) arc length where each piece starts (start_s[0] = 0).
    start_point: (M, 2) world XY where each piece starts.
    start_heading: (M,) heading (radians, counter-clockwise from +X, unwrapped) at the start.
    curvature: (M,) signed curvature (1/m; 0 for lines, > 0 for left turns).
    length: arc length from the first to the last waypoint.
    """

    start_s: np.ndarray
    start_point: np.ndarray
    start_heading: np.ndarray
    curvature: np.ndarray
    length: float

    @classmethod
    def from_waypoints(cls, waypoints: np.ndarray, corner_radius: float = CORNER_RADIUS) -> "SmoothPath":
        """Build the path of (N >= 2, 2) waypoints; consecutive waypoints must differ."""
        points = np.asarray(waypoints, dtype=np.float64)
        deltas = np.diff(points, axis=0)
        lengths = np.linalg.norm(deltas, axis=1)
        if points.ndim != 2 or points.shape[0] < 2 or np.any(lengths <= 0):
            raise ValueError("waypoints: expected (N >= 2, 2) points with distinct consecutive points")
        headings = np.unwrap(np.arctan2(deltas[:, 1], deltas[:, 0]))
        turns = np.diff(headings)
        half_tan = np.tan(np.abs(turns) / 2.0)
        limit = 0.5 * np.minimum(lengths[:-1], lengths[1:])
        radius = np.where(half_tan > 1e-9, np.minimum(corner_radius, limit / np.maximum(half_tan, 1e-9)), 0.0)
        tangent = radius * half_tan  # distance from each corner to where its arc starts and ends
        cut_start = np.concatenate([[0.0], tangent])  # trimmed from the start of each segment
        cut_end = np.concatenate([tangent, [0.0]])
        s, pieces = 0.0, []
        for i in range(len(lengths)):
            direction = deltas[i] / lengths[i]
            straight = max(lengths[i] - cut_start[i] - cut_end[i], 0.0)
            pieces.append((s, points[i] + direction * cut_start[i], headings[i], 0.0))
            s += straight
            if i < len(turns) and radius[i] > 0:
                corner_start = points[i + 1] - direction * tangent[i]
                pieces.append((s, corner_start, headings[i], np.sign(turns[i]) / radius[i]))
                s += radius[i] * abs(turns[i])
        start_s, start_point, start_heading, curvature = (np.array(v, dtype=np.float64) for v in zip(*pieces))
        return cls(start_s, np.stack(start_point), start_heading, curvature, float(s))

    def evaluate(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(...,) arc lengths -> (positions (..., 2), unwrapped headings (...,))."""
        s = np.asarray(s, dtype=np.float64)
        piece = np.clip(np.searchsorted(self.start_s, s, side="right") - 1, 0, len(self.start_s) - 1)
        ds = s - self.start_s[piece]
        h0, k = self.start_heading[piece], self.curvature[piece]
        heading = h0 + k * ds
        # Exact arc displacement; the k -> 0 limit is the straight line.
        small = np.abs(k * ds) < 1e-6
        safe_k = np.where(small, 1.0, k)
        along = np.where(small, ds, np.sin(k * ds) / safe_k)
        across = np.where(small, 0.5 * k * ds**2, (1.0 - np.cos(k * ds)) / safe_k)
        c, si = np.cos(h0), np.sin(h0)
        offset = np.stack([c * along - si * across, si * along + c * across], axis=-1)
        return self.start_point[piece] + offset, heading
