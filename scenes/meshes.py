"""Procedural prop geometry as TriangleMesh (object frame: +Z up, footprint centred at the origin, bottom at z = 0)."""

from __future__ import annotations

import numpy as np

from scenes.scene import TriangleMesh

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


def ground(extent: float) -> TriangleMesh:
    """Square ground plane z = 0 of side ``2 * extent`` metres, normal +Z, uv = world xy."""
    corners = np.array([[-extent, -extent, 0], [extent, -extent, 0], [extent, extent, 0], [-extent, extent, 0]], float)
    return _mesh(corners, np.tile([0.0, 0.0, 1.0], (4, 1)), corners[:, :2], [(0, 1, 2), (0, 2, 3)])


def table(width: float, depth: float, height: float) -> TriangleMesh:
    """Four legs and a 4 cm top; the top's upper face is at ``height``."""
    top, leg = 0.04, min(0.06, width / 6, depth / 6)
    parts = [box((width, depth, top), (0, 0, height - top / 2))]
    for sx in (-1, 1):
        for sy in (-1, 1):
            center = (sx * (width - leg) / 2, sy * (depth - leg) / 2, (height - top) / 2)
            parts.append(box((leg, leg, height - top), center))
    return merge(parts)


def chair(width: float, depth: float, seat_height: float, back_height: float) -> TriangleMesh:
    """Four legs, a 4 cm seat at ``seat_height`` and a backrest along -Y rising ``back_height`` above the seat."""
    leg = min(0.04, width / 6, depth / 6)
    parts = [table(width, depth, seat_height)]
    parts.append(box((width, leg, back_height), (0, -(depth - leg) / 2, seat_height + back_height / 2)))
    return merge(parts)


def prop_mesh(category: str, size: tuple[float, ...]) -> TriangleMesh:
    """Object-frame mesh of a prop category with its size tuple (see scenes.spec.PropSpec)."""
    if category == "box":
        return box(size, (0.0, 0.0, size[2] / 2))
    if category == "sphere":
        return sphere(size[0], (0.0, 0.0, size[0]))
    if category == "table":
        return table(*size)
    if category == "chair":
        return chair(*size)
    raise ValueError(f"prop category: unknown {category!r}")


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
    }[category]()
