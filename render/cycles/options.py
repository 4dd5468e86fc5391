"""CyclesConfig: the Cycles backend's settings (the ``cycles:`` field of a generate config).

Plain values only (JSON/YAML round-trippable through ``scenes.serialization``); importing this
module never imports bpy.
"""

from __future__ import annotations

from dataclasses import dataclass

DEVICES = ("auto", "cpu", "optix", "cuda")
VIEW_TRANSFORMS = ("Khronos PBR Neutral", "AgX", "Standard")


@dataclass(frozen=True)
class CyclesConfig:
    """How the Cycles backend renders.

    env: directory of the Blender virtual environment (None: the per-user default,
        ``~/.cache/worldclips/cycles-venv``; create it with ``worldclips setup cycles``).
    samples: path-traced samples per pixel of the RGB image.
    denoise: OpenImageDenoise on the RGB image when the bpy build has it.
    motion_blur: blur over ``shutter`` frames centred on each frame; ground truth stays at the
        shutter centre (a separate one-sample render per frame).
    device: auto (OptiX, else CUDA, else CPU), cpu, optix or cuda.
    threads: CPU threads (0: all cores).
    max_bounces: light path bounces.
    filter_width_px: Blackman-Harris pixel filter width of the RGB image (ground truth is at
        pixel centres whatever this is).
    view_transform: colour management view transform of the RGB image ("Khronos PBR Neutral"
        keeps base colours close to the raster backend's; "AgX" gets a contrast look drawn per
        clip; "Standard" is the plain sRGB curve the raster backend uses).
    exposure: exposure in stops added to the per-clip look.
    look_seed: mixed into the per-clip random look (materials, lights) with the scene itself.
    adaptive_sampling: stop sampling converged pixels early.
    ground_truth_only: render depth and segmentation only (one sample; RGB left black).
    timeout_s: kill a worker that runs longer than this per clip (0: no limit).
    """

    env: str | None = None
    samples: int = 64
    denoise: bool = True
    motion_blur: bool = False
    shutter: float = 0.5
    device: str = "auto"
    threads: int = 0
    max_bounces: int = 6
    filter_width_px: float = 1.5
    view_transform: str = "Khronos PBR Neutral"
    exposure: float = 0.0
    look_seed: int = 0
    adaptive_sampling: bool = True
    ground_truth_only: bool = False
    timeout_s: float = 0.0

    def __post_init__(self) -> None:
        def integer(name: str, low: int, high: int) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"cycles.{name}: expected an integer in {low}..{high}, got {value!r}")

        def number(name: str, low: float, high: float) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise ValueError(f"cycles.{name}: expected a number in {low}..{high}, got {value!r}")

        if self.env is not None and (not isinstance(self.env, str) or not self.env.strip()):
            raise ValueError(f"cycles.env: expected a directory path, got {self.env!r}")
        integer("samples", 1, 1 << 16)
        integer("threads", 0, 1024)
        integer("max_bounces", 0, 128)
        integer("look_seed", 0, 2**63 - 1)
        number("shutter", 0.01, 2.0)
        number("filter_width_px", 0.01, 10.0)
        number("exposure", -10.0, 10.0)
        number("timeout_s", 0.0, 1e7)
        for name in ("denoise", "motion_blur", "adaptive_sampling", "ground_truth_only"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"cycles.{name}: expected true or false, got {getattr(self, name)!r}")
        if self.device not in DEVICES:
            raise ValueError(f"cycles.device: expected one of {list(DEVICES)}, got {self.device!r}")
        if self.view_transform not in VIEW_TRANSFORMS:
            raise ValueError(f"cycles.view_transform: expected one of {list(VIEW_TRANSFORMS)}, got {self.view_transform!r}")
