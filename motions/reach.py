"""Procedural reach: one hand moves to a 3D target and holds it there (arm IK), then returns.

The person stands still (motions.idle) and bends as much as the target needs: the pelvis turns
a little towards it, the chest twists, the trunk flexes forwards and the knees bend, by the least
amount (searched over a bend scale) that brings the shoulder within arm's reach. The hand
follows its IK weight: 0 before ``start``, easing to 1 over ``reach_time``, held for ``hold``
seconds, back to 0 over ``return_time``. The head looks at the target while reaching.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from worldclips.motions.arms import ARM_JOINTS, arm_lengths
from worldclips.motions.body import Skeleton
from worldclips.motions.conventions import NUM_JOINTS, body_orientation_for_heading
from worldclips.motions.generated import GeneratedMotion
from worldclips.motions.idle import STANCE_WIDTH_RANGE, IdleParams, idle_plan
from worldclips.motions.kinematics import blend_rotations, forward_kinematics, keyframes, rot_x, rot_y
from worldclips.motions.plan import MotionPlan, realize
from worldclips.motions.rig import SIDES, Rig
from worldclips.motions.standing import with_fields
from worldclips.motions.synthesis import BodyTargets
from worldclips.motions.upper_body import set_spine
from worldclips.motions.validation import betas as check_betas
from worldclips.motions.validation import check_family, choice, duration, frames, real, reals

TIME_RANGE = (0.3, 3.0)  # s to reach or to return
REACH_SHARE = 0.97  # the shoulder is brought within this share of the arm's length
BENDS = np.linspace(0.0, 1.5, 31)


@dataclass(frozen=True)
class ReachParams:
    """Reaching with one hand towards a point and holding it.

    position: world XY (m) between the feet; heading: facing (rad).
    target: world XYZ (m) the wrist reaches; side: "left" or "right" hand.
    start: seconds before the reach; reach_time, return_time: seconds ([0.3, 3.0]); hold: seconds
    at the target. stance_width: m ([0.08, 0.5]); phase: idle sway offset ([0, 1)).
    """

    position: tuple[float, float]
    heading: float
    target: tuple[float, float, float]
    side: str = "right"
    start: float = 0.2
    reach_time: float = 0.8
    hold: float = 1.0
    return_time: float = 0.8
    stance_width: float = 0.22
    phase: float = 0.0
    family: Literal["reach"] = "reach"

    def __post_init__(self) -> None:
        check_family(self, "reach")
        object.__setattr__(self, "position", reals("ReachParams.position", self.position, count=2))
        object.__setattr__(self, "heading", real("ReachParams.heading", self.heading))
        target = reals("ReachParams.target", self.target, count=3)
        if not 0.0 <= target[2] <= 2.5:
            raise ValueError(f"ReachParams.target: expected a height in [0, 2.5] m, got {target[2]:g}")
        object.__setattr__(self, "target", target)
        choice("ReachParams.side", self.side, SIDES)
        object.__setattr__(self, "start", duration("ReachParams.start", self.start))
        object.__setattr__(self, "reach_time", real("ReachParams.reach_time", self.reach_time, *TIME_RANGE))
        object.__setattr__(self, "hold", duration("ReachParams.hold", self.hold))
        object.__setattr__(self, "return_time", real("ReachParams.return_time", self.return_time, *TIME_RANGE))
        width = real("ReachParams.stance_width", self.stance_width, *STANCE_WIDTH_RANGE)
        object.__setattr__(self, "stance_width", width)
        object.__setattr__(self, "phase", real("ReachParams.phase", self.phase, 0.0, 1.0, high_open=True))

    @property
    def duration(self) -> float:
        """Seconds from the clip start until the hand is back."""
        return self.start + self.reach_time + self.hold + self.return_time


def bend_towards(rig: Rig, targets: BodyTargets, amount: np.ndarray, azimuth: float) -> BodyTargets:
    """``targets`` bent by (T,) ``amount`` in [0, 1] towards a point at ``azimuth`` (rad, relative
    to the facing): pelvis turn, lowering and forward tilt, chest twist and trunk flexion."""
    a = np.asarray(amount, dtype=np.float64)
    turn = np.clip(azimuth, -1.2, 1.2)
    pelvis = targets.pelvis.copy()
    pelvis[:, 2] -= a * 0.3 * rig.pelvis_height
    rotation = targets.pelvis_rotation @ rot_y(0.3 * turn * a) @ rot_x(0.45 * a)
    spine = targets.spine.copy()
    spine[:, 0] += 0.9 * a
    spine[:, 1] += 0.6 * turn * a
    return with_fields(targets, pelvis=pelvis, pelvis_rotation=rotation, spine=spine)


def shoulder_at(rig: Rig, targets: BodyTargets, side: int) -> np.ndarray:
    """(T, 3) world shoulder joint of ``targets`` (torso forward kinematics, arms irrelevant)."""
    frames_ = len(targets.pelvis)
    local = np.broadcast_to(np.eye(3), (frames_, NUM_JOINTS, 3, 3)).copy()
    set_spine(local, *targets.spine.T)
    _, positions = forward_kinematics(rig.rest_joints, targets.pelvis_rotation, targets.pelvis, local)
    return positions[:, ARM_JOINTS[side][1]]


def required_bend(rig: Rig, targets: BodyTargets, frame: int, target: np.ndarray, side: int, azimuth: float) -> float:
    """The least bend (motions.reach.bend_towards) at ``frame`` that brings the shoulder within reach of
    ``target``; the bend that comes closest if none does (none for a target above the shoulder)."""
    one = BodyTargets(**{k: (None if v is None else np.repeat(v[frame : frame + 1], len(BENDS), 0)) for k, v in vars(targets).items()})
    shoulders = shoulder_at(rig, bend_towards(rig, one, BENDS, azimuth), side)
    reach = REACH_SHARE * sum(arm_lengths(rig.rest_joints, side))
    distance = np.linalg.norm(shoulders - target, axis=1)
    ok = distance <= reach
    return float(BENDS[np.argmax(ok)]) if ok.any() else float(BENDS[np.argmin(distance)])


def look_at(head: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(T, 3, 3) head orientation looking from (T, 3) ``head`` towards (3,) or (T, 3) ``target``."""
    delta = target - head
    azimuth = np.arctan2(delta[:, 1], delta[:, 0])
    pitch = np.arctan2(-delta[:, 2], np.linalg.norm(delta[:, :2], axis=1))
    return body_orientation_for_heading(azimuth) @ rot_x(np.clip(pitch, -0.5, 0.9))


def reach_plan(rig: Rig, params: ReachParams, t: np.ndarray) -> MotionPlan:
    """The plan of a reach at times ``t`` (T,) seconds."""
    idle = IdleParams(position=params.position, heading=params.heading, sway=0.5, phase=params.phase, stance_width=params.stance_width)
    base = idle_plan(rig, idle, t)
    side = SIDES.index(params.side)
    target = np.asarray(params.target)
    delta = target[:2] - np.asarray(params.position)
    azimuth = float(np.angle(np.exp(1j * (np.arctan2(delta[1], delta[0]) - params.heading))))
    t1 = params.start + params.reach_time
    t2 = t1 + params.hold
    weight = keyframes(t, [params.start, t1, t2, t2 + params.return_time], [0.0, 1.0, 1.0, 0.0])
    frame = int(np.argmin(np.abs(t - t1))) if len(t) > 1 else 0
    bend = required_bend(rig, base.targets, frame, target, side, azimuth)
    targets = bend_towards(rig, base.targets, bend * weight, azimuth)
    head = look_at(targets.pelvis + np.array([0.0, 0.0, 0.6]), target)
    hand = np.zeros((len(t), 2, 3))
    hand[:, side] = target
    hand_weight = np.zeros((len(t), 2))
    hand_weight[:, side] = weight
    curl = np.ones((len(t), 2))
    curl[:, side] = 1.0 - 0.7 * weight
    targets = with_fields(
        targets, hand=hand, hand_weight=hand_weight, finger_curl=curl,
        head=blend_rotations(targets.head, head, 0.8 * weight),
    )  # fmt: skip
    return MotionPlan(targets=targets, contact=base.contact, smoothing=0.3)


def reach(skeleton: Skeleton, betas: np.ndarray, params: ReachParams, fps: float, num_frames: int) -> GeneratedMotion:
    """Reach ``params`` for ``num_frames`` frames at ``fps`` with the body ``skeleton`` / ``betas`` (10,)."""
    fps, num_frames = frames(fps, num_frames)
    betas = check_betas(betas)
    if not isinstance(params, ReachParams):
        raise ValueError(f"params: expected ReachParams, got {type(params).__name__}")
    rig = Rig.from_skeleton(skeleton)
    return realize(rig, betas, fps, reach_plan(rig, params, np.arange(num_frames) / fps))
