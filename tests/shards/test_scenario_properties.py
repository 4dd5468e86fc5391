"""Scenario properties (shards.format.properties, shards.format.property_checks) measured on hand-built ground
truth: segmentation, cameras, joints, foot contacts, object poses and contact events whose answer
is known by construction. Every check kind of scenes.scenarios.checks is covered, on a clip that
has the property and on clips that just miss it."""

import numpy as np
import pytest

from worldclips.motions.conventions import joint_index
from worldclips.scenes.scenarios.checks import (
    CHECK_KINDS,
    Airborne,
    Ballistic,
    Collides,
    ConstantSpeed,
    Lifted,
    Occluded,
    OrbitSweep,
    ReachesFloor,
    Seated,
    SpeedInRange,
    StraightPath,
    Visible,
)
from worldclips.shards.format.properties import ClipData, PropertiesFailed, measure, results_agree
from worldclips.shards.format.property_checks import MEASURES

FPS = 24.0
PELVIS = joint_index("pelvis")
SIDE = 12  # segmentation is SIDE x SIDE pixels


def make_clip(frames, people=None, objects=None, counts=None, cam_from_world=None, events=(), spec=None, fps=FPS):
    """A ClipData with instance ids: ground 1, then ``people`` (name -> (pelvis (T, 3), foot contact
    (T, 4))), then ``objects`` (name -> world_from_object (T, 4, 4)); ``counts``: name -> (T,)
    pixels of that instance in the segmentation; ``events``: (frame, a, b, impulse) contacts."""
    people, objects = dict(people or {}), dict(objects or {})
    names = ["ground", *people, *objects]
    ids = {name: index + 1 for index, name in enumerate(names)}
    instances = [{"id": ids[n], "name": n, "kind": "person" if n in people else "object", "category": n, "dynamic": n in people}
                 for n in names]  # fmt: skip
    joints = np.zeros((len(people), frames, 55, 3))
    contact = np.zeros((len(people), frames, 4), bool)
    for p, (pelvis, feet) in enumerate(people.values()):
        joints[p, :, :, :] = np.asarray(pelvis)[:, None, :]  # every joint at the pelvis is enough here
        contact[p] = feet
    poses = {"ground": np.tile(np.eye(4), (frames, 1, 1)), **objects}
    segmentation = np.zeros((frames, SIDE, SIDE), np.uint16)
    offset = 0
    for name, series in (counts or {}).items():  # each instance fills its own run of pixels
        flat = segmentation.reshape(frames, -1)
        for t, n in enumerate(series):
            flat[t, offset : offset + int(n)] = ids[name]
        offset += int(max(series))
    assert offset <= SIDE * SIDE
    low_high = [sorted((ids[a], ids[b])) for _, a, b, _ in events]
    contacts = {
        "frame": np.array([e[0] for e in events], np.int32),
        "instance_a": np.array([lh[0] for lh in low_high], np.int32),
        "instance_b": np.array([lh[1] for lh in low_high], np.int32),
        "impulse": np.array([e[3] for e in events], np.float64),
    }
    return ClipData(
        fps=fps, segmentation=segmentation,
        cam_from_world=np.tile(np.eye(4), (frames, 1, 1)) if cam_from_world is None else cam_from_world,
        joints3d=joints, foot_contact=contact, person_ids=np.array([ids[n] for n in people], np.int32),
        world_from_object=np.stack([poses[n] for n in ["ground", *objects]]), object_ids=np.array([ids[n] for n in ["ground", *objects]], np.int32),
        contacts=contacts, instances=instances, spec=spec or {"props": []}, roles={n: n for n in names},
    )  # fmt: skip


def translations(xyz):
    """(T, 4, 4) world_from_object poses at the points ``xyz`` (T, 3)."""
    poses = np.tile(np.eye(4), (len(xyz), 1, 1))
    poses[:, :3, 3] = xyz
    return poses


def look_at(eye, target):
    """cam_from_world (4, 4) of a camera at ``eye`` looking at ``target`` (x right, y down, z forward)."""
    forward = np.asarray(target, float) - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    rotation = np.stack([right, np.cross(forward, right), forward])
    out = np.eye(4)
    out[:3, :3], out[:3, 3] = rotation, -rotation @ eye
    return out


def one(check, data):
    result = measure((check,), data)
    assert list(result) == [check.name or check.check]
    return result[check.name or check.check]


def test_every_check_kind_has_a_measurement():
    assert set(MEASURES) == set(CHECK_KINDS) and len(CHECK_KINDS) == 12


# --- occluded: the object's pixel count dips below `below` x peak and recovers --------------------


def ball_clip(series):
    return make_clip(len(series), objects={"ball": translations(np.zeros((len(series), 3)))}, counts={"ball": series})


def test_occluded_for_exactly_four_frames_passes_with_min_frames_3():
    values = [40] * 8 + [0] * 4 + [40] * 8
    result = one(Occluded("ball", min_frames=3), ball_clip(values))
    assert result["values"] == {"peak_px": 40, "hidden_frames": 4, "first_hidden_frame": 8, "dips": 1, "min_px": 0}
    assert result["passed"] is True
    assert one(Occluded("ball", min_frames=4), ball_clip(values))["passed"] is True
    assert one(Occluded("ball", min_frames=5), ball_clip(values))["passed"] is False


def test_occluded_for_two_frames_fails():
    result = one(Occluded("ball", min_frames=3), ball_clip([40] * 8 + [0] * 2 + [40] * 8))
    assert result["values"]["hidden_frames"] == 2 and result["values"]["first_hidden_frame"] == 8
    assert result["passed"] is False


def test_occluded_that_never_recovers_or_starts_hidden_fails():
    never = one(Occluded("ball"), ball_clip([40] * 8 + [0] * 12))
    assert never["values"]["hidden_frames"] == 0 and never["values"]["dips"] == 0 and never["passed"] is False
    from_start = one(Occluded("ball"), ball_clip([0] * 5 + [40] * 15))
    assert from_start["values"]["hidden_frames"] == 0 and from_start["passed"] is False


def test_occluded_thresholds_are_relative_to_the_peak():
    # peak 40: hidden means < 8 px (below 0.2), recovered means >= 20 px (recover 0.5)
    assert one(Occluded("ball"), ball_clip([40] * 6 + [7] * 4 + [40] * 6))["values"]["hidden_frames"] == 4
    assert one(Occluded("ball"), ball_clip([40] * 6 + [8] * 4 + [40] * 6))["values"]["hidden_frames"] == 0
    weak = one(Occluded("ball"), ball_clip([40] * 6 + [0] * 4 + [19] * 6))
    assert weak["values"]["dips"] == 0 and weak["passed"] is False
    back = one(Occluded("ball"), ball_clip([40] * 6 + [0] * 4 + [20] * 6))
    assert back["values"]["dips"] == 1 and back["passed"] is True


def test_occluded_reports_the_longest_of_several_dips():
    result = one(Occluded("ball"), ball_clip([40] * 3 + [0] * 2 + [40] * 3 + [1] * 5 + [40] * 3))
    assert result["values"] == {"peak_px": 40, "hidden_frames": 5, "first_hidden_frame": 8, "dips": 2, "min_px": 0}
    assert result["passed"] is True


def test_occluded_speck_cannot_be_verified():
    result = one(Occluded("ball", min_peak_px=12), ball_clip([10] * 6 + [0] * 4 + [10] * 6))
    assert result["values"]["peak_px"] == 10 and result["values"]["hidden_frames"] == 4
    assert result["passed"] is False


# --- visible -----------------------------------------------------------------------------------


def test_visible_fraction_of_frames_with_enough_pixels():
    frames = 10
    standing = (np.zeros((frames, 3)), np.ones((frames, 4), bool))
    data = make_clip(frames, people={"walker": standing}, counts={"walker": [30] * 7 + [5] * 3})
    result = one(Visible("walker", min_fraction=0.7, min_px=20), data)
    assert result["values"] == {"fraction": 0.7, "median_px": 30.0} and result["passed"] is True
    assert one(Visible("walker", min_fraction=0.8, min_px=20), data)["passed"] is False
    assert one(Visible("walker", min_fraction=0.7, min_px=30), data)["values"]["fraction"] == 0.7
    assert one(Visible("walker", min_fraction=0.1, min_px=31), data)["values"]["fraction"] == 0.0


def test_a_role_missing_from_the_clip_fails_with_an_error_value():
    data = make_clip(4, objects={"ball": translations(np.zeros((4, 3)))}, counts={"ball": [5] * 4})
    result = one(Visible("piano"), data)
    assert result["passed"] is False and "piano" in result["values"]["error"]


# --- orbit_sweep: camera azimuth about the pelvis --------------------------------------------------


def orbit_clip(azimuth_deg, pelvis=(1.0, -2.0, 0.9), radius=4.0, height=1.6):
    frames = len(azimuth_deg)
    pelvis_track = np.tile(np.asarray(pelvis, float), (frames, 1))
    cams = np.stack([
        look_at(np.array([pelvis[0] + radius * np.cos(np.radians(a)), pelvis[1] + radius * np.sin(np.radians(a)), height]), pelvis)
        for a in azimuth_deg
    ])  # fmt: skip
    return make_clip(frames, people={"walker": (pelvis_track, np.ones((frames, 4), bool))}, cam_from_world=cams)


def test_orbit_of_exactly_120_degrees():
    result = one(OrbitSweep("walker", min_deg=90), orbit_clip(np.linspace(30.0, 150.0, 48)))
    assert result["values"]["sweep_deg"] == pytest.approx(120.0, abs=1e-4)
    assert result["values"]["net_deg"] == pytest.approx(120.0, abs=1e-4)
    assert result["values"]["radius_m"] == pytest.approx(4.0, abs=1e-6)
    assert result["passed"] is True
    assert one(OrbitSweep("walker", min_deg=130), orbit_clip(np.linspace(30.0, 150.0, 48)))["passed"] is False


def test_orbit_across_the_back_is_unwrapped():
    result = one(OrbitSweep("walker"), orbit_clip(np.linspace(150.0, 270.0, 48)))  # crosses +-180
    assert result["values"]["sweep_deg"] == pytest.approx(120.0, abs=1e-4) and result["passed"] is True


def test_orbit_there_and_back_sweeps_but_nets_nothing():
    result = one(OrbitSweep("walker", min_deg=50), orbit_clip(np.concatenate([np.linspace(0, 60, 25), np.linspace(60, 0, 25)[1:]])))
    assert result["values"]["sweep_deg"] == pytest.approx(60.0, abs=1e-4)
    assert result["values"]["net_deg"] == pytest.approx(0.0, abs=1e-4)
    assert result["passed"] is True


def test_a_camera_tracking_a_walker_does_not_orbit():
    frames = 48
    pelvis = np.column_stack([np.linspace(0.0, 3.0, frames), np.full(frames, 0.5), np.full(frames, 0.9)])
    cams = np.stack([look_at(p + np.array([0.0, -4.0, 0.7]), p) for p in pelvis])  # moves 3 m, same offset
    data = make_clip(frames, people={"walker": (pelvis, np.ones((frames, 4), bool))}, cam_from_world=cams)
    result = one(OrbitSweep("walker", min_deg=10), data)
    assert result["values"]["sweep_deg"] == pytest.approx(0.0, abs=1e-4) and result["passed"] is False


# --- straight_path -----------------------------------------------------------------------------


def lateral_path(amplitude, length=3.0, heading_deg=35.0, frames=73):
    """A pelvis track along ``heading`` whose lateral offset is even about the middle (so the
    best-fit line is the heading through the centroid); returns (pelvis (T, 3), true max deviation)."""
    s = np.linspace(-length / 2, length / 2, frames)
    lateral = amplitude * np.cos(4 * np.pi * s / length)
    lateral -= lateral.mean()
    h = np.radians(heading_deg)
    along, side = np.array([np.cos(h), np.sin(h)]), np.array([-np.sin(h), np.cos(h)])
    xy = np.array([2.0, -1.0]) + s[:, None] * along + lateral[:, None] * side
    return np.column_stack([xy, np.full(frames, 0.95)]), float(np.abs(lateral).max())


def walker(pelvis):
    return make_clip(len(pelvis), people={"walker": (pelvis, np.ones((len(pelvis), 4), bool))})


def test_straight_path_with_a_known_lateral_deviation():
    pelvis, deviation = lateral_path(0.03)
    result = one(StraightPath("walker", max_deviation_m=0.05, min_length_m=2.0), walker(pelvis))
    assert result["values"]["max_deviation_m"] == pytest.approx(deviation, abs=1e-6)
    assert deviation == pytest.approx(0.03, rel=0.05)
    assert result["values"]["length_m"] == pytest.approx(3.0, abs=1e-6)
    assert result["passed"] is True


def test_straight_path_fails_when_it_wanders_or_is_too_short():
    pelvis, deviation = lateral_path(0.08)
    wander = one(StraightPath("walker", max_deviation_m=0.05), walker(pelvis))
    assert wander["values"]["max_deviation_m"] == pytest.approx(deviation, abs=1e-6) and deviation > 0.05
    assert wander["passed"] is False
    short, _ = lateral_path(0.0, length=0.8)
    result = one(StraightPath("walker", min_length_m=1.0), walker(short))
    assert result["values"]["length_m"] == pytest.approx(0.8, abs=1e-6) and result["values"]["max_deviation_m"] < 1e-9
    assert result["passed"] is False


# --- airborne: no foot contact for N consecutive frames ---------------------------------------------


def feet(frames, airborne_runs, one_toe=False):
    contact = np.zeros((frames, 4), bool)
    contact[:, 3 if one_toe else slice(None)] = True
    for start, end in airborne_runs:
        contact[start:end] = False
    return contact


def jumper(contact):
    frames = len(contact)
    return make_clip(frames, people={"jumper": (np.zeros((frames, 3)), contact)})


def test_airborne_for_six_frames():
    data = jumper(feet(24, [(10, 16)]))
    result = one(Airborne("jumper", min_frames=6), data)
    assert result["values"] == {"longest_frames": 6, "flights": 1} and result["passed"] is True
    assert one(Airborne("jumper", min_frames=7), data)["passed"] is False


def test_one_toe_on_the_ground_is_grounded():
    result = one(Airborne("jumper", min_frames=3), jumper(feet(24, [(10, 14)], one_toe=True)))
    assert result["values"] == {"longest_frames": 4, "flights": 1} and result["passed"] is True


def test_airborne_must_take_off_and_land():
    never_lands = feet(24, [(10, 24)])
    assert one(Airborne("jumper", lands=True), jumper(never_lands))["values"] == {"longest_frames": 0, "flights": 0}
    assert one(Airborne("jumper", lands=False), jumper(never_lands))["values"] == {"longest_frames": 14, "flights": 1}
    starts_in_air = one(Airborne("jumper", lands=False), jumper(feet(24, [(0, 8)])))
    assert starts_in_air["values"]["longest_frames"] == 0 and starts_in_air["passed"] is False


def test_airborne_reports_the_longest_flight():
    result = one(Airborne("jumper", min_frames=5), jumper(feet(30, [(5, 8), (15, 20)])))
    assert result["values"] == {"longest_frames": 5, "flights": 2} and result["passed"] is True


# --- seated: pelvis at the chair's sitting point ------------------------------------------------------


CHAIR_XY, SEAT_HEIGHT, ABOVE_SEAT = np.array([2.0, 1.0]), 0.45, 0.21


def sit_clip(offset=0.05, start=(0.0, 1.0), stand=True, frames=60):
    """Walk from ``start`` to ``offset`` m beside the sitting point (frames 0-19), sit down (20-29),
    hold, and (with ``stand``) stand up again (40-49)."""
    standing, sitting = 0.95, SEAT_HEIGHT + ABOVE_SEAT
    end = CHAIR_XY + np.array([0.0, offset])
    xy = np.vstack([np.linspace(start, end, 20), np.tile(end, (frames - 20, 1))])
    z = np.full(frames, standing)
    z[20:30] = np.linspace(standing, sitting, 10)
    z[30:] = sitting
    if stand:
        z[40:50] = np.linspace(sitting, standing, 10)
        z[50:] = standing
    pelvis = np.column_stack([xy, z])
    chair_pose = translations(np.tile([*CHAIR_XY, 0.0], (frames, 1)))
    spec = {"props": [{"name": "chair", "category": "chair", "size": [0.45, 0.4, SEAT_HEIGHT, 0.4], "position": list(CHAIR_XY)}]}
    return make_clip(frames, people={"sitter": (pelvis, np.ones((frames, 4), bool))}, objects={"chair": chair_pose}, spec=spec)


def test_seated_at_a_known_distance_from_the_seat():
    check = Seated("sitter", "chair", max_distance_m=0.1, pelvis_above_seat_m=ABOVE_SEAT, min_approach_m=0.4, stands_up=True, min_rise_m=0.25)
    result = one(check, sit_clip(offset=0.05))
    values = result["values"]
    assert values["distance_m"] == pytest.approx(0.05, abs=1e-9)
    assert values["seated_frame"] == 29  # the first frame at the lowest point
    assert values["approach_m"] == pytest.approx(np.hypot(2.0, 0.05), abs=1e-6)
    assert values["rise_m"] == pytest.approx(0.95 - SEAT_HEIGHT - ABOVE_SEAT, abs=1e-9)
    assert result["passed"] is True


def test_seated_fails_beside_the_chair_without_standing_or_approaching():
    check = Seated("sitter", "chair", max_distance_m=0.1, min_approach_m=0.4)
    far = one(check, sit_clip(offset=0.15))
    assert far["values"]["distance_m"] == pytest.approx(0.15, abs=1e-9) and far["passed"] is False
    stays = one(check, sit_clip(stand=False))
    assert stays["values"]["rise_m"] == pytest.approx(0.0, abs=1e-9) and stays["passed"] is False
    assert one(Seated("sitter", "chair", min_approach_m=0.4, stands_up=False), sit_clip(stand=False))["passed"] is True
    no_walk = one(check, sit_clip(start=(2.0, 1.05)))
    assert no_walk["values"]["approach_m"] == pytest.approx(0.0, abs=1e-9) and no_walk["passed"] is False


# --- reaches_floor -----------------------------------------------------------------------------------


def falling_glass(events, frames=24):
    z = np.concatenate([np.full(4, 0.9), 0.9 - 0.5 * 9.81 * (np.arange(1, 9) / FPS) ** 2])  # falls from the table at frame 4
    z = np.concatenate([z, np.full(frames - len(z), 0.05)])
    z[11:] = 0.05  # on the floor from frame 11
    return make_clip(frames, objects={"table": translations(np.zeros((frames, 3))), "glass": translations(np.column_stack([np.zeros((frames, 2)), z]))},
                     events=events)  # fmt: skip


def test_reaches_floor_after_a_known_drop():
    events = [(0, "glass", "table", 0.0), (2, "glass", "ground", 0.0), (11, "glass", "ground", 0.3), (12, "glass", "ground", 0.1)]
    result = one(ReachesFloor("glass", min_drop_m=0.4), falling_glass(events))
    assert result["values"] == {"floor_frame": 11, "drop_m": pytest.approx(0.85), "final_height_m": pytest.approx(0.05)}
    assert result["passed"] is True  # the touch at frame 2 (no drop yet) does not count
    assert one(ReachesFloor("glass", min_drop_m=0.9), falling_glass(events))["values"]["floor_frame"] == -1


def test_reaches_floor_needs_a_contact_with_the_ground():
    result = one(ReachesFloor("glass", min_drop_m=0.4), falling_glass([(0, "glass", "table", 0.0)]))
    assert result["values"]["floor_frame"] == -1 and result["values"]["drop_m"] == pytest.approx(0.85)
    assert result["passed"] is False


# --- lifted --------------------------------------------------------------------------------------------


def lift_clip(partner_air=(10, 20), lifter_air=None, rise=0.4, frames=30):
    partner_z = np.full(frames, 0.9)
    partner_z[partner_air[0] : partner_air[1]] = 0.9 + rise
    partner = (np.column_stack([np.zeros((frames, 2)), partner_z]), feet(frames, [partner_air]))
    lifter = (np.tile([0.5, 0.0, 0.9], (frames, 1)), feet(frames, [lifter_air] if lifter_air else []))
    return make_clip(frames, people={"lifter": lifter, "partner": partner})


def test_lifted_for_ten_frames_while_the_lifter_stands():
    result = one(Lifted("partner", "lifter", min_frames=6, min_rise_m=0.3), lift_clip())
    assert result["values"] == {"longest_frames": 10, "rise_m": pytest.approx(0.4)} and result["passed"] is True


def test_not_lifted_when_the_lifter_jumps_too_or_the_rise_is_small():
    both = one(Lifted("partner", "lifter", min_frames=6), lift_clip(lifter_air=(10, 15)))
    assert both["values"]["longest_frames"] == 5 and both["passed"] is False
    low = one(Lifted("partner", "lifter", min_rise_m=0.3), lift_clip(rise=0.1))
    assert low["values"]["rise_m"] == pytest.approx(0.1) and low["passed"] is False


# --- collides ------------------------------------------------------------------------------------------


def two_balls(events, frames=24):
    return make_clip(frames, objects={"ball_a": translations(np.zeros((frames, 3))), "ball_b": translations(np.ones((frames, 3)))}, events=events)


def test_collides_finds_the_first_contact_between_the_pair():
    events = [(3, "ball_a", "ground", 1.0), (14, "ball_b", "ball_a", 0.5), (15, "ball_a", "ball_b", 0.25), (16, "ball_b", "ground", 2.0)]
    result = one(Collides("ball_a", "ball_b"), two_balls(events))
    assert result["values"] == {"first_frame": 14, "impulse": 0.75} and result["passed"] is True


def test_no_collision_when_each_ball_only_meets_the_ground():
    result = one(Collides("ball_a", "ball_b"), two_balls([(3, "ball_a", "ground", 1.0), (5, "ball_b", "ground", 1.0)]))
    assert result["values"] == {"first_frame": -1, "impulse": 0.0} and result["passed"] is False


# --- constant_speed -------------------------------------------------------------------------------------


def rolling(speed_at, frames=48, heading_deg=20.0, bounce=0.0):
    """A ball whose ground position travels along ``heading`` with speed ``speed_at(t)`` (m/s)."""
    t = np.arange(frames) / FPS
    distance = np.concatenate([[0.0], np.cumsum([speed_at(a) / FPS for a in (t[:-1] + t[1:]) / 2])])
    h = np.radians(heading_deg)
    xyz = np.column_stack([1.0 + distance * np.cos(h), -0.5 + distance * np.sin(h), 0.1 + bounce * np.abs(np.sin(6 * t))])
    return make_clip(frames, objects={"ball": translations(xyz)})


def test_constant_speed_of_two_metres_per_second():
    result = one(ConstantSpeed("ball", tolerance=0.03), rolling(lambda t: 2.0))
    assert result["values"]["mean_speed"] == pytest.approx(2.0, abs=1e-6)
    assert result["values"]["max_relative_deviation"] == pytest.approx(0.0, abs=1e-6)
    assert result["passed"] is True
    bouncing = one(ConstantSpeed("ball", tolerance=0.03), rolling(lambda t: 2.0, bounce=0.2))  # only the ground speed counts
    assert bouncing["values"]["max_relative_deviation"] == pytest.approx(0.0, abs=1e-6) and bouncing["passed"] is True


def test_a_decelerating_ball_is_not_constant_speed():
    frames, v0, a = 48, 2.0, 0.5
    result = one(ConstantSpeed("ball", tolerance=0.03), rolling(lambda t: v0 - a * t, frames))
    mean = v0 - a * (frames - 1) / 2 / FPS
    assert result["values"]["mean_speed"] == pytest.approx(mean, abs=1e-6)
    assert result["values"]["max_relative_deviation"] == pytest.approx(a * (frames - 2) / 2 / FPS / mean, abs=1e-6)
    assert result["passed"] is False


# --- ballistic ---------------------------------------------------------------------------------------------


def thrown(g, frames=30, z0=0.5, vz=4.0, ground_contact=True):
    """z = z0 + vz t - g t^2 / 2 until it reaches the ground (a contact event), then resting on it."""
    t = np.arange(frames) / FPS
    z = z0 + vz * t - g * t**2 / 2
    land = int(np.argmax(z <= 0.1)) if (z <= 0.1).any() else frames - 1
    z[land + 1 :] = 0.1  # after the touch: not a parabola any more
    xyz = np.column_stack([1.5 * t, np.zeros(frames), z])
    events = [(land, "ball", "ground", 1.0), (land + 2, "ball", "ground", 0.5)] if ground_contact else []
    return make_clip(frames, objects={"ball": translations(xyz)}, events=events), land


def test_ballistic_flight_under_gravity_passes():
    data, land = thrown(9.81)
    result = one(Ballistic("ball", tolerance=0.02, min_frames=5), data)
    assert result["values"]["flight_frames"] == land + 1 and land > 10
    assert result["values"]["g"] == pytest.approx(9.81, abs=1e-6)
    assert result["values"]["relative_error"] == pytest.approx(0.0, abs=1e-6)
    assert result["passed"] is True


def test_ballistic_with_g_5_fails():
    data, land = thrown(5.0)
    result = one(Ballistic("ball", tolerance=0.02), data)
    assert result["values"]["g"] == pytest.approx(5.0, abs=1e-6)
    assert result["values"]["relative_error"] == pytest.approx((9.81 - 5.0) / 9.81, abs=1e-6)
    assert result["passed"] is False


def test_ballistic_without_a_touch_fits_the_whole_clip_and_too_short_a_flight_fails():
    data, _ = thrown(9.81, frames=12, vz=3.0, ground_contact=False)
    result = one(Ballistic("ball"), data)
    assert result["values"]["flight_frames"] == 12 and result["values"]["g"] == pytest.approx(9.81, abs=1e-6)
    short, land = thrown(9.81, z0=0.2, vz=-1.0)
    result = one(Ballistic("ball", min_frames=5), short)
    assert land < 4 and result["values"]["flight_frames"] == land + 1 and result["passed"] is False


# --- speed_in_range ------------------------------------------------------------------------------------------


def launched(velocity, ranges, gravity=0.0, frames=12):
    t = np.arange(frames) / FPS
    xyz = np.asarray(velocity)[None, :] * t[:, None] + np.array([0.0, 0.0, 0.5])
    xyz[:, 2] -= gravity * t**2 / 2
    spec = {"props": [], "physics": {"ranges": {"speed": ranges}}}
    return make_clip(frames, objects={"ball": translations(xyz)}, spec=spec)


def test_speed_in_the_id_range():
    result = one(SpeedInRange("ball", "speed"), launched([1.2, -1.6, 0.0], [[1.0, 3.0]]))
    assert result["values"] == {"speed": pytest.approx(2.0, abs=1e-6), "low": 1.0, "high": 3.0} and result["passed"] is True


def test_speed_against_the_two_sided_ood_range():
    ood = [[0.3, 0.7], [3.5, 5.0]]
    assert one(SpeedInRange("ball"), launched([2.0, 0.0, 0.0], ood))["passed"] is False  # between the intervals
    assert one(SpeedInRange("ball"), launched([0.5, 0.0, 0.0], ood))["passed"] is True
    assert one(SpeedInRange("ball"), launched([4.0, 0.0, 0.0], ood))["passed"] is True
    near = one(SpeedInRange("ball", tolerance=0.02), launched([3.45, 0.0, 0.0], ood))  # within 2 % of 3.5
    assert near["values"]["speed"] == pytest.approx(3.45, abs=1e-6) and near["passed"] is True
    assert one(SpeedInRange("ball", tolerance=0.02), launched([3.4, 0.0, 0.0], ood))["passed"] is False


def test_launch_speed_of_a_parabola_is_its_initial_velocity():
    result = one(SpeedInRange("ball", frames=3), launched([2.0, 0.0, 3.0], [[2.0, 4.0]], gravity=9.81))
    assert result["values"]["speed"] == pytest.approx(np.sqrt(13.0), abs=1e-6) and result["passed"] is True


def test_speed_without_recorded_ranges_cannot_be_verified():
    data = launched([2.0, 0.0, 0.0], [[1.0, 3.0]])
    data = make_clip(12, objects={"ball": data.object_poses("ball")}, spec={"props": []})
    result = one(SpeedInRange("ball"), data)
    assert result["passed"] is False and "speed" in result["values"]["error"]


# --- measure and the comparison validate uses ------------------------------------------------------------------


def test_measure_records_params_and_names_and_raises_nothing():
    data = jumper(feet(24, [(10, 16)]))
    results = measure((Airborne("jumper", min_frames=3, name="short"), Airborne("jumper", min_frames=8, name="long")), data)
    assert list(results) == ["short", "long"]
    assert results["short"] == {"check": "airborne", "params": {"character": "jumper", "min_frames": 3, "lands": True},
                                "values": {"longest_frames": 6, "flights": 1}, "passed": True}  # fmt: skip
    assert results["long"]["passed"] is False
    error = PropertiesFailed(results, "ground_contact")
    assert str(error) == "properties not met: long (longest_frames 6, flights 1)" and error.scenario == "ground_contact"


def test_results_agree_finds_changed_values_and_outcomes():
    data, _ = thrown(9.81)
    measured = measure((Ballistic("ball"),), data)
    assert results_agree(measured, measured) is None
    changed = {"ballistic": {**measured["ballistic"], "values": {**measured["ballistic"]["values"], "g": 9.5}}}
    assert "ballistic.g: recorded 9.5" in results_agree(changed, measured)
    flipped = {"ballistic": {**measured["ballistic"], "passed": False}}
    assert "recorded passed=False, re-measured passed=True" in results_agree(flipped, measured)
    assert "not recorded" in results_agree({}, measured)
    frames = {"ballistic": {**measured["ballistic"], "values": {**measured["ballistic"]["values"], "flight_frames": 3}}}
    assert "ballistic.flight_frames: recorded 3" in results_agree(frames, measured)  # integer values count too
    dropped = {"ballistic": {**measured["ballistic"], "values": {k: v for k, v in measured["ballistic"]["values"].items() if k != "g"}}}
    assert "ballistic.g: recorded None" in results_agree(dropped, measured)
