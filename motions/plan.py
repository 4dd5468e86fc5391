"""MotionPlan: what a procedural generator decides (body targets, contacts, grasped objects), and
how a plan becomes a GeneratedMotion; plans are blended for transitions between motions.

Blending two plans with a weight w(t) that eases in and out with zero slope (smoothstep) keeps
every target's velocity continuous: d/dt((1 - w) a + w b) = (1 - w) a' + w b' + w' (b - a), and
w' = 0 where the blend starts and ends. Feet planted at the same spot in both plans stay there.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from worldclips.motions.conventions import invert_rigid, make_transform
from worldclips.motions.generated import GeneratedMotion, local_rotations
from worldclips.motions.kinematics import blend_rotations, forward_kinematics
from worldclips.motions.arms import ARM_JOINTS
from worldclips.motions.rig import Rig
from worldclips.motions.synthesis import BodyTargets, default_elbow_pole, synthesize

ROTATION_TARGETS = ("pelvis_rotation", "head")


@dataclass(frozen=True, eq=False)
class Grasp:
    """An object a hand picks up.

    name: the object's name (a prop of the clip); side: 0 left hand, 1 right hand.
    time: seconds; before it the object rests at ``start`` ((4, 4) world_from_object), from
        then on it moves rigidly with the wrist.
    """

    name: str
    side: int
    time: float
    start: np.ndarray


@dataclass(frozen=True, eq=False)
class MotionPlan:
    """A procedural motion before synthesis.

    targets: body targets over T frames; contact: (T, 4) bool (motions.generated.CONTACT_POINTS);
    smoothing: seconds over which the pelvis is lowered where a leg cannot reach its foot;
    grasps: objects picked up by a hand.
    """

    targets: BodyTargets
    contact: np.ndarray
    smoothing: float
    grasps: tuple[Grasp, ...] = ()


def realize(rig: Rig, betas: np.ndarray, fps: float, plan: MotionPlan) -> GeneratedMotion:
    """Synthesize the plan's MotionClip and move the grasped objects with their hands."""
    foot_down = plan.contact[:, 0::2] | plan.contact[:, 1::2]
    motion = synthesize(rig, betas, fps, plan.targets, radius=int(round(plan.smoothing * fps)), foot_down=foot_down)
    objects = {}
    if plan.grasps:
        pelvis_rotation, pelvis, local = local_rotations(motion, rig.rest_joints)
        rotations, positions = forward_kinematics(rig.rest_joints, pelvis_rotation, pelvis, local)
        for grasp in plan.grasps:
            wrist = ARM_JOINTS[grasp.side][3]
            world_from_wrist = make_transform(rotations[:, wrist], positions[:, wrist])
            frame = int(np.clip(np.ceil(grasp.time * fps - 1e-9), 0, motion.num_frames))
            poses = np.broadcast_to(grasp.start, (motion.num_frames, 4, 4)).copy()
            if frame < motion.num_frames:
                wrist_from_object = invert_rigid(world_from_wrist[frame]) @ grasp.start
                poses[frame:] = world_from_wrist[frame:] @ wrist_from_object
            objects[grasp.name] = poses
    return GeneratedMotion(motion=motion, contact=plan.contact, objects=objects)


def _hand_fields(targets: BodyTargets) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    frames = len(targets.pelvis)
    hand = targets.hand if targets.hand is not None else np.zeros((frames, 2, 3))
    weight = targets.hand_weight if targets.hand_weight is not None else np.zeros((frames, 2))
    pole = targets.elbow_pole if targets.elbow_pole is not None else default_elbow_pole(targets.pelvis_rotation)
    return hand, weight, pole


def blend_targets(a: BodyTargets, b: BodyTargets, weight: np.ndarray) -> BodyTargets:
    """Targets from ``a`` (weight 0) to ``b`` (weight 1) by (T,) weights."""
    w = np.asarray(weight, dtype=np.float64)
    values = {}
    for field in fields(BodyTargets):
        name = field.name
        if name in ("hand", "hand_weight", "elbow_pole"):
            continue
        x, y = getattr(a, name), getattr(b, name)
        if name in ROTATION_TARGETS:
            values[name] = blend_rotations(x, y, w)
        elif name == "finger_curl":
            if x is not None or y is not None:
                x = np.ones((len(w), 2)) if x is None else x
                y = np.ones((len(w), 2)) if y is None else y
                values[name] = x + (y - x) * w[:, None]
        elif name == "foot_yaw":
            values[name] = x + np.angle(np.exp(1j * (y - x))) * w[:, None]
        else:
            ww = w.reshape(-1, *([1] * (x.ndim - 1)))
            values[name] = x + (y - x) * ww
    (ha, wa, pa), (hb, wb, pb) = _hand_fields(a), _hand_fields(b)
    if a.hand is not None or b.hand is not None:
        wa_, wb_ = (1.0 - w)[:, None] * wa, w[:, None] * wb
        total = wa_ + wb_
        safe = np.where(total > 1e-9, total, 1.0)
        values["hand"] = (wa_[..., None] * ha + wb_[..., None] * hb) / safe[..., None]
        values["hand_weight"] = total
        values["elbow_pole"] = (wa_[..., None] * pa + wb_[..., None] * pb + 1e-6 * pa) / safe[..., None]
    return BodyTargets(**values)


def blend_plans(a: MotionPlan, b: MotionPlan, weight: np.ndarray) -> MotionPlan:
    """Plan ``a`` where the (T,) weight is 0, ``b`` where it is 1, blended in between.

    A contact holds during the blend only where both plans have it.
    """
    w = np.asarray(weight, dtype=np.float64)
    contact = np.where((w <= 0.0)[:, None], a.contact, np.where((w >= 1.0)[:, None], b.contact, a.contact & b.contact))
    return MotionPlan(
        targets=blend_targets(a.targets, b.targets, w),
        contact=contact,
        smoothing=max(a.smoothing, b.smoothing),
        grasps=a.grasps + b.grasps,
    )
