"""meta.json keeps one schema: every clip of every run has the same keys with the same JSON types.

Readers that infer one table schema from a few samples (Hugging Face ``datasets``, Arrow,
pandas) need it: a field that is null in one clip and an object in another, or a key that only
some clips have, breaks them or silently drops it. So:

- the parts whose shape depends on the clip are **JSON text** (a string holding JSON):
  ``spec`` (the ClipSpec, a tree of tagged unions), ``scenario_params.physics`` (what a physics
  setup drew, ``"null"`` without one), ``scenario_params.scenario`` (what a scenario drew,
  ``"null"`` for clips not drawn from a scenario) and ``properties`` (a scenario clip's measured
  properties by name, ``"{}"`` for other clips); ``json.loads`` gives the object back;
- ``verified`` is always there (``true`` for a clip without properties to check) and so is
  ``redraw`` (``{"attempt": 0, "seed": <run seed>}`` for a clip's first draw);
- numbers keep their JSON type (``fps``, ``fov_deg`` are always floats, counts integers).

``META_TREE`` declares the type of every field; ``expanded`` gives the object view that
worldclips' own readers use (JSON text parsed; datasets written before this rule, whose fields
are objects already, pass through unchanged).
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import numpy as np

from worldclips.shards.format.schema import CONVENTIONS, META_FIELDS_SINCE

JSON_TEXT = "json"  # a string holding JSON
# Fields stored as JSON text: path -> what json.loads gives for a clip without it.
JSON_TEXT_FIELDS: dict[tuple[str, ...], Any] = {
    ("spec",): None,
    ("scenario_params", "physics"): None,
    ("scenario_params", "scenario"): None,
    ("properties",): {},
}
STRING_MAP = "string map"  # a mapping of names to strings whose names depend on the install (versions)

# The type of every meta.json field: dict = object with exactly these keys, [x] = list of x,
# str / int / float / bool = that JSON type, JSON_TEXT = a string holding JSON.
META_TREE: dict[str, Any] = {
    "schema_version": int,
    "clip_id": str,
    "run": str,
    "run_seed": int,
    "clip_index": int,
    "fps": float,
    "num_frames": int,
    "width": int,
    "height": int,
    "scenario": str,
    "scenario_params": {
        "camera_family": str,
        "fov_deg": float,
        "num_people": int,
        "people_motion": [str],
        "num_props": int,
        "prop_categories": [str],
        "num_dynamic_props": int,
        "dynamic_prop_categories": [str],
        "physics": JSON_TEXT,
        "scenario": JSON_TEXT,
    },
    "spec": JSON_TEXT,
    "look": {"name": str, "environment": str, "environment_licence": str, "outfits": [{"person": str, "outfit": str}]},
    "instances": [{"id": int, "name": str, "kind": str, "category": str, "dynamic": bool}],
    "body_model": str,
    "renderer": str,
    "conventions": {name: str for name in CONVENTIONS},
    "versions": STRING_MAP,
    "properties": JSON_TEXT,
    "verified": bool,
    "redraw": {"attempt": int, "seed": int},
}
# Fields added with a later schema version: name -> (since, type).
META_TREE_SINCE: dict[str, tuple[int, Any]] = {"layers": (META_FIELDS_SINCE["layers"], [str])}


def json_text(value: Any) -> str:
    """``value`` as JSON text (keys sorted, as in the rest of meta.json)."""
    return json.dumps(value, sort_keys=True)


def parsed(meta: dict, *path: str) -> Any:
    """The object at ``path`` of a meta.json: JSON text parsed, an object (datasets written before
    JSON text) as it is, a missing field as the value a clip without it has (None, or {} for
    ``properties``)."""
    value: Any = meta
    for name in path:
        if not isinstance(value, dict) or name not in value:
            return JSON_TEXT_FIELDS.get(tuple(path))
        value = value[name]
    if isinstance(value, str) and tuple(path) in JSON_TEXT_FIELDS:
        return json.loads(value)
    return value


def expanded(meta: dict) -> dict:
    """A copy of meta.json with every JSON text field parsed into its object (the view of older
    datasets, where they were objects)."""
    out = dict(meta)
    if isinstance(out.get("scenario_params"), dict):
        out["scenario_params"] = dict(out["scenario_params"])
    for path in JSON_TEXT_FIELDS:
        parent = out
        for name in path[:-1]:
            parent = parent.get(name) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and isinstance(parent.get(path[-1]), str):
            parent[path[-1]] = json.loads(parent[path[-1]])
    return out


def compacted(meta: dict) -> dict:
    """The inverse of ``expanded``: a copy with every JSON text field (given as an object) written
    as JSON text, as meta.json stores it."""
    out = dict(meta)
    if isinstance(out.get("scenario_params"), dict):
        out["scenario_params"] = dict(out["scenario_params"])
    for path, empty in JSON_TEXT_FIELDS.items():
        parent = out
        for name in path[:-1]:
            parent = parent.get(name) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and not isinstance(parent.get(path[-1], empty), str):
            parent[path[-1]] = json_text(parent.get(path[-1], empty))
    return out


def spec_from_meta(meta: dict):
    """The ClipSpec a meta.json records (JSON text, or the object of older datasets)."""
    from worldclips.scenes.serialization import from_jsonable
    from worldclips.scenes.spec import ClipSpec, upgrade

    spec = meta["spec"]
    return ClipSpec.from_json(spec) if isinstance(spec, str) else from_jsonable(ClipSpec, upgrade(spec))


def type_tree(value: Any) -> Any:
    """The JSON type tree of a value: objects -> {key: tree}, lists -> [merged element trees]
    (``[]`` when empty), leaves -> "null", "bool", "int", "float" or "str"."""
    if isinstance(value, dict):
        return {key: type_tree(item) for key, item in value.items()}
    if isinstance(value, list):
        trees = []
        for item in value:
            tree = type_tree(item)
            if tree not in trees:
                trees.append(tree)
        return trees
    if value is None:
        return "null"
    return {bool: "bool", int: "int", float: "float", str: "str"}.get(type(value), type(value).__name__)


def schema_problems(meta: Any, tree: Any = None, path: str = "meta.json") -> list[str]:
    """Where ``meta`` departs from META_TREE (missing or extra keys, other JSON types, JSON text
    that does not parse); empty when it conforms."""
    if tree is None:
        version = meta.get("schema_version") if isinstance(meta, dict) else None
        tree = dict(META_TREE)
        for name, (since, kind) in META_TREE_SINCE.items():
            if isinstance(version, int) and version >= since:
                tree[name] = kind
    if isinstance(tree, dict):
        if not isinstance(meta, dict):
            return [f"{path}: expected an object, got {type_tree(meta)!r}"]
        problems = [f"{path}.{name}: missing" for name in tree if name not in meta]
        problems += [f"{path}.{name}: not in the schema" for name in meta if name not in tree]
        for name in tree:
            if name in meta:
                problems += schema_problems(meta[name], tree[name], f"{path}.{name}")
        return problems
    if isinstance(tree, list):
        if not isinstance(meta, list):
            return [f"{path}: expected a list, got {type_tree(meta)!r}"]
        return [problem for index, item in enumerate(meta) for problem in schema_problems(item, tree[0], f"{path}[{index}]")]
    if tree == STRING_MAP:
        if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
            return [f"{path}: expected an object of strings"]
        return []
    if tree == JSON_TEXT:
        if not isinstance(meta, str):
            return [f"{path}: expected JSON text (a string), got {type_tree(meta)!r}"]
        try:
            json.loads(meta)
        except ValueError:
            return [f"{path}: not valid JSON text"]
        return []
    if type(meta) is not tree:  # bool is not int, int is not float
        return [f"{path}: expected {tree.__name__}, got {type_tree(meta)!r}"]
    return []


# ---- Hugging Face ``datasets``: declared features instead of types inferred from five clips ----

_LEAF_FEATURES = {int: "int64", float: "float64", str: "string", bool: "bool", JSON_TEXT: "string"}


def _feature(tree: Any, example: Any):
    from datasets import List, Value

    if isinstance(tree, dict):
        example = example if isinstance(example, dict) else {}
        return {name: _feature(sub, example.get(name)) for name, sub in tree.items()}
    if isinstance(tree, list):
        return List(_feature(tree[0], example[0] if isinstance(example, list) and example else None))
    if tree == STRING_MAP:
        return {name: Value("string") for name in (example or {})}
    return Value(_LEAF_FEATURES[tree])


def _npy_header(stream, where: str) -> tuple[str, int]:
    """(dtype name, ndim) from an .npy header, without reading the array."""
    version = np.lib.format.read_magic(stream)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, _, dtype = read(stream)
    if dtype.hasobject or dtype.fields is not None:
        raise ValueError(f"{where}: not a plain numeric array")
    return dtype.name, len(shape)


def _array_feature(dtype: str, ndim: int):
    from datasets import List, Value

    feature = Value(dtype)
    for _ in range(ndim):
        feature = List(feature)
    return feature


def hf_features(members: dict[str, bytes]):
    """``datasets.Features`` for ``load_dataset("webdataset", ..., features=...)`` from one sample's
    members (any clip of the dataset: ``shards.format.reader.first_sample``): meta.json with the declared types of
    META_TREE (so a list that is empty in the first clips still has its element type), every
    .npz member as a dict of nested lists of its arrays' dtypes (the arrays' number of dimensions
    does not depend on the clip), .npy likewise, and rgb.mp4 (any other member) as raw bytes."""
    import datasets
    from datasets import Value

    features = {}
    for name, data in members.items():
        extension = name.rpartition(".")[2]
        if name == "meta.json":
            meta = json.loads(data)
            tree = dict(META_TREE)
            for field, (since, kind) in META_TREE_SINCE.items():
                if meta.get("schema_version", 0) >= since:
                    tree[field] = kind
            features[name] = _feature(tree, meta)
        elif extension == "npz":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                arrays = {}
                for info in archive.infolist()[:64]:
                    with archive.open(info) as stream:
                        arrays[info.filename.removesuffix(".npy")] = _array_feature(*_npy_header(stream, f"{name}/{info.filename}"))
            features[name] = arrays
        elif extension == "npy":
            features[name] = _array_feature(*_npy_header(io.BytesIO(data), name))
        else:
            features[name] = Value("binary")
    features["__key__"] = Value("string")
    features["__url__"] = Value("string")
    return datasets.Features(features)

