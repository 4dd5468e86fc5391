"""The per-clip look of the Cycles backend: physically based materials and lights drawn at random.

A Scene carries what both backends share (base colours, raster patterns, roughness, the sun
and the sky colours). The Cycles backend adds what path tracing can show: a material kind per
surface (wood, fabric, plastic, metal, ceramic tiles, stone) with procedural grain, weave, grout
and noise-driven variation of albedo, roughness and bump; a soft sun; a sky gradient; 0-2 area
lights. The choices are drawn from a generator seeded by a hash of the scene's own content and
``CyclesConfig.look_seed``, so the same clip always gets the same look (on any worker) and
different clips get different ones, without any randomness in the Scene.

Brightness follows the raster backend's lighting: the sun is scaled so that its direct light on a
Lambertian surface equals the raster's (SUN_STRENGTH_PER_RASTER_UNIT, measured), and the sky's
radiance is the raster's ambient colour (a uniform sky of radiance L lights a Lambertian surface
of albedo a to a * L in Cycles, as the raster's ambient term does). Area lights add 8-30 % of the
sun's irradiance at the scene centre.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from worldclips.scenes.environments import SKY_IMAGE_WIDTH
from worldclips.scenes.scene import Material, Scene
from worldclips.scenes.textures import check_texture_files

KINDS = ("wood", "fabric", "plastic", "metal", "ceramic", "stone")
# Material kinds drawn for each object category (with weights); the ground follows its pattern.
CATEGORY_KINDS: dict[str, tuple[tuple[str, float], ...]] = {
    "box": (("wood", 0.35), ("plastic", 0.25), ("metal", 0.15), ("fabric", 0.25)),
    "sphere": (("plastic", 0.5), ("metal", 0.3), ("stone", 0.2)),
    "chair": (("wood", 0.6), ("metal", 0.2), ("plastic", 0.2)),
    "table": (("wood", 0.65), ("metal", 0.2), ("plastic", 0.15)),
    "person": (("wood", 0.45), ("fabric", 0.4), ("plastic", 0.15)),
}
DEFAULT_KINDS = (("plastic", 0.4), ("wood", 0.3), ("metal", 0.3))
GROUND_KINDS = {"tiles": "ceramic", "checker": "ceramic", "stripes": "wood", "noise": "stone", "plain": "stone"}
# The photographic look names its materials by pattern: the kind follows it.
PATTERN_KINDS = {"planks": "wood", "grass": "stone", "dirt": "stone", "asphalt": "stone", "concrete": "stone",
                 "carpet": "fabric", "tiles": "ceramic", "plaster": "stone"}  # fmt: skip
PHOTO_CATEGORY_KINDS = {"sphere": (("plastic", 1.0),), "person": (("fabric", 1.0),)}

# Contrast looks of the AgX view transform, one drawn per clip.
AGX_LOOKS = ("AgX - Punchy", "AgX - Medium High Contrast", "AgX - High Contrast")

# A raster sun of colour c adds albedo * c * cos(theta) to a pixel. A Cycles sun of strength s
# gives a Lambertian surface the radiance albedo * s * cos(theta) / pi (measured: strength 1,
# albedo 0.5, sun overhead -> 0.159 linear): s = pi * c matches the raster's direct light.
SUN_STRENGTH_PER_RASTER_UNIT = float(np.pi)
PHOTO_EXPOSURE_OFFSET_STOPS = 0.0  # AgX and the raster's filmic curve put mid-grey alike


def scene_digest(scene: Scene, look_seed: int = 0) -> int:
    """A 64-bit integer that identifies a scene's content (used to seed its look)."""
    camera = scene.camera
    content = {
        "size": [scene.width, scene.height, scene.num_frames],
        "lighting": [list(scene.lighting.sun_direction), list(scene.lighting.sun_color), list(scene.lighting.sky_color)],
        "background": list(scene.background_color),
        "objects": [[o.instance_id, o.name, o.category, repr(o.material)] for o in scene.objects],
        "characters": [[c.instance_id, c.name, repr(c.material)] for c in scene.characters],
        "camera": np.round(np.concatenate([camera.K[0].ravel(), camera.cam_from_world[0].ravel()]), 6).tolist(),
        "look_seed": int(look_seed),
    }
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def _choose(rng: np.random.Generator, options: tuple[tuple[str, float], ...]) -> str:
    names = [name for name, _ in options]
    weights = np.array([weight for _, weight in options], dtype=np.float64)
    return str(names[rng.choice(len(names), p=weights / weights.sum())])


def _rgb(values) -> list[float]:
    return [float(np.clip(v, 0.0, 1.0)) for v in values]


def material_params(material: Material, kind: str, rng: np.random.Generator) -> dict:
    """Parameters of one physically based material (what the worker's node graph reads)."""
    base = np.asarray(material.base_color, dtype=np.float64)
    params = {
        "kind": kind,
        "base_color": _rgb(base),
        "pattern": material.pattern,
        "pattern_color": _rgb(material.pattern_color),
        "pattern_scale": float(material.pattern_scale),
        "roughness": float(material.roughness),
        "roughness_variation": float(rng.uniform(0.08, 0.25)),
        "variation": float(rng.uniform(0.05, 0.18)),
        "variation_scale": float(rng.uniform(2.0, 9.0)),
        "noise_offset": [float(v) for v in rng.uniform(-100.0, 100.0, 3)],
        "bump": float(rng.uniform(0.02, 0.06)),
        "specular": 0.5,
        "emission": float(material.emission),  # radiance per albedo, raster units = Cycles strength
    }
    if material.texture is not None:  # a PBR set: its images (checked unchanged), one per size_m metres
        check_texture_files(material.texture)
        texture = material.texture
        params["texture"] = {"color": texture.color, "roughness": texture.roughness, "normal": texture.normal,
                             "scale": 1.0 / float(texture.size_m)}  # fmt: skip
    if kind == "wood":
        params.update(
            roughness=float(rng.uniform(0.35, 0.65)),
            grain_scale=float(rng.uniform(6.0, 14.0)),
            grain_distortion=float(rng.uniform(2.0, 8.0)),
            bump=float(rng.uniform(0.08, 0.25)),
        )
    elif kind == "fabric":
        params.update(
            roughness=float(rng.uniform(0.85, 1.0)),
            weave_scale=float(rng.uniform(120.0, 260.0)),
            sheen=float(rng.uniform(0.3, 1.0)),
            bump=float(rng.uniform(0.15, 0.35)),
            bump_distance=0.0005,
            specular=0.3,
        )
    elif kind == "plastic":
        params.update(roughness=float(np.clip(material.roughness, 0.12, 0.7)))
    elif kind == "metal":
        params.update(
            base_color=_rgb(0.45 + 0.55 * base),
            pattern_color=_rgb(0.45 + 0.55 * np.asarray(material.pattern_color)),
            roughness=float(rng.uniform(0.15, 0.45)),
            anisotropic=float(rng.choice([0.0, 0.5])),
            bump=float(rng.uniform(0.01, 0.05)),
        )
    elif kind == "ceramic":
        params.update(roughness=float(rng.uniform(0.15, 0.35)), coat=float(rng.uniform(0.2, 0.7)), bump=0.25)
    elif kind == "stone":
        params.update(roughness=float(rng.uniform(0.75, 0.95)), bump=float(rng.uniform(0.3, 0.6)), variation=float(rng.uniform(0.12, 0.25)))
    return params


def _kelvin_tint(rng: np.random.Generator) -> list[float]:
    """A light colour between warm (about 3000 K) and cool (about 7000 K), max component 1."""
    t = rng.uniform(0.0, 1.0)
    warm, cool = np.array([1.0, 0.72, 0.45]), np.array([0.78, 0.86, 1.0])
    return _rgb(warm * (1 - t) + cool * t)


def _look_at_pose(position: np.ndarray, target: np.ndarray) -> list[list[float]]:
    """(4, 4) world_from_light whose -Z axis points from ``position`` at ``target``."""
    z = position - target
    z = z / np.linalg.norm(z)
    x = np.cross([0.0, 0.0, 1.0], z)
    x = x / np.linalg.norm(x) if np.linalg.norm(x) > 1e-6 else np.array([1.0, 0.0, 0.0])
    y = np.cross(z, x)
    pose = np.eye(4)
    pose[:3, :3] = np.stack([x, y, z], axis=1)
    pose[:3, 3] = position
    return pose.tolist()


def scene_centre(scene: Scene) -> np.ndarray:
    """World point the lights aim at: the people's mean pelvis (origin at 1 m when nobody)."""
    if scene.characters:
        pelvis = np.concatenate([np.asarray(c.body.joints)[:, 0] for c in scene.characters])
        return pelvis.mean(axis=0)
    return np.array([0.0, 0.0, 1.0])


def _object_kind(rng: np.random.Generator, category: str, material: Material, photo: bool) -> str:
    if photo and material.pattern in PATTERN_KINDS:
        return PATTERN_KINDS[material.pattern]
    if category == "ground":
        return GROUND_KINDS.get(material.pattern, "stone")
    if photo and category in PHOTO_CATEGORY_KINDS:
        return _choose(rng, PHOTO_CATEGORY_KINDS[category])
    return _choose(rng, CATEGORY_KINDS.get(category, DEFAULT_KINDS))


def clip_look(scene: Scene, look_seed: int = 0) -> dict:
    """Everything random about the Cycles look of one scene, as JSON-ready parameters.

    Returns {"materials": {instance id (str): params}, "sun": ..., "world": ..., "area_lights": [...],
    "exposure": stops}. A scene in the photographic look keeps its materials' kinds (wood for
    planks, stone for grass, dirt, asphalt and concrete...), dresses people in fabric coloured by
    their outfit's vertex tint, is lit by the sun and its analytic sky (``world["sky"]``: the
    worker shows and lights with the same Preetham sky as the raster backend), has no area
    lights, and takes its exposure from the look.
    """
    rng = np.random.default_rng(np.random.SeedSequence([scene_digest(scene, look_seed), 6]))
    lighting = scene.lighting
    photo = scene.look is not None
    materials: dict[str, dict] = {}
    for obj in scene.objects:
        kind = _object_kind(rng, obj.category, obj.material, photo)
        materials[str(obj.instance_id)] = material_params(obj.material, kind, rng)
    for character in scene.characters:
        params = material_params(character.material, _object_kind(rng, "person", character.material, photo), rng)
        if character.outfit is not None:
            params["vertex_tint"] = True  # albedo from the outfit's colours per body region
        materials[str(character.instance_id)] = params

    sun_color = np.asarray(lighting.sun_color, dtype=np.float64)
    intensity = float(sun_color.max()) if sun_color.max() > 0 else 0.0
    sun = {
        "direction": [float(v) for v in np.asarray(lighting.sun_direction) / np.linalg.norm(lighting.sun_direction)],
        "color": _rgb(sun_color / intensity) if intensity > 0 else [1.0, 1.0, 1.0],
        "strength": SUN_STRENGTH_PER_RASTER_UNIT * intensity * float(rng.uniform(0.85, 1.1)),
        "angle_rad": float(np.radians(rng.uniform(0.5, 3.0))),
    }
    sky = np.asarray(lighting.sky_color, dtype=np.float64)
    background = np.asarray(scene.background_color, dtype=np.float64)
    world = {
        "zenith": _rgb(sky),
        "horizon": _rgb(0.6 * sky + 0.4 * background),
        "ground": _rgb(lighting.ground_color),
        "background": _rgb(background),
        "background_horizon": _rgb(0.8 * background + 0.2),
        "gradient_power": float(rng.uniform(0.4, 0.8)),
        "strength": float(rng.uniform(0.75, 1.15)),
    }
    centre = scene_centre(scene)
    area_lights = []
    for _ in range(int(rng.choice(3, p=[0.3, 0.45, 0.25]))):
        azimuth, distance, height = rng.uniform(-np.pi, np.pi), rng.uniform(3.0, 6.0), rng.uniform(2.0, 4.0)
        position = centre + np.array([distance * np.cos(azimuth), distance * np.sin(azimuth), 0.0])
        position[2] = height
        area_lights.append(
            {
                "world_from_light": _look_at_pose(position, centre),
                "size": [float(rng.uniform(0.8, 2.5)), float(rng.uniform(0.8, 2.5))],
                "color": _kelvin_tint(rng),
                # Irradiance at the centre: a fraction of the sun's (an area light of power P
                # lights a surface facing it at distance d with about P / (pi d^2)).
                "power_w": float(rng.uniform(0.08, 0.3) * sun["strength"] * np.pi * float(np.sum((position - centre) ** 2))),
            }
        )
    exposure = float(rng.uniform(-0.2, 0.3))
    tone = {"AgX": str(rng.choice(AGX_LOOKS))}
    if photo:
        look = scene.look
        world = {"sky": {"turbidity": look.turbidity, "zenith_luminance": look.zenith_luminance,
                         "sun_direction": sun["direction"], "width": SKY_IMAGE_WIDTH}, "strength": 1.0}  # fmt: skip
        if scene.sky_image is not None:  # an HDRI map: it holds its sun, which lights through the world
            world = {"map": True, "strength": 1.0}
            sun["strength"] = 0.0
        area_lights, exposure = [], float(np.log2(look.exposure)) + PHOTO_EXPOSURE_OFFSET_STOPS
        tone = {"AgX": "AgX - Base Contrast"}
    return {"materials": materials, "sun": sun, "world": world, "area_lights": area_lights, "exposure": exposure,
            "tone": tone}  # fmt: skip
