"""Physics setups from the config, built into scenes: each produces the event it is meant to show,
with motion that matches analytic mechanics where there is an analytic answer."""

import json

import numpy as np
import pytest

from worldclips.motions.mannequin_body import MannequinBody
from worldclips.motions.motion import MotionClip
from worldclips.render.mesh_data import is_closed
from worldclips.scenes import meshes
from worldclips.scenes.build import build_scene
from worldclips.scenes.hands import world_from_hand
from worldclips.scenes.physics_config import SPLIT_RANGES, PhysicsConfig
from worldclips.scenes.physics_scene import static_colliders
from worldclips.scenes.physics_spec import PhysicsSettings
from worldclips.scenes.sampling import sample_clip_spec
from worldclips.scenes.scene_config import SceneConfig
from worldclips.scenes.serialization import SpecError
from worldclips.scenes.spec import ClipSpec, DynamicPropSpec, HoldSpec, Material, PropSpec

FPS, FRAMES, SIZE = 24.0, 48, (64, 48)
G = 9.81
SEEDS = range(3)


@pytest.fixture(scope="module")
def body():
    return MannequinBody()


def _spec(setup: str, seed: int, split: str = "id", fps: float = FPS, frames: int = FRAMES) -> ClipSpec:
    return sample_clip_spec(SceneConfig(physics=PhysicsConfig(**{setup: 1.0}, split=split)), seed, 0, fps, frames, *SIZE)


@pytest.fixture(scope="module")
def built(body):
    """setup -> [(spec, scene)] for a few seeds (built once for the module)."""
    cache = {}

    def get(setup: str, split: str = "id", fps: float = FPS, frames: int = FRAMES):
        key = (setup, split, fps, frames)
        if key not in cache:
            specs = [_spec(setup, seed, split, fps, frames) for seed in SEEDS]
            cache[key] = [(spec, build_scene(spec, body)) for spec in specs]
        return cache[key]

    return get


def _object(scene, name):
    return next(o for o in scene.objects if o.name == name)


def _events(scene, a, b):
    c = scene.contacts
    low, high = sorted((a, b))
    return np.nonzero((c.instance_a == low) & (c.instance_b == high))[0]


def test_glass_is_pushed_or_tipped_off_the_table_onto_the_floor(built):
    modes = set()
    for spec, scene in built("glass_off_table"):
        prop = spec.dynamic_props[0]
        glass, table = _object(scene, prop.name), _object(scene, "table")
        top = table_top = spec.props[0].size[2]
        z = glass.world_from_object[:, 2, 3]
        kick = prop.kicks[0].frame
        assert z[0] == pytest.approx(table_top + prop.size[1], abs=0.005)  # standing on the table, settled
        assert np.abs(z[:kick] - z[0]).max() < 1e-3  # at rest until pushed
        assert z[-1] < 2 * prop.size[1] and z[-1] > prop.size[0] - 0.005  # on the floor at the end
        assert len(_events(scene, glass.instance_id, 1)) > 0 and len(_events(scene, glass.instance_id, table.instance_id)) > 0
        assert top > 0.6
        modes.add(spec.physics.choices["mode"])
    assert spec.physics.choices["category"] in ("glass", "cup", "bottle")


def test_ball_thrown_to_a_second_character_is_caught_and_stays_in_the_hand(built):
    for spec, scene in built("ball_throw"):
        prop = spec.dynamic_props[0]
        ball = _object(scene, "ball")
        catcher = next(c for c in scene.characters if c.name == "catcher")
        thrower = next(c for c in scene.characters if c.name == "thrower")
        release = prop.hold.release
        hand = world_from_hand(thrower.body.joints, prop.hold.side)
        held = hand[:release, :3, :3] @ np.asarray(prop.hold.offset) + hand[:release, :3, 3]
        np.testing.assert_allclose(ball.world_from_object[:release, :3, 3], held, atol=1e-6)  # in the thrower's hand
        moving = np.gradient(ball.world_from_object[:, :3, 3], 1 / FPS, axis=0)  # carried: the hand's velocity
        np.testing.assert_allclose(ball.linear_velocity[1 : release - 1], moving[1 : release - 1], atol=0.1)
        np.testing.assert_allclose(ball.linear_velocity[-6:-1], moving[-6:-1], atol=0.1)
        catches = _events(scene, ball.instance_id, catcher.instance_id)
        caught = int(scene.contacts.frame[catches[0]])
        assert scene.contacts.impulse[catches[0]] == pytest.approx(prop.mass * np.linalg.norm(ball.linear_velocity[caught]), rel=0.1)
        assert caught <= round(spec.physics.values["arrival_time"] * FPS) + 1
        # free flight between release and catch: a parabola with g
        t = np.arange(release, caught + 1) / FPS
        z = ball.world_from_object[release : caught + 1, 2, 3]
        assert -2 * np.polyfit(t, z, 2)[0] == pytest.approx(G, rel=0.005)
        # attached from the catch on: fixed in the catcher's hand frame, never on the ground
        palm = world_from_hand(catcher.body.joints, prop.catch.side)
        local = np.linalg.inv(palm[caught + 1 :]) @ ball.world_from_object[caught + 1 :]
        np.testing.assert_allclose(local, np.broadcast_to(local[0], local.shape), atol=1e-6)
        assert np.linalg.norm(local[0, :3, 3]) < prop.radius + 0.2  # against the hand (fingers included)
        assert len(_events(scene, ball.instance_id, 1)) == 0
        assert set(scene.contacts.impulse[catches[1:]]) == {0.0}  # holding: kinematic contact, no impulse


def test_a_walker_knocks_light_props_over(built):
    for spec, scene in built("knock_over"):
        walker = scene.characters[0]
        displaced = 0
        for prop in spec.dynamic_props:
            obj = _object(scene, prop.name)
            hits = _events(scene, obj.instance_id, walker.instance_id)
            moved = np.linalg.norm(obj.world_from_object[-1, :3, 3] - obj.world_from_object[0, :3, 3])
            if len(hits) and scene.contacts.impulse[hits].sum() > 0 and moved > 0.1:
                displaced += 1
            c = scene.contacts
            touched = ((c.instance_a == obj.instance_id) & (c.instance_b != 1)) | ((c.instance_b == obj.instance_id) & (c.instance_a != 1))
            if touched.any():  # standing still until the walker, or another prop, first touches it
                first = int(c.frame[np.argmax(touched)])
                assert np.linalg.norm(obj.world_from_object[first, :3, 3] - obj.world_from_object[0, :3, 3]) < 0.01
        assert displaced >= 1


def test_stack_topples_and_its_top_box_falls(built):
    for spec, scene in built("stack_topple"):
        top = spec.dynamic_props[-1]
        z = _object(scene, top.name).world_from_object[:, 2, 3]
        assert z[0] == pytest.approx(top.position[2], abs=0.005)
        assert z[-1] < z[0] - 2 * top.size[2]  # fell at least its own height
        # resting boxes penetrate each other and the ground by less than 5 mm before anything happens
        bottom = _object(scene, spec.dynamic_props[0].name)
        assert bottom.world_from_object[0, 2, 3] == pytest.approx(spec.dynamic_props[0].size[2], abs=0.005)


def test_uniform_motion_keeps_its_speed(built):
    for split in ("id", "ood"):
        for spec, scene in built("uniform", split):
            ball = [o for o in scene.objects if o.dynamic][0]
            speed = spec.physics.values["speed"]
            position = ball.world_from_object[:, :3, 3]
            t = np.arange(FRAMES) / FPS
            np.testing.assert_allclose(np.linalg.norm(ball.linear_velocity[:, :2], axis=1), speed, rtol=0.01)
            fit = np.polyfit(t, position[:, :2], 1)
            assert np.linalg.norm(fit[0]) == pytest.approx(speed, rel=0.01)
            assert np.abs(np.polyval(fit[:, 0], t) - position[:, 0]).max() < 0.005
            assert np.abs(position[:, 2] - spec.dynamic_props[0].size[0]).max() < 0.005  # rolls on the ground
            assert any(lo <= speed <= hi for lo, hi in SPLIT_RANGES["uniform"]["speed"][split])


def test_two_body_collision_conserves_momentum_and_restitution(built):
    """Rolling balls collide head-on (120 fps). Along the line of centres momentum is conserved and
    the relative speed reverses by the restitution; ground friction on the spinning balls acts
    during and right after the contact, hence the tolerances."""
    fps = 120.0
    for split in ("id", "ood"):
        for spec, scene in built("collision", split, fps, 240):
            a, b = [o for o in scene.objects if o.dynamic]
            pa, pb = spec.dynamic_props
            hits = _events(scene, a.instance_id, b.instance_id)
            f = int(scene.contacts.frame[hits[0]])
            line = b.world_from_object[f, :3, 3] - a.world_from_object[f, :3, 3]
            line[2] = 0.0
            line /= np.linalg.norm(line)
            va, vb = a.linear_velocity[f] @ line, b.linear_velocity[f] @ line
            va2, vb2 = a.linear_velocity[f + 2] @ line, b.linear_velocity[f + 2] @ line
            assert va == pytest.approx(spec.physics.values["speed"], rel=0.01)
            mass = pa.mass + pb.mass
            relative = va - vb
            assert abs(pa.mass * (va2 - va) + pb.mass * (vb2 - vb)) < 0.07 * mass * relative
            assert (vb2 - va2) / relative == pytest.approx(pa.restitution, abs=0.06)


def test_parabolic_flight_matches_the_analytic_solution(built):
    for split in ("id", "ood"):
        for spec, scene in built("parabola", split):
            ball = [o for o in scene.objects if o.dynamic][0]
            values = spec.physics.values
            first = int(scene.contacts.frame[_events(scene, ball.instance_id, 1)[0]])
            t = np.arange(first + 1) / FPS
            z = ball.world_from_object[: first + 1, 2, 3]
            assert first + 1 >= 5
            assert -2 * np.polyfit(t, z, 2)[0] == pytest.approx(G, rel=0.005)
            # semi-implicit Euler at dt ~ 1 ms: positions lag the exact parabola by g dt t / 2
            assert np.polyfit(t, z, 2)[1] == pytest.approx(values["speed"] * np.sin(values["angle"]), abs=0.01)
            horizontal = np.linalg.norm(ball.world_from_object[: first + 1, :2, 3] - ball.world_from_object[0, :2, 3], axis=1)
            np.testing.assert_allclose(horizontal, values["speed"] * np.cos(values["angle"]) * t, atol=0.002)


def test_same_seed_same_scene(body):
    spec = _spec("ball_throw", 5)
    a, b = build_scene(spec, body), build_scene(ClipSpec.from_json(spec.to_json()), body)
    for x, y in zip(a.objects, b.objects):
        assert np.array_equal(x.world_from_object, y.world_from_object)
        assert (x.linear_velocity is None and y.linear_velocity is None) or np.array_equal(x.linear_velocity, y.linear_velocity)
    for name in ("frame", "instance_a", "instance_b", "position", "normal", "impulse"):
        assert np.array_equal(getattr(a.contacts, name), getattr(b.contacts, name))
    assert _spec("ball_throw", 5).to_json() == spec.to_json() != _spec("ball_throw", 6).to_json()


def test_dynamic_props_are_dynamic_instances_after_the_static_ones(built):
    spec, scene = built("glass_off_table")[0]
    rows = {row["name"]: row for row in scene.instances()}
    assert rows[spec.dynamic_props[0].name]["dynamic"] is True and rows["table"]["dynamic"] is False
    assert rows[spec.dynamic_props[0].name]["id"] > rows["table"]["id"]


def test_specs_record_their_ranges_and_round_trip(built):
    for setup in ("uniform", "parabola"):
        for split in ("id", "ood"):
            spec = _spec(setup, 1, split)
            physics = spec.physics
            assert physics.split == split and physics.setup == setup == spec.scenario
            for name, ranges in SPLIT_RANGES[setup].items():
                assert physics.ranges[name] == ranges[split]
                assert any(lo <= physics.values[name] <= hi for lo, hi in ranges[split])
            assert ClipSpec.from_json(spec.to_json()) == spec
    for ranges in SPLIT_RANGES.values():  # in- and out-of-distribution ranges never overlap
        for split_ranges in ranges.values():
            for lo, hi in split_ranges["id"]:
                assert all(hi < a or lo > b for a, b in split_ranges["ood"])


def test_older_specs_still_load():
    data = json.loads(sample_clip_spec(SceneConfig(), 0, 0, FPS, 6, *SIZE).to_json())
    for field in ("dynamic_props", "physics", "simulation"):
        data.pop(field)
    data["version"] = 2
    spec = ClipSpec.from_json(json.dumps(data))
    assert spec.dynamic_props == () and spec.physics is None and spec.version == 2


def _glass(**changes) -> dict:
    prop = DynamicPropSpec("glass", "glass", "cylinder", (0.04, 0.06), 0.2, (0.0, 0.0, 0.06), Material((0.8, 0.9, 0.9)))
    data = json.loads(json.dumps(__import__("worldclips.scenes.serialization", fromlist=["to_jsonable"]).to_jsonable(prop)))
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"mass": -0.2}, r"dynamic_props\[0\]: DynamicPropSpec.mass: expected a value in"),
        ({"mass": 0.0}, r"DynamicPropSpec.mass"),
        ({"friction": 0.0}, r"DynamicPropSpec.friction"),
        ({"rolling_friction": 1.0}, r"DynamicPropSpec.rolling_friction"),
        ({"restitution": 1.2}, r"DynamicPropSpec.restitution"),
        ({"size": [0.0, 0.06]}, r"DynamicPropSpec.size"),
        ({"size": [0.04]}, r"DynamicPropSpec.size: a cylinder needs 2"),
        ({"shape": "sphere", "size": [0.04]}, r"DynamicPropSpec.shape: a glass collides as one of"),
        ({"category": "vase"}, r"DynamicPropSpec.category"),
        ({"mass": "heavy"}, r"dynamic_props\[0\].mass: expected a finite number"),
        ({"hold": {"character": "nobody", "side": "left", "release": 3}}, r"'glass'.hold.character 'nobody' is not a character"),
        ({"hold": {"character": "person0", "side": "middle", "release": 3}}, r"HoldSpec.side"),
    ],
)
def test_invalid_dynamic_props_give_a_clear_error(changes, message):
    data = json.loads(sample_clip_spec(SceneConfig(characters=(1, 1)), 0, 0, FPS, 6, *SIZE).to_json())
    data["dynamic_props"] = [_glass(**changes)]
    with pytest.raises(SpecError, match=message):
        ClipSpec.from_json(json.dumps(data))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"uniform": -1.0}, "scene.physics.uniform: expected a weight >= 0"),
        ({}, "scene.physics: expected at least one positive weight"),
        ({"uniform": 1.0, "split": "test"}, "scene.physics.split: expected 'id' or 'ood'"),
        ({"uniform": 1.0, "substep_hz": 100.0}, "scene.physics.substep_hz: expected 500..20000"),
    ],
)
def test_invalid_physics_config_is_rejected_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        PhysicsConfig(**kwargs)


def test_default_scenes_get_foot_contacts_without_a_simulation(body):
    spec = sample_clip_spec(SceneConfig(characters=(1, 1), physics=PhysicsConfig(none=1.0)), 3, 0, FPS, 12, *SIZE)
    assert spec.dynamic_props == () and spec.scenario == "default"
    scene = build_scene(spec, body)
    person = scene.characters[0]
    feet = _events(scene, 1, person.instance_id)
    assert len(feet) == len(scene.contacts) > 0
    assert set(scene.contacts.impulse.tolist()) == {0.0}
    np.testing.assert_allclose(scene.contacts.normal, np.tile([0.0, 0.0, 1.0], (len(feet), 1)))
    assert np.all(scene.contacts.position[:, 2] == 0.0)
    labelled = np.nonzero(person.body.foot_contact.any(axis=1))[0]
    assert set(labelled) <= set(scene.contacts.frame.tolist())  # a labelled foot contact is a foot-ground event


def test_static_colliders_are_the_boxes_the_meshes_are_made_of():
    for category, size in (("table", (1.2, 0.8, 0.75)), ("chair", (0.45, 0.42, 0.46, 0.4)), ("shelf", (0.9, 0.35, 1.6)), ("wall", (3.0, 0.15, 2.0))):
        prop = PropSpec("p", category, size, (1.0, -2.0), 0.7, Material((0.5, 0.5, 0.5)))
        colliders = static_colliders([prop], {"p": 7})
        parts = meshes.prop_parts(category, size)
        assert len(colliders) == len(parts) and {c.instance_id for c in colliders} == {7}
        mesh = meshes.prop_mesh(category, size)
        assert len(mesh.vertices) == 24 * len(parts)
        rotation = np.array([[np.cos(0.7), -np.sin(0.7)], [np.sin(0.7), np.cos(0.7)]])
        for (box_size, center), collider in zip(parts, colliders):
            np.testing.assert_allclose(collider.half_size, np.asarray(box_size) / 2)
            np.testing.assert_allclose(collider.center[:2], rotation @ center[:2] + [1.0, -2.0], atol=1e-9)
            assert collider.center[2] == pytest.approx(center[2]) and collider.yaw == 0.7
        assert mesh.vertices[:, 2].min() == pytest.approx(0.0, abs=1e-6)
        assert mesh.vertices[:, 2].max() == pytest.approx(meshes.prop_height(category, size), abs=1e-6)


@pytest.mark.parametrize(
    "category, shape, size",
    [("ball", "sphere", (0.1,)), ("box", "box", (0.1, 0.2, 0.05)), ("cylinder", "cylinder", (0.05, 0.1)),
     ("cylinder", "capsule", (0.05, 0.1)), ("glass", "cylinder", (0.04, 0.06)), ("cup", "cylinder", (0.045, 0.05)),
     ("bottle", "cylinder", (0.04, 0.12))],
)  # fmt: skip
def test_dynamic_prop_meshes_fill_their_collision_shape_about_the_origin(category, shape, size):
    mesh = meshes.dynamic_prop_mesh(category, shape, size)
    v = mesh.vertices.astype(np.float64)
    assert is_closed(mesh.vertices, mesh.faces)
    radial = np.linalg.norm(v[:, :2], axis=1)
    if shape == "sphere":
        np.testing.assert_allclose(np.linalg.norm(v, axis=1), size[0], atol=1e-6)
    elif shape == "box":
        np.testing.assert_allclose(np.abs(v), np.broadcast_to(size, v.shape), atol=1e-6)
    elif shape == "cylinder":
        assert radial.max() == pytest.approx(size[0], abs=1e-6) and np.abs(v[:, 2]).max() == pytest.approx(size[1], abs=1e-6)
        assert v[:, 2].min() == pytest.approx(-size[1], abs=1e-6)  # the bottom is the collider's bottom
    else:
        assert radial.max() == pytest.approx(size[0], abs=1e-6) and np.abs(v[:, 2]).max() == pytest.approx(size[0] + size[1], abs=1e-6)
    if category in ("glass", "cup"):  # open vessel: an inner wall, and nothing at the top's centre
        assert (radial < size[0] - 1e-3).sum() > 0 and not np.any((radial < 1e-6) & (v[:, 2] > size[1] - 1e-3))


def test_hand_frames_are_rigid_and_palms_face_down_in_the_rest_pose(body):
    arrays = {k: np.array(v) for k, v in MotionClip.rest(2, FPS).frame_arrays().items()}
    arrays["global_orient"][:] = [np.pi / 2, 0.0, 0.0]
    joints = body.pose(MotionClip(fps=FPS, betas=np.zeros(10), **arrays)).joints
    for side in ("left", "right"):
        hand = world_from_hand(joints, side)
        rotation = hand[:, :3, :3]
        np.testing.assert_allclose(rotation @ np.swapaxes(rotation, 1, 2), np.broadcast_to(np.eye(3), rotation.shape), atol=1e-9)
        assert np.all(np.linalg.det(rotation) > 0)
        assert np.all(hand[:, 2, 2] < -0.9)  # +Z out of the palm points down
        wrist = joints[:, 20 if side == "left" else 21]
        assert np.all(np.linalg.norm(hand[:, :3, 3] - wrist, axis=1) < 0.08)


def test_a_prop_held_by_a_character_follows_the_hand_then_falls(body):
    spec = sample_clip_spec(SceneConfig(characters=(1, 1), props=(0, 0), physics=PhysicsConfig(none=1.0)), 2, 0, FPS, 24, *SIZE)
    person = spec.characters[0].name
    cup = DynamicPropSpec("cup", "cup", "cylinder", (0.045, 0.05), 0.25, (0.0, 0.0, 1.0), Material((0.9, 0.9, 0.9)),
                          hold=HoldSpec(person, "right", release=10, offset=(0.0, 0.0, 0.07)))  # fmt: skip
    spec = ClipSpec.from_json(json.dumps({**json.loads(spec.to_json()), "dynamic_props": [json.loads(json.dumps(
        __import__("worldclips.scenes.serialization", fromlist=["to_jsonable"]).to_jsonable(cup)))],
        "simulation": {"substep_hz": 1000.0, "settle_s": 0.1}}))  # fmt: skip
    scene = build_scene(spec, body)
    obj = _object(scene, "cup")
    hand = world_from_hand(scene.characters[0].body.joints, "right")
    np.testing.assert_allclose(obj.world_from_object[:10, :3, 3], hand[:10, :3, :3] @ [0.0, 0.0, 0.07] + hand[:10, :3, 3], atol=1e-6)
    assert obj.world_from_object[-1, 2, 3] < obj.world_from_object[10, 2, 3] - 0.3  # released at frame 10: it falls
    holds = _events(scene, obj.instance_id, scene.characters[0].instance_id)
    assert sorted(scene.contacts.frame[holds].tolist())[:10] == list(range(10))
    assert PhysicsSettings(**json.loads(spec.to_json())["simulation"]).settle_s == 0.1
