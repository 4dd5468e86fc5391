"""One headless EGL context for all raster tests (renderers share it and release only their own objects)."""

from __future__ import annotations

import pytest

from worldclips.render.gl_context import create_egl_context


@pytest.fixture(scope="session")
def gl_context():
    # No skip: the raster backend is a core path, and CI machines have Mesa's EGL.
    ctx = create_egl_context()
    yield ctx
    ctx.release()


@pytest.fixture
def make_renderer(gl_context):
    """Factory: make_renderer(width, height, **options) -> RasterRenderer on the shared context."""
    from worldclips.render.raster import RasterRenderer

    made = []

    def make(width, height, **options):
        renderer = RasterRenderer.from_context(gl_context, width, height, **options)
        made.append(renderer)
        return renderer

    yield make
    for renderer in made:
        renderer.release()
