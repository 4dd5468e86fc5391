"""The rounded walking path and the gait timing."""

from __future__ import annotations

import numpy as np
import pytest

from worldclips.motions.gait import GaitTiming, speed_at
from worldclips.motions.path import CORNER_RADIUS, SmoothPath


def random_polyline(rng: np.random.Generator) -> np.ndarray:
    heading, points = rng.uniform(-np.pi, np.pi), [rng.uniform(-3, 3, 2)]
    for i in range(int(rng.integers(1, 6))):
        if i:
            heading += rng.uniform(-2.5, 2.5)
        points.append(points[-1] + rng.uniform(0.2, 4.0) * np.array([np.cos(heading), np.sin(heading)]))
    return np.array(points)


@pytest.mark.parametrize("seed", range(20))
def test_path_is_smooth_and_unit_speed(seed):
    points = random_polyline(np.random.default_rng(seed))
    path = SmoothPath.from_waypoints(points)
    s = np.linspace(-2.0, path.length + 2.0, 20001)
    position, heading = path.evaluate(s)
    step = np.diff(position, axis=0)
    ds = s[1] - s[0]
    np.testing.assert_allclose(np.linalg.norm(step, axis=1), ds, rtol=1e-3)  # arc length parametrisation
    mid = 0.5 * (heading[1:] + heading[:-1])
    np.testing.assert_allclose(step / ds, np.stack([np.cos(mid), np.sin(mid)], axis=1), atol=2e-3)  # tangent = heading
    assert np.abs(np.diff(heading)).max() < 0.02  # heading continuous (no kinks)
    np.testing.assert_allclose(path.evaluate(np.array([0.0, path.length]))[0], points[[0, -1]], atol=1e-9)
    assert path.length <= np.linalg.norm(np.diff(points, axis=0), axis=1).sum() + 1e-9


def test_corner_rounding_stays_close_to_the_polyline():
    points = np.array([[0.0, 0.0], [4.0, 0.0], [4.0, 4.0]])
    path = SmoothPath.from_waypoints(points)
    position, heading = path.evaluate(np.linspace(0.0, path.length, 4001))
    corner_gap = np.linalg.norm(position - points[1], axis=1).min()
    assert corner_gap == pytest.approx(CORNER_RADIUS * (np.sqrt(2.0) - 1.0), rel=1e-3)
    assert heading[-1] - heading[0] == pytest.approx(np.pi / 2)


def test_path_extends_straight_beyond_both_ends():
    path = SmoothPath.from_waypoints(np.array([[1.0, 1.0], [1.0, 3.0]]))
    position, heading = path.evaluate(np.array([-1.0, 5.0]))
    np.testing.assert_allclose(position, [[1.0, 0.0], [1.0, 6.0]], atol=1e-12)
    np.testing.assert_allclose(heading, np.pi / 2)


def test_invalid_waypoints_are_rejected():
    with pytest.raises(ValueError, match="waypoints"):
        SmoothPath.from_waypoints(np.array([[0.0, 0.0]]))
    with pytest.raises(ValueError, match="waypoints"):
        SmoothPath.from_waypoints(np.array([[0.0, 0.0], [0.0, 0.0]]))


def test_speed_profile_hits_its_keys_smoothly():
    keys = np.array([0.5, 2.0, 1.0])
    t = np.linspace(-1.0, 5.0, 6001)
    v = speed_at(keys, 4.0, t)
    np.testing.assert_allclose(speed_at(keys, 4.0, np.array([0.0, 2.0, 4.0])), keys)
    assert v.min() >= 0.5 and v.max() <= 2.0
    assert np.abs(np.diff(v)).max() < 0.01  # continuous
    assert v[0] == 0.5 and v[-1] == 1.0  # held outside the clip


def test_timing_integrates_speed_and_cadence():
    timing = GaitTiming.build(np.array([1.0, 1.5]), duration=3.0, phase0=0.3, scale=1.0)
    assert timing.arc_at(np.array(0.0)) == pytest.approx(0.0)
    assert timing.arc_at(np.array(3.0)) == pytest.approx(3.0 * 1.25, rel=1e-6)
    assert timing.phase_at(np.array(0.0)) == pytest.approx(0.3)
    assert np.all(np.diff(timing.phase) > 0)
    phases = np.array([0.5, 1.0, 2.7])
    np.testing.assert_allclose(timing.phase_at(timing.time_at_phase(phases)), phases, atol=1e-9)
