"""The bundled trainer (streaming loader, conditioned video diffusion model, training loop).

Not built yet: it is tracked as its own issue. It will read shards through the sample schema
(shards.schema) only, never through how they were rendered.
"""
