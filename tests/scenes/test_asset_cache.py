"""AssetCache: decoded maps and texture images kept within a worker, bounded, never stale."""

from __future__ import annotations

import numpy as np
import pytest

from tests.render.test_environments import synthetic_map, write_map
from tests.scenes.texture_files import quadrant_image, write_set
from worldclips.scenes.asset_cache import AssetCache
from worldclips.scenes.environments import environment_light, map_light, read_map
from worldclips.shards.format.writer import sha256_file
from worldclips.scenes.textures import load_texture


def test_least_recently_used_entries_go_first_and_the_bound_holds():
    cache = AssetCache(max_bytes=3 * 800)
    arrays = {k: np.full(100, k, dtype=np.float64) for k in range(4)}  # 800 bytes each
    for k in (0, 1, 2):
        cache.get(k, lambda k=k: arrays[k])
    cache.get(0, lambda: pytest.fail("0 is cached"))  # 0 is now the most recent
    cache.get(3, lambda: arrays[3])  # evicts 1, the least recently used
    assert cache.nbytes <= cache.max_bytes and len(cache) == 3
    assert cache.get(1, lambda: "loaded again") == "loaded again"
    assert cache.get(0, lambda: pytest.fail("0 stays")) is arrays[0]
    big = np.zeros(1000)  # larger than the whole cache: returned, not kept
    assert cache.get("big", lambda: big) is big and "big" not in cache._entries
    with pytest.raises(ValueError, match="max_bytes"):
        AssetCache(-1)


def test_a_map_is_decoded_once_and_gives_the_same_light(tmp_path):
    path = tmp_path / "sky.exr"
    write_map(path, synthetic_map(32), "exr")
    cache = AssetCache()
    sha, light = map_light(path, 0.3, cache)
    again_sha, again = map_light(path, 0.3, cache)  # as building the clip after dressing it does
    assert again is light and again_sha == sha == sha256_file(path)
    expected = environment_light(read_map(path), 0.3)
    np.testing.assert_array_equal(light.image, expected.image)
    np.testing.assert_array_equal(light.sun_direction, expected.sun_direction)
    other = map_light(path, -1.0, cache)[1]  # another clip's turn: the decoded map is reused
    np.testing.assert_array_equal(other.image, environment_light(read_map(path), -1.0).image)
    assert (cache.misses, cache.hits) == (3, 2)  # map + 2 lights loaded; a light and the map reused


def test_a_changed_file_is_never_served_from_the_cache(tmp_path):
    path = tmp_path / "sky.exr"
    write_map(path, synthetic_map(32), "exr")
    cache = AssetCache()
    _, before = map_light(path, 0.0, cache)
    brighter = synthetic_map(32) * 2.0
    write_map(path, brighter, "exr")
    sha, after = map_light(path, 0.0, cache)
    assert sha == sha256_file(path)
    np.testing.assert_array_equal(after.image, environment_light(brighter, 0.0).image)
    assert not np.array_equal(after.image, before.image)


def test_texture_images_are_decoded_once(tmp_path):
    write_set(tmp_path, "Quad", quadrant_image(16))
    path = str(tmp_path / "Quad_1K-PNG_Color.png")
    sha = sha256_file(path)
    cache = AssetCache()
    first = load_texture(path, sha, "Color", cache)
    assert load_texture(path, sha, "Color", cache) is first
    np.testing.assert_array_equal(first, load_texture(path, sha, "Color"))
    assert (cache.misses, cache.hits) == (1, 1)
