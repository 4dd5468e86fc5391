"""Transitions between motions: blended plans keep joint velocities continuous (no pops) where a
hard cut jumps, planted feet stay put through the blends, and bad chains are rejected."""

from __future__ import annotations

import numpy as np
import pytest

from worldclips.motions.idle import IdleParams
from worldclips.motions.jump import JumpParams
from worldclips.motions.mannequin_body import MannequinBody
from worldclips.motions.plan import blend_plans, realize
from worldclips.motions.quality import velocity_spikes
from worldclips.motions.reach import ReachParams, reach_plan
from worldclips.motions.rig import Rig
from worldclips.motions.sequence import Segment, SequenceParams, sequence
from worldclips.motions.turn import TurnParams
from worldclips.motions.wave import WaveParams, wave_plan
from tests.motions.measure import labelled_slide, sole_points

FPS = 30.0


@pytest.fixture(scope="module")
def body():
    return MannequinBody()


def largest_velocity_change(joints: np.ndarray, frames: slice) -> float:
    """Largest change of a body joint's velocity (m/s) between consecutive frames in ``frames``."""
    velocity = np.diff(joints[:, :22], axis=0) * FPS
    return float(np.linalg.norm(np.diff(velocity, axis=0), axis=-1)[frames].max())


def test_blending_keeps_velocities_continuous_where_a_cut_jumps(body):
    betas = np.zeros(10)
    rig = Rig.from_skeleton(body.skeleton(betas))
    t = np.arange(90) / FPS
    wave = wave_plan(rig, WaveParams((0.0, 0.0), 0.0, start=0.0, raise_time=0.4, wave_time=5.0), t)
    reach = reach_plan(rig, ReachParams((0.0, 0.0), 0.0, target=(0.4, -0.3, 0.7), start=0.0, reach_time=0.5, hold=5.0), t - 1.0)
    u = np.clip((t - 1.25) / 0.5, 0.0, 1.0)
    blended = realize(rig, betas, FPS, blend_plans(wave, reach, u * u * (3 - 2 * u)))
    cut = realize(rig, betas, FPS, blend_plans(wave, reach, (t >= 1.5).astype(float)))
    around = slice(30, 60)
    smooth = largest_velocity_change(body.pose(blended.motion).joints, around)
    jump = largest_velocity_change(body.pose(cut.motion).joints, around)
    assert jump > 10.0 and smooth < 0.1 * jump, (smooth, jump)  # measured: 1.5 vs 31.7 m/s


def chain(width: float = 0.22) -> SequenceParams:
    wave = WaveParams((1.0, 1.0), 0.3, wave_time=0.6, stance_width=width)
    turn = TurnParams((1.0, 1.0), 0.3, angle=1.0, start=0.1, stance_width=width)
    jump = JumpParams((1.0, 1.0), 1.3, height=0.2, distance=0.4, start=0.1, stance_width=width)
    idle = IdleParams(jump.landing_position, 1.3, stance_width=width)
    return SequenceParams(tuple(Segment(m, m.duration + 0.4) for m in (wave, turn, jump)) + (Segment(idle, 1.0),))


def test_sequences_have_no_pops_and_planted_feet(body):
    betas = np.random.default_rng(2).normal(size=10)
    params = chain()
    frames = int(sum(s.duration for s in params.segments) * FPS)
    generated = sequence(body.skeleton(betas), betas, params, FPS, frames)
    joints = body.pose(generated.motion).joints
    assert velocity_spikes(joints[:, :22], FPS)[0] == 0
    points, lowest = sole_points(generated.motion)
    assert labelled_slide(points, generated.contact) < 0.01
    assert lowest.min() > -0.01
    pelvis = joints[:, 0]
    assert np.linalg.norm(pelvis[-1, :2] - np.array(params.segments[-1].motion.position)) < 0.08  # ends where the jump landed


@pytest.mark.parametrize(
    "segments, message",
    [
        (lambda: (Segment(WaveParams((0, 0), 0.0), 5.0), Segment(IdleParams((0.5, 0), 0.0), 1.0)), r"segments\[1\]\.motion\.position"),
        (lambda: (Segment(TurnParams((0, 0), 0.0, angle=1.0), 5.0), Segment(IdleParams((0, 0), 0.0), 1.0)), r"segments\[1\]\.motion\.heading"),
        (lambda: (Segment(WaveParams((0, 0), 0.0), 1.0), Segment(IdleParams((0, 0), 0.0), 1.0)), r"segments\[0\]\.duration: the motion needs"),
        (lambda: (Segment(IdleParams((0, 0), 0.0, stance_width=0.3), 1.0), Segment(IdleParams((0, 0), 0.0), 1.0)), r"stance_width"),
        (lambda: (), r"at least one segment"),
    ],
    ids=["position", "heading", "too-short", "width", "empty"],
)
def test_bad_sequences_name_the_segment(segments, message):
    with pytest.raises(ValueError, match=message):
        SequenceParams(segments())
