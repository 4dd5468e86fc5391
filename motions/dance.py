"""Procedural dance loop: a step-touch to the beat with bounce, hip sway, arm pumps and head nods.

One bar is four beats: the right foot steps out to the right, the left foot closes next to it,
the left foot steps back out to the left, the right foot closes; the loop repeats from
``start`` to the end of the clip. Each step takes ``STEP_SHARE`` of a beat; the knees dip on
every beat, the pelvis sways over the supporting foot, the arms swing in alternation with bent
elbows and the chest twists with the bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from worldclips.motions.body import Skeleton
from worldclips.motions.conventions import body_orientation_for_heading
from worldclips.motions.generated import GeneratedMotion, contact_labels
from worldclips.motions.idle import STANCE_WIDTH_RANGE, stance_feet
from worldclips.motions.kinematics import rot_x
from worldclips.motions.plan import MotionPlan, realize
from worldclips.motions.rig import Rig
from worldclips.motions.standing import standing_targets, with_fields
from worldclips.motions.steps import Step, plan_steps
from worldclips.motions.validation import betas as check_betas
from worldclips.motions.validation import check_family, duration, frames, real, reals

STEP_SHARE = 0.55  # share of a beat a stepping foot is in the air
# (side, sideways shift of that foot in step lengths, to the body's right) per beat of a bar
BAR = ((1, 1.0), (0, 1.0), (0, -1.0), (1, -1.0))


@dataclass(frozen=True)
class DanceParams:
    """A step-touch dance loop.

    position: world XY (m) between the feet at the start; heading: facing (rad).
    tempo: beats per minute ([70, 140]); step: sideways step length (m, [0.1, 0.35]).
    bounce: knee dip per beat ([0, 1]); arms: arm swing ([0, 1]); start: seconds before the
    first step. stance_width: m ([0.08, 0.5]); phase: breathing offset ([0, 1)).
    """

    position: tuple[float, float]
    heading: float
    tempo: float = 110.0
    step: float = 0.25
    bounce: float = 0.6
    arms: float = 0.7
    start: float = 0.2
    stance_width: float = 0.22
    phase: float = 0.0
    family: Literal["dance"] = "dance"

    def __post_init__(self) -> None:
        check_family(self, "dance")
        object.__setattr__(self, "position", reals("DanceParams.position", self.position, count=2))
        object.__setattr__(self, "heading", real("DanceParams.heading", self.heading))
        object.__setattr__(self, "tempo", real("DanceParams.tempo", self.tempo, 70.0, 140.0))
        object.__setattr__(self, "step", real("DanceParams.step", self.step, 0.1, 0.35))
        object.__setattr__(self, "bounce", real("DanceParams.bounce", self.bounce, 0.0, 1.0))
        object.__setattr__(self, "arms", real("DanceParams.arms", self.arms, 0.0, 1.0))
        object.__setattr__(self, "start", duration("DanceParams.start", self.start))
        width = real("DanceParams.stance_width", self.stance_width, *STANCE_WIDTH_RANGE)
        object.__setattr__(self, "stance_width", width)
        object.__setattr__(self, "phase", real("DanceParams.phase", self.phase, 0.0, 1.0, high_open=True))


def dance_plan(rig: Rig, params: DanceParams, t: np.ndarray) -> MotionPlan:
    """The plan of the dance loop at times ``t`` (T,) seconds."""
    beat = 60.0 / params.tempo
    right = np.array([np.sin(params.heading), -np.cos(params.heading)])
    ankle, yaw = stance_feet(rig, np.asarray(params.position), params.heading, params.stance_width)
    position = ankle[:, :2].copy()
    steps = []
    beats = int(np.ceil(max(float(t[-1]) - params.start, 0.0) / beat)) + 1
    for k in range(beats):
        side, shift = BAR[k % 4]
        lift = params.start + k * beat
        position[side] = position[side] + shift * params.step * right
        steps.append(Step(side, lift, lift + STEP_SHARE * beat, tuple(position[side]), float(yaw[side])))
    feet = plan_steps(rig, ankle, yaw, steps, t, height=0.05)
    on = np.clip((t - params.start) / beat, 0.0, 1.0)  # eases the groove in over the first beat
    on = on * on * (3.0 - 2.0 * on)
    beat_phase = 2.0 * np.pi * np.clip(t - params.start, 0.0, None) / beat
    bar_phase = beat_phase / 4.0
    dip = params.bounce * 0.035 * rig.scale * on * (0.5 + 0.5 * np.cos(beat_phase - 0.6 * np.pi))
    heading = np.full(len(t), params.heading)
    base = standing_targets(rig, feet, heading, t, phase=params.phase, drop=dip)
    swing = params.arms * on * 0.8 * np.sin(2.0 * bar_phase)
    arms = np.stack([0.35 * on + swing, 0.35 * on - swing], axis=1)
    elbow = 0.2 + on[:, None] * (0.9 + 0.3 * params.arms * np.stack([np.sin(beat_phase), -np.sin(beat_phase)], 1))
    spine = base.spine.copy()
    spine[:, 1] += 0.18 * params.arms * on * np.sin(2.0 * bar_phase)
    spine[:, 0] += 0.05 * on
    nod = 0.06 + 0.06 * params.bounce * on * np.cos(beat_phase - 0.6 * np.pi)
    targets = with_fields(
        base, arm_swing=arms, elbow=elbow, spine=spine,
        head=body_orientation_for_heading(heading) @ rot_x(nod),
    )  # fmt: skip
    return MotionPlan(targets=targets, contact=contact_labels(feet.heel_contact, feet.toe_contact), smoothing=0.1)


def dance(skeleton: Skeleton, betas: np.ndarray, params: DanceParams, fps: float, num_frames: int) -> GeneratedMotion:
    """Dance ``params`` for ``num_frames`` frames at ``fps`` with the body ``skeleton`` / ``betas`` (10,)."""
    fps, num_frames = frames(fps, num_frames)
    betas = check_betas(betas)
    if not isinstance(params, DanceParams):
        raise ValueError(f"params: expected DanceParams, got {type(params).__name__}")
    rig = Rig.from_skeleton(skeleton)
    return realize(rig, betas, fps, dance_plan(rig, params, np.arange(num_frames) / fps))
