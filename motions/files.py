"""User motion files (AMASS .npz, BVH) as character motions: scanning, windows, placement, ground.

A motion directory is scanned recursively once per process (``scan_motion_dir``, sorted POSIX
paths relative to the directory, so every worker sees the same list). A character's FileMotion
names a file, the start of a window in it (seconds) and where the window's first frame is put:
the pelvis at ``position`` and the body facing ``heading``. The window is resampled to the clip's
frame rate (slerp for rotations, linear for translations; a file shorter than the window holds
its last frame), turned and moved into place, lifted so its lowest foot vertex touches the
ground, and its contacts are detected from the heel and toe points (motions.contacts).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Literal

import numpy as np

from worldclips.motions.amass import LoadedMotion, MotionFileError, load_amass
from worldclips.motions.body import BodyModel, PosedBody, Skeleton
from worldclips.motions.contacts import detect_contacts, foot_points
from worldclips.motions.conventions import axis_angle_to_matrix, matrix_to_axis_angle, rotation_z
from worldclips.motions.generated import GeneratedMotion
from worldclips.motions.ground import lowest_foot_heights, shift_motion, shift_posed
from worldclips.motions.kinematics import blend_rotations
from worldclips.motions.motion import FRAME_PARAMETERS, MotionClip
from worldclips.motions.rig import Rig
from worldclips.motions.validation import check_family, duration, real, reals

SUFFIXES = (".npz", ".bvh")
ROTATIONS = ("global_orient", "body_pose", "left_hand_pose", "right_hand_pose", "jaw_pose", "leye_pose", "reye_pose")
CACHE_SIZE = 64


@dataclass(frozen=True)
class FileMotion:
    """A window of a user motion file.

    root: the motion directory (``--motion-dir``); path: the file, relative to it (POSIX).
    start: seconds into the file where the window begins.
    position: world XY (m) of the pelvis in the window's first frame; heading: the direction
        (rad) the body faces there.
    """

    root: str
    path: str
    start: float
    position: tuple[float, float]
    heading: float
    family: Literal["file"] = "file"

    def __post_init__(self) -> None:
        check_family(self, "file")
        relative = PurePosixPath(str(self.path))
        if relative.is_absolute() or ".." in relative.parts or not str(self.path):
            raise ValueError(f"FileMotion.path: expected a path inside the motion directory, got {self.path!r}")
        if relative.suffix.lower() not in SUFFIXES:
            raise ValueError(f"FileMotion.path: expected a {' or '.join(SUFFIXES)} file, got {self.path!r}")
        object.__setattr__(self, "start", duration("FileMotion.start", self.start, 1e7))
        object.__setattr__(self, "position", reals("FileMotion.position", self.position, count=2))
        object.__setattr__(self, "heading", real("FileMotion.heading", self.heading))

    def file(self, root: str | Path | None = None) -> Path:
        """The file's path on this machine (``root`` overrides the recorded directory)."""
        return Path(root if root is not None else self.root) / PurePosixPath(self.path)


@lru_cache(maxsize=8)
def scan_motion_dir(root: str) -> tuple[str, ...]:
    """Sorted relative POSIX paths of every .npz and .bvh file under ``root`` (recursive)."""
    directory = Path(root).expanduser()
    if not directory.is_dir():
        raise MotionFileError(f"motion_dir: {directory} is not a directory")
    found = sorted(
        p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
    )
    if not found:
        raise MotionFileError(f"motion_dir: no .npz or .bvh files under {directory}")
    return tuple(found)


@lru_cache(maxsize=CACHE_SIZE)
def _load_cached(path: str, rest_key: bytes, betas_key: bytes) -> LoadedMotion:
    if path.lower().endswith(".npz"):
        return load_amass(path)
    from worldclips.motions.bvh import load_bvh

    rest = np.frombuffer(rest_key, dtype=np.float64).reshape(55, 3)
    return load_bvh(path, rest, np.frombuffer(betas_key, dtype=np.float64))


def load_motion_file(path: str | Path, skeleton: Skeleton, betas: np.ndarray) -> LoadedMotion:
    """An AMASS or BVH file (cached); BVH files are retargeted to ``skeleton`` (the body with ``betas``)."""
    path = str(path)
    if path.lower().endswith(".npz"):
        return _load_cached(path, b"", b"")
    rest = np.ascontiguousarray(skeleton.rest_joints, dtype=np.float64)
    return _load_cached(path, rest.tobytes(), np.ascontiguousarray(betas, dtype=np.float64).tobytes())


def resample(motion: MotionClip, fps: float, start: float, frames: int) -> MotionClip:
    """``frames`` frames at ``fps`` from ``start`` seconds: slerp for rotations, linear otherwise."""
    source = motion.num_frames
    position = np.clip((start + np.arange(frames) / fps) * motion.fps, 0.0, source - 1)
    low = np.minimum(np.floor(position).astype(int), max(source - 2, 0))
    high = np.minimum(low + 1, source - 1)
    weight = position - low
    values = {}
    for name in FRAME_PARAMETERS:
        array = getattr(motion, name).astype(np.float64)
        if name in ROTATIONS:
            a, b = axis_angle_to_matrix(array[low]), axis_angle_to_matrix(array[high])
            w = weight.reshape(-1, *([1] * (array.ndim - 2)))
            values[name] = matrix_to_axis_angle(blend_rotations(a, b, np.broadcast_to(w, a.shape[:-2])))
        else:
            w = weight.reshape(-1, *([1] * (array.ndim - 1)))
            values[name] = array[low] + (array[high] - array[low]) * w
    return MotionClip(fps=fps, betas=motion.betas, **values)


def facing(global_orient: np.ndarray) -> np.ndarray:
    """(T,) heading (rad) the body faces: the pelvis' native +Z projected on the ground."""
    forward = axis_angle_to_matrix(global_orient)[..., :, 2]
    return np.arctan2(forward[..., 1], forward[..., 0])


def place(motion: MotionClip, rest_pelvis: np.ndarray, position: np.ndarray, heading: float) -> MotionClip:
    """Turn the motion about +Z and move it so frame 0's pelvis is above ``position`` facing ``heading``."""
    turn = rotation_z(heading - facing(motion.global_orient[:1].astype(np.float64))[0])
    pelvis = motion.transl.astype(np.float64) + rest_pelvis
    origin = np.array([pelvis[0, 0], pelvis[0, 1], 0.0])
    moved = (pelvis - origin) @ turn.T + np.array([position[0], position[1], 0.0])
    values = motion.frame_arrays()
    values["global_orient"] = matrix_to_axis_angle(turn @ axis_angle_to_matrix(motion.global_orient.astype(np.float64)))
    values["transl"] = moved - rest_pelvis
    return MotionClip(fps=motion.fps, betas=motion.betas, **values)


def window_motion(params: FileMotion, skeleton: Skeleton, betas: np.ndarray, fps: float, frames: int, root=None) -> MotionClip:
    """The placed, resampled window of ``params`` (not yet on the ground)."""
    loaded = load_motion_file(params.file(root), skeleton, betas)
    window = resample(loaded.motion, fps, params.start, frames)
    window = MotionClip(fps=fps, betas=betas, **window.frame_arrays())
    return place(window, np.asarray(skeleton.rest_joints[0], dtype=np.float64), np.asarray(params.position), params.heading)


def file_motion(
    params: FileMotion, skeleton: Skeleton, betas: np.ndarray, body: BodyModel, fps: float, frames: int, root=None
) -> tuple[GeneratedMotion, PosedBody]:
    """The ground-aligned motion of ``params`` with detected contacts, and its posed body."""
    motion = window_motion(params, skeleton, betas, fps, frames, root)
    posed = body.pose(motion)
    dz = -float(lowest_foot_heights(posed, skeleton.sole_height).min())
    motion, posed = shift_motion(motion, dz), shift_posed(posed, dz)
    contact = detect_contacts(foot_points(Rig.from_skeleton(skeleton), motion), fps)
    return GeneratedMotion(motion=motion, contact=contact), posed
