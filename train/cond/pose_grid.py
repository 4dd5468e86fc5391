"""Body-part maps on the latent grid: where each body part is, per frame, without the VAE.

The skeleton maps (``train.cond.pose``) reach the model through the VAE, whose latents of thin
coloured lines carry little (with the tiny random VAE they vary across clips ten times less than
the latents of a photograph). The pose grid takes the skeleton straight to the model's grid, the
way pose guiders of human-animation models do (a small encoder from pose to latent resolution),
but analytically: for every latent cell, frame and body part, exp(-d^2 / (2 sigma^2)) of the
distance d in pixels from the cell's centre to the nearest bone of that part (sigma: half a
cell), the maximum over persons. A bone counts when both its joints are valid, projected
(``joints2d`` != PROJECTION_UNDEFINED) and its person is present. Cell (i, j) of a grid with
s x s-pixel cells is centred on pixel ((j + 0.5) s - 0.5, (i + 0.5) s - 0.5), pixel centres at
integers (as ``train.cond.plucker``). Frames are packed 4 per latent frame (``pack_frames``).

Parts (14): torso (pelvis, spine, hips, collars, shoulders), head (neck, head), and left and
right upper arm, forearm, hand (the fingers), thigh, shin and foot; left and right kept apart so
that the maps tell which way a person faces.
"""

from __future__ import annotations

import torch

from worldclips.motions.conventions import PROJECTION_UNDEFINED, SMPLX_JOINT_NAMES, joint_index
from worldclips.train.cond.plucker import pack_frames
from worldclips.train.cond.pose import BONES

_LIMB_PARTS = {  # part name -> the child joints of its bones (fingers: every hand joint below the wrist)
    "upper_arm": ("elbow",), "forearm": ("wrist",), "thigh": ("knee",), "shin": ("ankle",), "foot": ("foot",),
}  # fmt: skip


def _part_of(child: int) -> str:
    """The body part of the bone ending at joint ``child``."""
    name = SMPLX_JOINT_NAMES[child]
    if name in ("neck", "head"):
        return "head"
    side = "left" if name.startswith("left_") else "right" if name.startswith("right_") else None
    if side is not None:
        for part, joints in _LIMB_PARTS.items():
            if name in tuple(f"{side}_{j}" for j in joints):
                return f"{side}_{part}"
        if child >= joint_index("left_index1"):  # finger joints
            return f"{side}_hand"
    return "torso"  # spine, hips, collars, shoulders


PARTS: tuple[str, ...] = ("torso", "head") + tuple(
    f"{side}_{part}" for part in ("upper_arm", "forearm", "hand", "thigh", "shin", "foot") for side in ("left", "right")
)
PART_BONES: tuple[tuple[tuple[int, int], ...], ...] = tuple(
    tuple(bone for bone in BONES if _part_of(bone[1]) == part) for part in PARTS
)
POSE_GRID_CHANNELS = len(PARTS) * 4  # per part, 4 frames per latent frame


def segment_distance(u: torch.Tensor, v: torch.Tensor, start: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
    """Points (N,) u and v, segments start/end (..., 2) -> (..., N) Euclidean distance from each point
    to each segment (a zero-length segment is its point)."""
    su, sv = start[..., 0:1], start[..., 1:2]
    du, dv = end[..., 0:1] - su, end[..., 1:2] - sv  # (..., 1)
    length2 = (du * du + dv * dv).clamp_min(1e-12)
    along = (((u - su) * du + (v - sv) * dv) / length2).clamp(0.0, 1.0)  # (..., N)
    return torch.hypot(u - (su + along * du), v - (sv + along * dv))


def pose_grid_frames(joints2d: torch.Tensor, joints_valid: torch.Tensor, person_mask: torch.Tensor, grid: tuple[int, int],
                     cell: int) -> torch.Tensor:  # fmt: skip
    """joints2d (B, P, F, 55, 2) pixels, joints_valid (B, P, 55), person_mask (B, P), grid (h, w)
    cells of ``cell`` x ``cell`` pixels -> (B, F, 14, h, w) part maps in [0, 1]. One bone at a
    time (a running maximum), so memory stays at a few (B, P, F, h w) tensors."""
    h, w = grid
    joints2d = joints2d.to(torch.float32)
    v = (torch.arange(h, dtype=torch.float32, device=joints2d.device) + 0.5) * cell - 0.5
    u = (torch.arange(w, dtype=torch.float32, device=joints2d.device) + 0.5) * cell - 0.5
    vv, uu = torch.meshgrid(v, u, indexing="ij")
    uu, vv = uu.reshape(-1), vv.reshape(-1)  # cell centres (u, v) like joints2d
    defined = (joints2d != PROJECTION_UNDEFINED).all(-1) & (joints_valid & person_mask[..., None])[:, :, None, :]
    sigma = 0.5 * cell
    batch, persons, frames = joints2d.shape[:3]
    out = joints2d.new_zeros(batch, frames, len(PARTS), h * w)
    for part, bones in enumerate(PART_BONES):
        nearest = joints2d.new_zeros(batch, persons, frames, h * w)
        for parent, child in bones:
            distance = segment_distance(uu, vv, joints2d[..., parent, :], joints2d[..., child, :])  # (B, P, F, h w)
            drawn = (defined[..., parent] & defined[..., child])[..., None]
            nearest = torch.maximum(nearest, torch.exp(-(distance**2) / (2 * sigma**2)) * drawn)
        out[:, :, part] = nearest.amax(dim=1)  # the nearest bone of the part, any person
    return out.reshape(batch, frames, len(PARTS), h, w)


def pose_grid(joints2d: torch.Tensor, joints_valid: torch.Tensor, person_mask: torch.Tensor, grid: tuple[int, int],
              cell: int) -> torch.Tensor:  # fmt: skip
    """As ``pose_grid_frames``, packed 4 frames per latent frame: (B, 56, T_lat, h, w)."""
    frames = pose_grid_frames(joints2d, joints_valid, person_mask, grid, cell)
    return pack_frames(frames).transpose(1, 2)
