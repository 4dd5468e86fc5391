"""HDRI environments: equirectangular ``.exr`` / ``.hdr`` maps that are the background, the sky
light and the sun of the photographic look.

Maps are read with PyAV (FFmpeg's EXR and Radiance HDR decoders), with their declared size
checked before anything is decoded. A map is resampled into Blender's equirectangular layout
(``scenes.sky.equirect_directions``, rotated about +Z by the clip's drawn angle), which both
backends use. The sun is found in the map: the brightest 0.05 % of its solid angle (where the
sun's disc is in a daylight map) grown by a few pixels for its glow, its direction the radiance-weighted mean and its irradiance
the sum of radiance x solid angle there; the ambient light is the cosine-weighted mean of the
rest of the upper hemisphere.

Default maps: the eight CC0 Poly Haven maps that Blender ships (``worldclips setup cycles``
installs them under bpy's ``datafiles/studiolights/world``); the outdoor daylight ones are used.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from worldclips.scenes.asset_cache import AssetCache, cached
from worldclips.scenes.sky import equirect_directions
from worldclips.scenes.user_files import read_capped

MAP_SUFFIXES = (".exr", ".hdr")
MAX_MAP_SIDE = 16384
MAX_MAP_BYTES = 512 << 20  # a file larger than this is refused before decoding
SKY_IMAGE_WIDTH = 512
SUN_FRACTION = 0.0005
SUN_GROW_PX = 3
OUTDOOR_DEFAULT_MAPS = ("city.exr", "courtyard.exr", "forest.exr", "sunrise.exr", "sunset.exr")
LICENCE_FILES = ("license.txt", "LICENSE.txt", "LICENSE", "licence.txt")


class EnvironmentError_(ValueError):
    """A map file that cannot be used (one line naming the file)."""


@dataclass(frozen=True, eq=False)
class EnvironmentLight:
    """What a map gives a clip.

    image: (H, 2H, 3) float32 radiance in Blender's equirectangular layout, already rotated.
    sun_direction: (3,) unit world vector towards the map's sun; sun_irradiance: (3,) linear RGB
    irradiance of the sun region on a surface facing it; ambient: (3,) cosine-weighted mean
    radiance of the upper hemisphere without the sun region.
    """

    image: np.ndarray
    sun_direction: np.ndarray
    sun_irradiance: np.ndarray
    ambient: np.ndarray


def blender_map_dir(env_dir: str | Path) -> Path | None:
    """Blender's world maps inside a Blender (bpy) virtual environment, if it holds them."""
    found = sorted(Path(env_dir).glob("lib/python3*/site-packages/bpy/*/datafiles/studiolights/world"))
    return found[-1] if found else None


def list_maps(folder: str | Path, names: tuple[str, ...] | None = None) -> list[Path]:
    """The map files of ``folder`` (sorted; only ``names`` if given)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise EnvironmentError_(f"environment_dir: {folder} is not a directory")
    maps = sorted(p for p in folder.iterdir() if p.suffix.lower() in MAP_SUFFIXES and p.is_file())
    if names is not None:
        maps = [p for p in maps if p.name in names]
    if not maps:
        raise EnvironmentError_(f"environment_dir: no .exr or .hdr maps in {folder}")
    return maps


def licence_text(map_file: str | Path) -> str:
    """The first line of the licence file beside a map ("" when there is none)."""
    for name in LICENCE_FILES:
        path = Path(map_file).with_name(name)
        if path.is_file():
            lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
            return lines[0][:200] if lines else ""
    return ""


def read_map(path: str | Path, data: bytes | None = None) -> np.ndarray:
    """(H, W, 3) float32 linear radiance of an equirectangular map, row 0 at the zenith (decoded
    from ``data``, the file's bytes already read, when given; ``path`` then only names it)."""
    import io

    import av

    path = Path(path)
    try:
        if (len(data) if data is not None else path.stat().st_size) > MAX_MAP_BYTES:
            raise EnvironmentError_(f"{path}: larger than {MAX_MAP_BYTES >> 20} MiB")
        with av.open(io.BytesIO(data) if data is not None else str(path)) as container:
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            if width == 0 or height == 0:
                raise EnvironmentError_(f"{path}: not a readable .exr / .hdr map (no image in it)")
            if not (width <= MAX_MAP_SIDE and height <= MAX_MAP_SIDE):
                raise EnvironmentError_(f"{path}: declares {width}x{height} pixels (limit {MAX_MAP_SIDE} a side)")
            frame = next(container.decode(stream))
            image = frame.to_ndarray(format="gbrpf32le")
    except (OSError, av.error.FFmpegError, StopIteration) as error:
        raise EnvironmentError_(f"{path}: not a readable .exr / .hdr map ({error})") from None
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[1] != 2 * image.shape[0]:
        raise EnvironmentError_(f"{path}: expected an equirectangular RGB map (width = 2 x height), got {image.shape}")
    if not np.all(np.isfinite(image)):
        raise EnvironmentError_(f"{path}: holds values that are not finite")
    return np.maximum(image, 0.0)


def _sample(image: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Bilinear lookup of a row-0-at-zenith map in Blender's orientation (u = 0.5 - azimuth / 2 pi)."""
    h, w = image.shape[:2]
    azimuth = np.arctan2(directions[..., 1], directions[..., 0])
    elevation = np.arcsin(np.clip(directions[..., 2], -1.0, 1.0))
    x = ((0.5 - azimuth / (2 * np.pi)) % 1.0) * w - 0.5
    y = (0.5 - elevation / np.pi) * h - 0.5
    x0, y0 = np.floor(x).astype(int), np.clip(np.floor(y).astype(int), 0, h - 1)
    fx, fy = (x - x0)[..., None], np.clip(y - y0, 0.0, 1.0)[..., None]
    y1 = np.clip(y0 + 1, 0, h - 1)
    x0, x1 = x0 % w, (x0 + 1) % w
    top = image[y0, x0] * (1 - fx) + image[y0, x1] * fx
    bottom = image[y1, x0] * (1 - fx) + image[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def _dilate(mask: np.ndarray, steps: int) -> np.ndarray:
    """Grow a (H, W) mask by ``steps`` pixels (8-connected; wrapping around in azimuth)."""
    for _ in range(steps):
        grown = mask.copy()
        grown[1:] |= mask[:-1]
        grown[:-1] |= mask[1:]
        mask = grown | np.roll(grown, 1, axis=1) | np.roll(grown, -1, axis=1)
    return mask


def environment_light(image: np.ndarray, rotation: float, width: int = SKY_IMAGE_WIDTH) -> EnvironmentLight:
    """The map rotated by ``rotation`` radians about +Z, resampled, with its sun and ambient light."""
    directions = equirect_directions(width)  # world directions of the output pixels
    c, s = np.cos(-rotation), np.sin(-rotation)
    in_map = directions @ np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])  # rotate back into the map
    radiance = _sample(image, in_map).astype(np.float32)
    height = width // 2
    elevation = ((np.arange(height) + 0.5) / height - 0.5) * np.pi
    solid_angle = np.repeat((np.cos(elevation) * (np.pi / height) * (2 * np.pi / width))[:, None], width, axis=1)
    luminance = radiance @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    upper = directions[..., 2] > 0
    order = np.argsort(-(luminance * upper), axis=None)
    budget = SUN_FRACTION * 4 * np.pi
    cumulative = np.cumsum(solid_angle.reshape(-1)[order])
    sun = np.zeros(luminance.size, dtype=bool)
    sun[order[: max(1, int(np.searchsorted(cumulative, budget)))]] = True
    sun = _dilate(sun.reshape(luminance.shape), SUN_GROW_PX) & upper  # with the sun's glow and resampling blur
    weight = (luminance * solid_angle)[sun]
    direction = (directions[sun] * weight[:, None]).sum(axis=0)
    direction = direction / max(np.linalg.norm(direction), 1e-12)
    if direction[2] < 0.05:  # a sun at or under the horizon lights nothing above the ground
        direction = np.array([direction[0], direction[1], 0.05]) / np.linalg.norm([direction[0], direction[1], 0.05])
    irradiance = (radiance[sun] * solid_angle[sun][:, None]).sum(axis=0)
    rest = upper & ~sun
    cosine = np.clip(directions[..., 2], 0.0, None) * solid_angle
    ambient = (radiance[rest] * cosine[rest][:, None]).sum(axis=0) / max(cosine[rest].sum(), 1e-12)
    return EnvironmentLight(radiance, direction, irradiance, ambient)


def map_light(path: str | Path, rotation: float, assets: AssetCache | None = None) -> tuple[str, EnvironmentLight]:
    """(sha256 of the file, environment_light of the map turned by ``rotation``). With ``assets``
    the decoded map and the light are kept there (keyed by path and sha256, hashed every time)."""
    path = Path(path)
    data = read_capped(path, MAX_MAP_BYTES, EnvironmentError_, f"{MAX_MAP_BYTES >> 20} MiB")  # hashed and decoded
    sha256 = hashlib.sha256(data).hexdigest()
    image = lambda: cached(assets, ("map", str(path), sha256), lambda: read_map(path, data))  # noqa: E731
    light = cached(assets, ("map light", str(path), sha256, float(rotation)), lambda: environment_light(image(), rotation))
    return sha256, light
