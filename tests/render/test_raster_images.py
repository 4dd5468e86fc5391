"""Image conventions of the raster backend: pixel centres, shapes and dtypes, background, shading,
shadows, supersampling and renderer reuse."""

from __future__ import annotations

import numpy as np
import pytest

from worldclips.motions.conventions import intrinsics
from worldclips.render.frames import RenderedClip
from worldclips.scenes.scene import Lighting, Material
from tests.render import scene_builders as sb

FACING_CAMERA = np.diag([1.0, -1.0, -1.0])  # quad normal +z (object) -> -z (camera looks along +z)


def _srgb8(linear) -> np.ndarray:
    c = np.clip(np.asarray(linear, dtype=np.float64), 0.0, 1.0)
    encoded = np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)
    return np.round(encoded * 255.0)


def _square_covering(K, u_range, v_range, depth, instance_id):
    """A camera-facing rectangle whose projection spans the given (continuous) pixel ranges."""
    (u0, u1), (v0, v1) = u_range, v_range
    x0, x1 = ((u0 - K[0, 2]) * depth / K[0, 0], (u1 - K[0, 2]) * depth / K[0, 0])
    y0, y1 = ((v0 - K[1, 2]) * depth / K[1, 1], (v1 - K[1, 2]) * depth / K[1, 1])
    quad = sb.quad_mesh(x1 - x0, y1 - y0)
    return sb.rigid_object(instance_id, quad, sb.translation((x0 + x1) / 2, (y0 + y1) / 2, depth, FACING_CAMERA))


ODD_K = np.array([[52.0, 0.0, 13.37], [0.0, 47.5, 9.81], [0.0, 0.0, 1.0]])  # fx != fy, off-centre


@pytest.mark.parametrize("K", [intrinsics(40.0, 32, 24), ODD_K])
def test_pixel_centres_follow_the_opencv_convention(make_renderer, K):
    width, height = 32, 24
    # Edges 0.4 px away from pixel centres: columns 10..14 and rows 5..8 are covered, nothing else.
    block = _square_covering(K, (9.6, 14.4), (4.6, 8.4), 2.0, 5)
    single = _square_covering(K, (20.7, 21.3), (15.7, 16.3), 3.0, 6)  # exactly pixel (u=21, v=16)
    scene = sb.scene(width, height, sb.camera(K, np.eye(4)), [block, single])
    clip = make_renderer(width, height).render(scene)
    expected = np.zeros((height, width), dtype=np.uint16)
    expected[5:9, 10:15] = 5
    expected[16, 21] = 6
    np.testing.assert_array_equal(clip.segmentation[0], expected)
    assert clip.depth[0][16, 21] == pytest.approx(3.0, abs=1e-5)
    assert np.allclose(clip.depth[0][5:9, 10:15], 2.0, atol=1e-5)


@pytest.mark.parametrize("size", [(37, 23), (1, 1), (5, 64), (300, 17)])
def test_any_resolution_gives_exact_shapes_and_dtypes(make_renderer, size):
    width, height = size
    frames = 3
    cam = sb.looking_camera(width, height, eye=(0.0, -3.0, 1.0), target=(0.0, 0.0, 0.4), frames=frames)
    cube = sb.rigid_object(2, sb.box_mesh((0.8, 0.8, 0.8)), sb.translation(0.0, 0.0, 0.4), frames)
    ground = sb.rigid_object(1, sb.quad_mesh(10.0, 10.0), np.eye(4), frames, category="ground")
    clip = make_renderer(width, height).render(sb.scene(width, height, cam, [ground, cube]))
    assert isinstance(clip, RenderedClip)
    assert clip.rgb.shape == (frames, height, width, 3) and clip.rgb.dtype == np.uint8
    assert clip.depth.shape == (frames, height, width) and clip.depth.dtype == np.float32
    assert clip.segmentation.shape == (frames, height, width) and clip.segmentation.dtype == np.uint16
    assert clip.rgb.flags.c_contiguous and clip.depth.flags.c_contiguous
    if width * height > 1:
        assert set(np.unique(clip.segmentation)) <= {0, 1, 2} and (clip.segmentation == 2).any()


def test_odd_size_image_is_not_skewed(make_renderer):
    """Row alignment: with an odd width a vertical edge must stay vertical in every array."""
    width, height = 37, 23
    K = intrinsics(30.0, width, height)
    wall = _square_covering(K, (17.5, 60.0), (-10.0, 40.0), 4.0, 3)  # covers columns 18.. in every row
    clip = make_renderer(width, height).render(sb.scene(width, height, sb.camera(K, np.eye(4)), [wall]))
    covered = clip.segmentation[0] == 3
    assert np.all(covered[:, 18:]) and not covered[:, :18].any()
    assert np.all((clip.depth[0] > 0) == covered)
    rgb = clip.rgb[0].astype(int)
    assert np.all(rgb[:, 18:] == rgb[0, 18]) and np.all(rgb[:, :18] == rgb[0, 0])


def test_background_shows_the_sky_colour(make_renderer):
    width, height = 40, 30
    sky = (0.2, 0.45, 0.9)
    cam = sb.looking_camera(width, height, eye=(0.0, -4.0, 1.0), target=(0.0, 0.0, 1.0))
    ball = sb.rigid_object(3, sb.sphere_mesh(0.5), sb.translation(0.0, 0.0, 1.0), category="sphere")
    clip = make_renderer(width, height).render(sb.scene(width, height, cam, [ball], background=sky))
    background = clip.segmentation[0] == 0
    assert background.sum() > 0.5 * width * height
    assert np.abs(clip.rgb[0][background] - _srgb8(sky)).max() <= 1  # shader sRGB fit: < 0.25 level off
    assert np.all(clip.depth[0][background] == 0.0)


def test_sphere_is_shaded_not_flat(make_renderer):
    width, height = 96, 96
    sun = np.array([1.0, -1.0, 1.0]) / np.sqrt(3.0)
    lighting = Lighting(tuple(sun), (1.0, 1.0, 1.0), (0.2, 0.2, 0.25), (0.05, 0.05, 0.05))
    cam = sb.looking_camera(width, height, eye=(0.0, -3.0, 1.0), target=(0.0, 0.0, 1.0))
    material = Material(base_color=(0.6, 0.6, 0.6), roughness=0.9)
    pose = sb.translation(0.0, 0.0, 1.0)
    ball = sb.rigid_object(3, sb.sphere_mesh(0.6, 4), pose, category="sphere", material=material)
    clip = make_renderer(width, height, shadows=False).render(sb.scene(width, height, cam, [ball], lighting=lighting))
    on = clip.segmentation[0] == 3
    luminance = clip.rgb[0].astype(float).mean(axis=2)
    assert on.sum() > 700
    assert luminance[on].std() > 20.0 and len(np.unique(luminance[on])) > 50
    # The sun is up and to the right of the camera: the upper-right of the sphere is brightest.
    v, u = np.nonzero(on)
    centre_u, centre_v = u.mean(), v.mean()
    upper_right = on & (np.arange(width)[None, :] > centre_u + 8) & (np.arange(height)[:, None] < centre_v - 8)
    lower_left = on & (np.arange(width)[None, :] < centre_u - 8) & (np.arange(height)[:, None] > centre_v + 8)
    assert luminance[upper_right].mean() > luminance[lower_left].mean() + 60


def test_sun_shadow_darkens_the_ground_behind_a_box(make_renderer):
    width, height = 64, 64
    sun = np.array([0.0, 1.0, 1.0]) / np.sqrt(2.0)  # sun in +y at 45 degrees: the shadow falls towards -y
    lighting = Lighting(tuple(sun), (1.0, 1.0, 1.0), (0.2, 0.2, 0.2), (0.05, 0.05, 0.05))
    cam = sb.looking_camera(width, height, eye=(3.0, -3.0, 3.0), target=(0.0, -0.5, 0.0), focal=60.0)
    ground = sb.rigid_object(1, sb.quad_mesh(10.0, 10.0), np.eye(4), category="ground")
    box = sb.rigid_object(2, sb.box_mesh((0.6, 0.6, 1.0)), sb.translation(0.0, 0.0, 0.5))
    scene = sb.scene(width, height, cam, [ground, box], lighting=lighting)
    lit = make_renderer(width, height, shadows=False).render(scene)
    shaded = make_renderer(width, height, shadows=True).render(scene)
    assert np.array_equal(lit.depth, shaded.depth) and np.array_equal(lit.segmentation, shaded.segmentation)
    # Ground point in the shadow (x = 0, y = -0.8) and one well outside it (x = 1.5, y = -0.8).
    (shadow_uv, free_uv), _ = sb.project(cam, np.array([[0.0, -0.8, 0.0], [1.5, -0.8, 0.0]]))
    luminance = lambda clip, uv: clip.rgb[0][int(round(uv[1])), int(round(uv[0]))].astype(float).mean()
    assert luminance(shaded, shadow_uv) < 0.6 * luminance(lit, shadow_uv)
    assert abs(luminance(shaded, free_uv) - luminance(lit, free_uv)) <= 1.0


@pytest.mark.parametrize("proxies", [True, False])
def test_character_casts_a_shadow_on_the_ground(make_renderer, proxies):
    width, height = 64, 64
    sun = np.array([0.0, 1.0, 1.0]) / np.sqrt(2.0)  # the shadow falls towards -y, as long as the body is tall
    lighting = Lighting(tuple(sun), (1.0, 1.0, 1.0), (0.2, 0.2, 0.2), (0.05, 0.05, 0.05))
    cam = sb.looking_camera(width, height, eye=(3.5, -3.0, 2.5), target=(0.0, -0.7, 0.5), focal=70.0)
    ground = sb.rigid_object(1, sb.quad_mesh(10.0, 10.0), np.eye(4), category="ground")
    person = sb.mannequin_character(2, frames=1, heading=0.0)
    scene = sb.scene(width, height, cam, [ground], [person], lighting=lighting)
    lit = make_renderer(width, height, shadows=False).render(scene)
    shaded = make_renderer(width, height, body_shadow_proxies=proxies).render(scene)
    assert np.array_equal(lit.depth, shaded.depth) and np.array_equal(lit.segmentation, shaded.segmentation)
    # The torso (about 1.1 m up) shades the ground about 1.1 m towards -y; far from it the ground is lit.
    (shadow_uv, free_uv), _ = sb.project(cam, np.array([[0.0, -1.1, 0.0], [1.5, -1.1, 0.0]]))
    luminance = lambda clip, uv: clip.rgb[0][int(round(uv[1])), int(round(uv[0]))].astype(float).mean()
    assert shaded.segmentation[0][int(round(shadow_uv[1])), int(round(shadow_uv[0]))] == 1
    assert luminance(shaded, shadow_uv) < 0.6 * luminance(lit, shadow_uv)
    assert abs(luminance(shaded, free_uv) - luminance(lit, free_uv)) <= 1.0


def test_scene_without_surfaces_is_all_background(make_renderer):
    width, height = 16, 12
    cam = sb.looking_camera(width, height, eye=(0.0, -3.0, 1.0), target=(0.0, 0.0, 1.0), frames=2)
    clip = make_renderer(width, height).render(sb.scene(width, height, cam, background=(0.0, 0.0, 0.0)))
    assert np.all(clip.depth == 0.0) and np.all(clip.segmentation == 0) and np.all(clip.rgb == 0)


def test_supersampling_keeps_depth_and_ids_exact(make_renderer):
    width, height = 48, 40
    cam = sb.looking_camera(width, height, eye=(0.5, -3.0, 1.5), target=(0.0, 0.0, 0.5))
    checker = Material((0.5, 0.5, 0.5), "checker", (0.1, 0.1, 0.1), 2.0)
    objects = [
        sb.rigid_object(1, sb.quad_mesh(10.0, 10.0), np.eye(4), category="ground", material=checker),
        sb.rigid_object(2, sb.sphere_mesh(0.5), sb.translation(0.0, 0.0, 0.5), category="sphere"),
    ]
    scene = sb.scene(width, height, cam, objects)
    plain = make_renderer(width, height).render(scene)
    smooth = make_renderer(width, height, supersample=3).render(scene)
    np.testing.assert_array_equal(smooth.segmentation, plain.segmentation)
    np.testing.assert_allclose(smooth.depth, plain.depth, rtol=0, atol=1e-5)  # float rounding only
    difference = np.abs(smooth.rgb.astype(int) - plain.rgb.astype(int)).max(axis=-1)[0]
    assert difference.max() > 20  # edges are filtered
    assert np.median(difference) <= 2  # flat areas are not


def test_renderer_is_reusable_across_sizes(make_renderer):
    renderer = make_renderer(20, 10)
    assert renderer.description.startswith("raster (moderngl")
    for width, height in [(20, 10), (33, 17), (20, 10)]:
        cam = sb.looking_camera(width, height, eye=(0.0, -3.0, 1.0), target=(0.0, 0.0, 0.5))
        cube = sb.rigid_object(2, sb.box_mesh((1.0, 1.0, 1.0)), sb.translation(0.0, 0.0, 0.5))
        clip = renderer.render(sb.scene(width, height, cam, [cube]))
        assert clip.depth.shape == (1, height, width)
        assert renderer.size == (width, height)
        assert (clip.segmentation == 2).sum() > 0.1 * width * height


def test_all_patterns_render(make_renderer):
    width, height = 48, 32
    cam = sb.looking_camera(width, height, eye=(0.0, -3.0, 2.0), target=(0.0, 0.0, 0.0))
    images = []
    for pattern in ("plain", "checker", "stripes", "tiles", "noise"):
        material = Material((0.7, 0.5, 0.3), pattern, (0.1, 0.2, 0.6), 3.0, 0.5)
        ground = sb.rigid_object(1, sb.quad_mesh(8.0, 8.0), np.eye(4), category="ground", material=material)
        images.append(make_renderer(width, height).render(sb.scene(width, height, cam, [ground])).rgb[0])
    for i in range(len(images)):
        for j in range(i + 1, len(images)):
            assert not np.array_equal(images[i], images[j])
    assert images[0].std(axis=(0, 1)).max() < images[1].std(axis=(0, 1)).max()  # the checker has contrast


@pytest.mark.parametrize("ids", [(0, 1), (3, 3), (70000, 1)])
def test_invalid_instance_ids_are_rejected(make_renderer, ids):
    cam = sb.looking_camera(8, 8, eye=(0.0, -3.0, 1.0), target=(0.0, 0.0, 0.5))
    objects = [sb.rigid_object(i, sb.box_mesh(), sb.translation(k, 0.0, 0.5)) for k, i in enumerate(ids)]
    with pytest.raises(ValueError, match="instance id"):
        make_renderer(8, 8).render(sb.scene(8, 8, cam, objects))
