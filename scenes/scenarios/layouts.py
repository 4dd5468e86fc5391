"""Layout samplers: a layout's distributions + the clip's generator -> a Stage (scenes.scenarios.sampler).

Each layout works in a frame that the sampler puts at a random spot near the world origin with a
random heading, so clips differ in where and which way things happen. Drawn values are recorded
under the layout's field names (meta.json's ``scenario_params.scenario.values``).
"""

from __future__ import annotations

import numpy as np

from worldclips.motions.catalog import motion_track
from worldclips.motions.jump import JumpParams
from worldclips.motions.reach import ReachParams
from worldclips.motions.run import RunParams
from worldclips.motions.sit import SitParams, seat_height_for
from worldclips.motions.walk import WalkParams
from worldclips.scenes import meshes
from worldclips.scenes.interaction_spec import AttachmentSpec
from worldclips.scenes.motion_sampling import MotionWeights, standing_motion
from worldclips.scenes.physics_sampling import SETUPS, Draws as PhysicsDraws, View
from worldclips.scenes.physics_spec import PhysicsSettings
from worldclips.scenes.sampling import MOVING_KINDS, sample_characters
from worldclips.scenes.scene_config import SceneConfig
from worldclips.scenes.scenarios.dists import options
from worldclips.scenes.draws import body_shape, cycle_phase, material, person, r4, v4
from worldclips.scenes.scenarios.ball_pass import ball_pass
from worldclips.scenes.scenarios.stage import Context, Stage
from worldclips.scenes.spec import PropSpec


def _planar(angle: float) -> np.ndarray:
    return np.array([np.cos(angle), np.sin(angle)])


def _range(value) -> tuple[float, float]:
    return (float(value[0]), float(value[1])) if isinstance(value, tuple) else (float(value), float(value))


def _free(ctx: Context, layout) -> Stage:
    low, high = layout.characters if isinstance(layout.characters, tuple) else (layout.characters, layout.characters)
    config = SceneConfig(
        characters=(int(low), int(high)), props=(0, 0), motions=MotionWeights(**options(layout.motions)),
        walk_speed=layout.walk_speed_mps, arena_radius=layout.arena_m,
    )  # fmt: skip
    characters, tracks, character_props = sample_characters(ctx.rng, config, ctx.fps, ctx.frames)
    props = [PropSpec(material=material(ctx.rng), **fields) for fields in character_props]
    placed = [(np.asarray(p.position, dtype=np.float64), meshes.footprint_radius(p.category, p.size)) for p in props]
    middle = np.mean([centres[len(centres) // 2] for centres, _ in tracks], axis=0)
    moving = [i for i, c in enumerate(characters) if c.motion_kind in MOVING_KINDS]
    roles = {c.name: c.name for c in characters}
    return Stage(list(characters), list(tracks), np.array([*middle, 0.9]), float(ctx.rng.uniform(-np.pi, np.pi)), props, placed,
                 main=moving[0] if moving else 0, roles=roles)  # fmt: skip


def _walk_line(ctx: Context, layout) -> Stage:
    d = ctx.draws
    origin, heading = ctx.frame()
    forward = _planar(heading)
    speed = d.number("speed_mps", layout.speed_mps, 3)
    start = origin - forward * speed * ctx.duration / 2
    walk = WalkParams(waypoints=(v4(start), v4(start + forward * (speed * ctx.duration + 1.0))), speed_keys=(speed,),
                      step_width=d.number("step_width_m", layout.step_width_m, 3), arm_swing=d.number("arm_swing", layout.arm_swing, 3),
                      phase=cycle_phase(ctx.rng))  # fmt: skip
    front = heading + np.pi / 2 * d.sign("camera_side")
    return Stage([person(ctx.rng, "walker", walk)], [motion_track(walk, ctx.fps, ctx.frames)], np.array([*origin, 0.95]), front,
                 roles={"walker": "walker"})  # fmt: skip


def _jump_run(ctx: Context, layout) -> Stage:
    d = ctx.draws
    origin, heading = ctx.frame()
    forward = _planar(heading)
    distance = d.number("jump_distance_m", layout.jump_distance_m, 3)
    jump = JumpParams(position=v4(origin - forward * distance / 2), heading=r4(heading), height=d.number("jump_height_m", layout.jump_height_m, 3),
                      distance=distance, start=d.number("start_s", layout.start_s, 3), crouch_time=d.number("crouch_s", layout.crouch_s, 3),
                      stance_width=round(float(ctx.rng.uniform(0.16, 0.26)), 3), phase=cycle_phase(ctx.rng))  # fmt: skip
    front = heading + np.pi / 2 * d.sign("camera_side")
    characters, tracks = [person(ctx.rng, "jumper", jump)], [motion_track(jump, ctx.fps, ctx.frames)]
    focus = origin.copy()
    if layout.runner:  # behind the jumper as the camera sees it, running across the view
        offset, speed = d.number("runner_offset_m", layout.runner_offset_m, 3), d.number("run_speed_mps", layout.run_speed_mps, 3)
        direction = forward * d.sign("run_direction")
        behind = origin - _planar(front) * offset
        start = behind - direction * speed * ctx.duration / 2
        run = RunParams(waypoints=(v4(start), v4(start + direction * (speed * ctx.duration + 1.0))), speed_keys=(speed,),
                        step_width=round(float(ctx.rng.uniform(0.08, 0.14)), 3), phase=cycle_phase(ctx.rng))  # fmt: skip
        characters.append(person(ctx.rng, "runner", run))
        tracks.append(motion_track(run, ctx.fps, ctx.frames))
        focus = origin - _planar(front) * offset * 0.35
    roles = {c.name: c.name for c in characters}
    return Stage(characters, tracks, np.array([*focus, 0.8]), front, roles=roles)


def _sit(ctx: Context, layout) -> Stage:
    d = ctx.draws
    origin, yaw = ctx.frame()
    betas = body_shape(ctx.rng)
    depth = d.number("seat_depth_m", layout.seat_depth_m, 3)
    seat = round(seat_height_for(np.asarray(betas), ctx.rng.uniform()), 3)
    steps = d.count("approach_steps", layout.approach_steps)
    angle = np.radians(d.number("approach_deg", layout.approach_deg, 2)) * d.sign("approach_side")
    step_s = d.number("step_s", layout.step_s, 3)
    walking = 0.05 + (steps + 1) * step_s if steps else 0.0
    motion = SitParams(
        chair_position=v4(origin), chair_yaw=r4(yaw), seat_height=seat, seat_depth=depth,
        start=round(walking + float(ctx.rng.uniform(0.1, 0.3)), 3), down_time=d.number("down_s", layout.down_s, 3),
        hold=d.number("hold_s", layout.hold_s, 3), up_time=d.number("up_s", layout.up_s, 3), phase=cycle_phase(ctx.rng),
        chair="chair", approach_steps=steps, approach_step=d.number("step_length_m", layout.step_length_m, 3),
        approach_angle=round(float(angle), 4), approach_time=step_s,
    )  # fmt: skip
    character = person(ctx.rng, "sitter", motion, betas)
    size = (round(float(ctx.rng.uniform(0.42, 0.5)), 3), depth, seat, round(float(ctx.rng.uniform(0.35, 0.5)), 3))
    chair = PropSpec("chair", "chair", size, v4(origin), r4(yaw), material(ctx.rng))
    heading = motion.heading
    focus = np.array([*(origin + 0.35 * _planar(heading)), 0.7])
    placed = [(np.asarray(origin), meshes.footprint_radius("chair", size))]
    return Stage([character], [motion_track(motion, ctx.fps, ctx.frames)], focus, heading, [chair], placed,
                 roles={"sitter": "sitter", "chair": "chair"})  # fmt: skip


def _lift(ctx: Context, layout) -> Stage:
    d = ctx.draws
    origin, heading = ctx.frame()
    forward = _planar(heading)
    gap = d.number("gap_m", layout.gap_m, 3)
    side = d.choice("side", ("left", "right"))
    lifter_xy, partner_xy = origin - forward * gap / 2, origin + forward * gap / 2
    start, reach_s = d.number("start_s", layout.start_s, 3), d.number("reach_s", layout.reach_s, 3)
    hold_s, return_s = d.number("hold_s", layout.hold_s, 3), d.number("return_s", layout.return_s, 3)
    target = (*v4(lifter_xy + forward * 0.8 * gap), d.number("lift_height_m", layout.lift_height_m, 3))
    lift = ReachParams(position=v4(lifter_xy), heading=r4(heading), target=target, side=side, start=start, reach_time=reach_s,
                       hold=hold_s, return_time=return_s, phase=cycle_phase(ctx.rng))  # fmt: skip
    kind = d.choice("partner", layout.partner)
    dance = standing_motion(ctx.rng, kind, v4(partner_xy), heading + np.pi, ctx.duration, None)
    end = start + reach_s + hold_s + return_s
    attachment = AttachmentSpec("partner", "lifter", side, round(start, 3), round(end, 3), round(min(0.25, (end - start) / 2), 3), "z")
    characters = [person(ctx.rng, "lifter", lift), person(ctx.rng, "partner", dance)]
    tracks = [motion_track(lift, ctx.fps, ctx.frames), motion_track(dance, ctx.fps, ctx.frames)]
    front = heading + np.pi / 2 * d.sign("camera_side")
    return Stage(characters, tracks, np.array([*origin, 1.1]), front, attachments=[attachment], roles={"lifter": "lifter", "partner": "partner"})


class _SplitDraws(PhysicsDraws):
    """The physics setups' draws, with the scenario's id/ood ranges."""

    def __init__(self, rng, setup: str, split: str, layout):
        super().__init__(rng, setup, split)
        self.layout = layout

    def split_range(self, name: str) -> float:
        return self.ranged(name, self.layout.ranges(name, self.split))


def _physics(ctx: Context, layout) -> Stage:
    setup = layout.setup
    split = ctx.split if layout.has_splits else "id"
    draws = _SplitDraws(ctx.rng, setup, split, layout)
    config = SceneConfig(fov_deg=_range(ctx.scenario.camera.fov_deg))
    fov = round(float(ctx.rng.uniform(*config.fov_deg)), 3)
    people, props, dynamic, path, settings = SETUPS[setup](ctx.rng, draws, config, ctx.fps, ctx.frames, View(fov, ctx.width, ctx.height))
    tracks = [motion_track(c.motion, ctx.fps, ctx.frames) for c in people]
    placed = [(np.asarray(p.position, dtype=np.float64), meshes.footprint_radius(p.category, p.size)) for p in props]
    points = [np.asarray(p.position, dtype=np.float64) for p in dynamic] or [np.array([0.0, 0.0, 0.5])]
    focus = np.mean(points, axis=0)
    names = [c.name for c in people] + [p.name for p in props] + [p.name for p in dynamic]
    roles = {name: name for name in names}
    if setup == "glass_off_table":
        roles["glass"] = dynamic[0].name
    return Stage(list(people), tracks, focus, 0.0, list(props), placed, list(dynamic), main=0 if people else None, roles=roles,
                 camera=path, fov_deg=fov, physics=draws.scenario(), simulation=PhysicsSettings(settle_s=settings.settle_s))  # fmt: skip


def run_layout(ctx: Context) -> Stage:
    """The Stage of the scenario's layout."""

    layout = ctx.scenario.layout
    samplers = {"free": _free, "walk_line": _walk_line, "jump_run": _jump_run, "sit": _sit, "lift": _lift, "physics": _physics,
                "ball_pass": ball_pass}  # fmt: skip
    return samplers[layout.kind](ctx, layout)
