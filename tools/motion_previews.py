"""Contact sheets of every procedural motion for docs/motions.md (docs/images/motions-*.png).

    python tools/motion_previews.py [--out docs/images]

Each row is one motion (mean body, fixed parameters), a few frames spread over it, rendered with
the raster backend; the dots under a frame are its contact labels (filled: in contact), left
heel, left toe, right heel, right toe. Images are palette-quantised to stay small.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worldclips.motions.carry import CarryParams  # noqa: E402
from worldclips.motions.catalog import generate_motion  # noqa: E402
from worldclips.motions.dance import DanceParams  # noqa: E402
from worldclips.motions.idle import IdleParams  # noqa: E402
from worldclips.motions.jump import JumpParams  # noqa: E402
from worldclips.motions.mannequin_body import MannequinBody  # noqa: E402
from worldclips.motions.reach import ReachParams  # noqa: E402
from worldclips.motions.run import RunParams  # noqa: E402
from worldclips.motions.sequence import Segment, SequenceParams  # noqa: E402
from worldclips.motions.sit import SitParams, seat_height_for  # noqa: E402
from worldclips.motions.turn import TurnParams  # noqa: E402
from worldclips.motions.walk import WalkParams  # noqa: E402
from worldclips.motions.wave import WaveParams  # noqa: E402
from tools.motion_sheet import sheet, static_prop  # noqa: E402

FPS = 30.0
BETAS = np.zeros(10)


def _sequence() -> SequenceParams:
    wave = WaveParams((0.0, 0.0), -1.2, wave_time=0.6)
    turn = TurnParams((0.0, 0.0), -1.2, angle=1.2, start=0.1)
    jump = JumpParams((0.0, 0.0), 0.0, height=0.2, distance=0.4, start=0.1)
    idle = IdleParams(jump.landing_position, 0.0)
    return SequenceParams(tuple(Segment(m, m.duration + 0.4) for m in (wave, turn, jump)) + (Segment(idle, 0.5),))


SIT = SitParams((0.0, 0.0), 0.0, seat_height=seat_height_for(BETAS, 0.5), seat_depth=0.42, down_time=1.2, hold=0.6, up_time=1.2)
CARRY = CarryParams((0.0, 0.0), 0.0, "box", object_size=(0.22, 0.22, 0.22), steps=3)
# name -> (params, seconds, (azimuth deg, distance, height) of the camera, camera follows the pelvis)
MOTIONS = {
    "walk": (WalkParams(((0.0, 0.0), (8.0, 0.0)), (1.2, 1.5)), 1.6, (-90, 3.2, 1.1), True),
    "run": (RunParams(((0.0, 0.0), (12.0, 0.0)), (3.0,)), 0.9, (-90, 3.4, 1.1), True),
    "jump": (JumpParams((0.0, 0.0), 0.0, height=0.3, distance=0.6), 2.2, (-80, 3.6, 1.2), False),
    "sit": (SIT, SIT.duration + 0.2, (35, 3.2, 1.3), False),
    "reach": (ReachParams((0.0, 0.0), 0.0, target=(0.5, -0.3, 0.8), hold=0.5), 2.6, (-50, 3.0, 1.4), False),
    "carry": (CARRY, CARRY.duration + 0.2, (-70, 3.6, 1.3), False),
    "wave": (WaveParams((0.0, 0.0), -1.2, wave_time=1.2), 2.6, (-60, 3.0, 1.3), False),
    "turn": (TurnParams((0.0, 0.0), -1.57, angle=2.4, start=0.1), 2.0, (-30, 3.2, 1.4), False),
    "idle": (IdleParams((0.0, 0.0), -1.57, sway=2.0), 4.0, (-60, 3.0, 1.3), False),
    "dance": (DanceParams((0.0, 0.0), -1.57, tempo=110), 2.2, (-90, 3.2, 1.3), False),
    "sequence": (_sequence(), 7.4, (-120, 3.4, 1.4), False),
}
SHEETS = {
    "motions-locomotion.png": ("walk", "run", "jump"),
    "motions-interaction.png": ("sit", "reach", "carry"),
    "motions-in-place.png": ("wave", "turn", "dance", "sequence"),
}
FRAMES_PER_ROW = 7


def render_row(name: str, body: MannequinBody, renderer) -> Image.Image:
    params, seconds, view, track = MOTIONS[name]
    generated = generate_motion(params, body.skeleton(BETAS), BETAS, FPS, int(round(seconds * FPS)))
    props = []
    if name == "sit":
        size = (0.46, params.seat_depth, params.seat_height, 0.45)
        props.append(("chair", "chair", size, static_prop(params.chair_position, params.chair_yaw, generated.motion.num_frames)))
    if name == "carry":
        props.append(("box", "box", params.object_size, generated.objects["box"]))
    return sheet(generated, props, count=FRAMES_PER_ROW, size=(150, 190), view=view, title=name, renderer=renderer, track=track)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "images"))
    args = parser.parse_args(argv)
    from worldclips.render.raster import RasterRenderer

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    body = MannequinBody()
    renderer = RasterRenderer(150, 190, supersample=3)
    try:
        for filename, names in SHEETS.items():
            rows = [render_row(name, body, renderer) for name in names]
            image = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows)), (250, 250, 250))
            y = 0
            for row in rows:
                image.paste(row, (0, y))
                y += row.height
            image.quantize(colors=96, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(out / filename, optimize=True)
            print(f"{out / filename}: {(out / filename).stat().st_size // 1024} KB")
    finally:
        renderer.release()
    return 0


if __name__ == "__main__":
    sys.exit(main())
