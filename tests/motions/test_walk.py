"""The procedural walk, measured with mannequin-x's own kinematics and skinning (tests.motions.measure).

Random bodies (betas ~ N(0, 1)), random paths with turns up to 90 degrees and speed changes over
the whole 0.5-2.0 m/s range, 24 and 30 fps.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from mannequin import Mannequin

from worldclips.motions.mannequin_body import MannequinBody
from worldclips.motions.path import CORNER_RADIUS
from worldclips.motions.walk import WalkParams, walk, walk_path_length
from tests.motions.measure import foot_vertex_masks, intervals, measure, skin_subset, stance_slide

SEEDS = range(24)
SECONDS = 3.0
CM = 0.01


def random_walk(rng: np.random.Generator) -> WalkParams:
    heading = rng.uniform(-np.pi, np.pi)
    points = [rng.uniform(-5.0, 5.0, 2)]
    for i in range(int(rng.integers(1, 4))):
        if i:
            heading += rng.uniform(-np.pi / 2, np.pi / 2)
        points.append(points[-1] + rng.uniform(1.0, 3.5) * np.array([np.cos(heading), np.sin(heading)]))
    return WalkParams(
        waypoints=tuple(tuple(p) for p in points),
        speed_keys=tuple(rng.uniform(0.5, 2.0, int(rng.integers(1, 4)))),
        step_width=rng.uniform(0.1, 0.25),
        arm_swing=rng.uniform(0.5, 1.5),
        phase=rng.uniform(0.0, 1.0),
    )


@dataclasses.dataclass
class Case:
    params: WalkParams
    betas: np.ndarray
    fps: float
    frames: int
    contact: np.ndarray
    motion: object
    measured: object
    rest_pelvis_height: float


@pytest.fixture(scope="module")
def body() -> MannequinBody:
    return MannequinBody()


@pytest.fixture(scope="module")
def cases(body) -> list[Case]:
    out = []
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        betas = rng.normal(size=10)
        fps = float(rng.choice([24.0, 30.0]))
        params = random_walk(rng)
        skeleton = body.skeleton(betas)
        frames = int(SECONDS * fps)
        generated = walk(skeleton, betas, params, fps, frames)
        measured = measure(generated.motion)
        height = float(skeleton.rest_joints[0, 1] - skeleton.sole_height)
        out.append(Case(params, betas, fps, frames, generated.foot_contact, generated.motion, measured, height))
    return out


def lowest_foot_points(case: Case) -> np.ndarray:
    """(T, 2) lowest vertex z of the left and right foot."""
    return np.stack([v[..., 2].min(axis=1) for v in case.measured.foot_vertices], axis=1)


def test_foot_vertex_subset_matches_mannequin_vertices(cases):
    case = cases[0]
    model = Mannequin("wooden", shape=case.motion.betas, flat_hand_mean=True)
    params = MannequinBody().pose_parameters(case.motion)
    frame = 7
    full = model.vertices({k: v[frame] for k, v in params.items()})
    transforms = model.joint_transforms(params)[frame : frame + 1]
    for mask in foot_vertex_masks(model):
        assert mask.sum() > 500
        np.testing.assert_allclose(skin_subset(model, transforms, mask)[0], full[mask], atol=1e-5)


def test_planted_feet_do_not_slide(cases):
    worst = 0.0
    for case in cases:
        for side, side_name in enumerate("LR"):
            for joint in ("Ankle", "Foot"):  # ankle and toe (ball) joints, 3D displacement
                worst = max(worst, stance_slide(case.measured.joint(f"{side_name}_{joint}"), case.contact[:, side]))
    assert worst < 1.0 * CM, f"worst foot slide in stance {worst * 1000:.2f} mm per frame"


def test_feet_never_below_ground(cases):
    worst = min(lowest_foot_points(case).min() for case in cases)
    assert worst > -1.0 * CM, f"a foot vertex {-worst * 1000:.1f} mm below the ground"


def test_planted_feet_touch_the_ground(cases):
    for case in cases:
        lowest = lowest_foot_points(case)
        assert np.all(np.abs(lowest[case.contact]) < 1.0 * CM)


def test_always_a_foot_on_the_ground(cases):
    """Walking has no flight phase: in every frame some foot (heel, sole or toes) touches the ground."""
    for case in cases:
        assert np.all(lowest_foot_points(case).min(axis=1) < 1.0 * CM)


def test_whole_body_stays_above_ground(cases):
    for case in cases[:4]:
        model = Mannequin("wooden", shape=case.motion.betas, flat_hand_mean=True)
        params = MannequinBody().pose_parameters(case.motion)
        for frame in (0, case.frames // 2, case.frames - 1):
            vertices = model.vertices({k: v[frame] for k, v in params.items()})
            assert vertices[:, 2].min() > -1.0 * CM


def polyline_distance(points: np.ndarray, polyline: np.ndarray) -> np.ndarray:
    """(P,) distance of (P, 2) points to a (N, 2) polyline."""
    best = np.full(len(points), np.inf)
    for a, b in zip(polyline[:-1], polyline[1:]):
        d = b - a
        t = np.clip((points - a) @ d / (d @ d), 0.0, 1.0)
        best = np.minimum(best, np.linalg.norm(points - (a + t[:, None] * d), axis=1))
    return best


def test_pelvis_follows_the_path(cases):
    for case in cases:
        points = np.array(case.params.waypoints)
        direction = (points[-1] - points[-2]) / np.linalg.norm(points[-1] - points[-2])
        polyline = np.vstack([points, points[-1] + 20.0 * direction])  # the walk goes on straight
        # A rounded corner of radius r and turn angle d leaves the polyline by r (1 / cos(d / 2) - 1).
        a, b = np.diff(points, axis=0)[:-1], np.diff(points, axis=0)[1:]
        turns = np.abs(np.arctan2(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0], np.sum(a * b, axis=1)))
        rounding = float(np.max(CORNER_RADIUS * (1.0 / np.cos(turns / 2.0) - 1.0), initial=0.0))
        pelvis = case.measured.joint("Pelvis")[:, :2]
        assert np.linalg.norm(pelvis[0] - points[0]) < 5.0 * CM  # starts at the first waypoint
        assert polyline_distance(pelvis, polyline).max() < 10.0 * CM + rounding


def test_average_speed_matches_the_request(cases):
    for case in cases:
        keys = np.array(case.params.speed_keys)
        requested = keys.mean() if keys.size == 1 else np.mean(0.5 * (keys[1:] + keys[:-1]))
        duration = (case.frames - 1) / case.fps
        pelvis = case.measured.joint("Pelvis")[:, :2]
        travelled = np.linalg.norm(np.diff(pelvis, axis=0), axis=1).sum()
        assert travelled / duration == pytest.approx(requested, rel=0.10)
        assert walk_path_length(case.params, case.fps, case.frames) == pytest.approx(travelled, rel=0.03)


def test_speed_changes_follow_the_keys(body):
    betas = np.zeros(10)
    params = WalkParams(waypoints=((0.0, 0.0), (20.0, 0.0)), speed_keys=(0.6, 1.8))
    fps, frames = 30.0, 150
    pelvis = measure(walk(body.skeleton(betas), betas, params, fps, frames).motion).joint("Pelvis")
    window = 30  # one second, about a gait cycle, averages out the sway
    start = (pelvis[window, 0] - pelvis[0, 0]) * fps / window
    end = (pelvis[-1, 0] - pelvis[-1 - window, 0]) * fps / window
    assert start == pytest.approx(0.6, rel=0.1)
    assert end == pytest.approx(1.8, rel=0.1)


def test_knees_bend_forwards(cases):
    for case in cases:
        m = case.measured
        forward = m.rotations[:, 0] @ np.array([0.0, 0.0, 1.0])  # the pelvis' native +Z
        for side in "LR":
            hip, knee, ankle = (m.joint(f"{side}_{j}") for j in ("Hip", "Knee", "Ankle"))
            along = (ankle - hip) / np.linalg.norm(ankle - hip, axis=1, keepdims=True)
            off_line = (knee - hip) - np.sum((knee - hip) * along, axis=1, keepdims=True) * along
            assert np.all(np.sum(off_line * forward, axis=1) > 0.0)  # knee in front of the hip-ankle line
            thigh, shin = knee - hip, ankle - knee
            cos = np.sum(thigh * shin, axis=1) / np.linalg.norm(thigh, axis=1) / np.linalg.norm(shin, axis=1)
            flexion = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
            assert 40.0 < flexion.max() < 100.0  # the swing knee bends, but not absurdly


def test_pelvis_height_is_plausible(cases):
    for case in cases:
        ratio = case.measured.joint("Pelvis")[:, 2] / case.rest_pelvis_height
        assert 0.8 < ratio.min() and ratio.max() < 1.0


def test_feet_alternate(cases):
    for case in cases:
        starts = sorted((s, side) for side in (0, 1) for s, _ in intervals(case.contact[:, side]))
        sides = [side for _, side in starts]
        assert all(a != b for a, b in zip(sides[:-1], sides[1:])), sides
        counts = np.bincount(sides, minlength=2)
        assert np.all(counts >= (2 if np.mean(case.params.speed_keys) >= 0.9 else 1)), counts


def test_walk_goes_on_straight_past_the_last_waypoint(body):
    betas = np.zeros(10)
    params = WalkParams(waypoints=((0.0, 0.0), (0.0, 1.0)), speed_keys=(1.5,))
    generated = walk(body.skeleton(betas), betas, params, 30.0, 91)
    pelvis = measure(generated.motion).joint("Pelvis")
    assert pelvis[-1, 1] == pytest.approx(4.5, abs=0.05)
    assert abs(pelvis[-1, 0]) < 5.0 * CM
    assert walk_path_length(params, 30.0, 91) == pytest.approx(4.5)


def test_sharp_turn_keeps_feet_planted(body):
    betas = np.zeros(10)
    params = WalkParams(waypoints=((0.0, 0.0), (1.0, 0.0), (0.0, 0.05)), speed_keys=(1.5,))
    generated = walk(body.skeleton(betas), betas, params, 30.0, 90)
    measured = measure(generated.motion)
    for side, name in enumerate("LR"):
        assert stance_slide(measured.joint(f"{name}_Ankle"), generated.foot_contact[:, side]) < 1.0 * CM
    assert min(v[..., 2].min() for v in measured.foot_vertices) > -1.0 * CM


def test_frame_rate_does_not_change_the_motion(body):
    betas = np.random.default_rng(3).normal(size=10)
    params = WalkParams(waypoints=((0.0, 0.0), (3.0, 0.0), (3.0, 3.0)), speed_keys=(1.0, 1.6))
    skeleton = body.skeleton(betas)
    coarse = measure(walk(skeleton, betas, params, 30.0, 91).motion)
    fine = measure(walk(skeleton, betas, params, 60.0, 181).motion)
    for joint in ("Pelvis", "L_Ankle", "R_Ankle", "Head"):
        assert np.abs(fine.joint(joint)[::2] - coarse.joint(joint)).max() < 1.5 * CM


def test_walk_output_is_deterministic_and_shaped(body):
    betas = np.zeros(10)
    params = WalkParams(waypoints=((1.0, 2.0), (4.0, 2.0)), speed_keys=(1.2,))
    first = walk(body.skeleton(betas), betas, params, 30.0, 48)
    second = walk(body.skeleton(betas), betas, params, 30.0, 48)
    assert first.motion.num_frames == 48 and first.motion.fps == 30.0
    assert first.foot_contact.shape == (48, 2) and first.foot_contact.dtype == bool
    for name, value in first.motion.frame_arrays().items():
        np.testing.assert_array_equal(value, getattr(second.motion, name))
    single = walk(body.skeleton(betas), betas, params, 30.0, 1)
    assert single.motion.num_frames == 1


def test_params_round_trip_through_json():
    params = WalkParams(waypoints=((0, 0), (1.5, 2)), speed_keys=(1, 1.5), step_width=0.2, arm_swing=0.5, phase=0.25)
    restored = WalkParams(**json.loads(json.dumps(dataclasses.asdict(params))))
    assert restored == params
    assert isinstance(restored.waypoints[0], tuple) and isinstance(restored.speed_keys[0], float)


GOOD = dict(waypoints=((0.0, 0.0), (2.0, 0.0)), speed_keys=(1.0,))


@pytest.mark.parametrize(
    "change, field",
    [
        (dict(speed_keys=(3.1,)), "WalkParams.speed_keys"),
        (dict(speed_keys=(0.2,)), "WalkParams.speed_keys"),
        (dict(speed_keys=(1.0, float("nan"))), "WalkParams.speed_keys"),
        (dict(speed_keys=()), "WalkParams.speed_keys"),
        (dict(waypoints=((0.0, 0.0),)), "WalkParams.waypoints"),
        (dict(waypoints=((0.0, 0.0), (0.0, 0.0))), "WalkParams.waypoints"),
        (dict(waypoints=((0.0, 0.0), (1.0, float("inf")))), "WalkParams.waypoints"),
        (dict(waypoints=((0.0, 0.0), (1.0, 2.0, 3.0))), "WalkParams.waypoints"),
        (dict(step_width=0.9), "WalkParams.step_width"),
        (dict(step_width=float("nan")), "WalkParams.step_width"),
        (dict(arm_swing=-1.0), "WalkParams.arm_swing"),
        (dict(phase=1.0), "WalkParams.phase"),
        (dict(phase="0.5"), "WalkParams.phase"),
    ],
)
def test_bad_params_name_the_field(change, field):
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        WalkParams(**{**GOOD, **change})


@pytest.mark.parametrize("fps, frames, field", [(0.0, 10, "fps"), (float("nan"), 10, "fps"), (30.0, 0, "num_frames")])
def test_bad_timing_names_the_argument(body, fps, frames, field):
    betas = np.zeros(10)
    with pytest.raises(ValueError, match=field):
        walk(body.skeleton(betas), betas, WalkParams(**GOOD), fps, frames)
    with pytest.raises(ValueError, match=field):
        walk_path_length(WalkParams(**GOOD), fps, frames)
