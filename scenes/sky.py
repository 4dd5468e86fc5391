"""The analytic daylight sky of the photographic look (numpy only).

Preetham, Shirley and Smits, "A practical analytic model for daylight" (SIGGRAPH 1999): the
luminance Y and chromaticities x, y of every sky direction are Perez distributions of the angle
from the zenith (theta) and from the sun (gamma), with coefficients linear in the turbidity T and
zenith values from the sun's zenith angle. Radiance is scaled so that the zenith's luminance is
``zenith_luminance`` (in the scene's linear radiance units, where the sun's is ``sun_color``).

The raster shader (``render.glsl_photo``) evaluates the same formulas from ``shader_constants``;
the Cycles backend lights its world with ``equirect`` of the same sky, and the ambient light of
the look is the sky's cosine-weighted mean, so sky, background and shading agree.
"""

from __future__ import annotations

import numpy as np

_PEREZ = {  # (slope in T, offset) of A..E for Y, x and y
    "Y": ((0.1787, -1.4630), (-0.3554, 0.4275), (-0.0227, 5.3251), (0.1206, -2.5771), (-0.0670, 0.3703)),
    "x": ((-0.0193, -0.2592), (-0.0665, 0.0008), (-0.0004, 0.2125), (-0.0641, -0.8989), (-0.0033, 0.0452)),
    "y": ((-0.0167, -0.2608), (-0.0950, 0.0092), (-0.0079, 0.2102), (-0.0441, -1.6537), (-0.0109, 0.0529)),
}
_ZENITH_X = ((0.00166, -0.00375, 0.00209, 0.0), (-0.02903, 0.06377, -0.03202, 0.00394), (0.11693, -0.21196, 0.06052, 0.25886))
_ZENITH_Y = ((0.00275, -0.00610, 0.00317, 0.0), (-0.04214, 0.08970, -0.04153, 0.00516), (0.15346, -0.26756, 0.06670, 0.26688))
XYZ_TO_LINEAR_SRGB = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]])
MIN_COS_THETA = 0.02  # the shader's clamp: the Perez term has a pole at the horizon


def perez_coefficients(turbidity: float) -> dict[str, np.ndarray]:
    """{"Y", "x", "y"} -> (5,) A..E for this turbidity (2 clear .. 10 hazy)."""
    t = float(turbidity)
    return {key: np.array([slope * t + offset for slope, offset in rows]) for key, rows in _PEREZ.items()}


def _perez(c: np.ndarray, cos_theta, gamma, cos_gamma):
    return (1.0 + c[0] * np.exp(c[1] / np.maximum(cos_theta, MIN_COS_THETA))) * (
        1.0 + c[2] * np.exp(c[3] * gamma) + c[4] * cos_gamma**2
    )


def _zenith_chromaticity(rows, t: float, theta_s: float) -> float:
    powers = np.array([theta_s**3, theta_s**2, theta_s, 1.0])
    return float(t * t * (np.array(rows[0]) @ powers) + t * (np.array(rows[1]) @ powers) + np.array(rows[2]) @ powers)


def shader_constants(sun_direction, turbidity: float, zenith_luminance: float) -> np.ndarray:
    """(20,) float64: Perez A-D of Y, x, y (3 x 4), their E (3) and 0, then the zenith factors
    (Y, x, y divided by their Perez value at the zenith) and 0: what the shader's Frame block holds."""
    sun = np.asarray(sun_direction, dtype=np.float64)
    sun = sun / np.linalg.norm(sun)
    theta_s = float(np.arccos(np.clip(sun[2], -1.0, 1.0)))
    t = float(turbidity)
    coefficients = perez_coefficients(t)
    x_z = _zenith_chromaticity(_ZENITH_X, t, theta_s)
    y_z = _zenith_chromaticity(_ZENITH_Y, t, theta_s)
    at_zenith = {key: _perez(c, 1.0, theta_s, np.cos(theta_s)) for key, c in coefficients.items()}
    out = np.zeros(20)
    out[0:4], out[4:8], out[8:12] = coefficients["Y"][:4], coefficients["x"][:4], coefficients["y"][:4]
    out[12:15] = coefficients["Y"][4], coefficients["x"][4], coefficients["y"][4]
    out[16:19] = zenith_luminance / at_zenith["Y"], x_z / at_zenith["x"], y_z / at_zenith["y"]
    return out


def sky_radiance(directions: np.ndarray, sun_direction, turbidity: float, zenith_luminance: float) -> np.ndarray:
    """(..., 3) unit world directions (+Z up) -> (..., 3) linear sRGB radiance; below the horizon,
    the horizon's (as the shader)."""
    d = np.asarray(directions, dtype=np.float64)
    d = np.concatenate([d[..., :2], np.maximum(d[..., 2:3], 0.0)], axis=-1) + np.array([0.0, 0.0, 1e-4])
    d = d / np.linalg.norm(d, axis=-1, keepdims=True)
    constants = shader_constants(sun_direction, turbidity, zenith_luminance)
    sun = np.asarray(sun_direction, dtype=np.float64) / np.linalg.norm(sun_direction)
    cos_gamma = np.clip(d @ sun, -1.0, 1.0)
    gamma = np.arccos(cos_gamma)
    values = []
    for row, e, factor in zip((0, 4, 8), constants[12:15], constants[16:19]):
        c = np.array([*constants[row : row + 4], e])
        values.append(factor * _perez(c, d[..., 2], gamma, cos_gamma))
    Y, x, y = values
    XYZ = np.stack([x / y * Y, Y, (1.0 - x - y) / y * Y], axis=-1)
    return np.maximum(XYZ @ XYZ_TO_LINEAR_SRGB.T, 0.0)


def ambient_from_sky(sun_direction, turbidity: float, zenith_luminance: float, samples: int = 64) -> np.ndarray:
    """(3,) cosine-weighted mean radiance of the upper hemisphere: the diffuse light an upward
    surface gets from the sky, in the shading's units (irradiance / pi)."""
    u = (np.arange(samples) + 0.5) / samples
    cos_theta = np.sqrt(1.0 - u)  # cosine-weighted: pdf = cos(theta) / pi
    sin_theta = np.sqrt(u)
    phi = np.linspace(0.0, 2.0 * np.pi, samples, endpoint=False)
    d = np.stack(np.broadcast_arrays(sin_theta[:, None] * np.cos(phi), sin_theta[:, None] * np.sin(phi),
                                     cos_theta[:, None]), axis=-1)  # fmt: skip
    return sky_radiance(d, sun_direction, turbidity, zenith_luminance).reshape(-1, 3).mean(axis=0)


def equirect_directions(width: int) -> np.ndarray:
    """(width / 2, width, 3) unit world directions of an equirectangular image in Blender's
    environment-texture layout: rows from the nadir (row 0, Blender stores the bottom row first)
    to the zenith, u = 0.5 - azimuth / (2 pi) with azimuth = atan2(y, x)."""
    height = width // 2
    elevation = ((np.arange(height) + 0.5) / height - 0.5) * np.pi
    azimuth = (0.5 - (np.arange(width) + 0.5) / width) * 2.0 * np.pi
    return np.stack(np.broadcast_arrays(np.cos(elevation)[:, None] * np.cos(azimuth),
                                        np.cos(elevation)[:, None] * np.sin(azimuth),
                                        np.sin(elevation)[:, None]), axis=-1)  # fmt: skip


def equirect(sun_direction, turbidity: float, zenith_luminance: float, width: int = 512) -> np.ndarray:
    """(width / 2, width, 3) float32 radiance image of the sky (equirect_directions' layout)."""
    return sky_radiance(equirect_directions(width), sun_direction, turbidity, zenith_luminance).astype(np.float32)
