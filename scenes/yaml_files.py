"""Reading a YAML file that holds one mapping (a config, a scenario): a safe loader only, and
every problem as one line naming the file, raised as the caller's error class.

The loader is yaml.SafeLoader made stricter for files that may come from someone else: aliases
(``*name``) are refused, so a few hundred bytes of nested aliases cannot expand into billions of
nodes (an alias bomb); a key given twice in one mapping is an error, not a silent overwrite; and
files over MAX_YAML_BYTES are not parsed at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_YAML_BYTES = 1 << 20


class StrictLoader(yaml.SafeLoader):
    """yaml.SafeLoader without aliases and with duplicate keys refused."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, f"aliases (*{event.anchor}) are not allowed", event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:
                raise yaml.constructor.ConstructorError(None, None, "a mapping key must be a plain value", key_node.start_mark)
            if duplicate:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml_text(text: str):
    """Parse YAML text with StrictLoader (raises yaml.YAMLError)."""
    return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - StrictLoader is a SafeLoader


def yaml_problem(problem: yaml.YAMLError) -> str:
    """' at line N: what' of a YAML error (our own refusals say what; syntax errors give the line)."""
    mark = getattr(problem, "problem_mark", None)
    where = f" at line {mark.line + 1}" if mark is not None else ""
    what = getattr(problem, "problem", None)
    return f"{where}: {what}" if what and ("alias" in what or "duplicate" in what or "mapping key" in what) else where


def read_yaml_mapping(path: Path, what: str, error: type[Exception]) -> dict[str, Any]:
    """The file's top-level mapping (empty for an empty file); ``what`` names the file's kind in
    messages ("config", "scenario"); problems raise ``error`` with one line."""
    try:
        size = Path(path).stat().st_size
        if size > MAX_YAML_BYTES:
            raise error(f"{path}: {what} file of {size} bytes, expected at most {MAX_YAML_BYTES}")
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as problem:
        raise error(f"{path}: cannot read {what} file ({getattr(problem, 'strerror', None) or problem})") from problem
    try:
        data = load_yaml_text(text)
    except yaml.YAMLError as problem:
        raise error(f"{path}: not valid YAML{yaml_problem(problem)}") from problem
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(key, str) for key in data):
        raise error(f"{path}: expected a mapping of {what} fields at the top level, got {type(data).__name__}")
    return data
