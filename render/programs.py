"""Compiled shader programs of one GL context, built on first use and cached per instance."""

from __future__ import annotations

import moderngl

from worldclips.render import glsl


class Programs:
    """The raster backend's programs for one context; uniform-block bindings are fixed here."""

    def __init__(self, ctx: moderngl.Context) -> None:
        self._ctx = ctx
        self._cache: dict[tuple, moderngl.Program] = {}

    def _bind_blocks(self, program: moderngl.Program) -> moderngl.Program:
        blocks = (("Frame", glsl.FRAME_BINDING), ("Object", glsl.OBJECT_BINDING), ("Bones", glsl.BONES_BINDING))
        for name, binding in blocks:
            if name in program:
                program[name].binding = binding
        if "shadow_map" in program:
            program["shadow_map"].value = glsl.SHADOW_UNIT
        if "sky_map" in program:
            program["sky_map"].value = glsl.SKY_UNIT
        for name, unit in glsl.MATERIAL_UNITS.items():  # a textured material's images
            if name in program:
                program[name].value = unit
        return program

    def _get(self, key: tuple, build) -> moderngl.Program:
        program = self._cache.get(key)
        if program is None:
            program = self._bind_blocks(build())
            self._cache[key] = program
        return program

    def scene(self, deferred: bool, surface_layers: bool = False, pattern: str = "plain",
              textured: bool = False, lamps: int = 0) -> moderngl.Program:  # fmt: skip
        """Lit colour (or, ``deferred``, the G-buffer) + planar depth + instance id program (+
        normals and neighbour-frame positions) of one surface pattern (Material.pattern), or of a
        PBR texture set (``textured``), also lit by the scene's ``lamps`` lamps (Scene.lamps; one
        program per count; 0 when deferred)."""
        return self._get(
            ("scene", deferred, surface_layers, pattern, textured, lamps),
            lambda: self._ctx.program(
                vertex_shader=glsl.scene_vertex_source(False, surface_layers),
                fragment_shader=glsl.scene_fragment_source(deferred, surface_layers, pattern, textured, lamps),
            ),
        )

    def shadow(self) -> moderngl.Program:
        """Depth-only program of the sun shadow pass."""
        return self._get(
            ("shadow",),
            lambda: self._ctx.program(
                vertex_shader=glsl.scene_vertex_source(True), fragment_shader=glsl.shadow_fragment_source()
            ),
        )

    def skinning(self, bone_capacity: int) -> moderngl.Program:
        """Transform-feedback skinning: rest vertices -> interleaved world positions and normals."""
        return self._get(
            ("skinning", bone_capacity),
            lambda: self._ctx.program(
                vertex_shader=glsl.skinning_vertex_source(bone_capacity), varyings=glsl.SKINNING_VARYINGS
            ),
        )

    def background(self, deferred: bool, surface_layers: bool = False) -> moderngl.Program:
        """Full-screen far-plane triangle: sky colour (deferred: an empty G-buffer), depth 0, id 0
        where nothing was drawn."""
        return self._get(
            ("background", deferred, surface_layers),
            lambda: self._ctx.program(
                vertex_shader=glsl.BACKGROUND_VERTEX,
                fragment_shader=glsl.background_fragment_source(deferred, surface_layers),
            ),
        )

    def occlusion(self) -> moderngl.Program:
        """Screen-space ambient occlusion: (visibility, depth) per output pixel (render.glsl_ao)."""
        program = self._get(
            ("occlusion",),
            lambda: self._ctx.program(vertex_shader=glsl.RESOLVE_VERTEX, fragment_shader=glsl.occlusion_fragment_source()),
        )
        program["big_depth"].value = glsl.RESOLVE_UNITS["big_depth"]
        return program

    def occlusion_blur(self) -> moderngl.Program:
        """The occlusion's depth-weighted blur (render.glsl_ao)."""
        program = self._get(
            ("occlusion blur",),
            lambda: self._ctx.program(vertex_shader=glsl.RESOLVE_VERTEX, fragment_shader=glsl.occlusion_blur_fragment_source()),
        )
        program["occlusion"].value = glsl.RESOLVE_UNITS["occlusion"]
        return program

    def resolve(self, factor: int, surface_layers: bool = False, ambient_occlusion: bool = False, lamps: int = 0) -> moderngl.Program:
        """Supersampling resolve of ``factor`` x ``factor`` samples a pixel: the G-buffer lit per
        output pixel (``lamps`` lamps compiled in), centre-subpixel depth, id (and surface
        layers); with ``ambient_occlusion``, the ambient light times its visibility."""
        program = self._get(
            ("resolve", factor, surface_layers, ambient_occlusion, lamps),
            lambda: self._ctx.program(
                vertex_shader=glsl.RESOLVE_VERTEX,
                fragment_shader=glsl.resolve_fragment_source(factor, surface_layers, ambient_occlusion, lamps),
            ),
        )
        for name, unit in glsl.RESOLVE_UNITS.items():
            if name in program:
                program[name].value = unit
        return program

    def release(self) -> None:
        for program in self._cache.values():
            program.release()
        self._cache.clear()
