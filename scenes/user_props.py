"""User props: OBJ, glTF (.glb / self-contained .gltf), PLY or STL meshes from a folder, read with trimesh.

A folder of meshes is described by ``props.yaml`` beside them, one entry per file::

    armchair.glb: {category: armchair, height: 0.95}        # metres, top of the mesh above the floor
    lamp.obj:     {category: lamp, height: 1.6, up: z}      # up axis of the file: y (default) or z

Each mesh is turned so that its up axis is +Z, scaled uniformly to the given height, and moved so
that its footprint (the bounding box in X and Y) is centred on the origin with its lowest point on
the ground (z = 0). The sampler places user props like its own (clear of the people's paths and
of each other, turned at random about +Z); physics collides with the convex hull of the mesh;
both backends render the mesh itself, so depth and segmentation are those of the mesh.

Every byte may come from someone hostile: entry names must be plain file names in the folder (no
separators, no ``..``), files are size-checked before they are read, meshes are read from an open
file without a resolver (a glTF that references other files is refused: use .glb), and the
vertex and face counts, finite coordinates and face indices are checked after reading. A clip
records each mesh's file and sha256; a clip whose mesh changed is refused when rebuilt.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from worldclips.scenes.scene import TriangleMesh
from worldclips.scenes.user_files import read_capped
from worldclips.scenes.yaml_files import read_yaml_mapping

PROPS_YAML = "props.yaml"
MESH_TYPES = {".obj": "obj", ".glb": "glb", ".gltf": "gltf", ".ply": "ply", ".stl": "stl"}
MAX_PROP_FILE_BYTES = 64 << 20  # a larger mesh file is refused before it is read
MAX_PROP_FACES = 400_000
MAX_PROP_ASSETS = 256
HEIGHT_RANGE_M = (0.05, 4.0)
MAX_FOOTPRINT_M = 6.0  # the longer side of a prop's footprint after scaling
SHARP_EDGE_COS = float(np.cos(np.radians(35.0)))  # corners whose vertex normal leaves the face's more: flat
_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9_\- ]{0,39}")
ENTRY_FIELDS = ("category", "height", "up")


class PropFolderError(ValueError):
    """A user prop folder, entry or mesh file that cannot be used (one line naming it)."""


@dataclass(frozen=True)
class MeshAsset:
    """One user mesh as a clip records it.

    file: absolute path of the mesh file; sha256: of its bytes (checked when the clip is built).
    label: the user's category ("armchair"); up: "y" or "z", the file's up axis.
    scale: metres per file unit; size: (sx, sy, sz) metres, the bounding box after turning and scaling.
    """

    file: str
    sha256: str
    label: str
    up: str
    scale: float
    size: tuple[float, float, float]

    def __post_init__(self) -> None:
        if self.up not in ("y", "z"):
            raise ValueError(f"MeshAsset.up: expected 'y' or 'z', got {self.up!r}")
        if Path(self.file).suffix.lower() not in MESH_TYPES:
            raise ValueError(f"MeshAsset.file: expected one of {sorted(MESH_TYPES)}, got {self.file!r}")
        if not _LABEL.fullmatch(self.label):
            raise ValueError(f"MeshAsset.label: expected letters, digits, '_', '-' or spaces (at most 40), got {self.label!r}"[:200])
        if not (self.scale > 0 and len(self.size) == 3 and min(self.size) > 0):
            raise ValueError(f"MeshAsset: expected a positive scale and three positive sizes, got {self.scale}, {self.size}")


def read_prop_folder(folder: str | Path) -> tuple[MeshAsset, ...]:
    """The meshes ``props.yaml`` of ``folder`` describes, each read and measured (sorted by file name)."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise PropFolderError(f"prop_dir: {folder} is not a directory")
    entries = read_yaml_mapping(folder / PROPS_YAML, "props", PropFolderError) if (folder / PROPS_YAML).is_file() else None
    if entries is None:
        raise PropFolderError(f"prop_dir: {folder} has no {PROPS_YAML} (one entry per mesh: {{category, height}})")
    if not entries:
        raise PropFolderError(f"{folder / PROPS_YAML}: no meshes listed")
    if len(entries) > MAX_PROP_ASSETS:
        raise PropFolderError(f"{folder / PROPS_YAML}: {len(entries)} meshes, expected at most {MAX_PROP_ASSETS}")
    return tuple(_asset(folder.resolve(), name, entries[name]) for name in sorted(entries))


def _asset(folder: Path, name: str, entry) -> MeshAsset:
    where = f"{folder / PROPS_YAML}: {name!r}"
    if name in ("", ".", "..") or "/" in name or "\\" in name or "\0" in name or name.startswith("."):
        raise PropFolderError(f"{where}: expected a plain file name in the folder")
    if Path(name).suffix.lower() not in MESH_TYPES:
        raise PropFolderError(f"{where}: expected a mesh file ({', '.join(sorted(MESH_TYPES))})")
    if not isinstance(entry, dict):
        raise PropFolderError(f"{where}: expected a mapping {{category, height, up}}, got {type(entry).__name__}")
    unknown = sorted(set(entry) - set(ENTRY_FIELDS))
    if unknown:
        raise PropFolderError(f"{where}: unknown field {unknown[0]!r} (expected {', '.join(ENTRY_FIELDS)})")
    label, height, up = entry.get("category"), entry.get("height"), entry.get("up", "y")
    if not isinstance(label, str) or not _LABEL.fullmatch(label):
        raise PropFolderError(f"{where}: category: expected a name of letters, digits, '_', '-' or spaces (at most 40), got {label!r}"[:240])
    if isinstance(height, bool) or not isinstance(height, (int, float)) or not HEIGHT_RANGE_M[0] <= height <= HEIGHT_RANGE_M[1]:
        raise PropFolderError(f"{where}: height: expected metres within {list(HEIGHT_RANGE_M)}, got {height!r}"[:240])
    if up not in ("y", "z"):
        raise PropFolderError(f"{where}: up: expected 'y' or 'z', got {up!r}"[:240])
    path = folder / name
    if not path.is_file() or path.is_symlink():
        raise PropFolderError(f"{where}: no such file in the folder")
    data = _read_bytes(path)
    vertices, _ = _parse(path, data)
    turned = _turn_up(vertices, up)
    extent = turned.max(axis=0) - turned.min(axis=0)
    if not extent[2] > 0:
        raise PropFolderError(f"{path}: the mesh is flat along its up axis ({up}); check 'up'")
    scale = float(height) / float(extent[2])
    size = tuple(round(float(s), 6) for s in extent * scale)
    if max(size[0], size[1]) > MAX_FOOTPRINT_M or min(size[0], size[1]) <= 0:
        raise PropFolderError(f"{where}: at height {height} m the footprint is {size[0]:.2f} x {size[1]:.2f} m, "
                              f"expected positive sides up to {MAX_FOOTPRINT_M} m (check height and up)")  # fmt: skip
    return MeshAsset(str(path), hashlib.sha256(data).hexdigest(), label, up, scale, size)


def _read_bytes(path: Path) -> bytes:
    return read_capped(path, MAX_PROP_FILE_BYTES, PropFolderError, f"{MAX_PROP_FILE_BYTES >> 20} MiB")


def _parse(path: Path, data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(V, 3) float64 vertices and (F, 3) int64 faces of a mesh file's bytes, all parts in their
    scene-graph places; nothing outside ``data`` is read."""
    import trimesh

    try:
        loaded = trimesh.load(io.BytesIO(data), file_type=MESH_TYPES[path.suffix.lower()], force="mesh", process=False)
    except Exception as error:  # trimesh raises many kinds on malformed input
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        hint = " (a .gltf must embed its buffers; use .glb)" if path.suffix.lower() == ".gltf" else ""
        raise PropFolderError(f"{path}: not a readable mesh{hint}: {message}"[:300]) from None
    vertices = np.asarray(getattr(loaded, "vertices", np.zeros((0, 3))), dtype=np.float64)
    faces = np.asarray(getattr(loaded, "faces", np.zeros((0, 3))), dtype=np.int64)
    if vertices.ndim != 2 or vertices.shape[1:] != (3,) or faces.ndim != 2 or faces.shape[1:] != (3,) or not len(faces):
        raise PropFolderError(f"{path}: no triangles found")
    if len(faces) > MAX_PROP_FACES:
        raise PropFolderError(f"{path}: {len(faces)} triangles, expected at most {MAX_PROP_FACES}")
    if not np.isfinite(vertices).all():
        raise PropFolderError(f"{path}: vertex coordinates are not all finite")
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise PropFolderError(f"{path}: face indices outside the {len(vertices)} vertices")
    return vertices, faces


def _turn_up(vertices: np.ndarray, up: str) -> np.ndarray:
    """Vertices with the file's up axis turned to +Z (Y-up: +Y -> +Z and +Z -> -Y)."""
    if up == "z":
        return vertices
    return np.column_stack([vertices[:, 0], -vertices[:, 2], vertices[:, 1]])


def placed_vertices(asset: MeshAsset, vertices: np.ndarray) -> np.ndarray:
    """File vertices in the prop's object frame: up +Z, scaled, footprint centred, lowest point at z = 0."""
    turned = _turn_up(np.asarray(vertices, dtype=np.float64), asset.up) * asset.scale
    low, high = turned.min(axis=0), turned.max(axis=0)
    return turned - np.array([(low[0] + high[0]) / 2, (low[1] + high[1]) / 2, low[2]])


def read_asset(asset: MeshAsset) -> tuple[np.ndarray, np.ndarray]:
    """(V, 3) float64 object-frame vertices and (F, 3) faces of a recorded mesh (sha256 checked)."""
    path = Path(asset.file)
    if not path.is_file():
        raise FileNotFoundError(f"prop mesh: {path} is missing (the mesh this clip was drawn with)")
    data = _read_bytes(path)
    if hashlib.sha256(data).hexdigest() != asset.sha256:
        raise PropFolderError(f"prop mesh: {path} is not the mesh this clip was drawn with (sha256 differs)")
    vertices, faces = _parse(path, data)
    return placed_vertices(asset, vertices), _outward(vertices, faces)


def _outward(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Faces of a closed mesh wound inside out (negative enclosed volume) turned the right way;
    other meshes as the file has them."""
    edges = np.sort(faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    if not (counts == 2).all():
        return faces
    v = vertices[faces]
    volume = np.einsum("fj,fj->f", v[:, 0], np.cross(v[:, 1], v[:, 2])).sum() / 6.0
    return faces[:, ::-1].copy() if volume < 0 else faces


def asset_mesh(asset: MeshAsset) -> TriangleMesh:
    """The renderable mesh of a user prop: per-corner vertices with smooth normals except across
    sharp edges (flat there), and box-projected texture coordinates in metres."""
    vertices, faces = read_asset(asset)
    corners = vertices[faces]  # (F, 3, 3)
    face_normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    lengths = np.linalg.norm(face_normals, axis=1, keepdims=True)
    keep = lengths[:, 0] > 1e-12  # degenerate triangles draw nothing
    faces, corners, face_normals = faces[keep], corners[keep], face_normals[keep] / lengths[keep]
    vertex_normals = np.zeros_like(vertices)
    np.add.at(vertex_normals, faces.ravel(), np.repeat(face_normals, 3, axis=0))
    vertex_normals /= np.maximum(np.linalg.norm(vertex_normals, axis=1, keepdims=True), 1e-12)
    smooth = vertex_normals[faces]  # (F, 3, 3)
    flat = np.repeat(face_normals[:, None], 3, axis=1)
    sharp = np.einsum("fcj,fcj->fc", smooth, flat) < SHARP_EDGE_COS
    normals = np.where(sharp[..., None], flat, smooth)
    axis = np.abs(face_normals).argmax(axis=1)  # box projection along each face's dominant axis
    pick = np.array([[1, 2], [0, 2], [0, 1]])[axis]  # (F, 2)
    uvs = np.take_along_axis(corners, np.repeat(pick[:, None, :], 3, axis=1), axis=2)
    count = len(faces)
    return TriangleMesh(
        vertices=corners.reshape(-1, 3).astype(np.float32),
        normals=normals.reshape(-1, 3).astype(np.float32),
        uvs=uvs.reshape(-1, 2).astype(np.float32),
        faces=np.arange(3 * count, dtype=np.uint32).reshape(count, 3),
    )


def hull_vertices(asset: MeshAsset) -> np.ndarray:
    """(K, 3) float64 object-frame vertices of the mesh's convex hull (what physics collides with)."""
    from scipy.spatial import ConvexHull, QhullError

    vertices, _ = read_asset(asset)
    try:
        return vertices[ConvexHull(vertices).vertices]
    except QhullError as error:
        raise PropFolderError(f"{asset.file}: no convex hull (the mesh is flat or degenerate)") from error
