"""User motion files: AMASS .npz and BVH written by the tests round-trip to the same joints, and
broken files give one clear error naming the file and the key."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from worldclips.motions.amass import MotionFileError, load_amass
from worldclips.motions.bvh import load_bvh
from worldclips.motions.catalog import generate_motion
from worldclips.motions.conventions import WORLD_FROM_NATIVE, axis_angle_to_matrix, matrix_to_axis_angle
from worldclips.motions.dance import DanceParams
from worldclips.motions.files import resample
from worldclips.motions.mannequin_body import MannequinBody
from worldclips.motions.motion import MotionClip
from tests.motions.mocap_writers import write_amass, write_bvh

MM = 0.001


@pytest.fixture(scope="module")
def body():
    return MannequinBody()


@pytest.fixture(scope="module")
def source(body):
    """A motion with every joint moving (a dance with random finger, jaw and eye poses) and its joints."""
    rng = np.random.default_rng(5)
    betas = rng.normal(size=10)
    motion = generate_motion(DanceParams((0.5, -1.0), 0.4, tempo=120), body.skeleton(betas), betas, 30.0, 45).motion
    values = motion.frame_arrays()
    for name in ("left_hand_pose", "right_hand_pose", "jaw_pose", "leye_pose", "reye_pose"):
        values[name] = rng.normal(scale=0.2, size=values[name].shape)
    motion = MotionClip(fps=30.0, betas=betas, **values)
    return motion, body.pose(motion).joints


@pytest.mark.parametrize("layout", ["poses", "split"])
@pytest.mark.parametrize("model", ["smplx", "smplh"])
def test_amass_round_trip_gives_the_same_joints(tmp_path, body, source, layout, model):
    motion, joints = source
    loaded = load_amass(write_amass(tmp_path / "clip.npz", motion, layout, model))
    assert loaded.model_type == model and loaded.gender == "neutral"
    assert loaded.motion.fps == 30.0 and loaded.motion.num_frames == motion.num_frames
    np.testing.assert_allclose(loaded.motion.betas, motion.betas, atol=1e-6)
    np.testing.assert_allclose(body.pose(loaded.motion).joints, joints, atol=1e-5)
    if model == "smplx":  # jaw and eyes survive; SMPL-H files have none
        np.testing.assert_allclose(loaded.motion.jaw_pose, motion.jaw_pose, atol=1e-6)


def test_amass_y_up_files_are_turned_z_up(tmp_path, body, source):
    motion, joints = source
    native = motion.frame_arrays()
    native["global_orient"] = matrix_to_axis_angle(WORLD_FROM_NATIVE.T @ axis_angle_to_matrix(motion.global_orient))
    native["transl"] = motion.transl @ WORLD_FROM_NATIVE  # each row: W^T transl
    y_up = MotionClip(fps=30.0, betas=motion.betas, **native)
    loaded = load_amass(write_amass(tmp_path / "y.npz", y_up))
    turned = body.pose(loaded.motion).joints
    shift = turned[0, 0] - joints[0, 0]  # the rest pelvis turns with the data: a constant offset
    np.testing.assert_allclose(turned - shift, joints, atol=1e-5)


def test_resampling_uses_slerp_and_keeps_the_source_frames(body, source):
    motion, joints = source
    half = resample(motion, 15.0, 0.0, 23)  # every other frame
    np.testing.assert_allclose(body.pose(half).joints, joints[::2], atol=1e-5)
    double = resample(motion, 60.0, 0.0, 89)
    posed = body.pose(double).joints
    np.testing.assert_allclose(posed[::2], joints, atol=1e-5)
    midway = np.linalg.norm(posed[1::2, :22] - 0.5 * (joints[1:, :22] + joints[:-1, :22]), axis=-1)
    assert midway.max() < 0.01  # halfway poses lie between their neighbours (body joints)
    held = resample(motion, 30.0, 1.0, 30)  # past the end: the last frame is held
    np.testing.assert_allclose(body.pose(held).joints[-1], joints[-1], atol=1e-5)


@pytest.mark.parametrize(
    "style, unit, arm_down",
    [("cmu", 100.0 / 2.54, 0.0), ("cmu", 1.0, 30.0), ("mixamo", 100.0, 40.0)],
    ids=["cmu-inches-tpose", "cmu-metres-apose", "mixamo-cm-apose"],
)
def test_bvh_round_trip_reproduces_the_joints_within_1mm(tmp_path, body, source, style, unit, arm_down):
    motion, joints = source
    skeleton = body.skeleton(motion.betas)
    path = write_bvh(tmp_path / f"{style}.bvh", motion, skeleton.rest_joints, style, unit, arm_down)
    loaded = load_bvh(path, skeleton.rest_joints, motion.betas)
    assert loaded.model_type == f"bvh-{style}" and loaded.motion.fps == pytest.approx(30.0)
    retargeted = body.pose(loaded.motion).joints
    compared = list(range(22)) + (list(range(25, 55)) if style == "mixamo" else [])  # CMU files have no fingers
    error = np.linalg.norm(retargeted[:, compared] - joints[:, compared], axis=-1).max()
    assert error < 1.0 * MM, f"{error * 1000:.3f} mm"


def test_bvh_z_up_skeletons_are_recognised(tmp_path, body, source):
    motion, joints = source
    skeleton = body.skeleton(motion.betas)
    text = write_bvh(tmp_path / "y.bvh", motion, skeleton.rest_joints, "cmu").read_text()
    loaded_y = load_bvh(tmp_path / "y.bvh", skeleton.rest_joints, motion.betas, up_axis="y")
    loaded_auto = load_bvh(tmp_path / "y.bvh", skeleton.rest_joints, motion.betas)
    np.testing.assert_allclose(loaded_auto.motion.transl, loaded_y.motion.transl)
    assert text.startswith("HIERARCHY")


def _corrupt_npz(tmp_path, source, **change):
    motion, _ = source
    path = write_amass(tmp_path / "bad.npz", motion)
    with np.load(path) as archive:
        data = {k: archive[k] for k in archive.files}
    for key, value in change.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    np.savez(path, **data)
    return path


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(trans=None), "missing key 'trans'"),
        (dict(poses=None), "missing key 'root_orient'"),
        (dict(mocap_frame_rate=None), "missing key 'mocap_frame_rate'"),
        (dict(poses=np.zeros((45, 99))), "key 'poses': expected shape \\(N, 165\\)"),
        (dict(trans=np.zeros((44, 3))), "key 'trans': expected shape \\(N, 3\\) with N = 45"),
        (dict(poses=np.full((45, 165), np.nan)), "key 'poses': contains NaN"),
        (dict(gender=np.array(["a", "b"], dtype=object)), "gender: object arrays are refused"),
        (dict(mocap_frame_rate=np.array(-3.0)), "key 'mocap_frame_rate': expected one frame rate"),
        (dict(surface_model_type=np.array("mano")), "key 'surface_model_type'"),
    ],
)
def test_bad_amass_files_name_the_file_and_key(tmp_path, source, change, message):
    path = _corrupt_npz(tmp_path, source, **change)
    with pytest.raises(MotionFileError, match=message) as error:
        load_amass(path)
    assert str(path) in str(error.value)


def test_truncated_and_foreign_npz_files(tmp_path, source):
    path = write_amass(tmp_path / "cut.npz", source[0])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(MotionFileError, match="cut.npz: (not a readable .npz|key)"):
        load_amass(path)
    text = tmp_path / "text.npz"
    text.write_text("not an archive")
    with pytest.raises(MotionFileError, match="text.npz: not a readable .npz archive"):
        load_amass(text)
    single = tmp_path / "single.npz"  # a plain .npy array under an .npz name
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(3))
    single.write_bytes(buffer.getvalue())
    with pytest.raises(MotionFileError, match="single.npz: expected an .npz archive"):
        load_amass(single)
    with pytest.raises(MotionFileError, match="missing.npz: no such file"):
        load_amass(tmp_path / "missing.npz")
    member = tmp_path / "member.npz"  # a member that is not .npy data
    with zipfile.ZipFile(member, "w") as archive:
        archive.writestr("trans.npy", b"garbage")
        archive.writestr("poses.npy", b"garbage")
    with pytest.raises(MotionFileError, match="member.npz/(trans|poses): not a readable .npy array"):
        load_amass(member)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t[: len(t) // 2], "truncated"),
        (lambda t: t.replace("HIERARCHY", "HIERARCH", 1), "line 1: expected 'HIERARCHY'"),
        (lambda t: t.replace("Frame Time:", "Frame Rate:", 1), "'Frames: N' and 'Frame Time: dt'"),
        (lambda t: t.replace("CHANNELS 3 Zrotation Xrotation Yrotation", "CHANNELS 4 Zrotation Xrotation Yrotation", 1), "CHANNELS count"),
        (lambda t: t.rsplit("\n", 2)[0] + "\n1 2 3\n", "expected \\d+ values, got 3"),
        (lambda t: t.replace("LeftUpLeg", "Thigh_L").replace("LeftLeg", "Shin_L"), "joints: no BVH joint for SMPL-X \\['left_hip', 'left_knee'\\]"),
        (lambda t: t.rsplit("\n", 2)[0] + "\n" + " ".join(["nan"] * 100) + "\n", "values|NaN"),
    ],
    ids=["truncated", "header", "frame-time", "channels", "short-row", "names", "nan"],
)
def test_bad_bvh_files_name_the_file(tmp_path, body, source, edit, message):
    motion, _ = source
    skeleton = body.skeleton(motion.betas)
    path = write_bvh(tmp_path / "bad.bvh", motion, skeleton.rest_joints)
    path.write_text(edit(path.read_text()))
    with pytest.raises(MotionFileError, match=message) as error:
        load_bvh(path, skeleton.rest_joints)
    assert str(path) in str(error.value)
