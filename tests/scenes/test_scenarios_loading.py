"""Scenario files without rendering: presets, ``extends``, one-line errors naming the file and the
field, id/ood ranges, mixtures, the sampler's determinism and multi-view blocks, the
``worldclips scenarios`` commands and the ``--scenario`` / ``--split`` config."""

from collections import Counter
from pathlib import Path

import pytest
import yaml

from worldclips.scenes.physics_config import SPLIT_RANGES
from worldclips.scenes.scenarios.checks import Visible
from worldclips.scenes.scenarios.layout_schema import BallPassLayout, PhysicsLayout, WalkLineLayout
from worldclips.scenes.scenarios.loader import ScenarioError, load_scenario, preset_names, resolved_yaml
from worldclips.scenes.scenarios.mixture import load_mixture
from worldclips.scenes.scenarios.sampler import sample_scenario_clip
from worldclips.scenes.scenarios.schema import Scenario
from worldclips.scenes.serialization import to_jsonable
from worldclips.shards.job.config import ConfigError, resolve_config
from worldclips.shards.job.recipe import draw_seed
from worldclips.cli import main

PRESETS = ("camera_decoupled", "chair_sit", "falling_glass", "ground_contact", "occlusion_pass", "orbit_walk", "pair_lift",
           "physics_collision", "physics_parabola", "physics_uniform")  # fmt: skip
PHYSICS_PRESETS = ("physics_collision", "physics_parabola", "physics_uniform")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def load_error(path) -> str:
    with pytest.raises(ScenarioError) as error:
        load_scenario(str(path))
    message = str(error.value)
    assert "\n" not in message
    return message


# --- presets and extends ---------------------------------------------------------------------------


def test_every_preset_loads():
    assert preset_names() == sorted(preset_names()) and set(PRESETS) <= set(preset_names())
    for name in preset_names():
        stem, scenario = load_scenario(name)
        assert stem == name and isinstance(scenario, Scenario)
        assert scenario.properties, f"{name} verifies nothing"
        assert scenario.description


def test_extends_overrides_one_nested_field_and_inherits_the_rest(tmp_path):
    child = write(tmp_path, "faster.yaml", "extends: occlusion_pass\nlayout:\n  occluder_speed_mps: [1.5, 1.8]\ncamera:\n  fov_deg: 50\n")
    stem, scenario = load_scenario(str(child))
    _, parent = load_scenario("occlusion_pass")
    assert stem == "faster"
    assert isinstance(scenario.layout, BallPassLayout)
    assert scenario.layout.occluder_speed_mps == (1.5, 1.8) and parent.layout.occluder_speed_mps == (1.0, 1.4)
    assert scenario.layout.distance_m == parent.layout.distance_m == (2.6, 3.2)  # siblings inherited
    assert scenario.layout.occluder_offset_m == (1.2, 1.5)
    assert scenario.camera.fov_deg == 50 and scenario.camera.family == parent.camera.family == {"static": 3.0, "dolly": 1.0}
    assert (scenario.fps, scenario.duration_s, scenario.resolution) == (24.0, 4.0, (256, 192))
    assert scenario.properties == parent.properties
    assert scenario.clutter == parent.clutter


def test_extends_replaces_lists_whole_and_a_layout_of_another_kind(tmp_path):
    child = write(tmp_path, "seen.yaml", "extends: occlusion_pass\nproperties:\n  - {check: visible, target: ball, min_px: 5}\n")
    _, scenario = load_scenario(str(child))
    assert scenario.properties == (Visible("ball", min_px=5),)
    walk = write(tmp_path, "walk.yaml", "extends: occlusion_pass\nlayout: {kind: walk_line}\nproperties: [{check: visible, target: walker}]\n")
    _, scenario = load_scenario(str(walk))
    assert scenario.layout == WalkLineLayout()  # nothing of the ball_pass layout is merged in
    assert scenario.duration_s == 4.0
    # the parent's properties refer to roles the new layout does not have
    stale = write(tmp_path, "stale.yaml", "extends: occlusion_pass\nlayout: {kind: walk_line}\n")
    message = load_error(stale)
    assert "stale.yaml" in message and "properties[0].object" in message and "'ball'" in message


def test_extends_a_file_relative_to_the_extending_file(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "base.yaml", "extends: orbit_walk\nduration_s: 2.5\n")
    child = write(tmp_path / "sub", "child.yaml", "extends: base.yaml\nfps: 30\n")
    monkeypatch.chdir(tmp_path)  # not the files' directory
    _, scenario = load_scenario(str(child))
    assert (scenario.fps, scenario.duration_s) == (30.0, 2.5)
    assert scenario.camera.family == "orbit_follow"


def test_extends_cycle_is_refused_naming_the_cycle(tmp_path):
    write(tmp_path, "a.yaml", "extends: b.yaml\nfps: 30\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\n")
    message = load_error(tmp_path / "a.yaml")
    assert "extends: cycle a.yaml -> b.yaml -> a.yaml" in message
    write(tmp_path, "self.yaml", "extends: self.yaml\n")
    assert "cycle self.yaml -> self.yaml" in load_error(tmp_path / "self.yaml")


def test_extends_a_missing_file_or_preset(tmp_path):
    message = load_error(write(tmp_path, "orphan.yaml", "extends: gone.yaml\n"))
    assert "orphan.yaml" in message and "extends" in message and "gone.yaml" in message and "no such scenario file" in message
    message = load_error(write(tmp_path, "typo.yaml", "extends: oclusion_pass\n"))
    assert "typo.yaml" in message and "extends" in message and "'oclusion_pass'" in message and "no such preset" in message
    message = load_error(write(tmp_path, "bad.yaml", "extends: 3\n"))
    assert "bad.yaml" in message and "extends" in message


# --- malformed files: one line naming the file and the field -------------------------------------------------


@pytest.mark.parametrize(
    "text, fields",
    [
        ("fps: [\n", ["not valid YAML at line 2"]),
        ("- 1\n- 2\n", ["expected a mapping of scenario fields at the top level, got list"]),
        ("", ["layout: missing"]),
        ("extends: occlusion_pass\nfpz: 3\n", ["unknown field 'fpz'"]),
        ("extends: occlusion_pass\ncamera: {fovv: 50}\n", ["camera: unknown field 'fovv'"]),
        ("extends: occlusion_pass\nlayout: {throwz: 2}\n", ["layout: unknown field 'throwz'"]),
        ("extends: occlusion_pass\nfps: fast\n", ["fps:", "'fast'"]),
        ("extends: occlusion_pass\nviews: true\n", ["views:", "True"]),
        ("extends: occlusion_pass\nfps: .nan\n", ["fps:", "nan"]),
        ("extends: occlusion_pass\ncamera: {fov_deg: .nan}\n", ["camera.fov_deg:", "nan"]),
        ("extends: occlusion_pass\nlayout: {distance_m: [2.0, .inf]}\n", ["layout.distance_m:", "inf"]),
        ("extends: occlusion_pass\nduration_s: 1.0e+9\n", ["duration_s:", "[0.1, 60]"]),
        ("extends: occlusion_pass\nduration_s: 1e9\n", ["duration_s:"]),  # YAML 1.1 reads 1e9 as a string
        ("extends: occlusion_pass\nduration_s: -1.0\n", ["duration_s:", "-1.0"]),
        ("extends: occlusion_pass\nfps: -24\n", ["fps:", "1..240"]),
        ("extends: occlusion_pass\nresolution: [100000, 10]\n", ["resolution:", "4096"]),
        ("extends: occlusion_pass\nclutter: {count: 100000}\n", ["clutter.count:", "[0, 8]"]),
        ("extends: camera_decoupled\nviews: 0\n", ["views:", "1..64"]),
        ("extends: occlusion_pass\ncamera: {fov_deg: [60, 40]}\n", ["camera.fov_deg:", "low <= high", "[60.0, 40.0]"]),
        ("extends: occlusion_pass\nlayout: {distance_m: [3.0, 2.0]}\n", ["layout.distance_m:", "low <= high"]),
        ("extends: occlusion_pass\nlayout: {kind: spaceship}\n", ["layout.kind:", "'spaceship'"]),
        ("extends: occlusion_pass\nproperties: [{check: levitates, object: ball}]\n", ["properties[0].check:", "'levitates'"]),
        ("extends: occlusion_pass\nproperties: [{check: occluded, object: piano}]\n",
         ["properties[0].object:", "'piano' is not an object of layout ball_pass", "'ball'"]),
        ("extends: occlusion_pass\nproperties: [{check: occluded}]\n", ["properties[0].object: missing"]),
        ("extends: occlusion_pass\nproperties: [{check: occluded, object: ball, below: 0.6, recover: 0.5}]\n",
         ["properties[0].recover:"]),
        ("extends: occlusion_pass\nproperties: [{check: occluded, object: ball, min_frames: 0}]\n", ["properties[0].min_frames:"]),
        ("extends: occlusion_pass\nproperties: [{check: occluded, object: ball}, {check: occluded, object: ball}]\n",
         ["properties[1].name:", "'occluded'"]),
        ("extends: occlusion_pass\nproperties: {check: occluded, object: ball}\n", ["properties: expected a list"]),
        ("extends: orbit_walk\ncamera: {follow: bob}\n", ["camera.follow:", "'bob'"]),
        ("extends: occlusion_pass\nviews: 2\n", ["views:", "ball_pass"]),
        ("extends: occlusion_pass\nlayout: {hide_after: 3}\n", ["layout.hide_after:"]),
    ],
)  # fmt: skip
def test_malformed_scenario_is_one_line_naming_file_and_field(tmp_path, text, fields):
    message = load_error(write(tmp_path, "broken_case.yaml", text))
    assert message.startswith(str(tmp_path / "broken_case.yaml")), message
    for part in fields:
        assert part in message, message


def test_empty_missing_and_binary_files(tmp_path):
    assert load_error(write(tmp_path, "empty.yaml", "")) == f"{tmp_path / 'empty.yaml'}: layout: missing"
    missing = load_error(tmp_path / "absent.yaml")
    assert "absent.yaml" in missing and "no such scenario file" in missing
    (tmp_path / "garbage.yaml").write_bytes(b"\xff\xfe\x00\x80garbage\x81")
    binary = load_error(tmp_path / "garbage.yaml")
    assert "garbage.yaml" in binary and "cannot read scenario file" in binary
    unknown = load_error("nosuch")
    assert "'nosuch'" in unknown and "no such preset" in unknown and "occlusion_pass" in unknown


def test_a_mixture_file_is_not_a_scenario(tmp_path):
    path = write(tmp_path, "mix.yaml", "scenarios: {orbit_walk: 1}\n")
    assert "a mixture of scenarios" in load_error(path)


# --- id / ood ranges ------------------------------------------------------------------------------------------


def disjoint(a, b) -> bool:
    return a[1] < b[0] or b[1] < a[0]


@pytest.mark.parametrize("name", PHYSICS_PRESETS)
def test_id_and_ood_ranges_of_physics_presets_do_not_overlap(name):
    layout = load_scenario(name)[1].layout
    assert isinstance(layout, PhysicsLayout) and layout.has_splits
    quantities = SPLIT_RANGES[layout.setup]
    assert "speed" in quantities and "radius" in quantities
    for quantity in quantities:
        inside, outside = layout.ranges(quantity, "id"), layout.ranges(quantity, "ood")
        assert inside and outside
        for a in inside:
            for b in outside:
                assert disjoint(a, b), f"{name}: {quantity} id {a} overlaps ood {b}"
        # the ood ranges lie on both sides of the id ones
        assert min(lo for lo, _ in outside) < min(lo for lo, _ in inside)
        assert max(hi for _, hi in outside) > max(hi for _, hi in inside)


@pytest.mark.parametrize(
    "splits, quantity",
    [
        ("{ood: {speed: [[2.5, 4.0]]}}", "speed"),  # inside id [1, 3]
        ("{id: {speed: [[0.5, 2.0]]}}", "speed"),  # against the default ood [0.3, 0.7]
        ("{ood: {speed: [[3.0, 4.0]]}}", "speed"),  # touching at 3.0
        ("{id: {radius: [[0.05, 0.1]]}}", "radius"),
    ],
)
def test_overlapping_id_and_ood_ranges_are_rejected(tmp_path, splits, quantity):
    path = write(tmp_path, "leaky.yaml", f"extends: physics_uniform\nlayout:\n  splits: {splits}\n")
    message = load_error(path)
    assert "leaky.yaml" in message and "layout.splits" in message and f"ranges of {quantity} overlap" in message


def test_disjoint_user_ranges_are_accepted_and_bad_split_fields_rejected(tmp_path):
    path = write(tmp_path, "narrow.yaml", "extends: physics_uniform\nlayout:\n  splits: {ood: {speed: [[3.2, 4.0]]}}\n")
    layout = load_scenario(str(path))[1].layout
    assert layout.ranges("speed", "ood") == ((3.2, 4.0),) and layout.ranges("radius", "ood") == ((0.04, 0.06), (0.18, 0.25))
    cases = {
        "extends: physics_uniform\nlayout: {splits: {test: {speed: [[1, 2]]}}}\n": "expected 'id' and 'ood'",
        "extends: physics_uniform\nlayout: {splits: {id: {spin: [[1, 2]]}}}\n": "layout.splits.id.spin: not a split value of uniform",
        "extends: physics_uniform\nlayout: {splits: {id: {speed: [[2, 1]]}}}\n": "layout.splits.id.speed: expected [low, high] intervals",
        "extends: physics_uniform\nlayout: {splits: {id: {speed: [[.nan, 2.0]]}}}\n": "layout.splits.id.speed[0][0]",
        "extends: falling_glass\nlayout: {splits: {id: {speed: [[1, 2]]}}}\n": "setup 'glass_off_table' has no id/ood ranges",
        "extends: physics_uniform\nlayout: {splits: {id: {radius: [[-0.2, -0.1]]}}}\n": "layout.splits.id.radius: expected intervals within [0.02, 0.5]",
        "extends: physics_uniform\nlayout: {splits: {ood: {speed: [[3.5, 1.0e+6]]}}}\n": "layout.splits.ood.speed: expected intervals within [0.05, 20]",
    }
    for text, expected in cases.items():
        assert expected in load_error(write(tmp_path, "splits.yaml", text))


# --- mixtures ---------------------------------------------------------------------------------------------------


def test_inline_mixture_shares_follow_the_weights():
    mixture = load_mixture("occlusion_pass:2,orbit_walk:1")
    assert [(e.name, e.weight) for e in mixture.entries] == [("occlusion_pass", 2.0), ("orbit_walk", 1.0)]
    assert mixture.entries[0].scenario == load_scenario("occlusion_pass")[1]
    for seed in (0, 7, 123456789):
        shares = Counter(mixture.choose(seed, i).name for i in range(300))
        assert abs(shares["occlusion_pass"] / 300 - 2 / 3) < 0.03, shares
        assert abs(shares["orbit_walk"] / 300 - 1 / 3) < 0.03, shares
    # the sequence differs between run seeds (the offset is drawn from the seed)
    assert [mixture.choose(0, i).name for i in range(30)] != [mixture.choose(7, i).name for i in range(30)]


def test_choose_is_a_pure_function_of_run_seed_and_clip_index():
    mixture = load_mixture("occlusion_pass:2,orbit_walk:1,physics_uniform:1")
    forward = [mixture.choose(5, i).name for i in range(200)]
    backward = [mixture.choose(5, i).name for i in reversed(range(200))][::-1]
    again = [load_mixture("occlusion_pass:2,orbit_walk:1,physics_uniform:1").choose(5, i).name for i in range(200)]
    assert forward == backward == again
    assert set(forward) == {"occlusion_pass", "orbit_walk", "physics_uniform"}


def test_mixture_file_with_a_relative_scenario_file(tmp_path):
    write(tmp_path, "slow.yaml", "extends: orbit_walk\nlayout: {speed_mps: 0.9}\n")
    path = write(tmp_path, "mix.yaml", "description: two cases\nscenarios:\n  physics_uniform: 3\n  slow.yaml: 1\n")
    mixture = load_mixture(str(path))
    assert [(e.name, e.weight) for e in mixture.entries] == [("physics_uniform", 3.0), ("slow", 1.0)]
    assert mixture.entries[1].scenario.layout.speed_mps == 0.9
    shares = Counter(mixture.choose(11, i).name for i in range(400))
    assert abs(shares["physics_uniform"] / 400 - 0.75) < 0.03, shares
    single = load_mixture("orbit_walk")
    assert len(single.entries) == 1 and all(single.choose(3, i).name == "orbit_walk" for i in range(10))


def test_multi_view_scenarios_stay_in_blocks():
    mixture = load_mixture("camera_decoupled:1,orbit_walk:1")
    assert mixture.block == 4
    names = [mixture.choose(2, i).name for i in range(400)]
    for block in range(100):
        assert len(set(names[4 * block : 4 * block + 4])) == 1, names[4 * block : 4 * block + 4]
    shares = Counter(names)
    assert abs(shares["camera_decoupled"] / 400 - 0.5) < 0.04 and abs(shares["orbit_walk"] / 400 - 0.5) < 0.04


@pytest.mark.parametrize(
    "text, expected",
    [
        ("occlusion_pass:0", "expected weights > 0"),
        ("occlusion_pass:-1,orbit_walk:1", "expected weights > 0"),
        ("occlusion_pass:nan,orbit_walk:1", "expected weights > 0"),
        ("occlusion_pass:inf,orbit_walk:1", "expected weights > 0"),
        ("occlusion_pass:abc", "'occlusion_pass:abc': expected NAME or NAME:WEIGHT"),
        (":2", "missing the scenario name"),
        ("nosuch:1,orbit_walk:1", "'nosuch': no such preset"),
        ("orbit_walk:1,orbit_walk:2", "'orbit_walk' appears twice"),
        ("", "expected a scenario name"),
    ],
)
def test_bad_inline_mixtures(text, expected):
    with pytest.raises(ScenarioError) as error:
        load_mixture(text)
    assert expected in str(error.value) and "\n" not in str(error.value)


def test_bad_mixture_files(tmp_path):
    cases = {
        "scenarios: {orbit_walk: heavy}\n": "scenarios.orbit_walk: expected a weight > 0, got 'heavy'",
        "scenarios: {orbit_walk: true}\n": "scenarios.orbit_walk: expected a weight > 0",
        "scenarios: {orbit_walk: 0}\n": "expected weights > 0",
        "scenarios: []\n": "scenarios: expected a mapping of scenario names to weights",
        "scenarios: {orbit_walk: 1}\nsplit: ood\n": "unknown field 'split' in a mixture file",
        "scenarios: {missing.yaml: 1}\n": "missing.yaml: no such scenario file",
    }
    for text, expected in cases.items():
        path = write(tmp_path, "mix.yaml", text)
        with pytest.raises(ScenarioError) as error:
            load_mixture(str(path))
        assert expected in str(error.value), str(error.value)
    write(tmp_path, "three.yaml", "extends: camera_decoupled\nviews: 3\n")
    with pytest.raises(ScenarioError, match=r"views of the mixed scenarios must divide each other, got \[4, 3\]"):
        load_mixture(f"camera_decoupled:1,{tmp_path / 'three.yaml'}:1")


# --- the sampler -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", preset_names())
def test_sampler_is_deterministic_and_seeds_matter(name):
    _, scenario = load_scenario(name)
    a, info_a = sample_scenario_clip(name, scenario, "id", 4, 1, draw_seed(4, 1, 0))
    b, info_b = sample_scenario_clip(name, scenario, "id", 4, 1, draw_seed(4, 1, 0))
    assert a == b and to_jsonable(a) == to_jsonable(b) and info_a == info_b
    assert a.scenario == name and info_a["name"] == name and info_a["layout"] == scenario.layout.kind
    assert (a.width, a.height) in scenario.resolutions and a.fps in scenario.fps_choices
    other, _ = sample_scenario_clip(name, scenario, "id", 4, 1, draw_seed(4, 1, 1))  # a re-draw
    assert to_jsonable(other) != to_jsonable(a)
    # roles the properties name are roles the clip has
    characters, objects = scenario.layout.roles()
    assert set(info_a["roles"]) >= set(characters) | set(objects)


def test_sampler_honours_fixed_timing_and_size():
    _, scenario = load_scenario("orbit_walk")
    spec, _ = sample_scenario_clip("orbit_walk", scenario, "id", 0, 0, 0, fps=12.0, frames=9, size=(64, 48))
    assert (spec.fps, spec.num_frames, spec.width, spec.height) == (12.0, 9, 64, 48)
    drawn, _ = sample_scenario_clip("orbit_walk", scenario, "id", 0, 0, 0)
    assert (drawn.fps, drawn.num_frames, drawn.width, drawn.height) == (24.0, 73, 256, 192)  # 3 s at 24 fps


def test_camera_decoupled_views_share_the_performance_and_differ_in_camera():
    _, scenario = load_scenario("camera_decoupled")
    assert scenario.views == 4
    seed = 9
    clips = [sample_scenario_clip("camera_decoupled", scenario, "id", seed, i, draw_seed(seed, i, 0)) for i in range(8)]
    for block in (clips[:4], clips[4:]):
        first, _ = block[0]
        for spec, info in block:
            for field in ("characters", "props", "lighting", "ground", "background_color", "fps", "num_frames", "width", "height"):
                assert getattr(spec, field) == getattr(first, field), field
        cameras = [to_jsonable(spec.camera) for spec, _ in block]
        assert all(cameras[i] != cameras[j] for i in range(4) for j in range(i)), "views must differ in camera"
        assert [info["view"] for _, info in block] == [0, 1, 2, 3] and {info["views"] for _, info in block} == {4}
    assert {info["group"] for _, info in clips[:4]} == {0} and {info["group"] for _, info in clips[4:]} == {1}
    assert to_jsonable(clips[0][0].characters) != to_jsonable(clips[4][0].characters)  # another group, another performance
    # a re-draw of a view keeps the performance and changes only the camera
    again, _ = sample_scenario_clip("camera_decoupled", scenario, "id", seed, 2, draw_seed(seed, 2, 1))
    assert again.characters == clips[2][0].characters and again.lighting == clips[2][0].lighting
    assert to_jsonable(again.camera) != to_jsonable(clips[2][0].camera)


def test_physics_sampler_draws_from_the_split_ranges():
    _, scenario = load_scenario("physics_uniform")
    layout = scenario.layout
    for split, other in (("id", "ood"), ("ood", "id")):
        for clip in range(6):
            spec, info = sample_scenario_clip("physics_uniform", scenario, split, 1, clip, draw_seed(1, clip, 0))
            assert info["split"] == split and spec.physics.split == split
            for quantity in ("speed", "radius"):
                value = spec.physics.values[quantity]
                assert any(lo <= value <= hi for lo, hi in layout.ranges(quantity, split)), (split, quantity, value)
                assert not any(lo <= value <= hi for lo, hi in layout.ranges(quantity, other)), (split, quantity, value)


# --- the command line and the config ------------------------------------------------------------------------------


def test_scenarios_list_names_every_preset(capsys):
    assert main(["scenarios", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == preset_names() and set(PRESETS) <= set(preset_names())
    assert all(len(line.split(None, 1)) == 2 for line in lines)  # each with its description


def test_scenarios_show_prints_the_resolved_scenario_as_yaml(capsys, tmp_path):
    assert main(["scenarios", "show", "occlusion_pass"]) == 0
    text = capsys.readouterr().out
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    assert data["layout"]["kind"] == "ball_pass" and data["layout"]["occluder_offset_m"] == [1.2, 1.5]
    assert data["fps"] == 24.0 and data["resolution"] == [256, 192] and data["views"] == 1
    assert data["lighting"]["sun_elevation_deg"] == [25.0, 70.0]  # defaults filled in
    assert data["extras"]["count"] == 0
    assert data["properties"] == [{"check": "occluded", "object": "ball", "below": 0.2, "min_frames": 3, "recover": 0.5,
                                   "min_peak_px": 12, "name": "ball_hidden"}]  # fmt: skip
    # what show prints loads back as the same scenario
    assert load_scenario(str(write(tmp_path, "shown.yaml", text)))[1] == load_scenario("occlusion_pass")[1]


def test_scenarios_show_merges_an_extends_chain(capsys, tmp_path):
    child = write(tmp_path, "child.yaml", "extends: orbit_walk\ncamera: {sweep_deg: [120, 150]}\n")
    assert main(["scenarios", "show", str(child)]) == 0
    data = yaml.safe_load(capsys.readouterr().out)
    assert "extends" not in data
    assert data["camera"]["sweep_deg"] == [120.0, 150.0] and data["camera"]["family"] == "orbit_follow"


def test_every_preset_round_trips_through_show(tmp_path):
    for name in preset_names():
        shown = write(tmp_path, f"{name}_shown.yaml", resolved_yaml(name))
        assert load_scenario(str(shown))[1] == load_scenario(name)[1], name


def test_scenarios_show_unknown_is_a_one_line_error(capsys):
    assert main(["scenarios", "show", "nosuch"]) != 0
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "nosuch" in lines[0] and "no such preset" in lines[0]


def test_config_resolves_the_scenario_and_leaves_timing_to_it(tmp_path):
    config = resolve_config({}, {"out": str(tmp_path / "o"), "scenario": "occlusion_pass:2,orbit_walk:1"})
    assert config.resolved_scenario is not None and [e.name for e in config.resolved_scenario.entries] == ["occlusion_pass", "orbit_walk"]
    assert (config.frames, config.fps, config.size, config.fixed_size) == (None, None, None, None)
    fixed = resolve_config({}, {"out": str(tmp_path / "o"), "scenario": "orbit_walk", "frames": 10, "size": "64x48"})
    assert (fixed.frames, fixed.fixed_size) == (10, (64, 48))
    ood = resolve_config({}, {"out": str(tmp_path / "o"), "scenario": "physics_uniform", "split": "ood"})
    assert ood.resolved_scenario.split == "ood" and ood.resolved_scenario.split_of(ood.resolved_scenario.entries[0].scenario) == "ood"


def test_split_ood_with_a_scenario_without_ranges_is_a_config_error(tmp_path):
    for name in ("orbit_walk", "falling_glass"):
        with pytest.raises(ConfigError, match=r"split: scenario '\w+' has no id/ood ranges") as error:
            resolve_config({}, {"out": str(tmp_path / "o"), "scenario": name, "split": "ood"})
        assert "\n" not in str(error.value)
    # a mixture with at least one physics scenario takes the split
    mixed = resolve_config({}, {"out": str(tmp_path / "o"), "scenario": "physics_uniform:1,orbit_walk:1", "split": "ood"})
    assert mixed.resolved_scenario.split == "ood"


def test_split_without_a_scenario_and_bad_scenarios_are_config_errors(tmp_path, capsys):
    with pytest.raises(ConfigError, match=r"split: only used with a scenario"):
        resolve_config({}, {"out": str(tmp_path / "o"), "split": "ood"})
    with pytest.raises(ConfigError, match=r"split: expected 'id' or 'ood', got 'test'"):
        resolve_config({}, {"out": str(tmp_path / "o"), "scenario": "physics_uniform", "split": "test"})
    with pytest.raises(ConfigError, match=r"'nosuch': no such preset"):
        resolve_config({}, {"out": str(tmp_path / "o"), "scenario": "nosuch"})
    assert main(["generate", "--out", str(tmp_path / "o"), "--split", "ood", "--no-ray", "--quiet"]) == 2
    assert main(["generate", "--out", str(tmp_path / "o"), "--scenario", "orbit_walk", "--split", "ood", "--no-ray", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "split: only used with a scenario" in err[0] and "no id/ood ranges" in err[1]
    assert not (tmp_path / "o").exists()

