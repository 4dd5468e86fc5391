"""Procedural sit-down onto a chair and stand-up again; the feet stay planted throughout.

The person starts standing with the back to the chair, feet where they will rest while seated,
or, with ``approach_steps``, a few steps away: they walk to that spot, turning on the way, and
sit when they have arrived.
Sitting: the hips move back and the trunk leans forwards, then the pelvis lowers onto the seat
and the trunk comes upright, hands on the thighs. After ``hold`` seconds the person leans
forwards again, shifts the weight over the feet and stands up. The chair is given like the
``chair`` prop (scenes.meshes.chair): footprint centre, yaw, seat height and depth; the backrest
lies along the chair's -Y side, so the person faces the chair's +Y (heading = yaw + pi / 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from worldclips.motions.body import Skeleton
from worldclips.motions.conventions import body_orientation_for_heading
from worldclips.motions.generated import GeneratedMotion, contact_labels
from worldclips.motions.idle import STANCE_WIDTH_RANGE, stance_feet
from worldclips.motions.kinematics import keyframes, minimum_jerk, rot_x
from worldclips.motions.plan import MotionPlan, realize
from worldclips.motions.rig import Rig
from worldclips.motions.standing import STANDING_HEIGHT, standing_targets, with_fields
from worldclips.motions.standing import heading_track
from worldclips.motions.steps import Step, plan_steps, smooth
from worldclips.motions.validation import betas as check_betas
from worldclips.motions.validation import check_family, duration, frames, real, reals

SEAT_CLEARANCE = 0.21  # m (leg-scaled) from the seat surface up to the pelvis joint when seated (measured on mannequin-x)
BACK_CLEARANCE = 0.13  # m (leg-scaled) from the backrest's front to the pelvis joint
BACKREST = 0.04  # m thickness of the chair's backrest (scenes.meshes.chair)
TIME_RANGE = (0.6, 3.0)  # s to sit down or stand up
# Rest knee joint height above the sole of SMPL-X (and mannequin-x) as a linear function of
# the ten betas (fitted on mannequin-x; joints are linear in the betas, residual < 0.5 mm).
KNEE_HEIGHT = (0.4791, (0.03134, -0.00535, -0.00701, 0.00489, -0.00034, 0.00578, -0.0023, 0.00035, -0.00201, 0.00085))
SEAT_RATIO = (0.76, 0.84)
APPROACH_START = 0.05  # s before the first step of the walk to the chair
APPROACH_BLEND = 0.3  # s over which the walking pelvis hands over to the sitting one  # seat heights (in knee heights) that a body sits on without touching the seat edge


@dataclass(frozen=True)
class SitParams:
    """Sitting down on a chair and standing up.

    chair_position: world XY (m) of the chair's footprint centre; chair_yaw: its yaw (rad).
    seat_height: height of the seat surface (m, [0.3, 0.6]); seat_depth: the chair's depth
        (m, [0.35, 0.6]).
    start: seconds standing first; down_time, up_time: seconds to sit down / stand up
        ([0.6, 3.0]); hold: seconds seated in between.
    stance_width: distance between the ankles (m, [0.08, 0.5]); phase: breathing offset ([0, 1)).
    chair: name of the chair prop in the clip (informational; "" if none).
    approach_steps: steps walked to the chair first ([0, 8]; 0: standing in front of it); the
        walk starts ``approach_steps`` x ``approach_step`` metres (step length, [0.15, 0.5])
        from the standing spot, in the direction ``approach_angle`` (rad from the seated facing,
        |angle| <= 2.4: beside or in front of the chair), with ``approach_time`` seconds per step
        ([0.35, 1.0]); the turn is spread over the steps (at most 60 degrees each). ``start``
        must leave time for the walk (``approach_duration``).
    """

    chair_position: tuple[float, float]
    chair_yaw: float
    seat_height: float = 0.45
    seat_depth: float = 0.45
    start: float = 0.3
    down_time: float = 1.2
    hold: float = 1.0
    up_time: float = 1.2
    stance_width: float = 0.24
    phase: float = 0.0
    chair: str = ""
    approach_steps: int = 0
    approach_step: float = 0.35
    approach_angle: float = 1.5708
    approach_time: float = 0.55
    family: Literal["sit"] = "sit"

    def __post_init__(self) -> None:
        check_family(self, "sit")
        object.__setattr__(self, "chair_position", reals("SitParams.chair_position", self.chair_position, count=2))
        object.__setattr__(self, "chair_yaw", real("SitParams.chair_yaw", self.chair_yaw))
        object.__setattr__(self, "seat_height", real("SitParams.seat_height", self.seat_height, 0.3, 0.6))
        object.__setattr__(self, "seat_depth", real("SitParams.seat_depth", self.seat_depth, 0.35, 0.6))
        object.__setattr__(self, "start", duration("SitParams.start", self.start))
        object.__setattr__(self, "down_time", real("SitParams.down_time", self.down_time, *TIME_RANGE))
        object.__setattr__(self, "hold", duration("SitParams.hold", self.hold))
        object.__setattr__(self, "up_time", real("SitParams.up_time", self.up_time, *TIME_RANGE))
        width = real("SitParams.stance_width", self.stance_width, *STANCE_WIDTH_RANGE)
        object.__setattr__(self, "stance_width", width)
        object.__setattr__(self, "phase", real("SitParams.phase", self.phase, 0.0, 1.0, high_open=True))
        if not isinstance(self.chair, str):
            raise ValueError(f"SitParams.chair: expected a prop name, got {self.chair!r}")
        steps = self.approach_steps
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 0 <= steps <= 8:
            raise ValueError(f"SitParams.approach_steps: expected an integer in [0, 8], got {steps!r}")
        object.__setattr__(self, "approach_steps", int(steps))
        object.__setattr__(self, "approach_step", real("SitParams.approach_step", self.approach_step, 0.15, 0.5))
        object.__setattr__(self, "approach_angle", real("SitParams.approach_angle", self.approach_angle, -2.4, 2.4))
        object.__setattr__(self, "approach_time", real("SitParams.approach_time", self.approach_time, 0.35, 1.0))
        if steps and abs(self.approach_turn) / steps > np.pi / 3 + 1e-9:
            raise ValueError(f"SitParams.approach_steps: turning {np.degrees(abs(self.approach_turn)):.0f} degrees needs more than {steps} steps")
        if self.start < self.approach_duration - 1e-9:
            raise ValueError(f"SitParams.start: the sitter walks until {self.approach_duration:.3f} s, got start {self.start}")

    @property
    def duration(self) -> float:
        """Seconds from the clip start until the person stands again."""
        return self.start + self.down_time + self.hold + self.up_time

    @property
    def heading(self) -> float:
        """Direction the seated person faces (rad)."""
        return self.chair_yaw + np.pi / 2

    @property
    def approach_duration(self) -> float:
        """Seconds until the walk to the chair has ended (0 without one)."""
        return APPROACH_START + (self.approach_steps + 1) * self.approach_time if self.approach_steps else 0.0

    @property
    def approach_offset(self) -> np.ndarray:
        """(2,) from the standing spot to where the walk starts."""
        angle = self.heading + self.approach_angle
        return self.approach_steps * self.approach_step * np.array([np.cos(angle), np.sin(angle)])

    @property
    def approach_turn(self) -> float:
        """Radians the walker turns on the way (counter-clockwise positive)."""
        return float(np.angle(np.exp(1j * (-self.approach_angle - np.pi))))


def knee_height(betas: np.ndarray) -> float:
    """Rest knee joint height above the sole (m) of the body with these (10,) betas."""
    return float(KNEE_HEIGHT[0] + np.dot(KNEE_HEIGHT[1], np.asarray(betas, dtype=np.float64)))


def seat_height_for(betas: np.ndarray, u: float) -> float:
    """A comfortable seat height (m) for the body with these betas; ``u`` in [0, 1] picks within SEAT_RATIO."""
    ratio = SEAT_RATIO[0] + (SEAT_RATIO[1] - SEAT_RATIO[0]) * float(u)
    return float(np.clip(ratio * knee_height(betas), 0.3, 0.6))


def seated_pelvis(rig: Rig, params: SitParams) -> np.ndarray:
    """(3,) world pelvis joint of the seated person."""
    forward = np.array([np.cos(params.heading), np.sin(params.heading)])
    back = -0.5 * params.seat_depth + BACKREST + BACK_CLEARANCE * rig.scale
    xy = np.asarray(params.chair_position) + back * forward
    return np.array([*xy, params.seat_height + SEAT_CLEARANCE * rig.scale])


def standing_spot(rig: Rig, params: SitParams) -> np.ndarray:
    """(2,) world XY between the feet (where the person stands before sitting down)."""
    forward = np.array([np.cos(params.heading), np.sin(params.heading)])
    thigh = float(np.mean(rig.thigh_length))
    return seated_pelvis(rig, params)[:2] + (1.15 * thigh + 0.05 * rig.scale) * forward


def _hip_offset(rig: Rig, lean: np.ndarray) -> np.ndarray:
    """(..., 2) mean hip joint minus pelvis joint in (forward, up) for a pelvis leaning by ``lean``."""
    hy, hz = rig.hip_offset[:, 1].mean(), rig.hip_offset[:, 2].mean()
    return np.stack([hy * np.sin(lean) + hz * np.cos(lean), hy * np.cos(lean) - hz * np.sin(lean)], axis=-1)


def _leg_angles(rig: Rig, hip: np.ndarray) -> tuple[float, float]:
    """Shin angle (from vertical, forwards) and thigh angle (from vertical, backwards) of a leg
    reaching from the ankle at (0, ankle height) to ``hip`` (forward, up), knee forwards."""
    l1, l2 = float(np.mean(rig.thigh_length)), float(np.mean(rig.shin_length))
    ankle = np.array([0.0, float(np.mean(rig.ankle_height))])
    delta = hip - ankle
    d = float(np.clip(np.linalg.norm(delta), abs(l1 - l2) + 1e-6, 0.995 * (l1 + l2)))
    u = delta / np.linalg.norm(delta)
    cos_a = np.clip((l2**2 + d**2 - l1**2) / (2.0 * l2 * d), -1.0, 1.0)
    knee = ankle + l2 * (cos_a * u + np.sqrt(1.0 - cos_a**2) * np.array([u[1], -u[0]]))
    shin, thigh = knee - ankle, hip - knee
    return float(np.arctan2(shin[0], shin[1])), float(np.arctan2(-thigh[0], thigh[1]))


def sit_plan(rig: Rig, params: SitParams, t: np.ndarray) -> MotionPlan:
    """The plan of sitting down and standing up at times ``t`` (T,) seconds.

    The path is planned in the sagittal plane through the feet: the shin turns forwards about
    the ankle and the thigh backwards about the knee, both eased, so the knees move forwards
    while the hips go back and down (never through the seat's front edge).
    """
    heading = np.full(len(t), params.heading)
    forward = np.array([np.cos(params.heading), np.sin(params.heading)])
    spot = standing_spot(rig, params)
    if params.approach_steps:
        feet = _approach_feet(rig, params, spot, t)
        heading = smooth(heading_track(feet), t, 0.08)
    else:
        ankle, yaw = stance_feet(rig, spot, params.heading, params.stance_width)
        feet = plan_steps(rig, ankle, yaw, [], t)
    base = standing_targets(rig, feet, heading, t, phase=params.phase)
    t1 = params.start + params.down_time
    t2 = t1 + params.hold
    t3 = t2 + params.up_time
    keys = [params.start, params.start + 0.5 * params.down_time, t1, t2, t2 + 0.45 * params.up_time, t3]
    lean = keyframes(t, keys, [0.02, 0.5, -0.08, -0.08, 0.55, 0.02])
    seat = seated_pelvis(rig, params)
    seated = np.array([(seat[:2] - spot) @ forward, seat[2]])
    standing = np.array([-0.02 * rig.scale, rig.pelvis_height * STANDING_HEIGHT])
    shin0, thigh0 = _leg_angles(rig, standing + _hip_offset(rig, 0.02))
    shin1, thigh1 = _leg_angles(rig, seated + _hip_offset(rig, -0.08))
    down = np.clip((t - params.start) / params.down_time, 0.0, 1.0)
    up = np.clip((t - t2) / params.up_time, 0.0, 1.0)
    # Sitting down the knees lead a little; standing up the thighs lift first (weight forwards).
    knees = np.where(t < t2, minimum_jerk(down / 0.85), 1.0 - minimum_jerk((up - 0.1) / 0.9))
    hips = np.where(t < t2, minimum_jerk((down - 0.05) / 0.95), 1.0 - minimum_jerk(up / 0.9))
    shin = shin0 + (shin1 - shin0) * knees
    thigh = thigh0 + (thigh1 - thigh0) * hips
    l1, l2 = float(np.mean(rig.thigh_length)), float(np.mean(rig.shin_length))
    hip = np.stack([l2 * np.sin(shin) - l1 * np.sin(thigh), np.mean(rig.ankle_height) + l2 * np.cos(shin) + l1 * np.cos(thigh)], 1)
    sagittal = hip - _hip_offset(rig, lean)
    pelvis = np.concatenate([spot + sagittal[:, :1] * forward, sagittal[:, 1:]], axis=1)
    pelvis[:, 2] += base.pelvis[:, 2] - rig.pelvis_height * STANDING_HEIGHT  # breathing
    if params.approach_steps:  # walking first: the stepping pelvis, handed over before sitting
        handover = minimum_jerk((t - (params.start - APPROACH_BLEND)) / APPROACH_BLEND)[:, None]
        pelvis = base.pelvis + (pelvis - base.pelvis) * handover
    spine = keyframes(t, keys, [0.0, 0.35, 0.12, 0.12, 0.4, 0.0])
    arms = keyframes(t, keys, [0.03, 0.6, 0.45, 0.45, 0.8, 0.03])
    elbow = keyframes(t, keys, [0.2, 0.4, 1.0, 1.0, 0.35, 0.2])
    spine3 = base.spine.copy()
    spine3[:, 0] += spine
    targets = with_fields(
        base, pelvis=pelvis, pelvis_rotation=body_orientation_for_heading(heading) @ rot_x(lean), spine=spine3,
        arm_swing=np.stack([arms, arms], 1), elbow=np.stack([elbow, elbow], 1),
        head=body_orientation_for_heading(heading) @ rot_x(0.06 + 0.3 * (lean > 0.2) * (lean - 0.2)),
    )  # fmt: skip
    return MotionPlan(targets=targets, contact=contact_labels(feet.heel_contact, feet.toe_contact), smoothing=0.15)


def _approach_feet(rig: Rig, params: SitParams, spot: np.ndarray, t: np.ndarray):
    """Foot tracks of the walk to the standing spot: one foot per step onto the next stance
    (centres evenly spaced, the turn spread evenly), then the trailing foot closes the stance."""
    steps, turn = params.approach_steps, params.approach_turn
    initial = params.heading + params.approach_angle + np.pi
    start = spot + params.approach_offset
    ankle, yaw = stance_feet(rig, start, initial, params.stance_width)
    lead = 0 if turn >= 0 else 1  # the foot on the turning side goes first
    planned = []
    for k in range(1, steps + 2):
        share = min(k, steps) / steps
        centre, heading = start + (spot - start) * share, initial + turn * share
        foot = lead if (k - 1) % 2 == 0 else 1 - lead
        target, target_yaw = stance_feet(rig, centre, heading, params.stance_width)
        lift = APPROACH_START + (k - 1) * params.approach_time
        planned.append(Step(foot, lift, lift + 0.75 * params.approach_time, tuple(target[foot, :2]), float(target_yaw[foot])))
    return plan_steps(rig, ankle, yaw, planned, t, height=0.05)


def sit(skeleton: Skeleton, betas: np.ndarray, params: SitParams, fps: float, num_frames: int) -> GeneratedMotion:
    """Sit ``params`` for ``num_frames`` frames at ``fps`` with the body ``skeleton`` / ``betas`` (10,)."""
    fps, num_frames = frames(fps, num_frames)
    betas = check_betas(betas)
    if not isinstance(params, SitParams):
        raise ValueError(f"params: expected SitParams, got {type(params).__name__}")
    rig = Rig.from_skeleton(skeleton)
    return realize(rig, betas, fps, sit_plan(rig, params, np.arange(num_frames) / fps))
