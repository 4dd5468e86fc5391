"""Sampled scenes: deterministic, JSON round-trip, and physically sane (checked on the built scene)."""

import json

import numpy as np
import pytest

from worldclips.motions.mannequin_body import MannequinBody
from worldclips.motions.conventions import transform_points
from worldclips.scenes.build import build_scene
from worldclips.scenes.sampling import sample_clip_spec
from worldclips.scenes.rooms import ROOM_PART_CATEGORIES
from worldclips.scenes.scene_config import SceneConfig
from worldclips.scenes.serialization import SpecError
from worldclips.scenes.spec import ClipSpec

FPS, FRAMES, SIZE = 24.0, 48, (64, 48)
SEEDS = range(12)


@pytest.fixture(scope="module")
def body():
    return MannequinBody()


@pytest.fixture(scope="module")
def scenes(body):
    out = []
    for index in SEEDS:
        spec = sample_clip_spec(SceneConfig(), 7, index, FPS, FRAMES, *SIZE)
        out.append((spec, build_scene(spec, body)))
    return out


def test_same_seed_same_spec_and_json_round_trip():
    a = sample_clip_spec(SceneConfig(), 3, 5, FPS, FRAMES, *SIZE)
    b = sample_clip_spec(SceneConfig(), 3, 5, FPS, FRAMES, *SIZE)
    assert a.to_json() == b.to_json()
    assert ClipSpec.from_json(a.to_json()) == a
    assert sample_clip_spec(SceneConfig(), 3, 6, FPS, FRAMES, *SIZE).to_json() != a.to_json()
    assert sample_clip_spec(SceneConfig(), 4, 5, FPS, FRAMES, *SIZE).to_json() != a.to_json()


def test_spec_json_rejects_unknown_and_bad_fields():
    data = json.loads(sample_clip_spec(SceneConfig(), 0, 0, FPS, FRAMES, *SIZE).to_json())
    data["camera"]["zoom"] = 2
    with pytest.raises(SpecError, match=r"ClipSpec.camera: unknown field 'zoom'"):
        ClipSpec.from_json(json.dumps(data))
    data = json.loads(sample_clip_spec(SceneConfig(), 0, 0, FPS, FRAMES, *SIZE).to_json())
    data["num_frames"] = 0
    with pytest.raises(SpecError, match="num_frames"):
        ClipSpec.from_json(json.dumps(data))
    data = json.loads(sample_clip_spec(SceneConfig(), 0, 0, FPS, FRAMES, *SIZE).to_json())
    data["camera"]["path"]["family"] = "drone"
    with pytest.raises(SpecError, match="family"):
        ClipSpec.from_json(json.dumps(data))


def test_counts_families_and_ids(scenes):
    config = SceneConfig()
    families = set()
    for spec, scene in scenes:
        assert config.characters[0] <= len(scene.characters) <= config.characters[1]
        own = own_props(spec)
        furniture = [p for p in spec.props if p.name.startswith("furniture")]
        assert not furniture or spec.room is not None  # furniture stands against a room's walls
        props = [o for o in scene.objects if o.name in {p.name for p in spec.props} - {p.name for p in furniture}]
        assert len(props) - sum(len(v) for v in own.values()) <= config.props[1]
        ids = [row["id"] for row in scene.instances()]
        assert sorted(ids) == list(range(1, len(ids) + 1))
        ground = [row for row in scene.instances() if row["category"] == "ground"]
        assert len(ground) == (1 if spec.room is None else 2) and not any(row["dynamic"] for row in ground)  # + outside
        families.add(scene.camera.family)
    assert len(families) >= 3


def own_props(spec) -> dict[str, set[str]]:
    """Props a character interacts with (the chair it sits on, the box it carries), by character name."""
    out = {}
    for character in spec.characters:
        params = character.motion_params
        names = {getattr(params, "chair", ""), getattr(params, "object_name", "")} - {""}
        out[character.name] = names
    return out


def test_characters_never_come_close(scenes):
    """Swept volumes over time: in every frame the joints of two characters stay 0.25 m apart (limbs
    are under 0.1 m thick, so the bodies do not touch); paths may cross at different times."""
    for _, scene in scenes:
        people = scene.characters
        for i in range(len(people)):
            for j in range(i + 1, len(people)):
                a, b = people[i].body.joints[:, :, :2], people[j].body.joints[:, :, :2]
                gaps = np.linalg.norm(a[:, :, None] - b[:, None, :], axis=-1).min(axis=(1, 2))  # same frame
                assert gaps.min() > 0.25, f"{people[i].name} and {people[j].name} come close in frame {gaps.argmin()}"


def _world_vertices(obj) -> np.ndarray:
    return transform_points(obj.world_from_object[0], obj.mesh.vertices.astype(np.float64))


def test_props_do_not_touch_each_other_or_the_walkers(scenes):
    for spec, scene in scenes:
        own = own_props(spec)
        props = [o for o in scene.objects if o.category not in ("ground", *ROOM_PART_CATEGORIES)]
        extents = []
        for prop in props:
            vertices = _world_vertices(prop)
            center = prop.world_from_object[0, :2, 3]
            assert vertices[:, 2].min() == pytest.approx(0.0, abs=1e-6)  # stands on the ground
            extents.append((prop.name, center, np.linalg.norm(vertices[:, :2] - center, axis=1).max(), vertices[:, 2].max()))
        for i in range(len(extents)):
            for j in range(i + 1, len(extents)):
                assert np.linalg.norm(extents[i][1] - extents[j][1]) > extents[i][2] + extents[j][2]
        for character in scene.characters:
            for frame in (0, scene.num_frames // 2, scene.num_frames - 1):
                body = character.body.mesh.vertices(frame)
                for name, center, radius, height in extents:
                    if name in own[character.name]:
                        continue  # its own chair or box
                    inside = (np.linalg.norm(body[:, :2] - center, axis=1) < radius) & (body[:, 2] < height)
                    assert not inside.any(), f"{character.name} intersects a prop"


def test_camera_never_inside_geometry(scenes):
    for _, scene in scenes:
        world_from_cam = np.linalg.inv(scene.camera.cam_from_world)
        eyes = world_from_cam[:, :3, 3]
        assert eyes[:, 2].min() > 0.3
        for character in scene.characters:
            gaps = np.linalg.norm(eyes[:, None, :] - character.body.joints, axis=-1)
            assert gaps.min() > 0.5
        for prop in scene.objects[1:]:
            if prop.category in ROOM_PART_CATEGORIES:
                continue  # tests/scenes/test_rooms.py: the camera stays inside the room
            vertices = _world_vertices(prop)
            low, high = vertices.min(0) - 0.05, vertices.max(0) + 0.05
            assert not np.any(np.all((eyes > low) & (eyes < high), axis=1))


def test_characters_are_in_view_at_mid_clip(scenes):
    in_view = 0
    for _, scene in scenes:
        t = scene.num_frames // 2
        K, cam = scene.camera.K[t], scene.camera.cam_from_world[t]
        pelvis = np.array([c.body.joints[t, 0] for c in scene.characters])
        cam_points = pelvis @ cam[:3, :3].T + cam[:3, 3]
        u = K[0, 0] * cam_points[:, 0] / cam_points[:, 2] + K[0, 2]
        v = K[1, 1] * cam_points[:, 1] / cam_points[:, 2] + K[1, 2]
        visible = (cam_points[:, 2] > 0) & (u >= 0) & (u < scene.width) & (v >= 0) & (v < scene.height)
        in_view += visible.any()
    assert in_view >= 0.9 * len(scenes)


def test_scene_config_rejects_bad_ranges():
    with pytest.raises(ValueError, match="scene.characters"):
        SceneConfig(characters=(0, 2))
    with pytest.raises(ValueError, match="scene.camera_families"):
        SceneConfig(camera_families=("helicopter",))
    with pytest.raises(ValueError, match="scene.walk_speed"):
        SceneConfig(walk_speed=(1.5, 1.0))
    with pytest.raises(ValueError, match="scene.pan_tilt_swing: expected 0.1..10 m"):
        SceneConfig(pan_tilt_swing=0.0)


def test_pan_tilt_swing_scales_the_gaze_move_and_nothing_else():
    """The same draws, scaled: the default keeps its clips; 5 m turns the view by tens of degrees."""
    def gaze_turn(spec):
        path = spec.camera.path
        a, b = (np.asarray(t) - np.asarray(path.eye) for t in (path.target_start, path.target_end))
        return np.degrees(np.arccos(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))

    default, wide = ({"camera_families": ("pan_tilt",), "pan_tilt_swing": s} for s in (1.2, 5.0))
    turns = []
    for index in range(6):
        a, b = (sample_clip_spec(SceneConfig(**c), 3, index, FPS, FRAMES, *SIZE) for c in (default, wide))
        assert a.characters == b.characters and a.props == b.props and a.camera.path.eye == b.camera.path.eye
        moved = np.subtract(b.camera.path.target_end, b.camera.path.target_start)
        assert np.allclose(np.subtract(a.camera.path.target_end, a.camera.path.target_start) * 5.0 / 1.2, moved, atol=1e-3)
        turns.append((gaze_turn(a), gaze_turn(b)))
    assert max(t for _, t in turns) > 30.0 and max(t for t, _ in turns) < 25.0


class _TopOfRange:
    """A generator whose uniform() draws sit just below 1, where rounding used to give 1.0."""

    def uniform(self, low=0.0, high=1.0, size=None):
        return low + (high - low) * 0.99995


def test_phase_draws_stay_inside_the_range_the_motions_accept():
    from worldclips.motions.walk import WalkParams
    from worldclips.scenes.draws import cycle_phase

    phase = cycle_phase(_TopOfRange())
    assert 0.0 <= phase < 1.0 and phase == 0.999
    assert round(0.99995, 3) == 1.0  # what the draws did before: a phase every motion's check rejects
    assert WalkParams(waypoints=((0.0, 0.0), (3.0, 0.0)), speed_keys=(1.2,), phase=phase).phase == 0.999
    with pytest.raises(ValueError, match="phase"):
        WalkParams(waypoints=((0.0, 0.0), (3.0, 0.0)), speed_keys=(1.2,), phase=1.0)
    rng = np.random.default_rng(3)
    assert all(0.0 <= cycle_phase(rng) < 1.0 for _ in range(20000))
