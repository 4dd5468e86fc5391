"""Renderers: Scene -> RenderedClip (RGB, planar depth, instance segmentation)."""
