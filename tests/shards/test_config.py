"""Config resolution: defaults <- YAML <- flags, one-line errors naming the problem."""

import pytest

from worldclips.shards.job.config import ConfigError, config_yaml, load_yaml_config, resolve_config


def test_flags_override_file_and_defaults_fill_the_rest(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("clips: 3\nframes: 12\nsize: 64x48\nscene:\n  characters: [1, 1]\n")
    config = resolve_config(load_yaml_config(path), {"out": str(tmp_path / "o"), "frames": 20, "seed": None})
    assert (config.clips, config.frames, config.width, config.height, config.seed) == (3, 20, 64, 48, 0)
    assert config.scene.characters == (1, 1)
    assert config.run == "seed0"
    round_trip = resolve_config(load_yaml_config_text(tmp_path, config_yaml(config)), {})
    assert round_trip == config


def load_yaml_config_text(tmp_path, text):
    path = tmp_path / "resolved.yaml"
    path.write_text(text)
    return load_yaml_config(path)


@pytest.mark.parametrize(
    "file_text, flags, message",
    [
        ("clipz: 3\n", {}, r"unknown field 'clipz'"),
        ("- 1\n- 2\n", {}, r"expected a mapping of config fields at the top level, got list"),
        ("clips: [\n", {}, r"not valid YAML at line"),
        ("", {"size": "-5x3"}, r"size: expected WIDTHxHEIGHT"),
        ("", {"size": "0x64"}, r"size: width and height must be within"),
        ("", {"size": "33x24"}, r"size: expected even width and height"),
        ("out: [a, b]\n", {"out": None}, r"out: expected a path \(text\), got list"),
        ("", {"out": "memory://data"}, r"out: memory:// lives only as long as the process"),
        ("", {"frames": 0}, r"frames: expected an integer in 1..2000, got 0"),
        ("", {"clips": -2}, r"clips: expected an integer"),
        ("", {"fps": float("nan")}, r"fps: expected a number"),
        ("frames: 2000\nsize: 4096x4096\n", {}, r"GiB of memory"),
        ("", {"backend": "eevee"}, r"backend: expected one of \['raster', 'cycles'\]"),
        ("look: glossy\n", {}, r"look: expected one of \['photo', 'flat'\]"),
        ("", {"supersample": 2}, r"supersample: expected 1, 3 or 5"),
        ("", {"run_name": "a.b"}, r"run_name"),
        ("scene:\n  characters: [0, 9]\n", {}, r"scene.characters"),
        ("scene:\n  props: many\n", {}, r"scene.props: expected a list"),
        ("scene:\n  dogs: 2\n", {}, r"scene: unknown field 'dogs'"),
        ("seed: 1.5\n", {}, r"seed: expected an integer"),
    ],
)
def test_bad_values_give_one_line_errors(tmp_path, file_text, flags, message):
    path = tmp_path / "bad.yaml"
    path.write_text(file_text)
    with pytest.raises(ConfigError, match=message) as error:
        resolve_config(load_yaml_config(path), {"out": str(tmp_path / "o"), **flags})
    assert "\n" not in str(error.value)


def test_unreadable_file_and_missing_out(tmp_path):
    with pytest.raises(ConfigError, match=r"nope.yaml: cannot read config file"):
        load_yaml_config(tmp_path / "nope.yaml")
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match=r"binary.yaml: cannot read config file"):
        load_yaml_config(tmp_path / "binary.yaml")
    with pytest.raises(ConfigError, match=r"out: missing"):
        resolve_config({}, {})


def test_yaml_is_loaded_safely(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("clips: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_yaml_config(path)
