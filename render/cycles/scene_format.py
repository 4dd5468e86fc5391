"""The versioned, non-pickle scene format the Cycles worker reads (``worldclips-cycles-scene``).

A scene directory holds two files:

    scene.json   the header: format name and version, image size, frames, render settings,
                 the camera as Blender settings per frame, sun, sky, area lights, and one entry
                 per object (name, instance id, pass index, material parameters, and the names
                 of its arrays in arrays.npz)
    arrays.npz   numpy arrays only (written and read with allow_pickle=False):
                 camera_world_from_camera (T, 4, 4) float64;
                 per rigid object <i>_vertices (V, 3) float32, <i>_faces (F, 3) int32,
                 <i>_uvs (V, 2) float32, <i>_normals (V, 3) float32, <i>_poses (T, 4, 4) float64;
                 per character <i>_frame_vertices (T, V, 3) float32 world positions (skinned
                 bodies are posed here, on the CPU, with SkinnedMesh.vertices), <i>_vertices
                 (frame 0), <i>_faces and <i>_uvs (the raster backend's body uvs), and with an
                 outfit <i>_tint (V, 4) float32: linear RGB and the top's pattern flag per vertex;
                 world_sky (H, 2H, 3) float32: the photographic look's sky radiance in Blender's
                 equirectangular layout (scenes.sky.equirect_directions).

Version 2 (adds tints and the sky image; version 1 scenes still render). A reader must refuse another format name or a version it does not know; a change
that an old reader would misread bumps the version.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from worldclips.motions.body import SkinnedMesh, VertexAnimatedMesh
from worldclips.render.cycles.camera import blender_camera_from_opencv
from worldclips.render.cycles.look import clip_look
from worldclips.render.cycles.options import CyclesConfig
from worldclips.render.mesh_data import body_uvs, outfit_tint
from worldclips.scenes.scene import Scene
from worldclips.scenes.sky import equirect

FORMAT_NAME = "worldclips-cycles-scene"
FORMAT_VERSION = 2
HEADER_NAME = "scene.json"
ARRAYS_NAME = "arrays.npz"


class SceneFormatError(ValueError):
    """A scene directory that is not in a format this code reads."""


def _frames(array, frames: int, what: str) -> np.ndarray:
    array = np.asarray(array)
    if len(array) < frames:
        raise ValueError(f"{what}: has {len(array)} frames, the scene has {frames}")
    return array[:frames]


def _check_ids(scene: Scene) -> list[int]:
    ids = [int(o.instance_id) for o in scene.objects] + [int(c.instance_id) for c in scene.characters]
    if len(set(ids)) != len(ids):
        raise ValueError(f"Scene: instance ids must be unique, got {sorted(ids)}")
    bad = [i for i in ids if not 1 <= i <= 0xFFFF]
    if bad:
        raise ValueError(f"Scene: instance ids must lie in 1..65535 (uint16 segmentation), got {bad}")
    return ids


def camera_header(scene: Scene) -> tuple[dict, np.ndarray]:
    """Blender camera settings of every frame (through the one conversion function)."""
    frames = int(scene.num_frames)
    K = _frames(scene.camera.K, frames, "CameraTrack.K")
    cam_from_world = _frames(scene.camera.cam_from_world, frames, "CameraTrack.cam_from_world")
    cameras = [blender_camera_from_opencv(K[t], cam_from_world[t], scene.width, scene.height) for t in range(frames)]
    aspects = {(c.pixel_aspect_x, c.pixel_aspect_y) for c in cameras}
    if len(aspects) > 1:
        raise ValueError("camera: the ratio fx / fy changes during the clip, which the Cycles backend cannot render")
    near, far = float(scene.camera.near), float(scene.camera.far)
    if not 0 < near < far:
        raise ValueError(f"camera: expected 0 < near < far, got near={near}, far={far}")
    header = {
        "world_from_camera": "camera_world_from_camera",
        "lens_mm": [c.lens_mm for c in cameras],
        "sensor_width_mm": cameras[0].sensor_width_mm,
        "shift_x": [c.shift_x for c in cameras],
        "shift_y": [c.shift_y for c in cameras],
        "pixel_aspect": [cameras[0].pixel_aspect_x, cameras[0].pixel_aspect_y],
        "clip_start": near,
        "clip_end": far,
    }
    return header, np.stack([c.world_from_camera for c in cameras])


def character_frames(mesh, frames: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(T, V, 3) float32 world vertices of a body in every frame, and (V, 2) float32 uvs."""
    if isinstance(mesh, SkinnedMesh):
        bones = np.asarray(mesh.bone_matrices)
        if len(bones) < frames:
            raise ValueError(f"{name}: bone_matrices has {len(bones)} frames, the scene has {frames}")
        vertices = np.stack([mesh.vertices(t) for t in range(frames)]).astype(np.float32)
        return vertices, body_uvs(mesh.rest_vertices, 1)
    if isinstance(mesh, VertexAnimatedMesh):
        vertices = _frames(mesh.frame_vertices, frames, f"{name}: frame_vertices").astype(np.float32)
        return vertices, body_uvs(vertices[0], 2)
    raise TypeError(f"{name}: unsupported body mesh {type(mesh).__name__}")


def render_settings(config: CyclesConfig, device_index: int | None, look: dict) -> dict:
    """What the worker needs of the config, with the look's exposure and tone-mapping look added."""
    settings = asdict(config)
    for local in ("env", "timeout_s", "look_seed", "exposure"):
        settings.pop(local)
    tone = look["tone"].get(config.view_transform, "None")
    settings.update(device_index=device_index, exposure=float(config.exposure + look["exposure"]), look=tone, seed=0)
    return settings


def write_scene(scene: Scene, directory: str | Path, config: CyclesConfig, device_index: int | None = None) -> dict:
    """Serialize ``scene`` for the worker into ``directory`` (created); returns the header."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    frames = int(scene.num_frames)
    if frames < 1:
        raise ValueError(f"Scene.num_frames: expected at least one frame, got {frames}")
    _check_ids(scene)
    look = clip_look(scene, config.look_seed)
    camera, world_from_camera = camera_header(scene)
    arrays: dict[str, np.ndarray] = {"camera_world_from_camera": world_from_camera.astype(np.float64)}
    objects = []
    for obj in scene.objects:
        mesh = obj.mesh
        if len(mesh.faces) == 0:
            continue
        vertices = np.asarray(mesh.vertices, dtype=np.float32)
        faces = np.asarray(mesh.faces, dtype=np.int64)
        if not (len(mesh.normals) == len(mesh.uvs) == len(vertices)):
            raise ValueError(f"SceneObject {obj.name!r}: vertices, normals and uvs differ in length")
        if faces.min() < 0 or faces.max() >= len(vertices):
            raise ValueError(f"SceneObject {obj.name!r}: face indices outside the {len(vertices)} vertices")
        prefix = f"o{len(objects)}"
        arrays[f"{prefix}_vertices"] = vertices
        arrays[f"{prefix}_faces"] = faces.astype(np.int32)
        arrays[f"{prefix}_uvs"] = np.asarray(mesh.uvs, dtype=np.float32)
        arrays[f"{prefix}_normals"] = np.asarray(mesh.normals, dtype=np.float32)
        arrays[f"{prefix}_poses"] = _frames(obj.world_from_object, frames, f"SceneObject {obj.name!r}.world_from_object").astype(np.float64)
        objects.append(
            {
                "type": "rigid",
                "name": obj.name,
                "category": obj.category,
                "instance_id": int(obj.instance_id),
                "pass_index": len(objects) + 1,
                "material": look["materials"][str(obj.instance_id)],
                "vertices": f"{prefix}_vertices",
                "faces": f"{prefix}_faces",
                "uvs": f"{prefix}_uvs",
                "normals": f"{prefix}_normals",
                "poses": f"{prefix}_poses",
            }
        )
    for character in scene.characters:
        name = f"Character {character.name!r}"
        vertices, uvs = character_frames(character.body.mesh, frames, name)
        faces = np.asarray(character.body.mesh.faces, dtype=np.int64)
        if faces.min() < 0 or faces.max() >= vertices.shape[1]:
            raise ValueError(f"{name}: face indices outside the {vertices.shape[1]} vertices")
        prefix = f"o{len(objects)}"
        arrays[f"{prefix}_frame_vertices"] = vertices
        arrays[f"{prefix}_vertices"] = vertices[0]
        arrays[f"{prefix}_faces"] = faces.astype(np.int32)
        arrays[f"{prefix}_uvs"] = uvs.astype(np.float32)
        tint = None
        if character.outfit is not None:
            tint = f"{prefix}_tint"
            arrays[tint] = outfit_tint(character, vertices.shape[1])[:, [0, 1, 2, 4]]
        objects.append(
            {
                "type": "deforming",
                "tint": tint,
                "name": character.name,
                "category": "person",
                "instance_id": int(character.instance_id),
                "pass_index": len(objects) + 1,
                "material": look["materials"][str(character.instance_id)],
                "vertices": f"{prefix}_vertices",
                "faces": f"{prefix}_faces",
                "uvs": f"{prefix}_uvs",
                "frame_vertices": f"{prefix}_frame_vertices",
            }
        )
    sky = look["world"].get("sky")
    if look["world"].get("map") or sky is not None:
        arrays["world_sky"] = (np.asarray(scene.sky_image, dtype=np.float32) if look["world"].get("map")
                               else equirect(sky["sun_direction"], sky["turbidity"], sky["zenith_luminance"], sky["width"]))  # fmt: skip
        look["world"]["image"] = "world_sky"
    header = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "width": int(scene.width),
        "height": int(scene.height),
        "fps": float(scene.fps),
        "num_frames": frames,
        "render": render_settings(config, device_index, look),
        "camera": camera,
        "world": look["world"],
        "sun": look["sun"],
        "area_lights": look["area_lights"],
        "objects": objects,
    }
    with open(directory / ARRAYS_NAME, "wb") as handle:
        np.savez(handle, **arrays)
    (directory / HEADER_NAME).write_text(json.dumps(header, indent=1, sort_keys=True), encoding="utf-8")
    return header


def read_scene(directory: str | Path) -> tuple[dict, dict[str, np.ndarray]]:
    """The header and arrays of a scene directory; refuses other formats and unknown versions."""
    directory = Path(directory)
    try:
        header = json.loads((directory / HEADER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SceneFormatError(f"{directory / HEADER_NAME}: unreadable ({error})") from error
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise SceneFormatError(f"{directory / HEADER_NAME}: not a {FORMAT_NAME} header")
    if header.get("version") != FORMAT_VERSION:
        raise SceneFormatError(f"{directory / HEADER_NAME}: format version {header.get('version')!r}, expected {FORMAT_VERSION}")
    try:
        with np.load(directory / ARRAYS_NAME, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise SceneFormatError(f"{directory / ARRAYS_NAME}: unreadable ({error})") from error
    return header, arrays
