"""GLSL sources of the raster backend, assembled from a few #define switches.

Uniform blocks (std140, packed by ``render.uniforms``):
  Frame  (binding 0): camera projection, lights, background, shadow frustum — one range per frame.
  Object (binding 1): transforms, material and instance id of one drawable — one range per frame.
  Bones  (binding 2): skinning matrices of a character — one range per frame (skinning pass).
Fragment outputs: 0 colour (sRGB RGBA8), 1 planar camera z (R32F), 2 instance id (R16UI). The
photographic look (Frame ``look.x`` = 1) adds the analytic sky, aerial perspective, soft shadows
and the filmic tone curve (``render.glsl_photo``); colour is then display-referred before the
sRGB transfer. Depth and ids never depend on the look.

Supersampled (DEFERRED), the scene pass writes a G-buffer instead of colour at location 0
(RGBA32UI, eight half floats: albedo, roughness or 1 + emission, the shading normal and the
receiver's extra shadow offset); the resolve pass lights each output pixel once per surface in it (at
most three: the centre sample's, the first other sample's and the rest) with the mean albedo,
roughness and normal of that surface's samples, rather than lighting all s x s samples. Lighting
is one function (``surface_radiance``) in both paths. The G-buffer keeps no geometric normal: for
normal-mapped textures the deferred path's shadow offset and facing tests use the shading normal.
"""

from __future__ import annotations

from worldclips.render import glsl_ao
from worldclips.render.glsl_photo import NATURAL_PATTERNS, SKY

FRAME_BINDING, OBJECT_BINDING, BONES_BINDING = 0, 1, 2
MAX_LAMPS = 16  # the Frame block's lamp arrays (render.uniforms.MAX_LAMPS)
SHADOW_UNIT, SKY_UNIT = 0, 3
# Texture units of a textured material's images (Material.texture: scenes.textures).
MATERIAL_UNITS = {"color_map": 7, "roughness_map": 8, "normal_map": 9}
MAP_UNITS = {"Color": 7, "Roughness": 8, "NormalGL": 9}  # the same units by the set's map names
# Texture units of the supersampling resolve's inputs (the sky map keeps SKY_UNIT there too).
# SHADOW_UNIT and SKY_UNIT stay bound for the deferred lighting there.
RESOLVE_UNITS = {"big_color": 12, "big_depth": 1, "big_id": 2, "big_normal": 4, "big_next": 5, "big_prev": 6,
                 "occlusion": 11}  # occlusion: ambient occlusion (render.glsl_ao)
# Material.pattern -> the integer surface_albedo() switches on (Object block, info.x).
PATTERN_INDEX = {"plain": 0, "checker": 1, "stripes": 2, "tiles": 3, "noise": 4,
                 "grass": 5, "dirt": 6, "asphalt": 7, "concrete": 8, "planks": 9, "carpet": 10, "plaster": 11}  # fmt: skip

_HEADER = "#version 330 core\n"
_PACKING = "#extension GL_ARB_shading_language_packing : require\n"  # packHalf2x16 (core in GLSL 4.20)

_BLOCKS = """
layout(std140) uniform Frame {
    mat4 clip_from_cam;
    mat4 light_clip_from_world;
    mat4 world_from_pixel;  // world = world_from_pixel * (depth * (u, v, 1), 1)
    vec4 camera_position;
    vec4 sun_direction;
    vec4 sun_color;
    vec4 sky_color;
    vec4 ground_color;
    vec4 background_color;
    vec4 shadow_params;  // normal offset (m), depth bias, texel (uv), shadows valid
    vec4 look;           // photo look on (1) / off (0), exposure, haze distance (m), HDRI map (1) / analytic sky (0)
    vec4 perez_Y;        // Preetham sky: Perez A-D of luminance Y,
    vec4 perez_x;        // of chromaticity x,
    vec4 perez_y;        // of chromaticity y,
    vec4 perez_E;        // their E terms,
    vec4 zenith;         // and zenith value / Perez value at the zenith (Y, x, y)
    mat4 cam_from_world;
    vec4 lamp_info;      // number of ceiling light panels (render.uniforms.MAX_LAMPS at most)
    vec4 lamp_position[16];  // centre of each panel's downward emitting face, its area (m^2)
    vec4 lamp_radiance[16];  // its radiance (rgb)
};
layout(std140) uniform Object {
    mat4 cam_from_object;
    mat4 world_from_object;
    mat4 normal_from_object;
    vec4 base_color;     // rgb, roughness
    vec4 pattern_color;  // rgb, pattern scale
    ivec4 info;          // pattern index, instance id, 1: colours from the vertex tint (outfits), texture maps (1 colour, 2 roughness, 4 normal)
    vec4 receiver;       // extra normal offset (m) of shadow lookups, emission (x albedo)
    mat4 pixel_from_object_next;  // surface layers: frame t+1's vertices -> (u z, v z, z) of the
    mat4 pixel_from_object_prev;  // output image in frame t+1; the same for frame t-1
};
"""

_SCENE_VERTEX = """
in vec3 in_position;
#ifndef SHADOW_PASS
in vec3 in_normal;
in vec2 in_uv;
in vec4 in_tint;     // outfits: linear RGB and roughness of the vertex's body region
in float in_tint_pattern;  // 1 where the material's pattern applies
out vec3 v_normal;
out vec2 v_uv;
out float v_depth;
out vec4 v_tint;
out float v_tint_pattern;
#endif
#ifdef SURFACE_LAYERS
in vec3 in_position_next;  // the same vertex in frame t+1 and t-1 (clamped to the clip)
in vec3 in_position_prev;
out vec3 v_next;
out vec3 v_prev;
#endif

void main() {
    vec4 p = vec4(in_position, 1.0);
#ifdef SHADOW_PASS
    gl_Position = light_clip_from_world * (world_from_object * p);
#else
    vec4 cam = cam_from_object * p;
    gl_Position = clip_from_cam * cam;
    v_depth = cam.z;
    v_normal = mat3(normal_from_object) * in_normal;
    v_uv = in_uv;
    v_tint = in_tint;
    v_tint_pattern = in_tint_pattern;
#endif
#ifdef SURFACE_LAYERS
    v_next = (pixel_from_object_next * vec4(in_position_next, 1.0)).xyz;
    v_prev = (pixel_from_object_prev * vec4(in_position_prev, 1.0)).xyz;
#endif
}
"""

# Linear blend skinning into a buffer by transform feedback, once per frame and character: the
# colour and shadow passes then draw the skinned vertices like any static mesh.
_SKINNING_VERTEX = """
layout(std140) uniform Bones { mat4 bones[MAX_BONES]; };
in vec3 in_position;
in vec3 in_normal;
in ivec4 in_joints;
in vec4 in_weights;
out vec3 out_position;
out vec3 out_normal;

void main() {
    mat4 skin = in_weights.x * bones[in_joints.x] + in_weights.y * bones[in_joints.y]
              + in_weights.z * bones[in_joints.z] + in_weights.w * bones[in_joints.w];
    out_position = (skin * vec4(in_position, 1.0)).xyz;
    out_normal = mat3(skin) * in_normal;
}
"""
SKINNING_VARYINGS = ("out_position", "out_normal")

# Linear -> sRGB transfer, with a 3-sqrt fit for the power segment (Taylor's fit; within 0.25 of an
# 8-bit level of the exact curve and several times cheaper than pow() on a CPU rasterizer).
_SRGB = """
vec3 linear_to_srgb(vec3 linear) {
    vec3 c = clamp(linear, 0.0, 1.0);
    vec3 s1 = sqrt(c);
    vec3 s2 = sqrt(s1);
    vec3 s3 = sqrt(s2);
    vec3 curve = 0.662002687 * s1 + 0.684122060 * s2 - 0.323583601 * s3 - 0.0225411470 * c;
    return mix(12.92 * c, curve, step(vec3(0.0031308), c));
}
"""

_PATTERNS = """
float hash12(vec2 p) {
    vec3 p3 = fract(vec3(p.xyx) * 0.1031);
    p3 += dot(p3, p3.yzx + 33.33);
    return fract((p3.x + p3.y) * p3.z);
}

float value_noise(vec2 p) {
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    float a = hash12(i), b = hash12(i + vec2(1.0, 0.0));
    float c = hash12(i + vec2(0.0, 1.0)), d = hash12(i + vec2(1.0, 1.0));
    return mix(mix(a, b, u.x), mix(c, d, u.x), u.y);
}

// Box-filtered square wave of period 2 (0 on [0, 1), 1 on [1, 2)) integrated over a footprint w.
vec2 filtered_wave(vec2 p, vec2 w) {
    vec2 i = 2.0 * (abs(fract((p - 0.5 * w) * 0.5) - 0.5) - abs(fract((p + 0.5 * w) * 0.5) - 0.5)) / w;
    return 0.5 - 0.5 * i;
}

vec3 natural_albedo(int pattern, vec2 p, vec2 w, vec3 base, vec3 second);  // render.glsl_photo

vec3 surface_albedo(vec2 uv, vec3 base, bool patterned) {
    vec3 second = pattern_color.rgb;
    vec2 p = uv * pattern_color.a;
    vec2 w = max(fwidth(p), vec2(1e-4));
    int pattern = patterned ? SURFACE_PATTERN : 0;  // a constant: each pattern is its own program
    if (pattern >= 5) {
        return natural_albedo(pattern, p, w, base, second);
    } else if (pattern == 1) {          // checker
        vec2 s = filtered_wave(p, w);
        return mix(base, second, s.x + s.y - 2.0 * s.x * s.y);
    } else if (pattern == 2) {   // stripes along u
        return mix(base, second, filtered_wave(p, w).x);
    } else if (pattern == 3) {   // tiles: grout lines in the pattern colour, per-tile variation
        vec2 f = fract(p);
        vec2 edge = min(f, 1.0 - f);
        float grout = 0.04;
        vec2 g = 1.0 - smoothstep(vec2(grout) - w, vec2(grout) + w, edge);
        float line = max(g.x, g.y);
        vec3 tile = base * (0.8 + 0.4 * hash12(floor(p)));
        return mix(tile, second, line);
    } else if (pattern == 4) {   // value noise, three octaves
        float n = 0.5 * value_noise(p) + 0.3 * value_noise(2.03 * p + 17.0) + 0.2 * value_noise(4.01 * p + 31.0);
        return mix(base, second, n);
    }
    return base;
}
"""

# Lighting of one surface point, shared by the forward scene pass and the deferred resolve.
_LIGHTING = """
uniform sampler2DShadow shadow_map;

#ifdef LAMP_COUNT
// Irradiance from a room's light panels (small Lambertian emitters facing down, no shadows), in
// the units of the sun's term: radiance * area * cos(emitter) * cos(receiver) / (pi d^2).
// Compiled only into the programs of scenes with lamps, with their count as a constant: the
// loop unrolls and indexes the Frame block's arrays by constants (llvmpipe shades a loop bound
// read from a uniform, with dynamic array indexing, about a third slower).
vec3 lamp_light(vec3 world, vec3 n, vec3 shading_n) {
    vec3 sum = vec3(0.0);
    for (int i = 0; i < LAMP_COUNT; ++i) {
        vec3 d = lamp_position[i].xyz - world;
        float d2 = max(dot(d, d), 0.01);
        vec3 dir = d * inversesqrt(d2);
        float facing = max(dir.z, 0.0) * max(dot(shading_n, dir), 0.0) * step(0.0, dot(n, dir));
        sum += lamp_radiance[i].rgb * (lamp_position[i].w * facing / (3.14159265 * d2));
    }
    return sum;
}
#endif

float sun_visibility(vec3 world, vec3 n, float extra_offset) {
    vec3 p = world + n * (shadow_params.x + extra_offset);
    vec3 s = (light_clip_from_world * vec4(p, 1.0)).xyz * 0.5 + 0.5;
    if (any(lessThan(s.xy, vec2(0.0))) || any(greaterThan(s.xy, vec2(1.0)))) return 1.0;
    float ref = min(s.z, 1.0) - shadow_params.y;
    return texture(shadow_map, vec3(s.xy, ref));  // one tap: the sampler's 2x2 bilinear PCF
}

// The share of the sun a surface point sees (its shadow map lookup where the sun is in front of
// it). n: geometric normal, shading_n: shading normal, extra_offset: the receiver's extra normal
// offset of shadow lookups (m).
float sun_visible(vec3 world, vec3 n, vec3 shading_n, float extra_offset) {
    vec3 l = sun_direction.xyz;
    float ndl = max(dot(shading_n, l), 0.0) * step(0.0, dot(n, l));
    return (ndl > 0.0 && shadow_params.w > 0.5) ? sun_visibility(world, n, extra_offset) : 1.0;
}

// Linear radiance towards the camera from a surface point (before haze): the sun times its
// visibility (sun_visible) with a normalised Blinn-Phong highlight, the sky and ground hemisphere
// light times ambient_visibility (ambient occlusion; the sun, lamps and emission are not
// occluded), the lamps and the emission. n: geometric normal, shading_n: shading normal.
vec3 surface_radiance(vec3 world, vec3 n, vec3 shading_n, vec3 albedo, float roughness, float emission,
                      float visible, float ambient_visibility) {
    vec3 l = sun_direction.xyz;
    vec3 v = normalize(camera_position.xyz - world);
    float ndl = max(dot(shading_n, l), 0.0) * step(0.0, dot(n, l));
    vec3 ambient = mix(ground_color.rgb, sky_color.rgb, 0.5 + 0.5 * shading_n.z) * ambient_visibility;
    float shininess = exp2(1.0 + 10.0 * (1.0 - roughness));
    vec3 h = normalize(l + v);
    float specular = 0.04 * (1.0 - roughness) * (shininess + 8.0) / 8.0 * pow(max(dot(shading_n, h), 0.0), shininess);
    vec3 sun = sun_color.rgb * (ndl * visible);
#ifdef LAMP_COUNT
    ambient += lamp_light(world, n, shading_n);
#endif
    return albedo * (ambient + sun + emission) + specular * sun;
}

float surface_haze(float dist) {
    return look.x > 0.5 ? haze_amount(dist) : 0.0;
}
"""

_SCENE_FRAGMENT = """
in vec3 v_normal;
in vec2 v_uv;
in float v_depth;
in vec4 v_tint;
in float v_tint_pattern;
#ifdef DEFERRED
// Supersampled: the G-buffer, which the resolve pass lights, as eight half floats (one texel a
// sample for the resolve to fetch): albedo (rgb), roughness (in [0, 1]) or 1 + the emission
// (emitting surfaces: lamp panels, no highlight), the shading normal and the receiver's extra
// normal offset of shadow lookups (m).
layout(location = 0) out uvec4 out_gbuffer;
#else
layout(location = 0) out vec4 out_color;
#endif
layout(location = 1) out float out_depth;
layout(location = 2) out uint out_id;
#ifdef SURFACE_LAYERS
// Surface layers (render.surface_layers): the shading normal in the camera frame, and where the
// surface point seen at this pixel centre lies in the next and previous frames' output images:
// (u, v, z, 1), perspective-correct interpolation of (u z, v z, z) divided per fragment.
in vec3 v_next;
in vec3 v_prev;
layout(location = 3) out vec4 out_normal;
layout(location = 4) out vec4 out_next;
layout(location = 5) out vec4 out_prev;
#endif

#ifdef TEXTURED
uniform sampler2D color_map;
uniform sampler2D roughness_map;
uniform sampler2D normal_map;

vec3 srgb_to_linear(vec3 c) {
    return mix(c / 12.92, pow((c + 0.055) / 1.055, vec3(2.4)), step(vec3(0.04045), c));
}

// The NormalGL image's normal (+Y up in the image) in the frame of the surface's uv, from screen
// derivatives (a cotangent frame: no tangents stored with the mesh). Window y runs down the
// image here (gl_FragCoord = pixel + 0.5), which mirrors the screen: the cross products take
// the other order than in a y-up window.
vec3 mapped_normal(vec3 n, vec3 world, vec2 uv) {
    vec3 dp1 = dFdx(world), dp2 = dFdy(world);
    vec2 duv1 = dFdx(uv), duv2 = dFdy(uv);
    vec3 dp2perp = cross(n, dp2), dp1perp = cross(dp1, n);
    vec3 t = dp2perp * duv1.x + dp1perp * duv2.x;
    vec3 b = dp2perp * duv1.y + dp1perp * duv2.y;
    float scale = inversesqrt(max(max(dot(t, t), dot(b, b)), 1e-20));
    vec3 m = texture(normal_map, uv).xyz * 2.0 - 1.0;
    return normalize(mat3(t * scale, b * scale, n) * m);
}
#endif

void main() {
    // Pixel centre (u, v) = gl_FragCoord.xy - 0.5 (see conventions.gl_clip_from_cam).
    vec3 world = (world_from_pixel * vec4(v_depth * vec3(gl_FragCoord.xy - 0.5, 1.0), 1.0)).xyz;
    vec3 n = normalize(v_normal);
    if (!gl_FrontFacing) n = -n;
    bool tinted = info.z == 1;
#ifdef TEXTURED
    vec2 tp = v_uv * pattern_color.a;  // pattern_color.a: 1 / the metres one image spans
    vec3 albedo = base_color.rgb * srgb_to_linear(texture(color_map, tp).rgb);
    float roughness = (info.w & 2) != 0 ? texture(roughness_map, tp).r : clamp(base_color.a, 0.0, 1.0);
    vec3 shading_n = (info.w & 4) != 0 ? mapped_normal(n, world, tp) : n;  // colour only: layers keep n
#else
    vec3 albedo = surface_albedo(v_uv, tinted ? v_tint.rgb : base_color.rgb, !tinted || v_tint_pattern > 0.5);
    float roughness = clamp(tinted ? v_tint.a : base_color.a, 0.0, 1.0);
    vec3 shading_n = n;
#endif
#ifdef DEFERRED
    out_gbuffer = uvec4(packHalf2x16(albedo.rg), packHalf2x16(vec2(albedo.b, receiver.y > 0.0 ? 1.0 + receiver.y : roughness)),
                        packHalf2x16(shading_n.xy), packHalf2x16(vec2(shading_n.z, receiver.x)));
#else
    vec3 linear = surface_radiance(world, n, shading_n, albedo, roughness, receiver.y,
                                   sun_visible(world, n, shading_n, receiver.x), 1.0);
    if (look.x > 0.5) {
        float haze = haze_amount(distance(world, camera_position.xyz));
        linear = filmic(mix(linear, far_radiance(normalize(world - camera_position.xyz)), haze));
    }
    out_color = vec4(linear_to_srgb(linear), 1.0);
#endif
    out_depth = v_depth;
    out_id = uint(info.y);
#ifdef SURFACE_LAYERS
    vec3 facing = dot(n, camera_position.xyz - world) < 0.0 ? -n : n;  // interpolated normals near silhouettes may lean away
    out_normal = vec4(mat3(cam_from_world) * facing, 1.0);
    out_next = vec4(v_next.xy / v_next.z, v_next.z, 1.0);
    out_prev = vec4(v_prev.xy / v_prev.z, v_prev.z, 1.0);
#endif
}
"""

_SHADOW_FRAGMENT = """
void main() {}
"""

BACKGROUND_VERTEX = _HEADER + """
void main() {
    vec2 corner = vec2(float((gl_VertexID & 1) * 4 - 1), float((gl_VertexID & 2) * 2 - 1));
    gl_Position = vec4(corner, 1.0, 1.0);  // a full-screen triangle on the far plane
}
"""


def _defines(**flags) -> str:
    return "".join(f"#define {name} {'' if value is True else value}\n" for name, value in flags.items() if value)


def scene_vertex_source(shadow_pass: bool, surface_layers: bool = False) -> str:
    return _HEADER + _defines(SHADOW_PASS=shadow_pass, SURFACE_LAYERS=surface_layers) + _BLOCKS + _SCENE_VERTEX


def skinning_vertex_source(max_bones: int) -> str:
    return _HEADER + _defines(MAX_BONES=max_bones) + _SKINNING_VERTEX


def scene_fragment_source(deferred: bool, surface_layers: bool = False, pattern: str = "plain",
                          textured: bool = False, lamps: int = 0) -> str:  # fmt: skip
    """The scene fragment shader of one surface pattern (Material.pattern), or of a PBR texture
    set (``textured``: MATERIAL_UNITS), lit by the first ``lamps`` lamps of the Frame block (0:
    none): the pattern and the lamp count are compiled in rather than switched on at run time,
    as llvmpipe would shade every pattern's branch and index the lamp arrays dynamically.
    ``deferred`` (supersampling): writes the G-buffer, unlit (``lamps`` must be 0; the resolve
    pass lights)."""
    if pattern not in PATTERN_INDEX:
        raise ValueError(f"pattern: expected one of {sorted(PATTERN_INDEX)}, got {pattern!r}")
    if not (isinstance(lamps, int) and 0 <= lamps <= MAX_LAMPS) or (deferred and lamps):
        raise ValueError(f"lamps: expected a lamp count in 0..{MAX_LAMPS} (0 when deferred), got {lamps!r}")
    defines = _defines(DEFERRED=deferred, SURFACE_LAYERS=surface_layers, SURFACE_PATTERN=str(PATTERN_INDEX[pattern]),
                       TEXTURED=textured, LAMP_COUNT=str(lamps) if lamps else False)  # fmt: skip
    return _HEADER + _PACKING + defines + _BLOCKS + _SRGB + SKY + _PATTERNS + NATURAL_PATTERNS + _LIGHTING + _SCENE_FRAGMENT


def shadow_fragment_source() -> str:
    return _HEADER + _SHADOW_FRAGMENT


_SURFACE_OUTPUTS = """
#ifdef SURFACE_LAYERS
layout(location = 3) out vec4 out_normal;
layout(location = 4) out vec4 out_next;
layout(location = 5) out vec4 out_prev;
#endif
"""


def background_fragment_source(deferred: bool, surface_layers: bool = False) -> str:
    defines = _defines(DEFERRED=deferred, SURFACE_LAYERS=surface_layers)
    return _HEADER + defines + _BLOCKS + _SRGB + SKY + _SURFACE_OUTPUTS + """
#ifdef DEFERRED
layout(location = 0) out uvec4 out_gbuffer;
#else
layout(location = 0) out vec4 out_color;
#endif
layout(location = 1) out float out_depth;
layout(location = 2) out uint out_id;
void main() {
#ifdef DEFERRED
    out_gbuffer = uvec4(0u);  // id 0 marks the sky: the resolve pass draws it once per pixel
#else
    vec3 c = clamp(background_color.rgb, 0.0, 1.0);
    if (look.x > 0.5) c = filmic(sky_with_sun(gl_FragCoord.xy - 0.5));
    out_color = vec4(linear_to_srgb(c), 1.0);
#endif
    out_depth = 0.0;
    out_id = 0u;
#ifdef SURFACE_LAYERS
    out_normal = out_next = out_prev = vec4(0.0);  // w = 0: no surface
#endif
}
"""


RESOLVE_VERTEX = BACKGROUND_VERTEX

# Deferred lighting and resolve, once per output pixel of the supersampled G-buffer. The Frame
# block of the frame is still bound (world_from_pixel maps the big raster's pixels), and so are
# the sun's shadow map and the sky map. The pixel's s x s samples fall into the sky (id 0), the
# centre sample's surface (same instance id, shading normal within about 25 degrees), the first
# other sample's surface (likewise) and the rest; each non-empty one is lit once, at the centre
# sample or at its first sample, with the mean albedo, roughness and normal of its samples, and
# weighted by its share of the samples: anti-aliased edges and texture detail for one to three
# lightings a pixel instead of s x s. Depth, ids and the surface layers are the centre sample's,
# exactly the output pixel centre's.
_RESOLVE_FRAGMENT = _BLOCKS + _SRGB + SKY + _LIGHTING + _SURFACE_OUTPUTS + """
#ifdef SURFACE_LAYERS
uniform sampler2D big_normal;
uniform sampler2D big_next;
uniform sampler2D big_prev;
#endif
#ifdef AMBIENT_OCCLUSION
AMBIENT_FUNCTIONS
#endif
uniform usampler2D big_color;  // the G-buffer (out_gbuffer of the scene pass)
uniform sampler2D big_depth;
uniform usampler2D big_id;
const int factor = FACTOR;  // compiled in: llvmpipe unrolls the sample loops and fetches at constant offsets
layout(location = 0) out vec4 out_color;
layout(location = 1) out float out_depth;
layout(location = 2) out uint out_id;

// The sun's visibility over the output pixel on the plane of a surface (point world, normal n):
// shadow lookups where a rotated grid of four rays across the pixel meets that plane (two where
// the first two agree), so that a shadow edge is anti-aliased without a lookup per sample.
// centre: the pixel's centre sample.
float sun_visible_in_pixel(vec3 world, vec3 n, float extra_offset, vec2 centre) {
    vec3 eye = camera_position.xyz;
    float height = dot(n, world - eye);
    float sum = 0.0, first = 0.0;
    int taps = 2;  // two opposite ones first; the other two only where those differ (a loop bound:
    for (int k = 0; k < taps; ++k) {  // llvmpipe skips them for blocks of pixels away from shadow edges)
        vec2 o = k == 0 ? vec2(-0.125, -0.375) : (k == 1 ? vec2(0.125, 0.375) : (k == 2 ? vec2(0.375, -0.125) : vec2(-0.375, 0.125)));
        vec3 ray = (world_from_pixel * vec4(centre + o * float(factor), 1.0, 1.0)).xyz - eye;
        float along = dot(n, ray);
        float t = abs(along) > 1e-6 * length(ray) ? height / along : -1.0;  // in front of the eye only
        vec3 point = t > 0.0 ? eye + ray * t : world;
        float visible = sun_visible(distance(point, world) < 1.0 ? point : world, n, n, extra_offset);
        sum += visible;
        if (k == 0) first = visible;
        if (k == 1 && abs(visible - first) > 0.01) taps = 4;
    }
    return sum / float(taps);
}

void main() {
    ivec2 pixel = ivec2(gl_FragCoord.xy);
    ivec2 origin = pixel * factor;
    ivec2 centre = origin + ivec2(factor / 2);
    float centre_z = texelFetch(big_depth, centre, 0).r;
    uint centre_id = texelFetch(big_id, centre, 0).r;
    uvec4 centre_gbuffer = texelFetch(big_color, centre, 0);
    vec3 centre_normal = vec3(unpackHalf2x16(centre_gbuffer.z), unpackHalf2x16(centre_gbuffer.w).x);
    // surfaces a (the centre sample's), b (the first other one's) and c (the rest): summed (albedo,
    // roughness or 1 + emission), summed shading normals, sample counts, the sample each is lit at
    vec4 material_a = vec4(0.0), material_b = vec4(0.0), material_c = vec4(0.0);
    vec3 normal_a = vec3(0.0), normal_c = vec3(0.0), normal_sum_b = vec3(0.0);  // summed shading normals
    float count_a = 0.0, count_b = 0.0, count_c = 0.0, sky = 0.0;
    ivec2 first_b = centre, first_c = centre;
    uint id_b = 0u;
    vec3 normal_b = vec3(0.0);
    for (int y = 0; y < factor; ++y)
        for (int x = 0; x < factor; ++x) {
            ivec2 p = origin + ivec2(x, y);
            uint id = texelFetch(big_id, p, 0).r;  // 0: nothing drawn (render.gpu_scene ids are 1..65535)
            uvec4 g = texelFetch(big_color, p, 0);
            vec4 material = vec4(unpackHalf2x16(g.x), unpackHalf2x16(g.y));  // albedo, roughness or 1 + emission
            vec4 shading = vec4(unpackHalf2x16(g.z), unpackHalf2x16(g.w));   // shading normal, extra shadow offset
            if (id == 0u) {
                sky += 1.0;
            } else if (id == centre_id && dot(shading.xyz, centre_normal) > 0.9) {
                material_a += material;
                normal_a += shading.xyz;
                count_a += 1.0;
            } else if (count_b == 0.0 || (id == id_b && dot(shading.xyz, normal_b) > 0.9)) {
                if (count_b == 0.0) {
                    first_b = p;
                    id_b = id;
                    normal_b = shading.xyz;
                }
                material_b += material;
                normal_sum_b += shading.xyz;
                count_b += 1.0;
            } else {
                if (count_c == 0.0) first_c = p;
                material_c += material;
                normal_c += shading.xyz;
                count_c += 1.0;
            }
        }
    vec3 linear = vec3(0.0);
    float haze_share = 0.0;
#ifdef AMBIENT_OCCLUSION  // one estimate a pixel, at its centre's surface (or the other one's)
    float visibility = ambient_visibility(pixel, centre_z > 0.0 ? centre_z : texelFetch(big_depth, first_b, 0).r);
#else
    float visibility = 1.0;
#endif
    // Loop bounds rather than branches: llvmpipe runs a block of pixels through both sides of a
    // branch, but leaves a loop once no pixel of the block needs another turn.
    int surfaces = count_c > 0.0 ? 3 : (count_b > 0.0 ? 2 : (count_a > 0.0 ? 1 : 0));  // 0: all sky
    for (int s = 0; s < surfaces; ++s) {
        float count = s == 0 ? count_a : (s == 1 ? count_b : count_c);
        if (count == 0.0) continue;  // the centre is sky: no surface a (its position would be the eye)
        ivec2 p = s == 0 ? centre : (s == 1 ? first_b : first_c);
        vec4 material = (s == 0 ? material_a : (s == 1 ? material_b : material_c)) / count;
        float z = texelFetch(big_depth, p, 0).r;
        vec3 n = normalize((s == 0 ? normal_a : (s == 1 ? normal_sum_b : normal_c)) + vec3(0.0, 0.0, 1e-12));
        vec3 world = (world_from_pixel * vec4(z * vec3(vec2(p), 1.0), 1.0)).xyz;
        float sun = sun_visible_in_pixel(world, n, unpackHalf2x16(texelFetch(big_color, p, 0).w).y, vec2(centre));
        vec3 radiance = surface_radiance(world, n, n, material.rgb, min(material.a, 1.0), max(material.a - 1.0, 0.0),
                                         sun, visibility);
        float haze = surface_haze(distance(world, camera_position.xyz));
        float share = count / float(factor * factor);
        linear += share * (1.0 - haze) * max(radiance, vec3(0.0));
        haze_share += share * haze;
    }
    float sky_share = sky / float(factor * factor);
    if (look.x > 0.5) {
        float far_share = haze_share + sky_share;  // the sky, or the far radiance through the haze
        int far_turns = far_share > 1.0 / 1024.0 ? 1 : 0;  // indoors: no sky, next to no haze
        for (int i = 0; i < far_turns; ++i) linear += far_share * sky_with_sun(vec2(centre));
        linear = filmic(linear);
    } else {
        linear += sky_share * clamp(background_color.rgb, 0.0, 1.0);
    }
    out_color = vec4(linear_to_srgb(linear), 1.0);
    out_depth = centre_z;
    out_id = centre_id;
#ifdef SURFACE_LAYERS
    out_normal = texelFetch(big_normal, centre, 0);
    out_next = texelFetch(big_next, centre, 0);
    out_prev = texelFetch(big_prev, centre, 0);
#endif
}
"""


def resolve_fragment_source(factor: int, surface_layers: bool = False, ambient_occlusion: bool = False, lamps: int = 0) -> str:
    """The supersampled path's deferred lighting and resolve of ``factor`` x ``factor`` samples a
    pixel, lit by ``lamps`` lamps (both compiled in)."""
    if not (isinstance(lamps, int) and 0 <= lamps <= MAX_LAMPS):
        raise ValueError(f"lamps: expected a lamp count in 0..{MAX_LAMPS}, got {lamps!r}")
    if not (isinstance(factor, int) and factor > 1 and factor % 2 == 1):
        raise ValueError(f"factor: expected an odd supersampling factor > 1, got {factor!r}")
    source = _RESOLVE_FRAGMENT.replace("AMBIENT_FUNCTIONS", glsl_ao.RESOLVE_FUNCTIONS)
    defines = _defines(SURFACE_LAYERS=surface_layers, AMBIENT_OCCLUSION=ambient_occlusion, LAMP_COUNT=str(lamps) if lamps else False,
                       FACTOR=str(factor))  # fmt: skip
    return _HEADER + _PACKING + defines + source


def occlusion_fragment_source() -> str:
    """The ambient occlusion pass (render.glsl_ao): (visibility, depth) per 2 x 2 output pixels."""
    return _HEADER + _BLOCKS + glsl_ao.OCCLUSION_FRAGMENT


def occlusion_blur_fragment_source() -> str:
    """The depth-weighted 4 x 4 blur of the occlusion (render.glsl_ao)."""
    return _HEADER + glsl_ao.BLUR_FRAGMENT
