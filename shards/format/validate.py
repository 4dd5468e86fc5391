"""``worldclips validate``: re-check every shard and sample of a dataset against the schema.

Checks the manifest (every listed shard present with its size, sha256, sample count and keys;
no unlisted or temporary files), then every sample: members, dtypes, shapes, finite values,
instance ids, depth/segmentation agreement, rigid camera and object transforms, zero velocities
of static objects, contact events (frames in the clip, known ids, unit normals), joints2d
against the projection of joints3d, visibility against the rendered segmentation, and that the
video decodes to the right number and size of frames; a scenario clip's properties are measured
again and must match what its meta.json records (shards.format.properties); clips kept with
``verified: false`` after their last re-draw are listed as warnings, not errors. Samples of schema
v1, v2 and v3 are accepted, each against its own member list. Reading never unpickles anything.
"""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from worldclips.motions.conventions import MIN_PROJECTION_DEPTH_M, PROJECTION_UNDEFINED, project_points
from worldclips.shards.format.meta_schema import parsed
from worldclips.shards.format.layer_registry import LAYERS, REQUIRED_LAYERS, inflated_limits
from worldclips.shards.format.layers import DEPTH_MEMBER, SEG_MEMBER, decode_depth
from worldclips.shards.format.reader import (
    ShardDigestError, ShardFormatError, clip_sizes, dataset_root, read_manifest, read_verified_shard, shard_location,
)
from worldclips.shards.format.storage import open_storage
from worldclips.motions.safe_arrays import load_npy, load_npz
from worldclips.shards.format.schema import (
    INSTANCE_FIELDS,
    KEY_PATTERN,
    MANIFEST_NAME,
    META_FIELDS,
    META_FIELDS_SINCE,
    META_MEMBER,
    NPY_MEMBERS,
    SHARD_PATTERN,
    SUPPORTED_SCHEMA_VERSIONS,
    VIDEO_MEMBER,
    chunked_arrays,
    members as schema_members,
    npz_arrays,
    npz_members,
    npy_members,
    resolve_shape,
)
from worldclips.shards.format.video import decode_mp4
from worldclips.shards.format.writer import TEMP_PREFIX

PROJECTION_TOLERANCE_PX = 1e-2
RIGID_TOLERANCE = 1e-6


@dataclass
class ValidationReport:
    """Errors found (one line each) and what was checked."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    shards: int = 0
    samples: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


class SampleError(ValueError):
    """One problem with one member of a sample."""


def _check_array(member: str, name: str, array: np.ndarray, dtype: str, shape: tuple[int, ...]) -> None:
    where = f"{member}/{name}" if name else member
    if array.dtype != np.dtype(dtype):
        raise SampleError(f"{where}: dtype {array.dtype}, expected {dtype}")
    if array.shape != shape:
        raise SampleError(f"{where}: shape {array.shape}, expected {shape}")
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise SampleError(f"{where}: contains NaN or infinite values")


def _check_rigid(where: str, transforms: np.ndarray) -> None:
    if transforms.size == 0:
        return
    rotation = transforms[..., :3, :3]
    orthogonality = np.abs(np.swapaxes(rotation, -1, -2) @ rotation - np.eye(3)).max()
    if orthogonality > RIGID_TOLERANCE or np.abs(np.linalg.det(rotation) - 1).max() > RIGID_TOLERANCE:
        raise SampleError(f"{where}: rotation part is not a proper rotation")
    if np.abs(transforms[..., 3, :] - [0, 0, 0, 1]).max() > 0:
        raise SampleError(f"{where}: last row is not [0, 0, 0, 1]")


def _optional_layers(meta: dict) -> list:
    """The optional layers a v5 meta.json lists (shards.format.layer_registry), its list checked."""
    listed = meta["layers"]
    if not isinstance(listed, list) or not all(isinstance(n, str) and n in LAYERS for n in listed) or len(set(listed)) != len(listed):
        raise SampleError(f"{META_MEMBER}: layers: expected a list of distinct layer names ({', '.join(LAYERS)}), got {listed!r}"[:300])
    missing = [name for name in REQUIRED_LAYERS if name not in listed]
    if missing:
        raise SampleError(f"{META_MEMBER}: layers: {missing[0]} is always written, but not listed")
    return [LAYERS[name] for name in listed if not LAYERS[name].required]


def _check_meta(key: str, raw: bytes) -> dict:
    try:
        meta = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SampleError(f"{META_MEMBER}: not valid JSON ({error})") from error
    if not isinstance(meta, dict):
        raise SampleError(f"{META_MEMBER}: expected a JSON object")
    missing = [name for name in META_FIELDS if name not in meta]
    if missing:
        raise SampleError(f"{META_MEMBER}: missing fields {missing}")
    if meta["schema_version"] not in SUPPORTED_SCHEMA_VERSIONS:
        raise SampleError(f"{META_MEMBER}: schema_version {meta['schema_version']!r}, expected one of {list(SUPPORTED_SCHEMA_VERSIONS)}")
    missing = [name for name, since in META_FIELDS_SINCE.items() if since <= meta["schema_version"] and name not in meta]
    if missing:
        raise SampleError(f"{META_MEMBER}: missing fields {missing} (schema v{meta['schema_version']})")
    if meta["clip_id"] != key:
        raise SampleError(f"{META_MEMBER}: clip_id {meta['clip_id']!r} differs from the sample key")
    try:
        clip_sizes(meta, META_MEMBER)
    except ShardFormatError as error:
        raise SampleError(str(error)) from None
    ids = []
    for row in meta["instances"]:
        if not isinstance(row, dict) or any(f not in row for f in INSTANCE_FIELDS):
            raise SampleError(f"{META_MEMBER}: instance rows need fields {list(INSTANCE_FIELDS)}, got {row!r}")
        if not isinstance(row["id"], int) or not 1 <= row["id"] <= 65535:
            raise SampleError(f"{META_MEMBER}: instance id {row['id']!r} outside 1..65535")
        ids.append(row["id"])
    if len(set(ids)) != len(ids):
        raise SampleError(f"{META_MEMBER}: duplicate instance ids")
    return meta


def check_sample(key: str, members: dict[str, bytes], decode_video: bool = True) -> dict:
    """Raise SampleError on the first problem found in one sample; its meta.json (parsed) when none."""
    if not KEY_PATTERN.match(key):
        raise SampleError(f"key {key!r} does not match <run>-<8 digits>")
    if META_MEMBER not in members:
        raise SampleError(f"members {sorted(members)}: no {META_MEMBER}")
    meta = _check_meta(key, members[META_MEMBER])
    version = meta["schema_version"]
    optional = _optional_layers(meta) if version >= 5 else []
    names, expected_members = set(members), (*schema_members(version), *(layer.member for layer in optional))
    if names != set(expected_members):
        raise SampleError(f"members {sorted(names)}, expected {list(expected_members)} (schema v{version})")
    persons = [r["id"] for r in meta["instances"] if r["kind"] == "person"]
    objects = [r["id"] for r in meta["instances"] if r["kind"] == "object"]
    sizes = {"T": meta["num_frames"], "H": meta["height"], "W": meta["width"], "P": len(persons), "O": len(objects)}
    arrays = {name: load_npy(members[name], name) for name in npy_members(version)}
    for name in arrays:
        spec = NPY_MEMBERS[name]
        _check_array(name, "", arrays[name], spec.dtype, resolve_shape(spec.shape, sizes))
    limits = inflated_limits(sizes["T"], sizes["H"], sizes["W"])
    npz = {member: load_npz(members[member], member, **({"max_bytes": limits[member]} if member in limits else {}))
           for member in npz_members(version)}  # fmt: skip
    if "contacts.npz" in npz:
        frame = npz["contacts.npz"].get("frame")
        sizes["E"] = int(frame.shape[0]) if frame is not None and frame.ndim == 1 else -1
    for member in npz:
        expected = chunked_arrays(npz_arrays(member, version), sizes)
        if set(npz[member]) != set(expected):
            shown = lambda names: sorted(names) if len(names) <= 8 else [*sorted(names)[:8], "..."]  # noqa: E731
            raise SampleError(f"{member}: arrays {shown(npz[member])}, expected {shown(expected)}")
        for name, (dtype, shape) in expected.items():
            _check_array(member, name, npz[member][name], dtype, shape)
    if version >= 4:
        arrays = {"depth.npy": decode_depth(npz[DEPTH_MEMBER]), "seg.npy": npz[SEG_MEMBER]["seg"]}
        if not np.all(np.isfinite(arrays["depth.npy"])):
            raise SampleError(f"{DEPTH_MEMBER}: depth decodes to values that are not finite")
    depth, seg = arrays["depth.npy"], arrays["seg.npy"]
    depth_name, seg_name = (DEPTH_MEMBER, SEG_MEMBER) if version >= 4 else ("depth.npy", "seg.npy")
    if depth.min() < 0:
        raise SampleError(f"{depth_name}: negative depth")
    unknown = sorted(set(np.unique(seg).tolist()) - {0} - set(persons) - set(objects))
    if unknown:
        raise SampleError(f"{seg_name}: ids {unknown[:5]} are not in the instance table")
    if np.any((depth == 0) != (seg == 0)):
        raise SampleError(f"{depth_name}/{seg_name}: depth is 0 exactly where segmentation is 0, but they disagree")
    camera, pose, objs = npz["camera.npz"], npz["pose.npz"], npz["objects.npz"]
    K = camera["K"]
    if np.any(K[:, 0, 0] <= 0) or np.any(K[:, 1, 1] <= 0) or np.any(K[:, 2] != [0, 0, 1]) or np.any(K[:, 1, 0] != 0):
        raise SampleError("camera.npz/K: expected positive focal lengths and rows [fx s cx; 0 fy cy; 0 0 1]")
    _check_rigid("camera.npz/cam_from_world", camera["cam_from_world"])
    _check_rigid("objects.npz/world_from_object", objs["world_from_object"])
    if sorted(objs["instance_id"].tolist()) != sorted(objects):
        raise SampleError("objects.npz/instance_id: differs from the objects in the instance table")
    if sorted(pose["instance_id"].tolist()) != sorted(persons):
        raise SampleError("pose.npz/instance_id: differs from the persons in the instance table")
    if "linear_velocity" in objs:
        _check_velocities(objs, meta["instances"])
    if "contacts.npz" in npz:
        _check_contacts(npz["contacts.npz"], {r["id"] for r in meta["instances"]}, sizes["T"])
    _check_joints(pose, K, camera["cam_from_world"], seg)
    for layer in optional:
        decoded = layer.decode(load_npz(members[layer.member], layer.member, max_bytes=limits[layer.member]), layer.member)
        problems = layer.check(decoded, (sizes["T"], sizes["H"], sizes["W"]), seg)
        if problems:
            raise SampleError(problems[0])
    if "foot_contact" in pose:
        _check_foot_contact(pose["foot_contact"], pose["joints3d"])
    if parsed(meta, "properties"):  # a scenario clip: its properties, re-measured, must match its record
        from worldclips.shards.format.properties import ClipData, recheck

        problem = recheck(meta, ClipData.from_arrays(meta, seg, npz))
        if problem is not None:
            raise SampleError(problem)
    if decode_video:
        try:
            video = decode_mp4(members[VIDEO_MEMBER], (sizes["T"], sizes["H"], sizes["W"]))
        except Exception as error:
            raise SampleError(f"{VIDEO_MEMBER}: cannot decode ({error})") from error
        expected = (sizes["T"], sizes["H"], sizes["W"], 3)
        if video.shape != expected:
            raise SampleError(f"{VIDEO_MEMBER}: decodes to {video.shape}, expected {expected}")
    return meta


UNIT_TOLERANCE = 1e-6


def _check_velocities(objs: dict, instances: list[dict]) -> None:
    """Objects that the instance table calls static have zero velocities."""
    static = {r["id"] for r in instances if r["kind"] == "object" and not r["dynamic"]}
    rows = np.isin(objs["instance_id"], list(static))
    for name in ("linear_velocity", "angular_velocity"):
        if np.any(objs[name][rows] != 0):
            raise SampleError(f"objects.npz/{name}: a static object (dynamic: false) has a non-zero velocity")


def _check_contacts(contacts: dict, ids: set[int], frames: int) -> None:
    """Contact events: frames in the clip, ids in the instance table with a < b, unit normals, impulses >= 0."""
    frame, a, b = contacts["frame"], contacts["instance_a"], contacts["instance_b"]
    if frame.size and (frame.min() < 0 or frame.max() >= frames):
        raise SampleError(f"contacts.npz/frame: frames outside 0..{frames - 1}")
    unknown = sorted((set(a.tolist()) | set(b.tolist())) - ids)
    if unknown:
        raise SampleError(f"contacts.npz/instance_a/b: ids {unknown[:5]} are not in the instance table")
    if np.any(a >= b):
        raise SampleError("contacts.npz/instance_a: expected instance_a < instance_b in every event")
    if frame.size and np.abs(np.linalg.norm(contacts["normal"], axis=1) - 1.0).max() > UNIT_TOLERANCE:
        raise SampleError("contacts.npz/normal: expected unit vectors")
    if np.any(contacts["impulse"] < 0):
        raise SampleError("contacts.npz/impulse: expected impulses >= 0")


# A heel in contact keeps its ankle joint, a toe its toe (ball) joint, this close to the ground.
CONTACT_JOINTS = (("left_heel", 7, 0.25), ("left_toe", 10, 0.15), ("right_heel", 8, 0.25), ("right_toe", 11, 0.15))


def _check_foot_contact(contact: np.ndarray, joints3d: np.ndarray) -> None:
    """Contact labels must sit on feet that are near the ground (ankle / toe joint heights)."""
    for k, (point, joint, highest) in enumerate(CONTACT_JOINTS):
        heights = joints3d[:, :, joint, 2][contact[:, :, k]]
        if heights.size and heights.max() > highest:
            raise SampleError(
                f"pose.npz/foot_contact: {point} in contact with its joint {heights.max():.3f} m above the ground (limit {highest} m)"
            )


def _check_joints(pose: dict, K: np.ndarray, cam_from_world: np.ndarray, seg: np.ndarray) -> None:
    frames, height, width = seg.shape
    for person, instance in enumerate(pose["instance_id"]):
        joints3d = pose["joints3d"][person].astype(np.float64)
        uv, z = project_points(K, cam_from_world, joints3d)
        stored = pose["joints2d"][person].astype(np.float64)
        defined = z > MIN_PROJECTION_DEPTH_M
        error = np.abs(stored - uv)[defined]
        if error.size and error.max() > PROJECTION_TOLERANCE_PX:
            raise SampleError(f"pose.npz/joints2d: differs from the projection of joints3d by {error.max():.4f} px")
        if np.any(stored[~defined] != PROJECTION_UNDEFINED):
            raise SampleError("pose.npz/joints2d: joints behind the camera must be -1")
        visible = pose["joints_visible"][person]
        if np.any(visible & ~pose["joints_valid"][person][None, :]):
            raise SampleError("pose.npz/joints_visible: a joint marked invalid is marked visible")
        t, j = np.nonzero(visible)
        pixel = np.rint(stored[t, j]).astype(np.int64)
        inside = (pixel[:, 0] >= 0) & (pixel[:, 0] < width) & (pixel[:, 1] >= 0) & (pixel[:, 1] < height)
        if not np.all(inside):
            raise SampleError("pose.npz/joints_visible: a visible joint projects outside the image")
        if np.any(seg[t, pixel[:, 1], pixel[:, 0]] != instance):
            raise SampleError("pose.npz/joints_visible: a visible joint's pixel belongs to another instance")


def validate_dataset(directory: str | Path, decode_video: bool = True) -> ValidationReport:
    """Check a dataset, a local directory or an fsspec URL (``s3://bucket/prefix``, ``file://``...,
    read only, each shard streamed once: hashed while its tar is read); never raises on bad data,
    reports it instead."""
    root = dataset_root(directory)
    report = ValidationReport()
    try:
        storage = open_storage(root, role="dataset")
        names = storage.names() if storage.exists() else None
    except (OSError, ValueError) as error:
        report.errors.append(f"{directory}: cannot be read ({error})")
        return report
    if names is None:
        report.errors.append(f"{directory}: not a directory" if isinstance(root, Path) else f"{directory}: no dataset there")
        return report
    try:
        manifest = read_manifest(root)
        listed = {entry["name"]: entry for entry in manifest["shards"]}
    except (OSError, ValueError, KeyError, TypeError) as error:
        report.errors.append(f"{MANIFEST_NAME}: missing or unreadable ({error}); the run did not finish")
        return report
    for leftover in names:
        if leftover.startswith(TEMP_PREFIX):
            report.errors.append(f"{leftover}: temporary file left behind by an interrupted writer")
    for name in names:
        if SHARD_PATTERN.match(name) and name not in listed:
            report.errors.append(f"{name}: shard not listed in the manifest")
    seen_keys: set[str] = set()
    for name, entry in sorted(listed.items(), key=lambda item: str(item[0])):
        try:
            location = shard_location(root, name, MANIFEST_NAME)
        except ShardFormatError as error:
            report.errors.append(str(error))
            continue
        if not (location.is_file() if isinstance(location, Path) else name in names):
            report.errors.append(f"{name}: listed in the manifest but missing")
            continue
        try:
            samples = read_verified_shard(location, entry.get("bytes"), entry.get("sha256"))
        except ShardDigestError:
            report.errors.append(f"{name}: size or sha256 differs from the manifest (corrupt or truncated)")
            continue
        except (OSError, tarfile.TarError, ShardFormatError) as error:
            report.shards += 1
            report.errors.append(f"{name}: unreadable tar ({error})")
            continue
        report.shards += 1
        if list(samples) != list(entry.get("keys", [])) or len(samples) != entry.get("samples"):
            report.errors.append(f"{name}: sample keys differ from the manifest")
        for key, members in samples.items():
            if key in seen_keys:
                report.errors.append(f"{name}: {key}: duplicate sample key")
            seen_keys.add(key)
            try:
                meta = check_sample(key, members, decode_video=decode_video)
                report.samples += 1
                if meta.get("verified") is False:
                    report.warnings.append(f"{name}: {key}: verified: false, a scenario clip without its properties (kept after its last re-draw)")
            except (SampleError, ValueError) as error:
                report.errors.append(f"{name}: {key}: {error}")
    return report
