"""Framebuffers of the raster backend: colour + planar depth + instance id, and the sun shadow map.

The main framebuffer has three colour attachments (location 0: colour, 1: R32F planar camera z,
2: R16UI instance id) and a depth renderbuffer for the z-test; with the surface layers three more
(3: camera-frame normal, 4 and 5: the surface point's (u, v, z) in the next and previous frames,
all RGBA32F, w = 1 where a surface was drawn). With supersampling (an odd factor s) the scene is
drawn at s times the size as a G-buffer (location 0 then holds, as eight half floats in
RGBA32UI, albedo, roughness or emission, the shading normal and the receiver's extra shadow
offset), and a resolve pass lights it per output pixel (render.glsl) while taking depth and id
from the middle subpixel, which sits exactly on the output pixel centre. With ambient occlusion (supersampled
photo look, render.glsl_ao) an occlusion pass and its blur fill half-output-sized (visibility,
depth) textures from the depth attachment before the resolve.
"""

from __future__ import annotations

import moderngl
import numpy as np

from worldclips.render import glsl
from worldclips.render.programs import Programs


def _nearest(texture: moderngl.Texture) -> moderngl.Texture:
    texture.filter = (moderngl.NEAREST, moderngl.NEAREST)
    texture.repeat_x = texture.repeat_y = False
    return texture


class ImageTargets:
    """Main and (when supersampling) output framebuffers of one image size."""

    def __init__(
        self, ctx: moderngl.Context, programs: Programs, width: int, height: int, supersample: int, surface_layers: bool = False,
        ambient_occlusion: bool = False,
    ) -> None:
        if width < 1 or height < 1:
            raise ValueError(f"image size: expected positive width and height, got {width}x{height}")
        limit = int(ctx.info.get("GL_MAX_TEXTURE_SIZE", 8192))
        if max(width, height) * supersample > limit:
            raise ValueError(f"image size {width}x{height} x{supersample} exceeds GL_MAX_TEXTURE_SIZE {limit}")
        self.width, self.height, self.supersample = width, height, supersample
        self.surface_layers = bool(surface_layers)
        self.ambient_occlusion = bool(ambient_occlusion) and supersample > 1
        self._resources: list = []
        big = (width * supersample, height * supersample)
        color_dtype = "f1" if supersample == 1 else "u4"  # supersampled: the G-buffer (render.glsl)
        self._color = self._keep(_nearest(ctx.texture(big, 4, dtype=color_dtype)))
        self._depth = self._keep(_nearest(ctx.texture(big, 1, dtype="f4")))
        self._ids = self._keep(_nearest(ctx.texture(big, 1, dtype="u2")))
        self._surface = [self._keep(_nearest(ctx.texture(big, 4, dtype="f4"))) for _ in range(3 * surface_layers)]
        zbuffer = self._keep(ctx.depth_renderbuffer(big))
        self.scene_fbo = self._keep(ctx.framebuffer([self._color, self._depth, self._ids, *self._surface], zbuffer))
        self._ctx, self._programs = ctx, programs
        self._resolve_vaos: dict[int, moderngl.VertexArray] = {}  # lamp count -> the resolve pass
        self._occlusion_vao = None
        self.output_fbo = self.scene_fbo
        if supersample > 1:
            small = (width, height)
            outputs = [
                self._keep(_nearest(ctx.texture(small, 4, dtype="f1"))),
                self._keep(_nearest(ctx.texture(small, 1, dtype="f4"))),
                self._keep(_nearest(ctx.texture(small, 1, dtype="u2"))),
                *[self._keep(_nearest(ctx.texture(small, 4, dtype="f4"))) for _ in range(3 * surface_layers)],
            ]
            self.output_fbo = self._keep(ctx.framebuffer(outputs))
            if self.ambient_occlusion:
                half = ((width + 1) // 2, (height + 1) // 2)
                self._occlusion = self._keep(_nearest(ctx.texture(half, 2, dtype="f4")))
                self._occlusion_fbo = self._keep(ctx.framebuffer([self._occlusion]))
                self._blurred = self._keep(_nearest(ctx.texture(half, 2, dtype="f4")))
                self._blurred_fbo = self._keep(ctx.framebuffer([self._blurred]))
                occlusion = programs.occlusion()
                occlusion["factor"].value = supersample
                self._occlusion_vao = self._keep(ctx.vertex_array(occlusion, []))
                self._blur_vao = self._keep(ctx.vertex_array(programs.occlusion_blur(), []))

    def clear_depth(self) -> None:
        """Clear the scene framebuffer's z-buffer only: every colour attachment is rewritten each
        frame (surfaces, then the background wherever nothing was drawn), and clearing them at the
        supersampled size costs a CPU rasterizer about a millisecond a frame."""
        fbo = self.scene_fbo
        mask = fbo.color_mask
        fbo.color_mask = tuple((False, False, False, False) for _ in range(len(fbo.color_attachments)))
        fbo.clear(depth=1.0)
        fbo.color_mask = mask

    def _keep(self, resource):
        self._resources.append(resource)
        return resource

    def _resolve_vao(self, lamps: int) -> moderngl.VertexArray:
        vao = self._resolve_vaos.get(lamps)
        if vao is None:
            program = self._programs.resolve(self.supersample, self.surface_layers, self.ambient_occlusion, lamps)
            vao = self._resolve_vaos[lamps] = self._keep(self._ctx.vertex_array(program, []))
        return vao

    def resolve(self, lamps: int = 0) -> None:
        """Supersampling only: light the G-buffer per output pixel with the Frame block's first
        ``lamps`` lamps (the shadow and sky maps still bound), pick the centre depth and id."""
        if self.supersample == 1:
            return
        if self._occlusion_vao is not None:
            self._occlusion_fbo.use()
            self._depth.use(location=glsl.RESOLVE_UNITS["big_depth"])
            self._occlusion_vao.render(moderngl.TRIANGLES, vertices=3)
            self._blurred_fbo.use()
            self._occlusion.use(location=glsl.RESOLVE_UNITS["occlusion"])
            self._blur_vao.render(moderngl.TRIANGLES, vertices=3)
            self._blurred.use(location=glsl.RESOLVE_UNITS["occlusion"])
        self.output_fbo.use()
        self._color.use(location=glsl.RESOLVE_UNITS["big_color"])
        self._depth.use(location=glsl.RESOLVE_UNITS["big_depth"])
        self._ids.use(location=glsl.RESOLVE_UNITS["big_id"])
        for texture, name in zip(self._surface, ("big_normal", "big_next", "big_prev")):
            texture.use(location=glsl.RESOLVE_UNITS[name])
        self._resolve_vao(lamps).render(moderngl.TRIANGLES, vertices=3)

    def read_into(self, rgb: np.ndarray, depth: np.ndarray, segmentation: np.ndarray) -> None:
        """Read the output images into preallocated C-contiguous (H, W, 3) uint8, (H, W) float32, (H, W) uint16."""
        fbo = self.output_fbo
        fbo.read_into(rgb, components=3, attachment=0, alignment=1, dtype="f1")
        fbo.read_into(depth, components=1, attachment=1, alignment=1, dtype="f4")
        fbo.read_into(segmentation, components=1, attachment=2, alignment=1, dtype="u2")

    def read_surface_into(self, normal: np.ndarray, next_uvz: np.ndarray, prev_uvz: np.ndarray) -> None:
        """Surface layers only: read (H, W, 4) float32 normal (xyz, 1 where a surface was drawn) and
        the (u, v, z, 1) of each pixel's surface point in the next and previous frames."""
        for attachment, out in ((3, normal), (4, next_uvz), (5, prev_uvz)):
            self.output_fbo.read_into(out, components=4, attachment=attachment, alignment=1, dtype="f4")

    def release(self) -> None:
        for resource in reversed(self._resources):
            resource.release()
        self._resources.clear()


class ShadowTarget:
    """A square depth texture for the sun, sampled with hardware depth comparison (PCF)."""

    def __init__(self, ctx: moderngl.Context, size: int) -> None:
        if size < 1:
            raise ValueError(f"shadow_map_size: expected a positive size, got {size}")
        self.size = size
        self.texture = ctx.depth_texture((size, size))
        self.texture.compare_func = "<="
        self.texture.filter = (moderngl.LINEAR, moderngl.LINEAR)
        self.texture.repeat_x = self.texture.repeat_y = False
        self.fbo = ctx.framebuffer(depth_attachment=self.texture)

    def release(self) -> None:
        self.fbo.release()
        self.texture.release()
