"""The fast raster backend: Scene -> RenderedClip on moderngl with a headless EGL context.

Per frame: skinned bodies are posed on the GPU (one transform-feedback pass from bone matrices
uploaded once per scene); an optional sun shadow pass (depth only, orthographic around the shadow
casters); one pass writing lit sRGB colour, exact planar camera z (the vertex camera z
interpolated perspective-correctly at the pixel centre) and the instance id; a far-plane
background pass filling what nothing covered (sky colour, depth 0, id 0); read-back into
preallocated arrays. Depth and ids are never blended: one fragment per pixel centre wins the z-test.

Timing notes (Mesa llvmpipe, 2 CPU cores, ground + 5 boxes + one 24k-vertex mannequin, 30 frames,
read-back included): about 7.5-8 ms per 256x256 frame and 12 ms per 512x512 frame with sun
shadows, 5.7 and 8.8 ms without, plus ~35 ms of per-scene setup (uploads, normals, shadow
proxies). llvmpipe runs vertex work and triangle setup on one thread, so the 48k-triangle body
dominates: hence back-face culling of closed meshes, few varyings and the body shadow proxies.
Tests hold no timed assertions.
"""

from __future__ import annotations

import dataclasses

import moderngl
import numpy as np

from worldclips.render import glsl, uniforms
from worldclips.render.frames import RenderedClip
from worldclips.render.gl_context import create_egl_context, describe_context
from worldclips.render.gpu_scene import GpuScene, RasterSettings
from worldclips.render.motion_blur import average_frames, sample_times, subframe_scene
from worldclips.render.programs import Programs
from worldclips.render.surface_layers import surface_layers as layers_from_surface_pass
from worldclips.render.targets import ImageTargets, ShadowTarget
from worldclips.scenes.asset_cache import AssetCache
from worldclips.scenes.scene import Scene

DEFAULT_SHADOW_MAP_SIZE = 1024
TEXTURE_CACHE_BYTES = 128 << 20  # decoded texture images kept across scenes
PHOTO_SUPERSAMPLE = 3  # 3 x 3 samples per pixel: anti-aliased edges, exact centre sample
# gl_clip_from_cam keeps image rows in GL's y order, which mirrors the image: faces that are
# counter-clockwise seen from outside arrive clockwise, so clockwise is front for the camera. The
# sun's orthographic frustum has no mirror: counter-clockwise is front there, and the shadow map
# keeps the sun-facing side of closed casters (no light leaking where a caster meets the ground).
CAMERA_FRONT_FACE, SUN_FRONT_FACE = "cw", "ccw"


class RasterRenderer:
    """Renders Scenes with one GL context; reusable across scenes (targets follow the scene size).

    width, height: initial image size (targets are rebuilt when a scene has another size).
    device_index: EGL device (GPU) to use; ignored when ``context`` is given.
    context: an existing moderngl context to render with (not released by this renderer).
    shadows: draw the sun shadow map; shadow_map_size: its resolution in texels.
    supersample: odd factor s >= 1; s > 1: colour is lit per output pixel from a G-buffer of
        s x s samples (deferred lighting, render.glsl), depth and
        segmentation stay exact at the pixel centre (the middle sample). None: per scene,
        PHOTO_SUPERSAMPLE for a scene in the photographic look (anti-aliased), 1 for the flat look.
    cull_closed_meshes: cull back faces of closed, consistently oriented meshes (bodies, boxes).
        With the camera outside every mesh this changes no pixel and halves triangle work.
    body_shadow_proxies: bodies cast their sun shadow from a vertex-clustered copy (~3 cm cells,
        a few thousand triangles); images, depth and segmentation always use the full mesh.
    ambient_occlusion: screen-space ambient occlusion of the ambient light (render.glsl_ao) in
        scenes of the photographic look drawn with supersampling; never changes depth, ids or
        any other layer.
    texture_cache_bytes: decoded texture images (Material.texture) are kept across scenes in
        this renderer's own bounded cache (scenes.asset_cache), up to this many bytes (0: none).
    motion_blur: the shutter in frames, centred on each frame (0.5: a 180-degree shutter; 0:
        none): colour is averaged in linear light over ``motion_blur_samples`` sub-frames of an
        interpolated scene (render.motion_blur); depth, segmentation and every other layer come
        from a render of the frames themselves and stay exact. Costs 1 + samples renders.
    """

    def __init__(
        self,
        width: int,
        height: int,
        device_index: int | None = None,
        *,
        context: moderngl.Context | None = None,
        shadows: bool = True,
        shadow_map_size: int = DEFAULT_SHADOW_MAP_SIZE,
        supersample: int | None = None,
        cull_closed_meshes: bool = True,
        body_shadow_proxies: bool = True,
        ambient_occlusion: bool = True,
        texture_cache_bytes: int = TEXTURE_CACHE_BYTES,
        motion_blur: float = 0.0,
        motion_blur_samples: int = 5,
    ) -> None:
        if supersample is not None and (supersample < 1 or supersample % 2 == 0):
            raise ValueError(f"supersample: expected an odd integer >= 1, got {supersample}")
        if motion_blur:
            sample_times(2, motion_blur_samples, motion_blur)  # the options' one-line errors, before a context is made
        self.motion_blur, self.motion_blur_samples = float(motion_blur), int(motion_blur_samples)
        self._owns_context = context is None
        self.ctx = create_egl_context(device_index) if context is None else context
        self.shadows = bool(shadows)
        self.supersample = None if supersample is None else int(supersample)
        self.cull_closed_meshes = bool(cull_closed_meshes)
        self.body_shadow_proxies = bool(body_shadow_proxies)
        self.ambient_occlusion = bool(ambient_occlusion)
        self._programs = Programs(self.ctx)
        self._textures = AssetCache(texture_cache_bytes) if texture_cache_bytes else None
        self._targets: ImageTargets | None = None
        # A 1x1 map stands in when shadows are off: the shader's sampler always needs a depth texture.
        self._shadow = ShadowTarget(self.ctx, int(shadow_map_size) if self.shadows else 1)
        alignment = int(self.ctx.info.get("GL_UNIFORM_BUFFER_OFFSET_ALIGNMENT", 256) or 256)
        if uniforms.MAX_OFFSET_ALIGNMENT % alignment:
            raise RuntimeError(f"unsupported driver: uniform buffer offset alignment {alignment} does not divide 256")
        self._uniform_alignment = max(alignment, 16)
        self._ensure_targets(width, height, self.supersample or 1)

    @classmethod
    def from_context(cls, context: moderngl.Context, width: int, height: int, **options) -> "RasterRenderer":
        """A renderer drawing with an existing context (which the caller keeps ownership of)."""
        return cls(width, height, context=context, **options)

    def __enter__(self) -> "RasterRenderer":
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    @property
    def description(self) -> str:
        """One line naming the backend, the GL device and the options (for manifests and logs)."""
        info = describe_context(self.ctx)
        return (
            f"raster (moderngl {moderngl.__version__}, {info['renderer']}, OpenGL {info['version']}; "
            f"shadows={self.shadows}, supersample={self.supersample or f'{PHOTO_SUPERSAMPLE} (photo look), 1 (flat)'}"
            + (f", motion_blur={self.motion_blur} frames x {self.motion_blur_samples} samples" if self.motion_blur else "") + ")"
        )

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the current render targets."""
        return (self._targets.width, self._targets.height) if self._targets else (0, 0)

    def supersample_for(self, scene: Scene) -> int:
        """The supersampling factor this renderer draws ``scene`` with."""
        if self.supersample is not None:
            return self.supersample
        return PHOTO_SUPERSAMPLE if scene.look is not None else 1

    def occlusion_for(self, scene: Scene) -> bool:
        """Whether ``scene`` is drawn with ambient occlusion (photo look, supersampled, option on)."""
        return self.ambient_occlusion and scene.look is not None and self.supersample_for(scene) > 1

    def _ensure_targets(self, width: int, height: int, supersample: int, surface_layers: bool = False,
                        ambient_occlusion: bool = False) -> ImageTargets:  # fmt: skip
        width, height = int(width), int(height)
        wanted = (width, height, supersample, bool(surface_layers), bool(ambient_occlusion) and supersample > 1)
        if self._targets is None or (self._targets.width, self._targets.height, self._targets.supersample,
                                     self._targets.surface_layers, self._targets.ambient_occlusion) != wanted:  # fmt: skip
            if self._targets is not None:
                self._targets.release()
                self._targets = None
            self._targets = ImageTargets(self.ctx, self._programs, *wanted)
        return self._targets

    def render(self, scene: Scene, surface_layers: bool = False) -> RenderedClip:
        """All frames of a scene: (T, H, W, 3) uint8 sRGB, (T, H, W) float32 depth, (T, H, W) uint16 ids;
        with ``surface_layers`` also camera-frame normals and forward/backward optical flow
        (``RenderedClip.surface``, render.surface_layers), exact at pixel centres like depth.
        With motion blur the colour is the sub-frames' (see the class docstring)."""
        clip = self._render(scene, surface_layers)
        if self.motion_blur and scene.num_frames > 1:
            sub_frames = subframe_scene(scene, self.motion_blur_samples, self.motion_blur)
            blurred = average_frames(self._render(sub_frames, False).rgb, self.motion_blur_samples)
            clip = dataclasses.replace(clip, rgb=blurred)
        return clip

    def _render(self, scene: Scene, surface_layers: bool) -> RenderedClip:
        frames, height, width = int(scene.num_frames), int(scene.height), int(scene.width)
        if frames < 1:
            raise ValueError(f"Scene.num_frames: expected at least one frame, got {frames}")
        supersample = self.supersample_for(scene)
        occlusion = self.occlusion_for(scene)
        targets = self._ensure_targets(width, height, supersample, surface_layers, occlusion)
        settings = RasterSettings(
            raster_width=width * supersample,
            raster_height=height * supersample,
            supersample=supersample,
            shadows=self.shadows,
            shadow_map_size=self._shadow.size,
            uniform_alignment=self._uniform_alignment,
            cull_closed=self.cull_closed_meshes,
            shadow_proxy=self.body_shadow_proxies,
            surface_layers=bool(surface_layers),
        )
        rgb = np.empty((frames, height, width, 3), dtype=np.uint8)
        depth = np.empty((frames, height, width), dtype=np.float32)
        segmentation = np.empty((frames, height, width), dtype=np.uint16)
        surface_shape = (frames, height, width, 4) if surface_layers else (0, height, width, 4)
        normal, next_uvz, prev_uvz = (np.empty(surface_shape, dtype=np.float32) for _ in range(3))
        gpu = GpuScene(self.ctx, self._programs, scene, settings, self._textures)
        try:
            self._set_state()
            for frame in range(frames):
                self._draw_frame(gpu, targets, frame)
                targets.read_into(rgb[frame], depth[frame], segmentation[frame])
                if surface_layers:
                    targets.read_surface_into(normal[frame], next_uvz[frame], prev_uvz[frame])
        finally:
            gpu.release()
        surface = None
        if surface_layers:
            camera = scene.camera
            surface = layers_from_surface_pass(
                normal, next_uvz, prev_uvz, depth, segmentation, np.asarray(camera.K)[:frames],
                np.asarray(camera.cam_from_world)[:frames], camera.near,
            )  # fmt: skip
        return RenderedClip(rgb=rgb, depth=depth, segmentation=segmentation, surface=surface)

    def _set_state(self) -> None:
        ctx = self.ctx
        ctx.enable_only(moderngl.DEPTH_TEST)  # no blending; culling is set per drawable
        ctx.cull_face = "back"
        ctx.front_face = CAMERA_FRONT_FACE

    def _draw_frame(self, gpu: GpuScene, targets: ImageTargets, frame: int) -> None:
        ctx = self.ctx
        targets.scene_fbo.use()  # transform feedback (GPU skinning) needs a complete framebuffer bound
        gpu.begin_frame(frame)
        ctx.depth_func = "<"
        if gpu.shadow_valid[frame]:
            self._shadow.fbo.use()
            self._shadow.fbo.clear(depth=1.0)
            ctx.front_face = SUN_FRONT_FACE
            gpu.draw_shadow_casters(frame)
            ctx.front_face = CAMERA_FRONT_FACE
        targets.scene_fbo.use()
        targets.clear_depth()  # colour attachments are all rewritten below
        self._shadow.texture.use(location=glsl.SHADOW_UNIT)
        gpu.draw_surfaces(frame)
        ctx.depth_func = "<="
        gpu.draw_background()
        targets.resolve(gpu.lamps)

    def release(self) -> None:
        """Free GPU resources (and the context when this renderer created it)."""
        if self._targets is not None:
            self._targets.release()
            self._targets = None
        if self._shadow is not None:
            self._shadow.release()
            self._shadow = None
        self._programs.release()
        if self._owns_context and self.ctx is not None:
            self.ctx.release()
        self.ctx = None
