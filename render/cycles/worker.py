"""The Cycles worker: renders one serialized scene with Blender's ``bpy``, in its own process.

Run by the Blender environment's Python (bpy 5.0.1, numpy < 2), never imported by worldclips:

    <env>/bin/python -I worker.py SCENE_DIR OUT_DIR
    <env>/bin/python -I worker.py --bare SCENE_DIR OUT_DIR   (bench/cycles.py: render calls only)

SCENE_DIR holds ``scene.json`` and ``arrays.npz`` written by ``render.cycles.scene_format``
(format ``worldclips-cycles-scene``, read with ``allow_pickle=False``). The worker applies the
numbers it finds there and does no camera or look maths of its own: cameras arrive as Blender
camera settings (``render.cycles.camera`` is the only conversion), materials and lights as
parameters drawn by ``render.cycles.look``.

OUT_DIR receives ``rgb.npy`` (T, H, W, 3) uint8, ``depth.npy`` (T, H, W) float32 planar depth
(0 where nothing is hit), ``seg.npy`` (T, H, W) uint16 instance ids and ``result.json``
(timings, device, denoiser). Progress goes to stdout as ``worldclips-frame <t> <T> <seconds>``.

Ground truth comes from Cycles' own passes: depth (the Z pass) and segmentation (the object
index pass, each object's pass index mapped back to its instance id) leave through a compositor
File Output node as 32-bit EXR. Cycles writes these data passes from the first sample of each
pixel only, and that sample is always taken at the pixel centre (the filter sample of sample 0
is fixed at the filter's centre), so they are exact at pixel centres whatever the pixel filter
and sample count. With motion blur the first sample's time is random, so ground truth then
comes from a second render per frame at the shutter centre: motion blur off, one sample, no
denoising and a plain material override.

Exit codes: 0 done, 3 unsupported scene format, 4 the parent process died (the worker stops
rendering within a second), 1 anything else (traceback on stderr).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

FORMAT_NAME = "worldclips-cycles-scene"
SUPPORTED_VERSIONS = (1, 2)
EXIT_FORMAT = 3
EXIT_ORPHANED = 4
BACKGROUND_DEPTH = 1e9  # Cycles writes 1e10 where no surface is hit
NATURAL_PATTERNS = ("grass", "dirt", "asphalt", "concrete", "planks", "carpet", "plaster")  # scenes.scene.PATTERNS


class FormatError(ValueError):
    pass


def load_scene(scene_dir: Path) -> tuple[dict, dict]:
    header = json.loads((scene_dir / "scene.json").read_text(encoding="utf-8"))
    if header.get("format") != FORMAT_NAME:
        raise FormatError(f"scene.json: format {header.get('format')!r}, expected {FORMAT_NAME!r}")
    if header.get("version") not in SUPPORTED_VERSIONS:
        raise FormatError(f"scene.json: format version {header.get('version')!r}, this worker reads {SUPPORTED_VERSIONS}")
    with np.load(scene_dir / "arrays.npz", allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    return header, arrays


# -- bpy scene construction -------------------------------------------------------------------


def _matrix(values):
    from mathutils import Matrix

    return Matrix([list(map(float, row)) for row in np.asarray(values, dtype=np.float64).reshape(4, 4)])


def _socket(sockets, identifier):
    for socket in sockets:
        if socket.identifier == identifier or (socket.name == identifier and socket.enabled):
            return socket
    raise KeyError(identifier)


class Nodes:
    """A small helper to build shader node graphs with fewer lines."""

    def __init__(self, tree):
        self.tree = tree
        self.nodes = tree.nodes
        self.links = tree.links

    def node(self, kind, **settings):
        node = self.nodes.new(kind)
        for name, value in settings.items():
            setattr(node, name, value)
        return node

    def link(self, output, target):
        self.links.new(output, target)

    def set(self, node, identifier, value):
        socket = _socket(node.inputs, identifier)
        if hasattr(value, "bl_idname") or hasattr(value, "node"):
            self.link(value, socket)
        else:
            socket.default_value = value

    def math(self, operation, a, b=None, clamp=False):
        node = self.node("ShaderNodeMath", operation=operation, use_clamp=clamp)
        for index, value in enumerate((a, b)):
            if value is None:
                continue
            if isinstance(value, (int, float)):
                node.inputs[index].default_value = float(value)
            else:
                self.link(value, node.inputs[index])
        return node.outputs[0]

    def vmath(self, operation, a, b=None, scale=None):
        node = self.node("ShaderNodeVectorMath", operation=operation)
        for index, value in enumerate((a, b)):
            if value is None:
                continue
            if isinstance(value, (tuple, list)):
                node.inputs[index].default_value = tuple(float(v) for v in value)
            else:
                self.link(value, node.inputs[index])
        if scale is not None:
            _socket(node.inputs, "Scale").default_value = float(scale)
        return node.outputs[0] if operation not in ("DOT_PRODUCT", "LENGTH", "DISTANCE") else node.outputs[1]

    def mix(self, factor, a, b):
        node = self.node("ShaderNodeMix", data_type="RGBA")
        for identifier, value in (("Factor_Float", factor), ("A_Color", a), ("B_Color", b)):
            socket = _socket(node.inputs, identifier)
            if isinstance(value, (int, float)):
                socket.default_value = float(value)
            elif isinstance(value, (tuple, list)):
                socket.default_value = (*map(float, value[:3]), 1.0)
            else:
                self.link(value, socket)
        return _socket(node.outputs, "Result_Color")

    def separate(self, vector):
        node = self.node("ShaderNodeSeparateXYZ")
        self.link(vector, node.inputs[0])
        return node.outputs[0], node.outputs[1], node.outputs[2]

    def rgb(self, color):
        node = self.node("ShaderNodeRGB")
        node.outputs[0].default_value = (*map(float, color[:3]), 1.0)
        return node.outputs[0]

    def vector(self, scalar):
        """(s, s, s) from a scalar socket."""
        node = self.node("ShaderNodeCombineXYZ")
        for index in range(3):
            self.link(scalar, node.inputs[index])
        return node.outputs[0]


def _pattern_albedo(g: Nodes, params: dict, p):
    """Albedo of the raster backend's patterns on the scaled uv ``p`` (see render/glsl.py)."""
    base, second, pattern = params["base_color"], params["pattern_color"], params["pattern"]
    px, py, _ = g.separate(p)
    if pattern == "checker":
        parity = g.math("FLOORED_MODULO", g.math("ADD", g.math("FLOOR", px), g.math("FLOOR", py)), 2.0)
        return g.mix(parity, base, second), None
    if pattern == "stripes":
        return g.mix(g.math("FLOORED_MODULO", g.math("FLOOR", px), 2.0), base, second), None
    if pattern == "tiles":
        fx, fy = g.math("FRACT", px), g.math("FRACT", py)
        edge_x = g.math("MINIMUM", fx, g.math("SUBTRACT", 1.0, fx))
        edge_y = g.math("MINIMUM", fy, g.math("SUBTRACT", 1.0, fy))
        grout = g.math("LESS_THAN", g.math("MINIMUM", edge_x, edge_y), params.get("grout", 0.04))
        noise = g.node("ShaderNodeTexWhiteNoise", noise_dimensions="3D")
        g.link(g.vmath("FLOOR", p), noise.inputs["Vector"])
        tile_gain = g.math("ADD", 0.8, g.math("MULTIPLY", noise.outputs["Value"], 0.4))
        tile = g.vmath("MULTIPLY", g.rgb(base), g.vector(tile_gain))
        return g.mix(grout, tile, second), grout
    if pattern in ("noise", *NATURAL_PATTERNS):  # the photographic look's natural surfaces: their palette by noise
        noise = g.node("ShaderNodeTexNoise", noise_dimensions="2D")
        noise.inputs["Scale"].default_value = 1.0
        noise.inputs["Detail"].default_value = 3.0 if pattern == "noise" else 5.0
        g.link(p if pattern != "planks" else g.vmath("MULTIPLY", p, (0.25, 4.0, 1.0)), noise.inputs["Vector"])
        return g.mix(noise.outputs["Fac"], base, second), None
    return g.rgb(base), None


def _image_node(g: "Nodes", path: str, vector, data: bool):
    """An image texture node reading ``path`` at ``vector`` (repeating; ``data``: not colour)."""
    import bpy

    image = bpy.data.images.load(str(path), check_existing=True)
    if data:
        image.colorspace_settings.is_data = True
    node = g.node("ShaderNodeTexImage", image=image, extension="REPEAT", interpolation="Linear")
    g.link(vector, node.inputs["Vector"])
    return node


def _tinted_albedo(g: "Nodes", albedo):
    """An outfit's colour per body region (the mesh's "tint" colour attribute); the material's
    pattern only where the tint's alpha flags the top."""
    tint = g.node("ShaderNodeVertexColor", layer_name="tint")
    return g.mix(tint.outputs["Alpha"], tint.outputs["Color"], albedo)


def build_material(name: str, params: dict):
    """A physically based material from look parameters: the raster pattern plus a kind's detail."""
    import bpy

    material = bpy.data.materials.new(name)
    tree = material.node_tree
    tree.nodes.clear()
    g = Nodes(tree)
    out = g.node("ShaderNodeOutputMaterial", target="ALL")
    bsdf = g.node("ShaderNodeBsdfPrincipled")
    g.link(bsdf.outputs[0], out.inputs["Surface"])

    uv = g.node("ShaderNodeUVMap", uv_map="UVMap").outputs["UV"]
    p = g.vmath("SCALE", uv, scale=params["pattern_scale"])
    albedo, grout = _pattern_albedo(g, params, p)
    texture = params.get("texture")
    if texture:  # a PBR set: its Color image times the tint is the albedo
        tp = g.vmath("SCALE", uv, scale=float(texture["scale"]))
        color = _image_node(g, texture["color"], tp, data=False).outputs["Color"]
        albedo, grout = g.vmath("MULTIPLY", color, tuple(params["base_color"])), None
    if params.get("vertex_tint"):
        albedo = _tinted_albedo(g, albedo)

    kind = params["kind"]
    offset = tuple(float(v) for v in params["noise_offset"])
    coords = g.vmath("ADD", uv, offset)
    # Noise-driven variation of albedo and roughness, on every material.
    variation = g.node("ShaderNodeTexNoise", noise_dimensions="2D")
    variation.inputs["Scale"].default_value = float(params["variation_scale"])
    variation.inputs["Detail"].default_value = 2.0  # octaves: each costs ~5 % of a frame (bump evaluates it 3x)
    g.link(coords, variation.inputs["Vector"])
    vary = g.math("SUBTRACT", variation.outputs["Fac"], 0.5)
    albedo_gain = g.math("ADD", 1.0, g.math("MULTIPLY", vary, 2.0 * params["variation"]))
    height = g.math("MULTIPLY", vary, 1.0)

    if kind == "wood":
        wave = g.node("ShaderNodeTexWave", wave_type="BANDS", bands_direction="X", wave_profile="SIN")
        wave.inputs["Scale"].default_value = float(params["grain_scale"])
        wave.inputs["Distortion"].default_value = float(params["grain_distortion"])
        wave.inputs["Detail"].default_value = 2.0
        g.link(g.vmath("MULTIPLY", coords, (1.0, 0.12, 1.0)), wave.inputs["Vector"])
        grain = wave.outputs["Fac"]
        albedo = g.mix(g.math("MULTIPLY", grain, 0.45), albedo, g.vmath("SCALE", albedo, scale=0.55))
        height = g.math("ADD", height, g.math("MULTIPLY", grain, 0.6))
    elif kind == "fabric":
        weave_u = g.node("ShaderNodeTexWave", wave_type="BANDS", bands_direction="X", wave_profile="SIN")
        weave_v = g.node("ShaderNodeTexWave", wave_type="BANDS", bands_direction="Y", wave_profile="SIN")
        for weave in (weave_u, weave_v):
            weave.inputs["Scale"].default_value = float(params["weave_scale"])
            g.link(uv, weave.inputs["Vector"])
        weave = g.math("MULTIPLY", weave_u.outputs["Fac"], weave_v.outputs["Fac"])
        height = g.math("ADD", height, weave)
        g.set(bsdf, "Sheen Weight", float(params["sheen"]))
        g.set(bsdf, "Sheen Roughness", 0.5)
    elif kind == "metal":
        g.set(bsdf, "Metallic", 1.0)
        g.set(bsdf, "Anisotropic", float(params.get("anisotropic", 0.0)))
    elif kind == "ceramic":
        g.set(bsdf, "Coat Weight", float(params["coat"]))
        g.set(bsdf, "Coat Roughness", 0.05)
    if grout is not None:
        height = g.math("SUBTRACT", height, g.math("MULTIPLY", grout, 2.0))

    g.link(g.vmath("MULTIPLY", albedo, g.vector(albedo_gain)), _socket(bsdf.inputs, "Base Color"))
    roughness = g.math(
        "ADD", float(params["roughness"]), g.math("MULTIPLY", vary, float(params["roughness_variation"])), clamp=True
    )
    if grout is not None:
        roughness = g.math("MAXIMUM", roughness, g.math("MULTIPLY", grout, 0.9))
    if texture and texture.get("roughness"):
        roughness = _image_node(g, texture["roughness"], tp, data=True).outputs["Color"]
    g.link(roughness, _socket(bsdf.inputs, "Roughness"))
    g.set(bsdf, "Specular IOR Level", float(params.get("specular", 0.5)))
    if params.get("emission", 0.0) > 0:  # a glowing panel (ceiling lights) lights the room too
        g.link(albedo, _socket(bsdf.inputs, "Emission Color"))
        g.set(bsdf, "Emission Strength", float(params["emission"]))
    if texture and texture.get("normal"):  # the set's NormalGL image (Blender's tangent space is OpenGL's)
        normal_map = g.node("ShaderNodeNormalMap", space="TANGENT", uv_map="UVMap")
        g.link(_image_node(g, texture["normal"], tp, data=True).outputs["Color"], normal_map.inputs["Color"])
        g.link(normal_map.outputs["Normal"], _socket(bsdf.inputs, "Normal"))
    elif params["bump"] > 0:
        bump = g.node("ShaderNodeBump")
        bump.inputs["Strength"].default_value = float(params["bump"])
        bump.inputs["Distance"].default_value = float(params.get("bump_distance", 0.002))
        g.link(height, bump.inputs["Height"])
        g.link(bump.outputs["Normal"], _socket(bsdf.inputs, "Normal"))
    return material


def build_world(params: dict, arrays: dict):
    """Sky gradient that lights the scene, and the camera-visible background behind it; or, in the
    photographic look, the analytic sky's equirectangular image (``params["image"]``)."""
    import bpy

    world = bpy.data.worlds.new("world")
    tree = world.node_tree
    tree.nodes.clear()
    g = Nodes(tree)
    out = g.node("ShaderNodeOutputWorld")
    if params.get("image"):
        radiance = np.asarray(arrays[params["image"]], dtype=np.float32)
        height, width = radiance.shape[:2]
        image = bpy.data.images.new("sky", width, height, alpha=True, float_buffer=True)
        image.colorspace_settings.name = "Linear Rec.709"  # first: changing it regenerates the pixels
        rgba = np.concatenate([radiance, np.ones((height, width, 1), np.float32)], axis=-1)
        image.pixels.foreach_set(rgba.reshape(-1))
        image.update()
        texture = g.node("ShaderNodeTexEnvironment", interpolation="Linear", projection="EQUIRECTANGULAR")
        texture.image = image
        background = g.node("ShaderNodeBackground")
        g.link(texture.outputs["Color"], background.inputs["Color"])
        background.inputs["Strength"].default_value = float(params.get("strength", 1.0))
        g.link(background.outputs[0], out.inputs["Surface"])
        world.cycles.sampling_method = "AUTOMATIC"  # a bright horizon: importance-sample the map
        return world
    direction = g.node("ShaderNodeTexCoord").outputs["Generated"]
    _, _, z = g.separate(g.vmath("NORMALIZE", direction))
    up = g.math("POWER", g.math("MAXIMUM", z, 0.0), float(params["gradient_power"]))
    sky = g.mix(up, params["horizon"], params["zenith"])
    below = g.math("LESS_THAN", z, 0.0)
    lighting = g.mix(below, sky, params["ground"])
    camera_sky = g.mix(up, params["background_horizon"], params["background"])
    camera_view = g.mix(below, camera_sky, params["background_horizon"])
    is_camera = g.node("ShaderNodeLightPath").outputs["Is Camera Ray"]
    color = g.mix(is_camera, lighting, camera_view)
    background = g.node("ShaderNodeBackground")
    g.link(color, background.inputs["Color"])
    background.inputs["Strength"].default_value = float(params["strength"])
    g.link(background.outputs[0], out.inputs["Surface"])
    # A smooth gradient needs no importance map; building one costs ~1 s per render on a CPU.
    world.cycles.sampling_method = "NONE"
    return world


def _look_at_rotation(direction):
    """3x3 rotation whose +Z axis is ``direction`` (a light's -Z then points the other way)."""
    z = np.asarray(direction, dtype=np.float64)
    z = z / np.linalg.norm(z)
    helper = np.array([0.0, 0.0, 1.0]) if abs(z[2]) < 0.99 else np.array([1.0, 0.0, 0.0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=1)


def add_lights(scene, header: dict) -> None:
    import bpy

    sun_params = header["sun"]
    sun = bpy.data.lights.new("sun", "SUN")
    sun.energy = float(sun_params["strength"])
    sun.color = tuple(map(float, sun_params["color"]))
    sun.angle = float(sun_params["angle_rad"])
    sun_object = bpy.data.objects.new("sun", sun)
    pose = np.eye(4)
    pose[:3, :3] = _look_at_rotation(sun_params["direction"])
    sun_object.matrix_world = _matrix(pose)
    scene.collection.objects.link(sun_object)
    for index, params in enumerate(header["area_lights"]):
        light = bpy.data.lights.new(f"area{index}", "AREA")
        light.shape = "RECTANGLE"
        light.size, light.size_y = map(float, params["size"])
        light.energy = float(params["power_w"])
        light.color = tuple(map(float, params["color"]))
        obj = bpy.data.objects.new(f"area{index}", light)
        obj.matrix_world = _matrix(params["world_from_light"])
        obj.visible_camera = False
        obj.visible_glossy = False  # fill light only: no floating softbox mirrored in glossy floors
        scene.collection.objects.link(obj)


def _keyframe_matrices(obj, matrices) -> None:
    """Keyframe an object's location and rotation for every frame (linear interpolation)."""
    obj.rotation_mode = "QUATERNION"
    previous = None
    for frame, matrix in enumerate(matrices):
        obj.matrix_world = _matrix(matrix)
        quaternion = obj.rotation_quaternion.copy()
        if previous is not None and quaternion.dot(previous) < 0:  # shortest path between frames
            quaternion.negate()
            obj.rotation_quaternion = quaternion
        previous = quaternion
        obj.keyframe_insert("location", frame=frame)
        obj.keyframe_insert("rotation_quaternion", frame=frame)


def _varies(values) -> bool:
    values = np.asarray(values)
    return bool(len(values) > 1 and np.any(values != values[:1]))


def add_camera(scene, params: dict, arrays: dict):
    import bpy

    data = bpy.data.cameras.new("camera")
    data.sensor_fit = "HORIZONTAL"
    data.sensor_width = float(params["sensor_width_mm"])
    data.clip_start = float(params["clip_start"])
    data.clip_end = float(params["clip_end"])
    camera = bpy.data.objects.new("camera", data)
    scene.collection.objects.link(camera)
    scene.camera = camera
    poses = arrays[params["world_from_camera"]]
    if _varies(poses):
        _keyframe_matrices(camera, poses)
    else:
        camera.matrix_world = _matrix(poses[0])
    for name in ("lens", "shift_x", "shift_y"):
        values = params[f"{name}_mm" if name == "lens" else name]
        setattr(data, name, float(values[0]))
        if _varies(values):
            for frame, value in enumerate(values):
                setattr(data, name, float(value))
                data.keyframe_insert(name, frame=frame)
    scene.render.pixel_aspect_x, scene.render.pixel_aspect_y = map(float, params["pixel_aspect"])
    return camera


class Deforming:
    """A mesh whose vertices change every frame: written per frame, or shape keys for motion blur."""

    def __init__(self, obj, frames: np.ndarray, shape_keys: bool) -> None:
        self.mesh = obj.data
        self.frames = np.ascontiguousarray(frames, dtype=np.float32)
        self.current = -1
        if shape_keys:
            obj.shape_key_add(name="basis", from_mix=False)
            for frame in range(len(self.frames)):
                key = obj.shape_key_add(name=f"f{frame}", from_mix=False)
                key.data.foreach_set("co", self.frames[frame].reshape(-1))
                for neighbour in (frame - 1, frame, frame + 1):
                    if 0 <= neighbour < len(self.frames):
                        key.value = 1.0 if neighbour == frame else 0.0
                        key.keyframe_insert("value", frame=neighbour)
            self.frames = None  # the animation system poses it now

    def update(self, frame: int) -> None:
        if self.frames is None or frame == self.current:
            return
        self.mesh.vertices.foreach_set("co", self.frames[frame].reshape(-1))
        self.mesh.update()
        self.current = frame


def add_objects(scene, header: dict, arrays: dict, shape_keys: bool) -> list:
    import bpy

    deforming = []
    for index, spec in enumerate(header["objects"]):
        vertices = arrays[spec["vertices"]].astype(np.float32)
        faces = arrays[spec["faces"]].astype(np.int32)
        mesh = bpy.data.meshes.new(spec["name"])
        mesh.vertices.add(len(vertices))
        mesh.vertices.foreach_set("co", vertices.reshape(-1))
        mesh.loops.add(faces.size)
        mesh.loops.foreach_set("vertex_index", faces.reshape(-1))
        mesh.polygons.add(len(faces))
        mesh.polygons.foreach_set("loop_start", np.arange(0, faces.size, 3, dtype=np.int32))
        mesh.polygons.foreach_set("use_smooth", np.ones(len(faces), dtype=bool))
        uv_layer = mesh.uv_layers.new(name="UVMap")
        uv_layer.data.foreach_set("uv", arrays[spec["uvs"]].astype(np.float32)[faces.reshape(-1)].reshape(-1))
        if spec.get("tint"):  # an outfit: linear RGB and the pattern flag per vertex
            tint = mesh.color_attributes.new("tint", "FLOAT_COLOR", "POINT")
            tint.data.foreach_set("color", np.ascontiguousarray(arrays[spec["tint"]], dtype=np.float32).reshape(-1))
        mesh.update()
        mesh.validate(clean_customdata=False)
        if spec.get("normals"):
            normals = arrays[spec["normals"]].astype(np.float32)
            mesh.normals_split_custom_set_from_vertices(normals.tolist())
        obj = bpy.data.objects.new(spec["name"], mesh)
        obj.pass_index = int(spec["pass_index"])
        obj.data.materials.append(build_material(f"{spec['name']}-material", spec["material"]))
        scene.collection.objects.link(obj)
        if spec["type"] == "rigid":
            poses = arrays[spec["poses"]]
            if _varies(poses):
                _keyframe_matrices(obj, poses)
            else:
                obj.matrix_world = _matrix(poses[0])
        else:
            deforming.append(Deforming(obj, arrays[spec["frame_vertices"]], shape_keys))
    return deforming


def configure_device(scene, device: str, device_index) -> str:
    """CPU, or the GPU(s) Cycles can see: OptiX first, then CUDA ('auto'); returns a description.

    Under Ray every task sees only its own GPU (CUDA_VISIBLE_DEVICES, inherited by this process);
    device_index, when given, picks one of the visible GPUs by position.
    """
    import bpy

    scene.cycles.device = "CPU"
    if device == "cpu":
        return "CPU"
    backends = ("OPTIX", "CUDA") if device == "auto" else (device.upper(),)
    preferences = bpy.context.preferences.addons["cycles"].preferences
    for backend in backends:
        try:
            preferences.compute_device_type = backend
        except TypeError:
            continue
        preferences.refresh_devices()
        gpus = [d for d in preferences.devices if d.type == backend]
        if not gpus:
            continue
        if device_index is not None and len(gpus) > 1:
            if not 0 <= device_index < len(gpus):
                raise RuntimeError(f"device_index {device_index}: only {len(gpus)} {backend} devices are visible")
            gpus = [gpus[device_index]]
        for candidate in preferences.devices:
            candidate.use = candidate in gpus
        scene.cycles.device = "GPU"
        return f"{backend}: " + ", ".join(d.name for d in gpus)
    if device != "auto":
        raise RuntimeError(f"device {device!r}: Cycles found no {device.upper()} device")
    return "CPU"


def configure_compositor(scene, directory: Path):
    """Render Layers -> File Output writing depth.exr and index.exr (32-bit float) per render."""
    import bpy

    tree = bpy.data.node_groups.new("worldclips-passes", "CompositorNodeTree")
    scene.compositing_node_group = tree
    layers = tree.nodes.new("CompositorNodeRLayers")
    output = tree.nodes.new("CompositorNodeOutputFile")
    output.directory = str(directory)
    output.file_name = ""
    output.format.media_type = "IMAGE"
    output.format.file_format = "OPEN_EXR"
    output.format.color_depth = "32"
    output.format.exr_codec = "NONE"
    for name, source in (("depth", "Depth"), ("index", "Object Index")):
        output.file_output_items.new("FLOAT", name)
        tree.links.new(layers.outputs[source], output.inputs[name])
    scene.render.use_compositing = True


def read_image(path: Path) -> np.ndarray:
    """(H, W, C) float32 pixels of an image file, row 0 at the top (Blender stores bottom-up)."""
    import bpy

    image = bpy.data.images.load(str(path), check_existing=False)
    try:
        image.colorspace_settings.is_data = True
        width, height = image.size
        pixels = np.empty(width * height * image.channels, dtype=np.float32)
        image.pixels.foreach_get(pixels)
        return pixels.reshape(height, width, image.channels)[::-1]
    finally:
        bpy.data.images.remove(image)


def setup(header: dict, arrays: dict, passes_dir: Path):
    import bpy

    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.context.preferences.edit.keyframe_new_interpolation_type = "LINEAR"
    scene = bpy.context.scene
    settings = header["render"]
    scene.render.engine = "CYCLES"
    scene.render.resolution_x, scene.render.resolution_y = int(header["width"]), int(header["height"])
    scene.render.resolution_percentage = 100
    scene.render.fps = max(1, round(float(header["fps"])))
    scene.frame_start, scene.frame_end = 0, max(0, int(header["num_frames"]) - 1)
    device = configure_device(scene, settings["device"], settings.get("device_index"))
    cycles = scene.cycles
    cycles.samples = int(settings["samples"])
    cycles.seed = int(settings["seed"])
    cycles.use_adaptive_sampling = bool(settings["adaptive_sampling"])
    cycles.max_bounces = int(settings["max_bounces"])
    cycles.pixel_filter_type = "BLACKMAN_HARRIS"
    cycles.filter_width = float(settings["filter_width_px"])
    denoiser = "off"
    if settings["denoise"] and _denoiser_available():
        cycles.use_denoising = True
        cycles.denoiser = "OPENIMAGEDENOISE"
        cycles.denoising_input_passes = "RGB_ALBEDO_NORMAL"
        cycles.denoising_prefilter = settings.get("denoise_prefilter", "FAST")
        cycles.denoising_quality = settings.get("denoise_quality", "BALANCED")
        denoiser = "OpenImageDenoise"
    else:
        cycles.use_denoising = False
    if settings["threads"]:
        scene.render.threads_mode = "FIXED"
        scene.render.threads = int(settings["threads"])
    scene.render.use_motion_blur = bool(settings["motion_blur"])
    scene.render.motion_blur_shutter = float(settings["shutter"])
    scene.render.motion_blur_position = "CENTER"
    scene.view_settings.view_transform = settings["view_transform"]
    scene.view_settings.look = settings.get("look", "None")
    scene.view_settings.exposure = float(settings["exposure"])
    scene.render.film_transparent = False
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "RGB"
    scene.render.image_settings.color_depth = "8"
    scene.render.filepath = str(passes_dir / "rgb")
    layer = scene.view_layers[0]
    layer.use_pass_z = True
    layer.use_pass_object_index = True
    scene.world = build_world(header["world"], arrays)
    add_lights(scene, header)
    add_camera(scene, header["camera"], arrays)
    deforming = add_objects(scene, header, arrays, shape_keys=bool(settings["motion_blur"]))
    configure_compositor(scene, passes_dir)
    return scene, deforming, {"device": device, "denoiser": denoiser}


def _denoiser_available() -> bool:
    try:
        import _cycles

        return bool(getattr(_cycles, "with_openimagedenoise", False))
    except ImportError:
        return False


def ground_truth_mode(scene) -> None:
    """One sample at the pixel centre, no motion blur, no denoising, a plain diffuse material."""
    import bpy

    scene.cycles.samples = 1
    scene.cycles.use_adaptive_sampling = False
    scene.cycles.use_denoising = False
    scene.cycles.max_bounces = 0
    scene.render.use_motion_blur = False
    plain = bpy.data.materials.new("worldclips-ground-truth")
    scene.view_layers[0].material_override = plain


def _take(passes_dir: Path, stem: str, suffix: str) -> np.ndarray:
    """Read and delete the one file a render wrote for ``stem`` (a stale file is never read twice)."""
    found = sorted(passes_dir.glob(f"{stem}*{suffix}"))
    if len(found) != 1:
        raise RuntimeError(f"render wrote {len(found)} {stem}*{suffix} files in {passes_dir}, expected 1")
    try:
        return read_image(found[0])
    finally:
        found[0].unlink()


def render_frame(scene, deforming, frame: int, passes_dir: Path, write_rgb: bool):
    import bpy

    scene.frame_set(frame)
    for body in deforming:
        body.update(frame)
    bpy.ops.render.render(write_still=write_rgb)
    depth = _take(passes_dir, "depth", ".exr")[..., 0]
    index = _take(passes_dir, "index", ".exr")[..., 0]
    rgb = None
    if write_rgb:
        rgb = np.rint(_take(passes_dir, "rgb", ".png")[..., :3] * 255.0).astype(np.uint8)
    return rgb, depth, index


def exit_with_parent() -> None:
    """Stop rendering when the process that started this worker is gone (killed, crashed)."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(EXIT_ORPHANED)

    threading.Thread(target=watch, name="worldclips-parent-watch", daemon=True).start()


def bare_render(header: dict, arrays: dict, out_dir: Path) -> None:
    """bench/cycles.py's reference: the same Blender scene, only bpy's render calls timed.

    No compositor, no files written or read: what a hand-written bpy script rendering this scene
    would spend per frame.
    """
    import bpy

    scene, deforming, info = setup(header, arrays, out_dir / "passes")
    scene.render.use_compositing = False
    frame_s, frame_cpu_s = [], []
    for frame in range(int(header["num_frames"])):
        tick, tick_cpu = time.perf_counter(), time.process_time()
        scene.frame_set(frame)
        for body in deforming:
            body.update(frame)
        bpy.ops.render.render(write_still=False)
        frame_s.append(time.perf_counter() - tick)
        frame_cpu_s.append(time.process_time() - tick_cpu)  # all threads of this process
    result = {**info, "frame_s": frame_s, "frame_cpu_s": frame_cpu_s}
    (out_dir / "result.json").write_text(json.dumps(result, indent=1))


def main(argv: list[str]) -> int:
    bare = len(argv) == 4 and argv[1] == "--bare"
    if bare:
        argv = [argv[0], *argv[2:]]
    if len(argv) != 3:
        print("usage: worker.py [--bare] SCENE_DIR OUT_DIR", file=sys.stderr)
        return 2
    started = time.perf_counter()
    exit_with_parent()
    scene_dir, out_dir = Path(argv[1]), Path(argv[2])
    try:
        header, arrays = load_scene(scene_dir)
    except FormatError as error:
        print(f"worldclips-cycles-worker: {error}", file=sys.stderr)
        return EXIT_FORMAT
    passes_dir = out_dir / "passes"
    passes_dir.mkdir(parents=True, exist_ok=True)
    if bare:
        bare_render(header, arrays, out_dir)
        return 0
    frames, height, width = int(header["num_frames"]), int(header["height"]), int(header["width"])
    settings = header["render"]
    scene, deforming, info = setup(header, arrays, passes_dir)
    setup_s = time.perf_counter() - started
    lut = np.zeros(len(header["objects"]) + 1, dtype=np.uint16)
    for spec in header["objects"]:
        lut[int(spec["pass_index"])] = int(spec["instance_id"])
    rgb = np.zeros((frames, height, width, 3), dtype=np.uint8)
    depth = np.zeros((frames, height, width), dtype=np.float32)
    seg = np.zeros((frames, height, width), dtype=np.uint16)
    ground_truth_only = bool(settings["ground_truth_only"])
    separate_ground_truth = bool(settings["motion_blur"]) and not ground_truth_only
    if ground_truth_only:
        ground_truth_mode(scene)
    frame_s = []

    def store(frame, frame_depth, index):
        ids = np.rint(index).astype(np.int64)
        if ids.min() < 0 or ids.max() >= len(lut):
            raise RuntimeError(f"frame {frame}: object index pass holds {ids.min()}..{ids.max()}, outside the object table")
        hit = (ids > 0) & (frame_depth < BACKGROUND_DEPTH)
        depth[frame] = np.where(hit, frame_depth, 0.0)
        seg[frame] = np.where(hit, lut[ids], 0)

    for frame in range(frames):
        tick = time.perf_counter()
        frame_rgb, frame_depth, index = render_frame(scene, deforming, frame, passes_dir, not ground_truth_only)
        if frame_rgb is not None:
            rgb[frame] = frame_rgb
        if not separate_ground_truth:
            store(frame, frame_depth, index)
        frame_s.append(time.perf_counter() - tick)
        print(f"worldclips-frame {frame + 1} {frames} {frame_s[-1]:.4f}", flush=True)
    ground_truth_s = 0.0
    if separate_ground_truth:
        tick = time.perf_counter()
        ground_truth_mode(scene)
        for frame in range(frames):
            _, frame_depth, index = render_frame(scene, deforming, frame, passes_dir, False)
            store(frame, frame_depth, index)
        ground_truth_s = time.perf_counter() - tick
    for name, array in (("rgb", rgb), ("depth", depth), ("seg", seg)):
        np.save(out_dir / f"{name}.npy", array, allow_pickle=False)
    import bpy

    result = {
        "blender": bpy.app.version_string,
        "numpy": np.__version__,
        **info,
        "setup_s": setup_s,
        "frame_s": frame_s,
        "ground_truth_s": ground_truth_s,
        "total_s": time.perf_counter() - started,
    }
    (out_dir / "result.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
