"""BVH motion files, read with bvhio and retargeted to the SMPL-X skeleton (motions.retarget).

The file is first checked line by line (bvhio loops forever on a file cut short): HIERARCHY,
balanced braces, MOTION, ``Frames: N``, ``Frame Time: dt`` and N rows of as many numbers as
there are channels. Then bvhio parses it; rotations are intrinsic Euler angles in channel order.

Axes and units: BVH files are Y-up (CMU, Mixamo) like SMPL-X's native frame; ``up_axis="auto"``
also recognises Z-up skeletons (the rest pose's spine points along Z). Units are found from the
legs: translations are scaled by the SMPL-X leg length over the BVH rest leg length (hip to knee
to ankle), which also retargets the root's path to the body's proportions.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from worldclips.motions.amass import LoadedMotion, MotionFileError
from worldclips.motions.conventions import SMPLX_JOINT_NAMES, SMPLX_PARENTS, WORLD_FROM_NATIVE, matrix_to_axis_angle
from worldclips.motions.kinematics import rot_x, transpose
from worldclips.motions.motion import MotionClip
from worldclips.motions.retarget import REQUIRED, match_names, rest_corrections, smplx_world_rotations

UP_AXES = ("auto", "y", "z")
MAX_BYTES = 512 << 20


def _channel_count(lines: list[str], path: Path) -> tuple[int, int]:
    """(total channels, index of the MOTION line), checking the hierarchy's structure."""
    if not lines or lines[0].split() != ["HIERARCHY"]:
        raise MotionFileError(f"{path}: line 1: expected 'HIERARCHY'")
    depth, channels, opened = 0, 0, False
    for number, line in enumerate(lines[1:], start=2):
        tokens = line.split()
        if not tokens:
            continue
        if tokens[0] == "MOTION":
            if depth or not opened:
                raise MotionFileError(f"{path}: line {number}: MOTION before the hierarchy is closed")
            return channels, number - 1
        if tokens[0] == "{":
            depth, opened = depth + 1, True
        elif tokens[0] == "}":
            depth -= 1
            if depth < 0:
                raise MotionFileError(f"{path}: line {number}: unbalanced '}}'")
        elif tokens[0] == "CHANNELS":
            try:
                count = int(tokens[1])
            except (IndexError, ValueError):
                raise MotionFileError(f"{path}: line {number}: CHANNELS needs a count") from None
            if count != len(tokens) - 2 or count > 9:
                raise MotionFileError(f"{path}: line {number}: CHANNELS count {count} does not match its labels")
            channels += count
    raise MotionFileError(f"{path}: no MOTION section (file truncated?)")


MAX_CHANNEL_VALUE = 1e6  # larger rotations or offsets are corrupt data (and overflow the rotation maths)


def check_bvh_text(text: str, path: Path) -> int:
    """Validate the layout of a BVH file's text; returns its frame count."""
    lines = text.splitlines()
    channels, motion = _channel_count(lines, path)
    rest = [line for line in lines[motion + 1 :] if line.strip()]
    if len(rest) < 2 or not rest[0].startswith("Frames:") or not rest[1].startswith("Frame Time:"):
        raise MotionFileError(f"{path}: MOTION must be followed by 'Frames: N' and 'Frame Time: dt'")
    try:
        frames = int(rest[0].split()[1])
        frame_time = float(rest[1].split()[2])
    except (IndexError, ValueError):
        raise MotionFileError(f"{path}: bad 'Frames:' or 'Frame Time:' line") from None
    if frames < 1 or not 1e-4 <= frame_time <= 10.0:
        raise MotionFileError(f"{path}: Frames: expected >= 1 and Frame Time in [0.0001, 10] s, got {frames}, {frame_time}")
    if len(rest) - 2 < frames:
        raise MotionFileError(f"{path}: MOTION: expected {frames} frames, found {len(rest) - 2} (file truncated?)")
    for i, row in enumerate(rest[2 : 2 + frames]):
        values = row.split()
        if len(values) != channels:
            raise MotionFileError(f"{path}: MOTION frame {i}: expected {channels} values, got {len(values)}")
    try:
        data = np.array([row.split() for row in rest[2 : 2 + frames]], dtype=np.float64)
    except ValueError:
        raise MotionFileError(f"{path}: MOTION: non-numeric values") from None
    if not np.all(np.isfinite(data)):
        raise MotionFileError(f"{path}: MOTION: NaN or infinite values")
    if data.size and np.abs(data).max() > MAX_CHANNEL_VALUE:
        raise MotionFileError(f"{path}: MOTION: a value of magnitude {np.abs(data).max():.3g}, expected at most {MAX_CHANNEL_VALUE:g} (degrees or length units)")
    return frames


def _quat_matrices(quats: np.ndarray) -> np.ndarray:
    """(..., 4) unit quaternions (w, x, y, z) -> (..., 3, 3)."""
    w, x, y, z = np.moveaxis(quats / np.linalg.norm(quats, axis=-1, keepdims=True), -1, 0)
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
    ], -2)  # fmt: skip


def read_bvh(path: str | Path) -> tuple[list[str], list[int], np.ndarray, np.ndarray, np.ndarray, float]:
    """(names, parents, rest offsets (J, 3), local translations (T, J, 3), local rotations (T, J, 3, 3), fps)."""
    with warnings.catch_warnings():  # PyGLM announces a future import path; not ours to change
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        import bvhio

    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise MotionFileError(f"{path}: larger than {MAX_BYTES >> 20} MiB")
        text = path.read_text(encoding="utf-8", errors="strict")
    except FileNotFoundError:
        raise MotionFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise MotionFileError(f"{path}: cannot read as text ({error})") from error
    check_bvh_text(text, path)
    try:
        container = bvhio.readAsBvh(str(path))
    except Exception as error:  # bvhio raises SyntaxError with a tuple of debug info
        detail = error.args[0] if error.args else type(error).__name__
        raise MotionFileError(f"{path}: not a valid BVH file ({detail})") from error
    layout = container.Root.layout()
    names = [joint.Name for joint, _, _ in layout]
    index = {id(joint): i for i, (joint, _, _) in enumerate(layout)}
    parents = [-1] * len(layout)
    for joint, i, _ in layout:
        for child in joint.Children:
            parents[index[id(child)]] = i
    offsets = np.array([list(joint.Offset) for joint, _, _ in layout], dtype=np.float64)
    frames = container.FrameCount
    positions = np.array([[list(key.Position) for key in joint.Keyframes[:frames]] for joint, _, _ in layout])
    quats = np.array([[[key.Rotation.w, key.Rotation.x, key.Rotation.y, key.Rotation.z] for key in joint.Keyframes[:frames]] for joint, _, _ in layout])
    return names, parents, offsets, np.swapaxes(positions, 0, 1), _quat_matrices(np.swapaxes(quats, 0, 1)), 1.0 / container.FrameTime


def _forward(parents: list[int], local_t: np.ndarray, local_r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World rotations (T, J, 3, 3) and positions (T, J, 3) of a BVH skeleton."""
    world_r, world_p = np.empty_like(local_r), np.empty_like(local_t)
    for j, parent in enumerate(parents):
        if parent < 0:
            world_r[:, j], world_p[:, j] = local_r[:, j], local_t[:, j]
        else:
            world_r[:, j] = world_r[:, parent] @ local_r[:, j]
            world_p[:, j] = world_p[:, parent] + np.einsum("tij,tj->ti", world_r[:, parent], local_t[:, j])
    return world_r, world_p


def load_bvh(path: str | Path, rest_joints: np.ndarray, betas: np.ndarray | None = None, up_axis: str = "auto") -> LoadedMotion:
    """Read a BVH file and retarget it to the SMPL-X skeleton with (55, 3) native ``rest_joints``
    (the rest joints of the body with these (10,) ``betas``, stored in the motion)."""
    path = Path(path)
    if up_axis not in UP_AXES:
        raise ValueError(f"up_axis: expected one of {list(UP_AXES)}, got {up_axis!r}")
    names, parents, offsets, local_t, local_r, fps = read_bvh(path)
    style, mapping = match_names(names)
    missing = [SMPLX_JOINT_NAMES[j] for j in map(SMPLX_JOINT_NAMES.index, REQUIRED) if j not in mapping]
    if missing:
        raise MotionFileError(f"{path}: joints: no BVH joint for SMPL-X {missing} (CMU or Mixamo names expected)")
    rest_world = _forward(parents, offsets[None], np.broadcast_to(np.eye(3), (1, len(names), 3, 3)))[1][0]
    spine = rest_world[mapping[SMPLX_JOINT_NAMES.index("head")]] - rest_world[mapping[0]]
    axis = ("z" if abs(spine[2]) > abs(spine[1]) else "y") if up_axis == "auto" else up_axis
    native_from_bvh = rot_x(-np.pi / 2) if axis == "z" else np.eye(3)
    rest_world = rest_world @ native_from_bvh.T
    world_r, world_p = _forward(parents, local_t, local_r)
    world_r = native_from_bvh @ world_r @ native_from_bvh.T
    world_p = world_p @ native_from_bvh.T
    rest = np.asarray(rest_joints, dtype=np.float64)
    legs = [("left_hip", "left_knee", "left_ankle"), ("right_hip", "right_knee", "right_ankle")]
    leg = lambda points, index: sum(  # noqa: E731
        np.linalg.norm(points[index(b)] - points[index(a)]) for chain in legs for a, b in zip(chain[:-1], chain[1:])
    )
    bvh_leg = leg(rest_world, lambda n: mapping[SMPLX_JOINT_NAMES.index(n)])
    if bvh_leg <= 1e-9:
        raise MotionFileError(f"{path}: joints: the legs have zero length in the rest pose")
    scale = leg(rest, SMPLX_JOINT_NAMES.index) / bvh_leg
    corrections = rest_corrections(rest, rest_world, mapping)
    smplx_world = smplx_world_rotations(world_r, mapping, corrections)
    local = transpose(smplx_world[:, list(SMPLX_PARENTS[1:])]) @ smplx_world[:, 1:]
    axis_angle = matrix_to_axis_angle(local)
    pelvis = world_p[:, mapping[0]] * scale
    frames = len(pelvis)
    motion = MotionClip(
        fps=fps, betas=np.zeros(10) if betas is None else betas, global_orient=matrix_to_axis_angle(WORLD_FROM_NATIVE @ smplx_world[:, 0]),
        body_pose=axis_angle[:, 0:21], jaw_pose=axis_angle[:, 21], leye_pose=axis_angle[:, 22],
        reye_pose=axis_angle[:, 23], left_hand_pose=axis_angle[:, 24:39], right_hand_pose=axis_angle[:, 39:54],
        expression=np.zeros((frames, 10)), transl=pelvis @ WORLD_FROM_NATIVE.T - rest[0],
    )  # fmt: skip
    return LoadedMotion(motion=motion, source=str(path), model_type=f"bvh-{style}", gender="")
