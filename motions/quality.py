"""Quality metrics of any SMPL-X motion, and ``worldclips motions check FILE_OR_DIR``.

Measured on the motion as characters use it: resampled to ANALYSIS_FPS, posed with the body
model, lifted so the lowest foot vertex touches the ground (motions.ground).

- slide: horizontal displacement per frame (at ANALYSIS_FPS) of the heel and toe points
  (motions.contacts) while they are within CONTACT_HEIGHT of the ground in both frames;
  reported as the 95th percentile and the maximum, in mm.
- penetration: depth of the lowest foot vertex below z = 0 (mm) as the motion is given, before
  the lift (``ground_offset`` is the lift that was applied).
- float: median over frames of the lowest foot vertex's height after the lift (mm): a motion on
  flat ground has a foot down most of the time.
- spikes: frames where a body joint (pelvis to wrists) pops out of its path: its velocity jumps
  there and jumps back (velocity_spikes). A single velocity step (a foot hitting the ground)
  is not a spike; ``max_dv`` reports the largest velocity change between consecutive frames.
Contacts for the slide are the heel and toe points within CONTACT_HEIGHT of the ground and
slower than CONTACT_SPEED (faster feet near the ground are steps, not slides).
A motion is flagged when slide p95 > MAX_SLIDE_MM, float > MAX_FLOAT_MM or any spike occurs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from worldclips.motions.amass import MotionFileError
from worldclips.motions.body import BodyModel
from worldclips.motions.contacts import foot_points, point_speed
from worldclips.motions.files import SUFFIXES, load_motion_file, resample
from worldclips.motions.ground import lowest_foot_heights, shift_motion
from worldclips.motions.motion import MotionClip
from worldclips.motions.rig import Rig

ANALYSIS_FPS = 30.0
CONTACT_HEIGHT = 0.03  # m
CONTACT_SPEED = 0.5  # m/s (17 mm per frame at 30 fps)
POP_M = 0.06  # m a joint may leave the cubic through its neighbours' positions (at 30 fps)
MAX_SLIDE_MM = 10.0
MAX_FLOAT_MM = 30.0
BODY_JOINTS = 22


@dataclass(frozen=True)
class MotionQuality:
    """Metrics of one motion (see the module docstring); ``flags`` names what is wrong."""

    source: str
    frames: int
    fps: float
    slide_p95_mm: float
    slide_max_mm: float
    penetration_mm: float
    ground_offset_mm: float
    float_mm: float
    spikes: int
    max_dv: float
    flags: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.flags

    def line(self) -> str:
        status = "OK  " if self.ok else "BAD "
        flags = f"  [{', '.join(self.flags)}]" if self.flags else ""
        return (
            f"{status}{self.source}: {self.frames} frames at {self.fps:g} fps; slide p95 {self.slide_p95_mm:.1f} mm, "
            f"max {self.slide_max_mm:.1f} mm/frame; penetration {self.penetration_mm:.1f} mm "
            f"(lifted {self.ground_offset_mm:+.1f} mm); float {self.float_mm:.1f} mm; "
            f"spikes {self.spikes} (largest velocity change {self.max_dv:.2f} m/s){flags}"
        )


def slide_per_frame(points: np.ndarray, fps: float) -> np.ndarray:
    """(N,) horizontal displacements of (T, K, 3) points between consecutive frames in contact."""
    contact = (points[..., 2] < CONTACT_HEIGHT) & (point_speed(points, fps) < CONTACT_SPEED)
    both = contact[1:] & contact[:-1]
    step = np.linalg.norm(np.diff(points[..., :2], axis=0), axis=-1)
    return step[both]


def velocity_spikes(joints: np.ndarray, fps: float) -> tuple[int, float]:
    """(frames with a pop, largest velocity change in m/s) of (T, J, 3) joints.

    A pop is a joint leaving its path for a frame: its distance from the cubic through the two
    frames before and the two after exceeds POP_M. A smooth motion stays within millimetres of
    that cubic; a knee stopping dead in a hard landing (a 45 cm jump at 30 fps) deviates ~4.7 cm.
    """
    if len(joints) < 5:
        return 0, float(np.linalg.norm(np.diff(np.diff(joints, axis=0), axis=0), axis=-1).max() * fps) if len(joints) > 2 else 0.0
    predicted = (-joints[:-4] + 4.0 * joints[1:-3] + 4.0 * joints[3:-1] - joints[4:]) / 6.0
    deviation = np.linalg.norm(joints[2:-2] - predicted, axis=-1)
    change = np.linalg.norm(np.diff(joints, 2, axis=0), axis=-1) * fps
    return int(np.any(deviation > POP_M, axis=1).sum()), float(change.max())


def measure_motion(motion: MotionClip, body: BodyModel, source: str = "motion", resample_to: float | None = ANALYSIS_FPS) -> MotionQuality:
    """Quality metrics of ``motion`` posed with ``body``."""
    if resample_to and abs(motion.fps - resample_to) > 1e-9:
        frames = max(int(np.floor((motion.num_frames - 1) / motion.fps * resample_to)) + 1, 1)
        motion = resample(motion, resample_to, 0.0, frames)
    skeleton = body.skeleton(motion.betas)
    lowest = lowest_foot_heights(body.pose(motion), skeleton.sole_height)
    offset = -float(lowest.min())
    aligned = shift_motion(motion, offset)
    posed = body.pose(aligned)
    points = foot_points(Rig.from_skeleton(skeleton), aligned)
    slides = slide_per_frame(points, motion.fps) * 1000.0
    spikes, max_dv = velocity_spikes(posed.joints[:, :BODY_JOINTS], motion.fps)
    quality = dict(
        source=source, frames=motion.num_frames, fps=motion.fps,
        slide_p95_mm=float(np.percentile(slides, 95)) if slides.size else 0.0,
        slide_max_mm=float(slides.max()) if slides.size else 0.0,
        penetration_mm=max(0.0, -float(lowest.min()) * 1000.0), ground_offset_mm=offset * 1000.0,
        float_mm=float(np.median(lowest + offset)) * 1000.0, spikes=spikes, max_dv=max_dv,
    )  # fmt: skip
    flags = []
    if quality["slide_p95_mm"] > MAX_SLIDE_MM:
        flags.append(f"foot slide p95 above {MAX_SLIDE_MM:g} mm/frame")
    if quality["float_mm"] > MAX_FLOAT_MM:
        flags.append(f"feet float above the ground ({quality['float_mm']:.0f} mm)")
    if quality["spikes"]:
        flags.append(f"{quality['spikes']} joint-velocity spikes")
    return MotionQuality(**quality, flags=tuple(flags))


def motion_files(target: str | Path) -> list[Path]:
    """The file itself, or every .npz / .bvh under a directory (recursive, sorted)."""
    target = Path(target)
    if target.is_dir():
        return sorted(p for p in target.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not target.exists():
        raise FileNotFoundError(f"motions check: {target} does not exist")
    return [target]


def check(target: str | Path, body: BodyModel, out=print) -> int:
    """Print one line per motion file under ``target``; returns the number of bad or unreadable files."""
    files = motion_files(target)
    if not files:
        raise ValueError(f"motions check: no .npz or .bvh files under {target}")
    bad = 0
    betas = np.zeros(10)
    skeleton = body.skeleton(betas)
    for path in files:
        try:
            loaded = load_motion_file(path, skeleton, betas)
            quality = measure_motion(loaded.motion, body, source=str(path))
        except MotionFileError as error:
            out(f"ERR {error}")
            bad += 1
            continue
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as error:  # data the maths cannot take
            out(f"ERR {path}: cannot be measured ({type(error).__name__}: {' '.join(str(error).split())[:200]})")
            bad += 1
            continue
        out(quality.line())
        bad += not quality.ok
    out(f"{len(files) - bad} of {len(files)} motion file(s) OK")
    return bad


def check_command(target: str | Path, smplx_model_dir: str | None = None) -> int:
    """``worldclips motions check``: 0 when every file is fine, 1 when any is flagged or unreadable."""
    from worldclips.motions.bodies import make_body_model

    return 1 if check(target, make_body_model(smplx_model_dir)) else 0
