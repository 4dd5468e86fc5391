"""What a person wears: a top, a bottom, shoes, hair or a hat, and a skin tone.

An outfit colours the body's regions (motions.body_regions, from the body model's own skinning
weights); it adds no geometry, so the silhouette and every ground-truth layer stay those of the
posed body. Colours come from palettes of real fabrics, hair and skin (sRGB values, converted to
linear); skin tones span the Monk skin-tone scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worldclips.motions.body_regions import REGION_INDEX, REGIONS
from worldclips.scenes.srgb import srgb8_table

Vec3 = tuple[float, float, float]

TOPS = ("t-shirt", "long sleeves", "jacket", "tank top")
BOTTOMS = ("trousers", "jeans", "shorts", "skirt")
HAIR_STYLES = ("short hair", "hat", "shaved head")
TOP_PATTERNS = ("plain", "stripes", "checker", "noise")  # noise: a heathered knit

# Regions each garment covers; what no garment covers is skin.
TOP_REGIONS = {
    "t-shirt": ("torso", "upper_arm"),
    "long sleeves": ("torso", "upper_arm", "forearm"),
    "jacket": ("torso", "upper_arm", "forearm"),
    "tank top": ("torso",),
}
BOTTOM_REGIONS = {"trousers": ("hips", "thigh", "shin"), "jeans": ("hips", "thigh", "shin"),
                  "shorts": ("hips", "thigh"), "skirt": ("hips", "thigh")}  # fmt: skip

# Roughness of each part (the raster and Cycles backends read the same numbers).
FABRIC_ROUGHNESS, SKIN_ROUGHNESS, HAIR_ROUGHNESS, SHOE_ROUGHNESS = 0.85, 0.5, 0.6, 0.45


def srgb_hex_to_linear(hex_colors: str) -> tuple[Vec3, ...]:
    """'f6ede4 ...' sRGB hex -> linear RGB tuples (exact sRGB transfer)."""
    table = srgb8_table()
    return tuple(tuple(round(float(table[int(code[i : i + 2], 16)]), 4) for i in (0, 2, 4)) for code in hex_colors.split())


SKIN = srgb_hex_to_linear("f6ede4 f3e7db f7ead0 eadaba d7bd96 a07e56 825c43 604134 3a312a 292420")  # Monk scale
HAIR = srgb_hex_to_linear("1c1a19 2e221c 3b2a20 5a3d2b 8a6642 b89763 6e3524 8c8a86 c8c6c0")
TOP_COLORS = srgb_hex_to_linear("f2f2f0 222222 1f2a44 8d8d8d a4262c 5e1f2a 2f4f3a 6b6b3a c9a23a 7fa6c9 3d5a80 d6c6a5 "
                     "d99aa5 d9782d 2f7f7f 6b4a33 b5a47a e8e0cc 4a4a52")  # fmt: skip
JACKET_COLORS = srgb_hex_to_linear("222222 2b2f3a 4a3a2a 6b5b45 3b4a3a 1f2a44 7a6a55 5a5a5a 8a2a2a")
BOTTOM_COLORS = {
    "trousers": srgb_hex_to_linear("1e1e1e 6e6e6e 242d45 5a5a37 b09e72 cdbb98 5b4332 3a3a3a"),
    "jeans": srgb_hex_to_linear("3b4d6b 2a3448 4f6a8f 1f2430 6c84a3"),
    "shorts": srgb_hex_to_linear("b09e72 3b4d6b 242d45 6e6e6e 5a5a37 cdbb98 1e1e1e"),
    "skirt": srgb_hex_to_linear("1e1e1e 242d45 5e1f2a 6e6e6e a4262c cdbb98 2f4f3a"),
}
SHOE_COLORS = srgb_hex_to_linear("e8e8e8 1a1a1a 4a3324 777777 252b3d a0784f")
HAT_COLORS = srgb_hex_to_linear("222222 1f2a44 a4262c d6c6a5 2f4f3a 8d8d8d c9a23a")


@dataclass(frozen=True)
class Outfit:
    """One person's clothes and look (colours linear RGB).

    top: one of TOPS, in top_color, with top_pattern (TOP_PATTERNS) in top_pattern_color;
    bottom: one of BOTTOMS; shoes_color; skin_color; hair: one of HAIR_STYLES, in hair_color
    (the hat's colour for "hat").
    """

    top: str
    top_color: Vec3
    top_pattern: str
    top_pattern_color: Vec3
    bottom: str
    bottom_color: Vec3
    shoes_color: Vec3
    skin_color: Vec3
    hair: str
    hair_color: Vec3

    def __post_init__(self) -> None:
        for field, value, allowed in (("top", self.top, TOPS), ("bottom", self.bottom, BOTTOMS),
                                      ("hair", self.hair, HAIR_STYLES), ("top_pattern", self.top_pattern, TOP_PATTERNS)):  # fmt: skip
            if value not in allowed:
                raise ValueError(f"Outfit.{field}: expected one of {allowed}, got {value!r}")

    def describe(self) -> str:
        """'a red striped t-shirt, blue jeans and a hat' (for captions)."""
        pattern = {"plain": "", "stripes": "striped ", "checker": "checked ", "noise": "knit "}[self.top_pattern]
        hair = {"short hair": "short hair", "hat": "a hat", "shaved head": "a shaved head"}[self.hair]
        top = f"{color_name(self.top_color)} {pattern}{self.top}"
        article = "an" if top[0] in "aeiou" else "a"
        return f"{article} {top}, {color_name(self.bottom_color)} {self.bottom} and {hair}"

    def region_albedo(self) -> np.ndarray:
        """(len(REGIONS), 5) float32 per region: linear RGB, roughness, and 1 where the top's
        pattern applies."""
        table = np.zeros((len(REGIONS), 5), dtype=np.float32)
        table[:] = (*self.skin_color, SKIN_ROUGHNESS, 0.0)
        for region in TOP_REGIONS[self.top]:
            table[REGION_INDEX[region]] = (*self.top_color, FABRIC_ROUGHNESS, float(self.top_pattern != "plain"))
        for region in BOTTOM_REGIONS[self.bottom]:
            table[REGION_INDEX[region]] = (*self.bottom_color, FABRIC_ROUGHNESS, 0.0)
        table[REGION_INDEX["foot"]] = (*self.shoes_color, SHOE_ROUGHNESS, 0.0)
        if self.hair == "shaved head":
            table[REGION_INDEX["hair"]] = (*self.hair_color, SKIN_ROUGHNESS, 0.0)
        else:
            roughness = FABRIC_ROUGHNESS if self.hair == "hat" else HAIR_ROUGHNESS
            table[REGION_INDEX["hair"]] = (*self.hair_color, roughness, 0.0)
        return table


def pick(rng: np.random.Generator, options: tuple):
    """One of ``options``, uniformly."""
    return options[int(rng.integers(len(options)))]


def draw_outfit(rng: np.random.Generator) -> Outfit:
    """A random everyday outfit."""
    top = pick(rng, TOPS)
    top_color = pick(rng, JACKET_COLORS if top == "jacket" else TOP_COLORS)
    top_pattern = str(rng.choice(TOP_PATTERNS, p=(0.6, 0.2, 0.1, 0.1))) if top != "jacket" else "plain"
    bottom = pick(rng, BOTTOMS)
    skin = pick(rng, SKIN)
    hair = str(rng.choice(HAIR_STYLES, p=(0.75, 0.2, 0.05)))
    hair_color = {"short hair": lambda: pick(rng, HAIR), "hat": lambda: pick(rng, HAT_COLORS),
                  "shaved head": lambda: tuple(round(c * 0.8, 4) for c in skin)}[hair]()  # fmt: skip
    return Outfit(top=top, top_color=top_color, top_pattern=top_pattern, top_pattern_color=pick(rng, TOP_COLORS),
                  bottom=bottom, bottom_color=pick(rng, BOTTOM_COLORS[bottom]), shoes_color=pick(rng, SHOE_COLORS),
                  skin_color=skin, hair=hair, hair_color=hair_color)  # fmt: skip


_NAMED = {  # linear RGB anchors for caption colour names
    "white": (0.88, 0.88, 0.86), "black": (0.016, 0.016, 0.016), "grey": (0.26, 0.26, 0.26),
    "dark grey": (0.06, 0.06, 0.07), "navy": (0.014, 0.024, 0.058), "blue": (0.05, 0.1, 0.22),
    "light blue": (0.21, 0.38, 0.58), "red": (0.37, 0.02, 0.025), "burgundy": (0.11, 0.014, 0.023),
    "green": (0.028, 0.078, 0.042), "olive": (0.15, 0.15, 0.042), "yellow": (0.58, 0.36, 0.042),
    "beige": (0.67, 0.56, 0.38), "pink": (0.69, 0.32, 0.38), "orange": (0.69, 0.19, 0.026),
    "teal": (0.028, 0.21, 0.21), "brown": (0.15, 0.068, 0.033), "khaki": (0.46, 0.37, 0.19),
}  # fmt: skip


def color_name(rgb: Vec3) -> str:
    """The nearest everyday colour name (distance in a perceptual-ish cube-root space)."""
    target = np.cbrt(np.asarray(rgb, dtype=np.float64))
    return min(_NAMED, key=lambda name: float(np.sum((np.cbrt(np.asarray(_NAMED[name])) - target) ** 2)))
