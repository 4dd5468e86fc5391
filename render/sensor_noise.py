"""Optional sensor noise on rendered RGB: the Poisson-Gaussian model of a camera sensor.

A pixel of linear value x in [0, 1] gets noise of variance a x + b^2: photon shot noise, whose
variance grows with the signal (a), plus signal-independent read noise (b) (Foi et al., "Practical
Poissonian-Gaussian noise modeling and fitting for single-image raw-data", 2008; the Gaussian
approximation of the Poisson part). One number sets both: ``grey_std``, the noise's standard
deviation at middle grey (x = 0.18), a quarter of whose variance is read noise. Each channel and
pixel draws its own noise, from the generator the caller gives (the clip's own stream), so a clip
is noisy the same way on every worker.

It is applied to the finished sRGB frames (decoded to linear, noised, encoded again), i.e. after
the filmic tone curve rather than before it as in a camera: mid-tones get the modelled noise,
highlights compressed by the curve get a little more than a camera would give them. Depth,
segmentation and every other layer are untouched (the noise is a property of the camera, not of
the scene).
"""

from __future__ import annotations

import numpy as np

from worldclips.scenes.scene import MAX_SENSOR_NOISE
from worldclips.scenes.srgb import encode_srgb8, srgb8_table

MIDDLE_GREY = 0.18
READ_SHARE = 0.25  # the share of the variance at middle grey that is read noise


def noise_variance(linear: np.ndarray, grey_std: float) -> np.ndarray:
    """The variance a x + b^2 of the noise at linear values ``linear`` for ``grey_std``."""
    grey_variance = float(grey_std) ** 2
    shot_gain = (1.0 - READ_SHARE) * grey_variance / MIDDLE_GREY
    return shot_gain * linear + READ_SHARE * grey_variance


def add_sensor_noise(rgb: np.ndarray, grey_std: float, rng: np.random.Generator) -> np.ndarray:
    """(T, H, W, 3) uint8 sRGB frames -> the same frames with sensor noise of ``grey_std`` at middle
    grey (0: returned unchanged), frame by frame. Float64 throughout, sRGB through the tables of
    scenes.srgb: the same bytes on every CPU for the same generator."""
    if isinstance(grey_std, bool) or not (0.0 <= grey_std <= MAX_SENSOR_NOISE):
        raise ValueError(f"sensor noise: expected a standard deviation at middle grey in [0, {MAX_SENSOR_NOISE}], got {grey_std}")
    if grey_std == 0.0:
        return rgb
    table = srgb8_table()
    out = np.empty_like(rgb)
    for index in range(rgb.shape[0]):
        linear = table[rgb[index]]
        noise = rng.standard_normal(linear.shape) * np.sqrt(noise_variance(linear, grey_std))
        out[index] = encode_srgb8(linear + noise)
    return out
