"""GLSL of the photographic look's screen-space ambient occlusion (raster backend).

Supersampled only (the deferred path of ``render.glsl``). Once per
output pixel, the occlusion pass reads the planar depth around the pixel's centre sample (the
same depth the depth layer is), rebuilds world positions and a normal from it, and estimates how
much of the hemisphere above the surface nearby geometry hides (McGuire et al.'s scalable
ambient obscurance estimator, "Scalable Ambient Obscurance", HPG 2012: a spiral of samples in a
disc of AO_RADIUS_M metres, turned per pixel in a 4 x 4 pattern), at half the output resolution
(one estimate per 2 x 2 output pixels: occlusion varies slowly). A blur pass averages it over
those 4 x 4 half-resolution pixels, weighted by depth so that it does not bleed across
silhouettes; the resolve pass upsamples it (bilinear, weighted by depth again) and multiplies
the ambient (sky and ground hemisphere) light of the surfaces it lights by it. Depth, ids and every other
layer are untouched; the sun and the lamps are not occluded (the sun has its shadow map).

Needs the Frame block of ``render.glsl`` (``world_from_pixel``, ``clip_from_cam``,
``camera_position``).
"""

from __future__ import annotations

AO_RADIUS_M = 0.5  # world radius of the occlusion samples
AO_SAMPLES = 8  # samples per estimate (x 16 turns across the blur's 4 x 4 estimates)
AO_INTENSITY = 0.5  # visibility ~0.3-0.4 in the crease where a box meets the ground
AO_BIAS_M = 0.02  # ignores occluders this close to the tangent plane (depth reconstruction noise)
AO_MAX_RADIUS_PX = 48.0  # the disc in output pixels at most (close to the camera)

_CONSTANTS = f"""
const float AO_RADIUS_M = {AO_RADIUS_M};
const int AO_SAMPLES = {AO_SAMPLES};
const float AO_INTENSITY = {AO_INTENSITY};
const float AO_BIAS_M = {AO_BIAS_M};
const float AO_MAX_RADIUS_PX = {AO_MAX_RADIUS_PX};
"""

# Occlusion pass: one fragment per 2 x 2 output pixels (the top left one's centre sample),
# writing (visibility of the ambient light, depth).
OCCLUSION_FRAGMENT = _CONSTANTS + """
uniform sampler2D big_depth;
uniform int factor;
layout(location = 0) out vec2 out_occlusion;

vec3 world_at(ivec2 p, float z) {
    return (world_from_pixel * vec4(z * vec3(vec2(p), 1.0), 1.0)).xyz;
}

float depth_at(ivec2 p, ivec2 size) {
    return texelFetch(big_depth, clamp(p, ivec2(0), size - 1), 0).r;
}

void main() {
    ivec2 pixel = ivec2(gl_FragCoord.xy);
    ivec2 size = textureSize(big_depth, 0);
    ivec2 c = pixel * (2 * factor) + ivec2(factor / 2);
    float z = depth_at(c, size);
    if (z <= 0.0) {  // sky
        out_occlusion = vec2(1.0, 0.0);
        return;
    }
    vec3 p = world_at(c, z);
    // The normal from the neighbouring samples on the side where depth changes least (so that a
    // silhouette next to the pixel does not bend it).
    float zr = depth_at(c + ivec2(1, 0), size), zl = depth_at(c - ivec2(1, 0), size);
    float zd = depth_at(c + ivec2(0, 1), size), zu = depth_at(c - ivec2(0, 1), size);
    vec3 dx = abs(zr - z) < abs(zl - z) ? world_at(c + ivec2(1, 0), zr) - p : p - world_at(c - ivec2(1, 0), zl);
    vec3 dy = abs(zd - z) < abs(zu - z) ? world_at(c + ivec2(0, 1), zd) - p : p - world_at(c - ivec2(0, 1), zu);
    vec3 n = cross(dx, dy);
    float length2 = dot(n, n);
    if (length2 < 1e-20) {
        out_occlusion = vec2(1.0, z);
        return;
    }
    n *= inversesqrt(length2);
    if (dot(n, camera_position.xyz - p) < 0.0) n = -n;

    float focal = abs(clip_from_cam[0][0]) * 0.5 * float(size.x);  // big-raster pixels per metre at z = 1
    float radius_px = min(AO_RADIUS_M * focal / z, AO_MAX_RADIUS_PX * float(factor));  // big-raster pixels
    if (radius_px < 1.0) {
        out_occlusion = vec2(1.0, z);
        return;
    }
    float turn = 6.28318531 * (float((pixel.x & 3) * 4 + (pixel.y & 3)) + 0.5) / 16.0;
    mat2 rotation = mat2(cos(turn), sin(turn), -sin(turn), cos(turn));
    float r2 = AO_RADIUS_M * AO_RADIUS_M;
    float sum = 0.0;
    for (int i = 0; i < AO_SAMPLES; ++i) {
        float alpha = (float(i) + 0.5) / float(AO_SAMPLES);
        float angle = alpha * 6.28318531 * 3.0;  // three turns of the spiral (constants once unrolled)
        ivec2 q = c + ivec2(round(rotation * (alpha * radius_px * vec2(cos(angle), sin(angle)))));
        float zq = depth_at(q, size);
        if (zq <= 0.0) continue;  // sky hides nothing
        vec3 v = world_at(q, zq) - p;
        float vv = dot(v, v);
        float f = max(r2 - vv, 0.0);
        sum += f * f * f * max((dot(v, n) - AO_BIAS_M) / (vv + 0.01), 0.0);
    }
    float visibility = max(0.0, 1.0 - sum * AO_INTENSITY / (r2 * r2 * r2) * (5.0 / float(AO_SAMPLES)));
    out_occlusion = vec2(visibility, z);
}
"""

# Blur pass (half resolution): the 4 x 4 depth-weighted mean, which covers the 16 turns.
BLUR_FRAGMENT = """
uniform sampler2D occlusion;
layout(location = 0) out vec2 out_occlusion;

void main() {
    ivec2 pixel = ivec2(gl_FragCoord.xy);
    vec2 centre = texelFetch(occlusion, pixel, 0).rg;
    if (centre.y <= 0.0) {
        out_occlusion = centre;
        return;
    }
    ivec2 size = textureSize(occlusion, 0);
    float sum = 0.0, weight = 0.0;
    for (int y = -2; y < 2; ++y)
        for (int x = -2; x < 2; ++x) {
            vec2 s = texelFetch(occlusion, clamp(pixel + ivec2(x, y), ivec2(0), size - 1), 0).rg;
            float w = max(0.0, 1.0 - abs(s.y - centre.y) / (0.05 * centre.y));
            sum += w * s.x;
            weight += w;
        }
    out_occlusion = vec2(sum / weight, centre.y);  // the centre's own weight is 1
}
"""

# Resolve helpers: the blurred half-resolution occlusion at an output pixel of depth z, from the
# four nearest estimates, bilinear weights times depth similarity.
RESOLVE_FUNCTIONS = """
uniform sampler2D occlusion;

float ambient_visibility(ivec2 pixel, float z) {
    if (z <= 0.0) return 1.0;
    ivec2 size = textureSize(occlusion, 0);
    vec2 h = vec2(pixel) * 0.5;  // half-resolution texel i holds output pixel 2 i
    ivec2 base = ivec2(floor(h));
    vec2 f = h - vec2(base);
    float sum = 0.0, weight = 0.0;
    for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 2; ++x) {
            vec2 s = texelFetch(occlusion, min(base + ivec2(x, y), size - 1), 0).rg;
            float w = (x == 0 ? 1.0 - f.x : f.x) * (y == 0 ? 1.0 - f.y : f.y);
            w *= max(0.0, 1.0 - abs(s.y - z) / (0.05 * z)) + 1e-4;
            sum += w * s.x;
            weight += w;
        }
    return sum / weight;
}
"""
