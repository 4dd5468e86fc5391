"""Kinematic building blocks of the procedural generators: FK convention, leg IK, pelvis ceiling, feet."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from worldclips.motions.conventions import NUM_JOINTS, body_orientation_for_heading
from worldclips.motions.feet import ball_pivot, clearance_height, foot_rotation, heel_pivot, pivot_ankle
from worldclips.motions.generated import assemble_motion
from worldclips.motions.ik import max_pelvis_height, smooth_ceiling, two_bone_ik
from worldclips.motions.kinematics import forward_kinematics, frame_from_vectors, rotvec_to_matrix
from worldclips.motions.mannequin_body import MannequinBody
from worldclips.motions.rig import Rig


@pytest.fixture(scope="module")
def body() -> MannequinBody:
    return MannequinBody()


def test_forward_kinematics_matches_mannequin(body):
    """Our FK on the Skeleton and the MotionClip assembly agree with mannequin-x's own FK."""
    rng = np.random.default_rng(0)
    betas = rng.normal(size=10)
    skeleton = body.skeleton(betas)
    frames = 4
    local = rotvec_to_matrix(rng.normal(scale=0.4, size=(frames, NUM_JOINTS, 3)))
    tilt = rotvec_to_matrix(rng.normal(scale=0.2, size=(frames, 3)))
    pelvis_rotation = body_orientation_for_heading(rng.uniform(-3, 3, frames)) @ tilt
    pelvis = rng.uniform(-2.0, 2.0, (frames, 3))
    _, ours = forward_kinematics(skeleton.rest_joints, pelvis_rotation, pelvis, local)
    motion = assemble_motion(skeleton.rest_joints, betas, 30.0, pelvis_rotation, pelvis, local)
    posed = body.pose(motion)
    valid = posed.joints_valid
    np.testing.assert_allclose(ours[:, valid], posed.joints[:, valid], atol=2e-5)


def test_rotvec_to_matrix_matches_scipy():
    rotvec = np.random.default_rng(1).normal(size=(50, 3))
    rotvec[0] = 0.0
    np.testing.assert_allclose(rotvec_to_matrix(rotvec), Rotation.from_rotvec(rotvec).as_matrix(), atol=1e-12)


def test_frame_from_vectors_is_a_rotation():
    rng = np.random.default_rng(2)
    frames = frame_from_vectors(rng.normal(size=(20, 3)), rng.normal(size=(20, 3)))
    np.testing.assert_allclose(frames @ np.swapaxes(frames, -1, -2), np.broadcast_to(np.eye(3), (20, 3, 3)), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(frames), 1.0)


def test_two_bone_ik_reaches_targets_with_the_knee_forward():
    rng = np.random.default_rng(3)
    thigh_rest, shin_rest = np.array([0.05, -0.38, -0.01]), np.array([-0.04, -0.40, -0.03])
    hip = rng.uniform(-1.0, 1.0, (200, 3)) + np.array([0.0, 0.0, 0.9])
    direction = rng.normal(size=(200, 3)) * np.array([0.4, 0.4, 0.1]) + np.array([0.0, 0.0, -1.0])
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    target = hip + rng.uniform(0.3, 0.75, (200, 1)) * direction
    forward = np.array([1.0, 0.0, 0.0])
    thigh, shin = two_bone_ik(hip, target, np.broadcast_to(forward, (200, 3)), thigh_rest, shin_rest)
    knee = hip + thigh @ thigh_rest
    np.testing.assert_allclose(knee + shin @ shin_rest, target, atol=1e-9)
    along = (target - hip) / np.linalg.norm(target - hip, axis=1, keepdims=True)
    off_line = (knee - hip) - np.sum((knee - hip) * along, axis=1, keepdims=True) * along
    assert np.all(off_line @ forward > 0)
    # the knee hinge stays the body's left-right axis: the knee's local rotation is about native X
    knee_local = Rotation.from_matrix(np.swapaxes(thigh, -1, -2) @ shin).as_rotvec()
    rest_bend = Rotation.align_vectors(shin_rest[None], thigh_rest[None])[0].as_rotvec()
    assert np.abs(knee_local[:, 1:]).max() < np.abs(rest_bend).max() + 1e-6


def test_pelvis_ceiling_is_never_exceeded():
    rng = np.random.default_rng(4)
    desired = 0.9 + 0.02 * np.sin(np.linspace(0, 12, 300))
    ceiling = 0.88 + 0.05 * np.sin(np.linspace(0, 30, 300)) + 0.01 * rng.normal(size=300)
    out = smooth_ceiling(desired, ceiling, radius=5)
    assert np.all(out <= ceiling + 1e-12) and np.all(out <= desired)
    free = smooth_ceiling(desired, desired + 1.0, radius=5)
    np.testing.assert_array_equal(free, desired)
    assert np.abs(np.diff(out, 2)).max() < np.abs(np.diff(np.minimum(desired, ceiling), 2)).max()


def test_max_pelvis_height_makes_legs_just_reach():
    pelvis_z = np.array([1.0])
    hip = np.array([[[0.1, 0.1, 0.9], [0.1, -0.1, 0.9]]])
    ankle = np.array([[[0.4, 0.1, 0.08], [-0.2, -0.1, 0.08]]])
    reach = np.array([0.8, 0.8])
    top = max_pelvis_height(pelvis_z, hip, ankle, reach)[0]
    lowered = hip + np.array([0.0, 0.0, top - 1.0])
    assert np.linalg.norm(lowered - ankle, axis=-1).max() == pytest.approx(0.8)


def test_foot_pivots_stay_on_the_ground(body):
    rig = Rig.from_skeleton(body.skeleton(np.random.default_rng(5).normal(size=10)))
    flat = np.array([[1.0, 2.0, rig.ankle_height[0]]] * 4)
    yaw, pitch = np.array([0.0, 1.0, 2.0, -2.5]), np.array([0.3, -0.2, 0.6, 0.1])
    for pivot in (heel_pivot(rig, 0), ball_pivot(rig, 0)):
        flat_point = flat + np.einsum("nij,j->ni", foot_rotation(yaw, 0 * pitch), pivot)
        moved = pivot_ankle(flat, yaw, pitch, pivot)
        rolled_point = moved + np.einsum("nij,j->ni", foot_rotation(yaw, pitch), pivot)
        np.testing.assert_allclose(rolled_point, flat_point, atol=1e-12)
    np.testing.assert_allclose(clearance_height(rig, 0, np.zeros(3), np.zeros(3)), rig.ankle_height[0])
    # heel up with toes kept flat: the ankle is exactly where the ball pivot puts it
    heel_up = pivot_ankle(flat[:1], yaw[:1], np.array([0.5]), ball_pivot(rig, 0))
    assert clearance_height(rig, 0, np.array([0.5]), np.array([-0.5]))[0] == pytest.approx(heel_up[0, 2])
