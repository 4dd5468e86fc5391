"""Strict JSON round-trip for frozen dataclasses made of floats, ints, strings, tuples, str-keyed dicts and unions.

``to_jsonable`` turns a dataclass into plain JSON types; ``from_jsonable`` rebuilds it and
rejects unknown or missing fields with an error naming the field path. A union of dataclasses
is resolved by the ``family`` (or ``kind``, ``check``) field each member declares as its default.
A ValueError raised while building a dataclass is reported under its path; a message that starts
with one of the class's field names ("fov_deg: ...") continues that path ("camera.fov_deg: ...").
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any


class SpecError(ValueError):
    """A spec does not match its schema; the message names the field path."""


def to_jsonable(value: Any) -> Any:
    """Dataclass / tuple / scalar -> dicts, lists and scalars (tuples become lists)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        return value.item()
    return value


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


DISCRIMINATORS = ("family", "kind", "check")  # fields that tell the dataclasses of a union apart


def _discriminator(cls: type) -> str | None:
    """The name of the field (one of DISCRIMINATORS, with a default) that names ``cls`` in a union."""
    for field in dataclasses.fields(cls):
        if field.name in DISCRIMINATORS and field.default is not dataclasses.MISSING:
            return field.name
    return None


def _family(cls: type) -> str | None:
    name = _discriminator(cls)
    return None if name is None else next(f.default for f in dataclasses.fields(cls) if f.name == name)


def _convert(tp: Any, data: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    if tp is Any:
        return data
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if data is None and type(None) in options:
            return None
        classes = [o for o in options if _is_dataclass_type(o)]
        if classes and isinstance(data, dict):
            key = _discriminator(classes[0]) or "family"
            family = data.get(key)
            for cls in classes:
                if _family(cls) == family:
                    return _convert(cls, data, path)
            names = sorted(str(_family(c)) for c in classes)
            raise SpecError(f"{path}.{key}: expected one of {names}, got {family!r}")
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _convert(option, data, path)
            except SpecError as error:
                errors.append(str(error))
        raise SpecError(errors[0] if errors else f"{path}: unexpected value {data!r}")
    if _is_dataclass_type(tp):
        return from_jsonable(tp, data, path)
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(data, (list, tuple)):
            raise SpecError(f"{path}: expected a list, got {type(data).__name__}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, f"{path}[{i}]") for i, v in enumerate(data))
        if len(data) != len(args):
            raise SpecError(f"{path}: expected {len(args)} values, got {len(data)}")
        return tuple(_convert(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, data)))
    if origin is dict:
        key_type, value_type = typing.get_args(tp)
        if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
            raise SpecError(f"{path}: expected a mapping with string keys, got {type(data).__name__}")
        return {k: _convert(value_type, v, f"{path}.{k}") for k, v in data.items()}
    if origin is typing.Literal:
        if data not in typing.get_args(tp):
            raise SpecError(f"{path}: expected one of {list(typing.get_args(tp))}, got {data!r}")
        return data
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, (int, float)) or not math.isfinite(data):
            raise SpecError(f"{path}: expected a finite number, got {data!r}")
        return float(data)
    if tp is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise SpecError(f"{path}: expected an integer, got {data!r}")
        return data
    if tp is bool:
        if not isinstance(data, bool):
            raise SpecError(f"{path}: expected true or false, got {data!r}")
        return data
    if tp is str:
        if not isinstance(data, str):
            raise SpecError(f"{path}: expected a string, got {data!r}")
        return data
    raise SpecError(f"{path}: unsupported type {tp!r}")


def from_jsonable(cls: type, data: Any, path: str | None = None) -> Any:
    """Rebuild dataclass ``cls`` from plain JSON data; errors name the offending field path."""
    path = path or cls.__name__
    if not isinstance(data, dict):
        raise SpecError(f"{path}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise SpecError(f"{path}: unknown field {unknown[0]!r} (expected {sorted(fields)})")
    values = {}
    for name, field in fields.items():
        if name not in data:
            if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                raise SpecError(f"{path}.{name}: missing")
            continue
        values[name] = _convert(hints[name], data[name], f"{path}.{name}")
    try:
        return cls(**values)
    except (TypeError, ValueError) as error:
        message = str(error)
        if message.startswith(path):
            raise SpecError(message) from error
        head = message.split(":", 1)[0].split(".", 1)[0].split("[", 1)[0]
        joined = f"{path}.{message}" if head in fields and head != message else f"{path}: {message}"
        raise SpecError(joined) from error  # "field: ..." from __post_init__ reads "path.field: ..."
