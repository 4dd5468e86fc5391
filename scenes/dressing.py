"""The photographic look of a drawn clip: outfits, natural materials, the daylight sky, exposure.

``photo_dress`` re-dresses a ClipSpec drawn by any sampler (default scene, physics setups,
scenarios) without touching what happens in it: people, motions, props, physics and camera stay
exactly as drawn, so ``look: flat`` and ``look: photo`` give the same clip in two looks. Its own
random stream is derived from the spec's (run seed, clip index) alone: the same clip gets the
same look on any worker, in any order.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from pathlib import Path

from worldclips.scenes.draws import r4, v4
from worldclips.scenes.asset_cache import AssetCache
from worldclips.scenes.environments import licence_text, map_light
from worldclips.scenes.outfits import FABRIC_ROUGHNESS, draw_outfit, pick, srgb_hex_to_linear
from worldclips.scenes.scene import Lighting, Material, PhotoLook
from worldclips.scenes.sky import ambient_from_sky
from worldclips.scenes.spec import CharacterSpec, ClipSpec
from worldclips.scenes.textures import TextureSet

LOOK_STREAM = 0x10_0C  # the look's child stream of a clip's seed
NOISE_STREAM = 0x10_0D  # the sensor noise level's stream
LUMINANCE = np.array([0.2126, 0.7152, 0.0722])
MAP_PROBABILITY = 0.6  # with maps at hand, the share of clips lit by one (the rest: the analytic sky)
MIDDLE_GREY_EXPOSURE = 0.9  # exposure x illuminance of a sunlit horizontal surface (shading units)

# Open ground: (pattern, palette ends as sRGB hex, pattern scale per metre range, roughness, weight).
GROUNDS = (
    ("grass", "2f4a1c 4e6b26 3c5a22 5f7a30", (0.6, 1.2), 0.9, 0.35),
    ("dirt", "5b4634 7a5f45 6b5240 8a735a", (0.8, 1.6), 0.95, 0.1),
    ("asphalt", "2b2b2c 363637 303032", (0.8, 1.2), 0.8, 0.2),
    ("concrete", "8e8b85 a29f98 9a958c 7d7a74", (0.4, 0.6), 0.85, 0.2),
    ("tiles", "8a7f74 9c8b7a a39a8f 7a6f66", (1.5, 3.0), 0.7, 0.15),
)
GROUT = "6b6660 5a5550 7a756e"
# Indoor floors, as GROUNDS.
FLOORS = (
    ("planks", "6e5238 8a6a48 a3825c 4a3624 b08a60 c8a478", (5.0, 8.0), 0.5, 0.5),
    ("tiles", "c8c0b4 8a7f74 e0dcd4 9c8b7a 3a3a3a", (1.8, 3.3), 0.45, 0.3),
    ("carpet", "6a5a4a 4a5a6a 7a4a4a 8a8070 5a6a5a 9a9488", (1.0, 2.0), 0.95, 0.2),
)
# A room's surfaces: (pattern, palette as sRGB hex, roughness) choices.
ROOM_LOOKS = {
    "wall": (("plaster", "ece8de e0d8c8 d4ccb8 c8d0cc dcd0bc b8c4cc e8dccc f0ece4", 0.9),
             ("plaster", "ece8de e4e0d8 f0ece4", 0.9), ("concrete", "c8c4bc b5b0a6 d0ccc4", 0.85),
             ("tiles", "8a3a2a 9a4a32 7a3224", 0.85)),  # painted (twice as likely), bare plaster, brick
    "ceiling": (("plaster", "f2f0ea ece9e2 f4f4f0", 0.9),),
    "trim": (("plain", "f4f2ee ece9e2", 0.4), ("plain", "6e5238 8a6a48", 0.5), ("plain", "2a2a2a 5a5a5a", 0.4)),
}
TEXTURE_SHARE = 0.5  # with a texture folder, the share of surfaces (of a kind a set may cover) that get one
INDOOR_EXPOSURE_GAIN = 1.3  # an interior lit by its sky light and its ceiling lights: exposed for the room, windows bright
INDOOR_SKY_SHARE = 0.3  # of the sky's ambient light, what reaches a room's surfaces through its windows (raster)
# A ceiling light's emission in units of the room's light: white after the tone curve, and in
# Cycles (where the lamps light the room) about the raster's ambient light on the floor.
LAMP_GLOW = 30.0
INDOOR_HAZE_M = 400.0  # no aerial perspective across a room
# Static props by category: (pattern, palette as sRGB hex, roughness) choices.
PROP_LOOKS = {
    "box": (("plain", "a8895f b39670 9c7f58", 0.9), ("planks", "8a6a48 a3825c 6e5238", 0.7),
            ("plain", "7a8a6a 5c6e80 8a5a4a c9b79a", 0.6)),  # cardboard, wooden crate, painted
    "sphere": (("plain", "c23b22 2a5db0 e0b020 3a8a3a f0f0f0 e06a20", 0.35), ("noise", "b08a50 7a5a3a", 0.8)),
    "chair": (("planks", "6e5238 8a6a48 4a3624", 0.6), ("plain", "2a2a2a f0f0ee 3a5a7a 8a2a2a", 0.4)),
    "table": (("planks", "6e5238 8a6a48 a3825c 4a3624", 0.55), ("plain", "e8e6e0 2a2a2a 8d8d8d", 0.5)),
    "shelf": (("planks", "8a6a48 a3825c 6e5238", 0.6), ("plain", "e8e6e0 2a2a2a 5c6e80", 0.5)),
    "wall": (("concrete", "a29f98 8e8b85 b5b0a6", 0.85), ("tiles", "8a3a2a 9a4a32 7a3224", 0.85),
             ("plain", "d8d2c4 c9bfae e0dccf 9aa5a0", 0.9)),  # plaster, brick, painted
    "mesh": (("plain", "e8e6e0 2a2a2a 8d8d8d 5c6e80 8a2a2a 3a5a3a", 0.45), ("planks", "6e5238 8a6a48 a3825c", 0.6),
             ("plain", "b0b0b0 8d8d8d", 0.25), ("noise", "7a5a3a 5c6e80 8a735a", 0.85)),  # plastic, wood, metal, fabric
}
DYNAMIC_LOOKS = {
    "ball": (("plain", "c23b22 2a5db0 e0b020 3a8a3a f0f0f0 e06a20", 0.35),),
    "box": (("plain", "a8895f b39670 9c7f58", 0.9), ("planks", "8a6a48 a3825c", 0.7)),
    "cylinder": (("plain", "8d8d8d b0b0b0 2a5db0 c23b22", 0.4),),
    "glass": (("plain", "c8d8d8 b8c8c8", 0.1),),
    "cup": (("plain", "f0f0ee e0b020 2a5db0 c23b22", 0.3),),
    "bottle": (("plain", "2f6a3a 6a4a2a 2a4a6a", 0.15),),
}
FALLBACK_LOOK = (("plain", "8d8d8d a8895f 5c6e80", 0.6),)


def _surface(rng: np.random.Generator, looks, scale: tuple[float, float] = (2.0, 4.0)) -> Material:
    pattern, palette, roughness = pick(rng, looks)
    colors = srgb_hex_to_linear(palette)
    base, second = pick(rng, colors), pick(rng, colors)
    if pattern == "plain":
        second = base
    elif pattern == "plaster":  # paint: one colour, a shade darker in the mottling
        second = tuple(c * 0.9 for c in base)
    jitter = rng.uniform(0.9, 1.1)  # no two props of a kind quite alike
    return Material(v4(np.clip(np.array(base) * jitter, 0, 1)), pattern, v4(second), r4(rng.uniform(*scale), 3),
                    r4(roughness, 3))  # fmt: skip


def _ground(rng: np.random.Generator, grounds=GROUNDS) -> tuple[str, Material]:
    weights = np.array([g[4] for g in grounds])
    pattern, palette, scale, roughness, _ = grounds[int(rng.choice(len(grounds), p=weights / weights.sum()))]
    colors = srgb_hex_to_linear(palette)
    first = int(rng.integers(len(colors)))
    second = srgb_hex_to_linear(GROUT)[int(rng.integers(3))] if pattern == "tiles" else colors[(first + 1) % len(colors)]
    return pattern, Material(colors[first], pattern, second, r4(rng.uniform(*scale), 3), roughness)


def _dress_character(rng: np.random.Generator, character: CharacterSpec) -> CharacterSpec:
    outfit = draw_outfit(rng)
    scale = {"plain": 1.0, "stripes": rng.uniform(14.0, 28.0), "checker": rng.uniform(8.0, 14.0),
             "noise": rng.uniform(40.0, 70.0)}[outfit.top_pattern]  # fmt: skip
    material = Material(outfit.top_color, outfit.top_pattern if outfit.top_pattern != "plain" else "plain",
                        outfit.top_pattern_color, r4(scale, 3), FABRIC_ROUGHNESS)  # fmt: skip
    return dataclasses.replace(character, material=material, outfit=outfit)


def photo_dress(spec: ClipSpec, maps: tuple[Path, ...] = (), textures: tuple[TextureSet, ...] = (),
                assets: AssetCache | None = None, sensor_noise: float = 0.0) -> ClipSpec:  # fmt: skip
    """The same clip in the photographic look (see the module docstring). With ``maps`` (HDRI
    files, scenes.environments), a clip is lit by one of them, turned at random, with probability
    MAP_PROBABILITY; its sun and ambient light come from the map. With ``textures`` (PBR sets,
    scenes.textures), each surface a set may cover (its ``uses``) gets one with probability
    TEXTURE_SHARE instead of its procedural material. ``assets`` keeps decoded maps across clips
    (scenes.asset_cache). ``sensor_noise`` > 0: the clip's sensor noise (PhotoLook.sensor_noise)
    is drawn uniformly in [0, sensor_noise] from a stream of its own (the rest of the look is the
    same with and without it)."""
    rng = np.random.default_rng(np.random.SeedSequence([int(spec.run_seed), int(spec.clip_index), LOOK_STREAM]))
    sun = np.asarray(spec.lighting.sun_direction, dtype=np.float64)
    sun = sun / np.linalg.norm(sun)
    turbidity = r4(rng.uniform(1.9, 3.2), 3)
    zenith = r4(rng.uniform(0.25, 0.4), 3)
    sky = ambient_from_sky(sun, turbidity, zenith)
    _, ground = _ground(rng)
    sun_color = np.asarray(spec.lighting.sun_color, dtype=np.float64)
    haze = r4(rng.uniform(28.0, 40.0), 3)
    environment = {}
    if maps and rng.uniform() < MAP_PROBABILITY:
        path = Path(maps[int(rng.integers(len(maps)))])
        rotation = r4(rng.uniform(-np.pi, np.pi), 5)
        sha256, light = map_light(path, rotation, assets)
        sun, sun_color, sky = light.sun_direction, light.sun_irradiance / np.pi, light.ambient
        environment = {"environment": str(path), "environment_sha256": sha256,
                       "environment_rotation": rotation, "environment_licence": licence_text(path)}  # fmt: skip
    lit = float(LUMINANCE @ sun_color) * max(sun[2], 0.1) + float(LUMINANCE @ sky)  # a sunlit horizontal surface
    bounce = np.asarray(ground.base_color) * lit  # light the ground sends back up
    lighting = Lighting(v4(sun, 5), v4(sun_color), v4(sky), v4(bounce))
    noise = 0.0
    if sensor_noise > 0:
        noise_rng = np.random.default_rng(np.random.SeedSequence([int(spec.run_seed), int(spec.clip_index), NOISE_STREAM]))
        noise = r4(noise_rng.uniform(0.0, sensor_noise), 5)
    look = PhotoLook(turbidity=turbidity, zenith_luminance=zenith, exposure=r4(MIDDLE_GREY_EXPOSURE / lit, 4),
                     haze_m=haze, sensor_noise=noise, **environment)  # fmt: skip
    characters = tuple(_dress_character(rng, c) for c in spec.characters)
    props = tuple(dataclasses.replace(p, material=_surface(rng, PROP_LOOKS.get(p.category, FALLBACK_LOOK))) for p in spec.props)
    dynamic = tuple(dataclasses.replace(p, material=_surface(rng, DYNAMIC_LOOKS.get(p.category, FALLBACK_LOOK)))
                    for p in spec.dynamic_props)  # fmt: skip
    passes = tuple(dataclasses.replace(p, material=_surface(rng, DYNAMIC_LOOKS["ball"])) for p in spec.passes)
    room = spec.room
    if room is not None:  # drawn last: outdoor clips keep the look they had before rooms
        outside = ground
        _, ground = _ground(rng, FLOORS)
        wall = _surface(rng, ROOM_LOOKS["wall"], (0.6, 1.2))
        lit_inside = float(LUMINANCE @ sky) * INDOOR_EXPOSURE_GAIN  # under the ceiling: the sky's light alone
        lamp = dataclasses.replace(room.lamp, emission=r4(LAMP_GLOW * lit_inside, 4))
        room = dataclasses.replace(room, wall=wall, ceiling=_surface(rng, ROOM_LOOKS["ceiling"]),
                                   trim=_surface(rng, ROOM_LOOKS["trim"]), outside=outside, lamp=lamp)  # fmt: skip
        albedo = (np.asarray(ground.base_color) + np.asarray(wall.base_color)) / 2  # light off the floor and walls,
        bounce = (albedo + float(LUMINANCE @ albedo)) / 2 * lit_inside  # its colour half washed out by the rest
        lighting = dataclasses.replace(lighting, sky_color=v4(sky * INDOOR_SKY_SHARE), ground_color=v4(bounce * INDOOR_SKY_SHARE))
        look = dataclasses.replace(look, exposure=r4(MIDDLE_GREY_EXPOSURE / lit_inside, 4), haze_m=INDOOR_HAZE_M)
    if textures:  # drawn last, and only with textures: clips without keep their look
        ground = _maybe_textured(rng, ground, textures, "ground" if room is None else "floor")
        if room is not None:
            room = dataclasses.replace(room, wall=_maybe_textured(rng, room.wall, textures, "wall"))
        props = tuple(dataclasses.replace(p, material=_maybe_textured(rng, p.material, textures, "prop")) for p in props)
    return dataclasses.replace(spec, ground=ground, lighting=lighting, background_color=v4(sky), characters=characters,
                               props=props, dynamic_props=dynamic, passes=passes, look=look, room=room)  # fmt: skip


def _maybe_textured(rng: np.random.Generator, material: Material, textures: tuple[TextureSet, ...], use: str) -> Material:
    """``material``, or with probability TEXTURE_SHARE one of the sets that may cover ``use`` (its
    images are the albedo, roughness and normals; a slight tint keeps two surfaces apart)."""
    candidates = [t for t in textures if use in t.uses]
    if not candidates or rng.uniform() >= TEXTURE_SHARE:
        return material
    texture = candidates[int(rng.integers(len(candidates)))]
    tint = v4(np.clip(rng.uniform(0.9, 1.05, size=3), 0.0, 1.0))
    return Material(tint, "plain", (0.0, 0.0, 0.0), 1.0, material.roughness, texture=texture)
