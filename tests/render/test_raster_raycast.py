"""Depth and segmentation of the raster backend against ray casting through pixel centres, for
props and a GPU-skinned mannequin (the reference poses it on the CPU with SkinnedMesh.vertices).

The reference is an exact float64 ray-triangle intersector (fast enough for hundreds of rays);
it is itself checked against trimesh's ray caster on a few rays."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from worldclips.motions.body import VertexAnimatedMesh
from worldclips.scenes.scene import Character, Material
from tests.render import scene_builders as sb

TOLERANCE_M = 1e-4
FRAMES = 2


@pytest.fixture(scope="module")
def person():
    return sb.mannequin_character(20, frames=FRAMES, position=(0.2, 0.4), heading=2.0)


def _props_scene(person, width, height):
    objects = [
        sb.rigid_object(1, sb.quad_mesh(30.0, 30.0), np.eye(4), FRAMES, category="ground"),
        sb.rigid_object(2, sb.box_mesh((0.6, 0.5, 0.8)), sb.translation(-0.9, 0.9, 0.4), FRAMES),
        sb.rigid_object(3, sb.sphere_mesh(0.35, 3), sb.translation(1.0, 0.2, 0.35), FRAMES, category="sphere"),
        sb.rigid_object(
            4,
            sb.box_mesh((0.3, 0.3, 0.3)),
            np.stack([sb.translation(0.6 + 0.2 * t, -0.6, 0.9, sb.rotation_z(0.5 + t)) for t in range(FRAMES)]),
            category="box",
        ),
    ]
    cam = sb.looking_camera(width, height, eye=(0.9, -2.4, 1.5), target=(0.2, 0.3, 0.8), frames=FRAMES)
    return sb.scene(width, height, cam, objects, [person])


def _sample_pixels(mask: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    v, u = np.nonzero(mask)
    pick = rng.choice(len(u), size=min(count, len(u)), replace=False)
    return np.stack([u[pick], v[pick]], axis=1)


@pytest.mark.parametrize("frame", range(FRAMES))
def test_depth_and_ids_match_ray_casting(make_renderer, person, frame):
    width, height = 160, 120
    scene = _props_scene(person, width, height)
    clip = make_renderer(width, height).render(scene)
    depth, seg = clip.depth[frame], clip.segmentation[frame]
    rng = np.random.default_rng(frame)
    interior = sb.interior_mask(depth, seg)
    on_person = interior & (seg == person.instance_id)
    elsewhere = interior & (seg != person.instance_id)
    pixels = np.concatenate([_sample_pixels(on_person, 400, rng), _sample_pixels(elsewhere, 400, rng)])
    assert on_person.sum() > 300, "the mannequin should cover a good part of the image"

    # Skip what is an edge for the reference too (a sub-pixel sliver the 3x3 test cannot see).
    smooth = sb.smooth_pixels(scene, frame, pixels)
    assert smooth.mean() > 0.8
    pixels = pixels[smooth]
    ref_depth, ref_ids = sb.raycast(scene, frame, pixels)
    got_depth, got_ids = depth[pixels[:, 1], pixels[:, 0]], seg[pixels[:, 1], pixels[:, 0]]
    np.testing.assert_array_equal(got_ids, ref_ids)
    assert set(np.unique(got_ids)) >= {0, 1, 2, 3, 20}
    hit = ref_ids > 0
    assert np.abs(got_depth[hit] - ref_depth[hit]).max() < TOLERANCE_M
    assert np.all(got_depth[~hit] == 0.0)


def test_reference_ray_caster_agrees_with_trimesh(person):
    width, height = 160, 120
    scene = _props_scene(person, width, height)
    rng = np.random.default_rng(7)
    # Pixels around the mannequin and the props plus a few anywhere (sky included).
    pixels = np.concatenate(
        [
            np.stack([rng.integers(60, 110, 24), rng.integers(10, 110, 24)], axis=1),
            np.stack([rng.integers(0, width, 16), rng.integers(0, height, 16)], axis=1),
        ]
    )
    depth, ids = sb.raycast(scene, 1, pixels)
    ref_depth, ref_ids = sb.trimesh_raycast(scene, 1, pixels)
    np.testing.assert_array_equal(ids, ref_ids)
    assert np.abs(depth - ref_depth).max() < 1e-9
    assert {0, 20} <= set(ids.tolist())


def test_background_is_zero_depth_and_zero_id(make_renderer, person):
    width, height = 64, 48
    scene = _props_scene(person, width, height)
    clip = make_renderer(width, height).render(scene)
    assert np.array_equal(clip.depth == 0.0, clip.segmentation == 0)
    assert (clip.segmentation == 0).any() and (clip.segmentation != 0).any()
    assert np.all(clip.depth[clip.segmentation != 0] >= scene.camera.near)


def test_gpu_skinning_matches_cpu_skinned_vertices(make_renderer, person):
    """The same body as a SkinnedMesh (GPU skinning) and a VertexAnimatedMesh (CPU): same images."""
    width, height = 128, 128
    cam = sb.looking_camera(width, height, eye=(0.6, -1.6, 1.3), target=(0.2, 0.4, 0.9), frames=FRAMES)
    cpu_mesh = VertexAnimatedMesh(
        frame_vertices=np.stack([person.body.mesh.vertices(t) for t in range(FRAMES)]).astype(np.float32),
        faces=person.body.mesh.faces,
    )
    cpu_body = type(person.body)(joints=person.body.joints, joints_valid=person.body.joints_valid, mesh=cpu_mesh)
    cpu_person = Character(person.instance_id, person.name, person.motion, cpu_body, person.material)
    renderer = make_renderer(width, height)
    gpu_clip = renderer.render(sb.scene(width, height, cam, characters=[person]))
    cpu_clip = renderer.render(sb.scene(width, height, cam, characters=[cpu_person]))
    for frame in range(FRAMES):
        same = gpu_clip.segmentation[frame] == cpu_clip.segmentation[frame]
        assert same.mean() > 0.999  # a pixel centre exactly on an edge may flip
        covered = same & (gpu_clip.segmentation[frame] > 0)
        assert covered.sum() > 1000
        diff = np.abs(gpu_clip.depth[frame] - cpu_clip.depth[frame])[covered]
        assert np.percentile(diff, 99) < 1e-5 and diff.max() < 1e-2


def test_moving_prop_follows_its_pose(make_renderer):
    width, height = 48, 32
    frames = 3
    poses = np.stack([sb.translation(-0.8 + 0.8 * t, 0.0, 3.0) for t in range(frames)])
    cube = sb.rigid_object(7, sb.box_mesh((0.4, 0.4, 0.4)), poses, category="box")
    scene = sb.scene(width, height, sb.camera(sb.intrinsics(30.0, width, height), np.eye(4), frames), [cube])
    clip = make_renderer(width, height).render(scene)
    centres = [np.nonzero(clip.segmentation[t] == 7)[1].mean() for t in range(frames)]
    expected = [30.0 * x / 2.8 + (width - 1) / 2 for x in (-0.8, 0.0, 0.8)]  # front face at z = 2.8
    np.testing.assert_allclose(centres, expected, atol=0.6)
    front = clip.segmentation == 7
    assert np.abs(clip.depth[front] - 2.8).max() < TOLERANCE_M


def test_material_patterns_do_not_change_ground_truth(make_renderer, person):
    width, height = 64, 48
    plain = _props_scene(person, width, height)
    patterned_objects = [
        dataclasses.replace(o, material=Material((0.3, 0.6, 0.2), p, (0.9, 0.1, 0.1), 3.0, 0.2))
        for o, p in zip(plain.objects, ("checker", "stripes", "tiles", "noise"))
    ]
    patterned = sb.scene(width, height, plain.camera, patterned_objects, plain.characters)
    renderer = make_renderer(width, height)
    a, b = renderer.render(plain), renderer.render(patterned)
    assert np.array_equal(a.segmentation, b.segmentation)
    assert np.array_equal(a.depth, b.depth)
    assert not np.array_equal(a.rgb, b.rgb)


@pytest.mark.parametrize("look", ["photo", "flat"])
def test_sampled_project_scene_matches_ray_casting(make_renderer, look):
    """A scene from the real spec sampler and builder (tables, chairs, UV spheres, walking bodies),
    in the default photographic look (supersampled, outfits, sky) and in the flat one."""
    from worldclips.motions.mannequin_body import MannequinBody
    from worldclips.scenes.build import build_scene
    from worldclips.scenes.dressing import photo_dress
    from worldclips.scenes.sampling import sample_clip_spec
    from worldclips.scenes.scene_config import SceneConfig

    width, height, frames = 96, 72, 4
    spec = sample_clip_spec(SceneConfig(), 11, 3, 30.0, frames, width, height)
    spec = photo_dress(spec) if look == "photo" else spec
    scene = build_scene(spec, MannequinBody())
    clip = make_renderer(width, height).render(scene)
    ids = {row["id"] for row in scene.instances()}
    assert set(np.unique(clip.segmentation).tolist()) <= ids | {0}
    assert np.array_equal(clip.depth == 0.0, clip.segmentation == 0)
    frame = frames - 1
    depth, seg = clip.depth[frame], clip.segmentation[frame]
    rng = np.random.default_rng(5)
    pixels = _sample_pixels(sb.interior_mask(depth, seg), 300, rng)
    pixels = pixels[sb.smooth_pixels(scene, frame, pixels)]
    assert len(pixels) > 200
    ref_depth, ref_ids = sb.raycast(scene, frame, pixels)
    np.testing.assert_array_equal(seg[pixels[:, 1], pixels[:, 0]], ref_ids)
    hit = ref_ids > 0
    assert np.abs(depth[pixels[:, 1], pixels[:, 0]][hit] - ref_depth[hit]).max() < TOLERANCE_M
