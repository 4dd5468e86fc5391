"""User meshes in the raster backend: depth and instance ids at pixel centres against trimesh's
ray caster on the mesh files themselves, read by trimesh and placed by hand (up axis, scale,
footprint, yaw, position)."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from worldclips.motions.mannequin_body import MannequinBody
from worldclips.scenes.build import build_scene
from worldclips.scenes.dressing import photo_dress
from worldclips.scenes.scene import Lighting, Material
from worldclips.scenes.spec import CameraSpec, ClipSpec, PropSpec, StaticCamera
from worldclips.scenes.user_props import read_prop_folder
from tests.render import scene_builders as sb
from tests.scenes.user_prop_files import write_folder

GREY = Material((0.5, 0.5, 0.5))
PLACES = {"floor lamp": ((0.5, 0.4), 0.4), "ring": ((-0.7, -0.3), 1.0), "crate": ((-0.4, 1.6), -0.3)}


def _world_mesh(asset, position, yaw) -> trimesh.Trimesh:
    """The file as trimesh reads it, put where the clip says, computed here from the asset's record."""
    mesh = trimesh.load(asset.file, force="mesh", process=False)
    v = np.asarray(mesh.vertices, dtype=np.float64)
    if asset.up == "y":
        v = np.column_stack([v[:, 0], -v[:, 2], v[:, 1]])
    v = v * (asset.size[2] / np.ptp(v[:, 2]))
    v = v - [(v[:, 0].min() + v[:, 0].max()) / 2, (v[:, 1].min() + v[:, 1].max()) / 2, v[:, 2].min()]
    c, s = np.cos(yaw), np.sin(yaw)
    v = v @ np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]).T + [*position, 0.0]
    return trimesh.Trimesh(v, mesh.faces, process=False)


@pytest.mark.parametrize("look", ["flat", "photo"])
def test_user_mesh_depth_and_ids_match_ray_casting_the_files(tmp_path, make_renderer, look):
    assets = {a.label: a for a in read_prop_folder(write_folder(tmp_path / "props"))}
    props = [PropSpec(f"mesh{i}", "mesh", tuple(assets[label].size), position, yaw, GREY, asset=assets[label])
             for i, (label, (position, yaw)) in enumerate(PLACES.items())]  # fmt: skip
    width, height = 160, 120
    spec = ClipSpec(
        run_seed=0, clip_index=0, scenario="default", fps=24.0, num_frames=1, width=width, height=height, ground=GREY,
        lighting=Lighting((0.3, 0.2, 0.9), (1.0, 1.0, 1.0), (0.3, 0.35, 0.4), (0.1, 0.1, 0.1)),
        background_color=(0.5, 0.6, 0.7), characters=(), props=tuple(props),
        camera=CameraSpec(path=StaticCamera(eye=(3.0, -2.8, 1.9), target=(0.0, 0.3, 0.5)), fov_deg=55.0),
    )  # fmt: skip
    if look == "photo":
        spec = photo_dress(spec)
    scene = build_scene(spec, MannequinBody())
    clip = make_renderer(width, height).render(scene)
    depth, seg = clip.depth[0], clip.segmentation[0]
    ids = {o.name: o.instance_id for o in scene.objects}
    interior = sb.interior_mask(depth, seg)
    rng = np.random.default_rng(0)
    pixels = []
    for prop in props:
        v, u = np.nonzero(interior & (seg == ids[prop.name]))
        assert len(u) > 30, f"{prop.asset.label} should be in view"
        pick = rng.choice(len(u), size=min(150, len(u)), replace=False)
        pixels.append(np.stack([u[pick], v[pick]], axis=1))
    pixels = np.concatenate(pixels)
    pixels = pixels[sb.smooth_pixels(scene, 0, pixels)]

    meshes = [_world_mesh(p.asset, p.position, p.yaw) for p in props]
    merged = trimesh.util.concatenate(meshes)
    owner = np.concatenate([np.full(len(m.faces), ids[p.name]) for m, p in zip(meshes, props)])
    triangle, ray, ref_depth = sb.trimesh_first_hits(scene, 0, pixels, merged)
    hit = np.zeros(len(pixels), dtype=bool)
    hit[ray] = True
    assert hit.mean() > 0.98  # the sampled pixels are on the meshes for the reference too
    got_depth = depth[pixels[ray, 1], pixels[ray, 0]]
    np.testing.assert_array_equal(seg[pixels[ray, 1], pixels[ray, 0]], owner[triangle])
    assert np.abs(got_depth - ref_depth).max() < 1e-4
