"""The photographic look: outfits by body region, the analytic sky, supersampled colour, and the
ground truth unchanged by any of it (checked against the flat look and against projection)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from worldclips.motions.body_regions import REGION_INDEX, REGIONS
from worldclips.motions.conventions import joint_index, project_points
from worldclips.scenes.dressing import photo_dress
from worldclips.scenes.outfits import Outfit, draw_outfit
from worldclips.scenes.scene import PhotoLook
from worldclips.scenes.sky import sky_radiance
from worldclips.scenes.spec import ClipSpec
from tests.render import scene_builders as sb

RED, GREEN, BLUE = (0.7, 0.02, 0.02), (0.02, 0.6, 0.02), (0.02, 0.05, 0.7)
TEST_OUTFIT = Outfit(top="long sleeves", top_color=GREEN, top_pattern="plain", top_pattern_color=GREEN,
                     bottom="trousers", bottom_color=BLUE, shoes_color=RED, skin_color=(0.5, 0.35, 0.25),
                     hair="short hair", hair_color=(0.02, 0.02, 0.02))  # fmt: skip


@pytest.fixture(scope="module")
def sampled():
    from worldclips.motions.mannequin_body import MannequinBody
    from worldclips.scenes.sampling import sample_clip_spec
    from worldclips.scenes.scene_config import SceneConfig

    spec = sample_clip_spec(SceneConfig(), 4, 2, 24.0, 3, 96, 72)
    return spec, MannequinBody()


def test_photo_look_keeps_depth_and_segmentation(make_renderer, sampled):
    """The same clip in both looks, outdoors and in a room: the same instance ids and depth (the
    photo look's centre sample of its 3 x 3 supersampling is the flat look's pixel centre);
    different pictures. The rasterizer snaps vertices to 1/256 of a raster pixel, which is 1/768
    of an output pixel at 3 x 3 and 1/256 at 1 x 1: a pixel centre closer than that to a
    silhouette may fall on either side (a handful of pixels per clip)."""
    from worldclips.scenes.build import build_scene
    from tests.render import scene_builders as sb

    spec, body = sampled
    renderer = make_renderer(96, 72)
    for indoors in (False, True):
        clip_spec = indoor_version(spec) if indoors else spec
        flat, photo = build_scene(clip_spec, body), build_scene(photo_dress(clip_spec), body)
        assert renderer.supersample_for(photo) == 3 and renderer.supersample_for(flat) == 1
        a, b = renderer.render(flat), renderer.render(photo)
        same = a.segmentation == b.segmentation
        close = np.isclose(a.depth, b.depth, rtol=1e-5, atol=1e-5)  # float32 rounding
        assert same.mean() > 0.999 and close.mean() > 0.999, indoors
        flipped = ~(same & close)
        for t in range(len(a.depth)):  # every other pixel: on a silhouette (a depth step or an id change)
            step = ~sb.interior_mask(a.depth[t], a.segmentation[t], jump_m=0.1)
            assert step[flipped[t]].all(), indoors
        assert np.abs(a.rgb.astype(int) - b.rgb.astype(int)).mean() > 10


def indoor_version(spec):
    """The same clip drawn inside a room (the room is drawn last: everything else stays)."""
    from worldclips.scenes.sampling import sample_clip_spec
    from worldclips.scenes.scene_config import SceneConfig

    indoor = sample_clip_spec(SceneConfig(indoor_share=1.0), spec.run_seed, spec.clip_index, spec.fps, spec.num_frames,
                              spec.width, spec.height)  # fmt: skip
    assert indoor.room is not None and indoor.characters == spec.characters
    return indoor


def test_photo_dress_changes_only_the_look_and_is_deterministic(sampled):
    spec, _ = sampled
    dressed = photo_dress(spec)
    assert dressed.to_json() == photo_dress(spec).to_json()
    assert ClipSpec.from_json(dressed.to_json()) == dressed
    assert dressed.camera == spec.camera and [p.position for p in dressed.props] == [p.position for p in spec.props]
    assert [c.motion_params for c in dressed.characters] == [c.motion_params for c in spec.characters]
    assert all(c.outfit is not None for c in dressed.characters) and dressed.look is not None
    data = json.loads(dressed.to_json())
    assert data["characters"][0]["outfit"]["top"] in ("t-shirt", "long sleeves", "jacket", "tank top")
    other = photo_dress(dataclasses.replace(spec, clip_index=spec.clip_index + 1))
    assert other.characters[0].outfit != dressed.characters[0].outfit or other.ground != dressed.ground


def test_outfits_draw_from_the_whole_range():
    rng = np.random.default_rng(0)
    outfits = [draw_outfit(rng) for _ in range(300)]
    assert {o.top for o in outfits} == {"t-shirt", "long sleeves", "jacket", "tank top"}
    assert {o.bottom for o in outfits} == {"trousers", "jeans", "shorts", "skirt"}
    skin = np.array([np.mean(o.skin_color) for o in outfits])
    assert skin.min() < 0.03 and skin.max() > 0.7  # the darkest and the lightest tones both occur
    assert all(o.describe().startswith(("a ", "an ")) for o in outfits)


def test_body_regions_follow_the_skeleton_in_a_pose():
    """Regions come from skinning weights; checked here against the posed joints instead: in a
    moving frame, hand vertices lie nearer the wrist than the elbow, feet below the knees, hair
    above the neck, shins between knees and ankles."""
    person = sb.mannequin_character(7, frames=2)
    regions = person.body.vertex_regions
    vertices, joints = person.body.mesh.vertices(1), person.body.joints[1]
    assert regions.shape == (len(vertices),) and set(np.unique(regions)) == set(range(len(REGIONS)))

    def of(name):
        return vertices[regions == REGION_INDEX[name]]

    for side in ("left", "right"):
        wrist, elbow = joints[joint_index(f"{side}_wrist")], joints[joint_index(f"{side}_elbow")]
        hand = of("hand")
        hand = hand[np.linalg.norm(hand - wrist, axis=1) < np.linalg.norm(hand - joints[joint_index(f"{'right' if side == 'left' else 'left'}_wrist")], axis=1)]
        assert np.mean(np.linalg.norm(hand - wrist, axis=1) < np.linalg.norm(hand - elbow, axis=1)) > 0.97
    knees = max(joints[joint_index("left_knee")][2], joints[joint_index("right_knee")][2])
    ankles = min(joints[joint_index("left_ankle")][2], joints[joint_index("right_ankle")][2])
    assert np.all(of("foot")[:, 2] < knees)
    shin = of("shin")[:, 2]
    assert np.mean((shin < knees + 0.05) & (shin > ankles - 0.05)) > 0.97
    assert np.all(of("hair")[:, 2] > joints[joint_index("neck")][2])
    assert of("torso")[:, 2].mean() > of("hips")[:, 2].mean() > of("thigh")[:, 2].mean()


def _region_pixels(scene, character, region: str, clip, frame: int = 0) -> np.ndarray:
    """(N, 3) rendered colours where the region's own vertices, away from its borders (3 cm), are
    visible (by hand projection)."""
    from scipy.spatial import cKDTree

    everything = character.body.mesh.vertices(frame)
    inside_region = character.body.vertex_regions == REGION_INDEX[region]
    border_distance, _ = cKDTree(everything[~inside_region]).query(everything[inside_region])
    vertices = everything[inside_region][border_distance > 0.03]
    pixels, z = project_points(scene.camera.K[frame], scene.camera.cam_from_world[frame], vertices)
    u, v = np.round(pixels[:, 0]).astype(int), np.round(pixels[:, 1]).astype(int)
    inside = (u >= 1) & (v >= 1) & (u < scene.width - 1) & (v < scene.height - 1) & (z > 0)
    u, v, z = u[inside], v[inside], z[inside]
    seen = (clip.segmentation[frame, v, u] == character.instance_id) & (np.abs(clip.depth[frame, v, u] - z) < 0.01)
    window = clip.segmentation[frame][v[:, None] + [-1, 0, 1], u[:, None]]  # not on the silhouette
    seen &= np.all(window == character.instance_id, axis=1)
    return clip.rgb[frame, v[seen], u[seen]].astype(int)


@pytest.mark.parametrize("look", [None, PhotoLook(turbidity=2.5, zenith_luminance=0.3, exposure=0.5, haze_m=30.0)])
def test_outfit_colours_land_on_their_regions(make_renderer, look):
    """Shoes red, trousers blue, long sleeves green: the colour under each region's projected
    vertices is that garment's, in both looks."""
    width, height = 120, 160
    person = dataclasses.replace(sb.mannequin_character(9, frames=1, heading=-1.2), outfit=TEST_OUTFIT)
    ground = sb.rigid_object(1, sb.quad_mesh(20.0, 20.0), np.eye(4), category="ground")
    cam = sb.looking_camera(width, height, eye=(0.3, -3.2, 1.1), target=(0.0, 0.0, 0.85), focal=150.0)
    scene = dataclasses.replace(sb.scene(width, height, cam, [ground], [person]), look=look)
    clip = make_renderer(width, height).render(scene)
    for region, channel in (("foot", 0), ("forearm", 1), ("torso", 1), ("thigh", 2), ("shin", 2)):
        colours = _region_pixels(scene, person, region, clip)
        assert len(colours) >= 15, region
        dominant = np.argmax(colours, axis=1) == channel
        assert dominant.mean() > 0.97, (region, dominant.mean())


def test_sky_pixels_follow_the_analytic_model(make_renderer):
    """Background pixels equal the CPU evaluation of the same Preetham sky through the filmic curve
    and the sRGB transfer, for directions from the horizon up (the sun out of view)."""
    width, height = 64, 48
    look = PhotoLook(turbidity=3.0, zenith_luminance=0.3, exposure=0.6, haze_m=30.0)
    sun = np.array([0.6, 0.5, 0.62]) / np.linalg.norm([0.6, 0.5, 0.62])
    lighting = dataclasses.replace(sb.LIGHTING, sun_direction=tuple(sun))
    cam = sb.looking_camera(width, height, eye=(0.0, 0.0, 1.0), target=(-3.0, -4.0, 3.0), focal=40.0)
    scene = dataclasses.replace(sb.scene(width, height, cam, [], [], lighting=lighting), look=look)
    rgb = make_renderer(width, height, supersample=1).render(scene).rgb[0].astype(np.float64) / 255.0
    v, u = np.mgrid[0:height, 0:width]
    rays = np.stack([u, v, np.ones_like(u)], axis=-1).reshape(-1, 3) @ np.linalg.inv(cam.K[0]).T
    world = rays @ cam.cam_from_world[0][:3, :3]  # rotate camera rays to world
    world /= np.linalg.norm(world, axis=1, keepdims=True)
    radiance = sky_radiance(world, sun, look.turbidity, look.zenith_luminance) * look.exposure
    filmic = np.clip(radiance * (2.51 * radiance + 0.03) / (radiance * (2.43 * radiance + 0.59) + 0.14), 0, 1)
    srgb = np.where(filmic <= 0.0031308, 12.92 * filmic, 1.055 * filmic ** (1 / 2.4) - 0.055).reshape(height, width, 3)
    assert np.abs(rgb - srgb).max() < 3.0 / 255.0
    assert world[:, 2].max() > 0.6 and world[:, 2].min() < 0.1  # zenith-ward and horizon-ward pixels
    top, bottom = srgb[0].mean(axis=0), srgb[-1].mean(axis=0)
    assert top[2] / top[0] > bottom[2] / bottom[0]  # bluer upwards, as a clear sky


def test_clips_lit_by_a_map_record_it_and_refuse_a_changed_file(sampled, tmp_path):
    from tests.render.test_environments import synthetic_map, write_map
    from worldclips.scenes.build import build_scene
    from worldclips.shards.format.sample import look_record

    spec, body = sampled
    write_map(tmp_path / "field.exr", synthetic_map(32), "exr")
    (tmp_path / "license.txt").write_text("CC0 test map\n")
    maps = (tmp_path / "field.exr",)
    dressed = [photo_dress(dataclasses.replace(spec, clip_index=i, num_frames=1), maps) for i in range(8)]
    lit = [d for d in dressed if d.look.environment]
    assert 0 < len(lit) < 8  # some clips by the map, the others by the analytic sky
    d = lit[0]
    assert d.look.environment_licence == "CC0 test map" and len(d.look.environment_sha256) == 64
    assert photo_dress(dataclasses.replace(spec, clip_index=d.clip_index, num_frames=1), maps) == d
    assert d.lighting.sun_direction[2] > 0.3  # the map's sun (elevation 0.5 rad), not the drawn one
    record = look_record(d)
    assert record["environment"].startswith("HDRI map field.exr") and record["environment_licence"] == "CC0 test map"
    assert build_scene(d, body).sky_image.shape == (256, 512, 3)
    write_map(tmp_path / "field.exr", synthetic_map(32) * 2, "exr")
    with pytest.raises(ValueError, match="not the map this clip was drawn with"):
        build_scene(d, body)
