"""Camera paths drawn from a scenario's ``camera:`` distributions around a layout's stage.

The camera stands at ``azimuth_deg`` about the stage's preferred side (``front``), ``distance_m``
from the focus point (horizontally) and ``height_m`` above the ground, looking at the focus.
Each family uses it as its start: orbit sweeps ``sweep_deg`` about the focus (centred on that
azimuth), dolly travels ``move_m`` sideways, pan_tilt swings its gaze by ``pan_deg``, tracking
keeps the offset to the followed character's smoothed pelvis, orbit_follow circles that pelvis.
A draw is kept when every eye position stays clear of the bodies and props (scenes.sampling's
clearances) and the line of sight to the focus passes no prop (clutter may not hide the action);
after 60 failed draws a high static camera in front is used.
"""

from __future__ import annotations

import numpy as np

from worldclips.scenes.camera_paths import eye_and_target
from worldclips.scenes.placement import camera_clear
from worldclips.scenes.scenarios.dists import choose, number
from worldclips.scenes.scenarios.schema import CameraDist
from worldclips.scenes.spec import (
    CameraPath,
    CameraSpec,
    DollyCamera,
    FollowOrbitCamera,
    OrbitCamera,
    PanTiltCamera,
    StaticCamera,
    TrackingCamera,
)

ATTEMPTS = 60
SIGHT_CLEARANCE_M = 0.3


def _v(values) -> tuple[float, ...]:
    return tuple(round(float(v), 4) for v in values)


def _planar(angle: float) -> np.ndarray:
    return np.array([np.cos(angle), np.sin(angle)])


def _follow_index(dist: CameraDist, stage) -> int:
    if dist.follow:
        name = stage.roles.get(dist.follow, dist.follow)
        return next(i for i, c in enumerate(stage.characters) if c.name == name)
    return stage.main if stage.main is not None else 0


def draw_path(rng, dist: CameraDist, stage, family: str) -> CameraPath:
    """One camera path of ``family`` (not checked for clearance)."""
    focus = np.asarray(stage.focus, dtype=np.float64)
    azimuth = stage.front + np.radians(number(rng, dist.azimuth_deg))
    distance, height = number(rng, dist.distance_m), number(rng, dist.height_m)
    eye = np.array([*(focus[:2] + distance * _planar(azimuth)), height])
    side = np.array([-np.sin(azimuth), np.cos(azimuth), 0.0])
    if family == "static":
        return StaticCamera(eye=_v(eye), target=_v(focus))
    if family in ("orbit", "orbit_follow"):
        sweep = np.radians(number(rng, dist.sweep_deg)) * float(rng.choice([-1.0, 1.0]))
        start = round(float(azimuth - sweep / 2), 4)
        if family == "orbit":
            return OrbitCamera(center=_v(focus), radius=round(distance, 4), height=round(height, 4), start=start, sweep=round(float(sweep), 4))
        return FollowOrbitCamera(character=_follow_index(dist, stage), radius=round(distance, 4), height=round(height, 4), start=start,
                                 sweep=round(float(sweep), 4), smoothing_s=round(number(rng, dist.smoothing_s), 3))  # fmt: skip
    if family == "dolly":
        move = number(rng, dist.move_m) * float(rng.choice([-1.0, 1.0]))
        return DollyCamera(eye_start=_v(eye - side * move / 2), eye_end=_v(eye + side * move / 2), target=_v(focus))
    if family == "pan_tilt":
        swing = np.tan(np.radians(number(rng, dist.pan_deg)) / 2) * distance * float(rng.choice([-1.0, 1.0]))
        return PanTiltCamera(eye=_v(eye), target_start=_v(focus - side * swing), target_end=_v(focus + side * swing))
    index = _follow_index(dist, stage)
    return TrackingCamera(character=index, offset=_v(eye - focus), smoothing_s=round(number(rng, dist.smoothing_s), 3))


def path_eyes(path: CameraPath, stage, frames: int) -> np.ndarray:
    """(N, 3) eye positions to check (for followers: along the followed body's track)."""
    if isinstance(path, TrackingCamera):
        track = stage.tracks[path.character][0]
        return np.column_stack([track, np.full(len(track), 0.95)]) + np.asarray(path.offset)
    if isinstance(path, FollowOrbitCamera):
        track = stage.tracks[path.character][0]
        angle = path.start + path.sweep * np.linspace(0.0, 1.0, len(track))
        return np.column_stack([track + path.radius * np.stack([np.cos(angle), np.sin(angle)], 1), np.full(len(track), path.height)])
    return eye_and_target(CameraSpec(path=path, fov_deg=60.0), frames, 1.0, [])[0]


def _sight_clear(eyes: np.ndarray, focus: np.ndarray, placed) -> bool:
    """No prop footprint within its radius + SIGHT_CLEARANCE_M of a line from an eye to the focus."""
    for xy, radius in placed:
        a, b = eyes[:, :2], focus[:2]
        ab = b - a
        u = np.clip(((xy - a) * ab).sum(1) / np.maximum((ab * ab).sum(1), 1e-12), 0.0, 1.0)
        if np.linalg.norm(a + u[:, None] * ab - xy, axis=1).min() < radius + SIGHT_CLEARANCE_M:
            return False
    return True


def sample_camera(rng, dist: CameraDist, stage, frames: int, clutter=()) -> tuple[CameraPath, float]:
    """(path, horizontal fov in degrees) for ``stage``; ``clutter``: (xy, radius) of props the
    layout did not place, which must not stand in the line of sight either."""
    focus = np.asarray(stage.focus, dtype=np.float64)
    fov = round(number(rng, dist.fov_deg), 3)
    placed = list(stage.placed) + list(clutter)
    for _ in range(ATTEMPTS):
        path = draw_path(rng, dist, stage, choose(rng, dist.family))
        eyes = path_eyes(path, stage, frames)
        if camera_clear(eyes, stage.tracks, placed) and _sight_clear(eyes, focus, clutter):
            return path, fov
    far = np.array([*(focus[:2] + 1.5 * max(number(rng, dist.distance_m), 3.0) * _planar(stage.front)), 3.0])
    return StaticCamera(eye=_v(far), target=_v(focus)), fov
