"""A scenario + (run seed, clip index) -> a ClipSpec, drawn from the scenario's distributions.

Order of the draws: the clip's frame rate, duration and size; the layout (scenes.scenarios.
layouts: characters, motions, props, actions); extra people; clutter; the lighting, ground and
sky; then the camera (a layout that times its action to the camera draws it itself). With
``views`` > 1 everything but the camera comes from the generator of the clip's group
(SeedSequence([run seed, group, PERFORMANCE_TAG])), so the views of a group share one
performance, and the camera from the clip's own generator (re-draws change only the camera).
Otherwise everything comes from the clip's generator, clip_rng(draw seed, clip index).
"""

from __future__ import annotations

import numpy as np

from worldclips.scenes import meshes
from worldclips.scenes.draws import clip_rng, color, material, person, prop_size, r4, sky_color, sun_lighting, v4
from worldclips.scenes.motion_sampling import SampledMotion, sample_motion, swept_clear
from worldclips.scenes.placement import SWEPT_CLEARANCE_M
from worldclips.scenes.scenarios.dists import Draws, choose, count, number
from worldclips.scenes.scenarios.layouts import run_layout
from worldclips.scenes.scenarios.schema import Scenario
from worldclips.scenes.scenarios.stage import Context, Stage
from worldclips.scenes.scene import Lighting, Material
from worldclips.scenes.spec import CameraSpec, ClipSpec, PropSpec

PERFORMANCE_TAG = 0x706572  # "per": the stream of a multi-view group's performance
ATTEMPTS = 60


def _timing(scenario: Scenario, rng, fps, frames, size) -> tuple[float, int, int, int]:
    if fps is None:
        choices = scenario.fps_choices
        fps = choices[int(rng.integers(len(choices)))] if len(choices) > 1 else choices[0]
    fps = float(fps)
    if frames is None:
        frames = max(int(round(number(rng, scenario.duration_s) * fps)) + 1, 2)
    if size is None:
        options = scenario.resolutions
        size = options[int(rng.integers(len(options)))] if len(options) > 1 else options[0]
    return fps, int(frames), int(size[0]), int(size[1])


def _look(rng, scenario: Scenario) -> tuple[Lighting, Material, tuple[float, float, float]]:
    light = scenario.lighting
    elevation, azimuth = np.radians(number(rng, light.sun_elevation_deg)), np.radians(number(rng, light.sun_azimuth_deg))
    warmth, intensity = number(rng, light.warmth), number(rng, light.intensity)
    lighting = sun_lighting(elevation, azimuth, warmth, intensity, number(rng, light.sky), number(rng, light.bounce))
    ground = Material(base_color=color(rng), pattern=choose(rng, scenario.ground.patterns), pattern_color=color(rng),
                      pattern_scale=r4(number(rng, scenario.ground.scale)), roughness=r4(rng.uniform(0.5, 0.9)))  # fmt: skip
    return lighting, ground, sky_color(number(rng, light.background))


def _extras(ctx: Context, stage: Stage) -> None:
    """Extra people away from the focus whose bodies keep clear of everyone else's."""

    extras = ctx.scenario.extras
    for index in range(count(ctx.rng, extras.count)):
        for _ in range(ATTEMPTS):
            kind = choose(ctx.rng, extras.motions)
            betas = np.clip(ctx.rng.normal(0.0, 1.0, size=10), -2.5, 2.5)
            sampled = sample_motion(ctx.rng, kind, f"extra{index}", extras.min_distance_m + 3.0, extras.walk_speed_mps, ctx.fps, ctx.frames, betas)
            distance = np.linalg.norm(sampled.centres - stage.focus[:2], axis=1).min() - sampled.radius
            others = [SampledMotion(None, (), c, r) for c, r in stage.tracks]
            if distance >= extras.min_distance_m and all(swept_clear(sampled, o, SWEPT_CLEARANCE_M) for o in others):
                stage.characters.append(person(ctx.rng, f"extra{index}", sampled.motion))
                stage.tracks.append((sampled.centres, sampled.radius))
                break


def _clutter(ctx: Context, stage: Stage) -> list[tuple[np.ndarray, float]]:
    """Static props at min..max distance from the focus, clear of bodies and props; returns their footprints."""

    clutter, added = ctx.scenario.clutter, []
    for index in range(count(ctx.rng, clutter.count)):
        category = choose(ctx.rng, clutter.categories)
        size = prop_size(ctx.rng, category)
        radius = meshes.footprint_radius(category, size)
        for _ in range(ATTEMPTS):
            angle, distance = ctx.rng.uniform(-np.pi, np.pi), ctx.rng.uniform(clutter.min_distance_m, clutter.max_distance_m)
            xy = stage.focus[:2] + distance * np.array([np.cos(angle), np.sin(angle)])
            bodies = all(np.linalg.norm(c - xy, axis=1).min() > r + radius + 0.1 for c, r in stage.tracks)
            props = all(np.linalg.norm(p - xy) > r + radius + 0.1 for p, r in stage.placed + added)
            if bodies and props:
                stage.props.append(PropSpec(f"clutter{index}", category, size, v4(xy), r4(ctx.rng.uniform(-np.pi, np.pi)), material(ctx.rng)))
                added.append((xy, radius))
                break
    return added


def sample_scenario_clip(
    name: str, scenario: Scenario, split: str, run_seed: int, clip_index: int, draw_seed: int,
    fps: float | None = None, frames: int | None = None, size: tuple[int, int] | None = None,
) -> tuple[ClipSpec, dict]:  # fmt: skip
    """(spec, info) of one clip; info (JSON) is meta.json's ``scenario_params.scenario``.

    fps, frames, size: fixed by the run (command line) instead of drawn from the scenario.
    """

    views = scenario.views
    group, view = divmod(clip_index, views)
    if views > 1:
        rng = np.random.default_rng(np.random.SeedSequence([int(run_seed), int(group), PERFORMANCE_TAG]))
        camera_rng = clip_rng(draw_seed, clip_index)
    else:
        rng = camera_rng = clip_rng(draw_seed, clip_index)
    fps, frames, width, height = _timing(scenario, rng, fps, frames, size)
    ctx = Context(scenario, Draws(rng), camera_rng, fps, frames, width, height, split)
    stage = run_layout(ctx)
    _extras(ctx, stage)
    clutter = _clutter(ctx, stage)
    lighting, ground, background = _look(rng, scenario)
    path, fov = (stage.camera, stage.fov_deg) if stage.camera is not None else ctx.camera(stage, clutter)
    roll = r4(np.radians(number(camera_rng, scenario.camera.roll_deg)))
    spec = ClipSpec(
        run_seed=int(draw_seed), clip_index=int(clip_index), scenario=name, fps=fps, num_frames=frames, width=width, height=height,
        ground=ground, lighting=lighting, background_color=background, characters=tuple(stage.characters), props=tuple(stage.props),
        camera=CameraSpec(path=path, fov_deg=fov, roll=roll), dynamic_props=tuple(stage.dynamic_props), physics=stage.physics,
        simulation=stage.simulation, passes=tuple(stage.passes), attachments=tuple(stage.attachments),
    )  # fmt: skip
    info = {"name": name, "layout": scenario.layout.kind, "values": dict(ctx.draws.values), "choices": dict(ctx.draws.choices),
            "roles": dict(stage.roles)}  # fmt: skip
    if stage.physics is not None and scenario.layout.kind == "physics" and scenario.layout.has_splits:
        info["split"] = split
    if views > 1:
        info.update(group=group, view=view, views=views)
    return spec, info
