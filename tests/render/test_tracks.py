"""Point tracks against independent computation: projection by hand, rigid motion of props, the
rendered depth and segmentation where visible, and the raster's optical flow between frames."""

from __future__ import annotations

import numpy as np
import pytest

from worldclips.render.tracks import TRACK_KINDS, point_tracks
from tests.render import scene_builders as sb
from tests.render.test_surface_layers import FRAMES, HEIGHT, WIDTH, _moving_scene


@pytest.fixture(scope="module")
def clip_and_tracks(gl_context):
    from worldclips.render.raster import RasterRenderer

    person = sb.mannequin_character(20, frames=FRAMES, position=(0.2, 0.4), heading=2.0)
    scene = _moving_scene(person)
    renderer = RasterRenderer.from_context(gl_context, WIDTH, HEIGHT, supersample=1)
    try:
        clip = renderer.render(scene, surface_layers=True)
    finally:
        renderer.release()
    return scene, clip, point_tracks(scene, clip.depth, clip.segmentation, 90, seed=[5, 1])


def test_tracks_are_the_projection_of_their_world_points(clip_and_tracks):
    scene, _, tracks = clip_and_tracks
    assert tracks.tracks.shape == (90, FRAMES, 2) and tracks.points_world.shape == (90, FRAMES, 3)
    for t in range(FRAMES):
        uv, z = sb.project(scene.camera, tracks.points_world[:, t].astype(np.float64), t)
        np.testing.assert_allclose(tracks.tracks[:, t], uv, atol=2e-3)


def test_kinds_are_balanced_and_every_track_is_seen_once(clip_and_tracks):
    _, _, tracks = clip_and_tracks
    counts = np.bincount(tracks.kinds, minlength=len(TRACK_KINDS))
    assert list(counts) == [30, 30, 30], counts
    assert tracks.visible.any(axis=1).all()
    first = tracks.visible.argmax(axis=1)
    np.testing.assert_array_equal(tracks.query_points[:, 0], first)
    np.testing.assert_array_equal(tracks.query_points[:, 1], tracks.tracks[np.arange(90), first, 1])


def test_prop_tracks_follow_the_rigid_motion(clip_and_tracks):
    scene, _, tracks = clip_and_tracks
    poses = {o.instance_id: np.asarray(o.world_from_object) for o in scene.objects}
    on_box = np.isin(tracks.instance_ids, [2, 3, 4])  # the props, the moving box among them
    assert on_box.sum() >= 20 and (tracks.instance_ids == 4).any()
    for point, instance in zip(tracks.points_world[on_box], tracks.instance_ids[on_box]):
        pose = poses[int(instance)]
        local = np.linalg.inv(pose[0]) @ np.append(point[0], 1.0)
        for t in range(FRAMES):
            np.testing.assert_allclose(point[t], (pose[t] @ local)[:3], atol=1e-5)


def test_visible_points_lie_on_their_rendered_surface(clip_and_tracks):
    scene, clip, tracks = clip_and_tracks
    for t in range(FRAMES):
        seen = tracks.visible[:, t]
        column = np.rint(tracks.tracks[seen, t, 0]).astype(int)
        row = np.rint(tracks.tracks[seen, t, 1]).astype(int)
        np.testing.assert_array_equal(clip.segmentation[t][row, column], tracks.instance_ids[seen])
        _, z = sb.project(scene.camera, tracks.points_world[seen, t].astype(np.float64), t)
        # the depth interpolated between the four pixel centres around the point, where they all
        # show its instance, is the point's own depth (planar z is linear across a flat triangle)
        x, y = tracks.tracks[seen, t, 0].astype(np.float64), tracks.tracks[seen, t, 1].astype(np.float64)
        x0 = np.clip(np.floor(x).astype(int), 0, WIDTH - 2)
        y0 = np.clip(np.floor(y).astype(int), 0, HEIGHT - 2)
        fx, fy = x - x0, y - y0
        corners = [(y0, x0), (y0, x0 + 1), (y0 + 1, x0), (y0 + 1, x0 + 1)]
        same = np.all([clip.segmentation[t][r, c] == tracks.instance_ids[seen] for r, c in corners], axis=0)
        d = [clip.depth[t][r, c].astype(np.float64) for r, c in corners]
        bilinear = (d[0] * (1 - fx) + d[1] * fx) * (1 - fy) + (d[2] * (1 - fx) + d[3] * fx) * fy
        assert same.sum() > 10 and np.median(np.abs(bilinear - z)[same] / z[same]) < 0.002
    hidden = ~tracks.visible
    assert hidden.any(), "the moving camera and props hide some points"


def test_tracks_agree_with_the_optical_flow(clip_and_tracks):
    """Where a point is visible in frames 0 and 1 and sits inside a surface, the flow at its nearest
    pixel moves that pixel as the track moves the point (to within the sub-pixel offset)."""
    _, clip, tracks = clip_and_tracks
    both = tracks.visible[:, 0] & tracks.visible[:, 1]
    column = np.rint(tracks.tracks[both, 0, 0]).astype(int)
    row = np.rint(tracks.tracks[both, 0, 1]).astype(int)
    interior = sb.interior_mask(clip.depth[0], clip.segmentation[0])[row, column]
    flow = clip.surface.flow_forward[0][row, column]
    motion = tracks.tracks[both, 1] - tracks.tracks[both, 0]
    error = np.linalg.norm(flow - motion, axis=1)[interior]
    assert interior.sum() > 10 and np.median(error) < 0.05, (interior.sum(), np.median(error))


def test_same_seed_same_tracks(clip_and_tracks):
    scene, clip, tracks = clip_and_tracks
    again = point_tracks(scene, clip.depth, clip.segmentation, 90, seed=[5, 1])
    np.testing.assert_array_equal(again.tracks, tracks.tracks)
    other = point_tracks(scene, clip.depth, clip.segmentation, 90, seed=[6, 1])
    assert not np.array_equal(other.tracks, tracks.tracks)
