"""The one renderer factory: the moderngl raster backend or Cycles (Blender in its own process)."""

from __future__ import annotations

BACKENDS = ("raster", "cycles")


def make_renderer(backend: str, width: int, height: int, device_index: int | None = None, cycles=None,
                  supersample: int | None = None, motion_blur: float = 0.0, motion_blur_samples: int = 5):  # fmt: skip
    """A renderer for ``backend``; ``cycles`` (render.cycles.options.CyclesConfig) configures Cycles,
    ``supersample`` the raster backend's colour supersampling (None: 3 in the photo look, else 1),
    ``motion_blur`` and ``motion_blur_samples`` its motion blur (render.motion_blur; 0: none)."""
    if backend == "cycles":  # Blender in its own environment and process (docs/cycles.md)
        from worldclips.render.cycles import CyclesRenderer

        return CyclesRenderer(width, height, device_index=device_index, config=cycles)
    if backend != "raster":
        raise ValueError(f"backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")
    from worldclips.render.raster import RasterRenderer

    return RasterRenderer(width, height, device_index=device_index, supersample=supersample, motion_blur=motion_blur,
                          motion_blur_samples=motion_blur_samples)  # fmt: skip
