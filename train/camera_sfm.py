"""Camera adherence without network weights: the camera path recovered from a video by classical
structure from motion (COLMAP through pycolmap: SIFT, exhaustive matching, incremental mapping with
the known pinhole intrinsics held fixed), against the ground-truth path.

Both paths are expressed relative to the first frame (camera 0 at the origin). SfM's scale is free:
it is fixed with the ground-truth depth of the first frame (the median ratio of the ground-truth
depth to the SfM depth of the 3D points seen in frame 0), so translation errors are in metres
without looking at the ground-truth path. Per frame: the rotation error (degrees, the angle of
R_gt^T R_est) and the translation error (metres) of cam_t relative to cam_0. Frames SfM could not
register count as failures and are reported, not averaged.

Run on the ground-truth video too, the same estimator gives its own error floor, which the model's
figures should be read against. pycolmap is optional (``pip install 'worldclips[eval]'``).
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.ndimage import binary_dilation


SEED = 0  # COLMAP's RANSAC and mapper draws: the same frames give the same path


@dataclass(frozen=True)
class RecoveredPath:
    """cam_from_world (F, 4, 4) of the registered frames (identity elsewhere), registered (F,) bool,
    and the 3D points in camera 0's frame (N, 3) with their pixels in frame 0 (N, 2)."""

    cam_from_world: np.ndarray
    registered: np.ndarray
    points_cam0: np.ndarray
    pixels0: np.ndarray


def pycolmap_module():
    try:
        import pycolmap
    except ImportError:
        raise RuntimeError("camera adherence needs pycolmap: pip install 'worldclips[eval]' (or pip install pycolmap)") from None
    return pycolmap


def recover_path(frames: np.ndarray, K: np.ndarray, ignore: np.ndarray | None = None, workdir: Path | None = None) -> RecoveredPath:
    """frames (F, H, W, 3) uint8 and the pinhole K (3, 3) (pixel centres at integers) -> the SfM path.
    ``ignore`` (F, H, W) bool: pixels whose features are dropped (the moving persons, grown by 2
    pixels: SfM assumes a static scene). Images smaller than 256 pixels a side are upscaled (SIFT
    needs some scale space)."""
    pycolmap = pycolmap_module()
    count, height, width = frames.shape[:3]
    scale = max(1, math.ceil(256 / min(height, width)))
    quiet = pycolmap.logging.minloglevel
    pycolmap.logging.minloglevel = 2  # COLMAP's per-image progress lines: errors only
    try:
        return _recover(pycolmap, frames, K, ignore, workdir, scale)
    finally:
        pycolmap.logging.minloglevel = quiet


def _recover(pycolmap, frames, K, ignore, workdir, scale) -> RecoveredPath:
    from PIL import Image

    count, height, width = frames.shape[:3]
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        images, masks, database, output = (Path(tmp) / name for name in ("images", "masks", "db.db", "sparse"))
        for folder in (images, masks, output):
            folder.mkdir()
        for index, frame in enumerate(frames):
            Image.fromarray(frame).resize((width * scale, height * scale), Image.BICUBIC).save(images / f"{index:04d}.png")
            if ignore is not None:
                keep = ~binary_dilation(ignore[index], np.ones((3, 3), bool), iterations=2)  # 2 px, 8-connected
                mask = Image.fromarray((keep * 255).astype(np.uint8)).resize((width * scale, height * scale), Image.NEAREST)
                mask.save(masks / f"{index:04d}.png.png")  # COLMAP's name for the mask of image NAME
        reader = pycolmap.ImageReaderOptions()
        if ignore is not None:
            reader.mask_path = str(masks)
        reader.camera_model = "PINHOLE"  # COLMAP puts the first pixel's centre at (0.5, 0.5)
        fx, fy, cx, cy = K[0, 0] * scale, K[1, 1] * scale, (K[0, 2] + 0.5) * scale, (K[1, 2] + 0.5) * scale
        reader.camera_params = f"{fx},{fy},{cx},{cy}"
        extraction = pycolmap.FeatureExtractionOptions()
        extraction.num_threads = 1
        extraction.sift.peak_threshold = 0.004  # small, soft frames: more and weaker features
        pycolmap.extract_features(database, images, camera_mode=pycolmap.CameraMode.SINGLE, reader_options=reader,
                                  extraction_options=extraction, device=pycolmap.Device.cpu)  # fmt: skip
        matching = pycolmap.FeatureMatchingOptions()
        matching.num_threads = 1
        verification = pycolmap.TwoViewGeometryOptions()
        verification.ransac.random_seed = SEED
        pycolmap.match_exhaustive(database, matching_options=matching, verification_options=verification,
                                  device=pycolmap.Device.cpu)  # fmt: skip
        candidates = []
        for pair in (None, (1, count // 2 + 1), (1, count)):  # COLMAP's own initial pair, then frame 0 with the middle or last
            options = _mapping_options(pycolmap, pair)
            folder = output / ("auto" if pair is None else f"{pair[0]}-{pair[1]}")
            folder.mkdir()
            candidates.extend(pycolmap.incremental_mapping(database, images, folder, options).values())
        # A wrong initial pair (planar floors, repeated planks) converges to a wrong path that still
        # registers every frame, with a larger reprojection error: keep the most frames, then the smallest error.
        best = min(candidates, key=lambda r: (-r.num_reg_images(), r.compute_mean_reprojection_error()), default=None)
        return _path_of(best, count, scale)


def _mapping_options(pycolmap, pair: tuple[int, int] | None):
    """Incremental mapping with the intrinsics held fixed; ``pair``: initial image ids (1-based)."""
    options = pycolmap.IncrementalPipelineOptions()
    options.num_threads = 1
    options.min_model_size = 3
    options.ba_refine_focal_length = False
    options.ba_refine_principal_point = False
    options.ba_refine_extra_params = False
    options.min_num_matches = 10
    options.mapper.init_min_num_inliers = 30
    options.mapper.init_min_tri_angle = 4.0  # degrees: short camera paths
    options.random_seed = options.mapper.random_seed = SEED
    if pair is not None:
        options.init_image_id1, options.init_image_id2 = pair
    return options


def _path_of(best, count: int, scale: int) -> RecoveredPath:
    poses = np.tile(np.eye(4), (count, 1, 1))
    registered = np.zeros(count, dtype=bool)
    empty = RecoveredPath(poses, registered, np.zeros((0, 3)), np.zeros((0, 2)))
    if best is None:
        return empty
    frame0 = None
    for image in best.images.values():
        index = int(Path(image.name).stem)
        if not image.has_pose:
            continue
        poses[index][:3] = image.cam_from_world().matrix()  # (3, 4)
        registered[index] = True
        if index == 0:
            frame0 = image
    if frame0 is None:  # without frame 0 nothing is relative to it
        return RecoveredPath(poses, np.zeros(count, dtype=bool), empty.points_cam0, empty.pixels0)
    points, pixels = [], []
    for point2d in frame0.points2D:
        if point2d.has_point3D():
            world = best.points3D[point2d.point3D_id].xyz
            points.append(poses[0][:3, :3] @ world + poses[0][:3, 3])
            pixels.append(np.asarray(point2d.xy) / scale - 0.5)
    return RecoveredPath(poses, registered, np.asarray(points).reshape(-1, 3), np.asarray(pixels).reshape(-1, 2))


def relative_to_first(cam_from_world: np.ndarray) -> np.ndarray:
    """(F, 4, 4) cam_t_from_world -> cam_t_from_cam0."""
    return cam_from_world @ np.linalg.inv(cam_from_world[0])


def depth_scale(path: RecoveredPath, depth0: np.ndarray) -> float | None:
    """Metres per SfM unit: the median of ground-truth depth over SfM depth at frame 0's points."""
    if len(path.points_cam0) < 5:
        return None
    height, width = depth0.shape
    cols, rows = np.rint(path.pixels0).astype(int).T
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width) & (path.points_cam0[:, 2] > 0)
    true = depth0[rows[inside], cols[inside]]
    keep = np.isfinite(true) & (true > 0)
    if keep.sum() < 5:
        return None
    return float(np.median(true[keep] / path.points_cam0[inside][keep, 2]))


def path_errors(path: RecoveredPath, true_cam_from_world: np.ndarray, depth0: np.ndarray) -> dict:
    """Per-clip camera adherence: registered frames, mean rotation error (degrees) and mean
    translation error (metres, SfM scaled by the first-frame depth) over the registered frames
    after the first, and the ground-truth path length for scale."""
    count = len(true_cam_from_world)
    true_rel = relative_to_first(true_cam_from_world)
    centres = np.linalg.inv(true_rel)[:, :3, 3]  # camera t's centre in camera 0
    length = float(np.linalg.norm(np.diff(centres, axis=0), axis=1).sum())
    report = {"frames": count, "registered": int(path.registered.sum()), "path_length_m": length,
              "rotation_deg": None, "translation_m": None}  # fmt: skip
    if not path.registered[0] or path.registered.sum() < 2:
        return report
    est_rel = relative_to_first(path.cam_from_world)
    frames = [t for t in range(1, count) if path.registered[t]]
    rotation = [_angle_deg(true_rel[t][:3, :3].T @ est_rel[t][:3, :3]) for t in frames]
    report["rotation_deg"] = float(np.mean(rotation))
    scale = depth_scale(path, depth0)
    if scale is not None:
        est_centres = np.linalg.inv(est_rel)[:, :3, 3] * scale
        report["translation_m"] = float(np.mean([np.linalg.norm(est_centres[t] - centres[t]) for t in frames]))
        report["scale"] = scale
    return report


def _angle_deg(rotation: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip((np.trace(rotation) - 1.0) / 2.0, -1.0, 1.0))))
