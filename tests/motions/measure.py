"""Independent measurements of generated motions with mannequin-x's own forward kinematics and skinning.

Nothing here uses the generators' internals: joints come from ``Mannequin.joint_transforms`` and
foot vertices from mannequin-x's skinning data (checked against ``Mannequin.vertices``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from mannequin import Mannequin

from worldclips.motions.mannequin_body import MannequinBody
from worldclips.motions.motion import MotionClip

FOOT_JOINTS = ("L_Ankle", "R_Ankle", "L_Foot", "R_Foot")


@dataclass(frozen=True, eq=False)
class Measured:
    """joints: (T, J, 3) mannequin joints (mannequin order); rotations: (T, J, 3, 3);
    foot_vertices: list of two (T, V, 3) arrays (left, right) of the vertices skinned to the feet."""

    names: tuple[str, ...]
    joints: np.ndarray
    rotations: np.ndarray
    foot_vertices: list

    def joint(self, name: str) -> np.ndarray:
        return self.joints[:, self.names.index(name)]


def foot_vertex_masks(model: Mannequin) -> list[np.ndarray]:
    """Vertices with most of their skin weight on each foot (ankle + toe joints)."""
    indices, weights = model._skin_joint_indices, model._skin_weights  # mannequin-x 0.3.0 internals
    masks = []
    for side in "LR":
        foot = [model.joint_names.index(f"{side}_Ankle"), model.joint_names.index(f"{side}_Foot")]
        masks.append(np.sum(np.where(np.isin(indices, foot), weights, 0.0), axis=1) > 0.3)
    return masks


def skin_subset(model: Mannequin, transforms: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(T, V_mask, 3) skinned vertices for the ``mask`` subset, the same blend as Mannequin.vertices."""
    identity = model._identity
    indices, weights = model._skin_joint_indices[mask], model._skin_weights[mask]
    relative = identity["skin_vertices"][mask][:, None, :] - identity["skin_bind_positions"][indices]
    picked = transforms[:, indices]  # (T, V, K, 4, 4)
    posed = np.einsum("tvkij,vkj->tvki", picked[..., :3, :3], relative) + picked[..., :3, 3]
    return np.einsum("tvki,vk->tvi", posed, weights)


def measure(motion: MotionClip, model: Mannequin | None = None) -> Measured:
    if model is None:
        model = Mannequin("wooden", shape=motion.betas, flat_hand_mean=True)
    params = MannequinBody().pose_parameters(motion)
    transforms = model.joint_transforms(params)
    feet = [skin_subset(model, transforms, mask) for mask in foot_vertex_masks(model)]
    return Measured(model.joint_names, transforms[..., :3, 3], transforms[..., :3, :3], feet)


def stance_slide(points: np.ndarray, contact: np.ndarray) -> float:
    """Largest per-frame displacement (m) of (T, 3) points between consecutive contact frames."""
    both = contact[1:] & contact[:-1]
    if not np.any(both):
        return 0.0
    return float(np.linalg.norm(np.diff(points, axis=0), axis=1)[both].max())


def intervals(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) frame ranges where (T,) flags are true."""
    padded = np.concatenate([[False], flags, [False]]).astype(int)
    edges = np.diff(padded)
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def sole_region_masks(model: Mannequin, share: float = 0.15, depth: float = 0.025) -> list[np.ndarray]:
    """Vertex masks of the left heel, left toe, right heel and right toe soles (bind pose: the
    foot's bottom ``depth`` metres, its back / front ``share`` of the length)."""
    rest = model._identity["skin_vertices"]  # mannequin-x 0.3.0 internals: native bind pose, Y up, Z forward
    out = []
    for mask in foot_vertex_masks(model):
        foot = rest[mask]
        bottom = rest[:, 1] < foot[:, 1].min() + depth
        front, back = foot[:, 2].max(), foot[:, 2].min()
        length = front - back
        out.append(mask & bottom & (rest[:, 2] < back + share * length))
        out.append(mask & bottom & (rest[:, 2] > front - share * length))
    return out


def sole_points(motion: MotionClip, model: Mannequin | None = None) -> tuple[np.ndarray, np.ndarray]:
    """((T, 4, 3) centroids, (T, 4) lowest z) of the heel and toe sole regions (CONTACT_POINTS order)."""
    if model is None:
        model = Mannequin("wooden", shape=motion.betas, flat_hand_mean=True)
    transforms = model.joint_transforms(MannequinBody().pose_parameters(motion))
    regions = [skin_subset(model, transforms, mask) for mask in sole_region_masks(model)]
    return np.stack([r.mean(axis=1) for r in regions], axis=1), np.stack([r[..., 2].min(axis=1) for r in regions], axis=1)


def labelled_slide(points: np.ndarray, contact: np.ndarray) -> float:
    """Largest per-frame displacement (m) of (T, 4, 3) points while their (T, 4) labels hold in both frames."""
    return max(stance_slide(points[:, k], contact[:, k]) for k in range(points.shape[1]))
