"""The ball_pass layout: two people pass a ball back and forth, a third walks across and hides it.

The passers stand ``distance_m`` apart facing each other and hold one hand out (a reach that
stays out) at about ``hand_height_m``. The ball starts in passer_a's hand; each throw leaves on
the ballistic arc that meets the other passer's hand after ``flight_s`` (scenes.passes), the
ball is held ``hold_s`` and thrown back. Throws that would not end before the clip does are
dropped. The camera is drawn first (from the scenario's camera distributions, on the side
``front`` of the pass line); then the occluder's straight walk, parallel to the pass line and
``occluder_offset_m`` towards the camera, is timed so that its body crosses the camera's line
of sight to the ball in the middle of the hold after catch ``hide_after``. A negative offset puts
the walk behind the passers, where it hides nothing (a deliberately broken scenario).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from worldclips.motions.catalog import motion_track
from worldclips.motions.reach import ReachParams
from worldclips.motions.walk import WalkParams
from worldclips.scenes.camera_paths import eye_and_target
from worldclips.scenes.interaction_spec import PassedPropSpec, PassSpec
from worldclips.scenes.draws import cycle_phase, material, person, r4, v4
from worldclips.scenes.scenarios.stage import Context, Stage
from worldclips.scenes.spec import CameraSpec

REACH_AHEAD_M = 0.4  # how far in front of a passer the held-out hand is
REACH_SIDE_M = 0.15  # and to the side of the hand used
END_MARGIN_S = 0.2  # the last throw arrives at least this long before the clip ends


def _planar(angle: float) -> np.ndarray:
    return np.array([np.cos(angle), np.sin(angle)])


def _hand(xy: np.ndarray, heading: float, side: str, height: float) -> tuple[float, float, float]:
    ahead = _planar(heading)
    right = np.array([np.sin(heading), -np.cos(heading)])
    point = xy + ahead * REACH_AHEAD_M + (right if side == "right" else -right) * REACH_SIDE_M
    return (*v4(point), r4(height))


def _crossing(eye: np.ndarray, ball: np.ndarray, base: np.ndarray, along: np.ndarray) -> np.ndarray:
    """(2,) point of the line base + s * along where the ground projection of the sight line eye -> ball crosses it."""
    sight = ball[:2] - eye[:2]
    matrix = np.column_stack([sight, -along])
    if abs(np.linalg.det(matrix)) < 1e-9:
        return base
    lam, s = np.linalg.solve(matrix, base - eye[:2])
    return base + s * along


def ball_pass(ctx: Context, layout) -> Stage:
    d = ctx.draws
    origin, heading = ctx.frame()
    forward = _planar(heading)
    distance = d.number("distance_m", layout.distance_m, 3)
    xy = {"passer_a": origin - forward * distance / 2, "passer_b": origin + forward * distance / 2}
    facing = {"passer_a": heading, "passer_b": heading + np.pi}
    sides = {name: d.choice(f"{name}_side", ("left", "right")) for name in xy}
    height = d.number("hand_height_m", layout.hand_height_m, 3)
    hands = {name: _hand(xy[name], facing[name], sides[name], height) for name in xy}
    radius, mass = d.number("ball_radius_m", layout.ball_radius_m, 3), round(float(ctx.rng.uniform(0.15, 0.45)), 3)
    start, reach_s = round(float(ctx.rng.uniform(0.05, 0.15)), 3), round(float(ctx.rng.uniform(0.45, 0.6)), 3)
    throws = d.count("throws", layout.throws)
    flights = [d.number(f"flight{k}_s", layout.flight_s, 3) for k in range(throws)]
    holds = [d.number(f"hold{k}_s", layout.hold_s, 3) for k in range(throws)]
    passes, clock, holder = [], start + reach_s + holds[0], "passer_a"
    catches = []  # (arrival time, receiver) of each throw
    for k in range(throws):
        release = max(int(np.ceil(clock * ctx.fps - 1e-9)), 1)
        arrival = release / ctx.fps + flights[k]
        if arrival > ctx.duration - END_MARGIN_S:
            break
        receiver = "passer_b" if holder == "passer_a" else "passer_a"
        passes.append(PassSpec(release, receiver, sides[receiver], flights[k]))
        catches.append((arrival, receiver))
        clock = arrival + (holds[k + 1] if k + 1 < throws else 0.0)
        holder = receiver
    d.note("throws_made", len(passes))
    characters, tracks = [], []
    for name in ("passer_a", "passer_b"):
        reach = ReachParams(position=v4(xy[name]), heading=r4(facing[name]), target=hands[name], side=sides[name], start=start,
                            reach_time=reach_s, hold=round(max(ctx.duration, 1.0), 3), return_time=0.6,
                            phase=cycle_phase(ctx.rng))  # fmt: skip
        characters.append(person(ctx.rng, name, reach))
        tracks.append(motion_track(reach, ctx.fps, ctx.frames))
    ball = PassedPropSpec("ball", radius, mass, material(ctx.rng, ("checker", "stripes")), "passer_a", sides["passer_a"], tuple(passes))
    front = heading + np.pi / 2 * d.sign("camera_side")
    stage = Stage(characters, tracks, np.array([*origin, height]), front, passes=[ball], main=None,
                  roles={"passer_a": "passer_a", "passer_b": "passer_b", "occluder": "occluder", "ball": "ball"})  # fmt: skip
    path, fov = ctx.camera(stage)
    stage = _with_occluder(ctx, layout, stage, path, catches, hands, heading, front)
    return dataclasses.replace(stage, camera=path, fov_deg=fov)


def _with_occluder(ctx: Context, layout, stage: Stage, path, catches, hands, heading: float, front: float) -> Stage:
    """The stage with the occluder, timed against the camera ``path``."""
    d = ctx.draws
    forward = _planar(heading)
    hide = min(layout.hide_after, len(catches)) - 1
    if hide >= 0:
        arrival, receiver = catches[hide]
        t_hide = arrival + 0.5 * float(d.values.get(f"hold{hide + 1}_s", 0.5))
        ball = np.asarray(hands[receiver], dtype=np.float64)
    else:  # no throw fits: hide the ball in passer_a's hand in the middle of the clip
        t_hide, ball = ctx.duration / 2, np.asarray(hands["passer_a"], dtype=np.float64)
    t_hide = d.note("hide_time_s", min(t_hide, ctx.duration - 0.1))
    frame = int(np.clip(round(t_hide * ctx.fps), 0, ctx.frames - 1))
    eye = eye_and_target(CameraSpec(path=path, fov_deg=60.0), ctx.frames, ctx.fps, [])[0][frame]
    offset = d.number("occluder_offset_m", layout.occluder_offset_m, 3)
    base = stage.focus[:2] + _planar(front) * offset
    crossing = _crossing(eye, ball, base, forward)
    speed = d.number("occluder_speed_mps", layout.occluder_speed_mps, 3)
    direction = forward * d.sign("occluder_direction")
    length = speed * ctx.duration + 1.0
    probe = WalkParams(waypoints=((0.0, 0.0), v4(direction * length)), speed_keys=(speed,))
    walked = motion_track(probe, ctx.fps, ctx.frames)[0]
    u = t_hide * ctx.fps
    i = min(int(u), ctx.frames - 2)
    at_hide = walked[i] + (walked[i + 1] - walked[i]) * (u - i)
    begin = crossing - at_hide
    walk = WalkParams(waypoints=(v4(begin), v4(begin + direction * length)), speed_keys=(speed,),
                      step_width=round(float(ctx.rng.uniform(0.12, 0.18)), 3), phase=cycle_phase(ctx.rng))  # fmt: skip
    characters = [*stage.characters, person(ctx.rng, "occluder", walk)]
    tracks = [*stage.tracks, motion_track(walk, ctx.fps, ctx.frames)]
    return dataclasses.replace(stage, characters=characters, tracks=tracks)
