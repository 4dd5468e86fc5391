"""Conventions module against hand computation."""

import numpy as np
import pytest

from worldclips.motions import conventions as cv


def test_look_at_puts_target_on_the_optical_axis_and_up_is_image_up():
    eye, target = np.array([3.0, -4.0, 1.5]), np.array([0.0, 0.0, 1.0])
    cam_from_world = cv.look_at_cam_from_world(eye, target)
    target_cam = cam_from_world[:3, :3] @ target + cam_from_world[:3, 3]
    np.testing.assert_allclose(target_cam[:2], 0.0, atol=1e-12)
    assert target_cam[2] == pytest.approx(np.linalg.norm(target - eye))
    above = cam_from_world[:3, :3] @ (target + [0, 0, 1]) + cam_from_world[:3, 3]
    assert above[1] < 0  # world up is image up (OpenCV +Y is down)
    eye_cam = cam_from_world[:3, :3] @ eye + cam_from_world[:3, 3]
    np.testing.assert_allclose(eye_cam, 0.0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(cam_from_world[:3, :3]), 1.0)


def test_project_points_by_hand():
    K = np.array([[500.0, 0.0, 320.0], [0.0, 400.0, 240.0], [0.0, 0.0, 1.0]])
    cam_from_world = np.eye(4)
    cam_from_world[:3, 3] = [0.1, -0.2, 0.5]
    points = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, -1.0]])
    uv, z = cv.project_points(K, cam_from_world, points)
    x, y, depth = 1.1, 1.8, 3.5
    np.testing.assert_allclose(uv[0], [500 * x / depth + 320, 400 * y / depth + 240])
    assert z[0] == pytest.approx(3.5)
    np.testing.assert_array_equal(uv[1], [cv.PROJECTION_UNDEFINED] * 2)


def test_gl_clip_maps_pixel_centres_to_fragment_centres():
    width, height = 37, 23
    K = cv.intrinsics(30.0, width, height)
    clip_from_cam = cv.gl_clip_from_cam(K, width, height, 0.1, 100.0)
    for u, v in [(0, 0), (36, 22), (10.0, 7.0)]:
        z = 2.5
        point = np.array([(u - K[0, 2]) * z / K[0, 0], (v - K[1, 2]) * z / K[1, 1], z, 1.0])
        clip = clip_from_cam @ point
        ndc = clip[:3] / clip[3]
        window = ((ndc[0] + 1) / 2 * width, (ndc[1] + 1) / 2 * height)
        np.testing.assert_allclose(window, (u + 0.5, v + 0.5), atol=1e-9)
    near = clip_from_cam @ [0, 0, 0.1, 1]
    far = clip_from_cam @ [0, 0, 100.0, 1]
    assert near[2] / near[3] == pytest.approx(-1) and far[2] / far[3] == pytest.approx(1)


def test_body_orientation_faces_heading_and_stands_up():
    for heading in np.linspace(-np.pi, np.pi, 7):
        rotation = cv.body_orientation_for_heading(heading)
        np.testing.assert_allclose(rotation @ [0, 0, 1], [np.cos(heading), np.sin(heading), 0], atol=1e-12)
        np.testing.assert_allclose(rotation @ [0, 1, 0], [0, 0, 1], atol=1e-12)


def test_axis_angle_round_trip_and_invert_rigid():
    rng = np.random.default_rng(0)
    axis_angle = rng.normal(size=(10, 3))
    axis_angle *= np.minimum(1.0, 3.0 / np.linalg.norm(axis_angle, axis=1, keepdims=True))
    np.testing.assert_allclose(cv.matrix_to_axis_angle(cv.axis_angle_to_matrix(axis_angle)), axis_angle, atol=1e-12)
    transform = cv.make_transform(cv.axis_angle_to_matrix(axis_angle), rng.normal(size=(10, 3)))
    np.testing.assert_allclose(cv.invert_rigid(transform) @ transform, np.broadcast_to(np.eye(4), (10, 4, 4)), atol=1e-12)
