"""Characters as kinematic collision hulls for the physics simulation (mannequin-x convex model).

mannequin-x's convex design is a set of rigid convex hulls, one per link, driven by the same
SMPL-X parameters as the rendered body; LOD 2 (22 hulls) is used as the collider. The hull
vertices come from the pinned mannequin-x 0.3.0 internals, checked by tests/scenes.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from mannequin import Mannequin

from worldclips.motions.mannequin_body import MannequinBody
from worldclips.motions.motion import MotionClip
from worldclips.scenes.physics_spec import KinematicHulls

HULL_LOD = 2


@lru_cache(maxsize=1)
def _parameters() -> MannequinBody:
    return MannequinBody()  # only its SMPL-X -> mannequin-x parameter mapping is used


@lru_cache(maxsize=8)
def _convex(betas: bytes, lod: int) -> tuple[Mannequin, tuple[np.ndarray, ...]]:
    """The convex mannequin of one identity and its hull vertices in the link frames (cached)."""
    model = Mannequin("convex", lod=lod, shape=np.frombuffer(betas, dtype=np.float64), flat_hand_mean=True)
    local = model._identity["link_local_vertices"]
    starts, counts = model._weights.link_vertex_starts, model._weights.link_vertex_counts
    hulls = tuple(np.asarray(local[s : s + c], dtype=np.float64) for s, c in zip(starts, counts))
    return model, hulls


def character_hulls(instance_id: int, motion: MotionClip, lod: int = HULL_LOD) -> KinematicHulls:
    """The convex hulls of one character over its motion."""
    model, hulls = _convex(np.asarray(motion.betas, dtype=np.float64).tobytes(), lod)
    world_from_link = model.link_transforms(_parameters().pose_parameters(motion))  # (T, L, 4, 4)
    return KinematicHulls(instance_id, hulls, np.asarray(world_from_link, dtype=np.float64), tuple(model.link_names))
