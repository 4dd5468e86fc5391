"""Texture folders for tests: small PBR sets written with PIL (no downloads)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

# A quadrant image: left half red, right half blue; the top half with green added (orientation).
RED, BLUE, GREEN_TOP = (200, 30, 30), (30, 30, 200), 150


def quadrant_image(side: int = 64) -> np.ndarray:
    image = np.zeros((side, side, 3), dtype=np.uint8)
    image[:, : side // 2] = RED
    image[:, side // 2 :] = BLUE
    image[: side // 2, :, 1] = GREEN_TOP
    return image


def write_set(folder: Path, name: str, color: np.ndarray, roughness: np.ndarray | None = None,
              normal: np.ndarray | None = None, infix: str = "_1K-PNG") -> None:  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(color).save(folder / f"{name}{infix}_Color.png")
    if roughness is not None:
        Image.fromarray(roughness).save(folder / f"{name}{infix}_Roughness.png")
    if normal is not None:
        Image.fromarray(normal).save(folder / f"{name}{infix}_NormalGL.png")


def write_folder(folder: Path, yaml_text: str | None = None) -> Path:
    """A folder with a quadrant set (floor, ground, 2 m) and a tilted-normal set (wall, prop)."""
    write_set(folder, "Quadrants", quadrant_image())
    tilted = np.zeros((8, 8, 3), dtype=np.uint8)
    tilted[...] = (int(255 * (0.5 + 0.5 * 0.6)), 128, int(255 * (0.5 + 0.5 * 0.8)))  # normal (0.6, 0, 0.8)
    write_set(folder, "Tilted", np.full((8, 8, 3), 180, np.uint8), np.full((8, 8), 200, np.uint8), tilted)
    (folder / "textures.yaml").write_text(yaml_text or (
        "Quadrants: {uses: [ground, floor], size: 2.0}\n"
        "Tilted: {uses: [wall, prop], size: 0.5}\n"
    ))  # fmt: skip
    return folder


def png_declaring(path: Path, width: int, height: int) -> None:
    """A small valid PNG whose header declares width x height (its data does not: never decoded)."""
    Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(path)
    data = bytearray(path.read_bytes())
    start = 8  # signature; then length (4), "IHDR" (4), data (13), crc (4)
    ihdr = bytearray(data[start + 8 : start + 21])
    ihdr[0:8] = struct.pack(">II", width, height)
    data[start + 8 : start + 21] = ihdr
    data[start + 21 : start + 25] = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(ihdr)) & 0xFFFFFFFF)
    path.write_bytes(bytes(data))
