"""CPU-side geometry preparation for the raster backend (numpy only, no GL).

Vertex normals of meshes without them (bodies), texture coordinates for bodies, conservative
per-frame bounding boxes used to fit the sun's shadow map, the closed-surface test that allows
back-face culling, and the simplified body copies that cast the sun's shadow.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

from worldclips.motions.body import SkinnedMesh, VertexAnimatedMesh
from worldclips.scenes.scene import Character, SceneObject


class VertexNormals:
    """Area-weighted vertex normals of a fixed triangle topology, reusable for many poses.

    The vertex-face incidence is a sparse (V, F) matrix built once; each call is one sparse product.
    """

    def __init__(self, faces: np.ndarray, num_vertices: int) -> None:
        faces = np.asarray(faces, dtype=np.int64)
        if faces.ndim != 2 or faces.shape[1] != 3:
            raise ValueError(f"faces: expected shape (F, 3), got {faces.shape}")
        if faces.size and (faces.min() < 0 or faces.max() >= num_vertices):
            raise ValueError("faces: index out of range of the vertices")
        self._faces = faces
        rows = faces.reshape(-1)
        cols = np.repeat(np.arange(len(faces)), 3)
        data = np.ones(len(rows), dtype=np.float64)
        self._incidence = scipy.sparse.csr_matrix((data, (rows, cols)), shape=(num_vertices, len(faces)))

    def __call__(self, vertices: np.ndarray) -> np.ndarray:
        """(V, 3) vertices -> (V, 3) float32 unit normals (+Z for vertices in no face)."""
        v = np.asarray(vertices, dtype=np.float64)
        a, b, c = v[self._faces[:, 0]], v[self._faces[:, 1]], v[self._faces[:, 2]]
        face_normals = np.cross(b - a, c - a)  # length = twice the area: area weighting
        normals = self._incidence @ face_normals
        length = np.linalg.norm(normals, axis=1, keepdims=True)
        degenerate = length[:, 0] < 1e-20
        normals = normals / np.where(degenerate[:, None], 1.0, length)
        normals[degenerate] = (0.0, 0.0, 1.0)
        return normals.astype(np.float32)


def body_uvs(vertices: np.ndarray, up_axis: int) -> np.ndarray:
    """(V, 3) reference-pose vertices -> (V, 2) float32 uvs in metres for body patterns.

    Bodies carry no texture coordinates; patterns are laid out on the reference pose (the bind
    pose of a skinned mesh, native Y-up: up_axis=1; the first frame of a vertex-animated mesh,
    world Z-up: up_axis=2) with u across the body (sum of the two other axes) and v along its height.
    """
    v = np.asarray(vertices, dtype=np.float64)
    across = [axis for axis in range(3) if axis != up_axis]
    return np.stack([v[:, across[0]] + v[:, across[1]], v[:, up_axis]], axis=1).astype(np.float32)


def outfit_tint(character: Character, num_vertices: int) -> np.ndarray:
    """(V, 5) float32 per body vertex: linear RGB, roughness and pattern flag of its region in the
    character's outfit (scenes.outfits), from the body's vertex regions."""
    regions = character.body.vertex_regions
    if regions is None:
        raise ValueError(f"Character {character.name!r}: an outfit needs a body with vertex regions")
    regions = np.asarray(regions)
    if regions.shape != (num_vertices,):
        raise ValueError(f"Character {character.name!r}: vertex_regions has shape {regions.shape}, the mesh {num_vertices} vertices")
    return character.outfit.region_albedo()[regions]


def _box_corners(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """(..., 3) lower and upper corners -> (..., 8, 3) box corners."""
    select = np.array([[i & 1, (i >> 1) & 1, (i >> 2) & 1] for i in range(8)], dtype=bool)
    return np.where(select, hi[..., None, :], lo[..., None, :])


def outside_view(bounds: np.ndarray, clip_from_world: np.ndarray) -> np.ndarray:
    """(T,) bool: the (T, 2, 3) world box lies entirely outside one plane of the (T, 4, 4) clip volume.

    Conservative: a box that is reported outside cannot cover any pixel.
    """
    corners = _box_corners(bounds[:, 0], bounds[:, 1])  # (T, 8, 3)
    clip = np.einsum("tij,tcj->tci", clip_from_world[:, :, :3], corners) + clip_from_world[:, None, :, 3]
    w = clip[..., 3]
    outside = np.zeros(len(bounds), dtype=bool)
    for axis in range(3):
        outside |= np.all(clip[..., axis] > w, axis=1) | np.all(clip[..., axis] < -w, axis=1)
    return outside


def object_bounds(obj: SceneObject) -> np.ndarray:
    """(T, 2, 3) world axis-aligned bounds (min, max) of a rigid object in every frame."""
    vertices = np.asarray(obj.mesh.vertices, dtype=np.float64)
    corners = _box_corners(vertices.min(axis=0), vertices.max(axis=0))  # (8, 3)
    pose = np.asarray(obj.world_from_object, dtype=np.float64)
    world = np.einsum("tij,cj->tci", pose[:, :3, :3], corners) + pose[:, None, :3, 3]
    return np.stack([world.min(axis=1), world.max(axis=1)], axis=1)


def skinned_bounds(mesh: SkinnedMesh) -> np.ndarray:
    """(T, 2, 3) conservative world bounds of a linear-blend-skinned mesh in every frame.

    Each bone's bind-space box holds the rest vertices it influences; a skinned vertex is a convex
    combination of its bones' transforms of it, so it lies inside the union of the transformed boxes.
    """
    rest = np.asarray(mesh.rest_vertices, dtype=np.float64)
    bones = np.asarray(mesh.bone_matrices, dtype=np.float64)  # (T, B, 4, 4)
    num_bones = bones.shape[1]
    indices = np.asarray(mesh.joint_indices).reshape(-1)
    influenced = (np.asarray(mesh.joint_weights) > 0).reshape(-1)
    vertex = np.repeat(np.arange(len(rest)), np.asarray(mesh.joint_indices).shape[1])[influenced]
    bone = indices[influenced]
    order = np.argsort(bone, kind="stable")
    bone, points = bone[order], rest[vertex[order]]
    starts = np.nonzero(np.r_[True, bone[1:] != bone[:-1]])[0] if len(bone) else np.zeros(0, dtype=np.int64)
    lo = np.full((num_bones, 3), np.inf)
    hi = np.full((num_bones, 3), -np.inf)
    if len(starts):
        lo[bone[starts]] = np.minimum.reduceat(points, starts, axis=0)
        hi[bone[starts]] = np.maximum.reduceat(points, starts, axis=0)
    used = np.isfinite(lo[:, 0])
    corners = _box_corners(lo[used], hi[used])  # (B', 8, 3)
    bones = bones[:, used]
    world = np.einsum("tbij,bcj->tbci", bones[..., :3, :3], corners) + bones[:, :, None, :3, 3]
    world = world.reshape(len(bones), -1, 3)
    return np.stack([world.min(axis=1), world.max(axis=1)], axis=1)


def character_bounds(character: Character) -> np.ndarray:
    """(T, 2, 3) world bounds of a character's mesh in every frame."""
    mesh = character.body.mesh
    if isinstance(mesh, SkinnedMesh):
        return skinned_bounds(mesh)
    if isinstance(mesh, VertexAnimatedMesh):
        frames = np.asarray(mesh.frame_vertices, dtype=np.float64)
        return np.stack([frames.min(axis=1), frames.max(axis=1)], axis=1)
    raise TypeError(f"character {character.name!r}: unsupported body mesh type {type(mesh).__name__}")


def is_closed(vertices: np.ndarray, faces: np.ndarray, weld_m: float = 1e-6) -> bool:
    """True when the surface is closed and consistently oriented (vertices welded by position).

    Every directed edge (a, b) must occur as often as its reverse (b, a): the faces then bound
    solid pieces without holes (pieces may touch at edges or corners). Only such meshes may be
    drawn with back faces culled: seen from outside every mesh, the first surface a ray meets is
    a front face, so culling changes nothing in the images. Positions closer than weld_m merge.
    """
    f = np.asarray(faces, dtype=np.int64)
    if len(f) == 0:
        return False
    if _edges_balance(f):
        return True
    grid = np.round(np.asarray(vertices, dtype=np.float64) / weld_m).astype(np.int64)  # seams: weld by position
    _, weld = np.unique(np.ascontiguousarray(grid).view(np.dtype((np.void, 24))).reshape(-1), return_inverse=True)
    return _edges_balance(weld.reshape(-1)[f])


def _edges_balance(f: np.ndarray) -> bool:
    """Each directed edge of the (F, 3) faces occurs as often as its reverse.

    Degenerate faces (a repeated vertex, zero area: never rasterized) are left out.
    """
    f = f[(f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 2] != f[:, 0])]
    if len(f) == 0:
        return False
    n = int(f.max()) + 1
    tails, heads = f.reshape(-1), f[:, [1, 2, 0]].reshape(-1)
    return bool(np.array_equal(np.sort(tails * n + heads), np.sort(heads * n + tails)))


def shadow_proxy(vertices: np.ndarray, faces: np.ndarray, cell_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Vertex-clustering simplification of a body mesh for the shadow pass only (never for ground truth).

    Vertices are grouped in cubic cells of cell_m; each cell keeps its vertex nearest the cell's
    centroid (a real vertex, so it keeps its own skin weights). Returns (R,) indices of the kept
    vertices and (F', 3) faces over them (degenerate and repeated triangles dropped).
    """
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    keys = np.floor(v / cell_m).astype(np.int64)
    keys -= keys.min(axis=0)
    span = keys.max(axis=0) + 1
    _, labels = np.unique((keys[:, 0] * span[1] + keys[:, 1]) * span[2] + keys[:, 2], return_inverse=True)
    labels = labels.reshape(-1)
    clusters = int(labels.max()) + 1
    counts = np.bincount(labels, minlength=clusters)[:, None]
    centroids = np.stack([np.bincount(labels, v[:, k], clusters) for k in range(3)], axis=1) / counts
    distance = np.linalg.norm(v - centroids[labels], axis=1)
    order = np.lexsort((distance, labels))
    first = np.ones(len(order), dtype=bool)
    first[1:] = labels[order][1:] != labels[order][:-1]
    representatives = order[first]  # one per label, in label order
    proxy = labels[f]
    proxy = proxy[(proxy[:, 0] != proxy[:, 1]) & (proxy[:, 1] != proxy[:, 2]) & (proxy[:, 2] != proxy[:, 0])]
    _, keep = np.unique(np.sort(proxy, axis=1), axis=0, return_index=True)
    return representatives, proxy[np.sort(keep)]
