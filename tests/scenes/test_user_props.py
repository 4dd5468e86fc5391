"""User props from a folder of mesh files: reading, placing, sampling, physics and hostile folders.

Sizes and placements are checked against trimesh's own reading of the files, transformed by hand."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import trimesh

from worldclips.motions.mannequin_body import MannequinBody
from worldclips.scenes import user_props
from worldclips.scenes.build import build_scene
from worldclips.scenes.sampling import sample_clip_spec
from worldclips.scenes.scene import Lighting, Material
from worldclips.scenes.scene_config import SceneConfig
from worldclips.scenes.spec import CameraSpec, ClipSpec, DynamicPropSpec, PropSpec, StaticCamera
from worldclips.scenes.user_props import PropFolderError, asset_mesh, hull_vertices, read_prop_folder
from tests.scenes.user_prop_files import lamp_z_up, write_folder

GREY = Material((0.5, 0.5, 0.5))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_folder(tmp_path_factory.mktemp("props"))


@pytest.fixture(scope="module")
def assets(folder):
    return {a.label: a for a in read_prop_folder(folder)}


def test_meshes_are_turned_scaled_and_stood_on_the_ground(assets):
    lamp, ring, crate = assets["floor lamp"], assets["ring"], assets["crate"]
    # The lamp was written Y-up, 3 units per metre and offset by a node: 1.44 m tall, as asked.
    np.testing.assert_allclose(lamp.size, (0.5, 0.5, 1.44), atol=1e-5)
    assert lamp.scale == pytest.approx(1 / 3, rel=1e-6) and lamp.up == "y"
    np.testing.assert_allclose(ring.size, (1.0, 1.0, 0.2), atol=1e-5)
    np.testing.assert_allclose(crate.size, (2.0, 1.0, 0.5), atol=1e-6)
    for asset in assets.values():
        mesh = asset_mesh(asset)
        low, high = mesh.vertices.min(axis=0), mesh.vertices.max(axis=0)
        np.testing.assert_allclose(low, [-asset.size[0] / 2, -asset.size[1] / 2, 0.0], atol=1e-5)
        np.testing.assert_allclose(high, [asset.size[0] / 2, asset.size[1] / 2, asset.size[2]], atol=1e-5)
        np.testing.assert_allclose(np.linalg.norm(mesh.normals, axis=1), 1.0, atol=1e-5)
    # The lamp is the Z-up original, shifted onto the ground: same points as trimesh's mesh.
    reference = lamp_z_up().vertices
    reference = reference - [0.0, 0.0, reference[:, 2].min()]
    got = asset_mesh(lamp).vertices
    tree = __import__("scipy.spatial", fromlist=["cKDTree"]).cKDTree(reference)
    assert tree.query(got)[0].max() < 1e-5


def test_normals_face_out_of_closed_meshes(assets):
    for label in ("crate", "ring"):
        mesh = asset_mesh(assets[label])
        corners = mesh.vertices[mesh.faces].astype(np.float64)
        centre = corners.mean(axis=1)
        face_normal = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
        if label == "crate":  # every face points away from the crate's centre
            outward = centre - [0.0, 0.0, 0.25]
        else:  # away from the torus's core circle
            radial = centre[:, :2] / np.linalg.norm(centre[:, :2], axis=1, keepdims=True) * 0.4
            outward = centre - np.column_stack([radial, np.full(len(radial), 0.1)])
        assert (np.einsum("fj,fj->f", face_normal, outward) > 0).mean() > 0.99
        assert (np.einsum("fj,fj->f", mesh.normals[mesh.faces[:, 0]], outward) > 0).mean() > 0.99


def test_inside_out_file_is_turned_the_right_way(tmp_path):
    box = trimesh.creation.box((1.0, 1.0, 1.0))
    trimesh.Trimesh(box.vertices, box.faces[:, ::-1], process=False).export(tmp_path / "inverted.ply")
    (tmp_path / "props.yaml").write_text("inverted.ply: {category: box, height: 1.0, up: z}\n")
    mesh = asset_mesh(read_prop_folder(tmp_path)[0])
    corners = mesh.vertices[mesh.faces].astype(np.float64)
    volume = np.einsum("fj,fj->f", corners[:, 0], np.cross(corners[:, 1], corners[:, 2])).sum() / 6
    assert volume == pytest.approx(1.0, rel=1e-6)


def test_sampler_draws_user_props_deterministically_and_specs_round_trip(assets):
    catalogue = tuple(sorted(assets.values(), key=lambda a: a.file))
    config = SceneConfig(props=(4, 6), user_prop_share=0.6)
    specs = [sample_clip_spec(config, 3, index, 24.0, 12, 64, 64, catalogue) for index in range(6)]
    meshes = [p for spec in specs for p in spec.props if p.asset is not None]
    assert len(meshes) >= 6 and {p.asset.label for p in meshes} == set(assets)
    for spec in specs:
        assert ClipSpec.from_json(spec.to_json()) == spec
        assert sample_clip_spec(config, 3, spec.clip_index, 24.0, 12, 64, 64, catalogue) == spec
    # Without a folder the default scene draws exactly what it drew before user props existed.
    plain = sample_clip_spec(config, 3, 0, 24.0, 12, 64, 64)
    assert all(p.asset is None for p in plain.props)
    assert plain == sample_clip_spec(SceneConfig(props=(4, 6)), 3, 0, 24.0, 12, 64, 64)


def _spec(props, dynamic=(), frames=24) -> ClipSpec:
    lighting = Lighting((0.3, 0.2, 0.9), (1.0, 1.0, 1.0), (0.3, 0.35, 0.4), (0.1, 0.1, 0.1))
    camera = CameraSpec(path=StaticCamera(eye=(4.0, -3.0, 2.5), target=(0.0, 0.0, 0.5)), fov_deg=60.0)
    return ClipSpec(run_seed=0, clip_index=0, scenario="default", fps=24.0, num_frames=frames, width=96, height=64,
                    ground=GREY, lighting=lighting, background_color=(0.5, 0.6, 0.7), characters=(), props=tuple(props),
                    camera=camera, dynamic_props=tuple(dynamic))  # fmt: skip


def _mesh_prop(asset, name="mesh0", position=(0.0, 0.0), yaw=0.0) -> PropSpec:
    return PropSpec(name, "mesh", tuple(asset.size), position, yaw, GREY, asset=asset)


def test_built_scene_places_the_mesh_and_labels_its_instance(assets):
    crate = assets["crate"]
    spec = _spec([_mesh_prop(crate, position=(1.0, 2.0), yaw=np.pi / 2)])
    scene = build_scene(spec, MannequinBody())
    obj = next(o for o in scene.objects if o.name == "mesh0")
    assert obj.category == "crate"
    world = obj.mesh.vertices @ obj.world_from_object[0, :3, :3].T + obj.world_from_object[0, :3, 3]
    # Turned a quarter about +Z: the 2 m side now runs along Y.
    np.testing.assert_allclose(world.min(axis=0), [0.5, 1.0, 0.0], atol=1e-5)
    np.testing.assert_allclose(world.max(axis=0), [1.5, 3.0, 0.5], atol=1e-5)
    assert {"id": obj.instance_id, "name": "mesh0", "category": "crate"}.items() <= next(
        row for row in scene.instances() if row["name"] == "mesh0").items()  # fmt: skip


def test_a_ball_dropped_on_a_user_crate_rests_on_its_top(assets):
    crate = assets["crate"]
    ball = DynamicPropSpec("ball", "ball", "sphere", (0.1,), 0.4, (0.3, 0.1, 1.2), GREY, restitution=0.1)
    spec = _spec([_mesh_prop(crate, position=(0.0, 0.0), yaw=0.3)], [ball], frames=48)
    scene = build_scene(spec, MannequinBody())
    track = next(o for o in scene.objects if o.name == "ball").world_from_object[:, :3, 3]
    np.testing.assert_allclose(track[-1, 2], 0.5 + 0.1, atol=0.01)  # on the crate (0.5 m), not the ground
    crate_id = next(o.instance_id for o in scene.objects if o.name == "mesh0")
    assert crate_id in set(scene.contacts.instance_b.tolist()) | set(scene.contacts.instance_a.tolist())


def test_physics_collides_with_the_convex_hull(assets):
    ring = assets["ring"]
    hull = hull_vertices(ring)
    # The torus's hull is the disc-shaped convex shape around it: every mesh vertex is inside.
    planes = __import__("scipy.spatial", fromlist=["ConvexHull"]).ConvexHull(hull).equations
    inside = asset_mesh(ring).vertices.astype(np.float64) @ planes[:, :3].T + planes[:, 3]
    assert inside.max() < 1e-6 and len(hull) < len(asset_mesh(ring).vertices)
    # A ball dropped on the ring's hole lands on the hull's top (0.2 m), not through the hole.
    ball = DynamicPropSpec("ball", "ball", "sphere", (0.05,), 0.2, (0.0, 0.0, 0.8), GREY, restitution=0.05)
    scene = build_scene(_spec([_mesh_prop(ring)], [ball], frames=36), MannequinBody())
    top = next(o for o in scene.objects if o.name == "ball").world_from_object[-1, 2, 3]
    assert top == pytest.approx(0.25, abs=0.01)


def test_a_changed_mesh_file_is_refused_when_the_clip_is_rebuilt(tmp_path):
    folder = write_folder(tmp_path / "props")
    crate = next(a for a in read_prop_folder(folder) if a.label == "crate")
    spec = _spec([_mesh_prop(crate)])
    with open(folder / "crate.obj", "a") as handle:
        handle.write("# edited\n")
    with pytest.raises(PropFolderError, match="crate.obj: is not the mesh this clip was drawn with|not the mesh this clip"):
        build_scene(ClipSpec.from_json(spec.to_json()), MannequinBody())
    os.remove(folder / "crate.obj")
    with pytest.raises(FileNotFoundError, match="crate.obj is missing"):
        build_scene(spec, MannequinBody())


# -- hostile or careless folders: one line naming the file, nothing read outside the folder ------

def _folder(tmp_path, yaml_text: str, files: dict | None = None):
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "props.yaml").write_text(yaml_text)
    for name, data in (files or {}).items():
        (tmp_path / name).write_bytes(data)
    return tmp_path


def _box_bytes(file_type: str) -> bytes:
    data = trimesh.creation.box((1.0, 1.0, 1.0)).export(file_type=file_type)
    return data.encode() if isinstance(data, str) else data


@pytest.mark.parametrize(
    "yaml_text, files, message",
    [
        ("../outside.obj: {category: box, height: 1}\n", {}, "expected a plain file name"),
        ("sub/x.obj: {category: box, height: 1}\n", {}, "expected a plain file name"),
        ("box.exe: {category: box, height: 1}\n", {}, "expected a mesh file"),
        ("box.obj: {category: box, height: 1, colour: red}\n", {"box.obj": b""}, "unknown field 'colour'"),
        ("box.obj: {category: box, height: 100}\n", {"box.obj": b""}, "height: expected metres"),
        ("box.obj: {category: '$(rm -rf ~)', height: 1}\n", {"box.obj": b""}, "category: expected a name"),
        ("box.obj: {category: box, height: 1, up: x}\n", {"box.obj": b""}, "up: expected 'y' or 'z'"),
        ("box.obj: {category: box, height: 1}\n", {}, "no such file in the folder"),
        ("box.obj: [1, 2]\n", {}, "expected a mapping"),
        ("box.ply: {category: box, height: 1}\n", {"box.ply": b"ply\nformat binary_little_endian 1.0\nelement vertex 99999999\n"},
         "box.ply: "),
        ("box.obj: {category: box, height: 1}\n", {"box.obj": b"v nan 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"}, "not all finite|no triangles"),
        ("box.obj: {category: box, height: 1}\n", {"box.obj": b"# nothing here\n"}, "no triangles|not a readable mesh"),
        ("box.obj: {category: box, height: 0.5, up: z}\n", {"box.obj": b"v 0 0 0\nv 9 0 0\nv 0 9 0\nv 0 0 0.001\nf 1 2 3\nf 1 2 4\n"},
         "footprint"),
        ("", {}, "no meshes listed"),
    ],
)
def test_bad_folders_get_one_line_errors(tmp_path, yaml_text, files, message):
    folder = _folder(tmp_path / "props", yaml_text, files)
    with pytest.raises(PropFolderError, match=message) as error:
        read_prop_folder(folder)
    assert "\n" not in str(error.value)


def test_gltf_with_external_buffers_is_refused_and_nothing_outside_is_read(tmp_path):
    outside = tmp_path / "secret.bin"
    outside.write_bytes(np.arange(36, dtype=np.float32).tobytes())
    gltf = {
        "asset": {"version": "2.0"}, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
        "buffers": [{"uri": "../secret.bin", "byteLength": 144}],
        "bufferViews": [{"buffer": 0, "byteLength": 144}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 12, "type": "VEC3",
                       "min": [0, 0, 0], "max": [35, 35, 35]}],
    }  # fmt: skip
    folder = _folder(tmp_path / "props", "x.gltf: {category: box, height: 1}\n", {"x.gltf": json.dumps(gltf).encode()})
    with pytest.raises(PropFolderError, match="x.gltf: not a readable mesh .a .gltf must embed its buffers"):
        read_prop_folder(folder)


def test_oversized_files_are_refused_before_reading(tmp_path, monkeypatch):
    folder = _folder(tmp_path / "props", "box.ply: {category: box, height: 1}\n", {"box.ply": _box_bytes("ply")})
    monkeypatch.setattr(user_props, "MAX_PROP_FILE_BYTES", 100)
    monkeypatch.setattr(user_props, "_parse", lambda *a: pytest.fail("parsed a file over the size limit"))
    with pytest.raises(PropFolderError, match="box.ply: .* bytes, expected at most"):
        read_prop_folder(folder)


def test_too_many_triangles_are_refused(tmp_path, monkeypatch):
    folder = _folder(tmp_path / "props", "box.glb: {category: box, height: 1}\n", {"box.glb": _box_bytes("glb")})
    monkeypatch.setattr(user_props, "MAX_PROP_FACES", 11)
    with pytest.raises(PropFolderError, match="box.glb: 12 triangles, expected at most 11"):
        read_prop_folder(folder)


def test_symlinks_out_of_the_folder_are_refused(tmp_path):
    (tmp_path / "elsewhere.obj").write_bytes(_box_bytes("obj"))
    folder = _folder(tmp_path / "props", "box.obj: {category: box, height: 1}\n")
    (folder / "box.obj").symlink_to(tmp_path / "elsewhere.obj")
    with pytest.raises(PropFolderError, match="no such file in the folder"):
        read_prop_folder(folder)
