"""Test writers of user motion files: AMASS .npz (both layouts) and BVH (CMU- and Mixamo-style)
written from SMPL-X parameters, so the loaders can be checked against known joints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from worldclips.motions.conventions import SMPLX_JOINT_NAMES, SMPLX_PARENTS, WORLD_FROM_NATIVE
from worldclips.motions.generated import local_rotations
from worldclips.motions.kinematics import forward_kinematics, rot_z
from worldclips.motions.motion import MotionClip
from worldclips.motions.retarget import CMU_NAMES, MIXAMO_NAMES, PRIMARY_CHILD, minimal_rotation


def write_amass(path: Path, motion: MotionClip, layout: str = "poses", model: str = "smplx", **extra) -> Path:
    """Write ``motion`` as an AMASS npz: layout "poses" or "split", model "smplx" or "smplh"."""
    n = motion.num_frames
    data = {"trans": motion.transl.astype(np.float64), "betas": np.concatenate([motion.betas, np.zeros(6)]),
            "gender": np.array("neutral"), "surface_model_type": np.array(model)}  # fmt: skip
    data["mocap_frame_rate" if model == "smplx" else "mocap_framerate"] = np.array(motion.fps)
    hands = motion.hand_pose.reshape(n, 90)
    if layout == "poses":
        parts = [motion.global_orient, motion.body_pose.reshape(n, 63)]
        if model == "smplx":
            parts += [motion.jaw_pose, motion.leye_pose, motion.reye_pose]
        data["poses"] = np.concatenate(parts + [hands], axis=1).astype(np.float64)
    else:
        data.update(root_orient=motion.global_orient, pose_body=motion.body_pose.reshape(n, 63), pose_hand=hands)
        if model == "smplx":
            data.update(pose_jaw=motion.jaw_pose, pose_eye=np.concatenate([motion.leye_pose, motion.reye_pose], 1))
    data.update(extra)
    np.savez(path, **{k: v for k, v in data.items() if v is not None})
    return path


def _style(style: str):
    names = CMU_NAMES if style == "cmu" else MIXAMO_NAMES
    inverse = {v: k for k, v in names.items()}
    prefix = "mixamorig:" if style == "mixamo" else ""
    return {SMPLX_JOINT_NAMES.index(v): prefix + k for v, k in inverse.items()}


def rest_pose_corrections(rest: np.ndarray, joints: list[int], arm_down_deg: float) -> dict[int, np.ndarray]:
    """Q per joint that turns the T-pose arms down by ``arm_down_deg`` (an A-pose rest), the way
    motions.retarget computes them back (minimal rotations of each primary bone)."""
    out = {}
    for side, sign in (("left", -1.0), ("right", 1.0)):
        turn = rot_z(np.radians(sign * arm_down_deg))
        start = SMPLX_JOINT_NAMES.index(f"{side}_shoulder")
        for joint in joints:
            chain, j = [], joint
            while j > 0:
                chain.append(j)
                j = SMPLX_PARENTS[j]
            if start in chain and joint in PRIMARY_CHILD and PRIMARY_CHILD[joint] in joints:
                d = rest[PRIMARY_CHILD[joint]] - rest[joint]
                out[joint] = minimal_rotation(d, turn @ d)
    return out


def write_bvh(path: Path, motion: MotionClip, rest: np.ndarray, style: str = "cmu", unit: float = 100.0, arm_down_deg: float = 0.0) -> Path:
    """Write ``motion`` (posed on the skeleton with (55, 3) native ``rest`` joints) as a Y-up BVH.

    style "cmu": CMU names, an extra LHipJoint/RHipJoint and Neck1 (never rotated), no fingers,
    ZXY channels. style "mixamo": ``mixamorig:`` names with fingers, ZYX channels. ``unit``
    scales lengths (100: centimetres); ``arm_down_deg`` gives the file an A-pose rest.
    """
    names = _style(style)
    joints = [j for j in range(55) if j in names]
    corrections = rest_pose_corrections(rest, joints, arm_down_deg)

    def correction(j: int) -> np.ndarray:
        while j >= 0:
            if j in corrections:
                return corrections[j]
            j = SMPLX_PARENTS[j]
        return np.eye(3)

    pelvis_rotation, pelvis, local = local_rotations(motion, rest)
    world, _ = forward_kinematics(rest, pelvis_rotation, pelvis, local)
    native = WORLD_FROM_NATIVE.T @ world  # (T, 55, 3, 3) world rotations in the file's (native) axes
    bvh_world = {j: native[:, j] @ correction(j).T for j in joints}
    order = "ZXY" if style == "cmu" else "ZYX"
    channels = " ".join(f"{axis}rotation" for axis in order)
    lines, rows = ["HIERARCHY"], []

    def emit(j: int, depth: int, offset: np.ndarray) -> None:
        pad = "  " * depth
        lines.append(f"{pad}{'ROOT' if j == 0 else 'JOINT'} {names[j]}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET {offset[0] * unit:.8f} {offset[1] * unit:.8f} {offset[2] * unit:.8f}")
        lines.append(f"{pad}  CHANNELS {6 if j == 0 else 3} {'Xposition Yposition Zposition ' if j == 0 else ''}{channels}")
        parent_world = bvh_world[SMPLX_PARENTS[j]] if j else np.broadcast_to(np.eye(3), native[:, 0].shape)
        rows.append(("rot", Rotation.from_matrix(np.swapaxes(parent_world, -1, -2) @ bvh_world[j]).as_euler(order, degrees=True)))
        children = [c for c in joints if SMPLX_PARENTS[c] == j]
        for c in children:
            step = correction(j) @ (rest[c] - rest[j])
            extra = {"left_hip": "LHipJoint", "right_hip": "RHipJoint", "head": "Neck1"}.get(SMPLX_JOINT_NAMES[c]) if style == "cmu" else None
            if extra:  # an unmapped joint half way, never rotated
                lines.extend([f"{pad}  JOINT {extra}", f"{pad}  {{", f"{pad}    OFFSET {0.5 * step[0] * unit:.8f} {0.5 * step[1] * unit:.8f} {0.5 * step[2] * unit:.8f}",
                              f"{pad}    CHANNELS 3 {channels}"])  # fmt: skip
                rows.append(("rot", np.zeros((motion.num_frames, 3))))
                emit(c, depth + 2, 0.5 * step)
                lines.append(f"{pad}  }}")
            else:
                emit(c, depth + 1, step)
        if not children:
            lines.extend([f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET 0 {2.0 * unit / 100:.4f} 0", f"{pad}  }}"])
        lines.append(f"{pad}}}")

    emit(0, 0, rest[0])
    root_position = (pelvis @ WORLD_FROM_NATIVE) * unit  # native axes
    lines += ["MOTION", f"Frames: {motion.num_frames}", f"Frame Time: {1.0 / motion.fps:.10f}"]
    for t in range(motion.num_frames):
        values = list(root_position[t]) + [v for _, angles in rows for v in angles[t]]
        lines.append(" ".join(f"{v:.8f}" for v in values))
    path.write_text("\n".join(lines) + "\n")
    return path
