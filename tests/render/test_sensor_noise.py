"""Sensor noise: the Poisson-Gaussian variance measured on flat patches against the model worked out
by hand, determinism, and `generate --sensor-noise` changing RGB only."""

import json
import subprocess
import sys

import numpy as np
import pytest

from worldclips.cli import main
from worldclips.render.sensor_noise import add_sensor_noise
from worldclips.scenes.srgb import encode_srgb8, srgb8_table
from worldclips.shards.format.meta_schema import expanded
from worldclips.shards.format.reader import read_shard


def srgb_to_linear(srgb):
    """IEC 61966-2-1, written out here as the reference."""
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear):
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * np.power(np.maximum(linear, 0.0031308), 1 / 2.4) - 0.055)


def test_the_reference_transfer_matches_the_standard_and_round_trips():
    assert np.isclose(srgb_to_linear(np.array(0.5)), ((0.5 + 0.055) / 1.055) ** 2.4)
    assert np.isclose(srgb_to_linear(np.array(0.02)), 0.02 / 12.92)
    values = np.linspace(0.0, 1.0, 1001)
    assert np.allclose(linear_to_srgb(srgb_to_linear(values)), values, atol=1e-9)


def test_eight_bit_codes_round_trip_and_encode_to_the_nearest_srgb_code():
    codes = np.arange(256, dtype=np.uint8)
    assert np.allclose(srgb8_table(), srgb_to_linear(codes / 255.0), rtol=1e-12, atol=0)
    assert np.array_equal(encode_srgb8(srgb8_table()[codes]), codes)
    linear = np.random.default_rng(0).uniform(-0.1, 1.1, 10000)
    nearest = np.clip(np.floor(linear_to_srgb(np.clip(linear, 0.0, 1.0)) * 255 + 0.5), 0, 255)
    assert np.abs(encode_srgb8(linear).astype(int) - nearest).max() == 0


NOISE_SCRIPT = """
import hashlib, numpy as np
from worldclips.render.sensor_noise import add_sensor_noise
rgb = np.random.default_rng(1).integers(0, 256, size=(6, 128, 128, 3), dtype=np.uint8)
print(hashlib.sha256(add_sensor_noise(rgb, 0.02, np.random.default_rng(7)).tobytes()).hexdigest())
"""


def test_noise_gives_the_same_bytes_whatever_simd_numpy_uses():
    """numpy picks its power and exp loops by CPU features: a worker without AVX-512 must make the
    same bytes (on a machine without it both runs take the same path)."""
    hashes = set()
    for disabled in ("", "AVX512_ICL AVX512_SPR AVX512_SKX X86_V4"):
        env = {"NPY_DISABLE_CPU_FEATURES": disabled} if disabled else {}
        run = subprocess.run([sys.executable, "-c", NOISE_SCRIPT], capture_output=True, text=True, check=True,
                             env={**__import__("os").environ, **env})  # fmt: skip
        hashes.add(run.stdout.strip())
    assert len(hashes) == 1


@pytest.mark.parametrize("level", [118, 200])  # linear ~0.18 (middle grey) and ~0.58
def test_flat_patches_get_the_modelled_variance_and_no_bias(level):
    grey_std = 0.02
    rgb = np.full((8, 64, 64, 3), level, np.uint8)
    noisy = add_sensor_noise(rgb, grey_std, np.random.default_rng(0))
    x = srgb_to_linear(np.float64(level) / 255)
    measured = srgb_to_linear(noisy.astype(np.float64) / 255)
    # by hand: a x + b^2 with a quarter of the variance at middle grey (0.18) read noise
    expected_var = 0.75 * grey_std**2 / 0.18 * x + 0.25 * grey_std**2
    quantisation = (np.gradient(srgb_to_linear(np.arange(256) / 255.0))[level]) ** 2 / 12  # 8-bit rounding, in linear
    assert abs(measured.var() - expected_var - quantisation) < 0.06 * expected_var
    assert abs(measured.mean() - x) < 0.02 * grey_std  # no bias away from the clipping ends


def test_noise_is_a_function_of_the_generator_and_zero_is_identity():
    rgb = np.random.default_rng(1).integers(0, 256, size=(3, 16, 16, 3), dtype=np.uint8)
    a = add_sensor_noise(rgb, 0.03, np.random.default_rng([4, 2]))
    assert np.array_equal(a, add_sensor_noise(rgb, 0.03, np.random.default_rng([4, 2])))
    assert not np.array_equal(a, add_sensor_noise(rgb, 0.03, np.random.default_rng([4, 3])))
    assert add_sensor_noise(rgb, 0.0, np.random.default_rng(0)) is rgb
    with pytest.raises(ValueError, match="sensor noise: expected"):
        add_sensor_noise(rgb, 0.5, np.random.default_rng(0))


ARGS = ["--clips", "3", "--no-ray", "--frames", "3", "--size", "48x32", "--clips-per-shard", "3", "--seed", "5", "--quiet"]


def test_generate_with_sensor_noise_changes_rgb_only_and_records_each_level(tmp_path):
    runs = {}
    for name, extra in (("clean", []), ("noisy", ["--sensor-noise", "0.03"]), ("again", ["--sensor-noise", "0.03"])):
        assert main(["generate", "--out", str(tmp_path / name), *ARGS, *extra]) == 0
        runs[name] = read_shard(tmp_path / name / "shard-000000.tar")
    assert runs["noisy"] == runs["again"]  # the same noise on a rerun
    levels = []
    for key, clean in runs["clean"].items():
        noisy = runs["noisy"][key]
        assert noisy["rgb.mp4"] != clean["rgb.mp4"]
        for member in clean:
            if member not in ("rgb.mp4", "meta.json"):
                assert noisy[member] == clean[member], member  # depth, segmentation, pose, camera...
        clean_spec = expanded(json.loads(clean["meta.json"]))["spec"]
        noisy_spec = expanded(json.loads(noisy["meta.json"]))["spec"]
        levels.append(noisy_spec["look"]["sensor_noise"])
        assert clean_spec["look"]["sensor_noise"] == 0.0
        assert {**noisy_spec["look"], "sensor_noise": 0.0} == clean_spec["look"]  # the rest of the look unchanged
    assert all(0.0 <= v <= 0.03 for v in levels) and len(set(levels)) == 3
    assert main(["generate", "--out", str(tmp_path / "flat"), *ARGS, "--look", "flat", "--sensor-noise", "0.03"]) != 0
