"""GLSL of the photographic look: the analytic daylight sky, aerial perspective, the filmic tone
curve and the natural surface patterns (grass, dirt, asphalt, concrete, wood floor, carpet).

Needs the Frame block of ``render.glsl`` (``look``, ``perez_*``, ``zenith``, ``sun_direction``,
``sun_color``). The sky is Preetham, Shirley and Smits' model ("A practical analytic model for
daylight", 1999): Perez distributions of luminance Y and chromaticities x, y, their coefficients
and zenith values computed per clip on the CPU (``render.sky``).
"""

from __future__ import annotations

SKY = """
float perez(vec4 abcd, float e, float cos_theta, float gamma, float cos_gamma) {
    return (1.0 + abcd.x * exp(abcd.y / max(cos_theta, 0.02)))
         * (1.0 + abcd.z * exp(abcd.w * gamma) + e * cos_gamma * cos_gamma);
}

uniform sampler2D sky_map;  // an HDRI map in Blender's equirectangular layout (look.w = 1)

// Linear sRGB radiance of the sky in world direction d (unit); below the horizon, the horizon's.
vec3 sky_radiance(vec3 d) {
    d = normalize(vec3(d.xy, max(d.z, 0.0)) + vec3(0.0, 0.0, 1e-4));
    if (look.w > 0.5) {
        vec2 uv = vec2(0.5 - atan(d.y, d.x) / 6.28318531, 0.5 + asin(d.z) / 3.14159265);
        return textureLod(sky_map, uv, 0.0).rgb;
    }
    float cos_gamma = clamp(dot(d, sun_direction.xyz), -1.0, 1.0);
    float gamma = acos(cos_gamma);
    float Y = zenith.x * perez(perez_Y, perez_E.x, d.z, gamma, cos_gamma);
    float x = zenith.y * perez(perez_x, perez_E.y, d.z, gamma, cos_gamma);
    float y = zenith.z * perez(perez_y, perez_E.z, d.z, gamma, cos_gamma);
    vec3 XYZ = vec3(x / y * Y, Y, (1.0 - x - y) / y * Y);
    vec3 rgb = mat3(3.2406, -0.9689, 0.0557, -1.5372, 1.8758, -0.2040, -0.4986, 0.0415, 1.0570) * XYZ;
    return max(rgb, vec3(0.0));
}

const float MAP_CAMERA_HEIGHT_M = 1.7;  // where an HDRI map is taken to have been shot from

// What is seen far away in direction d: the sky, or in an HDRI map below the horizon, the map's
// own ground where the ray meets z = 0 (the map projected onto the ground from its camera height),
// so that our ground fades into the map's ground instead of its horizon.
vec3 far_radiance(vec3 d) {
    if (look.w < 0.5 || d.z >= -1e-4) return sky_radiance(d);
    vec3 ground = camera_position.xyz - d * (camera_position.z / d.z);
    vec3 m = normalize(ground - vec3(0.0, 0.0, MAP_CAMERA_HEIGHT_M));
    vec2 uv = vec2(0.5 - atan(m.y, m.x) / 6.28318531, 0.5 + asin(m.z) / 3.14159265);
    return textureLod(sky_map, uv, 0.0).rgb;
}

// Haze between the camera and a surface at distance dist: the fraction of the surface's colour
// replaced by the horizon's, all of it by the ground's far edge, so ground and sky meet without a
// seam (the horizon colour in a direction is sky_radiance of that direction, clamped to the horizon).
float haze_amount(float dist) {
    return 1.0 - exp(-(dist * dist) / (look.z * look.z));
}

// The sky seen through raster pixel p (pixel-centre coordinates of the raster the Frame block's
// world_from_pixel maps), with the sun's disc.
vec3 sky_with_sun(vec2 p) {
    vec3 d = normalize((world_from_pixel * vec4(p, 1.0, 1.0)).xyz - camera_position.xyz);
    float disc = look.w > 0.5 ? 0.0 : smoothstep(0.99996, 0.99999, dot(d, sun_direction.xyz));  // a map has its own
    return far_radiance(d) + disc * 30.0 * sun_color.rgb;
}

// Filmic tone curve (Narkowicz's fit of the ACES reference rendering transform) after exposure.
vec3 filmic(vec3 radiance) {
    vec3 x = radiance * look.y;
    return clamp((x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14), 0.0, 1.0);
}
"""

# Natural patterns: 5 grass, 6 dirt, 7 asphalt, 8 concrete, 9 planks (wood floor), 10 carpet.
# base and second are the two ends of the material's palette; p is in pattern units (uv * scale,
# uv in metres) and w its screen footprint: detail finer than a pixel fades to its mean.
NATURAL_PATTERNS = """
float fbm(vec2 p, vec2 w) {
    float sum = 0.0, amplitude = 0.5, total = 0.0;
    for (int octave = 0; octave < 4; ++octave) {
        float fade = 1.0 - smoothstep(0.25, 0.5, max(w.x, w.y));  // finer than half a cell: its mean
        sum += amplitude * mix(0.5, value_noise(p), fade);
        total += amplitude;
        p = mat2(1.6, 1.2, -1.2, 1.6) * p + 7.3;
        w *= 2.0;
        amplitude *= 0.5;
    }
    return sum / total;
}

float fine(vec2 p, vec2 w) {  // pixel-scale speckle that fades out where it would alias
    return mix(0.5, hash12(floor(p)), 1.0 - smoothstep(0.3, 0.7, max(w.x, w.y)));
}

vec3 natural_albedo(int pattern, vec2 p, vec2 w, vec3 base, vec3 second) {
    if (pattern == 5) {          // grass: two greens, blades, dry patches
        float n = fbm(p, w);
        vec3 c = mix(base, second, smoothstep(0.3, 0.7, n));
        c *= 0.7 + 0.6 * fine(p * 23.0, w * 23.0);
        float dry = smoothstep(0.62, 0.75, fbm(p * 0.21 + 11.0, w * 0.21));
        return mix(c, vec3(0.16, 0.12, 0.06), 0.6 * dry);
    } else if (pattern == 6) {   // dirt: soil tones with small stones
        vec3 c = mix(base, second, fbm(p, w));
        float stone = smoothstep(0.8, 0.95, value_noise(p * 9.0)) * (1.0 - smoothstep(0.2, 0.5, max(w.x, w.y) * 9.0));
        return c * (0.85 + 0.3 * fine(p * 31.0, w * 31.0)) * (1.0 + 0.35 * stone);
    } else if (pattern == 7) {   // asphalt: dark binder, light aggregate, stains
        float aggregate = fine(p * 40.0, w * 40.0);
        vec3 c = base * (0.8 + 0.5 * aggregate);
        return mix(c, second, 0.5 * smoothstep(0.55, 0.8, fbm(p * 0.3, w * 0.3)));
    } else if (pattern == 8) {   // concrete: mottled slabs with joints every 2 pattern units
        vec3 c = mix(base, second, fbm(p * 2.0, w * 2.0)) * (0.92 + 0.16 * fine(p * 50.0, w * 50.0));
        vec2 f = abs(fract(p * 0.5) - 0.5) * 2.0;
        vec2 joint = 1.0 - smoothstep(vec2(0.992) - w, vec2(0.992) + w, f);
        return c * mix(0.75, 1.0, min(joint.x, joint.y));
    } else if (pattern == 9) {   // planks along u, one pattern unit wide, staggered, with grain
        float row = floor(p.y);
        float along = p.x * 0.25 + hash12(vec2(row, 3.0));
        float plank = floor(along);
        vec3 c = mix(base, second, hash12(vec2(row, plank)));
        float grain = fbm(vec2(p.x * 0.6, p.y * 14.0) + 5.0 * hash12(vec2(plank, row)), vec2(w.x * 0.6, w.y * 14.0));
        c *= 0.8 + 0.4 * grain;
        vec2 gap = vec2(abs(fract(along) - 0.5) * 2.0 * 4.0, abs(fract(p.y) - 0.5) * 2.0);
        float seam = 1.0 - smoothstep(0.97 - w.y, 0.97 + w.y, gap.y);
        seam *= 1.0 - smoothstep(3.96 - w.x, 3.96 + w.x, gap.x);
        return c * mix(0.45, 1.0, seam);
    } else if (pattern == 10) {  // carpet: dense fibres, soft mottling
        vec3 c = mix(base, second, 0.35 * fbm(p, w));
        return c * (0.85 + 0.3 * fine(p * 60.0, w * 60.0));
    } else if (pattern == 11) {  // plaster and paint: faint mottling, roller stipple
        vec3 c = mix(base, second, fbm(p, w));
        return c * (0.96 + 0.08 * fine(p * 30.0, w * 30.0));
    }
    return base;
}
"""
