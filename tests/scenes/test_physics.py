"""MuJoCo props against analytic mechanics: free fall, projectiles, resting contact, energy."""

import numpy as np
import pytest

from worldclips.scenes.physics import Catch, Hold, restitution_dampratio, simulate
from worldclips.scenes.physics_spec import DynamicProp, KinematicHulls, Kick, PhysicsSettings, StaticBox

G = 9.81
FPS = 30.0
NO_SETTLE = PhysicsSettings(settle_s=0.0)


def _fit_g(times, heights):
    return -2.0 * np.polyfit(times, heights, 2)[0]


def test_free_fall_matches_g_within_half_a_percent():
    ball = DynamicProp(2, "sphere", (0.05,), 1.0, (0.0, 0.0, 5.0))
    result = simulate([ball], [], [], FPS, 25, NO_SETTLE)
    t = np.arange(25) / FPS
    z = result.world_from_object[0, :, 2, 3]
    assert z[-1] > 0.3  # still in flight
    assert _fit_g(t, z) == pytest.approx(G, rel=0.005)
    np.testing.assert_allclose(result.linear_velocity[0, :, 2], -G * t, atol=0.02)


def test_projectile_flight_is_a_parabola_with_constant_horizontal_speed():
    ball = DynamicProp(2, "sphere", (0.05,), 0.3, (0.0, 0.0, 1.0), held_until=3, kicks=(Kick(3, (2.0, -1.0, 4.0)),))
    result = simulate([ball], [], [], FPS, 20, NO_SETTLE)
    position = result.world_from_object[0, :, :3, 3]
    np.testing.assert_allclose(position[:4], np.tile([0.0, 0.0, 1.0], (4, 1)), atol=1e-9)  # held, then released
    t = (np.arange(3, 20) - 3) / FPS
    flight = position[3:]
    np.testing.assert_allclose(flight[:, 0], 2.0 * t, atol=2e-3)
    np.testing.assert_allclose(flight[:, 1], -1.0 * t, atol=2e-3)
    assert _fit_g(t, flight[:, 2]) == pytest.approx(G, rel=0.005)
    assert np.polyfit(t, flight[:, 2], 2)[1] == pytest.approx(4.0, rel=0.01)


def _lowest_point(prop: DynamicProp, pose: np.ndarray) -> float:
    rotation, center = pose[:3, :3], pose[:3, 3]
    if prop.shape == "sphere":
        return center[2] - prop.size[0]
    if prop.shape == "box":
        corners = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]) * prop.size
        return (corners @ rotation.T + center)[:, 2].min()
    radius, half = prop.size
    axis = rotation[:, 2]
    if prop.shape == "capsule":
        return center[2] - abs(axis[2]) * half - radius
    # cylinder: lowest point of the two end discs
    radial = radius * np.sqrt(max(0.0, 1.0 - axis[2] ** 2))
    return center[2] - abs(axis[2]) * half - radial


def test_resting_props_penetrate_ground_and_furniture_by_less_than_5_mm():
    table = StaticBox(20, (2.0, 0.0, 0.74), (0.6, 0.4, 0.02))
    top = 0.76
    props = [
        DynamicProp(2, "sphere", (0.11,), 0.45, (0.0, 0.0, 0.3)),
        DynamicProp(3, "box", (0.2, 0.15, 0.1), 3.0, (0.8, 0.0, 0.3), rotation=(0.4, 0.3, 0.0)),
        DynamicProp(4, "cylinder", (0.04, 0.07), 0.3, (2.0, 0.1, top + 0.1)),
        DynamicProp(5, "capsule", (0.05, 0.1), 0.5, (-1.0, 0.5, 0.5), rotation=(1.2, 0.0, 0.0)),
        DynamicProp(6, "box", (0.05, 0.05, 0.05), 0.2, (2.2, -0.1, top + 0.2)),
        DynamicProp(7, "sphere", (0.05,), 0.1, (1.8, -0.2, top + 0.05), rolling_friction=0.01),
    ]
    result = simulate(props, [table], [], FPS, 10, PhysicsSettings(settle_s=3.0))
    for index, prop in enumerate(props):
        lowest = _lowest_point(prop, result.world_from_object[index, -1])
        x, y = result.world_from_object[index, -1, :2, 3]
        on_table = abs(x - 2.0) < 0.6 and abs(y) < 0.4
        support = top if on_table else 0.0
        assert lowest > support - 0.005, (prop.shape, lowest, support)
        assert lowest < support + 0.005, (prop.shape, lowest, support)  # resting, not floating
        assert np.linalg.norm(result.linear_velocity[index, -1]) < 0.01


def _inertia(prop: DynamicProp) -> np.ndarray:
    m = prop.mass
    if prop.shape == "sphere":
        return np.eye(3) * 0.4 * m * prop.size[0] ** 2
    if prop.shape == "box":
        a, b, c = 2 * np.array(prop.size)
        return np.diag([m * (b * b + c * c), m * (a * a + c * c), m * (a * a + b * b)]) / 12
    raise NotImplementedError(prop.shape)


def test_total_energy_never_increases_without_characters():
    props = [
        DynamicProp(2, "sphere", (0.1,), 1.0, (0.0, 0.0, 1.5), restitution=0.6),
        DynamicProp(3, "sphere", (0.1,), 1.0, (1.0, 0.02, 0.1), kicks=(Kick(0, (-3.0, 0.0, 0.0)),)),
        DynamicProp(4, "box", (0.1, 0.1, 0.3), 2.0, (0.5, 1.0, 0.6), rotation=(0.5, 0.0, 0.0), kicks=(Kick(0, (0.0, -1.0, 2.0), (3.0, 1.0, 0.0)),)),
    ]
    result = simulate(props, [], [], FPS, 60, NO_SETTLE)
    energy = np.zeros(60)
    for index, prop in enumerate(props):
        rotation = result.world_from_object[index, :, :3, :3]
        omega = result.angular_velocity[index]
        inertia_world = rotation @ _inertia(prop) @ np.swapaxes(rotation, 1, 2)
        rotational = 0.5 * np.einsum("ti,tij,tj->t", omega, inertia_world, omega)
        translational = 0.5 * prop.mass * (result.linear_velocity[index] ** 2).sum(1)
        potential = prop.mass * G * result.world_from_object[index, :, 2, 3]
        energy += translational + rotational + potential
    assert energy[-1] < energy[0] - 1.0  # collisions and friction dissipate
    # Contacts are compliant: a frame sampled mid-bounce holds part of the energy in the contact
    # spring (not counted here), so compare every frame with the most the props had before.
    assert np.all(energy[1:] <= np.maximum.accumulate(energy)[:-1] + 1e-3 * energy[0])


def test_same_inputs_same_trajectories():
    props = [DynamicProp(2, "box", (0.1, 0.2, 0.1), 1.0, (0.0, 0.0, 1.0), rotation=(0.3, 0.5, 0.1), kicks=(Kick(2, (1.0, 0.5, 2.0), (1, 2, 3)),))]
    a = simulate(props, [], [], FPS, 30, PhysicsSettings(settle_s=0.2))
    b = simulate(props, [], [], FPS, 30, PhysicsSettings(settle_s=0.2))
    assert np.array_equal(a.world_from_object, b.world_from_object)
    assert np.array_equal(a.contacts.impulse, b.contacts.impulse)


def test_rolling_friction_decelerates_balls_as_a_rolling_resistance_torque():
    """Kicked without spin, a ball slides until it rolls at 5/7 of the kick speed (solid sphere),
    then decelerates at (5/7) g mu / r under a rolling-resistance torque mu * N, and stops."""
    radius, mu = 0.11, 0.01
    ball = DynamicProp(2, "sphere", (radius,), 0.45, (0.0, 0.0, radius), rolling_friction=mu, kicks=(Kick(0, (3.0, 0.0, 0.0)),))
    result = simulate([ball], [], [], FPS, 150, NO_SETTLE)
    speed = np.linalg.norm(result.linear_velocity[0], axis=1)
    t = np.arange(150) / FPS
    rolling = (t > 0.7) & (speed > 0.2)
    deceleration = -np.polyfit(t[rolling], speed[rolling], 1)[0]
    assert deceleration == pytest.approx(5 / 7 * G * mu / radius, rel=0.05)
    assert speed[-1] < 0.01 and result.world_from_object[0, -1, 0, 3] > 1.0
    free = DynamicProp(2, "sphere", (radius,), 0.45, (0.0, 0.0, radius), rolling_friction=0.0, kicks=(Kick(0, (3.0, 0.0, 0.0)),))
    speed_free = np.linalg.norm(simulate([free], [], [], FPS, 60, NO_SETTLE).linear_velocity[0], axis=1)
    assert speed_free[-1] == pytest.approx(3.0 * 5 / 7, rel=0.01)  # no rolling friction: rolls on


def _moving_block(instance_id: int, start, velocity, frames: int) -> KinematicHulls:
    cube = np.array([[x, y, z] for x in (-0.15, 0.15) for y in (-0.15, 0.15) for z in (0.0, 1.0)])
    poses = np.tile(np.eye(4), (frames, 1, 1, 1))
    poses[:, 0, :3, 3] = np.asarray(start) + np.arange(frames)[:, None] / FPS * np.asarray(velocity)
    return KinematicHulls(instance_id, (cube,), poses, ("L_Ankle_block",))


def test_a_kinematic_character_pushes_a_prop_and_contacts_are_reported():
    box = DynamicProp(2, "box", (0.15, 0.15, 0.15), 2.0, (1.0, 0.0, 0.15))
    walker = _moving_block(9, (-0.5, 0.0, 0.0), (1.2, 0.0, 0.0), 60)
    result = simulate([box], [], [walker], FPS, 60, NO_SETTLE)
    assert result.world_from_object[0, -1, 0, 3] > 1.5  # pushed forward
    contacts = result.contacts
    pushes = (contacts.instance_a == 2) & (contacts.instance_b == 9)
    assert pushes.any() and contacts.impulse[pushes].sum() > 0.5
    normals = contacts.normal[pushes]
    assert np.all(normals[:, 0] < -0.5)  # from the box (a) towards the walker (b) behind it
    feet = (contacts.instance_a == 1) & (contacts.instance_b == 9)
    assert feet.sum() == 60 and np.all(contacts.impulse[feet] == 0.0)
    ground = (contacts.instance_a == 1) & (contacts.instance_b == 2)
    assert contacts.impulse[ground].sum() > 0


def test_release_from_a_moving_hold_keeps_the_hand_velocity():
    frames = 30
    hand = np.tile(np.eye(4), (frames, 1, 1))
    hand[:, :3, 3] = np.stack([np.arange(frames) / FPS * 2.0, np.zeros(frames), np.full(frames, 1.5)], axis=1)
    ball = DynamicProp(2, "sphere", (0.04,), 0.2, (0.0, 0.0, 1.5))
    result = simulate([ball], [], [], FPS, frames, NO_SETTLE, holds={2: Hold(hand, until=10)})
    np.testing.assert_allclose(result.world_from_object[0, :10, :3, 3], hand[:10, :3, 3], atol=1e-9)
    np.testing.assert_allclose(result.linear_velocity[0, 12:20, 0], 2.0, atol=1e-3)
    assert result.world_from_object[0, 20, 2, 3] < 1.5 - 0.3  # falls once released


def test_catch_attaches_to_the_hand():
    frames = 40
    hand = np.tile(np.eye(4), (frames, 1, 1))
    hand[:, :3, 3] = [1.5, 0.0, 1.0]
    hand[25:, 1, 3] = np.linspace(0.0, 0.5, frames - 25)  # the hand moves away after the catch
    ball = DynamicProp(2, "sphere", (0.04,), 0.2, (0.0, 0.0, 1.0), kicks=(Kick(0, (3.0, 0.0, 1.0)),))
    # flight time to x = 1.5 is 0.5 s; z(0.5) = 1 + 0.5 - 1.226 = 0.27: aim so that it arrives at z = 1
    vz = (0.0 + 0.5 * G * 0.25) / 0.5
    ball = DynamicProp(2, "sphere", (0.04,), 0.2, (0.0, 0.0, 1.0), kicks=(Kick(0, (3.0, 0.0, vz)),))
    result = simulate([ball], [], [], FPS, frames, NO_SETTLE, catches={2: Catch(hand, after=5, reach=0.12)})
    position = result.world_from_object[0, :, :3, 3]
    caught = np.nonzero(np.linalg.norm(position - hand[:, :3, 3], axis=1) <= 0.12)[0]
    assert len(caught) and caught[0] <= 17
    offset = position[caught[0]] - hand[caught[0], :3, 3]
    np.testing.assert_allclose(position[caught[0]:] - hand[caught[0]:, :3, 3], np.tile(offset, (frames - caught[0], 1)), atol=1e-9)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"mass": -1.0}, r"DynamicProp\[2\].mass"),
        ({"mass": float("nan")}, r"DynamicProp\[2\].mass"),
        ({"friction": 0.0}, r"DynamicProp\[2\].friction"),
        ({"restitution": 1.5}, r"DynamicProp\[2\].restitution"),
        ({"size": (0.0,)}, r"DynamicProp\[2\].size"),
        ({"size": (0.1, 0.1)}, r"DynamicProp\[2\].size: a sphere needs 1"),
        ({"shape": "torus"}, r"DynamicProp\[2\].shape"),
        ({"position": (0.0, float("inf"), 1.0)}, r"DynamicProp\[2\].position"),
    ],
)
def test_invalid_prop_values_are_rejected_by_name(kwargs, message):
    values = {"instance_id": 2, "shape": "sphere", "size": (0.1,), "mass": 1.0, "position": (0.0, 0.0, 1.0), **kwargs}
    with pytest.raises(ValueError, match=message):
        DynamicProp(**values)


def test_invalid_settings_and_kicks_are_rejected():
    with pytest.raises(ValueError, match="substep_hz"):
        PhysicsSettings(substep_hz=100.0)
    with pytest.raises(ValueError, match="Kick.linear"):
        Kick(0, (float("nan"), 0.0, 0.0))
    with pytest.raises(ValueError, match="not physical"):
        Kick(0, (1e6, 0.0, 0.0))


@pytest.mark.parametrize("restitution", [0.3, 0.6, 0.9])
def test_a_dropped_ball_rebounds_with_its_restitution(restitution):
    ball = DynamicProp(2, "sphere", (0.1,), 0.5, (0.0, 0.0, 1.5), restitution=restitution)
    result = simulate([ball], [], [], 500.0, 750, NO_SETTLE)  # 500 fps: every substep recorded
    z, vz = result.world_from_object[0, :, 2, 3], result.linear_velocity[0, :, 2]
    hit = int(np.argmax(z < 0.1))
    assert vz[hit + 1 : hit + 100].max() / -vz[hit - 1] == pytest.approx(restitution, abs=0.04)
    assert 0.1 - z.min() < 0.012  # a 5 m/s impact compresses the contact by about a centimetre


def test_two_balls_collide_without_gaining_energy():
    a = DynamicProp(2, "sphere", (0.1,), 1.0, (0.0, 0.0, 1.0), restitution=0.9, kicks=(Kick(0, (2.0, 0.0, 0.0)),))
    b = DynamicProp(3, "sphere", (0.1,), 3.0, (0.6, 0.0, 1.0), restitution=0.9, kicks=(Kick(0, (-1.0, 0.0, 0.0)),))
    result = simulate([a, b], [], [], 120.0, 40, NO_SETTLE)  # in free fall: only gravity and the collision
    vx = result.linear_velocity[:, :, 0]
    before, after = vx[:, 2], vx[:, -1]
    assert 1.0 * after[0] + 3.0 * after[1] == pytest.approx(1.0 * before[0] + 3.0 * before[1], abs=1e-6)
    assert (after[1] - after[0]) / (before[0] - before[1]) == pytest.approx(0.9, abs=0.03)
    assert 0.5 * (after**2 * [1.0, 3.0]).sum() < 0.5 * (before**2 * [1.0, 3.0]).sum()


def test_restitution_damping_ratio_is_monotonic():
    ratios = [restitution_dampratio(e) for e in (0.0, 0.1, 0.5, 0.9)]
    assert ratios[0] == 1.0 and all(a > b for a, b in zip(ratios, ratios[1:]))


def test_character_hulls_match_mannequin_convex_vertices():
    from mannequin import Mannequin

    from worldclips.motions.mannequin_body import MannequinBody
    from worldclips.motions.motion import MotionClip
    from worldclips.scenes.character_hulls import character_hulls

    rng = np.random.default_rng(0)
    arrays = MotionClip.rest(3, FPS).frame_arrays()
    arrays["body_pose"] = rng.normal(size=(3, 21, 3)) * 0.3
    arrays["transl"] = rng.normal(size=(3, 3))
    motion = MotionClip(fps=FPS, betas=rng.normal(size=10), **arrays)
    hulls = character_hulls(5, motion)
    posed = [v @ np.swapaxes(hulls.world_from_link[:, i, :3, :3], 1, 2) + hulls.world_from_link[:, i, None, :3, 3] for i, v in enumerate(hulls.hull_vertices)]
    reference = Mannequin("convex", lod=2, shape=motion.betas, flat_hand_mean=True).vertices(MannequinBody().pose_parameters(motion))
    np.testing.assert_allclose(np.concatenate(posed, axis=1), reference, atol=1e-9)
