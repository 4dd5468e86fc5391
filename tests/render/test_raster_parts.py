"""The raster backend's CPU-side parts: context errors, uniform packing, shadow fitting, mesh data."""

from __future__ import annotations

import numpy as np
import pytest

from worldclips.motions.conventions import intrinsics, look_at_cam_from_world
from worldclips.render import gl_context, glsl, mesh_data, shadow, uniforms
from worldclips.scenes.scene import PATTERNS, Lighting, Material
from tests.render import scene_builders as sb


def test_missing_egl_gives_a_one_line_runtime_error(monkeypatch):
    def fail(**kwargs):
        raise Exception("eglGetDisplay failed\n(no device)")

    monkeypatch.setattr(gl_context.moderngl, "create_standalone_context", fail)
    with pytest.raises(RuntimeError) as info:
        gl_context.create_egl_context(device_index=1)
    message = str(info.value)
    assert "\n" not in message and "EGL" in message and "device_index=1" in message and "eglGetDisplay" in message


def test_device_index_is_passed_to_egl(monkeypatch):
    seen = {}
    monkeypatch.setattr(gl_context.moderngl, "create_standalone_context", lambda **kwargs: seen.update(kwargs) or "ctx")
    assert gl_context.create_egl_context(device_index=2) == "ctx"
    assert seen["backend"] == "egl" and seen["device_index"] == 2
    with pytest.raises(ValueError):
        gl_context.create_egl_context(device_index=-1)


def test_supersampled_intrinsics_put_the_middle_subpixel_on_the_pixel_centre():
    K = np.array([[50.0, 0.3, 20.5], [0.0, 45.0, 11.0], [0.0, 0.0, 1.0]])
    K3 = uniforms.supersampled_intrinsics(K, 3)
    point = np.array([0.3, -0.2, 2.0])
    uv = (K @ point)[:2] / point[2]
    uv3 = (K3 @ point)[:2] / point[2]
    np.testing.assert_allclose(uv3, 3 * uv + 1)
    with pytest.raises(ValueError):
        uniforms.supersampled_intrinsics(K, 2)


def test_frame_block_maps_pixels_and_depth_back_to_world_points():
    width, height = 64, 48
    K = intrinsics(55.0, width, height)[None]
    cam_from_world = look_at_cam_from_world(np.array([1.0, -3.0, 2.0]), np.array([0.0, 0.0, 0.5]))[None]
    lighting = Lighting((0.0, 0.0, 1.0), (1.0, 1.0, 1.0), (0.2, 0.2, 0.2), (0.1, 0.1, 0.1))
    block = uniforms.frame_blocks(
        K, cam_from_world, 0.1, 50.0, lighting, (0.5, 0.6, 0.7), width, height, np.eye(4)[None], np.zeros((1, 4))
    )
    assert block.shape == (1, uniforms.FRAME_BLOCK_BYTES // 4) and block.dtype == np.float32
    world_from_pixel = block[0, 32:48].reshape(4, 4).T  # column-major in the block
    point = np.array([0.4, 0.3, 0.9])
    (uv,), (depth,) = sb.project(sb.camera(K[0], cam_from_world[0]), point[None])
    rebuilt = world_from_pixel @ np.array([depth * uv[0], depth * uv[1], depth, 1.0])
    np.testing.assert_allclose(rebuilt[:3], point, atol=1e-5)
    clip_from_cam = block[0, 0:16].reshape(4, 4).T
    point_cam = cam_from_world[0] @ np.append(point, 1.0)
    clip = clip_from_cam @ point_cam
    np.testing.assert_allclose((clip[:2] / clip[3] + 1) / 2 * [width, height] - 0.5, uv, atol=1e-4)


def test_object_block_packs_ids_and_patterns_as_integers():
    material = Material((0.1, 0.2, 0.3), "tiles", (0.4, 0.5, 0.6), 2.5, 0.7)
    frames = 3
    poses = np.stack([sb.translation(t, 0.0, 0.0) for t in range(frames)])
    block = uniforms.object_blocks(np.broadcast_to(np.eye(4), (frames, 4, 4)), poses, material, 4242)
    assert block.shape == (frames, uniforms.OBJECT_BLOCK_BYTES // 4)
    info = block[:, 56:60].view(np.int32)
    assert np.all(info[:, 0] == 3) and np.all(info[:, 1] == 4242)
    np.testing.assert_allclose(block[:, 48:52], [[0.1, 0.2, 0.3, 0.7]] * frames, rtol=1e-6)
    np.testing.assert_allclose(block[2, 0:16].reshape(4, 4).T[:3, 3], [2.0, 0.0, 0.0])
    with pytest.raises(ValueError):
        uniforms.object_blocks(np.eye(4)[None], None, material, 0)


def test_every_material_pattern_has_a_shader_branch():
    assert set(glsl.PATTERN_INDEX) == set(PATTERNS)
    assert sorted(glsl.PATTERN_INDEX.values()) == list(range(len(PATTERNS)))


def test_bone_blocks_and_strides():
    assert uniforms.bone_capacity(54) == 64 and uniforms.bone_capacity(65) == 128
    assert uniforms.bone_stride(64, 16) == 4096 and uniforms.bone_stride(64, 768) == 4608
    bones = np.random.default_rng(0).normal(size=(2, 5, 4, 4)).astype(np.float32)
    packed = uniforms.bone_blocks(bones, 64, 4096)
    assert packed.shape == (2, 1024)
    np.testing.assert_array_equal(packed[1, 16:32].reshape(4, 4).T, bones[1, 1])
    with pytest.raises(ValueError):
        uniforms.bone_blocks(np.zeros((1, 65, 4, 4)), 64, 4096)


def test_sun_frustum_holds_the_casters():
    rng = np.random.default_rng(3)
    lo = rng.uniform(-3, 3, size=(4, 3))
    bounds = np.stack([lo, lo + rng.uniform(0.1, 2.0, size=(4, 3))], axis=1)
    sun = np.array([0.3, -0.5, 0.8])
    fit = shadow.fit_sun_shadow(bounds, np.ones(4, dtype=bool), sun, 1024)
    for frame in range(4):
        corners = np.array([[bounds[frame, (i >> k) & 1, k] for k in range(3)] for i in range(8)])
        clip = corners @ fit.clip_from_world[frame, :3, :3].T + fit.clip_from_world[frame, :3, 3]
        assert np.all(np.abs(clip) < 1.0)
    # Depth grows away from the sun.
    towards_sun = fit.clip_from_world[0, :3, :3] @ (sun / np.linalg.norm(sun))
    assert towards_sun[2] < 0 and abs(towards_sun[0]) < 1e-9 and abs(towards_sun[1]) < 1e-9
    params = fit.params(1024)
    assert params.shape == (4, 4) and np.all(params[:, 3] == 1.0) and np.all(params[:, 0] > 0)


def test_view_culling_is_conservative():
    width, height = 40, 30
    K = intrinsics(30.0, width, height)
    clip_from_world = uniforms.clip_from_cam(K[None], 0.1, 20.0, width, height)  # camera at the origin
    boxes = np.array(
        [
            [[-0.1, -0.1, 2.0], [0.1, 0.1, 2.2]],  # in front
            [[-0.1, -0.1, -3.0], [0.1, 0.1, -2.0]],  # behind
            [[5.0, -0.1, 2.0], [6.0, 0.1, 2.2]],  # far right
            [[-0.1, -9.0, 2.0], [0.1, -8.0, 2.2]],  # far above
            [[-0.1, -0.1, 30.0], [0.1, 0.1, 31.0]],  # beyond far
            [[-50.0, -50.0, -1.0], [50.0, 50.0, 1.0]],  # straddles the camera
            [[1.32, -0.1, 2.0], [2.0, 0.1, 2.2]],  # just touching the right border (x = 19.8 px)
        ]
    )
    outside = mesh_data.outside_view(boxes, np.repeat(clip_from_world, len(boxes), axis=0))
    assert outside.tolist() == [False, True, True, True, True, False, False]


def test_union_bounds_without_casters_is_invalid():
    bounds, valid = shadow.union_bounds([], 5)
    assert bounds.shape == (5, 2, 3) and not valid.any()


def test_vertex_normals_of_a_sphere_point_outwards():
    sphere = sb.sphere_mesh(0.7, 3)
    normals = mesh_data.VertexNormals(sphere.faces, len(sphere.vertices))(sphere.vertices)
    radial = sphere.vertices / np.linalg.norm(sphere.vertices, axis=1, keepdims=True)
    assert normals.dtype == np.float32
    assert np.min(np.sum(normals * radial, axis=1)) > 0.99


def test_closed_mesh_detection():
    box = sb.box_mesh()
    assert mesh_data.is_closed(box.vertices, box.faces)  # closed once seam vertices are welded
    assert not mesh_data.is_closed(*(lambda q: (q.vertices, q.faces))(sb.quad_mesh(1.0, 1.0)))
    flipped = np.array(box.faces, copy=True)
    flipped[0] = flipped[0][::-1]
    assert not mesh_data.is_closed(box.vertices, flipped)
    assert not mesh_data.is_closed(box.vertices, np.asarray(box.faces)[:-1])


def test_scene_meshes_are_closed_except_the_ground():
    from worldclips.scenes import meshes

    solids = (meshes.box((0.5, 0.6, 0.7)), meshes.sphere(0.3), meshes.table(1.0, 0.6, 0.75))
    solids += (meshes.chair(0.5, 0.5, 0.45, 0.9),)
    for mesh in solids:
        assert mesh_data.is_closed(mesh.vertices, mesh.faces)  # seams welded, touching parts allowed
    ground = meshes.ground(5.0)
    assert not mesh_data.is_closed(ground.vertices, ground.faces)


def test_skinned_bounds_contain_the_posed_body():
    person = sb.mannequin_character(5, frames=3)
    bounds = mesh_data.skinned_bounds(person.body.mesh)
    for frame in range(3):
        vertices = person.body.mesh.vertices(frame)
        assert np.all(vertices >= bounds[frame, 0] - 1e-6) and np.all(vertices <= bounds[frame, 1] + 1e-6)
        assert np.all(bounds[frame, 1] - bounds[frame, 0] < vertices.max(0) - vertices.min(0) + 0.2)


def test_shadow_proxy_is_small_and_made_of_real_vertices():
    person = sb.mannequin_character(5, frames=1)
    rest = np.asarray(person.body.mesh.rest_vertices)
    keep, faces = mesh_data.shadow_proxy(rest, person.body.mesh.faces, 0.03)
    assert len(faces) < len(person.body.mesh.faces) / 4
    assert faces.min() >= 0 and faces.max() < len(keep) and len(np.unique(keep)) == len(keep)
    # One kept vertex per occupied 3 cm cell.
    cells = np.floor(rest / 0.03)
    assert len(np.unique(cells, axis=0)) == len(keep)
