"""Camera adherence by structure from motion: on rendered clips the estimator recovers the
ground-truth path (its error floor is small), and a video whose camera moves otherwise (the same
frames played backwards) gets large errors."""

import subprocess
import sys

import numpy as np
import pytest
import yaml

from worldclips.train.camera_sfm import path_errors, recover_path
from worldclips.train.config import DataConfig
from worldclips.train.loader import iter_examples
from worldclips.train.sources import shard_urls


@pytest.fixture(scope="module")
def moving_camera_clips(tmp_path_factory):
    """Three 256x256 clips (a room and open ground; orbit and dolly cameras), 9 frames each."""
    root = tmp_path_factory.mktemp("sfm")
    config = root / "clips.yaml"
    config.write_text(yaml.safe_dump({"frames": 12, "fps": 6, "size": "256x256", "clips": 3, "seed": 5,
                                      "scene": {"camera_families": ["orbit", "dolly"], "characters": [1, 1]}}))  # fmt: skip
    subprocess.run([sys.executable, "-m", "worldclips", "generate", "--config", str(config), "--out", str(root / "data"),
                    "--quiet"], check=True)  # fmt: skip
    examples = iter_examples(shard_urls(str(root / "data")), DataConfig(frames=9, height=256, width=256, strides=(1,)),
                             skeletons=False, person_pixels=True)  # fmt: skip
    return list(examples)


def recovered(example, order=slice(None)):
    frames = np.ascontiguousarray(example["video"].transpose(0, 2, 3, 1)[order])
    path = recover_path(frames, example["K"][0].astype(np.float64), example["person_pixels"][order])
    return path_errors(path, example["cam_from_world"].astype(np.float64), example["depth"][0])


def test_sfm_recovers_the_ground_truth_path_of_rendered_clips(moving_camera_clips):
    for example in moving_camera_clips:
        errors = recovered(example)
        assert errors["registered"] == 9, errors
        assert errors["rotation_deg"] < 1.0 and errors["translation_m"] < 0.05 * errors["path_length_m"] + 0.02, errors


def test_a_camera_moving_otherwise_gets_large_errors(moving_camera_clips):
    example = max(moving_camera_clips, key=lambda e: np.linalg.norm(np.diff(e["cam_from_world"][:, :3, 3], axis=0)).sum())
    errors = recovered(example, order=slice(None, None, -1))  # the same frames played backwards
    assert errors["rotation_deg"] is None or errors["rotation_deg"] > 3.0 or errors["translation_m"] > 0.3 * errors["path_length_m"]


def test_without_pycolmap_eval_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    from worldclips.cli import main

    monkeypatch.setitem(sys.modules, "pycolmap", None)  # import pycolmap now raises ImportError
    args = ["eval", "--checkpoint", str(tmp_path / "run"), "--data", str(tmp_path), "--out", str(tmp_path / "r.json")]
    assert main(args) == 1
    assert "camera adherence needs pycolmap: pip install 'worldclips[eval]'" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()
