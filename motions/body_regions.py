"""Body regions of a body model's vertices, from the model's own skinning weights.

Each vertex belongs to the region of the joint that moves it most (the largest total skinning
weight), read from the joint's name: the thigh follows the hip joint, the shin the knee, the foot
the ankle and toes, the upper arm the shoulder, the forearm the elbow, the hand the wrist and
fingers. The hair cap is the upper and back part of the head, found on the rest pose relative to
the head joint. Outfits colour regions; the geometry, and so every ground-truth layer, stays the
posed body's.
"""

from __future__ import annotations

import re

import numpy as np

REGIONS = ("head", "hair", "neck", "torso", "hips", "upper_arm", "forearm", "hand", "thigh", "shin", "foot")
REGION_INDEX = {name: index for index, name in enumerate(REGIONS)}

_JOINT_RULES = (  # first match wins; names are lower case, SMPL-X or mannequin-x spelling
    (r"index|middle|pinky|ring|thumb|hand|wrist", "hand"),
    (r"elbow", "forearm"),
    (r"shoulder", "upper_arm"),
    (r"collar|spine", "torso"),
    (r"pelvis", "hips"),
    (r"hip", "thigh"),
    (r"knee", "shin"),
    (r"ankle|foot|toe", "foot"),
    (r"neck", "neck"),
    (r"head|jaw|eye", "head"),
)
HAIR_CAP = 0.35  # fraction of the head joint -> crown height above which the head is hair
HAIR_BACK_M = 0.03  # the back of the head behind the head joint by this much is hair too


def joint_region(name: str) -> str:
    """The region a joint moves, from its name ("L_Knee", "left_knee" -> "shin")."""
    lower = name.lower()
    for pattern, region in _JOINT_RULES:
        if re.search(pattern, lower):
            return region
    raise ValueError(f"joint {name!r}: no body region for this name")


def vertex_regions(
    rest_vertices: np.ndarray,
    joint_indices: np.ndarray,
    joint_weights: np.ndarray,
    joint_names: tuple[str, ...],
    head_joint: np.ndarray,
    up_axis: int = 1,
    forward_axis: int = 2,
) -> np.ndarray:
    """(V,) uint8 indices into REGIONS.

    rest_vertices: (V, 3) rest pose (the body faces +forward_axis, up is up_axis).
    joint_indices, joint_weights: (V, K) skinning influences (dense (V, J) weights: pass
        np.arange(J) broadcast as indices).
    head_joint: (3,) the head joint on the same rest pose.
    """
    rest = np.asarray(rest_vertices, dtype=np.float64)
    indices = np.asarray(joint_indices, dtype=np.int64)
    weights = np.asarray(joint_weights, dtype=np.float64)
    if indices.shape != weights.shape or indices.shape[0] != len(rest):
        raise ValueError(f"skinning: expected matching (V, K) indices and weights for {len(rest)} vertices")
    totals = np.zeros((len(rest), len(joint_names)))
    np.add.at(totals, (np.arange(len(rest))[:, None].repeat(indices.shape[1], 1), indices), weights)
    table = np.array([REGION_INDEX[joint_region(name)] for name in joint_names], dtype=np.uint8)
    regions = table[totals.argmax(axis=1)]
    head = regions == REGION_INDEX["head"]
    if head.any():
        up = rest[:, up_axis] - head_joint[up_axis]
        crown = up[head].max()
        behind = rest[:, forward_axis] < head_joint[forward_axis] - HAIR_BACK_M
        hair = head & ((up > HAIR_CAP * crown) | (behind & (up > -0.02)))
        regions[hair] = REGION_INDEX["hair"]
    return regions
