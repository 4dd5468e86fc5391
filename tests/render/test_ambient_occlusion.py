"""Screen-space ambient occlusion of the photographic raster look (render.glsl_ao): it darkens the
ambient light where geometry meets, leaves open surfaces and every ground-truth layer alone, and
is off in the flat look."""

from __future__ import annotations

import dataclasses

import numpy as np

from worldclips.scenes.scene import Lighting, PhotoLook
from tests.render import scene_builders as sb

LOOK = PhotoLook(turbidity=2.5, zenith_luminance=0.3, exposure=1.5, haze_m=200.0)
AMBIENT_ONLY = Lighting(sun_direction=(0.0, 0.0, 1.0), sun_color=(0.0, 0.0, 0.0), sky_color=(0.5, 0.55, 0.6),
                        ground_color=(0.2, 0.18, 0.15))  # fmt: skip
WIDTH, HEIGHT = 96, 72


def _box_on_ground(lighting=AMBIENT_ONLY, look=LOOK):
    """A 0.6 m box standing on a 10 m ground, seen from 2.5 m away and 1.5 m up."""
    ground = sb.rigid_object(1, sb.quad_mesh(10.0, 10.0), np.eye(4), category="ground")
    box = sb.rigid_object(2, sb.box_mesh((0.6, 0.6, 0.6)), sb.translation(0.0, 0.0, 0.3))
    cam = sb.looking_camera(WIDTH, HEIGHT, eye=(0.0, -2.5, 1.5), target=(0.0, 0.0, 0.2), focal=80.0)
    return dataclasses.replace(sb.scene(WIDTH, HEIGHT, cam, [ground, box], lighting=lighting), look=look), cam


def _grey(rgb: np.ndarray, cam, points) -> np.ndarray:
    """Mean grey level of the pixels the world points fall on."""
    uv, _ = sb.project(cam, np.asarray(points, dtype=np.float64))
    u, v = np.round(uv).astype(int).T
    return rgb[0][v, u].astype(np.float64).mean(axis=-1)


def test_occlusion_darkens_where_a_box_meets_the_ground_and_nowhere_open(make_renderer):
    scene, cam = _box_on_ground()
    on, off = make_renderer(WIDTH, HEIGHT), make_renderer(WIDTH, HEIGHT, ambient_occlusion=False)
    assert on.occlusion_for(scene) and not off.occlusion_for(scene)
    a, b = on.render(scene), off.render(scene)
    xs = np.linspace(-0.2, 0.2, 5)
    contact = [(x, -0.33, 0.0) for x in xs]  # the ground 3 cm in front of the box's base
    open_ground = [(x, -1.2, 0.0) for x in xs] + [(1.6, 0.5, 0.0), (-1.6, 0.5, 0.0)]  # 0.9 m and more away
    box_top = [(x, 0.0, 0.6) for x in xs]  # an open face: nothing above it
    assert (_grey(a.rgb, cam, contact) < 0.85 * _grey(b.rgb, cam, contact)).all()
    assert np.abs(_grey(a.rgb, cam, open_ground) - _grey(b.rgb, cam, open_ground)).max() <= 1.0
    assert np.abs(_grey(a.rgb, cam, box_top) - _grey(b.rgb, cam, box_top)).max() <= 1.0
    assert (a.rgb.astype(int) <= b.rgb.astype(int) + 1).all()  # it only takes light away


def test_ground_truth_layers_are_identical_with_and_without_occlusion(make_renderer):
    """Depth, ids, normals and flow of a sampled clip, outdoors and in a room, bit for bit."""
    from worldclips.motions.mannequin_body import MannequinBody
    from worldclips.scenes.build import build_scene
    from worldclips.scenes.dressing import photo_dress
    from worldclips.scenes.sampling import sample_clip_spec
    from worldclips.scenes.scene_config import SceneConfig

    body = MannequinBody()
    on, off = make_renderer(96, 72), make_renderer(96, 72, ambient_occlusion=False)
    for indoor_share in (0.0, 1.0):
        spec = sample_clip_spec(SceneConfig(indoor_share=indoor_share), 4, 2, 24.0, 3, 96, 72)
        scene = build_scene(photo_dress(spec), body)
        a, b = on.render(scene, surface_layers=True), off.render(scene, surface_layers=True)
        np.testing.assert_array_equal(a.depth, b.depth)
        np.testing.assert_array_equal(a.segmentation, b.segmentation)
        for name in ("normals", "flow_forward", "flow_backward", "occluded_forward", "occluded_backward"):
            np.testing.assert_array_equal(getattr(a.surface, name), getattr(b.surface, name))
        assert not np.array_equal(a.rgb, b.rgb)  # it is on: corners and contacts darken


def test_flat_look_and_unsupersampled_photo_look_have_no_occlusion(make_renderer):
    scene, _ = _box_on_ground(look=None)
    renderer = make_renderer(WIDTH, HEIGHT)
    assert not renderer.occlusion_for(scene)
    np.testing.assert_array_equal(renderer.render(scene).rgb, make_renderer(WIDTH, HEIGHT, ambient_occlusion=False).render(scene).rgb)
    photo, _ = _box_on_ground()
    single = make_renderer(WIDTH, HEIGHT, supersample=1)
    assert not single.occlusion_for(photo)
    np.testing.assert_array_equal(single.render(photo).rgb,
                                  make_renderer(WIDTH, HEIGHT, supersample=1, ambient_occlusion=False).render(photo).rgb)  # fmt: skip
