"""Shards: RenderedClip + Scene -> WebDataset samples, shard files, manifest and validation."""
