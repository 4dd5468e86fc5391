"""Cycles backend: seconds per frame at 256x256 on the CPU, and the pipeline's overhead over bare bpy.

Usage: python bench/cycles.py [--size 256x256] [--frames 6] [--samples 16 64 128] [--repeats 2]
                              [--preview docs/images/cycles-preview.png] [--preview-clips 3]

For each sample count it renders the same clip (the default scenario: one walking character and
five props, drawn with seed 0) twice:

- pipeline: ``CyclesRenderer.render(scene)``, everything a clip costs: writing the scene format,
  starting the worker process, importing bpy, building the Blender scene, rendering, the
  compositor's EXR passes and the PNG, reading them back, handing the arrays to this process;
- bare bpy: the same Blender scene built by the same worker code, then only the
  ``bpy.ops.render.render()`` calls timed (no compositor, no files): what a hand-written bpy
  loop rendering this scene spends.

It prints seconds per frame of both and the overhead ratio pipeline / bare - 1 (target: under
10 %), the best of ``--repeats`` runs each, in wall time and in CPU time (user + system of this
process and the worker, which a shared, loaded machine disturbs far less than wall time), and
the pipeline's fixed cost per clip (process start, bpy import, scene build, file transfer). ``--preview`` also writes
a side-by-side PNG: raster RGB | Cycles RGB | depth | segmentation per clip, with the
cross-check figures of each clip printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from worldclips.render.cycles import CyclesConfig, CyclesRenderer
from worldclips.render.cycles.crosscheck import cross_check_clips
from worldclips.render.cycles.renderer import WORKER_SCRIPT
from worldclips.render.cycles.scene_format import write_scene
from worldclips.scenes.build import build_scene
from worldclips.scenes.sampling import sample_clip_spec
from worldclips.scenes.scene_config import SceneConfig
from worldclips.shards.job.config import parse_size
from worldclips.motions.bodies import make_body_model
from worldclips.shards.job.config import resolve_config

BENCH_SCENE = SceneConfig(characters=(1, 1), props=(5, 5))


def bench_scene(width: int, height: int, frames: int, clip_index: int = 0, scene_config: SceneConfig = BENCH_SCENE):
    config = resolve_config({}, {"out": "unused"})
    spec = sample_clip_spec(scene_config, 0, clip_index, 24.0, frames, width, height)
    return build_scene(spec, make_body_model(config.smplx_model_dir))


def bare_seconds(renderer: CyclesRenderer, scene) -> tuple[float, float]:
    """(wall, CPU) seconds of the render calls of a bare bpy loop over the scene's frames."""
    with tempfile.TemporaryDirectory(prefix="worldclips-bench-") as tmp:
        write_scene(scene, Path(tmp) / "scene", renderer.config)
        out = Path(tmp) / "out"
        out.mkdir()
        command = [str(renderer.environment.python), "-I", str(WORKER_SCRIPT), "--bare", str(Path(tmp) / "scene"), str(out)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"bare bpy render failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")
        result = json.loads((out / "result.json").read_text())
        return sum(result["frame_s"]), sum(result["frame_cpu_s"])


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pipeline_seconds(renderer: CyclesRenderer, scene) -> tuple[float, float]:
    """(wall, CPU) seconds of CyclesRenderer.render: this process and the worker process together."""
    wall, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
    renderer.render(scene)
    return time.perf_counter() - wall, (time.process_time() - cpu) + (_children_cpu() - children)


def bench_samples(samples: int, scene, repeats: int) -> dict:
    renderer = CyclesRenderer(config=CyclesConfig(samples=samples, device="cpu"))
    pipeline, bare = [], []
    for _ in range(repeats):  # interleaved, so that both see similar machine load
        pipeline.append(pipeline_seconds(renderer, scene))
        bare.append(bare_seconds(renderer, scene))
    frames = scene.num_frames
    (pipe_wall, pipe_cpu), (bare_wall, bare_cpu) = (min(t[0] for t in pipeline), min(t[1] for t in pipeline)), (
        min(t[0] for t in bare),
        min(t[1] for t in bare),
    )
    worker = renderer.last_stats.worker
    return {
        "samples": samples,
        "pipeline_s_per_frame": pipe_wall / frames,
        "bare_s_per_frame": bare_wall / frames,
        "overhead_wall": pipe_wall / bare_wall - 1.0,
        "overhead_cpu": pipe_cpu / bare_cpu - 1.0,
        "per_clip_s": renderer.last_stats.total_s - sum(worker["frame_s"]),
        "denoiser": worker["denoiser"],
    }


def write_preview(path: Path, width: int, height: int, clips: int, samples: int) -> None:
    from PIL import Image

    from worldclips.render.raster import RasterRenderer
    from worldclips.shards.format.preview import depth_colors, instance_colors

    renderer = CyclesRenderer(config=CyclesConfig(samples=samples))
    raster = RasterRenderer(width, height)
    rows = []
    try:
        for index in range(clips):
            scene = bench_scene(width, height, 1, index, SceneConfig())
            cycles_clip, raster_clip = renderer.render(scene), raster.render(scene)
            check = cross_check_clips(raster_clip, cycles_clip)
            print(f"preview clip {index}: {check.summary()}")
            panels = [raster_clip.rgb[0], cycles_clip.rgb[0], depth_colors(cycles_clip.depth[0]), instance_colors(cycles_clip.segmentation[0])]
            rows.append(np.concatenate([np.asarray(p, dtype=np.uint8)[..., :3] for p in panels], axis=1))
    finally:
        raster.release()
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(rows, axis=0)).save(path, optimize=True)
    print(f"wrote {path} (rows: clips; columns: raster RGB | Cycles RGB | depth | segmentation)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="256x256")
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--samples", type=int, nargs="+", default=[16, 64, 128])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--preview", type=Path, help="write a raster | Cycles side-by-side PNG here")
    parser.add_argument("--preview-clips", type=int, default=3)
    parser.add_argument("--skip-timing", action="store_true")
    args = parser.parse_args()
    width, height = parse_size(args.size)
    if not args.skip_timing:
        scene = bench_scene(width, height, args.frames)
        print(f"Cycles on the CPU, {width}x{height}, {args.frames} frames, 1 character + 5 props, best of {args.repeats}")
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
        print("| samples | pipeline s/frame | bare bpy s/frame | overhead (wall) | overhead (CPU time) | per-clip fixed s | denoiser |")
        print("|---|---|---|---|---|---|---|")
        for samples in args.samples:
            r = bench_samples(samples, scene, args.repeats)
            print(
                f"| {samples} | {r['pipeline_s_per_frame']:.3f} | {r['bare_s_per_frame']:.3f} | "
                f"{100 * r['overhead_wall']:+.1f}% | {100 * r['overhead_cpu']:+.1f}% | {r['per_clip_s']:.2f} | {r['denoiser']} |",
                flush=True,
            )
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.preview:
        write_preview(args.preview, width, height, args.preview_clips, 64)


if __name__ == "__main__":
    main()
