"""The render farm on this machine: scaling from 1 to 2 Ray workers, Ray's per-shard overhead
against --no-ray, and the start-up cost.

Usage: python bench/farm.py [--frames 24] [--size 256x256] [--clips-per-shard 4] [--shards 2 8] [--rounds 3]
(on a machine shared with other jobs: nice -n -10 python bench/farm.py ...)

Every mode (--no-ray, Ray with 1 worker, Ray with 2 workers, and --no-ray with llvmpipe on all
cores) generates the same clips (one character, five props) twice: a short run and a long run.
A Ray worker renders with one llvmpipe thread per CPU of its task, and so does the plain
"no-ray" mode here, so that their difference is what Ray adds. In each mode the fixed costs
(starting Ray, starting the workers, making their EGL contexts) are the same in the short and
the long run, so the difference of the two wall times over the difference of their shard
counts is the steady-state time per shard:

- scaling efficiency 1 -> 2 workers = (time per shard, 1 worker) / (2 x time per shard, 2 workers);
- Ray overhead per shard = the time a worker spends between two shards outside the shard task
  (dispatch, result transfer, driver bookkeeping; measured inside one run, so other load on the
  machine hardly touches it), less the same gap of --no-ray, against the time inside the task;
  and, for the record, (time per shard, Ray with 1 worker) / (time per shard, --no-ray) - 1;
- start-up cost = wall of the short run - its shards x time per shard (Ray against --no-ray),
  and the part of it spent in ray.init.

Modes are run in interleaved rounds and the fastest wall time of each (mode, run length) is
kept, which filters out spells when other processes share the cores. Prints the ratios, then
the absolute figures for the record.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from worldclips.shards.job.config import resolve_config
from worldclips.shards.job.generate import generate

SCENE = {"characters": [1, 1], "props": [5, 5]}


def run(tmp: Path, name: str, shards: int, args, flags: dict, env: dict) -> dict:
    out = tmp / f"{name}-{shards}"
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        return _run(out, shards, args, flags)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _run(out: Path, shards: int, args, flags: dict) -> dict:
    config = resolve_config(
        {"scene": SCENE},
        {
            "out": str(out), "clips": shards * args.clips_per_shard, "frames": args.frames, "size": args.size,
            "clips_per_shard": args.clips_per_shard, "seed": 3, **flags,
        },
    )  # fmt: skip
    started = time.perf_counter()
    generate(config, progress=False)
    wall = time.perf_counter() - started
    summary = json.loads((out / "manifest.json").read_text())["summary"]
    busy = sum(row["busy_s"] for row in summary["per_worker"].values())
    cpu = sum(row["cpu_s"] for row in summary["per_worker"].values())
    between = sum(row["between_shards_s"] for row in summary["per_worker"].values())
    later = sum(row["shards"] - 1 for row in summary["per_worker"].values())  # shards after each worker's first
    return {
        "wall": wall, "startup": summary.get("startup_s", 0.0), "busy_per_shard": busy / shards,
        "cpu_per_shard": cpu / shards, "between_per_shard": between / max(later, 1),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--size", default="256x256")
    parser.add_argument("--clips-per-shard", type=int, default=4)
    parser.add_argument("--shards", type=int, nargs=2, default=[2, 8], metavar=("SHORT", "LONG"))
    parser.add_argument("--rounds", type=int, default=3, help="interleaved repetitions; the fastest of each is kept")
    args = parser.parse_args()
    short, long = args.shards
    # A Ray worker renders with one llvmpipe thread per CPU of its task (shards.job.farm); "no-ray"
    # does the same, so that ray-1 against no-ray shows what Ray adds, not a thread count.
    modes = {
        "no-ray": ({"ray": False}, {"LP_NUM_THREADS": "1"}),
        "ray-1": ({"workers": 1}, {}),
        "ray-2": ({"workers": 2}, {}),
        "no-ray-all-cores": ({"ray": False}, {}),
    }
    runs: dict[tuple[str, int], list[dict]] = {}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        for round_index in range(args.rounds):  # interleaved, so that a busy spell hits every mode alike
            for name, (flags, env) in modes.items():
                for shards in (short, long):
                    row = run(Path(tmp) / f"round{round_index}", name, shards, args, flags, env)
                    runs.setdefault((name, shards), []).append(row)
    load_after = os.getloadavg()[0]
    results: dict[str, dict] = {}
    for name in modes:
        a = min(runs[(name, short)], key=lambda r: r["wall"])
        b = min(runs[(name, long)], key=lambda r: r["wall"])
        per_shard = (b["wall"] - a["wall"]) / (long - short)
        results[name] = {
            "per_shard_s": per_shard,
            "startup_s": a["wall"] - short * per_shard,
            "ray_init_s": min(r["startup"] for r in runs[(name, short)] + runs[(name, long)]),
            "busy_per_shard_s": b["busy_per_shard"],
            "cpu_per_shard_s": min(r["cpu_per_shard"] for r in runs[(name, long)]),
            "between_per_shard_s": sorted(r["between_per_shard"] for r in runs[(name, long)])[args.rounds // 2],
            "walls": (a["wall"], b["wall"]),
        }
    none, one, two = results["no-ray"], results["ray-1"], results["ray-2"]
    efficiency = one["per_shard_s"] / (2 * two["per_shard_s"])
    overhead = one["per_shard_s"] / none["per_shard_s"] - 1
    frames_per_shard = args.clips_per_shard * args.frames
    print(f"farm bench: {args.size}, {args.frames} frames/clip, {args.clips_per_shard} clips/shard, "
          f"{short} and {long} shards per run, best of {args.rounds} rounds, {os.cpu_count()} cores, "
          f"load average {load_before:.1f} before, {load_after:.1f} after")  # fmt: skip
    print(f"scaling efficiency 1 -> 2 workers        {efficiency:6.1%}   (goal >= 90%)")
    print(f"  CPU time per shard, 1 / 2 workers      {one['cpu_per_shard_s'] / two['cpu_per_shard_s']:6.1%}   "
          "(the work itself; the wall figure also needs two idle cores)")  # fmt: skip
    between, no_ray_between = one["between_per_shard_s"], none["between_per_shard_s"]
    print(f"Ray overhead per shard vs --no-ray       {(between - no_ray_between) / one['busy_per_shard_s']:+6.1%}   "
          f"(goal < 5%; worker time between shards {between * 1000:.1f} ms, --no-ray {no_ray_between * 1000:.1f} ms)")  # fmt: skip
    print(f"  wall-clock s/shard, Ray 1 / --no-ray   {overhead:+6.1%}   (includes other load on the machine)")
    print(f"start-up cost, Ray 1 worker vs --no-ray  {one['startup_s'] - none['startup_s']:6.2f} s "
          f"(of which ray.init {one['ray_init_s']:.2f} s)")  # fmt: skip
    print()
    print(f"{'mode':>16} {'s/shard':>8} {'frames/s':>9} {'task s/shard':>13} {'task CPU s/shard':>17} {'start-up s':>11} {'walls (short, long) s':>22}")
    for name, row in results.items():
        rate = frames_per_shard / row["per_shard_s"]
        walls = f"{row['walls'][0]:.2f}, {row['walls'][1]:.2f}"
        print(
            f"{name:>16} {row['per_shard_s']:8.3f} {rate:9.1f} {row['busy_per_shard_s']:13.3f} "
            f"{row['cpu_per_shard_s']:17.3f} {row['startup_s']:11.2f} {walls:>22}"
        )


if __name__ == "__main__":
    main()
