"""Retargeting a BVH skeleton's motion onto the SMPL-X skeleton: joint name maps and rest-pose correction.

Names: CMU-style (Hips, LeftUpLeg, LeftLeg, LeftFoot, LeftToeBase, LowerBack, Spine, Spine1,
Neck, Head, LeftShoulder, LeftArm, LeftForeArm, LeftHand, ...) and Mixamo-style (the same with
``mixamorig:`` prefixes, Spine/Spine1/Spine2 and named finger joints). Prefixes up to a ':' are
ignored and names compare case-insensitively; the map with the most matches wins. BVH joints
without an SMPL-X counterpart (CMU's LHipJoint, Neck1, ...) still move their children.

Rest-pose correction: the BVH's rest pose (all rotations zero) need not be SMPL-X's T-pose. For
each mapped joint j with primary child c, Q_j is the smallest rotation taking the SMPL-X rest bone
(rest[c] - rest[j]) onto the BVH rest bone; the SMPL-X world rotation is then G_bvh(j) @ Q_j, so
every mapped bone points where the BVH bone points and keeps the SMPL-X bone length. The pelvis
gets a full frame alignment (left hip to right hip and up the spine).
"""

from __future__ import annotations

import numpy as np

from worldclips.motions.conventions import SMPLX_JOINT_NAMES, SMPLX_PARENTS
from worldclips.motions.kinematics import frame_from_vectors, normalize

_SIDES = (("left", "Left"), ("right", "Right"))
_FINGERS = (("index", "Index"), ("middle", "Middle"), ("pinky", "Pinky"), ("ring", "Ring"), ("thumb", "Thumb"))


def _limbs(spine: tuple[str, str, str], neck: str) -> dict[str, str]:
    names = {"Hips": "pelvis", spine[0]: "spine1", spine[1]: "spine2", spine[2]: "spine3", neck: "neck", "Head": "head"}
    for smplx, bvh in _SIDES:
        names.update({
            f"{bvh}UpLeg": f"{smplx}_hip", f"{bvh}Leg": f"{smplx}_knee", f"{bvh}Foot": f"{smplx}_ankle",
            f"{bvh}ToeBase": f"{smplx}_foot", f"{bvh}Shoulder": f"{smplx}_collar", f"{bvh}Arm": f"{smplx}_shoulder",
            f"{bvh}ForeArm": f"{smplx}_elbow", f"{bvh}Hand": f"{smplx}_wrist",
        })  # fmt: skip
    return names


CMU_NAMES = _limbs(("LowerBack", "Spine", "Spine1"), "Neck")
MIXAMO_NAMES = _limbs(("Spine", "Spine1", "Spine2"), "Neck")
for _smplx, _bvh in _SIDES:
    for _finger, _name in _FINGERS:
        for _k in (1, 2, 3):
            MIXAMO_NAMES[f"{_bvh}Hand{_name}{_k}"] = f"{_smplx}_{_finger}{_k}"
NAME_MAPS = {"cmu": CMU_NAMES, "mixamo": MIXAMO_NAMES}
REQUIRED = (
    "pelvis", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "spine1",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "head",
)  # fmt: skip
# The child that gives each SMPL-X joint's bone direction.
PRIMARY_CHILD = {SMPLX_JOINT_NAMES.index(p): SMPLX_JOINT_NAMES.index(c) for p, c in {
    "spine1": "spine2", "spine2": "spine3", "spine3": "neck", "neck": "head",
    **{f"{s}_{a}": f"{s}_{b}" for s, _ in _SIDES for a, b in (("hip", "knee"), ("knee", "ankle"), ("ankle", "foot"),
                                                              ("collar", "shoulder"), ("shoulder", "elbow"),
                                                              ("elbow", "wrist"), ("wrist", "middle1"))},
    **{f"{s}_{f}{k}": f"{s}_{f}{k + 1}" for s, _ in _SIDES for f, _ in _FINGERS for k in (1, 2)},
}.items()}  # fmt: skip


def bare_name(name: str) -> str:
    """A BVH joint name without any namespace prefix (``mixamorig:LeftArm`` -> ``leftarm``)."""
    return name.rsplit(":", 1)[-1].strip().lower()


def match_names(bvh_names: list[str]) -> tuple[str, dict[int, int]]:
    """(style, {SMPL-X joint index: BVH joint index}) for the name map matching most joints."""
    bare = [bare_name(n) for n in bvh_names]
    best = ("", {})
    for style, names in NAME_MAPS.items():
        lookup = {k.lower(): v for k, v in names.items()}
        mapping = {}
        for i, name in enumerate(bare):
            if name in lookup and SMPLX_JOINT_NAMES.index(lookup[name]) not in mapping:
                mapping[SMPLX_JOINT_NAMES.index(lookup[name])] = i
        if len(mapping) > len(best[1]):
            best = (style, mapping)
    return best


def minimal_rotation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(3, 3) smallest rotation taking direction ``a`` onto direction ``b``."""
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    axis = np.cross(a, b)
    s, c = np.linalg.norm(axis), float(np.dot(a, b))
    if s < 1e-12:
        if c > 0:
            return np.eye(3)
        other = np.array([1.0, 0.0, 0.0]) if abs(a[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
        axis = normalize(np.cross(a, other))
        return 2.0 * np.outer(axis, axis) - np.eye(3)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]]) / s
    angle = np.arctan2(s, c)
    return np.eye(3) + np.sin(angle) * k + (1.0 - np.cos(angle)) * (k @ k)


def rest_corrections(smplx_rest: np.ndarray, bvh_rest: np.ndarray, mapping: dict[int, int]) -> dict[int, np.ndarray]:
    """Q_j (3, 3) per mapped SMPL-X joint; ``smplx_rest`` (55, 3) and ``bvh_rest`` (J, 3) share axes."""
    out = {}
    for joint, bvh in mapping.items():
        if joint == 0:
            continue
        child = PRIMARY_CHILD.get(joint)
        if child is not None and child in mapping:
            d_s = smplx_rest[child] - smplx_rest[joint]
            d_b = bvh_rest[mapping[child]] - bvh_rest[bvh]
            if np.linalg.norm(d_b) > 1e-9 and np.linalg.norm(d_s) > 1e-9:
                out[joint] = minimal_rotation(d_s, d_b)
    hips = [SMPLX_JOINT_NAMES.index(n) for n in ("left_hip", "right_hip", "spine1")]
    left_s, left_b = smplx_rest[hips[0]] - smplx_rest[hips[1]], bvh_rest[mapping[hips[0]]] - bvh_rest[mapping[hips[1]]]
    up_s = smplx_rest[hips[2]] - 0.5 * (smplx_rest[hips[0]] + smplx_rest[hips[1]])
    up_b = bvh_rest[mapping[hips[2]]] - 0.5 * (bvh_rest[mapping[hips[0]]] + bvh_rest[mapping[hips[1]]])
    out[0] = frame_from_vectors(left_b, up_b) @ frame_from_vectors(left_s, up_s).T
    return out


def smplx_world_rotations(bvh_world: np.ndarray, mapping: dict[int, int], corrections: dict[int, np.ndarray]) -> np.ndarray:
    """(T, 55, 3, 3) SMPL-X world rotations from (T, J, 3, 3) BVH world rotations (same axes).

    Mapped joints take G_bvh @ Q (Q = identity where no bone direction is known); the others
    follow their SMPL-X parent (identity local rotation).
    """
    frames = bvh_world.shape[0]
    out = np.empty((frames, len(SMPLX_JOINT_NAMES), 3, 3))
    for joint in range(len(SMPLX_JOINT_NAMES)):
        if joint in mapping:
            out[:, joint] = bvh_world[:, mapping[joint]] @ corrections.get(joint, _inherited(joint, mapping, corrections))
        else:
            out[:, joint] = out[:, SMPLX_PARENTS[joint]]
    return out


def _inherited(joint: int, mapping: dict[int, int], corrections: dict[int, np.ndarray]) -> np.ndarray:
    """A leaf's correction: the nearest mapped ancestor's (a hand without fingers, the toes, the head)."""
    parent = SMPLX_PARENTS[joint]
    while parent >= 0:
        if parent in corrections:
            return corrections[parent]
        parent = SMPLX_PARENTS[parent]
    return np.eye(3)
