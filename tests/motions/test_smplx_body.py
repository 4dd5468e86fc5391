"""The licensed SMPL-X backend, run through smplx on a stand-in model file written by the test."""

import numpy as np
import pytest

from worldclips.motions.conventions import WORLD_FROM_NATIVE, axis_angle_to_matrix, matrix_to_axis_angle
from worldclips.motions.motion import MotionClip
from worldclips.motions.smplx_body import SmplxBody, SmplxModelNotFound
from tests.motions.smplx_fixture import write_fake_smplx_model


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("smplx_models")
    write_fake_smplx_model(directory)
    return directory


def test_missing_model_dir_names_the_problem(tmp_path):
    with pytest.raises(SmplxModelNotFound, match="not a directory"):
        SmplxBody(tmp_path / "nowhere")
    with pytest.raises(SmplxModelNotFound, match="no SMPLX_NEUTRAL.npz"):
        SmplxBody(tmp_path)


def test_corrupt_model_file_is_reported(tmp_path):
    (tmp_path / "SMPLX_NEUTRAL.npz").write_bytes(b"not a zip file")
    body = SmplxBody(tmp_path)
    with pytest.raises(ValueError, match="not a usable SMPL-X model file"):
        body.skeleton(np.zeros(10))


def test_pelvis_lands_at_transl_plus_rest_pelvis_whatever_the_orientation(model_dir):
    body = SmplxBody(model_dir)
    betas = np.zeros(10)
    rest_pelvis = body.skeleton(betas).rest_joints[0]
    rng = np.random.default_rng(1)
    frames = 4
    arrays = MotionClip.rest(frames, 30.0).frame_arrays()
    arrays["global_orient"] = rng.normal(size=(frames, 3))
    arrays["transl"] = rng.normal(size=(frames, 3))
    motion = MotionClip(fps=30.0, betas=betas, **arrays)
    posed = body.pose(motion)
    np.testing.assert_allclose(posed.joints[:, 0], motion.transl + rest_pelvis, atol=1e-5)
    # global_orient rotates every joint about the pelvis
    rest_offsets = body.skeleton(betas).rest_joints - rest_pelvis
    rotations = axis_angle_to_matrix(motion.global_orient)
    expected = np.einsum("tij,nj->tni", rotations, rest_offsets) + posed.joints[:, :1]
    np.testing.assert_allclose(posed.joints, expected, atol=1e-5)
    assert posed.joints_valid.all()
    assert posed.mesh.frame_vertices.shape == (frames, 10_000, 3)


def test_upright_orientation_stands_along_world_z(model_dir):
    body = SmplxBody(model_dir)
    arrays = MotionClip.rest(1, 30.0).frame_arrays()
    arrays["global_orient"] = matrix_to_axis_angle(WORLD_FROM_NATIVE)[None]
    posed = body.pose(MotionClip(fps=30.0, betas=np.zeros(10), **arrays))
    head, pelvis, ankle = posed.joints[0, 15], posed.joints[0, 0], posed.joints[0, 7]
    assert head[2] - pelvis[2] > 0.4 and pelvis[2] - ankle[2] > 0.7
