"""Reading a YAML file that holds one mapping (a config, a scenario): yaml.safe_load only, and
every problem as one line naming the file, raised as the caller's error class."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def read_yaml_mapping(path: Path, what: str, error: type[Exception]) -> dict[str, Any]:
    """The file's top-level mapping (empty for an empty file); ``what`` names the file's kind in
    messages ("config", "scenario"); problems raise ``error`` with one line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as problem:
        raise error(f"{path}: cannot read {what} file ({getattr(problem, 'strerror', None) or problem})") from problem
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as problem:
        mark = getattr(problem, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise error(f"{path}: not valid YAML{where}") from problem
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(key, str) for key in data):
        raise error(f"{path}: expected a mapping of {what} fields at the top level, got {type(data).__name__}")
    return data
