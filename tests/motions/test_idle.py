"""The procedural idle stance, measured with mannequin-x's own kinematics and skinning."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from worldclips.motions.mannequin_body import MannequinBody
from worldclips.motions.idle import IdleParams, idle
from tests.motions.measure import measure, stance_slide

CM = 0.01


@pytest.fixture(scope="module")
def body() -> MannequinBody:
    return MannequinBody()


@pytest.fixture(scope="module")
def cases(body):
    out = []
    for seed in range(8):
        rng = np.random.default_rng(100 + seed)
        betas = rng.normal(size=10)
        params = IdleParams(
            position=tuple(rng.uniform(-4.0, 4.0, 2)),
            heading=rng.uniform(-np.pi, np.pi),
            sway=rng.uniform(0.5, 2.0),
            phase=rng.uniform(0.0, 1.0),
            stance_width=rng.uniform(0.12, 0.35),
        )
        skeleton = body.skeleton(betas)
        generated = idle(skeleton, betas, params, 30.0, 150)
        height = float(skeleton.rest_joints[0, 1] - skeleton.sole_height)
        out.append((params, generated, measure(generated.motion), height))
    return out


def test_feet_stay_planted(cases):
    for _, generated, measured, _ in cases:
        assert generated.foot_contact.all()
        for name in ("L_Ankle", "R_Ankle", "L_Foot", "R_Foot"):
            joint = measured.joint(name)
            assert stance_slide(joint, generated.foot_contact[:, 0]) < 1e-3
            assert np.abs(joint - joint[0]).max() < 1e-3  # no drift over the clip either


def test_feet_rest_on_the_ground(cases):
    for _, _, measured, _ in cases:
        for vertices in measured.foot_vertices:
            lowest = vertices[..., 2].min(axis=1)
            assert np.all(lowest > -1.0 * CM) and np.all(lowest < 1.0 * CM)


def test_body_stands_at_the_position_facing_the_heading(cases):
    for params, _, measured, height in cases:
        pelvis = measured.joint("Pelvis")
        assert np.linalg.norm(pelvis[:, :2] - np.array(params.position), axis=1).max() < 8.0 * CM
        ratio = pelvis[:, 2] / height
        assert 0.9 < ratio.min() and ratio.max() < 1.0
        forward = measured.rotations[:, 0] @ np.array([0.0, 0.0, 1.0])
        facing = np.arctan2(forward[:, 1], forward[:, 0])
        assert np.abs(np.angle(np.exp(1j * (facing - params.heading)))).max() < 0.15
        feet = (measured.joint("L_Ankle") + measured.joint("R_Ankle"))[:, :2] / 2
        assert np.linalg.norm(feet - np.array(params.position), axis=1).max() < 3.0 * CM


def test_idle_moves_gently(cases):
    for _, _, measured, _ in cases:
        pelvis, head = measured.joint("Pelvis"), measured.joint("Head")
        assert 0.5 * CM < np.ptp(pelvis[:, :2], axis=0).max() < 15.0 * CM
        assert np.linalg.norm(np.diff(head, axis=0), axis=1).max() < 1.0 * CM  # no jerks at 30 fps


def test_zero_sway_stands_still(body):
    betas = np.zeros(10)
    generated = idle(body.skeleton(betas), betas, IdleParams(position=(1.0, 2.0), heading=0.3, sway=0.0), 30.0, 40)
    joints = measure(generated.motion).joints
    assert np.abs(joints - joints[0]).max() < 1e-4


def test_params_round_trip_through_json():
    params = IdleParams(position=[1, 2], heading=0.5, sway=1.5, phase=0.2, stance_width=0.25)
    assert IdleParams(**json.loads(json.dumps(dataclasses.asdict(params)))) == params


@pytest.mark.parametrize(
    "change, field",
    [
        (dict(position=(0.0,)), "IdleParams.position"),
        (dict(position=(0.0, float("nan"))), "IdleParams.position"),
        (dict(heading=float("inf")), "IdleParams.heading"),
        (dict(sway=-0.5), "IdleParams.sway"),
        (dict(sway=10.0), "IdleParams.sway"),
        (dict(phase=-0.1), "IdleParams.phase"),
        (dict(stance_width=2.0), "IdleParams.stance_width"),
    ],
)
def test_bad_params_name_the_field(change, field):
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        IdleParams(**{**dict(position=(0.0, 0.0), heading=0.0), **change})


def test_bad_frame_count_names_the_argument(body):
    betas = np.zeros(10)
    with pytest.raises(ValueError, match="num_frames"):
        idle(body.skeleton(betas), betas, IdleParams(position=(0.0, 0.0), heading=0.0), 30.0, -3)
