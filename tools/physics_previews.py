"""Contact sheets of the physics setups for docs/physics.md (docs/images/physics-<setup>.png).

    python tools/physics_previews.py [--out docs/images] [--setups glass_off_table ...]

Each setup is drawn from the config's ``scene.physics`` exactly as ``worldclips generate``
draws it (SEEDS picks the run seed shown), built (motions, MuJoCo simulation) and rendered by
the raster backend. A sheet has a caption (the values drawn), a row of RGB frames spread over
the clip and the same frames' instance segmentation below; dynamic props are outlined in the
RGB row. Images are palette-quantised to stay small.
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
from worldclips.scenes.physics_config import PhysicsConfig  # noqa: E402
from worldclips.scenes.sampling import sample_clip_spec
from worldclips.scenes.scene_config import SceneConfig  # noqa: E402
from worldclips.scenes.spec import PHYSICS_SETUPS  # noqa: E402
from worldclips.shards.format.preview import outlined_frames_sheet  # noqa: E402

FPS, FRAMES, SIZE = 24.0, 48, (256, 192)
COUNT = 6
SEEDS = {"glass_off_table": 0, "ball_throw": 0, "knock_over": 0, "stack_topple": 1, "uniform": 2, "collision": 0, "parabola": 0}
SPLITS = {"uniform": "id", "collision": "id", "parabola": "id"}


def _caption(spec) -> str:
    physics = spec.physics
    values = ", ".join(f"{k}={v:g}" for k, v in list(physics.values.items())[:6])
    choices = ", ".join(f"{k}={v}" for k, v in physics.choices.items())
    return f"{physics.setup} (split {physics.split})  {choices}{'  ' if choices else ''}{values}"


def physics_sheet(setup: str, seed: int, renderer: RasterRenderer, body) -> Image.Image:
    config = SceneConfig(physics=PhysicsConfig(**{setup: 1.0}, split=SPLITS.get(setup, "id")))
    spec = photo_dress(sample_clip_spec(config, seed, 0, FPS, FRAMES, *SIZE))  # the default look
    scene = build_scene(spec, body)
    clip = renderer.render(scene)
    frames = np.unique(np.linspace(0, FRAMES - 1, COUNT).round().astype(int))
    dynamic = [o.instance_id for o in scene.objects if o.dynamic]
    return outlined_frames_sheet(clip.rgb, clip.segmentation, frames, dynamic, _caption(spec))  # dynamic props outlined


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "images"))
    parser.add_argument("--setups", nargs="+", default=list(PHYSICS_SETUPS), choices=PHYSICS_SETUPS)
    parser.add_argument("--seed", type=int, default=None, help="run seed for every setup (default: SEEDS)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    body = MannequinBody()
    renderer = RasterRenderer(*SIZE, supersample=3)
    try:
        for setup in args.setups:
            seed = SEEDS[setup] if args.seed is None else args.seed
            image = physics_sheet(setup, seed, renderer, body).quantize(colors=256, method=Image.Quantize.MEDIANCUT)
            path = out / f"physics-{setup}.png"
            image.save(path, optimize=True)
            print(f"{path} ({path.stat().st_size // 1024} KB)")
    finally:
        renderer.release()


if __name__ == "__main__":
    main()
