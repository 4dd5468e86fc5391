"""Contact events of a simulation, aggregated per frame and pair of instances.

MuJoCo contacts (props against the ground, furniture, each other and the characters' hulls) carry
the normal impulse summed over the frame's substeps. Characters are kinematic, so their feet
on the ground produce no simulated force: foot-ground contacts come from the hull geometry
(a foot hull within FOOT_CONTACT_M of the ground) and carry impulse 0.
"""

from __future__ import annotations

from collections import defaultdict

import mujoco
import numpy as np

from scenes.physics_spec import ContactEvents, KinematicHulls

FOOT_CONTACT_M = 0.01
FOOT_LINKS = ("Ankle", "Toe", "Foot")


class ContactRecorder:
    """Accumulates contacts during a simulation; ``events()`` gives the ContactEvents."""

    def __init__(self, model: mujoco.MjModel, prop_ids: list[int], characters: list[KinematicHulls], ground_id: int):
        self._model = model
        self._ground_id = ground_id
        self._instance_of_geom = np.zeros(model.ngeom, dtype=np.int64)
        for geom in range(model.ngeom):
            name = model.geom(geom).name
            body = model.body(model.geom_bodyid[geom]).name
            if name == "ground":
                self._instance_of_geom[geom] = ground_id
            elif name.startswith("static"):
                self._instance_of_geom[geom] = int(name[len("static"):])
            elif body.startswith("prop"):
                self._instance_of_geom[geom] = int(body[len("prop"):])
            elif body.startswith("hull"):
                self._instance_of_geom[geom] = int(body[len("hull"):].split("_")[0])
        self._characters = characters
        self._sums: dict[tuple[int, int, int], list] = defaultdict(lambda: [np.zeros(3), np.zeros(3), 0.0, 0])
        self._force = np.zeros(6)

    def record(self, data: mujoco.MjData, frame: int, dt: float) -> None:
        """Add the contacts of the substep just taken to ``frame``."""
        for index in range(data.ncon):
            contact = data.contact[index]
            a, b = self._instance_of_geom[contact.geom1], self._instance_of_geom[contact.geom2]
            if a == b:
                continue
            mujoco.mj_contactForce(self._model, data, index, self._force)
            normal = contact.frame[:3].copy()  # points from geom1 to geom2
            if a > b:
                a, b, normal = b, a, -normal
            entry = self._sums[(frame, int(a), int(b))]
            entry[0] += contact.pos
            entry[1] += normal
            entry[2] += max(self._force[0], 0.0) * dt
            entry[3] += 1

    def _foot_events(self) -> list[tuple]:
        rows = []
        for character in self._characters:
            feet = [i for i, name in enumerate(character.link_names) if any(k in name for k in FOOT_LINKS)]
            for frame in range(character.world_from_link.shape[0]):
                points = [
                    character.hull_vertices[i] @ character.world_from_link[frame, i, :3, :3].T + character.world_from_link[frame, i, :3, 3]
                    for i in feet
                ]
                points = np.concatenate(points) if points else np.zeros((0, 3))
                touching = points[points[:, 2] <= FOOT_CONTACT_M]
                if len(touching):
                    a, b = sorted((self._ground_id, character.instance_id))
                    normal = np.array([0.0, 0.0, 1.0 if a == self._ground_id else -1.0])
                    rows.append((frame, a, b, touching.mean(axis=0) * [1, 1, 0], normal, 0.0))
        return rows

    def events(self) -> ContactEvents:
        rows = []
        for (frame, a, b), (position, normal, impulse, count) in sorted(self._sums.items()):
            unit = normal / max(np.linalg.norm(normal), 1e-12)
            rows.append((frame, a, b, position / count, unit, impulse))
        rows += self._foot_events()
        rows.sort(key=lambda r: (r[0], r[1], r[2]))
        if not rows:
            empty = np.zeros((0, 3))
            return ContactEvents(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int32), empty, empty, np.zeros(0))
        frame, a, b, position, normal, impulse = zip(*rows)
        return ContactEvents(
            frame=np.array(frame, np.int32), instance_a=np.array(a, np.int32), instance_b=np.array(b, np.int32),
            position=np.array(position, float), normal=np.array(normal, float), impulse=np.array(impulse, float),
        )  # fmt: skip
