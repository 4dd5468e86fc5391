"""A stand-in SMPLX_NEUTRAL.npz written by tests, so the licensed-model code path runs in CI.

The real model cannot be shipped. This file has the real model's keys and array layouts (what
``smplx.SMPLX`` reads), 55 joints at mannequin-x's SMPL-X-calibrated rest positions, a blocky
body (one box per bone, rigidly skinned to the bone's parent joint), zero pose correctives and
one shape direction (beta 0 scales the body about the origin). It is test data, never used at
run time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from worldclips.motions.conventions import NUM_JOINTS, SMPLX_PARENTS
from worldclips.motions.mannequin_body import MannequinBody

NUM_VERTICES = 10_000  # smplx selects extra joints from vertex ids up to 9929


def _box(center: np.ndarray, half: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    corners = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float) * half + center
    faces = np.array(
        [[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
         [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]]
    )  # fmt: skip
    return corners, faces


def write_fake_smplx_model(directory: Path) -> Path:
    """Write ``directory/smplx/SMPLX_NEUTRAL.npz`` and return its path."""
    joints = MannequinBody().skeleton(np.zeros(10)).rest_joints
    vertices, faces, weights_of = [], [], []
    for child in range(1, 22):
        parent = SMPLX_PARENTS[child]
        a, b = joints[parent], joints[child]
        half = np.maximum(np.abs(b - a) / 2, 0.04)
        corners, box_faces = _box((a + b) / 2, half)
        faces.append(box_faces + len(vertices) * 8)
        vertices.append(corners)
        weights_of.append(parent)
    body = np.concatenate(vertices)
    faces = np.concatenate(faces)
    padding = NUM_VERTICES - len(body) - NUM_JOINTS
    v_template = np.concatenate([body, np.repeat(joints[:1], padding, axis=0), joints])
    weights = np.zeros((NUM_VERTICES, NUM_JOINTS))
    for box, joint in enumerate(weights_of):
        weights[box * 8 : box * 8 + 8, joint] = 1.0
    weights[len(body) :, 0] = 1.0  # padding and joint vertices are not in any face
    joint_vertices = np.arange(NUM_VERTICES - NUM_JOINTS, NUM_VERTICES)
    j_regressor = np.zeros((NUM_JOINTS, NUM_VERTICES))
    j_regressor[np.arange(NUM_JOINTS), joint_vertices] = 1.0
    shapedirs = np.zeros((NUM_VERTICES, 3, 400))
    shapedirs[:, :, 0] = 0.05 * v_template
    kintree = np.array([[2**32 - 1 if p < 0 else p for p in SMPLX_PARENTS], list(range(NUM_JOINTS))], dtype=np.int64)
    path = Path(directory) / "smplx" / "SMPLX_NEUTRAL.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        v_template=v_template.astype(np.float32),
        f=faces.astype(np.int32),
        shapedirs=shapedirs.astype(np.float32),
        posedirs=np.zeros((NUM_VERTICES, 3, (NUM_JOINTS - 1) * 9), np.float32),
        J_regressor=j_regressor.astype(np.float32),
        weights=weights.astype(np.float32),
        kintree_table=kintree,
        hands_componentsl=np.eye(45, dtype=np.float32),
        hands_componentsr=np.eye(45, dtype=np.float32),
        hands_meanl=np.zeros(45, np.float32),
        hands_meanr=np.zeros(45, np.float32),
        lmk_faces_idx=np.zeros(51, np.int64),
        lmk_bary_coords=np.full((51, 3), 1 / 3, np.float32),
        dynamic_lmk_faces_idx=np.zeros((79, 17), np.int64),
        dynamic_lmk_bary_coords=np.full((79, 17, 3), 1 / 3, np.float32),
    )
    return path
