"""How photographic the default clips look: image statistics of the photographic and flat looks.

Usage: python bench/look.py [--clips 64] [--frames 12] [--size 256] [--sheet docs/images/look-outdoor.jpg
       --sheet-clips 1,6,8,13 --sheet-place outdoor] [--sheet-only]

The same default clips (run seed 0, clips 0..N-1) are rendered in both looks by the raster
backend; on frames 0, N/2 and N-1 of each it measures:

- saturation: mean and 90th percentile of HSV saturation (natural video: moderate, few
  saturated pixels; the flat look draws saturated primaries);
- flat: the fraction of pixels whose 3x3 neighbourhood is one exact colour (no texture, no
  shading, no noise: the look of untextured CG);
- spectrum slope: the slope of the radially averaged power spectrum of the grey image against
  spatial frequency on log-log axes, fitted between 1/64 and 1/4 cycles per pixel (natural
  photographs sit near -2; flat colour fields with hard edges are shallower);
- staircase: among silhouette edge pixels (instance ids differ across the edge) with contrast
  (more than 20 levels between the two sides), the fraction where the pixels on both sides of
  the edge equal their own side (within 2 levels): an edge with no blended pixel, i.e. aliased.

With ``--sheet`` it also writes a contact sheet: per clip, flat | photographic raster |
photographic Cycles (when the Blender environment is installed; else two columns), of default
clips drawn outdoors, indoors (in a room) or either (``--sheet-place``).
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

from worldclips.motions.bodies import make_body_model
from worldclips.render.raster import RasterRenderer
from worldclips.scenes.build import build_scene
from worldclips.scenes.dressing import photo_dress
from worldclips.scenes.sampling import sample_clip_spec
from worldclips.scenes.scene_config import SceneConfig

PLACES = {"any": SceneConfig().indoor_share, "outdoor": 0.0, "indoor": 1.0}  # --sheet-place: share of rooms


def saturation(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 -> (...) HSV saturation in [0, 1] (colorsys' definition)."""
    rgb = rgb.astype(np.float64)
    high, low = rgb.max(axis=-1), rgb.min(axis=-1)
    return np.where(high > 0, (high - low) / np.maximum(high, 1e-9), 0.0)


def flat_fraction(rgb: np.ndarray) -> float:
    """Fraction of interior pixels whose 3x3 neighbourhood holds one exact colour."""
    packed = rgb.astype(np.int32) @ np.array([1 << 16, 1 << 8, 1])
    centre = packed[1:-1, 1:-1]
    same = np.ones_like(centre, dtype=bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            same &= packed[1 + dy : packed.shape[0] - 1 + dy, 1 + dx : packed.shape[1] - 1 + dx] == centre
    return float(same.mean())


def spectrum_slope(rgb: np.ndarray) -> float:
    """Slope of log power against log frequency (1/64 .. 1/4 cycles per pixel) of the grey image."""
    grey = rgb.astype(np.float64) @ [0.2126, 0.7152, 0.0722]
    grey = (grey - grey.mean()) * np.outer(np.hanning(grey.shape[0]), np.hanning(grey.shape[1]))
    power = np.abs(np.fft.fftshift(np.fft.fft2(grey))) ** 2
    h, w = grey.shape
    fy, fx = np.meshgrid(np.fft.fftshift(np.fft.fftfreq(h)), np.fft.fftshift(np.fft.fftfreq(w)), indexing="ij")
    radius = np.hypot(fx, fy)
    edges = np.geomspace(1 / 64, 1 / 4, 17)
    centres, means = [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        ring = (radius >= lo) & (radius < hi)
        if ring.any():
            centres.append(np.sqrt(lo * hi))
            means.append(power[ring].mean())
    return float(np.polyfit(np.log(centres), np.log(means), 1)[0])


def staircase_fraction(rgb: np.ndarray, segmentation: np.ndarray) -> tuple[int, int]:
    """(aliased, contrasty) silhouette edge counts, across columns and rows."""
    grey = rgb.astype(np.float64) @ [0.2126, 0.7152, 0.0722]
    aliased = total = 0
    for g, s in ((grey, segmentation), (grey.T, segmentation.T)):
        edge = s[:, 1:-2] != s[:, 2:-1]  # between pixel p = column 1.. and q = p + 1
        before, p, q, after = g[:, :-3], g[:, 1:-2], g[:, 2:-1], g[:, 3:]
        contrast = np.abs(before - after) > 20
        sharp = (np.abs(p - before) <= 2) & (np.abs(q - after) <= 2)
        candidates = edge & contrast & (s[:, :-3] == s[:, 1:-2]) & (s[:, 2:-1] == s[:, 3:])
        aliased += int((candidates & sharp).sum())
        total += int(candidates.sum())
    return aliased, total


def measure(clips) -> dict:
    sat_mean, sat_p90, flat, slopes, aliased, edges = [], [], [], [], 0, 0
    for clip in clips:
        for t in sorted({0, len(clip.rgb) // 2, len(clip.rgb) - 1}):
            s = saturation(clip.rgb[t])
            sat_mean.append(s.mean())
            sat_p90.append(np.percentile(s, 90))
            flat.append(flat_fraction(clip.rgb[t]))
            slopes.append(spectrum_slope(clip.rgb[t]))
            a, e = staircase_fraction(clip.rgb[t], clip.segmentation[t])
            aliased, edges = aliased + a, edges + e
    return {"saturation_mean": np.mean(sat_mean), "saturation_p90": np.mean(sat_p90), "flat": np.mean(flat),
            "spectrum_slope": np.mean(slopes), "staircase": aliased / max(edges, 1)}  # fmt: skip


def contact_sheet(path: str, specs, body, size: int) -> None:
    from PIL import Image

    from worldclips.render.cycles import CyclesEnvironmentError, CyclesRenderer, probe_environment

    raster = RasterRenderer(size, size)
    try:
        probe_environment()
        cycles = CyclesRenderer(size, size)
    except CyclesEnvironmentError:
        cycles = None
    rows = []
    for spec in specs:
        spec = dataclasses.replace(spec, num_frames=1)  # a still: Cycles takes seconds a frame on a CPU
        flat, photo = build_scene(spec, body), build_scene(photo_dress(spec), body)
        row = [raster.render(flat).rgb[0], raster.render(photo).rgb[0]]
        if cycles is not None:
            row.append(cycles.render(photo).rgb[0])
        rows.append(np.concatenate(row, axis=1))
    Image.fromarray(np.concatenate(rows, axis=0)).save(path, quality=90)  # .jpg: small, no palette banding


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--sheet", help="write a contact sheet (flat | photo raster | photo Cycles) of --sheet-clips clips")
    parser.add_argument("--sheet-clips", default="0,1,2,3", help="clip indices of the contact sheet (default 0,1,2,3)")
    parser.add_argument("--sheet-place", choices=sorted(PLACES), default="any", help="draw the sheet's clips outdoors, indoors or either")
    parser.add_argument("--sheet-only", action="store_true", help="write the sheet without measuring")
    args = parser.parse_args()
    body = make_body_model(None)
    renderer = RasterRenderer(args.size, args.size)
    specs = [sample_clip_spec(SceneConfig(), 0, i, 24.0, args.frames, args.size, args.size) for i in range(args.clips)]
    if args.sheet_only:
        specs = []
    print(f"{args.clips} default clips, {args.frames} frames at {args.size}x{args.size}, raster backend")
    print(f"{'look':>6} {'sat. mean':>10} {'sat. p90':>9} {'flat px':>8} {'spectrum slope':>15} {'staircase edges':>16} {'s/clip':>7}")
    for look in ("photo", "flat") if specs else ():
        started = time.perf_counter()
        clips = [renderer.render(build_scene(photo_dress(s) if look == "photo" else s, body)) for s in specs]
        seconds = (time.perf_counter() - started) / len(specs)
        row = measure(clips)
        print(f"{look:>6} {row['saturation_mean']:10.3f} {row['saturation_p90']:9.3f} {row['flat']:8.3f} "
              f"{row['spectrum_slope']:15.2f} {row['staircase']:16.3f} {seconds:7.2f}")  # fmt: skip
    if args.sheet:
        config = SceneConfig(indoor_share=PLACES[args.sheet_place])
        picked = [sample_clip_spec(config, 0, int(i), 24.0, 1, args.size, args.size) for i in args.sheet_clips.split(",")]
        contact_sheet(args.sheet, picked, body, args.size)
        print(f"wrote {args.sheet}")


if __name__ == "__main__":
    main()
