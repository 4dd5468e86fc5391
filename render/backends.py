"""The one renderer factory: the moderngl raster backend or Cycles (Blender in its own process)."""

from __future__ import annotations

BACKENDS = ("raster", "cycles")


def make_renderer(backend: str, width: int, height: int, device_index: int | None = None, cycles=None):
    """A renderer for ``backend``; ``cycles`` (render.cycles.options.CyclesConfig) configures Cycles."""
    if backend == "cycles":  # Blender in its own environment and process (docs/cycles.md)
        from worldclips.render.cycles import CyclesRenderer

        return CyclesRenderer(width, height, device_index=device_index, config=cycles)
    if backend != "raster":
        raise ValueError(f"backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")
    from worldclips.render.raster import RasterRenderer

    return RasterRenderer(width, height, device_index=device_index)
