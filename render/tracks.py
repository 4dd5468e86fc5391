"""Long-term point tracks (TAP-Vid layout) from the scene's geometry and the rendered depth.

Points are sampled on the surfaces (uniformly by area: a triangle and barycentric weights) of
people, props and scenery; each point is then placed in every frame from the same triangle's
vertices in that frame (the skinned body, or the prop's rigid pose), projected with that frame's
camera, and called visible where it is in front of the camera, inside the image, and the rendered
segmentation at its nearest pixel shows its own instance at its depth (within the tolerance of
``render.surface_layers``). Only points visible in at least one frame are kept, a third of them on
each kind where the clip has enough. Independent of the backend: it needs the Scene and the
rendered depth and segmentation only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worldclips.motions.body import SkinnedMesh
from worldclips.render.surface_layers import depth_slack, in_front_of, landing_pixels
from worldclips.scenes.scene import Scene

TRACK_KINDS = ("person", "prop", "scenery")  # kinds[i] indexes this tuple
SCENERY_CATEGORIES = frozenset({"ground", "wall", "floor", "ceiling", "window", "skirting", "lamp"})
CANDIDATES_PER_TRACK = 4  # points drawn per wanted track and kind in the first round
CANDIDATE_ROUNDS = 6  # rounds of draws, each twice the last, while too few points are visible


@dataclass(frozen=True, eq=False)
class PointTracks:
    """N tracked surface points of a T-frame clip.

    query_points: (N, 3) float32 (t, y, x): the first frame where the point is visible, and its
        pixel position there (TAP-Vid's "query first" order).
    tracks: (N, T, 2) float32 (x, y) pixel positions in every frame (also while hidden; in a frame
        where the point is behind the camera they are not a projection, and it is not visible).
    visible: (N, T) bool.
    points_world: (N, T, 3) float32 world positions (metres).
    instance_ids: (N,) uint16 the instance the point lies on; kinds: (N,) uint8 index into TRACK_KINDS.
    """

    query_points: np.ndarray
    tracks: np.ndarray
    visible: np.ndarray
    points_world: np.ndarray
    instance_ids: np.ndarray
    kinds: np.ndarray


@dataclass(frozen=True, eq=False)
class _Surface:
    instance_id: int
    kind: int
    faces: np.ndarray  # (F, 3)
    first_frame_vertices: np.ndarray  # (V, 3) world positions in frame 0
    place: object  # (face indices (n,), weights (n, 3)) -> (T, n, 3) world positions


def _triangle_areas(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    triangles = vertices[faces]
    return 0.5 * np.linalg.norm(np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0]), axis=1)


def _uniform_barycentric(rng: np.random.Generator, count: int) -> np.ndarray:
    r1, r2 = rng.random(count), rng.random(count)
    s = np.sqrt(r1)
    return np.stack([1.0 - s, s * (1.0 - r2), s * r2], axis=1)


def _rigid_surface(obj, frames: int) -> _Surface:
    vertices = np.asarray(obj.mesh.vertices, np.float64)
    faces = np.asarray(obj.mesh.faces, np.int64)
    poses = np.asarray(obj.world_from_object, np.float64)[:frames]

    def place(face_index, weights):
        local = np.einsum("nk,nkj->nj", weights, vertices[faces[face_index]])
        return np.einsum("tij,nj->tni", poses[:, :3, :3], local) + poses[:, None, :3, 3]

    kind = TRACK_KINDS.index("scenery" if obj.category in SCENERY_CATEGORIES else "prop")
    first = vertices @ poses[0, :3, :3].T + poses[0, :3, 3]
    return _Surface(int(obj.instance_id), kind, faces, first, place)


def _body_surface(character, frames: int) -> _Surface:
    mesh = character.body.mesh
    faces = np.asarray(mesh.faces, np.int64)

    def place(face_index, weights):
        corners = faces[face_index]  # (n, 3)
        used, inverse = np.unique(corners, return_inverse=True)
        if isinstance(mesh, SkinnedMesh):  # linear blend skinning of the used vertices only
            bones = np.asarray(mesh.bone_matrices, np.float64)[:frames][:, np.asarray(mesh.joint_indices)[used]]
            blended = np.einsum("vk,tvkij->tvij", np.asarray(mesh.joint_weights, np.float64)[used], bones)
            rest = np.asarray(mesh.rest_vertices, np.float64)[used]
            posed = np.einsum("tvij,vj->tvi", blended[..., :3, :3], rest) + blended[..., :3, 3]
        else:
            posed = np.asarray(mesh.frame_vertices, np.float64)[:frames][:, used]
        return np.einsum("nk,tnkj->tnj", weights, posed[:, inverse.reshape(corners.shape)])

    return _Surface(int(character.instance_id), TRACK_KINDS.index("person"), faces, mesh.vertices(0), place)


def _candidates(surfaces: list[_Surface], count: int, rng: np.random.Generator):
    """``count`` points uniform by area over the surfaces: (surface index, face, weights) arrays."""
    areas = [_triangle_areas(s.first_frame_vertices, s.faces) for s in surfaces]
    totals = np.array([a.sum() for a in areas])
    if count == 0 or totals.sum() <= 0:
        return []
    per_surface = rng.multinomial(count, totals / totals.sum())
    picks = []
    for index, (surface, area, n) in enumerate(zip(surfaces, areas, per_surface)):
        if n:
            faces = rng.choice(len(area), size=n, p=area / area.sum())
            picks.append((index, faces, _uniform_barycentric(rng, n)))
    return picks


def _project(points: np.ndarray, K: np.ndarray, cam_from_world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, n, 3) world points -> ((T, n, 2) pixels, (T, n) planar depth), camera by frame."""
    cam = np.einsum("tij,tnj->tni", cam_from_world[:, :3, :3], points) + cam_from_world[:, None, :3, 3]
    z = cam[..., 2]
    safe = np.where(z > 1e-9, z, 1.0)[..., None]
    pixels = np.einsum("tij,tnj->tni", K, cam / safe)[..., :2]
    return pixels, z


def _visibility(pixels, z, instance, depth, segmentation, near, slack) -> np.ndarray:
    frames, height, width = depth.shape
    column, row, inside = landing_pixels(pixels, width, height)
    t = np.arange(frames)[:, None]
    own = segmentation[t, row, column] == instance[None, :]
    hidden = in_front_of(depth[t, row, column].astype(np.float64), z, slack[t, row, column])
    return inside & (z > near) & own & ~hidden


def _visible_candidates(surfaces, wanted, most, rng, K, cam_from_world, depth, segmentation, near, slack) -> list[tuple]:
    """Candidate points of one kind visible in some frame, in random order: rounds of area-uniform
    draws, each twice the last, until ``wanted`` are found (large scenery is mostly out of view)."""
    rows: list[tuple] = []
    for round_index in range(CANDIDATE_ROUNDS):
        if len(rows) >= wanted:
            break
        draws = CANDIDATES_PER_TRACK * wanted * 2**round_index
        for index, faces, weights in _candidates(surfaces, draws, rng):
            surface = surfaces[index]
            points = surface.place(faces, weights)  # (T, n, 3)
            pixels, z = _project(points, K, cam_from_world)
            ids = np.full(points.shape[1], surface.instance_id)
            visible = _visibility(pixels, z, ids, depth, segmentation, near, slack)
            for n in np.nonzero(visible.any(axis=0))[0][: most - len(rows)]:
                rows.append((points[:, n], pixels[:, n], visible[:, n], surface.instance_id, surface.kind))
    return [rows[i] for i in rng.permutation(len(rows))]


def point_tracks(scene: Scene, depth: np.ndarray, segmentation: np.ndarray, count: int, seed) -> PointTracks:
    """Up to ``count`` tracks visible in at least one frame; ``seed``: an int or a sequence of ints
    (numpy SeedSequence entropy), so that the same clip always gets the same points."""
    frames = int(depth.shape[0])
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    camera = scene.camera
    K = np.asarray(camera.K, np.float64)[:frames]
    cam_from_world = np.asarray(camera.cam_from_world, np.float64)[:frames]
    surfaces = [_rigid_surface(o, frames) for o in scene.objects if len(o.mesh.faces)]
    surfaces += [_body_surface(c, frames) for c in scene.characters]
    wanted = np.full(len(TRACK_KINDS), count // len(TRACK_KINDS))
    wanted[: count % len(TRACK_KINDS)] += 1
    slack = depth_slack(depth, segmentation)
    kept = [_visible_candidates([s for s in surfaces if s.kind == kind], int(wanted[kind]), count, rng, K,
                                cam_from_world, depth, segmentation, camera.near, slack)
            for kind in range(len(TRACK_KINDS))]  # fmt: skip
    # a third of the tracks on each kind; a kind with too few visible points leaves its share to the others
    chosen = [rows[: int(w)] for rows, w in zip(kept, wanted)]
    spare = count - sum(len(c) for c in chosen)
    for kind, rows in enumerate(kept):
        extra = rows[len(chosen[kind]) : len(chosen[kind]) + spare]
        chosen[kind] = chosen[kind] + extra
        spare -= len(extra)
    rows = [row for rows in chosen for row in rows]
    n = len(rows)
    points_world = np.array([r[0] for r in rows], np.float32).reshape(n, frames, 3)
    tracks = np.array([r[1] for r in rows], np.float32).reshape(n, frames, 2)
    visible = np.array([r[2] for r in rows], bool).reshape(n, frames)
    first = visible.argmax(axis=1)
    query = np.zeros((n, 3), np.float32)
    query[:, 0] = first
    query[:, 1] = tracks[np.arange(n), first, 1]
    query[:, 2] = tracks[np.arange(n), first, 0]
    return PointTracks(
        query_points=query,
        tracks=tracks,
        visible=visible,
        points_world=points_world,
        instance_ids=np.array([r[3] for r in rows], np.uint16),
        kinds=np.array([r[4] for r in rows], np.uint8),
    )
