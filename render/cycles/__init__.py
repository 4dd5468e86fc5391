"""The quality backend: Blender Cycles through bpy, in its own virtual environment and process.

Importing this package never imports bpy (that happens only in ``worker.py``, run by the
Blender environment's Python). See docs/cycles.md.
"""

from worldclips.render.cycles.environment import CyclesEnvironmentError, create_environment, default_env_dir, probe_environment
from worldclips.render.cycles.options import CyclesConfig
from worldclips.render.cycles.renderer import CyclesRenderer, CyclesWorkerError

__all__ = [
    "CyclesConfig",
    "CyclesEnvironmentError",
    "CyclesRenderer",
    "CyclesWorkerError",
    "create_environment",
    "default_env_dir",
    "probe_environment",
]
