"""PBR textures in the raster backend: the Color image lands where its uv (metres / size) says,
the right way up, a NormalGL image tilts the shading, and depth and ids do not change."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from worldclips.motions.conventions import invert_rigid
from worldclips.motions.mannequin_body import MannequinBody
from worldclips.scenes.build import build_scene
from worldclips.scenes.scene import Lighting, Material
from worldclips.scenes.spec import CameraSpec, ClipSpec, StaticCamera
from worldclips.scenes.textures import read_texture_folder
from tests.scenes.texture_files import write_folder, write_set

WIDTH, HEIGHT = 96, 96


def _spec(ground: Material, sun=(0.0, 0.0, 1.0)) -> ClipSpec:
    return ClipSpec(
        run_seed=0, clip_index=0, scenario="default", fps=24.0, num_frames=1, width=WIDTH, height=HEIGHT, ground=ground,
        lighting=Lighting(sun, (0.6, 0.6, 0.6), (0.3, 0.3, 0.3), (0.1, 0.1, 0.1)), background_color=(0.5, 0.6, 0.7),
        characters=(), props=(), camera=CameraSpec(path=StaticCamera(eye=(1.0, 1.0, 4.0), target=(1.0, 1.01, 0.0)), fov_deg=60.0),
    )  # fmt: skip


def _ground_points(scene) -> np.ndarray:
    """(H, W, 2) world xy of the ground (z = 0) seen through each pixel centre, by hand."""
    v, u = np.mgrid[0 : scene.height, 0 : scene.width].astype(np.float64)
    rays = np.linalg.solve(scene.camera.K[0], np.stack([u.ravel(), v.ravel(), np.ones(u.size)]))
    world_from_cam = invert_rigid(scene.camera.cam_from_world[0])
    directions = (world_from_cam[:3, :3] @ rays).T
    eye = world_from_cam[:3, 3]
    t = -eye[2] / directions[:, 2]
    return (eye[:2] + t[:, None] * directions[:, :2]).reshape(scene.height, scene.width, 2)


def test_the_color_image_lands_where_its_uv_says(tmp_path, make_renderer):
    sets = {t.name: t for t in read_texture_folder(write_folder(tmp_path))}
    textured = Material((1.0, 1.0, 1.0), texture=sets["Quadrants"])  # the image spans 2 m x 2 m
    renderer = make_renderer(WIDTH, HEIGHT)
    scene = build_scene(_spec(textured), MannequinBody())
    clip = renderer.render(scene)
    rgb = clip.rgb[0].astype(int)
    xy = np.mod(_ground_points(scene), 2.0)  # position within the image's tile, metres
    inner = lambda a, lo, hi: (a > lo + 0.15) & (a < hi - 0.15)  # noqa: E731 - away from the quadrant edges
    left, right = inner(xy[..., 0], 0.0, 1.0), inner(xy[..., 0], 1.0, 2.0)
    bottom, top = inner(xy[..., 1], 0.0, 1.0), inner(xy[..., 1], 1.0, 2.0)
    for where, red_wins, green_high in ((left & bottom, True, False), (left & top, True, True),
                                        (right & bottom, False, False), (right & top, False, True)):  # fmt: skip
        assert where.sum() > 100
        red, green, blue = (rgb[..., c][where] for c in range(3))
        assert np.all((red > blue + 60) if red_wins else (blue > red + 60))
        assert np.all(green > 110) if green_high else np.all(green < 90)  # the image's top half is +v: +y here

    plain = renderer.render(build_scene(_spec(Material((0.7, 0.7, 0.7))), MannequinBody()))
    np.testing.assert_array_equal(plain.segmentation, clip.segmentation)
    np.testing.assert_array_equal(plain.depth, clip.depth)


@pytest.mark.parametrize("axis", [0, 1])
def test_a_normal_image_tilts_the_shading(tmp_path, make_renderer, axis):
    lean = np.zeros(3)
    lean[axis], lean[2] = 0.6, 0.8  # normals lean to +u = +x, or to +v = +y (NormalGL: +Y up the image)
    normal = np.broadcast_to(np.round(255 * (0.5 + 0.5 * lean)).astype(np.uint8), (8, 8, 3)).copy()
    write_set(tmp_path, "Lean", np.full((8, 8, 3), 180, np.uint8), None, normal)
    (tmp_path / "textures.yaml").write_text("Lean: {uses: [ground], size: 0.5}\n")
    tilted = read_texture_folder(tmp_path)[0]
    renderer = make_renderer(WIDTH, HEIGHT)
    means = {}
    for sun_x in (1.0, -1.0):
        sun = tuple(0.8 * sun_x * (i == axis) + 0.6 * (i == 2) for i in range(3))
        with_map = build_scene(_spec(Material((1.0, 1.0, 1.0), texture=tilted), sun), MannequinBody())
        flat_set = dataclasses.replace(tilted, normal="", normal_sha256="")
        without = build_scene(_spec(Material((1.0, 1.0, 1.0), texture=flat_set), sun), MannequinBody())
        means[sun_x] = (renderer.render(with_map).rgb.mean(), renderer.render(without).rgb.mean())
    assert means[1.0][0] > means[1.0][1] + 10  # facing the sun more
    assert means[-1.0][0] < means[-1.0][1] - 10  # facing away from it
