"""Test-scene geometry for the raster backend: meshes, objects, cameras, a posed mannequin, and a
reference ray caster (trimesh) that gives planar depth and instance ids through pixel centres."""

from __future__ import annotations

import dataclasses

import numpy as np
import trimesh

from worldclips.motions.conventions import (
    body_orientation_for_heading,
    intrinsics,
    invert_rigid,
    look_at_cam_from_world,
    make_transform,
    matrix_to_axis_angle,
    project_points,
    rotation_z,
)
from worldclips.scenes.scene import CameraTrack, Character, Lighting, Material, Scene, SceneObject, TriangleMesh

GREY = Material(base_color=(0.5, 0.5, 0.5))
LIGHTING = Lighting(
    sun_direction=tuple(np.array([0.4, -0.3, 0.85]) / np.linalg.norm([0.4, -0.3, 0.85])),
    sun_color=(1.0, 0.95, 0.9),
    sky_color=(0.3, 0.35, 0.45),
    ground_color=(0.15, 0.13, 0.1),
)
SKY = (0.3, 0.5, 0.8)

# (axis, sign) -> tangent axes (b, c) with e_b x e_c = sign * e_axis (counter-clockwise from outside)
_BOX_FACES = {(0, 1): (1, 2), (0, -1): (2, 1), (1, 1): (2, 0), (1, -1): (0, 2), (2, 1): (0, 1), (2, -1): (1, 0)}


def box_mesh(size=(1.0, 1.0, 1.0)) -> TriangleMesh:
    """A box centred on its origin, flat normals (24 vertices), uvs in metres along each face."""
    half = np.asarray(size, dtype=np.float64) / 2.0
    vertices, normals, uvs, faces = [], [], [], []
    for (axis, sign), (b, c) in _BOX_FACES.items():
        base = len(vertices)
        for sb, sc in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            p = np.zeros(3)
            p[axis], p[b], p[c] = sign * half[axis], sb * half[b], sc * half[c]
            n = np.zeros(3)
            n[axis] = sign
            vertices.append(p)
            normals.append(n)
            uvs.append((p[b], p[c]))
        faces += [(base, base + 1, base + 2), (base, base + 2, base + 3)]
    return TriangleMesh(
        vertices=np.array(vertices, np.float32),
        normals=np.array(normals, np.float32),
        uvs=np.array(uvs, np.float32),
        faces=np.array(faces, np.uint32),
    )


def sphere_mesh(radius: float = 0.5, subdivisions: int = 3) -> TriangleMesh:
    """An icosphere centred on its origin with smooth normals and longitude/latitude uvs in metres."""
    sphere = trimesh.creation.icosphere(subdivisions=subdivisions, radius=radius)
    v = np.asarray(sphere.vertices)
    n = v / np.linalg.norm(v, axis=1, keepdims=True)
    uvs = np.stack([np.arctan2(n[:, 1], n[:, 0]) * radius, np.arccos(np.clip(n[:, 2], -1, 1)) * radius], 1)
    return TriangleMesh(
        vertices=v.astype(np.float32),
        normals=n.astype(np.float32),
        uvs=uvs.astype(np.float32),
        faces=np.asarray(sphere.faces, np.uint32),
    )


def quad_mesh(size_x: float, size_y: float) -> TriangleMesh:
    """A rectangle in the object's z = 0 plane, centred on the origin, facing +z."""
    hx, hy = size_x / 2.0, size_y / 2.0
    v = np.array([[-hx, -hy, 0], [hx, -hy, 0], [hx, hy, 0], [-hx, hy, 0]], np.float32)
    return TriangleMesh(
        vertices=v,
        normals=np.tile(np.array([0, 0, 1], np.float32), (4, 1)),
        uvs=v[:, :2].copy(),
        faces=np.array([[0, 1, 2], [0, 2, 3]], np.uint32),
    )


def rigid_object(instance_id, mesh, world_from_object, frames=1, category="box", material=GREY, name=None):
    """A SceneObject whose pose is one (4, 4) for all frames or (T, 4, 4)."""
    pose = np.asarray(world_from_object, dtype=np.float64)
    if pose.ndim == 2:
        pose = np.broadcast_to(pose, (frames, 4, 4)).copy()
    return SceneObject(
        instance_id=instance_id,
        name=name or f"{category}{instance_id}",
        category=category,
        dynamic=False,
        mesh=mesh,
        material=material,
        world_from_object=pose,
    )


def translation(x, y, z, rotation=None) -> np.ndarray:
    return make_transform(np.eye(3) if rotation is None else rotation, np.array([x, y, z], dtype=np.float64))


def camera(K, cam_from_world, frames=1, near=0.05, far=100.0) -> CameraTrack:
    K = np.asarray(K, dtype=np.float64)
    cam_from_world = np.asarray(cam_from_world, dtype=np.float64)
    if K.ndim == 2:
        K = np.broadcast_to(K, (frames, 3, 3)).copy()
    if cam_from_world.ndim == 2:
        cam_from_world = np.broadcast_to(cam_from_world, (frames, 4, 4)).copy()
    return CameraTrack(K=K, cam_from_world=cam_from_world, near=near, far=far, family="static")


def looking_camera(width, height, eye, target, focal=None, frames=1, **kwargs) -> CameraTrack:
    focal = focal if focal is not None else 0.9 * max(width, height)
    return camera(intrinsics(focal, width, height), look_at_cam_from_world(eye, target), frames, **kwargs)


def project(cam: CameraTrack, points_world: np.ndarray, frame: int = 0):
    """(N, 3) world points -> ((N, 2) pixel coordinates, (N,) planar depth) in one frame."""
    return project_points(cam.K[frame], cam.cam_from_world[frame], np.asarray(points_world, dtype=np.float64))


def scene(width, height, cam: CameraTrack, objects=(), characters=(), lighting=LIGHTING, background=SKY) -> Scene:
    return Scene(
        width=width,
        height=height,
        fps=30.0,
        num_frames=len(cam.K),
        camera=cam,
        lighting=lighting,
        objects=tuple(objects),
        characters=tuple(characters),
        background_color=background,
    )


def mannequin_character(instance_id, frames=2, position=(0.0, 0.0), heading=0.3, material=GREY) -> Character:
    """A posed mannequin standing on the ground at `position`, arms moving between frames."""
    from worldclips.motions.mannequin_body import MannequinBody
    from worldclips.motions.motion import MotionClip

    body = MannequinBody()
    skeleton = body.skeleton(np.zeros(10))
    pelvis = skeleton.rest_joints[0]
    rest = MotionClip.rest(frames, 30.0)
    orient = matrix_to_axis_angle(body_orientation_for_heading(heading))
    # Upright: native y maps to world z; the soles (native y = sole_height) land on z = 0.
    target_pelvis = np.array([position[0], position[1], pelvis[1] - skeleton.sole_height])
    body_pose = np.zeros((frames, 21, 3))
    phase = np.linspace(0.0, 1.0, frames)
    body_pose[:, 15, 2] = -1.1 * phase  # left shoulder down
    body_pose[:, 16, 2] = 0.6 + 0.4 * phase  # right shoulder
    body_pose[:, 17, 1] = -1.2 * phase  # left elbow
    body_pose[:, 0, 0] = -0.5 * phase  # left hip forward
    body_pose[:, 3, 0] = 0.6 * phase  # left knee
    motion = dataclasses.replace(
        rest,
        global_orient=np.tile(orient, (frames, 1)),
        body_pose=body_pose,
        transl=np.tile(target_pelvis - pelvis, (frames, 1)),
    )
    posed = body.pose(motion)
    return Character(instance_id=instance_id, name=f"person{instance_id}", motion=motion, body=posed, material=material)


def world_triangles(sc: Scene, frame: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All surfaces of one frame in world space: (N, 3) vertices, (F, 3) faces, (F,) instance ids."""
    vertices, faces, ids, base = [], [], [], 0
    for obj in sc.objects:
        pose = obj.world_from_object[frame]
        v = np.asarray(obj.mesh.vertices, np.float64) @ pose[:3, :3].T + pose[:3, 3]
        vertices.append(v)
        faces.append(np.asarray(obj.mesh.faces, np.int64) + base)
        ids.append(np.full(len(obj.mesh.faces), obj.instance_id))
        base += len(v)
    for character in sc.characters:
        v = character.body.mesh.vertices(frame)  # CPU skinning (SkinnedMesh) or stored frame
        vertices.append(v)
        faces.append(np.asarray(character.body.mesh.faces, np.int64) + base)
        ids.append(np.full(len(character.body.mesh.faces), character.instance_id))
        base += len(v)
    return np.concatenate(vertices), np.concatenate(faces), np.concatenate(ids)


def _camera_triangles(sc: Scene, frame: int):
    vertices, faces, ids = world_triangles(sc, frame)
    cam_from_world = sc.camera.cam_from_world[frame]
    cam = vertices @ cam_from_world[:3, :3].T + cam_from_world[:3, 3]
    return cam[faces], ids  # (F, 3, 3) camera-frame triangles


def raycast(sc: Scene, frame: int, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Planar depth and instance id of the first hit through (N, 2) integer pixel centres (u, v).

    Exact float64 ray-triangle intersection (Moller-Trumbore) of the camera rays K^-1 [u, v, 1]
    with every triangle whose projected bounding box holds the pixel; hits outside [near, far]
    are clipped like the rasterizer does. Depth 0 / id 0 where nothing is hit.
    """
    depth, hit_ids, _, _ = raycast_surface(sc, frame, pixels)
    return depth, hit_ids


def raycast_surface(sc: Scene, frame: int, pixels: np.ndarray):
    """``raycast`` plus the surface point hit: (depth (N,), ids (N,), face (N,) index into
    ``world_triangles``' faces or -1, barycentric weights (N, 3) of that face's vertices)."""
    triangles, ids = _camera_triangles(sc, frame)
    K = sc.camera.K[frame]
    z = triangles[..., 2]
    in_front = np.all(z > 1e-6, axis=1)
    safe = np.where(z > 1e-6, z, 1.0)[..., None]
    uv = (triangles[..., :2] / safe) @ K[:2, :2].T + K[:2, 2]
    lo = np.where(in_front[:, None], uv.min(axis=1), -np.inf)  # triangles crossing the camera plane: always test
    hi = np.where(in_front[:, None], uv.max(axis=1), np.inf)
    near, far = sc.camera.near, sc.camera.far
    depth = np.zeros(len(pixels))
    hit_ids = np.zeros(len(pixels), dtype=np.int64)
    hit_faces = np.full(len(pixels), -1, dtype=np.int64)
    weights = np.zeros((len(pixels), 3))
    k_inv = np.linalg.inv(K)
    for n, (u, v) in enumerate(np.asarray(pixels, dtype=np.float64)):  # pixel centres or any points
        candidates = np.nonzero((lo[:, 0] <= u) & (u <= hi[:, 0]) & (lo[:, 1] <= v) & (v <= hi[:, 1]))[0]
        direction = k_inv @ np.array([u, v, 1.0])  # z = 1: the ray parameter is the planar depth
        t, bary_u, bary_v = _ray_triangles(direction, triangles[candidates], barycentric=True)
        t = np.where((t >= near) & (t <= far), t, np.inf)
        if len(t) and np.isfinite(t.min()):
            best = int(np.argmin(t))
            depth[n], hit_ids[n], hit_faces[n] = t[best], ids[candidates[best]], candidates[best]
            weights[n] = 1.0 - bary_u[best] - bary_v[best], bary_u[best], bary_v[best]
    return depth, hit_ids, hit_faces, weights


def smooth_pixels(sc: Scene, frame: int, pixels: np.ndarray, delta_px: float = 0.1, floor_m: float = 1e-4):
    """(N,) bool: the reference surface is continuous around each pixel centre (no edge within delta_px).

    Hits at u +- delta and v +- delta must have the centre's instance and steps on both sides that
    agree (a surface, creased or not, changes slope gradually; an occlusion edge or a sub-pixel
    sliver makes one side jump): |step+ - step-| < max(floor, 0.5 * max(|step+|, |step-|)).
    """
    pixels = np.asarray(pixels, dtype=np.float64)
    depth, ids = raycast(sc, frame, pixels)
    smooth = np.ones(len(pixels), dtype=bool)
    for axis in (0, 1):
        offset = np.zeros(2)
        offset[axis] = delta_px
        d_plus, i_plus = raycast(sc, frame, pixels + offset)
        d_minus, i_minus = raycast(sc, frame, pixels - offset)
        step_plus, step_minus = d_plus - depth, depth - d_minus
        bound = np.maximum(floor_m, 0.5 * np.maximum(np.abs(step_plus), np.abs(step_minus)))
        smooth &= (i_plus == ids) & (i_minus == ids) & (np.abs(step_plus - step_minus) < bound)
    return smooth


def _ray_triangles(direction: np.ndarray, triangles: np.ndarray, barycentric: bool = False):
    """Ray parameters of a ray from the origin against (M, 3, 3) triangles (inf where missed);
    with ``barycentric`` also the hit's weights of the second and third vertex."""
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    e1, e2 = b - a, c - a
    p = np.cross(direction, e2)
    det = np.einsum("ij,ij->i", e1, p)
    ok = np.abs(det) > 1e-15
    inv = 1.0 / np.where(ok, det, 1.0)
    s = -a
    bary_u = np.einsum("ij,ij->i", s, p) * inv
    q = np.cross(s, e1)
    bary_v = (q @ direction) * inv
    t = np.einsum("ij,ij->i", e2, q) * inv
    inside = ok & (bary_u >= 0) & (bary_v >= 0) & (bary_u + bary_v <= 1) & (t > 0)
    t = np.where(inside, t, np.inf)
    return (t, bary_u, bary_v) if barycentric else t


def trimesh_raycast(sc: Scene, frame: int, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same query answered by trimesh (slow: use for a few pixels, to validate raycast)."""
    vertices, faces, ids = world_triangles(sc, frame)
    mesh = trimesh.Trimesh(vertices, faces, process=False, validate=False)
    keep = mesh.area_faces > 1e-14
    mesh = trimesh.Trimesh(vertices, faces[keep], process=False, validate=False)
    ids = ids[keep]
    cam_from_world = sc.camera.cam_from_world[frame]
    world_from_cam = invert_rigid(cam_from_world)
    pixels = np.asarray(pixels, dtype=np.float64)
    rays_cam = np.linalg.solve(sc.camera.K[frame], np.stack([pixels[:, 0], pixels[:, 1], np.ones(len(pixels))]))
    directions = (world_from_cam[:3, :3] @ rays_cam).T
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    origins = np.broadcast_to(world_from_cam[:3, 3], directions.shape).copy()
    intersector = trimesh.ray.ray_triangle.RayMeshIntersector(mesh)
    index_tri, index_ray, locations = intersector.intersects_id(
        origins, directions, multiple_hits=False, return_locations=True
    )
    depth = np.zeros(len(pixels))
    hit_ids = np.zeros(len(pixels), dtype=np.int64)
    depth[index_ray] = (locations @ cam_from_world[:3, :3].T + cam_from_world[:3, 3])[:, 2]
    hit_ids[index_ray] = ids[index_tri]
    outside = (depth < sc.camera.near) | (depth > sc.camera.far)
    depth[outside], hit_ids[outside] = 0.0, 0
    return depth, hit_ids


def interior_mask(depth: np.ndarray, segmentation: np.ndarray, jump_m: float = 0.05) -> np.ndarray:
    """(H, W) pixels at least one pixel away from any silhouette or depth discontinuity."""
    h, w = depth.shape
    ok = np.zeros((h, w), dtype=bool)
    ok[1:-1, 1:-1] = True
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            seg_n = np.roll(segmentation, (dy, dx), axis=(0, 1))
            depth_n = np.roll(depth, (dy, dx), axis=(0, 1))
            ok &= (seg_n == segmentation) & (np.abs(depth_n - depth) < jump_m)
    return ok



def trimesh_first_hits(sc: Scene, frame: int, pixels: np.ndarray, mesh):
    """trimesh's ray caster through (N, 2) pixel centres (u, v) of ``frame``: (triangle, ray,
    planar depth) of each first hit of ``mesh`` (a world-frame trimesh.Trimesh), ray indexing pixels."""

    cam_from_world = np.asarray(sc.camera.cam_from_world[frame], dtype=np.float64)
    world_from_cam = invert_rigid(cam_from_world)
    pixels = np.asarray(pixels)
    rays = np.linalg.solve(sc.camera.K[frame], np.stack([pixels[:, 0], pixels[:, 1], np.ones(len(pixels))]).astype(np.float64))
    directions = (world_from_cam[:3, :3] @ rays).T
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    origins = np.broadcast_to(world_from_cam[:3, 3], directions.shape).copy()
    triangle, ray, where = trimesh.ray.ray_triangle.RayMeshIntersector(mesh).intersects_id(
        origins, directions, multiple_hits=False, return_locations=True
    )
    return triangle, ray, (where @ cam_from_world[:3, :3].T + cam_from_world[:3, 3])[:, 2]
