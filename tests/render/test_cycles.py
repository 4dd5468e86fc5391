"""The Cycles backend: real renders in the Blender environment, cross-checked against the raster backend.

The Blender environment is found where the code finds it by default (``worldclips setup
cycles`` puts it there; ``.ci/run`` does so before the tests). No skip: when it is missing the
tests fail with the one-line message that says how to create it. Renders are tiny (32x24 to
64x48 pixels, 2-3 frames, 4 samples) and take about a second each on a CPU.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from worldclips.motions.conventions import intrinsics, look_at_cam_from_world
from worldclips.render.cycles import CyclesConfig, CyclesEnvironmentError, CyclesRenderer, CyclesWorkerError, probe_environment
from worldclips.render.cycles.crosscheck import cross_check, cross_check_clips, edge_mask
from worldclips.render.cycles.environment import CyclesEnvironment, create_environment, default_env_dir
from worldclips.render.cycles.look import clip_look
from worldclips.render.cycles.renderer import WORKER_SCRIPT
from worldclips.render.cycles.scene_format import FORMAT_NAME, FORMAT_VERSION, SceneFormatError, read_scene, write_scene
from worldclips.scenes.scene import Material
from tests.render import scene_builders as sb

FAST = CyclesConfig(samples=4, denoise=False, max_bounces=2)
WOOD = Material(base_color=(0.6, 0.4, 0.2), pattern="stripes", pattern_color=(0.4, 0.25, 0.1), pattern_scale=4.0)
TILES = Material(base_color=(0.7, 0.7, 0.65), pattern="tiles", pattern_color=(0.2, 0.2, 0.2), pattern_scale=2.0)


@pytest.fixture(scope="session")
def cycles_environment() -> CyclesEnvironment:
    try:
        return probe_environment()
    except CyclesEnvironmentError as error:
        pytest.fail(f"{error} (the Cycles tests need the Blender environment at {default_env_dir()})")


def _scene(width=32, height=24, frames=3, moving=False):
    """Ground, a box (moving along x when ``moving``), a sphere and a posed mannequin; the camera orbits."""
    poses = np.stack([sb.translation(0.3 + (0.4 * t if moving else 0.0), 0.2, 0.5) for t in range(frames)])
    box = sb.rigid_object(3, sb.box_mesh((1.0, 1.0, 1.0)), poses, material=WOOD)
    if moving:
        box = dataclasses.replace(box, dynamic=True)
    ground = sb.rigid_object(1, sb.quad_mesh(30.0, 30.0), np.eye(4), frames, category="ground", material=TILES)
    ball = sb.rigid_object(4, sb.sphere_mesh(0.4), sb.translation(-0.9, 0.5, 0.4), frames, category="sphere")
    person = sb.mannequin_character(2, frames=frames, position=(0.8, -0.6))
    angles = np.linspace(0.0, 0.3, frames)
    eyes = np.stack([4.5 * np.sin(angles) + 0.5, -4.5 * np.cos(angles), np.full(frames, 2.2)], axis=1)
    K = intrinsics(0.9 * width, width, height)
    camera = sb.camera(K, look_at_cam_from_world(eyes, np.array([0.0, 0.0, 0.6])), frames)
    return sb.scene(width, height, camera, [ground, box, ball], [person])


def test_real_cycles_render_matches_the_raster_ground_truth(cycles_environment, make_renderer):
    scene = _scene()
    renderer = CyclesRenderer(config=FAST, environment=cycles_environment)
    clip = renderer.render(scene)
    frames, height, width = scene.num_frames, scene.height, scene.width
    assert clip.rgb.shape == (frames, height, width, 3) and clip.rgb.dtype == np.uint8
    assert clip.depth.shape == (frames, height, width) and clip.depth.dtype == np.float32
    assert clip.segmentation.shape == (frames, height, width) and clip.segmentation.dtype == np.uint16
    assert np.array_equal(clip.depth == 0, clip.segmentation == 0)
    assert set(np.unique(clip.segmentation)) == {0, 1, 2, 3, 4}  # sky, ground, person, box, ball
    assert clip.rgb.std() > 10  # a lit image, not a blank one

    reference = make_renderer(width, height).render(scene)
    check = cross_check_clips(reference, clip)
    assert check.ok, check.summary()
    assert check.depth_median_m < 1e-3 and check.depth_within_1cm >= 0.99 and check.segmentation_agreement >= 0.99
    assert check.compared_pixels > 0.5 * frames * height * width
    assert renderer.last_stats.worker["device"] == "CPU"
    assert "cycles (Blender 5.0.1" in renderer.description


def test_pixel_centres_follow_the_opencv_convention(cycles_environment, make_renderer):
    """A plane whose edges fall between pixel centres, seen with fx != fy and an off-centre principal point."""
    width, height, distance = 40, 30, 4.0
    K = np.array([[37.0, 0.0, 17.3], [0.0, 45.0, 16.1], [0.0, 0.0, 1.0]])
    # Plane corners at u = 8.5 .. 27.5 and v = 6.5 .. 22.5 (exactly between pixel centres).
    lo = (np.array([8.5, 6.5]) - K[:2, 2]) / np.diag(K)[:2] * distance
    hi = (np.array([27.5, 22.5]) - K[:2, 2]) / np.diag(K)[:2] * distance
    size, centre = hi - lo, (hi + lo) / 2
    flip = np.diag([1.0, -1.0, -1.0])  # the quad faces -z: towards the camera
    plane = sb.rigid_object(7, sb.quad_mesh(*size), sb.translation(centre[0], centre[1], distance, flip))
    scene = sb.scene(width, height, sb.camera(K, np.eye(4)), [plane])
    clip = CyclesRenderer(config=FAST, environment=cycles_environment).render(scene)
    expected = np.zeros((height, width), dtype=np.uint16)
    expected[7:23, 9:28] = 7
    assert np.array_equal(clip.segmentation[0], expected)
    assert np.abs(clip.depth[0][expected == 7] - distance).max() < 1e-4
    raster = make_renderer(width, height).render(scene)
    assert np.array_equal(raster.segmentation[0], expected)


def test_motion_blur_keeps_ground_truth_at_the_shutter_centre(cycles_environment, make_renderer):
    scene = _scene(width=48, height=36, frames=2, moving=True)
    config = dataclasses.replace(FAST, motion_blur=True, shutter=1.0)
    renderer = CyclesRenderer(config=config, environment=cycles_environment)
    clip = renderer.render(scene)
    assert renderer.last_stats.worker["ground_truth_s"] > 0  # the separate ground-truth renders ran
    reference = make_renderer(scene.width, scene.height).render(scene)
    check = cross_check_clips(reference, clip)
    assert check.ok, check.summary()
    # The image is blurred along the box's motion: it differs from an unblurred render there.
    sharp = CyclesRenderer(config=FAST, environment=cycles_environment).render(scene)
    box = (reference.segmentation == 3) | np.roll(reference.segmentation == 3, 3, axis=2)
    assert np.array_equal(sharp.segmentation, clip.segmentation)
    assert np.abs(sharp.rgb.astype(int) - clip.rgb.astype(int))[box].mean() > 3


def test_ground_truth_only_mode_and_denoising(cycles_environment):
    scene = _scene(frames=2)
    gt = CyclesRenderer(config=CyclesConfig(ground_truth_only=True), environment=cycles_environment).render(scene)
    denoised = CyclesRenderer(config=CyclesConfig(samples=4, denoise=True), environment=cycles_environment)
    clip = denoised.render(scene)
    assert np.array_equal(gt.segmentation, clip.segmentation)
    assert np.abs(gt.depth - clip.depth).max() < 1e-5
    assert denoised.last_stats.worker["denoiser"] == ("OpenImageDenoise" if cycles_environment.openimagedenoise else "off")


def test_scene_format_is_versioned_and_has_no_pickles(tmp_path):
    scene = _scene(frames=2)
    header = write_scene(scene, tmp_path / "scene", FAST)
    assert header["format"] == FORMAT_NAME and header["version"] == FORMAT_VERSION
    read_header, arrays = read_scene(tmp_path / "scene")  # np.load(..., allow_pickle=False)
    assert read_header == json.loads(json.dumps(header))
    assert all(a.dtype != object for a in arrays.values())
    ids = {o["instance_id"]: o for o in header["objects"]}
    assert sorted(ids) == [1, 2, 3, 4] and sorted(o["pass_index"] for o in header["objects"]) == [1, 2, 3, 4]
    person = ids[2]
    frames = arrays[person["frame_vertices"]]
    mesh = scene.characters[0].body.mesh
    assert frames.shape == (2, len(mesh.rest_vertices), 3) and frames.dtype == np.float32
    assert np.abs(frames[1] - mesh.vertices(1)).max() < 1e-5  # skinned on the CPU, per frame
    assert arrays["camera_world_from_camera"].shape == (2, 4, 4)

    (tmp_path / "scene" / "scene.json").write_text(json.dumps({**header, "version": 99}))
    with pytest.raises(SceneFormatError, match="format version 99"):
        read_scene(tmp_path / "scene")


def test_worker_refuses_unknown_format_versions(cycles_environment, tmp_path):
    header = write_scene(_scene(frames=1), tmp_path / "scene", FAST)
    (tmp_path / "scene" / "scene.json").write_text(json.dumps({**header, "version": 99}))
    done = subprocess.run(
        [str(cycles_environment.python), "-I", str(WORKER_SCRIPT), str(tmp_path / "scene"), str(tmp_path / "out")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 3
    assert "format version 99" in done.stderr


def test_look_is_a_function_of_the_scene():
    scene = _scene(frames=1)
    assert clip_look(scene) == clip_look(_scene(frames=1))
    assert clip_look(scene, look_seed=1) != clip_look(scene)
    look = clip_look(scene)
    kinds = {params["kind"] for params in look["materials"].values()}
    assert look["materials"]["1"]["kind"] == "ceramic"  # tiled ground
    assert kinds <= {"wood", "fabric", "plastic", "metal", "ceramic", "stone"}
    assert 0 <= len(look["area_lights"]) <= 2


def test_missing_or_broken_environment_gives_one_clear_line(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(CyclesEnvironmentError) as error:
        CyclesRenderer(config=CyclesConfig(env=str(missing)))
    message = str(error.value)
    assert "\n" not in message and str(missing) in message and "worldclips setup cycles --env" in message

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CyclesEnvironmentError, match=r"broken Blender environment at .*empty \(no bin/python\)"):
        probe_environment(str(empty))

    no_bpy = tmp_path / "no-bpy"
    (no_bpy / "bin").mkdir(parents=True)
    (no_bpy / "bin" / "python").symlink_to(sys.executable)  # a Python without bpy
    with pytest.raises(CyclesEnvironmentError) as error:
        probe_environment(str(no_bpy))
    message = str(error.value)
    assert "\n" not in message and "cannot import bpy" in message and "No module named 'bpy'" in message
    assert str(no_bpy) in message


def test_a_failing_worker_is_reported_with_its_log(tmp_path):
    """A worker process that dies (here: a Python without bpy) raises CyclesWorkerError naming why."""
    fake = CyclesEnvironment(
        path=tmp_path, python=Path(sys.executable), bpy_version="5.0.1", numpy_version="2",
        python_version="3.11", openimagedenoise=False,
    )  # fmt: skip
    with pytest.raises(CyclesWorkerError, match=r"exit code 1.*No module named 'bpy'"):
        CyclesRenderer(config=FAST, environment=fake).render(_scene(frames=1))


def test_setup_on_a_ready_environment_changes_nothing(cycles_environment):
    lines = []
    found = create_environment(cycles_environment.path, log=lines.append)
    assert found.bpy_version == "5.0.1" and found.numpy_version.startswith("1.")
    assert len(lines) == 1 and "is ready" in lines[0]


def test_cross_check_figures():
    rng = np.random.default_rng(0)
    seg = np.zeros((2, 20, 30), dtype=np.uint16)
    seg[:, 4:16, 5:25] = 3
    seg[:, 15:, :] = 1
    depth = np.where(seg > 0, rng.uniform(2.0, 2.1, seg.shape), 0.0).astype(np.float32)
    same = cross_check(depth, seg, depth, seg)
    assert same.ok and same.depth_median_m == 0.0 and same.segmentation_agreement == 1.0
    assert cross_check(depth, seg, depth + 0.02 * (seg > 0), seg).depth_within_1cm == 0.0
    # A one-pixel shift of a silhouette only touches edge pixels, which are left out.
    shifted = seg.copy()
    shifted[:, 4:15, 25] = 3
    assert cross_check(depth, seg, depth, shifted).segmentation_agreement == 1.0
    wrong = seg.copy()
    wrong[:, 6:14, 8:22] = 2
    assert not cross_check(depth, seg, depth, wrong).ok
    assert edge_mask(depth, seg)[0, 4, 10] and not edge_mask(depth, seg)[0, 10, 15]


def test_config_field_and_backend(tmp_path):
    from worldclips.shards.job.config import ConfigError, config_yaml, load_yaml_config, resolve_config
    from worldclips.shards.job.shard_task import job_tools

    path = tmp_path / "c.yaml"
    path.write_text("backend: cycles\ncycles:\n  samples: 8\n  motion_blur: true\n  env: /somewhere/else\n")
    config = resolve_config(load_yaml_config(path), {"out": str(tmp_path / "o")})
    assert config.backend == "cycles" and config.cycles.samples == 8 and config.cycles.motion_blur
    (tmp_path / "r.yaml").write_text(config_yaml(config))
    assert resolve_config(load_yaml_config(tmp_path / "r.yaml"), {}) == config
    with pytest.raises(CyclesEnvironmentError, match="/somewhere/else"):
        job_tools(config)  # the environment is checked when the renderer is made
    for text, message in (
        ("cycles:\n  samples: 0\n", r"cycles.samples: expected an integer in 1..65536, got 0"),
        ("cycles:\n  device: tpu\n", r"cycles.device: expected one of"),
        ("cycles:\n  spp: 3\n", r"cycles: unknown field 'spp'"),
    ):
        path.write_text(text)
        with pytest.raises(ConfigError, match=message):
            resolve_config(load_yaml_config(path), {"out": str(tmp_path / "o")})


def test_validate_cross_check_reports_each_clip(cycles_environment, tmp_path, capsys):
    from worldclips.cli import main

    out = tmp_path / "data"
    assert main(["generate", "--out", str(out), "--clips", "1", "--frames", "2", "--size", "32x24", "--no-ray", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["validate", str(out), "--no-video", "--cross-check"]) == 0
    lines = capsys.readouterr().out.splitlines()
    checks = [line for line in lines if line.startswith("cross-check ")]
    assert len(checks) == 1 and "(raster vs cycles): ok: depth median |diff|" in checks[0], lines
    assert lines[-1].startswith("OK: 1 shards, 1 samples")


def test_photo_look_in_cycles_same_people_sky_and_ground_truth(cycles_environment, make_renderer):
    """The photographic look in Cycles: the raster's ground truth, outfits on their body regions
    (shoes red, trousers blue, sleeves green) and the same analytic sky, oriented alike."""
    from tests.render.test_photo_look import TEST_OUTFIT, _region_pixels
    from worldclips.scenes.scene import PhotoLook

    width, height = 60, 80
    person = dataclasses.replace(sb.mannequin_character(9, frames=1, heading=-1.2), outfit=TEST_OUTFIT)
    ground = sb.rigid_object(1, sb.quad_mesh(30.0, 30.0), np.eye(4), category="ground", material=TILES)
    cam = sb.looking_camera(width, height, eye=(0.3, -3.2, 1.3), target=(0.0, 0.0, 1.2), focal=75.0)
    look = PhotoLook(turbidity=2.5, zenith_luminance=0.3, exposure=0.45, haze_m=30.0)
    scene = dataclasses.replace(sb.scene(width, height, cam, [ground], [person]), look=look)
    assert clip_look(scene)["materials"]["9"]["vertex_tint"] and not clip_look(scene)["area_lights"]
    clip = CyclesRenderer(config=FAST, environment=cycles_environment).render(scene)
    raster = make_renderer(width, height).render(scene)
    check = cross_check_clips(raster, clip)
    assert check.ok, check.summary()
    for region, channel in (("foot", 0), ("forearm", 1), ("torso", 1), ("thigh", 2)):
        colours = _region_pixels(scene, person, region, clip)
        assert len(colours) >= 4 and np.mean(np.argmax(colours, axis=1) == channel) > 0.9, region


@pytest.mark.parametrize("sky", ["analytic", "map"])
def test_photo_look_sky_in_cycles_is_the_rasters_sky(cycles_environment, make_renderer, sky):
    """The same sky (Preetham, or an HDRI map), oriented alike: with the vertical gradient taken
    out, what is left (the glow towards the sun's azimuth, the map's patches) correlates between
    the backends, looking either way."""
    from tests.render.test_environments import synthetic_map
    from worldclips.scenes.environments import environment_light
    from worldclips.scenes.scene import PhotoLook

    sky_image = None
    if sky == "map":
        image = synthetic_map(64, sun=(0.6, 0.25))
        image[8:24, 10:40] = [1.0, 0.3, 0.1]
        image[20:28, 70:100] = [0.1, 0.8, 0.2]
        sky_image = environment_light(image, 0.3).image

    width, height = 64, 40
    sun = np.array([0.7, 0.5, 0.25]) / np.linalg.norm([0.7, 0.5, 0.25])
    lighting = dataclasses.replace(sb.LIGHTING, sun_direction=tuple(sun))
    look = PhotoLook(turbidity=2.5, zenith_luminance=0.3, exposure=0.45, haze_m=30.0)
    luminance = lambda rgb: rgb.astype(float) @ [0.2126, 0.7152, 0.0722]  # noqa: E731
    for target in [(3.0, 4.0, 1.5), (-3.0, 4.0, 1.5)]:
        cam = sb.looking_camera(width, height, eye=(0.0, 0.0, 1.0), target=target, focal=30.0)
        scene = dataclasses.replace(sb.scene(width, height, cam, [], [], lighting=lighting), look=look, sky_image=sky_image)
        cycles = luminance(CyclesRenderer(config=FAST, environment=cycles_environment).render(scene).rgb[0])
        raster = luminance(make_renderer(width, height).render(scene).rgb[0])
        assert np.corrcoef(cycles.ravel(), raster.ravel())[0, 1] > 0.9
        across_c, across_r = (x - x.mean(axis=1, keepdims=True) for x in (cycles, raster))
        assert np.corrcoef(across_c.ravel(), across_r.ravel())[0, 1] > 0.8, target


def test_room_and_pbr_texture_in_cycles(cycles_environment, make_renderer, tmp_path):
    """A room with a textured floor in Cycles: the raster's ground truth (walls, frames, lights
    and floor alike), and the Color image where the raster puts it (red left, blue right)."""
    from tests.render.test_room_render import ROOM
    from tests.render.test_texture_render import _ground_points
    from tests.scenes.texture_files import write_folder
    from worldclips.motions.mannequin_body import MannequinBody
    from worldclips.scenes.build import build_scene
    from worldclips.scenes.scene import Lighting
    from worldclips.scenes.spec import CameraSpec, ClipSpec, StaticCamera
    from worldclips.scenes.textures import read_texture_folder

    quadrants = {t.name: t for t in read_texture_folder(write_folder(tmp_path))}["Quadrants"]
    width = height = 48
    spec = ClipSpec(
        run_seed=0, clip_index=0, scenario="default", fps=24.0, num_frames=1, width=width, height=height,
        ground=Material((1.0, 1.0, 1.0), texture=quadrants), room=dataclasses.replace(ROOM, lamp=Material((1.0, 1.0, 1.0), emission=40.0)),
        lighting=Lighting((0.3, -0.5, 0.8), (2.0, 2.0, 2.0), (0.5, 0.5, 0.5), (0.2, 0.2, 0.2)), background_color=(0.5, 0.6, 0.7),
        characters=(), props=(), camera=CameraSpec(path=StaticCamera(eye=(0.0, 0.0, 2.2), target=(0.0, 0.01, 0.0)), fov_deg=116.0),
    )  # fmt: skip
    scene = build_scene(spec, MannequinBody())
    clip = CyclesRenderer(config=dataclasses.replace(FAST, samples=16), environment=cycles_environment).render(scene)
    raster = make_renderer(width, height).render(scene)
    check = cross_check_clips(raster, clip)
    assert check.ok, check.summary()
    assert {2, 3, 4, 5, 1} <= set(np.unique(raster.segmentation).tolist())  # the floor and four walls in view
    xy = np.mod(_ground_points(scene), 2.0)
    floor = raster.segmentation[0] == 1
    rgb = clip.rgb[0].astype(int)
    left, right = floor & (xy[..., 0] > 0.2) & (xy[..., 0] < 0.8), floor & (xy[..., 0] > 1.2) & (xy[..., 0] < 1.8)
    assert left.sum() > 30 and right.sum() > 30
    red_side, blue_side = rgb[left].mean(axis=0), rgb[right].mean(axis=0)  # means: 16 noisy samples a pixel
    assert red_side[0] > 2 * red_side[2] and blue_side[2] > 2 * blue_side[0], (red_side, blue_side)

