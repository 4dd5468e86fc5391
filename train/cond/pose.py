"""Pose conditions from the SMPL-X joints of every person in a clip.

- Skeleton maps: each bone (parent -> child in the SMPL-X tree, jaw and eyes left out) drawn as a
  coloured line between the joints' pixel positions (``joints2d``, pixel centres at integers) on
  black; a bone is drawn when both joints are valid and in front of the camera. One colour per
  bone (its child joint's hue), the same for every person. Rendered with PIL on the loader side.
- Joint tokens: the 3D joints in each frame's camera frame, 4 frames per latent frame, one token
  per (person, latent frame) projected to the text width and appended to the text context.
"""

from __future__ import annotations

import colorsys

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import nn

from worldclips.motions.conventions import NUM_JOINTS, PROJECTION_UNDEFINED, SMPLX_PARENTS, joint_index
from worldclips.train.cond.plucker import pack_frames

SKIPPED_JOINTS = frozenset(joint_index(name) for name in ("jaw", "left_eye_smplhf", "right_eye_smplhf"))
BONES: tuple[tuple[int, int], ...] = tuple(
    (SMPLX_PARENTS[child], child) for child in range(1, NUM_JOINTS) if child not in SKIPPED_JOINTS
)
BONE_COLOURS: tuple[tuple[int, int, int], ...] = tuple(
    tuple(int(round(255 * c)) for c in colorsys.hsv_to_rgb((i * 0.61803) % 1.0, 0.9, 1.0)) for i in range(len(BONES))
)


def line_width(height: int, width: int) -> int:
    """Bone thickness in pixels: about 1/100 of the short side, at least 1."""
    return max(1, round(min(height, width) / 100))


def skeleton_maps(joints2d: np.ndarray, joints_valid: np.ndarray, height: int, width: int) -> np.ndarray:
    """joints2d (P, T, 55, 2) pixels, joints_valid (P, 55) -> (T, height, width, 3) uint8 skeleton images."""
    persons, frames = joints2d.shape[:2]
    thickness = line_width(height, width)
    defined = np.all(joints2d != PROJECTION_UNDEFINED, axis=-1) & joints_valid[:, None, :]  # (P, T, 55)
    points, drawn = joints2d.astype(np.float64).tolist(), defined.tolist()  # Python lists: fast to index
    out = np.zeros((frames, height, width, 3), dtype=np.uint8)
    for t in range(frames):
        image = Image.new("RGB", (width, height))
        draw = ImageDraw.Draw(image)
        for p in range(persons):
            frame_points, frame_drawn = points[p][t], drawn[p][t]
            for (parent, child), colour in zip(BONES, BONE_COLOURS):
                if frame_drawn[parent] and frame_drawn[child]:
                    draw.line([tuple(frame_points[parent]), tuple(frame_points[child])], fill=colour, width=thickness)
        out[t] = np.asarray(image)
    return out


def joint_features(joints3d_cam: torch.Tensor, joints_valid: torch.Tensor, person_mask: torch.Tensor) -> torch.Tensor:
    """joints3d_cam (B, P, T, 55, 3) metres, joints_valid (B, P, 55), person_mask (B, P)
    -> (B, P * T_lat, 4 * 55 * 4 + 1) features: per packed frame and joint (x, y, z, valid),
    plus a person-present flag; invalid joints and absent persons are zeros."""
    valid = (joints_valid & person_mask[..., None]).to(joints3d_cam.dtype)  # (B, P, 55)
    frames = joints3d_cam.shape[2]
    valid = valid[:, :, None, :, None].expand(-1, -1, frames, -1, 1)
    per_frame = torch.cat([joints3d_cam * valid, valid], dim=-1)  # (B, P, T, 55, 4)
    packed = pack_frames(per_frame.flatten(-2)[..., None, None])  # (B, P, T_lat, 4 * 220, 1, 1)
    packed = packed[..., 0, 0]
    present = person_mask.to(packed.dtype)[:, :, None, None].expand(-1, -1, packed.shape[2], 1)
    return torch.cat([packed, present], dim=-1).flatten(1, 2)


class JointTokens(nn.Module):
    """3D joint features -> context tokens of the text width: (B, P * T_lat, text_dim)."""

    def __init__(self, text_dim: int, max_latent_frames: int = 64):
        super().__init__()
        self.proj = nn.Sequential(nn.Linear(4 * NUM_JOINTS * 4 + 1, text_dim), nn.SiLU(), nn.Linear(text_dim, text_dim))
        self.frame_embedding = nn.Embedding(max_latent_frames, text_dim)
        # Zero tokens at step 0: with the null text embedding every context token is then alike, so
        # cross-attention (uniform over alike keys) gives exactly the base model's output.
        nn.init.zeros_(self.proj[-1].weight)
        nn.init.zeros_(self.proj[-1].bias)
        nn.init.zeros_(self.frame_embedding.weight)

    def forward(self, joints3d_cam, joints_valid, person_mask) -> torch.Tensor:
        features = joint_features(joints3d_cam, joints_valid, person_mask)
        persons, latent_frames = joints3d_cam.shape[1], 1 + (joints3d_cam.shape[2] - 1) // 4
        frame_ids = torch.arange(latent_frames, device=features.device).repeat(persons)
        return self.proj(features) + self.frame_embedding(frame_ids)
