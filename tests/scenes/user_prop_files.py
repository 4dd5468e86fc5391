"""Mesh files for the user-prop tests, written with trimesh (what a user downloads or exports)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh


def lamp_z_up() -> trimesh.Trimesh:
    """A floor lamp 1.44 m tall in Z-up coordinates: base disc, pole, cone shade (not convex)."""
    base = trimesh.creation.cylinder(radius=0.2, height=0.04)
    base.apply_translation([0.0, 0.0, 0.02])
    pole = trimesh.creation.cylinder(radius=0.03, height=1.2)
    pole.apply_translation([0.0, 0.0, 0.64])
    shade = trimesh.creation.cone(radius=0.25, height=0.2)
    shade.apply_translation([0.0, 0.0, 1.24])
    return trimesh.util.concatenate([base, pole, shade])


Y_UP_FROM_Z_UP = trimesh.transformations.rotation_matrix(-np.pi / 2, [1.0, 0.0, 0.0])  # +Z -> +Y


def write_folder(folder: Path) -> Path:
    """A prop folder: a Y-up glb lamp placed by a scene-graph node (offset 5 m, 3 units = 1 m),
    a Z-up PLY ring (a torus: its hull is not the mesh), a Z-up OBJ crate 2 x 1 x 0.5 m."""
    folder.mkdir(parents=True, exist_ok=True)
    lamp = lamp_z_up()
    lamp.apply_transform(Y_UP_FROM_Z_UP)
    lamp.apply_scale(3.0)  # the file is in other units: the height in props.yaml scales it
    scene = trimesh.Scene()
    scene.add_geometry(lamp, node_name="lamp", transform=trimesh.transformations.translation_matrix([5.0, 0.0, 2.0]))
    scene.export(folder / "lamp.glb")
    trimesh.creation.torus(0.4, 0.1).export(folder / "ring.ply")
    crate = trimesh.creation.box((2.0, 1.0, 0.5))
    crate.apply_translation([3.0, -1.0, 7.0])  # anywhere in the file: it is put on the ground
    crate.export(folder / "crate.obj")
    (folder / "props.yaml").write_text(
        "lamp.glb: {category: floor lamp, height: 1.44}\n"
        "ring.ply: {category: ring, height: 0.2, up: z}\n"
        "crate.obj: {category: crate, height: 0.5, up: z}\n"
    )
    return folder
