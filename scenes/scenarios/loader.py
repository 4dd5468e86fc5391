"""Reading scenario files: YAML (safe_load only), ``extends`` chains, presets, one-line errors.

A scenario is named by a preset name (a file in scenes/scenarios/presets/, shipped with the
package) or a path to a ``.yaml`` / ``.yml`` file. ``extends: OTHER`` starts from another
scenario (a preset name, or a path relative to the extending file): mappings merge key by key,
the child's values win, lists (choices, properties) are replaced whole, and a layout of another
``kind`` replaces the parent's layout. Cycles are refused. Every problem is one ScenarioError
line naming the file and the field path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from worldclips.scenes.scenarios.schema import Scenario
from worldclips.scenes.serialization import SpecError, from_jsonable
from worldclips.scenes.yaml_files import read_yaml_mapping

PRESET_DIR = Path(__file__).resolve().parent / "presets"
SUFFIXES = (".yaml", ".yml")
ROOT = "scenario"


class ScenarioError(ValueError):
    """A scenario cannot be read or is invalid; the message is one line naming the file and field."""


def preset_names() -> list[str]:
    """The scenarios shipped with worldclips, sorted."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def locate(name: str, base: Path | None = None) -> Path:
    """The file of a preset name or a path (relative paths against ``base``, then the working directory)."""
    text = str(name)
    if not text.endswith(SUFFIXES) and "/" not in text and "\\" not in text:
        path = PRESET_DIR / f"{text}.yaml"
        if path.is_file():
            return path
        raise ScenarioError(f"scenario {text!r}: no such preset (presets: {', '.join(preset_names())}); give a .yaml path for a file")
    path = Path(text).expanduser()
    if not path.is_absolute() and base is not None and (base / path).is_file():
        path = base / path
    if not path.is_file():
        raise ScenarioError(f"{text}: no such scenario file")
    return path


def read_yaml(path: Path) -> dict[str, Any]:
    """The file's top-level mapping (the strict safe loader of scenes.yaml_files)."""
    return read_yaml_mapping(path, "scenario", ScenarioError)


def merge(parent: dict, child: dict) -> dict:
    """``child`` over ``parent``: mappings merge recursively, anything else is replaced."""
    out = dict(parent)
    for key, value in child.items():
        old = out.get(key)
        if key == "layout" and isinstance(old, dict) and isinstance(value, dict) and value.get("kind", old.get("kind")) != old.get("kind"):
            out[key] = value  # another layout kind: nothing of the parent's layout applies
        elif isinstance(old, dict) and isinstance(value, dict):
            out[key] = merge(old, value)
        else:
            out[key] = value
    return out


def raw_scenario(path: Path, chain: tuple[Path, ...] = ()) -> tuple[dict, tuple[Path, ...]]:
    """The merged mapping of a scenario file and its ``extends`` chain (files, child first)."""
    path = path.resolve()
    if path in chain:
        loop = " -> ".join(p.name for p in (*chain, path))
        raise ScenarioError(f"{chain[0]}: extends: cycle {loop}")
    data = read_yaml(path)
    parent_name = data.pop("extends", None)
    if parent_name is None:
        return data, (*chain, path)
    if not isinstance(parent_name, str) or not parent_name:
        raise ScenarioError(f"{path}: extends: expected a scenario name or file, got {parent_name!r}")
    try:
        parent_path = locate(parent_name, path.parent)
    except ScenarioError as error:
        raise ScenarioError(f"{path}: extends: {error}") from None
    parent, files = raw_scenario(parent_path, (*chain, path))
    return merge(parent, data), files


def parse_scenario(data: dict, where: str) -> Scenario:
    """A Scenario from a merged mapping; errors name ``where`` and the field path."""
    try:
        return from_jsonable(Scenario, data, ROOT)
    except SpecError as error:
        message = str(error)
        if message.startswith(f"{ROOT}."):
            message = message[len(ROOT) + 1 :]
        elif message.startswith(f"{ROOT}: "):
            message = message[len(ROOT) + 2 :]
        raise ScenarioError(f"{where}: {message}") from None


def load_scenario(name: str) -> tuple[str, Scenario]:
    """(name, Scenario) of a preset name or a scenario file; the name of a file is its stem."""
    path = locate(name)
    data, files = raw_scenario(path)
    if "scenarios" in data:
        raise ScenarioError(f"{path}: a mixture of scenarios (scenarios:), not a scenario; use it with generate --scenario")
    where = str(name) if len(files) == 1 else f"{name} (extends {' -> '.join(p.name for p in files[1:])})"
    return path.stem, parse_scenario(data, where)


def resolved_yaml(name: str) -> str:
    """The scenario with its extends chain merged and every default filled in, as YAML."""
    from worldclips.scenes.serialization import to_jsonable

    _, scenario = load_scenario(name)
    return yaml.safe_dump(_kind_first(to_jsonable(scenario)), sort_keys=False, default_flow_style=None, width=110)


def _kind_first(data):
    """The same data with ``kind`` / ``check`` first in every mapping (easier to read)."""
    if isinstance(data, dict):
        first = [k for k in ("kind", "check") if k in data]
        return {k: _kind_first(data[k]) for k in (*first, *(k for k in data if k not in first))}
    if isinstance(data, list):
        return [_kind_first(v) for v in data]
    return data


def describe(name: str) -> str:
    """The first sentence of a scenario's description."""
    _, scenario = load_scenario(name)
    text = " ".join(scenario.description.split())
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]
