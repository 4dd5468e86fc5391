"""Contact events of a clip, aggregated per frame and pair of instances (no MuJoCo here).

Simulated contacts (props against the ground, furniture, each other and the characters' hulls)
carry the normal impulse summed over the frame's substeps; ``scenes.physics`` records them.
Characters are kinematic, so their feet on the ground produce no simulated force: foot-ground
contacts come from the hull geometry alone (a foot hull within FOOT_CONTACT_M of the ground)
and carry impulse 0. ``foot_ground_rows`` needs only the hulls, so clips without dynamic props
get their foot contacts without building a simulation.
"""

from __future__ import annotations

import numpy as np

from worldclips.scenes.physics_spec import ContactEvents, KinematicHulls

FOOT_CONTACT_M = 0.01
FOOT_LINKS = ("Ankle", "Toe", "Foot")


def foot_ground_rows(characters: list[KinematicHulls], ground_id: int) -> list[tuple]:
    """One (frame, a, b, position, normal, 0.0) row per character and frame whose foot hulls touch the ground.

    position: the mean of the touching hull vertices, on the ground (z = 0); normal: +Z when the
    ground is instance a (it always is: the ground has the smallest id), pointing from a to b.
    """
    rows = []
    for character in characters:
        feet = [i for i, name in enumerate(character.link_names) if any(k in name for k in FOOT_LINKS)]
        if not feet:
            continue
        poses = character.world_from_link[:, feet]  # (T, F, 4, 4)
        for frame in range(poses.shape[0]):
            points = np.concatenate(
                [character.hull_vertices[i] @ poses[frame, k, :3, :3].T + poses[frame, k, :3, 3] for k, i in enumerate(feet)]
            )
            touching = points[points[:, 2] <= FOOT_CONTACT_M]
            if len(touching):
                a, b = sorted((ground_id, character.instance_id))
                normal = np.array([0.0, 0.0, 1.0 if a == ground_id else -1.0])
                rows.append((frame, a, b, touching.mean(axis=0) * [1, 1, 0], normal, 0.0))
    return rows


def foot_ground_events(characters: list[KinematicHulls], ground_id: int) -> ContactEvents:
    """Foot-ground contacts only (clips without dynamic props)."""
    return ContactEvents.from_rows(foot_ground_rows(characters, ground_id))
