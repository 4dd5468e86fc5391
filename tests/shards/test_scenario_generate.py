"""Scenarios through ``worldclips generate``: every preset's clips have their properties (re-measured
here from the stored arrays, independently of shards.format.property_checks), physics presets honour
--split ood, a broken scenario is caught and reported, validate re-measures the properties and
catches tampering, and a scenario run is byte-reproducible."""

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.shards.layers_helpers import layers

from worldclips.scenes.scenarios.loader import load_scenario, preset_names
from worldclips.scenes.scenarios.mixture import load_mixture
from worldclips.shards.format.meta_schema import compacted, expanded
from worldclips.shards.format.reader import read_shard
from worldclips.motions.safe_arrays import load_npz
from worldclips.shards.format.schema import sample_key
from worldclips.shards.format.validate import validate_dataset
from worldclips.shards.format.writer import sample_tar_bytes
from worldclips.cli import main

PHYSICS_PRESETS = ("physics_collision", "physics_parabola", "physics_uniform")
G = 9.81


def generate(out: Path, scenario: str, *extra: str) -> Path:
    assert main(["generate", "--scenario", scenario, "--out", str(out), "--no-ray", "--quiet", *extra]) == 0
    return out


def samples(out: Path) -> list[tuple[str, dict, dict[str, bytes]]]:
    """(key, meta, members) of every sample in manifest order."""
    manifest = json.loads((out / "manifest.json").read_text())
    rows = []
    for entry in manifest["shards"]:
        for key, members in read_shard(out / entry["name"]).items():
            rows.append((key, expanded(json.loads(members["meta.json"])), members))  # JSON text fields parsed
    return rows


class Truth:
    """A sample's stored ground truth, looked up by the roles its scenario names."""

    def __init__(self, meta: dict, members: dict[str, bytes]):
        self.meta = meta
        self.seg = layers(members)[1]
        self.camera = load_npz(members["camera.npz"], "camera.npz")
        self.pose = load_npz(members["pose.npz"], "pose.npz")
        self.objects = load_npz(members["objects.npz"], "objects.npz")
        self.contacts = load_npz(members["contacts.npz"], "contacts.npz")
        self.roles = meta["scenario_params"]["scenario"]["roles"]
        self.ids = {row["name"]: row["id"] for row in meta["instances"]}

    def id(self, role: str) -> int:
        return self.ids[self.roles.get(role, role)]

    def pixels(self, role: str) -> np.ndarray:
        return (self.seg == self.id(role)).sum(axis=(1, 2))

    def pelvis(self, role: str) -> np.ndarray:
        index = list(self.pose["instance_id"]).index(self.id(role))
        return self.pose["joints3d"][index, :, 0].astype(np.float64)  # joint 0: pelvis

    def grounded(self, role: str) -> np.ndarray:
        index = list(self.pose["instance_id"]).index(self.id(role))
        return self.pose["foot_contact"][index].any(axis=1)

    def position(self, role: str) -> np.ndarray:
        index = list(self.objects["instance_id"]).index(self.id(role))
        return self.objects["world_from_object"][index, :, :3, 3].astype(np.float64)

    def velocity(self, role: str) -> np.ndarray:
        index = list(self.objects["instance_id"]).index(self.id(role))
        return self.objects["linear_velocity"][index].astype(np.float64)

    def touches(self, a: str, b: str) -> np.ndarray:
        """Frames of the contact events between two instances (given by role or name)."""
        low, high = sorted((self.id(a), self.id(b)))
        c = self.contacts
        return np.sort(c["frame"][(c["instance_a"] == low) & (c["instance_b"] == high)])


def runs(mask) -> list[tuple[int, int]]:
    out, start = [], None
    for i, flag in enumerate(list(mask) + [False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            out.append((start, i))
            start = None
    return out


def recheck_independently(kind: str, params: dict, values: dict, truth: Truth) -> None:
    """Re-measure a property from the stored arrays with this test's own code and assert that the
    clip meets the thresholds in ``params`` (and that the recorded values say the same)."""
    fps = truth.meta["fps"]
    if kind == "visible":
        counts = truth.pixels(params["target"])
        fraction = float((counts >= params["min_px"]).mean())
        assert fraction >= params["min_fraction"] and values["fraction"] == pytest.approx(fraction, abs=1e-6)
    elif kind == "occluded":
        counts = truth.pixels(params["object"])
        peak = counts.max()
        hidden = [e - s for s, e in runs(counts < params["below"] * peak)
                  if (counts[:s] >= params["recover"] * peak).any() and (counts[e:] >= params["recover"] * peak).any()]  # fmt: skip
        assert peak >= params["min_peak_px"] and max(hidden) >= params["min_frames"]
        assert (values["peak_px"], values["hidden_frames"]) == (peak, max(hidden))
    elif kind == "orbit_sweep":
        eyes = np.linalg.inv(truth.camera["cam_from_world"].astype(np.float64))[:, :3, 3]
        offset = eyes[:, :2] - truth.pelvis(params["character"])[:, :2]
        azimuth = np.degrees(np.unwrap(np.arctan2(offset[:, 1], offset[:, 0])))
        sweep = azimuth.max() - azimuth.min()
        assert sweep >= params["min_deg"] >= 90 and values["sweep_deg"] == pytest.approx(sweep, abs=1e-3)
    elif kind == "straight_path":
        xy = truth.pelvis(params["character"])[:, :2]
        centred = xy - xy.mean(axis=0)
        direction = np.linalg.eigh(centred.T @ centred)[1][:, -1]
        deviation = np.abs(centred @ np.array([-direction[1], direction[0]])).max()
        along = centred @ direction
        assert deviation <= params["max_deviation_m"] <= 0.05 and along.max() - along.min() >= params["min_length_m"]
        assert values["max_deviation_m"] == pytest.approx(deviation, abs=1e-5)
    elif kind == "airborne":
        grounded = truth.grounded(params["character"])
        flights = [e - s for s, e in runs(~grounded) if grounded[:s].any() and (not params["lands"] or grounded[e:].any())]
        assert max(flights) >= params["min_frames"] and values["longest_frames"] == max(flights)
    elif kind == "seated":
        chair = next(p for p in truth.meta["spec"]["props"] if p["name"] == truth.roles[params["chair"]])
        seat = np.array([*chair["position"], chair["size"][2] + params["pelvis_above_seat_m"]])
        pelvis = truth.pelvis(params["character"])
        distance = np.linalg.norm(pelvis - seat, axis=1)
        frame = int(distance.argmin())
        assert distance[frame] <= params["max_distance_m"] and values["distance_m"] == pytest.approx(distance[frame], abs=1e-4)
        assert np.linalg.norm(pelvis[frame, :2] - pelvis[0, :2]) >= params["min_approach_m"]
        assert pelvis[-1, 2] - pelvis[:, 2].min() >= params["min_rise_m"]  # stood up again
    elif kind == "reaches_floor":
        z = truth.position(params["object"])[:, 2]
        frames = [f for f in truth.touches(params["object"], "ground") if z[0] - z[f] >= params["min_drop_m"]]
        assert frames and values["floor_frame"] == frames[0]
    elif kind == "lifted":
        lifted, carrier = truth.grounded(params["character"]), truth.grounded(params["by"])
        longest = max((e - s for s, e in runs(~lifted & carrier)), default=0)
        z = truth.pelvis(params["character"])[:, 2]
        assert longest >= params["min_frames"] and z.max() - z[0] >= params["min_rise_m"]
        assert values["longest_frames"] == longest
    elif kind == "collides":
        frames = truth.touches(params["a"], params["b"])
        assert len(frames) and values["first_frame"] == frames[0]
    elif kind == "constant_speed":
        speed = np.linalg.norm(truth.velocity(params["object"])[:, :2], axis=1)  # the simulator's own velocities
        assert np.abs(speed - speed.mean()).max() <= params["tolerance"] * speed.mean()
        assert values["mean_speed"] == pytest.approx(speed.mean(), rel=0.01)
    elif kind == "ballistic":
        touches = truth.touches(params["object"], "ground")
        z = truth.position(params["object"])[: (touches[0] if len(touches) else len(truth.seg) - 1) + 1, 2]
        g = -2.0 * np.polyfit(np.arange(len(z)) / fps, z, 2)[0]
        assert len(z) >= params["min_frames"] and abs(g - G) <= params["tolerance"] * G
        assert values["g"] == pytest.approx(g, abs=1e-4)
    elif kind == "speed_in_range":
        physics = truth.meta["scenario_params"]["physics"]
        drawn = physics["values"][params["value"]]  # what the setup drew: the ground truth
        assert any(lo <= drawn <= hi for lo, hi in physics["ranges"][params["value"]])
        assert values["speed"] == pytest.approx(drawn, rel=params["tolerance"])
    else:
        raise AssertionError(f"no independent check for {kind}")


@pytest.mark.parametrize("name", preset_names())
def test_preset_clips_have_their_properties(tmp_path, name):
    out = generate(tmp_path / name, name, "--clips", "2", "--seed", "1")
    _, scenario = load_scenario(name)
    wanted = {check.name or check.check: check.check for check in scenario.properties}
    rows = samples(out)
    assert len(rows) == 2
    for key, meta, members in rows:
        assert meta["scenario"] == name and meta["scenario_params"]["scenario"]["name"] == name
        assert (meta["width"], meta["height"]) in scenario.resolutions
        assert meta["verified"] is True, meta["properties"]
        assert {n: row["check"] for n, row in meta["properties"].items()} == wanted
        truth = Truth(meta, members)
        for prop, row in meta["properties"].items():
            assert row["passed"] is True, (key, prop, row)
            assert row["values"] and "error" not in row["values"]
            recheck_independently(row["check"], row["params"], row["values"], truth)
    manifest = json.loads((out / "manifest.json").read_text())
    summary = manifest["summary"]
    assert summary["unverified_clips"] == [] and not [f for f in manifest["failures"] if f.get("kept")]
    row = summary["scenarios"][name]
    assert (row["clips"], row["verified"], row["verified_rate"]) == (2, 2, 1.0)
    assert row["draws"] == 2 + len(manifest["failures"]) and set(row["properties"]) == set(wanted)
    report = validate_dataset(out, decode_video=False)
    assert report.errors == [] and report.warnings == [] and report.samples == 2


@pytest.mark.parametrize("name", PHYSICS_PRESETS)
def test_physics_preset_ood_split_draws_outside_the_id_ranges(tmp_path, name):
    out = generate(tmp_path / name, name, "--clips", "2", "--seed", "2", "--split", "ood")
    layout = load_scenario(name)[1].layout
    quantities = ("speed", "radius", "mass_ratio", "angle")
    for _, meta, members in samples(out):
        physics = meta["scenario_params"]["physics"]
        assert physics["split"] == "ood" and meta["scenario_params"]["scenario"]["split"] == "ood"
        checked = 0
        for quantity in quantities:
            if quantity not in physics["values"] or quantity not in physics["ranges"]:
                continue
            value, ood, id_ranges = physics["values"][quantity], layout.ranges(quantity, "ood"), layout.ranges(quantity, "id")
            assert [tuple(r) for r in physics["ranges"][quantity]] == list(ood)
            assert any(lo <= value <= hi for lo, hi in ood), (quantity, value, ood)
            assert not any(lo <= value <= hi for lo, hi in id_ranges), (quantity, value, id_ranges)
            checked += 1
        assert checked >= 2 and {"speed", "radius"} <= set(physics["values"])
        assert meta["verified"] is True, meta["properties"]
        speed = meta["properties"]["speed_in_range"]
        speed_ood = layout.ranges("speed", "ood")
        assert speed["passed"] and (speed["values"]["low"], speed["values"]["high"]) == (speed_ood[0][0], speed_ood[-1][1])
        recheck_independently("speed_in_range", speed["params"], speed["values"], Truth(meta, members))


def test_broken_scenario_is_caught_and_reported(tmp_path, capsys):
    scenario = tmp_path / "broken_pass.yaml"  # the occluder walks well behind the passers: nothing hides the ball
    scenario.write_text("extends: occlusion_pass\nlayout:\n  occluder_offset_m: [-4.0, -3.5]\n")
    out = generate(tmp_path / "data", str(scenario), "--clips", "1", "--max-redraws", "1", "--seed", "3")
    captured = capsys.readouterr()
    assert "broken_pass: 0/1 clips verified (0 at the first draw, 2 draws)" in captured.out
    assert "ball_hidden: 0/2 draws passed (0/1 first draws)" in captured.out
    assert "warning: 1 clip(s) lack their scenario's properties" in captured.err and "seed3-00000000" in captured.err

    key = sample_key("seed3", 0)
    manifest = json.loads((out / "manifest.json").read_text())
    failures = manifest["failures"]
    assert [(f["clip_index"], f["attempt"], f.get("kept", False)) for f in failures] == [(0, 0, False), (0, 1, True)]
    for failure in failures:
        result = failure["properties"]["ball_hidden"]
        assert result["passed"] is False and result["check"] == "occluded"
        values = result["values"]
        assert values["hidden_frames"] < result["params"]["min_frames"] == 3
        assert values["peak_px"] >= 12 and values["min_px"] >= 0.2 * values["peak_px"]  # seen well, never hidden
    assert "ball_hidden" in failures[0]["error"] and "hidden_frames" in failures[0]["error"]
    assert "verified: false" in failures[1]["error"]

    summary = manifest["summary"]
    assert summary["unverified_clips"] == [key]
    row = summary["scenarios"]["broken_pass"]
    assert (row["clips"], row["verified"], row["draws"], row["verified_rate"], row["first_draw_rate"]) == (1, 0, 2, 0.0, 0.0)
    assert row["properties"]["ball_hidden"] == {"draws": 2, "passed": 0, "first_draws": 1, "first_passed": 0, "rate": 0.0,
                                                "first_draw_rate": 0.0}  # fmt: skip

    ((stored_key, meta, members),) = samples(out)
    assert stored_key == key and meta["verified"] is False and meta["redraw"]["attempt"] == 1
    assert meta["properties"]["ball_hidden"] == failures[1]["properties"]["ball_hidden"]
    assert -4.0 <= meta["scenario_params"]["scenario"]["values"]["occluder_offset_m"] <= -3.5
    counts = Truth(meta, members).pixels("ball")  # independently: the ball never drops below 20 % of its peak
    assert counts.min() >= 0.2 * counts.max() and meta["properties"]["ball_hidden"]["values"]["peak_px"] == counts.max()

    # validate re-measures it; an unverified clip kept after its last re-draw is a warning, not an error
    assert main(["validate", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"WARN shard-000000.tar: {key}: verified: false" in printed and "OK, 1 warning(s): 1 shards, 1 samples" in printed


# --- validate on a scenario dataset ---------------------------------------------------------------------------------


MIXTURE = "physics_parabola:1,orbit_walk:1"


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    out = tmp_path_factory.mktemp("mixed") / "data"
    return generate(out, MIXTURE, "--clips", "3", "--clips-per-shard", "2", "--seed", "4")


def test_mixture_dataset_validates_and_records_its_scenarios(mixed, capsys):
    assert main(["validate", str(mixed)]) == 0
    assert "OK: 2 shards, 3 samples" in capsys.readouterr().out
    mixture = load_mixture(MIXTURE)
    rows = samples(mixed)
    for index, (key, meta, _) in enumerate(rows):
        assert key == sample_key("seed4", index)
        assert meta["scenario"] == mixture.choose(4, index).name
        assert meta["scenario_params"]["scenario"]["mixture"] == {"physics_parabola": 1.0, "orbit_walk": 1.0}
        assert meta["verified"] is True
    manifest = json.loads((mixed / "manifest.json").read_text())
    scenarios = manifest["summary"]["scenarios"]
    assert sum(row["clips"] for row in scenarios.values()) == 3 and set(scenarios) == {meta["scenario"] for _, meta, _ in rows}
    assert manifest["run"]["config"]["scenario"] == MIXTURE


def tampered(dataset: Path, tmp_path: Path, prop: str, change) -> list[str]:
    """Errors of validate after ``change(meta)`` on the first sample that records property ``prop``."""
    copy = shutil.copytree(dataset, tmp_path / "copy")
    manifest = json.loads((copy / "manifest.json").read_text())
    for entry in manifest["shards"]:
        shard = copy / entry["name"]
        items = read_shard(shard)
        key = next((k for k, m in items.items() if prop in expanded(json.loads(m["meta.json"]))["properties"]), None)
        if key is None:
            continue
        meta = expanded(json.loads(items[key]["meta.json"]))
        change(meta)
        items[key]["meta.json"] = json.dumps(compacted(meta), sort_keys=True, indent=1).encode()
        data = sample_tar_bytes(list(items.items()))
        shard.write_bytes(data)
        entry.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
        (copy / "manifest.json").write_text(json.dumps(manifest))
        return validate_dataset(copy, decode_video=False).errors
    raise AssertionError(f"no sample records {prop}")


def test_validate_catches_a_changed_measured_value(mixed, tmp_path):
    def change(meta):
        meta["properties"]["orbit_sweep"]["values"]["sweep_deg"] += 20.0

    errors = tampered(mixed, tmp_path, "orbit_sweep", change)
    assert len(errors) == 1 and "meta.json: properties: orbit_sweep.sweep_deg: recorded" in errors[0]


def test_validate_catches_a_changed_frame_count(mixed, tmp_path):
    def change(meta):
        meta["properties"]["ballistic"]["values"]["flight_frames"] += 5

    errors = tampered(mixed, tmp_path, "ballistic", change)
    assert len(errors) == 1 and "ballistic.flight_frames: recorded" in errors[0]


def test_validate_catches_a_raised_threshold_and_a_flipped_verdict(mixed, tmp_path):
    def harder(meta):  # the recorded params now ask for more than the clip has
        meta["properties"]["orbit_sweep"]["params"]["min_deg"] = 400.0

    errors = tampered(mixed, tmp_path, "orbit_sweep", harder)
    assert len(errors) == 1 and "orbit_sweep: recorded passed=True, re-measured passed=False" in errors[0]
    shutil.rmtree(tmp_path / "copy")

    def unverified(meta):
        meta["verified"] = False

    errors = tampered(mixed, tmp_path, "ballistic", unverified)
    assert len(errors) == 1 and "verified: False, but the clip has every property" in errors[0]


# --- determinism ------------------------------------------------------------------------------------------------------


def test_same_scenario_run_twice_gives_byte_identical_shards(tmp_path):
    def digests(out):
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.glob("shard-*.tar"))}

    args = ("--clips", "2", "--clips-per-shard", "1", "--seed", "6")
    first = digests(generate(tmp_path / "a", "physics_uniform", *args))
    second = digests(generate(tmp_path / "b", "physics_uniform", *args))
    assert len(first) == 2 and first == second
    other = digests(generate(tmp_path / "c", "physics_uniform", *args[:-1], "7"))
    assert set(other.values()).isdisjoint(first.values())
