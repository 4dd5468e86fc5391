"""Procedural prop geometry as TriangleMesh (object frame: +Z up, footprint centred at the origin, bottom at z = 0)."""

from __future__ import annotations

import numpy as np

from worldclips.scenes.scene import TriangleMesh

# Each box face: outward normal, then the two in-plane axes (u, v) with u x v = normal.
_BOX_FACES = (
    ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    ((-1, 0, 0), (0, 0, 1), (0, 1, 0)),
    ((0, 1, 0), (0, 0, 1), (1, 0, 0)),
    ((0, -1, 0), (1, 0, 0), (0, 0, 1)),
    ((0, 0, 1), (1, 0, 0), (0, 1, 0)),
    ((0, 0, -1), (0, 1, 0), (1, 0, 0)),
)


def _mesh(vertices, normals, uvs, faces) -> TriangleMesh:
    return TriangleMesh(
        vertices=np.ascontiguousarray(vertices, dtype=np.float32),
        normals=np.ascontiguousarray(normals, dtype=np.float32),
        uvs=np.ascontiguousarray(uvs, dtype=np.float32),
        faces=np.ascontiguousarray(faces, dtype=np.uint32),
    )


def box(size, center=(0.0, 0.0, 0.0)) -> TriangleMesh:
    """Axis-aligned box of ``size`` (sx, sy, sz) centred at ``center``; flat normals, uv in metres."""
    half = np.asarray(size, dtype=np.float64) / 2.0
    center = np.asarray(center, dtype=np.float64)
    vertices, normals, uvs, faces = [], [], [], []
    for normal, u_axis, v_axis in _BOX_FACES:
        n, u, v = (np.asarray(a, dtype=np.float64) for a in (normal, u_axis, v_axis))
        base = len(vertices)
        for su, sv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            corner = center + half * (n + su * u + sv * v)
            vertices.append(corner)
            normals.append(n)
            uvs.append((corner @ u, corner @ v))
        faces += [(base, base + 1, base + 2), (base, base + 2, base + 3)]
    return _mesh(vertices, normals, uvs, faces)


def sphere(radius: float, center=(0.0, 0.0, 0.0), rings: int = 24, segments: int = 48) -> TriangleMesh:
    """UV sphere with smooth normals; uv in metres along the surface."""
    theta = np.linspace(0.0, np.pi, rings + 1)  # from +Z down
    phi = np.linspace(0.0, 2.0 * np.pi, segments + 1)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    normals = np.stack([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)], axis=-1).reshape(-1, 3)
    vertices = np.asarray(center) + radius * normals
    uvs = np.stack([p * radius, t * radius], axis=-1).reshape(-1, 2)
    faces = []
    for i in range(rings):
        for j in range(segments):
            a, b = i * (segments + 1) + j, (i + 1) * (segments + 1) + j
            if i > 0:
                faces.append((a, b, a + 1))
            if i < rings - 1:
                faces.append((a + 1, b, b + 1))
    return _mesh(vertices, normals, uvs, faces)


def merge(meshes: list[TriangleMesh]) -> TriangleMesh:
    """Concatenate meshes into one."""
    offsets = np.cumsum([0] + [len(m.vertices) for m in meshes[:-1]])
    return _mesh(
        np.concatenate([m.vertices for m in meshes]),
        np.concatenate([m.normals for m in meshes]),
        np.concatenate([m.uvs for m in meshes]),
        np.concatenate([m.faces.astype(np.int64) + o for m, o in zip(meshes, offsets)]),
    )


def ground(extent: float, z: float = 0.0) -> TriangleMesh:
    """Square ground plane at height ``z`` of side ``2 * extent`` metres, normal +Z, uv = world xy."""
    return rectangle(-extent, -extent, extent, extent, z)


def rectangle(x0: float, y0: float, x1: float, y1: float, z: float) -> TriangleMesh:
    """The horizontal rectangle [x0, x1] x [y0, y1] at height z, normal +Z, uv = world xy."""
    corners = np.array([[x0, y0, z], [x1, y0, z], [x1, y1, z], [x0, y1, z]], float)
    return _mesh(corners, np.tile([0.0, 0.0, 1.0], (4, 1)), corners[:, :2], [(0, 1, 2), (0, 2, 3)])


def table_parts(width: float, depth: float, height: float) -> list[tuple[tuple, tuple]]:
    """Four legs and a 4 cm top whose upper face is at ``height``: (size, centre) boxes."""
    top, leg = 0.04, min(0.06, width / 6, depth / 6)
    parts = [((width, depth, top), (0.0, 0.0, height - top / 2))]
    for sx in (-1, 1):
        for sy in (-1, 1):
            center = (sx * (width - leg) / 2, sy * (depth - leg) / 2, (height - top) / 2)
            parts.append(((leg, leg, height - top), center))
    return parts


def chair_parts(width: float, depth: float, seat_height: float, back_height: float) -> list[tuple[tuple, tuple]]:
    """A table-like seat at ``seat_height`` plus a backrest along -Y rising ``back_height`` above it."""
    leg = min(0.04, width / 6, depth / 6)
    back = ((width, leg, back_height), (0.0, -(depth - leg) / 2, seat_height + back_height / 2))
    return table_parts(width, depth, seat_height) + [back]


SHELF_BOARD_M = 0.03


def shelf_parts(width: float, depth: float, height: float) -> list[tuple[tuple, tuple]]:
    """Two side panels, a thin back and four boards (floor, two shelves, top), open at +Y."""
    t = SHELF_BOARD_M
    inner = width - 2 * t
    parts = [((t, depth, height), (sx * (width - t) / 2, 0.0, height / 2)) for sx in (-1, 1)]
    parts.append(((inner, 0.015, height), (0.0, -(depth - 0.015) / 2, height / 2)))
    for top_face in np.linspace(0.05 + t, height, 4):  # upper faces of the boards, the last one flush with the top
        parts.append(((inner, depth - 0.015, t), (0.0, 0.0075, float(top_face) - t / 2)))
    return parts


def prop_parts(category: str, size: tuple[float, ...]) -> list[tuple[tuple, tuple]]:
    """The boxes a static prop is made of, as (size (sx, sy, sz), centre) in its object frame.

    The mesh (``prop_mesh``) and the physics colliders are both built from this list. Spheres
    are not made of boxes (an empty list).
    """
    if category == "box":
        return [(tuple(size), (0.0, 0.0, size[2] / 2))]
    if category == "table":
        return table_parts(*size)
    if category == "chair":
        return chair_parts(*size)
    if category == "shelf":
        return shelf_parts(*size)
    if category == "wall":
        return [(tuple(size), (0.0, 0.0, size[2] / 2))]
    if category == "sphere":
        return []
    raise ValueError(f"prop category: unknown {category!r}")


def _boxes(parts) -> TriangleMesh:
    return merge([box(size, center) for size, center in parts])


def table(width: float, depth: float, height: float) -> TriangleMesh:
    """Four legs and a 4 cm top; the top's upper face is at ``height``."""
    return _boxes(table_parts(width, depth, height))


def chair(width: float, depth: float, seat_height: float, back_height: float) -> TriangleMesh:
    """Four legs, a 4 cm seat at ``seat_height`` and a backrest along -Y rising ``back_height`` above the seat."""
    return _boxes(chair_parts(width, depth, seat_height, back_height))


def prop_mesh(category: str, size: tuple[float, ...]) -> TriangleMesh:
    """Object-frame mesh of a prop category with its size tuple (see scenes.spec.PropSpec)."""
    if category == "sphere":
        return sphere(size[0], (0.0, 0.0, size[0]))
    return _boxes(prop_parts(category, size))


def footprint_radius(category: str, size: tuple[float, ...]) -> float:
    """Radius of a vertical cylinder around the origin that contains the prop."""
    if category == "sphere":
        return float(size[0])
    return float(np.hypot(size[0], size[1]) / 2)


def prop_height(category: str, size: tuple[float, ...]) -> float:
    """Height of the prop's top above the ground."""
    return {
        "box": lambda: size[2],
        "sphere": lambda: 2 * size[0],
        "table": lambda: size[2],
        "chair": lambda: size[2] + size[3],
        "shelf": lambda: size[2],
        "wall": lambda: size[2],
        "mesh": lambda: size[2],  # a user mesh: its bounding box (scenes.user_props)
    }[category]()


# -- dynamic props: meshes in the body frame, origin at the collision shape's centre ------------

GLASS_WALL_M = 0.004
CUP_WALL_M = 0.007
BOTTOM_M = 0.012  # thickness of a glass's or cup's closed bottom
BOTTLE_NECK = 0.36  # neck radius / body radius
# Dynamic prop categories and the collision shapes each may have (scenes.physics_spec.SHAPES).
DYNAMIC_SHAPES = {"ball": ("sphere",), "box": ("box",), "cylinder": ("cylinder", "capsule"), "glass": ("cylinder",),
                  "cup": ("cylinder",), "bottle": ("cylinder",)}  # fmt: skip
DYNAMIC_CATEGORIES = tuple(DYNAMIC_SHAPES)


def lathe(pieces: list[np.ndarray], segments: int = 32) -> TriangleMesh:
    """A surface of revolution about +Z.

    pieces: profiles (N, 4) of (radius, z, normal_r, normal_z) points; consecutive points of a
    piece are joined smoothly, pieces meet at sharp edges. uv: arc length around (u) and along
    the profile (v), in metres. Faces wind counter-clockwise seen from the normals' side.
    """
    phi = np.linspace(0.0, 2.0 * np.pi, segments + 1)
    cos, sin = np.cos(phi), np.sin(phi)
    vertices, normals, uvs, faces = [], [], [], []
    base, along = 0, 0.0
    for piece in pieces:
        piece = np.asarray(piece, dtype=np.float64)
        lengths = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(piece[:, :2], axis=0), axis=1))] + along
        along = lengths[-1]
        for (r, z, nr, nz), v in zip(piece, lengths):
            vertices += [np.stack([r * cos, r * sin, np.full_like(cos, z)], axis=1)]
            normal = np.stack([nr * cos, nr * sin, np.full_like(cos, nz)], axis=1)
            normals += [normal / np.linalg.norm(normal, axis=1, keepdims=True)]
            uvs += [np.stack([phi * max(r, 1e-3), np.full_like(phi, v)], axis=1)]
        ring = segments + 1
        for i in range(len(piece) - 1):
            for j in range(segments):
                a, b = base + i * ring + j, base + i * ring + j + 1
                c, d = a + ring, b + ring
                faces += [(a, b, d), (a, d, c)]
        base += len(piece) * ring
    vertices, normals = np.concatenate(vertices), np.concatenate(normals)
    faces = np.asarray(faces, dtype=np.int64)
    geometric = np.cross(vertices[faces[:, 1]] - vertices[faces[:, 0]], vertices[faces[:, 2]] - vertices[faces[:, 0]])
    flip = (geometric * normals[faces].sum(axis=1)).sum(axis=1) < 0
    faces[flip] = faces[flip][:, ::-1]
    return _mesh(vertices, normals, np.concatenate(uvs), faces)


def _arc(center_z: float, radius: float, start: float, stop: float, count: int) -> np.ndarray:
    """Profile points of a circular arc centred on the axis at ``center_z`` (angles from the equator)."""
    angle = np.linspace(start, stop, count)
    return np.stack([radius * np.cos(angle), center_z + radius * np.sin(angle), np.cos(angle), np.sin(angle)], axis=1)


def cylinder(radius: float, half: float, segments: int = 32) -> TriangleMesh:
    """Closed cylinder along z from -half to +half, centred at the origin."""
    return lathe(
        [[(0, -half, 0, -1), (radius, -half, 0, -1)], [(radius, -half, 1, 0), (radius, half, 1, 0)], [(radius, half, 0, 1), (0, half, 0, 1)]],
        segments,
    )


def capsule(radius: float, half: float, segments: int = 32) -> TriangleMesh:
    """Capsule along z: a cylinder of half length ``half`` with hemispherical caps, centred."""
    bottom = _arc(-half, radius, -np.pi / 2, 0.0, 9)
    top = _arc(half, radius, 0.0, np.pi / 2, 9)
    return lathe([np.concatenate([bottom, top])], segments)


def open_vessel(radius: float, half: float, wall: float, bottom: float = BOTTOM_M, segments: int = 32) -> TriangleMesh:
    """A glass or cup: thin wall, open top, closed bottom; outer radius ``radius``, height 2 ``half``, centred."""
    inner, floor = radius - wall, -half + bottom
    return lathe(
        [
            [(0, -half, 0, -1), (radius, -half, 0, -1)],
            [(radius, -half, 1, 0), (radius, half, 1, 0)],
            [(radius, half, 0, 1), (inner, half, 0, 1)],
            [(inner, half, -1, 0), (inner, floor, -1, 0)],
            [(inner, floor, 0, 1), (0, floor, 0, 1)],
        ],
        segments,
    )


def bottle(radius: float, half: float, segments: int = 32) -> TriangleMesh:
    """A bottle: body of ``radius`` over the lower 60 %, a rounded shoulder, a neck of BOTTLE_NECK x radius
    up to +half, closed by a cap; height 2 ``half``, centred."""
    neck = BOTTLE_NECK * radius
    height = 2 * half
    shoulder_low, shoulder_high = -half + 0.6 * height, -half + 0.78 * height
    t = np.linspace(0.0, 1.0, 7)
    r = neck + (radius - neck) * 0.5 * (1 + np.cos(np.pi * t))  # cosine blend from body to neck
    z = shoulder_low + (shoulder_high - shoulder_low) * t
    dr = np.gradient(r, z)
    normal = np.stack([np.ones_like(dr), -dr], axis=1)
    shoulder = np.column_stack([r, z, normal])
    return lathe(
        [
            [(0, -half, 0, -1), (radius, -half, 0, -1)],
            [(radius, -half, 1, 0), (radius, shoulder_low, 1, 0)],
            shoulder,
            [(neck, shoulder_high, 1, 0), (neck, half, 1, 0)],
            [(neck, half, 0, 1), (0, half, 0, 1)],
        ],
        segments,
    )


def dynamic_prop_mesh(category: str, shape: str, size: tuple[float, ...]) -> TriangleMesh:
    """Body-frame mesh of a dynamic prop, origin at its collision shape's centre.

    ball / box / cylinder / capsule: the collision shape itself. glass and cup: an open vessel
    (thin wall, open top, closed bottom) whose outside is the collision cylinder (MuJoCo
    collides the solid cylinder). bottle: body, shoulder and neck inside the collision cylinder,
    which encloses the neck.
    """
    if category == "glass":
        return open_vessel(size[0], size[1], GLASS_WALL_M)
    if category == "cup":
        return open_vessel(size[0], size[1], CUP_WALL_M)
    if category == "bottle":
        return bottle(size[0], size[1])
    if shape == "sphere":
        return sphere(size[0])
    if shape == "box":
        return box(2 * np.asarray(size, dtype=np.float64))
    if shape == "cylinder":
        return cylinder(*size)
    if shape == "capsule":
        return capsule(*size)
    raise ValueError(f"dynamic prop: unknown shape {shape!r}")
