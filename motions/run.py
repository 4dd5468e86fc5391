"""Procedural run along a path with turns and speed changes: the walk's machinery with a running gait.

The gait (motions.gait.RUN_STYLE) has a short stance, so both feet are off the ground between
one foot's toe-off and the other's landing (a flight phase, twice per cycle). The pelvis is
lowest at mid-stance and highest in flight, the trunk leans forwards, the elbows are bent about
70 degrees and the arms swing wide. Feet are planted exactly while on the ground.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from worldclips.motions.body import Skeleton
from worldclips.motions.gait import RUN_STYLE
from worldclips.motions.generated import GeneratedMotion
from worldclips.motions.plan import realize
from worldclips.motions.rig import Rig
from worldclips.motions.validation import betas as check_betas
from worldclips.motions.validation import check_family, frames
from worldclips.motions.walk import LocomotionBody, check_route, locomotion_plan

SPEED_RANGE = (2.0, 3.5)  # m/s (faster runs need longer strides than the leg IK keeps smooth)
RUN_BODY = LocomotionBody(
    sway=(0.012, 0.0), yaw=(0.05, 0.01), roll=(0.04, 0.0), tilt=(0.1, 0.02), height=0.93,
    bounce=(-0.03, 0.0), arm=(0.35, 0.06), elbow=(1.15, 0.05),
)  # fmt: skip


@dataclass(frozen=True)
class RunParams:
    """A run along a path; the fields mean what they mean in motions.walk.WalkParams.

    waypoints: (N >= 2) world XY points (m); speed_keys: (K >= 1) speeds in [2.0, 3.5] m/s;
    step_width (m, [0.05, 0.4]); arm_swing ([0, 3]); phase (cycles, [0, 1)).
    """

    waypoints: tuple[tuple[float, float], ...]
    speed_keys: tuple[float, ...]
    step_width: float = 0.12
    arm_swing: float = 1.0
    phase: float = 0.0
    family: Literal["run"] = "run"

    def __post_init__(self) -> None:
        check_family(self, "run")
        check_route(self, SPEED_RANGE)


def run(skeleton: Skeleton, betas: np.ndarray, params: RunParams, fps: float, num_frames: int) -> GeneratedMotion:
    """Run ``params`` for ``num_frames`` frames at ``fps`` with the body ``skeleton`` / ``betas`` (10,)."""
    fps, num_frames = frames(fps, num_frames)
    betas = check_betas(betas)
    if not isinstance(params, RunParams):
        raise ValueError(f"params: expected RunParams, got {type(params).__name__}")
    rig = Rig.from_skeleton(skeleton)
    plan = locomotion_plan(rig, params, np.arange(num_frames) / fps, RUN_STYLE, RUN_BODY)
    return realize(rig, betas, fps, plan)
