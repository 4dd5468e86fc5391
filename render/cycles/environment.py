"""The Blender environment: a separate virtual environment holding bpy and numpy < 2.

bpy 5.0.1 (the newest bpy for Python 3.11) requires numpy < 2 while worldclips uses numpy 2, so
bpy lives in its own virtual environment and runs in its own process (``worker.py``).

- Location: ``CyclesConfig.env`` (the ``cycles: {env: DIR}`` config field, or
  ``worldclips setup cycles --env DIR``); by default ``~/.cache/worldclips/cycles-venv``.
  Environment variables are not consulted.
- Creation: ``worldclips setup cycles [--env DIR]`` makes the venv with the running Python
  (3.11) and pip-installs the pinned packages there, showing pip's progress (about 375 MB to
  download, about 1 GB on disk). Running it again on a working environment does nothing.
- Use: the Cycles renderer never creates the environment by itself (it is a large download);
  when it is missing or broken, it stops with one line naming the path and the command to run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BPY_VERSION = "5.0.1"
NUMPY_VERSION = "1.26.4"
PINNED_PACKAGES = (f"bpy=={BPY_VERSION}", f"numpy=={NUMPY_VERSION}")
PYTHON_VERSION = (3, 11)
SETUP_COMMAND = "worldclips setup cycles"
PROBE_TIMEOUT_S = 120.0
_PROBE = (
    "import json, sys, numpy, bpy, _cycles; "
    "print(json.dumps({'python': '%d.%d.%d' % sys.version_info[:3], 'numpy': numpy.__version__, "
    "'bpy': bpy.app.version_string, 'oidn': bool(getattr(_cycles, 'with_openimagedenoise', False))}))"
)


class CyclesEnvironmentError(RuntimeError):
    """The Blender environment is missing or broken; the message is one line naming its path."""


def default_env_dir() -> Path:
    """The per-user default location of the Blender environment."""
    return Path.home() / ".cache" / "worldclips" / "cycles-venv"


def resolve_env_dir(env: str | os.PathLike | None) -> Path:
    return Path(env).expanduser() if env else default_env_dir()


def env_python(env_dir: Path) -> Path:
    return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _setup_hint(env_dir: Path) -> str:
    return SETUP_COMMAND if env_dir == default_env_dir() else f"{SETUP_COMMAND} --env {env_dir}"


@dataclass(frozen=True)
class CyclesEnvironment:
    """A checked Blender environment: its directory, interpreter and versions."""

    path: Path
    python: Path
    bpy_version: str
    numpy_version: str
    python_version: str
    openimagedenoise: bool


def probe_environment(env: str | os.PathLike | None = None) -> CyclesEnvironment:
    """Check that the environment exists and imports bpy with the pinned versions.

    Raises CyclesEnvironmentError (one line: what is wrong, the path, the command that fixes it).
    """
    env_dir = resolve_env_dir(env)
    hint = _setup_hint(env_dir)
    if not env_dir.exists():
        raise CyclesEnvironmentError(f"cycles: no Blender environment at {env_dir}; create it with `{hint}`")
    python = env_python(env_dir)
    if not python.exists():
        raise CyclesEnvironmentError(
            f"cycles: broken Blender environment at {env_dir} (no {python.relative_to(env_dir)}); re-create it with `{hint}`"
        )
    try:
        done = subprocess.run(
            [str(python), "-I", "-c", _PROBE], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise CyclesEnvironmentError(f"cycles: broken Blender environment at {env_dir} ({error}); re-create it with `{hint}`") from error
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit code {done.returncode}"
        raise CyclesEnvironmentError(
            f"cycles: broken Blender environment at {env_dir}: cannot import bpy ({reason}); repair it with `{hint}`"
        )
    try:
        info = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as error:
        raise CyclesEnvironmentError(f"cycles: broken Blender environment at {env_dir}: unreadable probe output") from error
    if not info["bpy"].startswith(BPY_VERSION.rsplit(".", 1)[0]) or not info["numpy"].startswith("1."):
        raise CyclesEnvironmentError(
            f"cycles: Blender environment at {env_dir} has bpy {info['bpy']} and numpy {info['numpy']}, "
            f"expected bpy {BPY_VERSION} and numpy {NUMPY_VERSION}; repair it with `{hint}`"
        )
    return CyclesEnvironment(
        path=env_dir,
        python=python,
        bpy_version=info["bpy"],
        numpy_version=info["numpy"],
        python_version=info["python"],
        openimagedenoise=bool(info["oidn"]),
    )


def _print(line: str) -> None:
    print(line, flush=True)  # before pip's own output, which goes straight to the terminal


def create_environment(env: str | os.PathLike | None = None, python: str | None = None, log=_print) -> CyclesEnvironment:
    """Create (or repair) the Blender environment and return it checked.

    Uses ``python`` (default: the running interpreter, which must be 3.11) for the venv, then
    pip-installs PINNED_PACKAGES into it with pip's own progress output on the terminal.
    An environment that already probes fine is left as it is.
    """
    env_dir = resolve_env_dir(env)
    try:
        found = probe_environment(env_dir)
        log(f"cycles: Blender environment at {env_dir} is ready (bpy {found.bpy_version}, numpy {found.numpy_version})")
        return found
    except CyclesEnvironmentError:
        pass
    python = python or sys.executable
    if python == sys.executable and sys.version_info[:2] != PYTHON_VERSION:
        raise CyclesEnvironmentError(
            f"cycles: bpy {BPY_VERSION} needs Python {PYTHON_VERSION[0]}.{PYTHON_VERSION[1]}, this is {sys.version.split()[0]}"
        )
    if env_dir.exists() and not env_dir.is_dir():
        raise CyclesEnvironmentError(f"cycles: {env_dir} exists and is not a directory")
    if not env_python(env_dir).exists():
        log(f"cycles: creating a virtual environment at {env_dir}")
        env_dir.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([python, "-m", "venv", str(env_dir)], check=True)
    log(f"cycles: installing {' '.join(PINNED_PACKAGES)} into {env_dir} (about 375 MB to download, 1 GB on disk)")
    command = [str(env_python(env_dir)), "-m", "pip", "install", "--disable-pip-version-check", *PINNED_PACKAGES]
    done = subprocess.run(command, check=False)
    if done.returncode != 0:
        raise CyclesEnvironmentError(f"cycles: pip could not install {' '.join(PINNED_PACKAGES)} into {env_dir} (exit code {done.returncode})")
    found = probe_environment(env_dir)
    log(f"cycles: Blender environment at {env_dir} is ready (bpy {found.bpy_version}, numpy {found.numpy_version})")
    return found
