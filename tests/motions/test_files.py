"""User files as character motions: scanning, windows, placement, ground alignment, contact
labels; quality metrics and ``worldclips motions check``."""

from __future__ import annotations

import numpy as np
import pytest

from worldclips.motions.amass import MotionFileError
from worldclips.motions.catalog import generate_motion
from worldclips.motions.contacts import detect_contacts, foot_points
from worldclips.motions.files import FileMotion, file_motion, facing, scan_motion_dir
from worldclips.motions.ground import lowest_foot_heights
from worldclips.motions.mannequin_body import MannequinBody
from worldclips.motions.motion import MotionClip
from worldclips.motions.quality import measure_motion
from worldclips.motions.rig import Rig
from worldclips.motions.walk import WalkParams
from tests.motions.mocap_writers import write_amass, write_bvh
from worldclips.cli import main

FPS = 30.0


@pytest.fixture(scope="module")
def body():
    return MannequinBody()


@pytest.fixture(scope="module")
def walk(body):
    betas = np.zeros(10)
    return generate_motion(WalkParams(((0.0, 0.0), (8.0, 0.0)), (1.3,)), body.skeleton(betas), betas, 60.0, 180)


@pytest.fixture(scope="module")
def motion_dir(tmp_path_factory, walk, body):
    """A directory of user files: an AMASS walk lifted 5 cm off the ground, in a subfolder a BVH."""
    root = tmp_path_factory.mktemp("mocap")
    values = walk.motion.frame_arrays()
    values["transl"] = values["transl"] + np.array([3.0, -2.0, 0.05])
    lifted = MotionClip(fps=60.0, betas=walk.motion.betas, **values)
    write_amass(root / "walk.npz", lifted)
    (root / "cmu").mkdir()
    write_bvh(root / "cmu" / "walk.bvh", walk.motion, body.skeleton(np.zeros(10)).rest_joints)
    (root / "notes.txt").write_text("ignored")
    return root


def test_scan_finds_motion_files_recursively_and_sorted(motion_dir, tmp_path):
    assert scan_motion_dir(str(motion_dir)) == ("cmu/walk.bvh", "walk.npz")
    with pytest.raises(MotionFileError, match="motion_dir: .* is not a directory"):
        scan_motion_dir(str(tmp_path / "nowhere"))
    with pytest.raises(MotionFileError, match="no .npz or .bvh files"):
        scan_motion_dir(str(tmp_path))


@pytest.mark.parametrize("path", ["walk.npz", "cmu/walk.bvh"])
def test_file_motion_is_placed_grounded_and_labelled(body, walk, motion_dir, path):
    betas = np.zeros(10)
    skeleton = body.skeleton(betas)
    params = FileMotion(str(motion_dir), path, start=0.5, position=(1.0, 2.0), heading=2.0)
    generated, posed = file_motion(params, skeleton, betas, body, FPS, 48)
    motion = generated.motion
    assert motion.fps == FPS and motion.num_frames == 48
    pelvis = posed.joints[:, 0]
    np.testing.assert_allclose(pelvis[0, :2], (1.0, 2.0), atol=1e-6)
    assert facing(motion.global_orient[:1].astype(np.float64))[0] == pytest.approx(2.0, abs=1e-5)
    lowest = lowest_foot_heights(posed, skeleton.sole_height)
    assert lowest.min() == pytest.approx(0.0, abs=1e-6)  # lifted 5 cm file is brought down to the ground
    np.testing.assert_allclose(body.pose(motion).joints, posed.joints, atol=1e-5)
    # detected contacts agree with the walk's exact labels over the same window
    exact = walk.contact[30::2][:48]
    agree = (generated.contact == exact).mean()
    assert agree > 0.85, agree
    assert generated.contact.any(axis=1).mean() > 0.8  # a walk has a foot down nearly always


def test_detected_contacts_are_low_and_slow(body, walk):
    rig = Rig.from_skeleton(body.skeleton(np.zeros(10)))
    points = foot_points(rig, walk.motion)
    contact = detect_contacts(points, walk.motion.fps)
    assert np.all(points[..., 2][contact] < 0.03)
    step = np.linalg.norm(np.diff(points, axis=0), axis=-1)
    assert np.all(step[contact[1:] & contact[:-1]] < 0.25 / walk.motion.fps * 2)


def test_quality_metrics_pass_a_clean_walk_and_flag_broken_ones(body, walk):
    clean = measure_motion(walk.motion, body, "walk")
    assert clean.ok and clean.slide_p95_mm < 1.0 and clean.spikes == 0 and clean.float_mm < 5.0
    values = walk.motion.frame_arrays()
    values["transl"] = values["transl"].copy()
    values["transl"][100, 1] += 0.08  # a glitch: one frame jumps 8 cm sideways
    popped = measure_motion(MotionClip(fps=60.0, betas=walk.motion.betas, **values), body, "pop")
    assert popped.spikes >= 1 and not popped.ok
    values = walk.motion.frame_arrays()
    values["transl"] = values["transl"] + np.linspace(0, 1, 180)[:, None] * np.array([0.0, 1.2, 0.0])  # skating sideways at 0.4 m/s
    skating = measure_motion(MotionClip(fps=60.0, betas=walk.motion.betas, **values), body, "skate")
    assert skating.slide_p95_mm > 10.0 and not skating.ok


def test_motions_check_cli(motion_dir, tmp_path, capsys):
    assert main(["motions", "check", str(motion_dir)]) == 0
    out = capsys.readouterr().out
    assert "OK  " in out and "walk.npz" in out and "cmu/walk.bvh" in out and "2 of 2 motion file(s) OK" in out
    bad = tmp_path / "broken"
    bad.mkdir()
    (bad / "cut.bvh").write_text("HIERARCHY\nROOT Hips\n{\n")
    assert main(["motions", "check", str(bad)]) == 1
    assert "ERR " in capsys.readouterr().out and "cut.bvh" in capsys.readouterr().out + str(bad / "cut.bvh")
    assert main(["motions", "check", str(tmp_path / "missing")]) == 1
