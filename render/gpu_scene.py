"""A Scene uploaded to one GL context: geometry once, every per-frame uniform once.

Drawing frame t binds the frame's uniform-block ranges and issues one draw call per drawable.
Bodies are the only per-frame vertex work: skinned ones by one transform-feedback pass on the GPU,
vertex-animated ones by one buffer write (positions and CPU normals).
"""

from __future__ import annotations

from dataclasses import dataclass

import moderngl
import numpy as np

from worldclips.motions.body import SkinnedMesh, VertexAnimatedMesh
from worldclips.render import glsl, mesh_data, shadow, uniforms
from worldclips.render.body_vertices import SHADOW_PROXY_CELL_M, VERTEX_FORMAT, AnimatedVertices, SkinnedVertices
from worldclips.render.programs import Programs
from worldclips.scenes.asset_cache import AssetCache
from worldclips.scenes.scene import Character, Scene, SceneObject
from worldclips.scenes.textures import TextureSet, load_texture

GROUND_CATEGORY = "ground"  # receives shadows but casts none (it lies under everything else)


@dataclass(frozen=True, eq=False)
class RasterSettings:
    """How a scene is rasterized: image size actually drawn and optional features."""

    raster_width: int
    raster_height: int
    supersample: int
    shadows: bool
    shadow_map_size: int
    uniform_alignment: int
    cull_closed: bool = True
    shadow_proxy: bool = True
    surface_layers: bool = False  # normals and neighbour-frame positions (render.surface_layers)


@dataclass(eq=False)
class _Drawable:
    vao: moderngl.VertexArray
    shadow_vao: moderngl.VertexArray | None  # None: casts no shadow
    object_offset: int  # byte offset of this drawable's frame-0 Object block
    cull: bool  # closed mesh: back faces may be culled
    shadow_cull: bool
    body: SkinnedVertices | AnimatedVertices | None = None
    visible: np.ndarray | None = None  # (T,) bool: may cover a pixel in that frame
    images: tuple = ()  # (unit, texture) of a textured material's images


def _check_ids(scene: Scene) -> None:
    ids = [o.instance_id for o in scene.objects] + [c.instance_id for c in scene.characters]
    if len(set(ids)) != len(ids):
        raise ValueError(f"Scene: instance ids must be unique, got {sorted(ids)}")
    bad = [i for i in ids if not 1 <= int(i) <= 0xFFFF]
    if bad:
        raise ValueError(f"Scene: instance ids must lie in 1..65535 (uint16 segmentation), got {bad}")


def _frames(array: np.ndarray, frames: int, what: str) -> np.ndarray:
    array = np.asarray(array)
    if len(array) < frames:
        raise ValueError(f"{what}: has {len(array)} frames, the scene has {frames}")
    return array[:frames]


class GpuScene:
    """GPU resources of one Scene; release() frees them (the context stays)."""

    def __init__(self, ctx: moderngl.Context, programs: Programs, scene: Scene, settings: RasterSettings,
                 assets: AssetCache | None = None) -> None:  # fmt: skip
        _check_ids(scene)
        self._assets = assets  # decoded texture images kept across scenes (scenes.asset_cache)
        self._ctx = ctx
        self._programs = programs
        self._settings = settings
        self._resources: list = []
        self._drawables: list[_Drawable] = []
        try:
            self._upload(scene)
        except BaseException:  # a bad mesh or a changed texture: free what was uploaded, on the shared context
            self.release()
            raise

    def _upload(self, scene: Scene) -> None:
        ctx, programs, settings = self._ctx, self._programs, self._settings
        self._images: dict[tuple[str, str], moderngl.Texture] = {}  # (path, map) -> uploaded image
        self.num_frames = int(scene.num_frames)
        self.lamps = uniforms.lamp_count(scene.lamps)
        frames = self.num_frames
        camera = scene.camera
        self._cam_from_world = _frames(camera.cam_from_world, frames, "CameraTrack.cam_from_world")
        K_output = _frames(camera.K, frames, "CameraTrack.K")
        K = uniforms.supersampled_intrinsics(K_output, settings.supersample)
        deferred = settings.supersample > 1  # the G-buffer, lit by the resolve pass (render.glsl)

        clip_from_world = uniforms.clip_from_cam(
            K, camera.near, camera.far, settings.raster_width, settings.raster_height
        ) @ np.asarray(self._cam_from_world, dtype=np.float64)
        blocks: list[np.ndarray] = []
        caster_bounds: list[np.ndarray] = []
        for obj in scene.objects:
            if len(obj.mesh.faces) == 0:
                continue
            casts = obj.category != GROUND_CATEGORY
            pose = _frames(obj.world_from_object, frames, f"SceneObject {obj.name!r}.world_from_object")
            drawable = self._upload_object(obj, casts, deferred, offset=len(blocks) * frames)
            bounds = mesh_data.object_bounds(obj)[:frames]
            drawable.visible = ~mesh_data.outside_view(bounds, clip_from_world)
            self._drawables.append(drawable)
            blocks.append(uniforms.object_blocks(self._cam_from_world, pose, obj.material, obj.instance_id, K=K_output))
            if casts:
                caster_bounds.append(bounds)
        for character in scene.characters:
            drawable = self._upload_character(character, deferred, offset=len(blocks) * frames)
            bounds = _frames(mesh_data.character_bounds(character), frames, f"Character {character.name!r}")
            drawable.visible = ~mesh_data.outside_view(bounds, clip_from_world)
            self._drawables.append(drawable)
            receiver_offset = SHADOW_PROXY_CELL_M / 2 if settings.shadows and settings.shadow_proxy else 0.0
            blocks.append(
                uniforms.object_blocks(
                    self._cam_from_world, None, character.material, character.instance_id, receiver_offset,
                    vertex_tint=character.outfit is not None, K=K_output,
                )
            )
            caster_bounds.append(bounds)

        bounds, valid = shadow.union_bounds(caster_bounds, frames)
        fit = shadow.fit_sun_shadow(
            bounds, valid & settings.shadows, np.asarray(scene.lighting.sun_direction), settings.shadow_map_size
        )
        self.shadow_valid = fit.valid
        frame_data = uniforms.frame_blocks(
            K,
            self._cam_from_world,
            camera.near,
            camera.far,
            scene.lighting,
            scene.background_color,
            settings.raster_width,
            settings.raster_height,
            fit.clip_from_world,
            fit.params(settings.shadow_map_size),
            scene.look,
            sky_map=scene.sky_image is not None,
            lamps=scene.lamps,
        )
        self._frame_buffer = self._keep(ctx.buffer(frame_data.tobytes()))
        object_data = np.concatenate(blocks) if blocks else np.zeros((1, uniforms.OBJECT_BLOCK_BYTES // 4), np.float32)
        self._object_buffer = self._keep(ctx.buffer(object_data.tobytes()))
        background = programs.background(deferred, settings.surface_layers)
        self._background = self._keep(ctx.vertex_array(background, []))
        self._sky = None
        if scene.sky_image is not None:
            image = np.ascontiguousarray(scene.sky_image, dtype=np.float32)
            if image.ndim != 3 or image.shape[2] != 3 or image.shape[1] != 2 * image.shape[0]:
                raise ValueError(f"Scene.sky_image: expected (H, 2H, 3) radiance, got {image.shape}")
            rgba = np.concatenate([np.minimum(image, 65000.0), np.ones_like(image[..., :1])], axis=-1).astype(np.float16)
            # RGBA16F: llvmpipe filters 4-channel half floats far faster than RGB32F
            self._sky = self._keep(ctx.texture((image.shape[1], image.shape[0]), 4, rgba.tobytes(), dtype="f2"))
            self._sky.filter = (moderngl.LINEAR, moderngl.LINEAR)
            self._sky.repeat_x, self._sky.repeat_y = True, False

    # -- upload -------------------------------------------------------------------------------

    def _keep(self, resource):
        self._resources.append(resource)
        return resource

    def _static_buffer(self, array: np.ndarray, dtype, columns: int) -> moderngl.Buffer:
        data = np.ascontiguousarray(array, dtype=dtype)
        if data.ndim != 2 or data.shape[1] != columns:
            raise ValueError(f"mesh attribute: expected shape (N, {columns}), got {data.shape}")
        return self._keep(self._ctx.buffer(data.tobytes()))

    def _drawable(self, content: list, faces, deferred: bool, casts: bool, offset: int, closed: bool, pattern: str,
                  body=None, texture: TextureSet | None = None):  # fmt: skip
        """content: (buffer, format, attribute names...) holding in_position, in_normal and in_uv;
        pattern: the material's surface pattern (each has its own program); texture: its PBR
        texture set, if any (the textured program, with the set's images).

        The shadow pass draws the body's shadow proxy when it has one, else the same vertices.
        """
        ctx = self._ctx
        index = self._static_buffer(np.asarray(faces).reshape(-1, 3), np.uint32, 3)
        program = self._programs.scene(deferred, self._settings.surface_layers, pattern, textured=texture is not None,
                                       lamps=0 if deferred else self.lamps)  # fmt: skip
        # skip_errors: a pattern's program may not read every attribute (plain: no in_uv)
        vao = self._keep(ctx.vertex_array(program, content, index_buffer=index, index_element_size=4, skip_errors=True))
        cull = closed and self._settings.cull_closed
        shadow_vao, shadow_cull = None, cull
        if casts and self._settings.shadows:
            if body is None:  # rigid object: its own vertices
                shadow_index, shadow_content = index, [(content[0][0], "3f", "in_position")]
            elif body.shadow_faces is None:  # body without proxy: positions of the skinned vertices
                shadow_index, shadow_content = index, [(body.shadow_buffer, body.shadow_format, "in_position")]
            else:  # body proxy: not a closed surface, drawn two-sided
                shadow_index = self._static_buffer(body.shadow_faces, np.uint32, 3)
                shadow_content = [(body.shadow_buffer, body.shadow_format, "in_position")]
                shadow_cull = False
            shadow_program = self._programs.shadow()
            shadow_vao = self._keep(
                ctx.vertex_array(shadow_program, shadow_content, index_buffer=shadow_index, index_element_size=4)
            )
        images = () if texture is None else self._texture_images(texture)
        return _Drawable(vao, shadow_vao, offset * uniforms.OBJECT_BLOCK_BYTES, cull, shadow_cull, body, images=images)

    def _texture_images(self, texture: TextureSet) -> tuple:
        """(unit, texture) of each of the set's images, uploaded once per scene with mipmaps; a map
        the set lacks gets the Color image (the shader does not read it: Object info.w)."""
        uploaded = {}
        for name, (path, sha256) in texture.maps().items():
            key = (path, name)
            if key not in self._images:
                image = load_texture(path, sha256, name, self._assets)
                components = 1 if image.ndim == 2 else image.shape[2]
                gl_texture = self._keep(self._ctx.texture((image.shape[1], image.shape[0]), components,
                                                          np.ascontiguousarray(image[::-1]).tobytes(), alignment=1))  # fmt: skip
                gl_texture.build_mipmaps()
                gl_texture.filter = (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR)
                gl_texture.repeat_x = gl_texture.repeat_y = True
                gl_texture.anisotropy = 8.0
                self._images[key] = gl_texture
            uploaded[name] = self._images[key]
        return tuple((unit, uploaded.get(name, uploaded["Color"])) for name, unit in glsl.MAP_UNITS.items())

    def _upload_object(self, obj: SceneObject, casts: bool, deferred: bool, offset: int) -> _Drawable:
        mesh = obj.mesh
        vertices = np.asarray(mesh.vertices)
        if not (len(mesh.normals) == len(mesh.uvs) == len(vertices)):
            raise ValueError(f"SceneObject {obj.name!r}: vertices, normals and uvs differ in length")
        faces = np.asarray(mesh.faces)
        if faces.min() < 0 or faces.max() >= len(vertices):
            raise ValueError(f"SceneObject {obj.name!r}: face indices outside the {len(vertices)} vertices")
        positions = self._static_buffer(vertices, np.float32, 3)
        content = [
            (positions, "3f", "in_position"),
            (self._static_buffer(mesh.normals, np.float32, 3), "3f", "in_normal"),
            (self._static_buffer(mesh.uvs, np.float32, 2), "2f", "in_uv"),
        ]
        if self._settings.surface_layers:  # rigid: the same vertices, moved by the Object block's matrices
            content += [(positions, "3f", "in_position_next"), (positions, "3f", "in_position_prev")]
        closed = mesh_data.is_closed(vertices, faces)
        return self._drawable(content, faces, deferred, casts, offset, closed, obj.material.pattern,
                              texture=obj.material.texture)  # fmt: skip

    def _upload_character(self, character: Character, deferred: bool, offset: int) -> _Drawable:
        mesh = character.body.mesh
        name = f"Character {character.name!r}"
        proxy = self._settings.shadows and self._settings.shadow_proxy
        if isinstance(mesh, SkinnedMesh):
            body = SkinnedVertices(
                self._ctx, self._programs, mesh, self.num_frames, self._settings.uniform_alignment, name, proxy,
                neighbours=self._settings.surface_layers,
            )
        elif isinstance(mesh, VertexAnimatedMesh):
            body = AnimatedVertices(self._ctx, mesh, self.num_frames, name, proxy, neighbours=self._settings.surface_layers)
        else:
            raise TypeError(f"{name}: unsupported body mesh {type(mesh).__name__}")
        self._keep(body)
        reference, up_axis = body.uv_source
        content = [
            (body.buffer, VERTEX_FORMAT, "in_position", "in_normal"),
            (self._static_buffer(mesh_data.body_uvs(reference, up_axis), np.float32, 2), "2f", "in_uv"),
        ]
        if self._settings.surface_layers:
            content += [
                (body.next_buffer, body.neighbour_format, "in_position_next"),
                (body.prev_buffer, body.neighbour_format, "in_position_prev"),
            ]
        if character.outfit is not None:
            tint = mesh_data.outfit_tint(character, len(reference))
            content.append((self._static_buffer(tint, np.float32, 5), "4f 1f", "in_tint", "in_tint_pattern"))
        closed = mesh_data.is_closed(reference, mesh.faces)
        return self._drawable(content, mesh.faces, deferred, True, offset, closed, character.material.pattern, body)

    # -- drawing ------------------------------------------------------------------------------

    def _bind(self, drawable: _Drawable, frame: int, cull: bool) -> None:
        self._object_buffer.bind_to_uniform_block(
            glsl.OBJECT_BINDING,
            offset=drawable.object_offset + frame * uniforms.OBJECT_BLOCK_BYTES,
            size=uniforms.OBJECT_BLOCK_BYTES,
        )
        if cull:
            self._ctx.enable(moderngl.CULL_FACE)
        else:
            self._ctx.disable(moderngl.CULL_FACE)

    def begin_frame(self, frame: int) -> None:
        """Bind the frame's camera and light block and the sky map, and compute body vertices
        (needs a bound framebuffer)."""
        if self._sky is not None:
            self._sky.use(location=glsl.SKY_UNIT)
        self._frame_buffer.bind_to_uniform_block(
            glsl.FRAME_BINDING, offset=frame * uniforms.FRAME_BLOCK_BYTES, size=uniforms.FRAME_BLOCK_BYTES
        )
        for drawable in self._drawables:
            if drawable.body is not None:
                drawable.body.update(frame)

    def draw_shadow_casters(self, frame: int) -> None:
        for drawable in self._drawables:
            if drawable.shadow_vao is not None:
                self._bind(drawable, frame, drawable.shadow_cull)
                drawable.shadow_vao.render(moderngl.TRIANGLES)

    def draw_surfaces(self, frame: int) -> None:
        for drawable in self._drawables:
            if not drawable.visible[frame]:
                continue  # wholly outside the view: skipping it changes no pixel
            self._bind(drawable, frame, drawable.cull)
            for unit, image in drawable.images:
                image.use(location=unit)
            drawable.vao.render(moderngl.TRIANGLES)

    def draw_background(self) -> None:
        self._ctx.disable(moderngl.CULL_FACE)
        self._background.render(moderngl.TRIANGLES, vertices=3)

    def release(self) -> None:
        for resource in reversed(self._resources):
            resource.release()
        self._resources.clear()
        self._drawables.clear()

