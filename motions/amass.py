"""AMASS motion files (.npz): SMPL-X and SMPL-H, in both key layouts, read without pickles.

Layouts:
- ``poses`` (N, 165) SMPL-X: root (3), body (63), jaw (3), left eye (3), right eye (3), left
  hand (45), right hand (45); or (N, 156) SMPL-H: root, body, left hand, right hand.
- split keys: ``root_orient`` (N, 3), ``pose_body`` (N, 63) and optionally ``pose_hand``
  (N, 90), ``pose_jaw`` (N, 3), ``pose_eye`` (N, 6).
Also read: ``trans`` (N, 3) metres, ``betas`` (K,) or (N, K) (the first 10 are used, missing
ones are 0), ``mocap_frame_rate`` or ``mocap_framerate``, and when present ``gender`` and
``surface_model_type`` (strings stored as numpy unicode or bytes arrays). Hand poses are taken
as relative to the flat hand (AMASS fits add no hand mean), as worldclips expects.

Up axis: AMASS is Z-up like worldclips. Files in the SMPL-X model's own Y-up frame are
recognised (``up_axis="auto"``: the body's up direction, the pelvis' native +Y, points along
world Y on average) or forced with ``up_axis="y"``; they are rotated +90 degrees about X.

Files are untrusted input: ``numpy.load(..., allow_pickle=False)`` only, and every problem is a
MotionFileError naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from worldclips.motions.safe_arrays import load_npz
from worldclips.motions.conventions import WORLD_FROM_NATIVE, axis_angle_to_matrix, matrix_to_axis_angle
from worldclips.motions.motion import MotionClip

SMPLX_WIDTH, SMPLH_WIDTH = 165, 156
UP_AXES = ("auto", "z", "y")
MAX_FRAMES = 250_000  # 35 minutes at 120 fps
MAX_FILE_BYTES = 1 << 30
MAX_INFLATED_BYTES = 384 << 20  # inflated arrays of one file: MAX_FRAMES of SMPL-X poses fit


class MotionFileError(ValueError):
    """A user motion file cannot be used; the message names the file and the key."""


@dataclass(frozen=True, eq=False)
class LoadedMotion:
    """A motion file's content at its own frame rate.

    motion: SMPL-X parameters in the Z-up world, transl as in the file (before any placement);
    source: the file; model_type: "smplx", "smplh" or "bvh"; gender: as stored ("" if absent).
    """

    motion: MotionClip
    source: str
    model_type: str
    gender: str = ""


def _array(archive, path: Path, key: str, dtype=np.float64) -> np.ndarray:
    try:
        value = archive[key]
    except ValueError as error:  # object arrays need pickles: refused
        raise MotionFileError(f"{path}: key {key!r}: cannot be read without pickle ({error})") from error
    except Exception as error:  # truncated or corrupt member
        raise MotionFileError(f"{path}: key {key!r}: unreadable ({type(error).__name__}: {error})") from error
    if not isinstance(value, np.ndarray):
        raise MotionFileError(f"{path}: key {key!r}: not a .npy array")
    if dtype is str:
        if value.dtype.kind not in "US" or value.size != 1:
            raise MotionFileError(f"{path}: key {key!r}: expected a string, got {value.dtype} array of shape {value.shape}")
        item = value.reshape(()).item()
        return item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
    if value.dtype.kind not in "fiu":
        raise MotionFileError(f"{path}: key {key!r}: expected numbers, got dtype {value.dtype}")
    value = value.astype(dtype)
    if not np.all(np.isfinite(value)):
        raise MotionFileError(f"{path}: key {key!r}: contains NaN or infinite values")
    return value


def _shaped(value: np.ndarray, path: Path, key: str, shape: tuple) -> np.ndarray:
    if value.shape != shape:
        want = "(" + ", ".join("N" if i == 0 and len(shape) > 1 else str(s) for i, s in enumerate(shape)) + ")"
        frames = f" with N = {shape[0]} frames" if len(shape) > 1 else ""
        raise MotionFileError(f"{path}: key {key!r}: expected shape {want}{frames}, got {value.shape}")
    return value


def _pose_layout(archive, names: set[str], path: Path) -> tuple[np.ndarray, str]:
    """(N, 55, 3) axis-angle per SMPL-X joint (root first) and the model type."""
    if "poses" in names:
        poses = _array(archive, path, "poses")
        if poses.ndim != 2 or poses.shape[1] not in (SMPLX_WIDTH, SMPLH_WIDTH) or poses.shape[0] < 1:
            raise MotionFileError(
                f"{path}: key 'poses': expected shape (N, 165) for SMPL-X or (N, 156) for SMPL-H, got {poses.shape}"
            )
        full = np.zeros((poses.shape[0], 55, 3))
        joints = poses.reshape(poses.shape[0], -1, 3)
        full[:, :22] = joints[:, :22]
        if poses.shape[1] == SMPLX_WIDTH:
            full[:, 22:25] = joints[:, 22:25]
            full[:, 25:55] = joints[:, 25:55]
            return full, "smplx"
        full[:, 25:55] = joints[:, 22:52]
        return full, "smplh"
    if "root_orient" not in names or "pose_body" not in names:
        missing = "root_orient" if "root_orient" not in names else "pose_body"
        raise MotionFileError(f"{path}: missing key {missing!r} (expected 'poses' or 'root_orient' + 'pose_body')")
    root = _array(archive, path, "root_orient")
    if root.ndim != 2 or root.shape[1] != 3 or root.shape[0] < 1:
        raise MotionFileError(f"{path}: key 'root_orient': expected shape (N, 3), got {root.shape}")
    n = root.shape[0]
    full = np.zeros((n, 55, 3))
    full[:, 0] = root
    full[:, 1:22] = _shaped(_array(archive, path, "pose_body"), path, "pose_body", (n, 63)).reshape(n, 21, 3)
    model = "smplh"
    if "pose_hand" in names:
        full[:, 25:55] = _shaped(_array(archive, path, "pose_hand"), path, "pose_hand", (n, 90)).reshape(n, 30, 3)
    if "pose_jaw" in names:
        full[:, 22] = _shaped(_array(archive, path, "pose_jaw"), path, "pose_jaw", (n, 3))
        model = "smplx"
    if "pose_eye" in names:
        full[:, 23:25] = _shaped(_array(archive, path, "pose_eye"), path, "pose_eye", (n, 6)).reshape(n, 2, 3)
        model = "smplx"
    return full, model


def _frame_rate(archive, names: set[str], path: Path) -> float:
    for key in ("mocap_frame_rate", "mocap_framerate"):
        if key in names:
            value = _array(archive, path, key)
            if value.size != 1 or not 0.1 <= float(value.reshape(-1)[0]) <= 10000:
                raise MotionFileError(f"{path}: key {key!r}: expected one frame rate in 0.1..10000 Hz, got {value.reshape(-1)[:3]}")
            return float(value.reshape(-1)[0])
    raise MotionFileError(f"{path}: missing key 'mocap_frame_rate' (or 'mocap_framerate')")


def _betas(archive, names: set[str], path: Path, frames: int) -> np.ndarray:
    if "betas" not in names:
        return np.zeros(10)
    betas = _array(archive, path, "betas")
    if betas.ndim == 2 and betas.shape[0] == frames:
        betas = betas.mean(axis=0)
    if betas.ndim != 1 or betas.size < 1:
        raise MotionFileError(f"{path}: key 'betas': expected shape (K,) or (N, K), got {betas.shape}")
    out = np.zeros(10)
    out[: min(10, betas.size)] = betas[:10]
    return out


def detect_up_axis(global_orient: np.ndarray) -> str:
    """"z" or "y": the world axis the pelvis' native up (+Y) points along on average over (N, 3) orients."""
    up = axis_angle_to_matrix(global_orient)[:, :, 1].mean(axis=0)
    return "y" if abs(up[1]) > abs(up[2]) else "z"


def load_amass(path: str | Path, up_axis: str = "auto") -> LoadedMotion:
    """Read an AMASS .npz (SMPL-X or SMPL-H, either layout) into a Z-up LoadedMotion."""
    path = Path(path)
    if up_axis not in UP_AXES:
        raise ValueError(f"up_axis: expected one of {list(UP_AXES)}, got {up_axis!r}")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise MotionFileError(f"{path}: {size} bytes, more than the {MAX_FILE_BYTES} a motion file may have")
        data = path.read_bytes()
    except FileNotFoundError:
        raise MotionFileError(f"{path}: no such file") from None
    except OSError as error:
        raise MotionFileError(f"{path}: cannot read ({error})") from error
    if data.startswith(b"\x93NUMPY"):
        raise MotionFileError(f"{path}: expected an .npz archive of named arrays, got a single .npy array")
    if not data.startswith(b"PK"):
        raise MotionFileError(f"{path}: not a readable .npz archive (not a zip file)")
    try:  # sizes declared by the zip and each array's header are checked before anything is inflated
        archive = load_npz(data, str(path), max_bytes=MAX_INFLATED_BYTES)
    except ValueError as error:
        raise MotionFileError(str(error)) from None
    names = set(archive)
    full, model = _pose_layout(archive, names, path)
    frames = full.shape[0]
    if frames > MAX_FRAMES:
        raise MotionFileError(f"{path}: key 'poses': {frames} frames is more than {MAX_FRAMES}")
    if "trans" not in names:
        raise MotionFileError(f"{path}: missing key 'trans'")
    trans = _shaped(_array(archive, path, "trans"), path, "trans", (frames, 3))
    fps = _frame_rate(archive, names, path)
    betas = _betas(archive, names, path, frames)
    gender = _array(archive, path, "gender", str) if "gender" in names else ""
    if "surface_model_type" in names:
        stored = _array(archive, path, "surface_model_type", str).lower()
        if stored not in ("smplx", "smplh", "smpl+h", "smplhf"):
            raise MotionFileError(f"{path}: key 'surface_model_type': expected 'smplx' or 'smplh', got {stored!r}")
    orient = full[:, 0]
    axis = detect_up_axis(orient) if up_axis == "auto" else up_axis
    if axis == "y":  # rotate the whole motion +90 degrees about X; positions rotate about the origin
        orient = matrix_to_axis_angle(WORLD_FROM_NATIVE @ axis_angle_to_matrix(orient))
        trans = trans @ WORLD_FROM_NATIVE.T
    motion = MotionClip(
        fps=fps, betas=betas, global_orient=orient, body_pose=full[:, 1:22], left_hand_pose=full[:, 25:40],
        right_hand_pose=full[:, 40:55], jaw_pose=full[:, 22], leye_pose=full[:, 23], reye_pose=full[:, 24],
        expression=np.zeros((frames, 10)), transl=trans,
    )  # fmt: skip
    return LoadedMotion(motion=motion, source=str(path), model_type=model, gender=gender)
