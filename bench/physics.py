"""Physics cost per clip against the raster render cost, on the same scenes.

Usage: python bench/physics.py [--clips 3] [--frames 48] [--size 256x256] [--setups ...]

For each physics setup it draws ``--clips`` clips from the config (``scene.physics``), builds
them, then times on the same scenes: the physics of the clip (``scenes.physics_scene.simulate_clip``:
character hulls, MuJoCo model, settle phase and the substeps, contact events), the bare raster
render (RasterRenderer.render) and the whole raster path of a clip (sampling, scene build with
its physics, render, ground truth and encoding into a sample). Prints per setup the milliseconds
and the ratios physics / render and physics / raster path (target: physics under 20 % of the
raster path), plus MuJoCo steps per second. Clips without dynamic props pay only the
foot-ground contacts from the hulls, printed last for the default scene.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worldclips.motions.mannequin_body import MannequinBody  # noqa: E402
from worldclips.render.raster import RasterRenderer  # noqa: E402
from worldclips.scenes.build import GROUND_ID, build_scene, instance_ids  # noqa: E402
from worldclips.scenes.physics_config import PhysicsConfig  # noqa: E402
from worldclips.scenes.physics_scene import contacts_without_props, simulate_clip  # noqa: E402
from worldclips.scenes.sampling import sample_clip_spec
from worldclips.scenes.scene_config import SceneConfig  # noqa: E402
from worldclips.scenes.spec import PHYSICS_SETUPS  # noqa: E402
from worldclips.shards.format.sample import build_meta, encode_sample  # noqa: E402


def _best(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def bench_setup(setup: str | None, clips: int, frames: int, width: int, height: int, body, renderer, repeats: int) -> dict:
    config = SceneConfig(physics=PhysicsConfig(**{setup: 1.0})) if setup else SceneConfig()
    physics = render = steps = path = 0.0
    for index in range(clips):
        spec = sample_clip_spec(config, 0, index, 24.0, frames, width, height)
        scene = build_scene(spec, body)

        def raster_path():
            spec = sample_clip_spec(config, 0, index, 24.0, frames, width, height)
            scene = build_scene(spec, body)
            meta = build_meta("bench-00000000", "bench", spec, scene, body.name, "raster", {})
            encode_sample(meta, scene, renderer.render(scene))

        path += _best(raster_path, repeats)
        characters = list(scene.characters)
        if spec.dynamic_props:
            carried = set()  # the physics setups carry nothing
            physics += _best(lambda: simulate_clip(spec, characters, instance_ids(spec), carried, GROUND_ID), repeats)
            substeps = -(-spec.simulation.substep_hz // spec.fps)
            steps += (spec.simulation.settle_s * spec.fps + frames - 1) * substeps
        else:
            physics += _best(lambda: contacts_without_props(characters, GROUND_ID), repeats)
        render += _best(lambda: renderer.render(scene), repeats)
    return {"setup": setup or "default (no dynamic props)", "physics_ms": 1000 * physics / clips, "render_ms": 1000 * render / clips,
            "path_ms": 1000 * path / clips, "ratio": physics / render, "path_ratio": physics / path,
            "steps_per_s": steps / physics if steps else 0.0}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=3)
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--size", default="256x256")
    parser.add_argument("--repeats", type=int, default=2, help="best of this many timings per clip")
    parser.add_argument("--setups", nargs="+", default=list(PHYSICS_SETUPS), choices=PHYSICS_SETUPS)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    body = MannequinBody()
    renderer = RasterRenderer(width, height)
    try:
        sample = sample_clip_spec(SceneConfig(), 0, 0, 24.0, args.frames, width, height)
        renderer.render(build_scene(sample, body))  # warm-up: shader compilation
        print(f"{args.clips} clips per setup, {args.frames} frames at 24 fps, {args.size}, 1000 Hz substeps")
        print(f"{'setup':>27} {'physics ms':>11} {'render ms':>10} {'clip ms':>8} {'physics/render':>15} {'physics/clip':>13} {'MuJoCo steps/s':>15}")
        rows = [bench_setup(s, args.clips, args.frames, width, height, body, renderer, args.repeats) for s in args.setups]
        rows.append(bench_setup(None, args.clips, args.frames, width, height, body, renderer, args.repeats))
        for row in rows:
            rate = f"{row['steps_per_s']:15.0f}" if row["steps_per_s"] else f"{'-':>15}"
            print(f"{row['setup']:>27} {row['physics_ms']:11.1f} {row['render_ms']:10.1f} {row['path_ms']:8.1f} "
                  f"{100 * row['ratio']:14.1f}% {100 * row['path_ratio']:12.1f}% {rate}")  # fmt: skip
        count = len(rows) - 1
        physics, render, path = (sum(r[k] for r in rows[:-1]) for k in ("physics_ms", "render_ms", "path_ms"))
        print(f"{'all physics setups (mean)':>27} {physics / count:11.1f} {render / count:10.1f} {path / count:8.1f} "
              f"{100 * physics / render:14.1f}% {100 * physics / path:12.1f}%")  # fmt: skip
    finally:
        renderer.release()


if __name__ == "__main__":
    main()
