"""PBR texture folders: sets found in the *_Color / *_Roughness / *_NormalGL layout, every bad
folder, entry or image refused with one line naming it, recorded files checked on rebuild, and
the photo look drawing surfaces with them (only when a folder is given)."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest

from worldclips.scenes import textures
from worldclips.scenes.dressing import photo_dress
from worldclips.scenes.sampling import sample_clip_spec
from worldclips.scenes.scene_config import SceneConfig
from worldclips.scenes.spec import ClipSpec
from worldclips.scenes.textures import TextureFolderError, load_texture, read_texture_folder
from tests.scenes.texture_files import png_declaring, quadrant_image, write_folder, write_set


def test_sets_are_found_in_the_download_layout(tmp_path):
    sets = {t.name: t for t in read_texture_folder(write_folder(tmp_path))}
    assert sorted(sets) == ["Quadrants", "Tilted"]
    quadrants, tilted = sets["Quadrants"], sets["Tilted"]
    assert quadrants.color.endswith("Quadrants_1K-PNG_Color.png") and not quadrants.roughness and not quadrants.normal
    assert quadrants.uses == ("ground", "floor") and quadrants.size_m == 2.0
    assert tilted.roughness.endswith("_Roughness.png") and tilted.normal.endswith("_NormalGL.png")
    image = load_texture(quadrants.color, quadrants.color_sha256, "Color")
    np.testing.assert_array_equal(image, quadrant_image())
    assert load_texture(tilted.roughness, tilted.roughness_sha256, "Roughness").shape == (8, 8)


def _error(tmp_path, yaml_text=None, prepare=None) -> str:
    folder = write_folder(tmp_path / "t", yaml_text)
    if prepare is not None:
        prepare(folder)
    with pytest.raises(TextureFolderError) as caught:
        read_texture_folder(folder)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    "yaml_text, expected",
    [
        ("Quadrants: {uses: [ceiling], size: 2.0}\n", "uses: expected some of"),
        ("Quadrants: {uses: [floor], size: 0}\n", "size: expected metres"),
        ("Quadrants: {uses: [floor], size: 2, tile: 3}\n", "unknown field 'tile'"),
        ("'../Quadrants': {uses: [floor], size: 2}\n", "expected a set name"),
        ("Missing: {uses: [floor], size: 2}\n", "no Missing*_Color image"),
        ("Quadrants: [floor, 2]\n", "expected a mapping"),
        ("- a\n- b\n", "expected a mapping of textures fields"),
        ("a: &x {uses: [floor], size: 2}\nb: *x\n", "aliases"),
    ],
)
def test_bad_entries_are_refused_with_one_line(tmp_path, yaml_text, expected):
    assert expected in _error(tmp_path, yaml_text)


def test_bad_images_are_refused_before_they_are_decoded(tmp_path, monkeypatch):
    def second_color(folder):
        write_set(folder, "Quadrants", quadrant_image(), infix="_2K-PNG")

    assert "2 Color images" in _error(tmp_path / "a", prepare=second_color)

    def large(folder):
        png_declaring(next(folder.glob("Quadrants*_Color.png")), 10000, 10000)

    def huge(folder):
        png_declaring(next(folder.glob("Quadrants*_Color.png")), 40000, 40000)

    assert "10000x10000 pixels, expected at most" in _error(tmp_path / "b", prepare=large)
    assert "declares more than" in _error(tmp_path / "b2", prepare=huge)

    def not_an_image(folder):
        next(folder.glob("Quadrants*_Color.png")).write_text("<html>not a png</html>")

    assert "not a readable image" in _error(tmp_path / "c", prepare=not_an_image)

    def symlink(folder):
        target = tmp_path / "elsewhere.png"
        path = next(folder.glob("Quadrants*_Color.png"))
        path.rename(target)
        os.symlink(target, path)

    assert "expected a plain file in the folder" in _error(tmp_path / "d", prepare=symlink)
    monkeypatch.setattr(textures, "MAX_TEXTURE_FILE_BYTES", 100)
    assert "bytes, expected at most 100" in _error(tmp_path / "e")
    monkeypatch.undo()
    assert "is not a directory" in str(pytest.raises(TextureFolderError, read_texture_folder, tmp_path / "none").value)
    (tmp_path / "empty").mkdir()
    assert "has no textures.yaml" in str(pytest.raises(TextureFolderError, read_texture_folder, tmp_path / "empty").value)


def test_a_changed_image_is_refused_when_the_clip_is_rebuilt(tmp_path):
    quadrants = read_texture_folder(write_folder(tmp_path))[0]
    image = quadrant_image()
    image[0, 0] = 0
    write_set(tmp_path, "Quadrants", image)
    with pytest.raises(ValueError, match="not the image this clip was drawn with"):
        load_texture(quadrants.color, quadrants.color_sha256, "Color")
    os.remove(quadrants.color)
    with pytest.raises(ValueError, match="is missing"):  # a ValueError: cross-checks report it per clip
        load_texture(quadrants.color, quadrants.color_sha256, "Color")


def test_the_photo_look_draws_surfaces_with_the_sets_that_may_cover_them(tmp_path):
    sets = read_texture_folder(write_folder(tmp_path))
    by_name = {t.name: t for t in sets}
    textured_grounds, textured_props, textured_walls = 0, 0, 0
    for index in range(16):
        spec = sample_clip_spec(SceneConfig(), 2, index, 24.0, 8, 64, 48)
        plain, dressed = photo_dress(spec), photo_dress(spec, textures=sets)
        assert dressed.characters == plain.characters and dressed.lighting == plain.lighting  # drawn last
        assert photo_dress(spec, textures=sets) == dressed and ClipSpec.from_json(dressed.to_json()) == dressed
        if dressed.ground.texture is not None:
            textured_grounds += 1
            assert dressed.ground.texture == by_name["Quadrants"]  # the only set for ground and floor
        else:
            assert dressed.ground == plain.ground
        for before, after in zip(plain.props, dressed.props):
            assert after.material.texture in (None, by_name["Tilted"])
            textured_props += after.material.texture is not None
            if after.material.texture is None:
                assert after.material == before.material
        if dressed.room is not None:
            textured_walls += dressed.room.wall.texture is not None
    assert 3 <= textured_grounds <= 13 and textured_props >= 5 and textured_walls >= 1
    spec = dataclasses.replace(sample_clip_spec(SceneConfig(), 2, 0, 24.0, 8, 64, 48))
    assert photo_dress(spec, textures=()) == photo_dress(spec)


def test_recorded_sets_name_absolute_files_with_their_hashes(tmp_path):
    quadrants = read_texture_folder(write_folder(tmp_path))[0]
    with pytest.raises(ValueError, match="expected its sha256"):
        dataclasses.replace(quadrants, color_sha256="")  # a spec cannot skip the check
    with pytest.raises(ValueError, match="absolute path"):
        dataclasses.replace(quadrants, color="images/x_Color.png")
    with pytest.raises(ValueError, match="absolute path"):
        dataclasses.replace(quadrants, normal="/etc/passwd", normal_sha256="0" * 64)


def test_a_longer_set_name_keeps_its_own_files_and_16_bit_roughness_keeps_its_range(tmp_path):
    from PIL import Image

    folder = write_folder(tmp_path)
    write_set(folder, "Quadrants_Blue", quadrant_image()[:, ::-1].copy())
    Image.fromarray(np.full((4, 4), 0x8000, dtype=np.uint16)).save(folder / "Quadrants_Blue_1K-PNG_Roughness.png")
    (folder / "textures.yaml").write_text("Quadrants: {uses: [floor], size: 2}\nQuadrants_Blue: {uses: [wall], size: 1}\n")
    sets = {t.name: t for t in read_texture_folder(folder)}
    assert sets["Quadrants"].color.endswith("/Quadrants_1K-PNG_Color.png") and not sets["Quadrants"].roughness
    assert sets["Quadrants_Blue"].color.endswith("/Quadrants_Blue_1K-PNG_Color.png")
    roughness = load_texture(sets["Quadrants_Blue"].roughness, sets["Quadrants_Blue"].roughness_sha256, "Roughness")
    assert roughness.dtype == np.uint8 and np.all(roughness == 128)
