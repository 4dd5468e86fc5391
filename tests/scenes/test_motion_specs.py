"""Characters with every motion kind: sampled specs round-trip through JSON and build; sitters get
their chair, carriers their box (which moves); old version-1 specs still load; bodies of several
characters never meet in the same frame."""

import json

import numpy as np
import pytest

from worldclips.motions.catalog import KINDS, PROCEDURAL_KINDS
from worldclips.motions.mannequin_body import MannequinBody
from worldclips.scenes.build import build_scene
from worldclips.scenes.motion_sampling import MotionWeights
from worldclips.scenes.sampling import sample_clip_spec
from worldclips.scenes.scene_config import SceneConfig
from worldclips.scenes.spec import ClipSpec

FPS, FRAMES, SIZE = 24.0, 48, (48, 36)


@pytest.fixture(scope="module")
def body():
    return MannequinBody()


@pytest.mark.parametrize("kind", PROCEDURAL_KINDS)
def test_every_kind_samples_builds_and_round_trips(body, kind):
    config = SceneConfig(characters=(2, 2), props=(0, 1), motions=MotionWeights(**{kind: 1.0}))
    spec = sample_clip_spec(config, 3, PROCEDURAL_KINDS.index(kind), FPS, FRAMES, *SIZE)
    assert [c.motion_kind for c in spec.characters] == [kind] * len(spec.characters) and spec.characters
    assert ClipSpec.from_json(spec.to_json()) == spec
    scene = build_scene(spec, body)
    for character in scene.characters:
        contact = character.body.foot_contact
        assert contact.shape == (FRAMES, 4) and contact.dtype == bool
    names = {p.name: p for p in spec.props}
    for character in spec.characters:
        params = character.motion_params
        if kind == "sit":
            chair = names[params.chair]
            assert chair.category == "chair" and chair.size[2] == params.seat_height and chair.size[1] == params.seat_depth
            assert chair.position == params.chair_position and chair.yaw == params.chair_yaw
        if kind == "carry":
            box = next(o for o in scene.objects if o.name == params.object_name)
            assert box.dynamic and box.category == "box" and names[params.object_name].size == params.object_size
            np.testing.assert_allclose(box.world_from_object[0, :2, 3], params.object_position, atol=1e-9)


def test_version_1_specs_still_load_and_build(body):
    spec = sample_clip_spec(SceneConfig(idle_probability=0.5, characters=(2, 3)), 0, 1, FPS, FRAMES, *SIZE)
    data = json.loads(spec.to_json())
    for character in data["characters"]:
        motion = character.pop("motion")
        family = motion.pop("family")
        character[family] = motion  # the version-1 layout: walk / idle fields
    data["version"] = 1
    old = ClipSpec.from_json(json.dumps(data))
    assert [c.motion_kind for c in old.characters] == [c.motion_kind for c in spec.characters]
    a, b = build_scene(old, body), build_scene(spec, body)
    for x, y in zip(a.characters, b.characters):
        np.testing.assert_array_equal(x.body.joints, y.body.joints)


def test_several_characters_never_meet_in_the_same_frame(body):
    config = SceneConfig(characters=(3, 3), props=(0, 0), arena_radius=2.5)
    for index in range(6):
        spec = sample_clip_spec(config, 9, index, FPS, FRAMES, *SIZE)
        scene = build_scene(spec, body)
        people = scene.characters
        for i in range(len(people)):
            for j in range(i + 1, len(people)):
                a, b = people[i].body.joints[:, :, :2], people[j].body.joints[:, :, :2]
                gaps = np.linalg.norm(a[:, :, None] - b[:, None, :], axis=-1).min(axis=(1, 2))
                assert gaps.min() > 0.25, (index, spec.characters[i].motion_kind, spec.characters[j].motion_kind)


def test_weights_default_to_every_procedural_kind_and_to_files_with_a_directory(tmp_path):
    default = SceneConfig().weights
    assert all(getattr(default, k) > 0 for k in PROCEDURAL_KINDS) and default.file == 0
    (tmp_path / "a.bvh").write_text("")
    with_dir = SceneConfig(motion_dir=str(tmp_path)).weights
    assert with_dir.file > 0 and all(getattr(with_dir, k) == 0 for k in PROCEDURAL_KINDS)
    legacy = SceneConfig(idle_probability=0.25).weights
    assert (legacy.walk, legacy.idle) == (0.75, 0.25) and set(KINDS) >= {"walk", "idle"}
