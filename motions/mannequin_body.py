"""The default body: mannequin-x's skinned wooden mannequin driven by SMPL-X parameters.

mannequin-x is calibrated to SMPL-X joint positions for the first ten betas and gives 52 of the
55 SMPL-X joints exactly; it has no jaw or eyes (joints_valid is false there and their positions
are filled with the head joint). Parameter mapping: global_orient -> pelvis_rotation (rotation
about the pelvis, as in SMPL-X), transl -> global_translation, hands concatenated (30, 3),
flat_hand_mean=True (hand poses are relative to the flat hand, see motions.conventions).

Skinning runs on the GPU: the mesh is handed to the renderer as rest vertices, weights and
per-frame bone matrices, which reproduce ``Mannequin.vertices`` exactly (same linear blend).
"""

from __future__ import annotations

import numpy as np
from mannequin import Mannequin

from worldclips.motions.body import PosedBody, Skeleton, SkinnedMesh, measure_heel_lift
from worldclips.motions.body_regions import vertex_regions
from worldclips.motions.conventions import NUM_BETAS, NUM_JOINTS, SMPLX_JOINT_NAMES, joint_index
from worldclips.motions.motion import MotionClip

MISSING_JOINTS = ("jaw", "left_eye_smplhf", "right_eye_smplhf")
MODEL_CACHE_SIZE = 8


def _smplx_name(mannequin_name: str) -> str:
    side = {"L_": "left_", "R_": "right_"}.get(mannequin_name[:2])
    return (side + mannequin_name[2:] if side else mannequin_name).lower()


class MannequinBody:
    """Body model backed by mannequin-x (``kind`` "wooden": skinned, 24k vertices)."""

    name = "mannequin-x"

    def __init__(self, kind: str = "wooden") -> None:
        self._kind = kind
        self._models: dict[bytes, Mannequin] = {}
        self._regions: dict[bytes, np.ndarray] = {}
        model = Mannequin(kind, flat_hand_mean=True)
        if not model.skinned:
            raise ValueError(f"mannequin kind {kind!r} is not skinned; use 'wooden'")
        self._to_smplx = np.array(
            [SMPLX_JOINT_NAMES.index(n) if n in SMPLX_JOINT_NAMES else -1 for n in map(_smplx_name, model.joint_names)]
        )
        self.joints_valid = np.zeros(NUM_JOINTS, dtype=bool)
        self.joints_valid[self._to_smplx[self._to_smplx >= 0]] = True
        if self.joints_valid.sum() != NUM_JOINTS - len(MISSING_JOINTS):
            raise RuntimeError("mannequin-x joint names no longer map onto SMPL-X; check the pinned version")

    def _model(self, betas: np.ndarray) -> Mannequin:
        """The mannequin of one identity; the last few are kept (skeleton() and pose() share them)."""
        betas = np.asarray(betas, dtype=np.float32)
        if betas.shape != (NUM_BETAS,):
            raise ValueError(f"betas: expected shape ({NUM_BETAS},), got {betas.shape}")
        key = betas.tobytes()
        if key not in self._models:
            if len(self._models) >= MODEL_CACHE_SIZE:
                self._regions.pop(next(iter(self._models)), None)
                self._models.pop(next(iter(self._models)))
            self._models[key] = Mannequin(self._kind, shape=betas, flat_hand_mean=True)
        return self._models[key]

    def _vertex_regions(self, betas: np.ndarray, model: Mannequin) -> np.ndarray:
        """(V,) body regions (motions.body_regions) from the mannequin's own skinning weights."""
        key = np.asarray(betas, dtype=np.float32).tobytes()
        if key not in self._regions:
            identity = model._identity
            head = identity["skin_bind_positions"][model.joint_names.index("Head")]
            self._regions[key] = vertex_regions(identity["skin_vertices"], model._skin_joint_indices,
                                                model._skin_weights, model.joint_names, head)  # fmt: skip
        return self._regions[key]

    def _smplx_joints(self, mannequin_joints: np.ndarray) -> np.ndarray:
        """(..., 54, 3) mannequin joints -> (..., 55, 3) SMPL-X order, missing joints at the head."""
        out = np.empty((*mannequin_joints.shape[:-2], NUM_JOINTS, 3), dtype=np.float64)
        keep = self._to_smplx >= 0
        out[..., self._to_smplx[keep], :] = mannequin_joints[..., keep, :]
        for name in MISSING_JOINTS:
            out[..., joint_index(name), :] = out[..., joint_index("head"), :]
        return out

    def skeleton(self, betas: np.ndarray) -> Skeleton:
        model = self._model(betas)
        rest = model.rest_pose(dtype=np.float64)
        joints = self._smplx_joints(model.joint_transforms(rest)[..., :3, 3])
        vertices = model.vertices(rest)
        sole = float(vertices[:, 1].min())
        lift = measure_heel_lift(vertices, joints, sole)
        return Skeleton(rest_joints=joints, joints_valid=self.joints_valid.copy(), sole_height=sole, heel_lift=lift)

    def pose_parameters(self, motion: MotionClip) -> dict[str, np.ndarray]:
        """MotionClip -> mannequin-x forward_skeleton arguments (float64, batch T)."""
        frames = motion.num_frames
        return {
            "body_pose": motion.body_pose.astype(np.float64),
            "head_pose": np.zeros((frames, 3, 3)),
            "hand_pose": motion.hand_pose.astype(np.float64),
            "pelvis_rotation": motion.global_orient.astype(np.float64),
            "global_rotation": np.zeros((frames, 3)),
            "global_translation": motion.transl.astype(np.float64),
            "shape": np.broadcast_to(motion.betas.astype(np.float64), (frames, NUM_BETAS)),
            "expression": motion.expression.astype(np.float64),
        }

    def pose(self, motion: MotionClip) -> PosedBody:
        model = self._model(motion.betas)
        transforms = model.joint_transforms(self.pose_parameters(motion))  # (T, 54, 4, 4)
        # Mannequin skinning is v = sum_k w_k (R_j (v - b_j) + t_j): bone matrix = G_j @ translate(-b_j).
        identity = model._identity  # pinned mannequin-x 0.3.0 internals, checked by tests/motions
        bind = identity["skin_bind_positions"]
        bones = transforms.copy()
        bones[..., :3, 3] -= np.einsum("...jik,jk->...ji", transforms[..., :3, :3], bind)
        mesh = SkinnedMesh(
            rest_vertices=np.ascontiguousarray(identity["skin_vertices"], dtype=np.float32),
            faces=np.ascontiguousarray(model.faces, dtype=np.uint32),
            joint_indices=np.ascontiguousarray(model._skin_joint_indices, dtype=np.int32),
            joint_weights=np.ascontiguousarray(model._skin_weights, dtype=np.float32),
            bone_matrices=bones.astype(np.float32),
        )
        return PosedBody(
            joints=self._smplx_joints(transforms[..., :3, 3]), joints_valid=self.joints_valid.copy(), mesh=mesh,
            vertex_regions=self._vertex_regions(motion.betas, model),
        )
