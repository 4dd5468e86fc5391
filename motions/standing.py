"""Body targets of a person standing on given feet: the base of the stepping and in-place motions.

The pelvis stands over the supporting feet (motions.steps.support_centre) at nearly straight
legs, faces ``heading`` and rolls towards the loaded side; the arms hang relaxed, the head
looks along the heading. Generators change what they need (pelvis height, spine, arms, hands).
"""

from __future__ import annotations

import numpy as np

from worldclips.motions.conventions import body_orientation_for_heading
from worldclips.motions.gait import FootTracks
from worldclips.motions.kinematics import rot_x, rot_z
from worldclips.motions.rig import Rig
from worldclips.motions.steps import support_centre
from worldclips.motions.synthesis import BodyTargets

STANDING_HEIGHT = 0.99  # pelvis height in rest pelvis heights above the sole
BREATH_PERIOD = 4.2  # s


def standing_targets(
    rig: Rig,
    feet: FootTracks,
    heading: np.ndarray,
    t: np.ndarray,
    phase: float = 0.0,
    centre: np.ndarray | None = None,
    drop: np.ndarray | float = 0.0,
) -> BodyTargets:
    """Standing targets on ``feet`` facing (T,) ``heading`` at times ``t`` (T,).

    centre: (T, 2) pelvis xy (default: over the supporting feet); drop: (T,) or a number,
    metres the pelvis sinks below the standing height (bent knees).
    """
    frames = len(t)
    if centre is None:
        centre = support_centre(feet, t)
    mid = feet.ankle[..., :2].mean(axis=1)
    left = np.stack([-np.sin(heading), np.cos(heading)], axis=-1)
    lateral = np.sum((centre - mid) * left, axis=-1)  # + towards the left foot
    breath = np.sin(2.0 * np.pi * (t / BREATH_PERIOD + phase))
    height = rig.pelvis_height * STANDING_HEIGHT + 0.002 * breath - np.broadcast_to(drop, (frames,))
    roll = np.clip(0.5 * lateral / rig.scale, -0.08, 0.08)  # the loaded side's hip rises
    pelvis_rotation = body_orientation_for_heading(heading) @ rot_z(roll) @ rot_x(np.full(frames, 0.02))
    return BodyTargets(
        pelvis_rotation=pelvis_rotation,
        pelvis=np.concatenate([centre, height[:, None]], axis=1),
        ankle=feet.ankle,
        foot_yaw=feet.yaw,
        foot_pitch=feet.pitch,
        toe_flex=feet.toe_flex,
        spine=np.stack([0.015 * breath, np.zeros(frames), -0.9 * roll], axis=-1),
        arm_swing=np.full((frames, 2), 0.03),
        elbow=np.full((frames, 2), 0.2) + 0.03 * breath[:, None],
        head=body_orientation_for_heading(heading) @ rot_x(np.full(frames, 0.06)),
    )


def heading_track(feet: FootTracks) -> np.ndarray:
    """(T,) facing direction between the two feet's yaws (unwrapped)."""
    a, b = np.unwrap(feet.yaw[:, 0]), np.unwrap(feet.yaw[:, 1])
    return a + 0.5 * np.angle(np.exp(1j * (b - a)))


def with_fields(targets: BodyTargets, **changes) -> BodyTargets:
    """A copy of ``targets`` with some fields replaced."""
    values = {name: getattr(targets, name) for name in targets.__dataclass_fields__}
    values.update(changes)
    return BodyTargets(**values)
