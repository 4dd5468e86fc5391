"""Contact sheets of the scenario presets for docs/scenarios.md (docs/images/scenario-<name>.png).

    python tools/scenario_previews.py [--out docs/images] [--scenarios occlusion_pass ...] [--size 256x192]

Each preset's clip is drawn, built, rendered and verified exactly as ``worldclips generate
--scenario NAME`` does it for clip index 0 of run seed SEED (re-drawn with the derived seeds
until its properties hold). A sheet has a caption (the scenario and its measured properties), a
row of RGB frames spread over the clip (including the frame the first property points at: the
hidden ball, the seated frame, ...) and the same frames' instance segmentation below; objects a
property names are outlined in the RGB row. Images are palette-quantised to stay small.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worldclips.motions.mannequin_body import MannequinBody  # noqa: E402
from worldclips.render.raster import RasterRenderer  # noqa: E402
from worldclips.scenes.build import build_scene  # noqa: E402
from worldclips.scenes.dressing import photo_dress  # noqa: E402
from worldclips.scenes.scenarios.loader import load_scenario, preset_names  # noqa: E402
from worldclips.scenes.scenarios.sampler import sample_scenario_clip  # noqa: E402
from worldclips.shards.job.recipe import draw_seed  # noqa: E402
from worldclips.shards.format.preview import outlined_frames_sheet  # noqa: E402
from worldclips.shards.format.properties import ClipData, measure  # noqa: E402
from worldclips.shards.format.sample import build_meta, ground_truth_arrays  # noqa: E402

SEED = 0
COUNT = 6
KEY_FRAMES = {"occluded": "first_hidden_frame", "seated": "seated_frame", "reaches_floor": "floor_frame", "collides": "first_frame"}


def _caption(name: str, results: dict, attempt: int) -> str:
    parts = []
    for prop, result in results.items():
        values = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in list(result["values"].items())[:2])
        parts.append(f"{prop} {'ok' if result['passed'] else 'FAILED'} ({values})")
    return f"{name} (draw {attempt})  " + "; ".join(parts)


def scenario_sheet(name: str, size, renderer: RasterRenderer, body, split: str | None = None, draws: int = 8) -> Image.Image:
    stem, scenario = load_scenario(name)
    for attempt in range(draws):
        seed = draw_seed(SEED, 0, attempt)
        spec, info = sample_scenario_clip(stem, scenario, split or scenario.split, SEED, 0, seed, size=size)
        spec = photo_dress(spec)  # the default look of `worldclips generate`
        scene = build_scene(spec, body)
        clip = renderer.render(scene)
        meta = build_meta("preview-00000000", "preview", spec, scene, body.name, "raster", {}, info)
        results = measure(scenario.properties, ClipData.from_arrays(meta, clip.segmentation, ground_truth_arrays(scene, clip)))
        if all(r["passed"] for r in results.values()):
            break
    frames = np.linspace(0, spec.num_frames - 1, COUNT).round().astype(int)
    first = next(iter(results.values()), None)
    key = KEY_FRAMES.get(first["check"]) if first else None
    if key and first["values"].get(key, -1) >= 0:
        wanted = int(first["values"][key]) + (int(first["values"].get("hidden_frames", 0)) // 2)
        frames[int(np.argmin(np.abs(frames - wanted)))] = wanted
    frames = np.unique(frames)
    named = {info["roles"].get(check_value, check_value) for r in results.values() for check_value in r["params"].values() if isinstance(check_value, str)}
    outlined = [row["id"] for row in scene.instances() if row["name"] in named and row["kind"] == "object"]
    caption = _caption(stem, results, attempt)[: 6 * len(frames) * spec.width // 36]
    return outlined_frames_sheet(clip.rgb, clip.segmentation, frames, outlined, caption)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "images"))
    parser.add_argument("--scenarios", nargs="+", default=preset_names())
    parser.add_argument("--size", default="256x192")
    parser.add_argument("--split", choices=["id", "ood"], default=None)
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.lower().split("x"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    body = MannequinBody()
    renderer = RasterRenderer(*size, supersample=3)
    try:
        for name in args.scenarios:
            image = scenario_sheet(name, size, renderer, body, args.split).quantize(colors=256, method=Image.Quantize.MEDIANCUT)
            path = out / f"scenario-{Path(name).stem}{'-' + args.split if args.split else ''}.png"
            image.save(path, optimize=True)
            print(f"{path} ({path.stat().st_size // 1024} KB)")
    finally:
        renderer.release()


if __name__ == "__main__":
    main()
