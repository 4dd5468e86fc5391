"""CyclesRenderer: Scene -> RenderedClip with Blender Cycles, one worker process per clip.

render(scene) writes the scene in the ``worldclips-cycles-scene`` format to a temporary
directory, runs ``worker.py`` with the Blender environment's Python on it, and reads back the
arrays the worker saved. A worker that crashes, leaks or hangs takes only its own process down:
the error names the clip's exit status and the end of the worker's log.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from worldclips.render.cycles.environment import CyclesEnvironment, probe_environment
from worldclips.render.cycles.options import CyclesConfig
from worldclips.render.cycles.scene_format import write_scene
from worldclips.render.frames import RenderedClip
from worldclips.scenes.scene import Scene

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
LOG_TAIL_LINES = 15


class CyclesWorkerError(RuntimeError):
    """The worker process failed; the message's first line says how."""


@dataclass
class RenderStats:
    """Timings of the last render (seconds): main-process work and what the worker reported."""

    write_s: float = 0.0
    worker_s: float = 0.0
    read_s: float = 0.0
    total_s: float = 0.0
    worker: dict = field(default_factory=dict)


class CyclesRenderer:
    """Renders Scenes with Cycles in a separate Blender process (one per clip).

    width, height: kept for the RasterRenderer-like interface (each scene brings its own size).
    device_index: GPU to use among those visible to the worker (None: all visible GPUs, which
        under Ray is the task's own GPU); ignored on the CPU.
    config: samples, denoising, motion blur, device, environment location, ...
    The environment is checked once, here: a missing or broken one raises CyclesEnvironmentError.
    """

    def __init__(
        self,
        width: int = 0,
        height: int = 0,
        device_index: int | None = None,
        *,
        config: CyclesConfig | None = None,
        environment: CyclesEnvironment | None = None,
    ) -> None:
        self.config = config or CyclesConfig()
        self.device_index = device_index
        self.environment = environment or probe_environment(self.config.env)
        self.last_stats = RenderStats()
        self._last_device = None

    def __enter__(self) -> "CyclesRenderer":
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def release(self) -> None:
        """Nothing to free: every clip's worker process has exited when render returns."""

    @property
    def description(self) -> str:
        c = self.config
        device = self._last_device or c.device
        return (
            f"cycles (Blender {self.environment.bpy_version} via bpy, {device}; samples={c.samples}, "
            f"denoise={c.denoise and self.environment.openimagedenoise}, motion_blur={c.motion_blur}, "
            f"ground_truth_only={c.ground_truth_only})"
        )

    def render(self, scene: Scene) -> RenderedClip:
        """All frames of a scene: (T, H, W, 3) uint8 sRGB, (T, H, W) float32 depth, (T, H, W) uint16 ids."""
        started = time.perf_counter()
        stats = RenderStats()
        with tempfile.TemporaryDirectory(prefix="worldclips-cycles-") as tmp:
            scene_dir, out_dir = Path(tmp) / "scene", Path(tmp) / "out"
            out_dir.mkdir()
            write_scene(scene, scene_dir, self.config, self.device_index)
            stats.write_s = time.perf_counter() - started
            tick = time.perf_counter()
            self._run_worker(scene_dir, out_dir)
            stats.worker_s = time.perf_counter() - tick
            tick = time.perf_counter()
            clip = self._read_outputs(out_dir, scene)
            stats.worker = json.loads((out_dir / "result.json").read_text())
            stats.read_s = time.perf_counter() - tick
        self._last_device = stats.worker.get("device")
        stats.total_s = time.perf_counter() - started
        self.last_stats = stats
        return clip

    def _run_worker(self, scene_dir: Path, out_dir: Path) -> None:
        log_path = out_dir / "worker.log"
        command = [str(self.environment.python), "-I", str(WORKER_SCRIPT), str(scene_dir), str(out_dir)]
        timeout = self.config.timeout_s or None
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            try:
                code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise CyclesWorkerError(
                    f"cycles worker: no result after {self.config.timeout_s:g} s (killed); {_log_tail(log_path)}"
                ) from None
            except BaseException:
                process.kill()
                process.wait()
                raise
        if code != 0:
            how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
            raise CyclesWorkerError(f"cycles worker failed ({how}); {_log_tail(log_path)}")
        if not (out_dir / "result.json").exists():
            raise CyclesWorkerError(f"cycles worker exited without results; {_log_tail(log_path)}")

    @staticmethod
    def _read_outputs(out_dir: Path, scene: Scene) -> RenderedClip:
        frames, height, width = int(scene.num_frames), int(scene.height), int(scene.width)
        expected = {
            "rgb": (np.uint8, (frames, height, width, 3)),
            "depth": (np.float32, (frames, height, width)),
            "seg": (np.uint16, (frames, height, width)),
        }
        arrays = {}
        for name, (dtype, shape) in expected.items():
            array = np.load(out_dir / f"{name}.npy", allow_pickle=False)
            if array.dtype != dtype or array.shape != shape:
                raise CyclesWorkerError(f"cycles worker: {name}.npy is {array.dtype} {array.shape}, expected {np.dtype(dtype)} {shape}")
            arrays[name] = array
        return RenderedClip(rgb=arrays["rgb"], depth=arrays["depth"], segmentation=arrays["seg"])


def _log_tail(path: Path) -> str:
    """The last meaningful lines of a worker log, joined on one line."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "no worker log"
    lines = [line.strip() for line in lines if line.strip() and not line.startswith(("Fra:", "worldclips-frame"))]
    tail = " | ".join(lines[-LOG_TAIL_LINES:])
    return f"worker log: {tail}" if tail else "empty worker log"
