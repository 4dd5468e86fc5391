"""Deferred lighting of the supersampled photo look (render.glsl): the resolve pass lights each
output pixel once per surface in it with the mean albedo of that surface's samples. Checked
against the forward path lighting every sample: the same scene drawn without supersampling at
three times the size, whose pixel (3 i + 1, 3 j + 1) is output pixel (i, j)'s centre sample."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from worldclips.render.uniforms import supersampled_intrinsics
from worldclips.scenes.srgb import encode_srgb8, srgb8_table

SIZE = (96, 72)


@pytest.fixture(scope="module")
def body():
    from worldclips.motions.mannequin_body import MannequinBody

    return MannequinBody()


def _sampled_scene(body, indoor_share: float, photo: bool):
    from worldclips.scenes.build import build_scene
    from worldclips.scenes.dressing import photo_dress
    from worldclips.scenes.sampling import sample_clip_spec
    from worldclips.scenes.scene_config import SceneConfig

    spec = sample_clip_spec(SceneConfig(indoor_share=indoor_share), 4, 2, 24.0, 2, *SIZE)
    return build_scene(photo_dress(spec) if photo else spec, body)


def _larger(scene, factor: int = 3):
    camera = dataclasses.replace(scene.camera, K=supersampled_intrinsics(np.asarray(scene.camera.K), factor))
    return dataclasses.replace(scene, width=scene.width * factor, height=scene.height * factor, camera=camera)


def _blocks(image: np.ndarray, factor: int = 3) -> np.ndarray:
    """(T, sH, sW, ...) -> (T, H, W, s*s, ...): each output pixel's s x s samples."""
    t, h, w = image.shape[0], image.shape[1] // factor, image.shape[2] // factor
    blocks = image.reshape(t, h, factor, w, factor, *image.shape[3:]).swapaxes(2, 3)
    return blocks.reshape(t, h, w, factor * factor, *image.shape[3:])


def _both_paths(make_renderer, scene, with_depth: bool = False, factor: int = 3):
    """The deferred render (no ambient occlusion: the forward path has none) and the forward
    render's samples: (T, H, W, s*s, 3) uint8 colours and (T, H, W, s*s) ids (and depths)."""
    deferred = make_renderer(*SIZE, supersample=factor, ambient_occlusion=False).render(scene)
    forward = make_renderer(SIZE[0] * factor, SIZE[1] * factor, supersample=1).render(_larger(scene, factor))
    found = deferred, _blocks(forward.rgb, factor), _blocks(forward.segmentation, factor)
    return (*found, _blocks(forward.depth, factor)) if with_depth else found


@pytest.mark.parametrize("indoor_share", [0.0, 1.0], ids=["outdoors", "room"])
@pytest.mark.parametrize("look", ["flat", "photo"])
def test_deferred_pixels_match_every_sample_lit_forward(make_renderer, body, indoor_share, look):
    """Depth and ids are the centre samples'. Colour: pixels whose nine samples show one surface
    are within a level of the mean of the nine samples lit one by one (in linear light: the flat
    look has no tone curve; the photo look's curve is near linear across one surface's samples)
    but where a shadow edge crosses them (four shadow lookups a surface and pixel stand for nine:
    99 % within 5 levels); pixels on an edge blend their surfaces, within the range of their nine
    forward-lit samples but for a few percent (each surface's light is its light at one sample,
    with its samples' mean normal, and its shadow over the whole pixel). Pixels with a clipped
    sample are left out of the mean's comparison: the forward path clips each sample, the resolve
    clips the mean (as supersampling did before)."""
    scene = _sampled_scene(body, indoor_share, photo=look == "photo")
    deferred, samples, ids, depths = _both_paths(make_renderer, scene, with_depth=True)
    same_id = deferred.segmentation == ids[..., 4]
    assert same_id.mean() > 0.998  # the rasterizer snaps vertices
    np.testing.assert_allclose(deferred.depth[same_id], depths[..., 4][same_id], rtol=1e-5, atol=1e-5)

    got = deferred.rgb.astype(int)
    one_surface = (ids == ids[..., :1]).all(axis=-1)
    unclipped = (samples < 255).all(axis=(-1, -2))
    assert (one_surface & unclipped).mean() > 0.4 and (~one_surface & unclipped).mean() > 0.01  # both are tested
    mean = encode_srgb8(srgb8_table()[samples].mean(axis=-2)).astype(int)
    error = np.abs(got - mean).max(axis=-1)
    assert np.median(error[one_surface & unclipped]) <= 1 and np.percentile(error[one_surface & unclipped], 99) <= 5
    low, high = samples.min(axis=-2).astype(int), samples.max(axis=-2).astype(int)
    inside = ((got >= low - 2) & (got <= high + 2)).all(axis=-1)
    assert inside[one_surface].mean() > 0.998 and inside[~one_surface].mean() > 0.95
    edges = error[~one_surface & unclipped]
    if look == "flat":  # no tone curve: the blend of an edge is the mean of its samples' light
        assert np.median(edges) <= 1 and np.percentile(edges, 90) <= 8
    else:  # the tone curve of the mean light is not the mean of the curve, but a blend all the same
        assert np.median(edges) <= 8


@pytest.mark.parametrize("factor", [3, 5])
def test_one_surface_with_a_pattern_is_lit_exactly_as_its_samples(make_renderer, factor):
    """A tiled, checkered or noisy ground under the sun, flat look: the pattern's anti-aliased
    detail comes from the mean albedo, and every pixel is the linear mean of its s x s samples
    lit one by one, within one 8-bit level (3 x 3 and 5 x 5 supersampling)."""
    from worldclips.scenes.scene import Material
    from tests.render import scene_builders as sb

    for pattern in ("tiles", "checker", "noise"):
        material = Material(base_color=(0.6, 0.4, 0.2), pattern=pattern, pattern_color=(0.1, 0.5, 0.2), pattern_scale=2.0)
        ground = sb.rigid_object(1, sb.quad_mesh(8.0, 8.0), np.eye(4), category="ground", material=material)
        cam = sb.looking_camera(*SIZE, eye=(0.0, -2.0, 1.2), target=(0.0, 0.5, 0.0), focal=60.0)
        deferred, samples, ids = _both_paths(make_renderer, sb.scene(*SIZE, cam, [ground]), factor=factor)
        ground_only = (ids == 1).all(axis=-1)
        assert ground_only.mean() > 0.6
        mean = encode_srgb8(srgb8_table()[samples].mean(axis=-2)).astype(int)
        error = np.abs(deferred.rgb.astype(int) - mean)[ground_only]
        assert error.max() <= 1, pattern
        spread = samples.max(axis=-2).astype(int) - samples.min(axis=-2)
        assert (spread[ground_only] > 20).mean() > 0.005, pattern  # the pattern does vary within pixels


def test_shadow_edges_stay_anti_aliased(make_renderer):
    """A box's shadow on a plain ground, flat look: across the shadow's edge the resolve's four
    lookups a pixel give intermediate levels close to the mean of the nine samples lit one by one,
    where one lookup a pixel would leave a staircase of lit and shadowed pixels."""
    from tests.render import scene_builders as sb

    ground = sb.rigid_object(1, sb.quad_mesh(8.0, 8.0), np.eye(4), category="ground")
    box = sb.rigid_object(2, sb.box_mesh((0.5, 0.5, 1.2)), sb.translation(-0.3, 0.4, 0.6))
    cam = sb.looking_camera(*SIZE, eye=(0.0, -3.0, 2.0), target=(0.0, 0.5, 0.0), focal=60.0)
    deferred, samples, ids = _both_paths(make_renderer, sb.scene(*SIZE, cam, [ground, box]))
    ground_only = (ids == 1).all(axis=-1)
    grey = srgb8_table()[samples].mean(axis=-1)  # (T, H, W, 9) linear grey of each sample
    shadow_edge = ground_only & (grey.max(axis=-1) > 1.5 * grey.min(axis=-1))  # lit and shadowed samples
    assert shadow_edge.sum() >= 10
    mean = encode_srgb8(srgb8_table()[samples].mean(axis=-2)).astype(int)
    lit, shadowed = samples.max(axis=-2).astype(int), samples.min(axis=-2).astype(int)
    error = np.abs(deferred.rgb.astype(int) - mean).max(axis=-1)[shadow_edge]
    contrast = (lit - shadowed).max(axis=-1)[shadow_edge]
    assert np.median(error) <= 0.25 * np.median(contrast) and error.max() <= 0.5 * contrast.max()
    got = deferred.rgb.astype(int)[shadow_edge]
    between = ((got > shadowed[shadow_edge] + 3) & (got < lit[shadow_edge] - 3)).all(axis=-1)
    assert between.mean() > 0.5  # blended, not snapped to lit or shadowed
