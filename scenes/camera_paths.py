"""Camera path families -> per-frame eye/target -> CameraTrack (OpenCV extrinsics, pixel K)."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from worldclips.motions.conventions import intrinsics, look_at_cam_from_world
from worldclips.scenes.scene import CameraTrack
from worldclips.scenes.spec import CameraSpec, DollyCamera, FollowOrbitCamera, OrbitCamera, PanTiltCamera, StaticCamera, TrackingCamera

NEAR_M = 0.05
FAR_M = 200.0


def focal_from_fov(fov_deg: float, width: int) -> float:
    """Focal length in pixels for a horizontal field of view spanning the image width."""
    return (width / 2.0) / np.tan(np.radians(fov_deg) / 2.0)


def _ease(num_frames: int) -> np.ndarray:
    """(T,) smoothstep from 0 to 1 over the clip (0 for a single frame)."""
    u = np.linspace(0.0, 1.0, num_frames) if num_frames > 1 else np.zeros(1)
    return u * u * (3.0 - 2.0 * u)


def eye_and_target(spec: CameraSpec, num_frames: int, fps: float, pelvis_tracks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(T, 3) eye and (T, 3) look-at target of a camera path; ``pelvis_tracks`` are (T, 3) per character."""
    path = spec.path
    ones = np.ones((num_frames, 1))
    if isinstance(path, StaticCamera):
        return ones * np.asarray(path.eye), ones * np.asarray(path.target)
    if isinstance(path, OrbitCamera):
        u = np.linspace(0.0, 1.0, num_frames) if num_frames > 1 else np.zeros(1)
        angle = path.start + path.sweep * u
        center = np.asarray(path.center)
        eye = np.stack(
            [center[0] + path.radius * np.cos(angle), center[1] + path.radius * np.sin(angle), np.full_like(angle, path.height)],
            axis=-1,
        )
        return eye, ones * center
    if isinstance(path, DollyCamera):
        s = _ease(num_frames)[:, None]
        eye = (1 - s) * np.asarray(path.eye_start) + s * np.asarray(path.eye_end)
        return eye, ones * np.asarray(path.target)
    if isinstance(path, PanTiltCamera):
        s = _ease(num_frames)[:, None]
        target = (1 - s) * np.asarray(path.target_start) + s * np.asarray(path.target_end)
        return ones * np.asarray(path.eye), target
    if isinstance(path, (TrackingCamera, FollowOrbitCamera)):
        name = type(path).__name__
        if not 0 <= path.character < len(pelvis_tracks):
            raise ValueError(f"{name}.character: no character {path.character} in this clip")
        pelvis = pelvis_tracks[path.character]
        sigma = max(path.smoothing_s * fps, 1e-6)
        target = gaussian_filter1d(pelvis, sigma, axis=0, mode="nearest")
        if isinstance(path, TrackingCamera):
            return target + np.asarray(path.offset), target
        u = np.linspace(0.0, 1.0, num_frames) if num_frames > 1 else np.zeros(1)
        angle = path.start + path.sweep * u
        eye = np.stack([target[:, 0] + path.radius * np.cos(angle), target[:, 1] + path.radius * np.sin(angle),
                        np.full(num_frames, path.height)], axis=-1)  # fmt: skip
        return eye, target
    raise TypeError(f"unknown camera path {type(path).__name__}")


def camera_track(spec: CameraSpec, width: int, height: int, num_frames: int, fps: float, pelvis_tracks: list[np.ndarray]) -> CameraTrack:
    """Resolve a camera spec into per-frame K and cam_from_world."""
    eye, target = eye_and_target(spec, num_frames, fps, pelvis_tracks)
    K = np.broadcast_to(intrinsics(focal_from_fov(spec.fov_deg, width), width, height), (num_frames, 3, 3)).copy()
    cam_from_world = look_at_cam_from_world(eye, target, roll=np.full(num_frames, spec.roll))
    return CameraTrack(K=K, cam_from_world=cam_from_world, near=NEAR_M, far=FAR_M, family=spec.path.family)
