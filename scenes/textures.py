"""PBR texture sets from the user's folder, in the common ``*_Color / *_Roughness / *_NormalGL``
layout of ambientCG and similar downloads, described by ``textures.yaml`` beside them::

    Wood049:   {uses: [floor, prop], size: 1.5}   # the image spans 1.5 m x 1.5 m of surface
    Bricks059: {uses: [wall], size: 2.0}
    Grass004:  {uses: [ground], size: 2.5}

Set ``Wood049`` is the files ``Wood049*_Color.(png|jpg|jpeg)`` (required, sRGB albedo),
``Wood049*_Roughness.*`` and ``Wood049*_NormalGL.*`` (optional; OpenGL convention, +Y up), so
``Wood049_1K-JPG_Color.jpg`` as downloaded is found. ``uses`` says which surfaces the photo look
may cover with it: ``ground`` (open ground), ``floor`` (a room's floor), ``wall`` (a room's
walls) and ``prop`` (static props).

Every byte may come from someone hostile: set names are plain names (letters, digits, ``_``,
``-``), files are looked up in the folder only (no symlinks), size-checked before they are
read, and an image's declared pixel count is checked before it is decoded. A clip records each
file's path and sha256; a clip whose texture changed is refused when rebuilt.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from worldclips.scenes.asset_cache import AssetCache, cached

from worldclips.scenes.user_files import read_capped
from worldclips.scenes.yaml_files import read_yaml_mapping

TEXTURES_YAML = "textures.yaml"
TEXTURE_USES = ("ground", "floor", "wall", "prop")
IMAGE_TYPES = (".png", ".jpg", ".jpeg")
MAPS = ("Color", "Roughness", "NormalGL")
MAX_TEXTURE_FILE_BYTES = 64 << 20
MAX_TEXTURE_PIXELS = 8192 * 8192  # declared size, checked before decoding
UPLOAD_SIDE = 1024  # images are drawn at most this large (box-filtered down; mipmaps below)
MAX_TEXTURE_SETS = 128
SIZE_RANGE_M = (0.05, 50.0)
ENTRY_FIELDS = ("uses", "size")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,63}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


class TextureFolderError(ValueError):
    """A texture folder, entry or image that cannot be used (one line naming it)."""


class TextureFileError(ValueError):
    """A recorded texture image that is missing or changed since the clip was drawn."""


@dataclass(frozen=True)
class TextureSet:
    """One PBR texture set as a clip records it.

    name: the set's name in textures.yaml; color, roughness, normal: absolute paths of its
    images ("" where the set has none; color is required), each with its sha256; size_m: metres
    of surface one image spans; uses: where the photo look may put it (TEXTURE_USES).
    """

    name: str
    color: str
    color_sha256: str
    size_m: float
    uses: tuple[str, ...]
    roughness: str = ""
    roughness_sha256: str = ""
    normal: str = ""
    normal_sha256: str = ""

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"TextureSet.name: expected letters, digits, '_' or '-' (at most 64), got {self.name!r}"[:200])
        if not self.color:
            raise ValueError("TextureSet.color: required")
        for path, sha256 in ((self.color, self.color_sha256), (self.roughness, self.roughness_sha256),
                             (self.normal, self.normal_sha256)):  # fmt: skip
            if not path:
                continue
            if Path(path).suffix.lower() not in IMAGE_TYPES or not Path(path).is_absolute():
                raise ValueError(f"TextureSet: expected the absolute path of a {'/'.join(IMAGE_TYPES)} image, got {path!r}"[:200])
            if not (isinstance(sha256, str) and _SHA256.fullmatch(sha256)):
                raise ValueError(f"TextureSet: {Path(path).name}: expected its sha256 (64 hex digits), got {sha256!r}"[:200])
        if not SIZE_RANGE_M[0] <= self.size_m <= SIZE_RANGE_M[1]:
            raise ValueError(f"TextureSet.size_m: expected metres within {list(SIZE_RANGE_M)}, got {self.size_m}")
        if not self.uses or any(use not in TEXTURE_USES for use in self.uses):
            raise ValueError(f"TextureSet.uses: expected some of {list(TEXTURE_USES)}, got {list(self.uses)}"[:200])

    def maps(self) -> dict[str, tuple[str, str]]:
        """{map name: (path, sha256)} of the images the set has (Color always)."""
        pairs = {"Color": (self.color, self.color_sha256), "Roughness": (self.roughness, self.roughness_sha256),
                 "NormalGL": (self.normal, self.normal_sha256)}  # fmt: skip
        return {name: pair for name, pair in pairs.items() if pair[0]}


def read_texture_folder(folder: str | Path) -> tuple[TextureSet, ...]:
    """The texture sets ``textures.yaml`` of ``folder`` describes, their images checked (sorted by name)."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise TextureFolderError(f"texture_dir: {folder} is not a directory")
    if not (folder / TEXTURES_YAML).is_file():
        raise TextureFolderError(f"texture_dir: {folder} has no {TEXTURES_YAML} (one entry per set: {{uses, size}})")
    entries = read_yaml_mapping(folder / TEXTURES_YAML, "textures", TextureFolderError)
    if not entries:
        raise TextureFolderError(f"{folder / TEXTURES_YAML}: no texture sets listed")
    if len(entries) > MAX_TEXTURE_SETS:
        raise TextureFolderError(f"{folder / TEXTURES_YAML}: {len(entries)} sets, expected at most {MAX_TEXTURE_SETS}")
    folder = folder.resolve()
    files = sorted(p.name for p in folder.iterdir())
    return tuple(_texture_set(folder, _own_files(files, name, entries), name, entries[name]) for name in sorted(entries))


def _own_files(files: list[str], name: str, entries: dict) -> list[str]:
    """The files named after set ``name`` and not after a longer listed set (Tiles, Tiles_Blue)."""
    longer = [other for other in entries if other != name and str(other).startswith(name + "_")]
    return [f for f in files if f.startswith(name + "_") and not any(f.startswith(other + "_") for other in longer)]


def _texture_set(folder: Path, files: list[str], name: str, entry) -> TextureSet:
    where = f"{folder / TEXTURES_YAML}: {name!r}"[:200]
    if not _NAME.fullmatch(name):
        raise TextureFolderError(f"{where}: expected a set name of letters, digits, '_' or '-' (at most 64)")
    if not isinstance(entry, dict):
        raise TextureFolderError(f"{where}: expected a mapping {{uses, size}}, got {type(entry).__name__}")
    unknown = sorted(set(entry) - set(ENTRY_FIELDS))
    if unknown:
        raise TextureFolderError(f"{where}: unknown field {unknown[0]!r} (expected {', '.join(ENTRY_FIELDS)})"[:240])
    uses, size = entry.get("uses"), entry.get("size")
    if isinstance(uses, str):
        uses = [uses]
    if not isinstance(uses, list) or not uses or any(use not in TEXTURE_USES for use in uses):
        raise TextureFolderError(f"{where}: uses: expected some of {list(TEXTURE_USES)}, got {uses!r}"[:240])
    if isinstance(size, bool) or not isinstance(size, (int, float)) or not SIZE_RANGE_M[0] <= size <= SIZE_RANGE_M[1]:
        raise TextureFolderError(f"{where}: size: expected metres within {list(SIZE_RANGE_M)}, got {size!r}"[:240])
    found = {}
    for map_name in MAPS:
        matches = [f for f in files if any(f.endswith(f"_{map_name}{ext}") or f.endswith(f"_{map_name}{ext.upper()}")
                                           for ext in IMAGE_TYPES)]  # fmt: skip
        if len(matches) > 1:
            raise TextureFolderError(f"{where}: {len(matches)} {map_name} images ({', '.join(matches[:3])}), expected one")
        if matches:
            path = folder / matches[0]
            if path.is_symlink() or not path.is_file():
                raise TextureFolderError(f"{path}: expected a plain file in the folder")
            data = _read_bytes(path)
            decode_image(data, path, map_name)  # checked now: a bad image fails the run's config, not a clip
            found[map_name] = (str(path), hashlib.sha256(data).hexdigest())
    if "Color" not in found:
        raise TextureFolderError(f"{where}: no {name}*_Color image ({'/'.join(IMAGE_TYPES)}) in the folder")
    return TextureSet(
        name=name, color=found["Color"][0], color_sha256=found["Color"][1], size_m=round(float(size), 6),
        uses=tuple(str(u) for u in uses), roughness=found.get("Roughness", ("", ""))[0],
        roughness_sha256=found.get("Roughness", ("", ""))[1], normal=found.get("NormalGL", ("", ""))[0],
        normal_sha256=found.get("NormalGL", ("", ""))[1],
    )  # fmt: skip


def _read_bytes(path: Path, error: type[Exception] = TextureFolderError) -> bytes:
    return read_capped(path, MAX_TEXTURE_FILE_BYTES, error, str(MAX_TEXTURE_FILE_BYTES))


def decode_image(data: bytes, path: Path | str, map_name: str) -> np.ndarray:
    """(H, W, 3) uint8 for Color and NormalGL, (H, W) uint8 for Roughness, at most UPLOAD_SIDE a side."""
    from PIL import Image

    try:
        with warnings.catch_warnings():  # PIL warns about large images; the size is checked here
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data))
        with opened as image:
            if image.format not in ("PNG", "JPEG"):
                raise TextureFolderError(f"{path}: expected a PNG or JPEG image, got {image.format}")
            width, height = image.size  # the header's: nothing is decoded yet
            if width < 1 or height < 1 or width * height > MAX_TEXTURE_PIXELS:
                raise TextureFolderError(f"{path}: {width}x{height} pixels, expected at most {MAX_TEXTURE_PIXELS}")
            if image.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit grey: keep the top 8 bits, not a clip at 255
                image = Image.fromarray((np.asarray(image, dtype=np.uint32) >> 8).clip(0, 255).astype(np.uint8))
            image = image.convert("L" if map_name == "Roughness" else "RGB")
            scale = UPLOAD_SIDE / max(width, height)
            if scale < 1:
                image = image.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BOX)
            return np.asarray(image, dtype=np.uint8).copy()
    except TextureFolderError:
        raise
    except Image.DecompressionBombError:  # PIL's own refusal, from the header, of a far larger image
        raise TextureFolderError(f"{path}: declares more than {MAX_TEXTURE_PIXELS} pixels") from None
    except Exception as problem:  # PIL raises many kinds on a damaged file
        raise TextureFolderError(f"{path}: not a readable image ({type(problem).__name__})") from None


def check_texture_files(texture: TextureSet) -> None:
    """Every image of a recorded set is still there and unchanged (for a renderer that reads the
    files itself, Cycles)."""
    for path, sha256 in texture.maps().values():
        _recorded_bytes(path, sha256)


def load_texture(path: str, sha256: str, map_name: str, assets: AssetCache | None = None) -> np.ndarray:
    """A recorded image, read again and checked against its sha256 (see decode_image); with
    ``assets``, decoded once and kept there (the bytes are still read and hashed every time)."""
    data = _recorded_bytes(path, sha256)
    return cached(assets, ("texture", str(path), sha256, map_name), lambda: decode_image(data, Path(path), map_name))


def _recorded_bytes(path: str, sha256: str) -> bytes:
    """The bytes of a recorded image; TextureFileError when it is missing or changed."""
    file = Path(path)
    if not file.is_file():
        raise TextureFileError(f"texture: {file} is missing (the image this clip was drawn with)")
    data = _read_bytes(file, TextureFileError)
    if hashlib.sha256(data).hexdigest() != sha256:
        raise TextureFileError(f"texture: {file} is not the image this clip was drawn with (sha256 differs)")
    return data
