"""Headless OpenGL contexts for the raster backend: EGL only, no window system.

On a CPU-only machine EGL comes from Mesa (llvmpipe); on GPU machines from the NVIDIA driver.
``device_index`` selects the EGL device (one per GPU) on multi-GPU hosts; note that glcontext lets
the environment variable ``GLCONTEXT_DEVICE_INDEX`` override it.
"""

from __future__ import annotations

import moderngl

# GLSL 3.30 core: uniform blocks, integer attributes and outputs, texelFetch, sampler2DShadow.
REQUIRED_GL_VERSION = 330


def create_egl_context(device_index: int | None = None) -> moderngl.Context:
    """A new standalone moderngl context on EGL; raises RuntimeError when EGL cannot be used."""
    if device_index is not None and (not isinstance(device_index, int) or device_index < 0):
        raise ValueError(f"device_index: expected a non-negative int or None, got {device_index!r}")
    kwargs: dict = {"backend": "egl", "require": REQUIRED_GL_VERSION}
    if device_index is not None:
        kwargs["device_index"] = device_index
    try:
        return moderngl.create_standalone_context(**kwargs)
    except Exception as exc:  # glcontext raises plain Exceptions with driver messages
        device = "default device" if device_index is None else f"device_index={device_index}"
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise RuntimeError(
            f"headless EGL OpenGL {REQUIRED_GL_VERSION // 100}.{REQUIRED_GL_VERSION % 100 // 10}+ context "
            f"unavailable ({device}): {message}; install Mesa's libEGL (CPU) or the GPU driver's EGL"
        ) from exc


def describe_context(ctx: moderngl.Context) -> dict[str, str]:
    """Vendor, renderer and version strings of a context (for meta.json and logs)."""
    info = ctx.info
    return {
        "vendor": str(info.get("GL_VENDOR", "")),
        "renderer": str(info.get("GL_RENDERER", "")),
        "version": str(info.get("GL_VERSION", "")),
    }
