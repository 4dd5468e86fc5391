"""Scenes: a seeded ClipSpec -> a fully resolved Scene (characters, props, lights, camera path)."""
