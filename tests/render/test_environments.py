"""HDRI environments: reading .exr / .hdr maps, finding their sun, turning them, and the raster
backend showing exactly the map (checked against a numpy lookup of the same map)."""

from __future__ import annotations

import dataclasses

import av
import numpy as np
import pytest

from worldclips.scenes.environments import EnvironmentError_, _sample, environment_light, list_maps, read_map
from worldclips.scenes.sky import equirect_directions

SKY = np.array([0.2, 0.35, 0.7], dtype=np.float32)
GROUND = np.array([0.15, 0.12, 0.1], dtype=np.float32)


def _direction(azimuth: float, elevation: float) -> np.ndarray:
    return np.array([np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth), np.sin(elevation)])


def synthetic_map(height: int = 128, sun=(0.7, 0.5), sun_radiance: float = 2000.0) -> np.ndarray:
    """Row 0 at the zenith, Blender's azimuth convention: blue sky, brown ground, a small sun disc."""
    width = 2 * height
    elevation = (0.5 - (np.arange(height) + 0.5) / height) * np.pi
    azimuth = (0.5 - (np.arange(width) + 0.5) / width) * 2 * np.pi
    d = np.stack(np.broadcast_arrays(np.cos(elevation)[:, None] * np.cos(azimuth), np.cos(elevation)[:, None] * np.sin(azimuth),
                                     np.sin(elevation)[:, None]), axis=-1)  # fmt: skip
    image = np.where(d[..., 2:3] > 0, SKY, GROUND).astype(np.float32)
    image[d @ _direction(*sun) > np.cos(np.radians(2.0))] = sun_radiance
    return image


def write_map(path, image: np.ndarray, codec: str) -> None:
    with av.open(str(path), "w", format="image2") as container:
        stream = container.add_stream(codec)
        stream.width, stream.height, stream.pix_fmt = image.shape[1], image.shape[0], "gbrpf32le"
        for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="gbrpf32le")):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


@pytest.mark.parametrize("codec,suffix", [("exr", ".exr"), ("hdr", ".hdr")])
def test_maps_read_back_exactly(tmp_path, codec, suffix):
    image = synthetic_map(32)
    write_map(tmp_path / f"sky{suffix}", image, codec)
    assert list_maps(tmp_path) == [tmp_path / f"sky{suffix}"]
    np.testing.assert_allclose(read_map(tmp_path / f"sky{suffix}"), image, rtol=0.01)  # RGBE keeps 8-bit mantissas


def test_bad_maps_give_one_line(tmp_path):
    (tmp_path / "fake.exr").write_bytes(b"not an image at all" * 10)
    with pytest.raises(EnvironmentError_, match="fake.exr: not a readable"):
        read_map(tmp_path / "fake.exr")
    write_map(tmp_path / "square.exr", np.ones((16, 16, 3), np.float32), "exr")
    with pytest.raises(EnvironmentError_, match="width = 2 x height"):
        read_map(tmp_path / "square.exr")
    (tmp_path / "empty").mkdir()
    with pytest.raises(EnvironmentError_, match="no .exr or .hdr maps"):
        list_maps(tmp_path / "empty")


@pytest.mark.parametrize("rotation", [0.0, 1.2])
def test_the_sun_and_ambient_are_found_in_the_map(rotation):
    azimuth, elevation = 0.7, 0.5
    light = environment_light(synthetic_map(), rotation)
    expected = _direction(azimuth + rotation, elevation)
    assert np.degrees(np.arccos(np.clip(light.sun_direction @ expected, -1, 1))) < 1.5
    disc = 2 * np.pi * (1 - np.cos(np.radians(2.0)))  # solid angle of the sun's disc
    np.testing.assert_allclose(light.sun_irradiance, 2000.0 * disc, rtol=0.15)
    np.testing.assert_allclose(light.ambient, SKY, rtol=0.02)
    assert light.image.shape == (256, 512, 3)
    # The turned image is the map looked up in directions turned back.
    directions = equirect_directions(512)
    c, s = np.cos(rotation), np.sin(rotation)
    turned = directions @ np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(light.image[40:60], _sample(synthetic_map(), turned)[40:60], atol=1e-4)


def test_raster_background_is_the_map(make_renderer):
    """Background pixels of a scene lit by a map equal a numpy lookup of the map in each pixel's
    direction (through the tone curve): the shader's orientation is the map's and Blender's."""
    from worldclips.scenes.scene import PhotoLook
    from tests.render import scene_builders as sb

    width, height = 64, 48
    image = synthetic_map(64)
    image[:20, :40] = [1.0, 0.2, 0.1]  # an asymmetric patch: a mirrored or turned lookup would miss it
    light = environment_light(image, 0.4)
    look = PhotoLook(turbidity=2.5, zenith_luminance=0.3, exposure=0.6, haze_m=30.0)
    cam = sb.looking_camera(width, height, eye=(0.0, 0.0, 1.0), target=(-2.0, 3.0, 2.5), focal=25.0)
    scene = dataclasses.replace(sb.scene(width, height, cam, [], []), look=look, sky_image=light.image)
    rgb = make_renderer(width, height, supersample=1).render(scene).rgb[0].astype(np.float64) / 255.0
    v, u = np.mgrid[0:height, 0:width]
    rays = np.stack([u, v, np.ones_like(u)], axis=-1).reshape(-1, 3) @ np.linalg.inv(cam.K[0]).T
    world = rays @ cam.cam_from_world[0][:3, :3]
    world /= np.linalg.norm(world, axis=1, keepdims=True)
    azimuth = np.arctan2(world[:, 1], world[:, 0])
    elevation = np.arcsin(world[:, 2])
    rows, cols = light.image.shape[:2]
    x = ((0.5 - azimuth / (2 * np.pi)) % 1.0) * cols - 0.5
    y = (0.5 + elevation / np.pi) * rows - 0.5  # Blender stores the bottom row first
    radiance = light.image[np.clip(np.round(y).astype(int), 0, rows - 1), np.round(x).astype(int) % cols] * look.exposure
    filmic = np.clip(radiance * (2.51 * radiance + 0.03) / (radiance * (2.43 * radiance + 0.59) + 0.14), 0, 1)
    srgb = np.where(filmic <= 0.0031308, 12.92 * filmic, 1.055 * filmic ** (1 / 2.4) - 0.055).reshape(height, width, 3)
    close = np.abs(rgb - srgb).max(axis=-1) < 4.0 / 255.0
    assert close.mean() > 0.95  # all but texels where bilinear and nearest lookups differ (patch edges)
    assert (srgb[..., 0] - srgb[..., 2] > 0.3).sum() > 20  # the patch is in view
