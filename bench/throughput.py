"""End-to-end frames/s of `worldclips generate` against the bare render loop on the same scenes.

Usage: python bench/throughput.py [--clips 6] [--frames 48] [--sizes 256x256 512x512] [--looks]

For each size it builds the same clips twice: once through the whole job (sampling, motion,
body posing, rendering, ground truth, H.264, npy/npz, tar shards, manifest) and once as the
bare render loop (RasterRenderer.render on pre-built scenes, nothing else), both in the default
(photographic) look. Scenes have one character and five props, the bench scenario of the spine issue. Prints both rates, their
ratio, and a per-stage breakdown of one clip.

With ``--looks`` it instead runs the whole job on the default scene (1-3 people, 3-6 props, half
the clips in rooms; ``--indoor-share`` changes that share) in the photographic look and in
``look: flat``, one after the other in the same run, and prints both end-to-end rates and their
ratio. ``--looks --interleave`` instead makes the same clips in both looks clip by clip in one
process (the job's clip recipe, make_clip: draw, build, render, ground truth, encode; not the
tar writing), so that a machine whose load drifts (another job on the same cores) slows both
looks alike; it prints the summed rates, their ratio and the median of the per-clip ratios.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from worldclips.scenes.build import build_scene
from worldclips.scenes.sampling import sample_clip_spec
from worldclips.scenes.dressing import photo_dress
from worldclips.shards.job.config import environment_maps, resolve_config
from worldclips.shards.job.generate import generate, package_versions
from worldclips.shards.job.shard_task import job_tools
from worldclips.shards.format.sample import build_meta, encode_sample
from worldclips.shards.format.schema import sample_key


def bench_size(size: str, clips: int, frames: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        config = resolve_config(
            {"scene": {"characters": [1, 1], "props": [5, 5]}},
            {"out": str(Path(tmp) / "out"), "clips": clips, "frames": frames, "size": size, "clips_per_shard": 2,
             "ray": False},  # one process, as the bare loop (bench/farm.py measures the Ray farm)
        )  # fmt: skip
        body, renderer = job_tools(config)
        maps = environment_maps(config)
        dress = (lambda spec: photo_dress(spec, maps)) if config.look == "photo" else (lambda spec: spec)  # as the job
        specs = [dress(sample_clip_spec(config.scene, config.seed, i, config.fps, frames, config.width, config.height))
                 for i in range(clips)]  # fmt: skip
        scenes = [build_scene(spec, body) for spec in specs]
        renderer.render(scenes[0])  # warm-up: shader compilation
        started = time.perf_counter()
        rendered = [renderer.render(scene) for scene in scenes]
        bare = time.perf_counter() - started

        stages = {}
        t0 = time.perf_counter()
        spec = dress(sample_clip_spec(config.scene, config.seed, 0, config.fps, frames, config.width, config.height))
        t1 = time.perf_counter()
        scene = build_scene(spec, body)
        t2 = time.perf_counter()
        clip = renderer.render(scene)
        t3 = time.perf_counter()
        meta = build_meta(sample_key(config.run, 0), config.run, spec, scene, body.name, "raster", package_versions())
        encode_sample(meta, scene, clip)
        t4 = time.perf_counter()
        stages = {"sample": t1 - t0, "build": t2 - t1, "render": t3 - t2, "encode": t4 - t3}
        renderer.release()
        del rendered

        started = time.perf_counter()
        generate(config, progress=False)
        end_to_end = time.perf_counter() - started
    total_frames = clips * frames
    return {
        "size": size,
        "bare_fps": total_frames / bare,
        "e2e_fps": total_frames / end_to_end,
        "ratio": bare / end_to_end,
        "stages_ms": {k: round(v * 1000, 1) for k, v in stages.items()},
    }


def bench_looks(size: str, clips: int, frames: int, indoor_share: float | None = None) -> dict:
    rates = {}
    scene = {} if indoor_share is None else {"scene": {"indoor_share": indoor_share}}
    for look in ("photo", "flat"):
        with tempfile.TemporaryDirectory() as tmp:
            config = resolve_config(scene, {"out": str(Path(tmp) / "out"), "clips": clips, "frames": frames, "size": size,
                                         "clips_per_shard": 2, "ray": False, "look": look})  # fmt: skip
            started = time.perf_counter()
            generate(config, progress=False)
            rates[look] = clips * frames / (time.perf_counter() - started)
    return {"size": size, **rates, "ratio": rates["photo"] / rates["flat"]}


def bench_interleaved(size: str, clips: int, frames: int, indoor_share: float | None = None) -> dict:
    from worldclips.scenes.asset_cache import AssetCache
    from worldclips.shards.job.recipe import make_clip

    scene = {} if indoor_share is None else {"scene": {"indoor_share": indoor_share}}
    looks = ("photo", "flat")
    configs = {look: resolve_config(scene, {"out": "unused", "clips": clips, "frames": frames, "size": size,
                                            "ray": False, "look": look}) for look in looks}  # fmt: skip
    tools = {look: job_tools(configs[look]) for look in looks}
    versions = package_versions()
    assets = {look: AssetCache() for look in looks}  # one per look, as each worker has its own
    seconds = {look: [] for look in looks}
    for index in range(-1, clips):  # first a warm-up clip (shader compilation) not among the counted ones
        for look in looks:
            body, renderer = tools[look]
            with renderer.ctx:  # two renderers, two GL contexts: make this one current
                started = time.perf_counter()
                make_clip(configs[look], clips if index < 0 else index, body, renderer, versions, assets=assets[look])
                if index >= 0:
                    seconds[look].append(time.perf_counter() - started)
    for _, renderer in tools.values():
        renderer.release()
    rates = {look: clips * frames / sum(seconds[look]) for look in looks}
    per_clip = [f / p for p, f in zip(seconds["photo"], seconds["flat"])]
    return {"size": size, **rates, "ratio": rates["photo"] / rates["flat"], "median_clip_ratio": statistics.median(per_clip)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=6)
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--sizes", nargs="+", default=["256x256", "512x512"])
    parser.add_argument("--looks", action="store_true", help="photographic against flat look, default scene")
    parser.add_argument("--indoor-share", type=float, help="with --looks: the share of clips in rooms (default: the scene's, 0.5)")
    parser.add_argument("--interleave", action="store_true", help="with --looks: both looks clip by clip in one process")
    args = parser.parse_args()
    if args.looks and args.interleave:
        print(f"{'size':>9} {'photo fps':>10} {'flat fps':>9} {'photo / flat':>13} {'median per clip':>16}   (default scene, clip recipe, interleaved)")
        for size in args.sizes:
            row = bench_interleaved(size, args.clips, args.frames, args.indoor_share)
            print(f"{row['size']:>9} {row['photo']:10.2f} {row['flat']:9.2f} {row['ratio']:13.2f} {row['median_clip_ratio']:16.2f}")
        return
    if args.looks:
        print(f"{'size':>9} {'photo fps':>10} {'flat fps':>9} {'photo / flat':>13}   (default scene, end to end, one process)")
        for size in args.sizes:
            row = bench_looks(size, args.clips, args.frames, args.indoor_share)
            print(f"{row['size']:>9} {row['photo']:10.2f} {row['flat']:9.2f} {row['ratio']:13.2f}")
        return
    print(f"{'size':>9} {'bare render fps':>16} {'end-to-end fps':>15} {'e2e / bare':>11}  one clip (ms)")
    for size in args.sizes:
        row = bench_size(size, args.clips, args.frames)
        print(f"{row['size']:>9} {row['bare_fps']:16.1f} {row['e2e_fps']:15.1f} {row['ratio']:11.2f}  {row['stages_ms']}")


if __name__ == "__main__":
    main()
