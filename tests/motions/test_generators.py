"""Every procedural generator over many seeds, measured independently with mannequin-x's own
kinematics and skinning (tests.motions.measure): planted feet do not slide (< 1 cm per frame
while their contact label holds), nothing goes more than 1 cm below the ground, labelled sole
regions touch the ground, and each motion does what it says (flight, apex, facing, reach ...)."""

from __future__ import annotations

import dataclasses
import functools
import json

import numpy as np
import pytest
from mannequin import Mannequin

from worldclips.motions.carry import CarryParams
from worldclips.motions.catalog import GENERATORS, PROCEDURAL_KINDS, generate_motion
from worldclips.motions.dance import DanceParams
from worldclips.motions.idle import IdleParams
from worldclips.motions.jump import JumpParams
from worldclips.motions.mannequin_body import MannequinBody
from worldclips.motions.reach import ReachParams
from worldclips.motions.run import RunParams
from worldclips.motions.sequence import Segment, SequenceParams, exit_state
from worldclips.motions.sit import SitParams, seat_height_for
from worldclips.motions.turn import TurnParams
from worldclips.motions.walk import WalkParams
from worldclips.motions.wave import WaveParams
from worldclips.scenes.serialization import from_jsonable, to_jsonable
from tests.motions.measure import labelled_slide, measure, sole_points

CM = 0.01
SEEDS = range(8)
SECONDS = 3.0


def _heading(rng):
    return float(rng.uniform(-np.pi, np.pi))


def random_params(kind: str, rng: np.random.Generator, betas: np.ndarray):
    """Random parameters of one kind, spread over each field's range."""
    xy = tuple(rng.uniform(-3.0, 3.0, 2))
    h = _heading(rng)
    side = str(rng.choice(["left", "right"]))
    if kind in ("walk", "run"):
        points, heading = [np.array(xy)], h
        for i in range(int(rng.integers(1, 4))):
            heading += rng.uniform(-np.pi / 2, np.pi / 2) if i else 0.0
            points.append(points[-1] + rng.uniform(1.5, 4.0) * np.array([np.cos(heading), np.sin(heading)]))
        speeds = (0.5, 2.0) if kind == "walk" else (2.0, 3.5)
        cls = WalkParams if kind == "walk" else RunParams
        return cls(tuple(tuple(p) for p in points), tuple(rng.uniform(*speeds, int(rng.integers(1, 4)))), phase=rng.uniform())
    if kind == "idle":
        return IdleParams(xy, h, sway=rng.uniform(0.5, 2.0), phase=rng.uniform())
    if kind == "jump":
        return JumpParams(xy, h, height=rng.uniform(0.05, 0.5), distance=rng.uniform(0.0, 1.2), start=rng.uniform(0, 0.3), crouch_time=rng.uniform(0.2, 0.7))
    if kind == "sit":
        return SitParams(xy, h, seat_height=seat_height_for(betas, rng.uniform()), seat_depth=rng.uniform(0.38, 0.44),
                         start=rng.uniform(0, 0.3), down_time=rng.uniform(0.8, 1.2), hold=rng.uniform(0.2, 0.5), up_time=rng.uniform(0.8, 1.2))  # fmt: skip
    if kind == "reach":
        azimuth = h + (1 if side == "left" else -1) * rng.uniform(0.0, 0.9)
        target = (xy[0] + 0.5 * np.cos(azimuth), xy[1] + 0.5 * np.sin(azimuth), rng.uniform(0.4, 1.6))
        return ReachParams(xy, h, target, side=side, hold=rng.uniform(0.2, 0.8))
    if kind == "carry":
        return CarryParams(xy, h, "box", object_size=tuple(rng.uniform(0.15, 0.3, 3)), side=side,
                           reach_time=rng.uniform(0.7, 1.0), lift_time=0.6, steps=int(rng.integers(1, 4)), step_time=0.45)  # fmt: skip
    if kind == "wave":
        return WaveParams(xy, h, side=side, wave_time=rng.uniform(0.5, 1.5), frequency=rng.uniform(1.0, 4.0), amplitude=rng.uniform(0.03, 0.25))
    if kind == "turn":
        return TurnParams(xy, h, angle=rng.uniform(-2.5, 2.5), start=rng.uniform(0, 0.3), step_time=rng.uniform(0.3, 0.6))
    if kind == "dance":
        return DanceParams(xy, h, tempo=rng.uniform(70, 140), step=rng.uniform(0.1, 0.35), bounce=rng.uniform(), arms=rng.uniform())
    assert kind == "sequence"
    first = WaveParams(xy, h, wave_time=0.5)
    turn = TurnParams(xy, h, angle=rng.uniform(-1.5, 1.5), start=0.1)
    jump = JumpParams(xy, h + turn.angle, height=rng.uniform(0.1, 0.3), distance=rng.uniform(0.0, 0.6), start=0.1)
    last = DanceParams(tuple(exit_state(jump)[0]), h + turn.angle)
    widths = dict(stance_width=0.22)
    motions = [dataclasses.replace(m, **widths) for m in (first, turn, jump, last)]
    return SequenceParams(tuple(Segment(m, m.duration + 0.35 if not isinstance(m, DanceParams) else 1.0) for m in motions))


BODY = MannequinBody()


@functools.lru_cache(maxsize=None)
def runs_of(kind: str) -> tuple:
    """(params, generated, mannequin, (sole points, lowest sole z)) for SEEDS random draws of ``kind``."""
    out = []
    for seed in SEEDS:
        rng = np.random.default_rng(1000 * PROCEDURAL_KINDS.index(kind) + seed)
        betas = np.clip(rng.normal(size=10), -2.0, 2.0)
        params = random_params(kind, rng, betas)
        fps = float(rng.choice([24.0, 30.0]))
        seconds = SECONDS if kind != "sequence" else sum(s.duration for s in params.segments)
        generated = generate_motion(params, BODY.skeleton(betas), betas, fps, int(seconds * fps))
        model = Mannequin("wooden", shape=generated.motion.betas, flat_hand_mean=True)
        out.append((params, generated, model, sole_points(generated.motion, model)))
    return tuple(out)


@pytest.fixture(params=PROCEDURAL_KINDS)
def cases(request):
    return request.param, runs_of(request.param)


def test_planted_feet_do_not_slide_or_sink(cases):
    kind, runs = cases
    worst_slide = max(labelled_slide(points, g.contact) for _, g, _, (points, _) in runs)
    worst_depth = min(lowest.min() for *_, (_, lowest) in runs)
    assert worst_slide < 1.0 * CM, f"{kind}: a labelled sole point slides {worst_slide * 1000:.2f} mm in a frame"
    assert worst_depth > -1.0 * CM, f"{kind}: a sole vertex {-worst_depth * 1000:.1f} mm below the ground"


def test_labelled_points_touch_the_ground(cases):
    """A labelled heel or toe region's lowest vertex is on the ground (within 2 cm: a heel striking
    at an angle first touches with its rounded back, a little behind the region's lowest vertex)."""
    kind, runs = cases
    for _, generated, _, (_, lowest) in runs:
        assert np.all(np.abs(lowest[generated.contact]) < 2.0 * CM), kind


def test_whole_body_stays_above_ground(cases):
    kind, runs = cases
    params, generated, model, _ = runs[0]
    pose = BODY.pose_parameters(generated.motion)
    for frame in np.linspace(0, generated.motion.num_frames - 1, 5).astype(int):
        assert model.vertices({k: v[frame] for k, v in pose.items()})[:, 2].min() > -1.0 * CM, kind


def test_params_round_trip_through_json(cases):
    kind, runs = cases
    params = runs[0][0]
    restored = from_jsonable(type(params), json.loads(json.dumps(to_jsonable(params))))
    assert restored == params and restored.family == kind


def test_every_kind_is_covered():
    assert set(PROCEDURAL_KINDS) == {cls.__dataclass_fields__["family"].default for cls in GENERATORS}
    assert len(PROCEDURAL_KINDS) == 11


def _measured(run):
    params, generated, model, _ = run
    return params, generated, measure(generated.motion, model)


@pytest.mark.parametrize("kind", ["run", "jump"])
def test_run_and_jump_have_a_flight_phase(kind):
    for run in runs_of(kind):
        params, generated, measured = _measured(run)
        lowest = np.stack([v[..., 2].min(axis=1) for v in measured.foot_vertices], axis=1).min(axis=1)
        airborne = (lowest > 1.0 * CM) & ~generated.contact.any(axis=1)
        assert airborne.sum() >= 2, f"{kind}: only {airborne.sum()} frames in the air"
        if kind == "jump":  # the pelvis rises by the asked height (ballistic apex) and lands ahead
            pelvis = measured.joint("Pelvis")
            assert pelvis[:, 2].max() - pelvis[0, 2] == pytest.approx(params.height + 0.04, abs=0.07)
            assert np.linalg.norm(pelvis[-1, :2] - pelvis[0, :2]) == pytest.approx(params.distance, abs=0.06)


def test_sitting_rests_on_the_seat_without_entering_the_chair():
    from worldclips.motions.conventions import make_transform, rotation_z

    for params, generated, model, _ in runs_of("sit")[:4]:
        object_from_world = np.linalg.inv(make_transform(rotation_z(params.chair_yaw), np.array([*params.chair_position, 0.0])))
        pose = BODY.pose_parameters(generated.motion)
        seated = int((params.start + params.down_time + 0.5 * params.hold) * generated.motion.fps)
        for frame in range(0, generated.motion.num_frames, 3):
            local = model.vertices({k: v[frame] for k, v in pose.items()}) @ object_from_world[:3, :3].T + object_from_world[:3, 3]
            over_seat = (np.abs(local[:, 0]) < 0.21) & (np.abs(local[:, 1]) < params.seat_depth / 2 - 0.02)
            in_slab = over_seat & (local[:, 2] < params.seat_height - 0.005) & (local[:, 2] > params.seat_height - 0.04)
            assert not in_slab.any(), f"frame {frame}: the body enters the seat"
            if frame == seated // 3 * 3:
                assert local[over_seat, 2].min() < params.seat_height + 0.03  # resting on it


@pytest.mark.parametrize("kind", ["reach", "carry", "wave"])
def test_hands_reach_and_carry(kind):
    for run in runs_of(kind):
        params, generated, measured = _measured(run)
        wrist = measured.joint("L_Wrist" if params.side == "left" else "R_Wrist")
        fps = generated.motion.fps
        if kind == "reach":
            held = int(round((params.start + params.reach_time + 0.5 * params.hold) * fps))
            assert np.linalg.norm(wrist[held] - np.array(params.target)) < 2.0 * CM or params.target[2] > 1.5
        elif kind == "carry":
            box = generated.objects["box"]
            grasp = int(np.ceil((params.start + params.reach_time) * fps))
            offset = box[:, :3, 3] - wrist
            assert np.abs(box[:grasp, :3, 3] - box[0, :3, 3]).max() < 1e-9  # still on the ground
            assert np.abs(offset[grasp:] - offset[grasp]).max() < 0.25  # follows the hand (rotating with the wrist)
            assert box[-1, 2, 3] > 0.3  # lifted
        else:
            up = int(round((params.start + params.raise_time + 0.3 * params.wave_time) * fps))
            assert wrist[up, 2] > measured.joint("Head")[up, 2] - 0.1  # the hand is up beside the head


def test_turn_changes_the_facing():
    for run in runs_of("turn"):
        params, generated, measured = _measured(run)
        if params.duration > generated.motion.num_frames / generated.motion.fps - 0.3:
            continue
        forward = measured.rotations[:, 0] @ np.array([0.0, 0.0, 1.0])
        facing = np.unwrap(np.arctan2(forward[:, 1], forward[:, 0]))
        assert facing[-1] - facing[0] == pytest.approx(params.angle, abs=0.12)
