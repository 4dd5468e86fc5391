"""Bad input gets a one-line error and writes nothing; validate catches every kind of damage;
a failing disk leaves complete shards or none."""

import hashlib
import json
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tests.shards.layers_helpers import layers, set_depth, set_segmentation

from worldclips.shards.format.reader import read_shard
from worldclips.motions.safe_arrays import load_npz
from worldclips.shards.format.sample import npz_bytes
from worldclips.shards.format.validate import validate_dataset
from worldclips.shards.format.writer import sample_tar_bytes
from worldclips.cli import main

# --no-ray: single process (a file-size limit would also stop Ray itself from starting)
SMALL = ["--clips", "2", "--frames", "4", "--size", "32x24", "--clips-per-shard", "1", "--quiet", "--no-ray"]


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--frames", "0"], "frames: expected an integer in 1..2000, got 0"),
        (["--size=-5x3"], "size: expected WIDTHxHEIGHT"),
        (["--frames", "many"], "argument --frames: expected an integer, got 'many'"),
        (["--size", "64"], "size: expected WIDTHxHEIGHT"),
        (["--size", "32x25"], "size: expected even width and height"),
        (["--clips", "-1"], "clips: expected an integer"),
        (["--clips-per-shard", "0"], "clips_per_shard: expected an integer"),
        (["--backend", "eevee"], "backend: expected one of"),
        (["--smplx-model-dir", "/nonexistent/models"], "smplx_model_dir: /nonexistent/models is not a directory"),
        (["--config", "/nonexistent/c.yaml"], "c.yaml: cannot read config file"),
    ],
)
def test_bad_flags_give_one_line_and_write_nothing(tmp_path, capsys, flags, message):
    out = tmp_path / "out"
    try:
        status = main(["generate", "--out", str(out), *SMALL, *flags])
    except SystemExit as exit:  # argparse-level errors
        status = exit.code
    assert status != 0
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize(
    "text, message",
    [
        ("frames: 4\nfarmes: 3\n", "unknown field 'farmes'"),
        ("[1, 2]\n", "expected a mapping"),
        ("size: 32x24\nscene: {props: [4, 2]}\n", "scene.props"),
    ],
)
def test_bad_config_files_write_nothing(tmp_path, capsys, text, message):
    config = tmp_path / "c.yaml"
    config.write_text(text)
    out = tmp_path / "out"
    assert main(["generate", "--out", str(out), "--config", str(config), "--quiet"]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_missing_smplx_model_file_names_the_file(tmp_path, capsys):
    models = tmp_path / "models"
    models.mkdir()
    assert main(["generate", "--out", str(tmp_path / "out"), *SMALL, "--smplx-model-dir", str(models)]) == 1
    assert "no SMPLX_NEUTRAL.npz" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    out = tmp_path_factory.mktemp("good") / "data"
    assert main(["generate", "--out", str(out), *SMALL]) == 0
    return out


def _copy(good, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(good, target)
    return target


def _rewrite_sample(directory, mutate):
    """Apply ``mutate(members)`` to the first sample and re-hash the shard in the manifest (a consistent forgery)."""
    shard = directory / "shard-000000.tar"
    samples = read_shard(shard)
    key = next(iter(samples))
    mutate(samples[key])
    data = sample_tar_bytes(list(samples.items()))
    shard.write_bytes(data)
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["shards"][0].update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    (directory / "manifest.json").write_text(json.dumps(manifest))


def _errors(directory):
    report = validate_dataset(directory)
    assert not report.ok
    return "\n".join(report.errors)


def test_validate_passes_on_the_untouched_copy(good, tmp_path):
    assert validate_dataset(_copy(good, tmp_path)).ok


def test_validate_catches_flipped_and_truncated_bytes(good, tmp_path):
    copy = _copy(good, tmp_path)
    shard = copy / "shard-000000.tar"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    assert "sha256 differs" in _errors(copy)
    shard.write_bytes(bytes(data[: len(data) // 3]))
    assert "sha256 differs" in _errors(copy)


def test_validate_catches_missing_manifest_shard_and_leftovers(good, tmp_path):
    copy = _copy(good, tmp_path)
    (copy / "shard-000001.tar").unlink()
    (copy / ".tmp-shard-000002.tar.123").write_bytes(b"partial")
    errors = _errors(copy)
    assert "shard-000001.tar: listed in the manifest but missing" in errors
    assert "temporary file left behind" in errors
    (copy / "manifest.json").unlink()
    assert "the run did not finish" in _errors(copy)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda m: m.pop("objects.npz"), "members"),
        (lambda m: m.__setitem__("meta.json", b"{not json"), "meta.json: not valid JSON"),
        (lambda m: set_depth(m, np.full_like(layers(m)[0], np.nan)), "depth.npz: depth decodes to values that are not finite"),
        (lambda m: set_depth(m, layers(m)[0][:, :-1]), "depth.npz/depth_delta_bytes_000: shape"),
        (lambda m: set_segmentation(m, layers(m)[1].astype(np.int16)), "seg.npz/seg: dtype int16"),
        (lambda m: set_segmentation(m, layers(m)[1].astype(np.int32)), "seg.npz: declares"),  # more bytes than the clip has
        (lambda m: set_segmentation(m, layers(m)[1] + 50), "not in the instance table"),
        (lambda m: m.__setitem__("rgb.mp4", m["rgb.mp4"][:200]), "rgb.mp4"),
        (lambda m: m.__setitem__("depth.npz", b"PK\x03\x04 garbage"), "depth.npz: not a readable .npz"),
    ],
)
def test_validate_catches_bad_members(good, tmp_path, mutate, message):
    copy = _copy(good, tmp_path)
    _rewrite_sample(copy, mutate)
    assert message in _errors(copy)


def _mutate_npz(member, name, change):
    def mutate(members):
        arrays = load_npz(members[member])
        arrays[name] = change(arrays[name])
        members[member] = npz_bytes(arrays)

    return mutate


@pytest.mark.parametrize(
    "mutate, message",
    [
        (_mutate_npz("pose.npz", "joints2d", lambda a: a + 0.5), "joints2d: differs from the projection"),
        (_mutate_npz("pose.npz", "joints_visible", lambda a: np.ones_like(a)), "joints_visible"),
        (_mutate_npz("camera.npz", "cam_from_world", lambda a: a * 1.01), "cam_from_world"),
        (_mutate_npz("camera.npz", "K", lambda a: -a), "camera.npz/K"),
        (_mutate_npz("pose.npz", "betas", lambda a: a.astype(np.float64)), "pose.npz/betas: dtype"),
        (_mutate_npz("objects.npz", "instance_id", lambda a: a + 100), "objects.npz/instance_id"),
    ],
)
def test_validate_catches_inconsistent_ground_truth(good, tmp_path, mutate, message):
    copy = _copy(good, tmp_path)
    _rewrite_sample(copy, mutate)
    assert message in _errors(copy)


def test_a_full_disk_leaves_complete_shards_or_none(tmp_path):
    """The file-size limit makes writes fail with EFBIG part-way through the first shard."""
    out = tmp_path / "out"
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        from worldclips.cli import main
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
        sys.exit(main(["generate", "--out", {str(out)!r}, *{SMALL!r}]))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "File too large" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()  # no shard, no temporary, no manifest: the folder the run made is gone too
