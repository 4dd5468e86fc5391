"""Seeded sampling of the physics setups: the characters, static and dynamic props and camera of
each (``scene.physics`` in the config, scenes.physics_config).

- glass_off_table: a glass, cup or bottle near a table's edge is pushed (a linear kick) or
  tipped (an angular kick about the edge) off it, as a person beside the table reaches for it.
- ball_throw: two people face each other; one holds a ball, reaches forward and releases it on
  the ballistic arc that ends in the other's outstretched hand (scenes.physics_scene solves the
  velocity on the posed bodies), and the other catches it (the reach motion holds the hand out).
- knock_over: a walker's straight path runs through light props (boxes, balls, upright
  cylinders and bottles), which the hulls of the legs knock over.
- stack_topple: a stack of 3-5 boxes either built with offsets so that it topples when released,
  or stable and kicked near the top.
- uniform, collision, parabola: one or two balls, no people, a static side-on camera: a ball
  rolling at constant speed (no rolling friction, kicked rolling), two balls colliding head-on,
  a ball launched into a parabola. Their speed and size ranges have ``id`` and ``ood`` splits
  (scenes.physics_config).

Every value drawn and its range is recorded in the spec's PhysicsScenario (meta.json's
``scenario_params.physics``). Timing scales with the clip: events are planned on the clip's
duration (2 s at the default 48 frames and 24 fps); much shorter clips may end before them.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from worldclips.motions.catalog import motion_track
from worldclips.motions.reach import ReachParams
from worldclips.motions.walk import WalkParams, walk_path_length
from worldclips.scenes.camera_paths import eye_and_target
from worldclips.scenes.hands import grip_offset
from worldclips.scenes.physics_config import COMMON_RANGES, SPLIT_RANGES, draw
from worldclips.scenes.physics_scene import FURNITURE_FRICTION
from worldclips.scenes.physics_spec import Kick, PhysicsSettings
from worldclips.scenes.draws import PATTERNS, cycle_phase, material, person, r4, sample_look, v4
from worldclips.scenes.placement import camera_clear
from worldclips.scenes.scene_config import SceneConfig
from worldclips.scenes.scene import Material
from worldclips.scenes.spec import (
    CameraSpec,
    CatchSpec,
    ClipSpec,
    DollyCamera,
    DynamicPropSpec,
    HoldSpec,
    OrbitCamera,
    PhysicsScenario,
    PropSpec,
    StaticCamera,
    ThrowSpec,
)

G = 9.81
ATTEMPTS = 60
SINGLE_OBJECT = ("uniform", "collision", "parabola")


def _planar(angle: float) -> np.ndarray:
    return np.array([np.cos(angle), np.sin(angle)])


class Draws:
    """Draws from the clip's generator that remember their values and ranges (PhysicsScenario)."""

    def __init__(self, rng: np.random.Generator, setup: str, split: str = "id"):
        self.rng, self.setup, self.split = rng, setup, split
        self.values: dict[str, float] = {}
        self.ranges: dict[str, tuple[tuple[float, float], ...]] = {}
        self.choices: dict[str, str] = {}

    def uniform(self, name: str, low: float, high: float) -> float:
        return self.ranged(name, ((low, high),))

    def ranged(self, name: str, ranges) -> float:
        ranges = tuple((r4(lo), r4(hi)) for lo, hi in ranges)
        value = draw(self.rng, ranges)
        self.values[name], self.ranges[name] = value, ranges
        return value

    def split_range(self, name: str) -> float:
        """A value from the setup's ``split`` ranges (single-object cases)."""
        return self.ranged(name, SPLIT_RANGES[self.setup][name][self.split])

    def common(self, name: str) -> float:
        return self.ranged(name, COMMON_RANGES[self.setup][name])

    def choice(self, name: str, options: tuple[str, ...], p=None) -> str:
        value = str(options[int(self.rng.choice(len(options), p=p))])
        self.choices[name] = value
        return value

    def note(self, name: str, value: float) -> float:
        """A derived value worth recording (no range)."""
        self.values[name] = r4(value)
        return self.values[name]

    def scenario(self) -> PhysicsScenario:
        return PhysicsScenario(self.setup, self.split, dict(self.values), dict(self.ranges), dict(self.choices))


def _prop_material(rng, category: str) -> Material:
    if category == "glass":  # no transparency in the raster backend: a pale, glossy tint
        tint = np.array([0.75, 0.85, 0.9]) * rng.uniform(0.8, 1.0)
        return Material(base_color=v4(tint), roughness=r4(rng.uniform(0.05, 0.2), 3))
    patterns = ("checker", "stripes") if category == "ball" else PATTERNS
    return material(rng, patterns)


def _half_height(prop_shape: str, size) -> float:
    """Height of the origin above a flat support for a prop standing upright."""
    if prop_shape in ("sphere", "box"):
        return size[-1]
    return size[1] + (size[0] if prop_shape == "capsule" else 0.0)


def _ball_mass(radius: float, density: float) -> float:
    return r4(max(density * 4.0 / 3.0 * np.pi * radius**3, 0.002), 5)


def _duration(fps: float, frames: int) -> float:
    return max((frames - 1) / fps, 1.0 / fps)


def _frame(t: float, fps: float) -> int:
    return max(int(round(t * fps)), 0)


def _camera(rng, focus, azimuth: float, spread: float, distance, height, frames: int, occupied, placed, families=("static", "orbit", "dolly")):
    """A camera path looking at ``focus`` (3,) from about ``azimuth`` (+- spread), clear of people and props."""
    focus = np.asarray(focus, dtype=np.float64)
    for _ in range(ATTEMPTS):
        family = str(rng.choice(families))
        angle = azimuth + rng.uniform(-spread, spread)
        d, h = rng.uniform(*distance), rng.uniform(*height)
        eye = np.array([*(focus[:2] + d * _planar(angle)), h])
        if family == "static":
            path = StaticCamera(eye=v4(eye), target=v4(focus))
        elif family == "orbit":
            sweep = rng.uniform(np.radians(10), np.radians(35)) * rng.choice([-1, 1])
            path = OrbitCamera(center=v4(focus), radius=r4(d), height=r4(h), start=r4(angle - sweep / 2), sweep=r4(sweep))
        else:
            side = np.array([-np.sin(angle), np.cos(angle), 0.0])
            move = rng.uniform(-0.6, 0.6) * side + rng.uniform(-0.4, 0.2) * np.array([*_planar(angle), 0.0])
            path = DollyCamera(eye_start=v4(eye - move / 2), eye_end=v4(eye + move / 2), target=v4(focus))
        eyes = eye_and_target(CameraSpec(path=path, fov_deg=60.0), frames, 1.0, [])[0]
        if camera_clear(eyes, occupied, placed):
            return path
    eye = np.array([*(focus[:2] + 1.5 * distance[1] * _planar(azimuth)), 1.5 * height[1]])
    return StaticCamera(eye=v4(eye), target=v4(focus))


@dataclasses.dataclass(frozen=True)
class View:
    """The camera's horizontal field of view (degrees) and the image size."""

    fov_deg: float
    width: int
    height: int

    def distance(self, across: float, up: float) -> float:
        """How far a camera must be to see ``across`` metres horizontally and ``up`` metres vertically."""
        half_h = np.radians(self.fov_deg) / 2
        half_v = np.arctan(np.tan(half_h) * self.height / self.width)
        return float(max(across / 2 / np.tan(half_h), up / 2 / np.tan(half_v)))


def _track(motion, fps: float, frames: int):
    """(centres (T, 2), radius): the space a character's motion sweeps, for camera clearance."""
    return motion_track(motion, fps, frames)


# -- setups ----------------------------------------------------------------------------------------


def _glass_off_table(rng, draws: Draws, config: SceneConfig, fps: float, frames: int, view: View):
    duration = _duration(fps, frames)
    center = rng.uniform(-0.5, 0.5, size=2)
    yaw = rng.uniform(-np.pi, np.pi)
    width, depth = draws.uniform("table_width", 0.8, 1.3), draws.uniform("table_depth", 0.6, 0.9)
    height = draws.uniform("table_height", 0.7, 0.8)
    table = PropSpec("table", "table", (width, depth, height), v4(center), r4(yaw), material(rng, PATTERNS))
    category = draws.choice("category", ("glass", "cup", "bottle"), p=[0.6, 0.2, 0.2])
    radius = {"glass": (0.03, 0.045), "cup": (0.04, 0.05), "bottle": (0.03, 0.045)}[category]
    half = {"glass": (0.05, 0.075), "cup": (0.04, 0.055), "bottle": (0.1, 0.14)}[category]
    mass = {"glass": (0.15, 0.35), "cup": (0.2, 0.35), "bottle": (0.3, 0.9)}[category]
    radius, half = draws.uniform("radius", *radius), draws.uniform("half_height", *half)
    mass, friction = draws.uniform("mass", *mass), draws.uniform("friction", 0.3, 0.5)
    restitution = draws.uniform("restitution", 0.05, 0.3)
    mode = draws.choice("mode", ("push", "tip"))
    gap = draws.uniform("edge_gap", radius + 0.06, radius + 0.18) if mode == "push" else draws.uniform("edge_gap", radius + 0.005, radius + 0.02)
    local_y = rng.uniform(-depth / 2 + 0.12, -depth / 2 + 0.25)
    rotation = np.array([[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]])
    glass_xy = center + rotation @ [width / 2 - gap, local_y]
    push = rotation @ [1.0, 0.0]  # towards the edge
    # A person beside the table (-y side) reaches towards the glass; the kick comes as the hand arrives.
    person_xy = center + rotation @ [width / 2 - gap - rng.uniform(0.15, 0.3), -depth / 2 - rng.uniform(0.32, 0.42)]
    heading = yaw + np.pi / 2 + rng.uniform(-0.2, 0.2)
    glass_z = height + half
    target = np.array([*(glass_xy - push * (radius + 0.13)), glass_z])
    start, reach_time = r4(rng.uniform(0.05, 0.2) * min(1.0, duration / 2.0), 3), r4(rng.uniform(0.5, 0.8), 3)
    reach = ReachParams(
        position=v4(person_xy), heading=r4(heading), target=v4(target), side="right", start=start, reach_time=reach_time,
        hold=r4(rng.uniform(0.2, 0.5), 3), return_time=r4(rng.uniform(0.5, 0.8), 3), phase=cycle_phase(rng),
    )  # fmt: skip
    kick_frame = _frame(start + reach_time, fps)
    friction_combined = max(friction, FURNITURE_FRICTION)
    if mode == "push":
        minimum = np.sqrt(2 * friction_combined * G * (gap + radius))
        speed = draws.note("speed", minimum * draws.uniform("speed_factor", 1.15, 1.5))
        kick = Kick(kick_frame, v4([*(push * speed), 0.0]))
    else:
        spin = draws.uniform("spin", 6.0, 10.0)
        axis = np.array([*np.cross([0.0, 0.0, 1.0], [*push, 0.0])[:2], 0.0])  # tips the top towards the edge
        pivot = np.array([*(push * radius), -half])  # bottom rim at the edge, from the centre
        linear = np.cross(axis * spin, -pivot) + np.array([*push, 0.0]) * draws.uniform("slide", 0.2, 0.5)
        kick = Kick(kick_frame, v4(linear), v4(axis * spin))
    glass = DynamicPropSpec(
        name=category, category=category, shape="cylinder", size=(radius, half), mass=mass,
        position=(*v4(glass_xy), r4(glass_z)), material=_prop_material(rng, category), friction=friction,
        rolling_friction=0.003, restitution=restitution, kicks=(kick,),
    )  # fmt: skip
    reacher = person(rng, "person0", reach)
    occupied = [_track(reach, fps, frames)]
    placed = [(center, float(np.hypot(width, depth) / 2))]
    # Seen from across the table (+y), a little from the edge's side: the fall crosses the image.
    focus = (*(center + rotation @ [width / 2 + 0.45, local_y]), 0.55)
    near = max(view.distance(2.2, 1.5), depth + 0.5)
    camera_azimuth = yaw + rng.uniform(np.radians(55), np.radians(85))
    path = _camera(rng, focus, camera_azimuth, 0.0, (near, 1.2 * near), (1.0, 1.5), frames, occupied, placed)
    return [reacher], [table], [glass], path, PhysicsSettings(settle_s=0.3)


def _ball_throw(rng, draws: Draws, config: SceneConfig, fps: float, frames: int, view: View):
    duration = _duration(fps, frames)
    scale = min(1.0, duration / 2.0)
    center = rng.uniform(-0.5, 0.5, size=2)
    direction = rng.uniform(-np.pi, np.pi)
    distance = draws.uniform("distance", 2.5, 3.8)
    forward = _planar(direction)
    thrower_xy, catcher_xy = center - forward * distance / 2, center + forward * distance / 2
    radius, mass = draws.uniform("radius", 0.06, 0.11), draws.uniform("mass", 0.1, 0.45)
    squeeze = max(scale, 0.6)  # short clips get shorter throws
    flight = draws.uniform("flight_s", 0.45 * squeeze, 0.65 * squeeze)
    sides = [draws.choice("thrower_side", ("left", "right")), draws.choice("catcher_side", ("left", "right"))]

    def hand_target(xy, heading, side, low, high):
        ahead = _planar(heading)
        right = np.array([np.sin(heading), -np.cos(heading)])
        lateral = right if side == "right" else -right
        point = xy + ahead * rng.uniform(0.35, 0.45) + lateral * rng.uniform(0.1, 0.2)
        return (*v4(point), r4(rng.uniform(low, high)))

    t_start = r4(rng.uniform(0.05, 0.15) * scale, 3)
    t_reach = r4(max(0.3, rng.uniform(0.45, 0.6) * scale), 3)
    thrower = ReachParams(
        position=v4(thrower_xy), heading=r4(direction), target=hand_target(thrower_xy, direction, sides[0], 1.2, 1.45),
        side=sides[0], start=t_start, reach_time=t_reach, hold=r4(rng.uniform(0.3, 0.5), 3),
        return_time=r4(rng.uniform(0.5, 0.8), 3), phase=cycle_phase(rng),
    )  # fmt: skip
    release_t = t_start + t_reach + rng.uniform(0.0, 0.1) * scale
    release = max(_frame(release_t, fps), 1)
    arrival = release / fps + flight
    c_reach = r4(max(0.3, rng.uniform(0.45, 0.6) * scale), 3)
    c_start = r4(max(0.02, arrival - c_reach - rng.uniform(0.1, 0.3) * scale), 3)
    catcher = ReachParams(
        position=v4(catcher_xy), heading=r4(direction + np.pi), target=hand_target(catcher_xy, direction + np.pi, sides[1], 1.0, 1.35),
        side=sides[1], start=c_start, reach_time=c_reach, hold=r4(max(duration, 1.0), 3), return_time=0.6, phase=cycle_phase(rng),
    )  # fmt: skip
    draws.note("release_time", release / fps)
    draws.note("arrival_time", arrival)
    grip = grip_offset(radius)  # in the thrower's palm; the catch point is where the ball meets the catcher's hand
    ball = DynamicPropSpec(
        name="ball", category="ball", shape="sphere", size=(radius,), mass=mass,
        position=(*v4(thrower_xy + forward * 0.3), 1.0), material=_prop_material(rng, "ball"), friction=0.6,
        rolling_friction=0.003, restitution=draws.uniform("restitution", 0.5, 0.8),
        hold=HoldSpec("thrower", sides[0], release, grip, ThrowSpec("catcher", sides[1], r4(flight, 4))),
        catch=CatchSpec("catcher", sides[1], after=release + 1, reach=0.05),
    )  # fmt: skip
    people = [person(rng, "thrower", thrower), person(rng, "catcher", catcher)]
    occupied = [_track(thrower, fps, frames), _track(catcher, fps, frames)]
    focus = (*center, 1.1)
    azimuth = direction + np.pi / 2 * rng.choice([-1, 1])
    near = max(view.distance(distance + 1.4, 2.2), 3.0)
    path = _camera(rng, focus, azimuth, np.radians(30), (near, 1.2 * near), (1.0, 1.8), frames, occupied, [])
    return people, [], [ball], path, PhysicsSettings(settle_s=0.2)


def _light_prop(rng, draws: Draws, index: int, xy) -> DynamicPropSpec:
    category = draws.choice(f"prop{index}_category", ("box", "ball", "cylinder", "bottle"))
    u = lambda lo, hi: r4(rng.uniform(lo, hi))  # noqa: E731
    if category == "box":
        shape, size, mass = "box", (u(0.06, 0.14), u(0.06, 0.14), u(0.06, 0.18)), u(0.2, 1.0)
    elif category == "ball":
        shape, size, mass = "sphere", (u(0.08, 0.13),), u(0.1, 0.45)
    elif category == "cylinder":
        shape, size, mass = "cylinder", (u(0.04, 0.07), u(0.1, 0.2)), u(0.2, 0.8)
    else:
        shape, size, mass = "cylinder", (u(0.035, 0.05), u(0.1, 0.15)), u(0.3, 0.9)
    yaw = rng.uniform(-np.pi, np.pi)
    return DynamicPropSpec(
        name=f"{category}{index}", category=category, shape=shape, size=size, mass=mass,
        position=(*v4(xy), r4(_half_height(shape, size))), rotation=(0.0, 0.0, r4(yaw) if shape == "box" else 0.0),
        material=_prop_material(rng, category), friction=u(0.4, 0.7), rolling_friction=0.003, restitution=u(0.1, 0.5),
    )  # fmt: skip


def _knock_over(rng, draws: Draws, config: SceneConfig, fps: float, frames: int, view: View):
    duration = _duration(fps, frames)
    direction = rng.uniform(-np.pi, np.pi)
    forward = _planar(direction)
    keys = tuple(r4(v, 3) for v in rng.uniform(*config.walk_speed, size=3))
    longest = max(config.walk_speed) * duration + 2.0
    start = rng.uniform(-0.5, 0.5, size=2) - forward * longest / 3
    walk = WalkParams(waypoints=(v4(start), v4(start + forward * longest)), speed_keys=keys, phase=cycle_phase(rng),
                      step_width=r4(rng.uniform(0.12, 0.2), 3))  # fmt: skip
    walked = draws.note("walked_m", walk_path_length(walk, fps, frames))
    count = int(rng.integers(2, 5))
    low, high = 0.7, max(walked - 0.3, 0.75)
    arcs, props = [], []
    for index in range(count):
        for _ in range(ATTEMPTS):
            s = rng.uniform(low, high)
            if all(abs(s - other) > 0.4 for other in arcs):
                break
        else:
            continue
        arcs.append(s)
    for index, s in enumerate(sorted(arcs)):
        lateral = draws.uniform(f"prop{index}_lateral", -0.1, 0.1)
        xy = start + forward * s + np.array([-forward[1], forward[0]]) * lateral
        draws.note(f"prop{index}_arc_m", s)
        props.append(_light_prop(rng, draws, index, xy))
    draws.note("speed", float(np.mean(keys)))
    walker = person(rng, "walker", walk)
    occupied = [_track(walk, fps, frames)]
    middle = start + forward * (np.mean(arcs) if arcs else walked / 2)
    azimuth = direction + np.pi / 2 * rng.choice([-1, 1])
    near = max(view.distance(min(walked, 3.0) + 1.0, 2.2), 3.0)
    path = _camera(rng, (*middle, 0.6), azimuth, np.radians(45), (near, 1.2 * near), (1.0, 2.0), frames, occupied, [])
    return [walker], [], props, path, PhysicsSettings(settle_s=0.3)


def _stack_topple(rng, draws: Draws, config: SceneConfig, fps: float, frames: int, view: View):
    duration = _duration(fps, frames)
    center = rng.uniform(-0.5, 0.5, size=2)
    yaw = rng.uniform(-np.pi, np.pi)
    count = int(rng.integers(3, 6))
    draws.note("boxes", count)
    mode = draws.choice("mode", ("offset", "kick"))
    density = draws.uniform("density", 200.0, 800.0)
    along = np.array([np.cos(yaw), np.sin(yaw)])
    halves = [np.array([rng.uniform(0.12, 0.2), rng.uniform(0.12, 0.2), rng.uniform(0.08, 0.14)])]
    for _ in range(count - 1):
        previous = halves[-1]
        halves.append(np.array([previous[0] * rng.uniform(0.75, 1.0), previous[1] * rng.uniform(0.75, 1.0), rng.uniform(0.06, 0.12)]))
    halves = np.array(halves)
    if mode == "offset":  # each box shifted the same way; scaled so that the worst level overhangs its support
        steps = np.r_[0.0, rng.uniform(0.45, 0.7, size=count - 1) * halves[:-1, 0]]
        offsets = np.cumsum(steps)
        masses = np.prod(halves, axis=1)
        overhang = max(
            abs(np.average(offsets[k:], weights=masses[k:]) - offsets[k - 1]) / halves[k - 1, 0] for k in range(1, count)
        )  # centre of mass of the boxes above each level, in half widths of the box below
        offsets *= draws.uniform("overhang", 1.15, 1.5) / overhang
    else:  # a straight stack with small random shifts
        offsets = np.cumsum(np.r_[0.0, rng.uniform(-0.1, 0.1, size=count - 1) * halves[:-1, 0]])
    release = _frame(draws.uniform("release_s", 0.1, 0.25) * min(1.0, duration / 2.0), fps) if mode == "offset" else 0
    boxes, z = [], 0.0
    for level, half in enumerate(halves):
        xy = center + along * offsets[level]
        mass = r4(max(density * 8 * float(np.prod(half)), 0.01), 4)
        boxes.append(
            DynamicPropSpec(
                name=f"box{level}", category="box", shape="box", size=v4(half), mass=mass,
                position=(*v4(xy), r4(z + half[2], 5)), rotation=(0.0, 0.0, r4(yaw)), material=_prop_material(rng, "box"),
                friction=r4(rng.uniform(0.4, 0.7)), rolling_friction=0.002, restitution=r4(rng.uniform(0.05, 0.2)),
                held_until=release,
            )  # fmt: skip
        )
        z += 2 * half[2]
    offset = float(offsets[-1])
    if mode == "kick":  # the top box is knocked sideways with a tumbling spin
        speed, spin = draws.uniform("kick_speed", 1.5, 3.0), draws.uniform("kick_spin", 2.0, 6.0)
        kick_frame = _frame(draws.uniform("kick_s", 0.15, 0.35) * min(1.0, duration / 2.0), fps)
        axis = np.array([-along[1], along[0], 0.0])  # tips the top over towards the kick
        boxes[-1] = dataclasses.replace(boxes[-1], kicks=(Kick(kick_frame, v4([*(along * speed), 0.0]), v4(axis * spin)),))
    draws.note("height_m", z)
    focus = (*(center + along * offset / 2), z / 2)
    azimuth = yaw + np.pi / 2 * rng.choice([-1, 1])
    placed = [(center, 0.5)]
    near = max(view.distance(z + 1.6, z + 0.5), 2.0)
    path = _camera(rng, focus, azimuth, np.radians(40), (near, 1.2 * near), (0.8, 1.6), frames, [], placed)
    return [], [], boxes, path, PhysicsSettings(settle_s=0.2 if mode == "kick" else 0.0)


def _side_camera(rng, view: View, low: np.ndarray, high: np.ndarray, direction: float):
    """A static camera looking perpendicular to the motion at the box [low, high] (world XYZ), framing it."""
    centre = (low + high) / 2
    extent_along = float(np.linalg.norm((high - low)[:2])) + 0.6
    extent_up = float(high[2] - low[2]) + 0.3
    distance = max(view.distance(extent_along, extent_up), 1.5) * 1.1
    side = rng.choice([-1, 1])
    normal = np.array([-np.sin(direction), np.cos(direction)]) * side
    eye_height = max(centre[2], rng.uniform(0.3, 0.7))
    eye = np.array([*(centre[:2] + normal * distance), eye_height])
    return StaticCamera(eye=v4(eye), target=v4(centre))


def _ball(rng, name: str, radius: float, mass: float, position, velocity, frame: int = 0, restitution: float = 0.3,
          rolling: bool = True) -> DynamicPropSpec:  # fmt: skip
    """A ball kicked at ``frame``; rolling: with the spin of rolling without slipping on the ground."""
    velocity = np.asarray(velocity, dtype=np.float64)
    spin = np.cross([0.0, 0.0, 1.0], velocity) / radius if rolling else np.zeros(3)
    return DynamicPropSpec(
        name=name, category="ball", shape="sphere", size=(radius,), mass=mass, position=v4(position, 5),
        material=_prop_material(rng, "ball"), friction=0.6, rolling_friction=0.0, restitution=restitution,
        kicks=(Kick(frame, v4(velocity, 5), v4(spin, 5)),),
    )  # fmt: skip


def _uniform(rng, draws: Draws, config: SceneConfig, fps: float, frames: int, view: View):
    duration = _duration(fps, frames)
    speed, radius, density = draws.split_range("speed"), draws.split_range("radius"), draws.common("density")
    direction = rng.uniform(-np.pi, np.pi)
    forward = np.array([*_planar(direction), 0.0])
    start = np.array([*rng.uniform(-0.5, 0.5, size=2), radius]) - forward * speed * duration / 2
    end = start + forward * speed * duration
    ball = _ball(rng, "ball", radius, _ball_mass(radius, density), start, forward * speed)
    low, high = np.minimum(start, end) - radius, np.maximum(start, end) + radius
    low[2], high[2] = 0.0, 2 * radius
    path = _side_camera(rng, view, low, high, direction)
    return [], [], [ball], path, PhysicsSettings(settle_s=0.0)


def _collision(rng, draws: Draws, config: SceneConfig, fps: float, frames: int, view: View):
    duration = _duration(fps, frames)
    speed_a, radius = draws.split_range("speed"), draws.split_range("radius")
    ratio, density = draws.split_range("mass_ratio"), draws.common("density")
    restitution, share = draws.common("restitution"), draws.common("speed_b_share")
    speed_b = draws.note("speed_b", share * speed_a)
    t_contact = draws.uniform("contact_time", 0.35, 0.5) * duration
    direction = rng.uniform(-np.pi, np.pi)
    forward = np.array([*_planar(direction), 0.0])
    contact = np.array([*rng.uniform(-0.5, 0.5, size=2), radius])
    mass_a = _ball_mass(radius, density)
    mass_b = r4(max(mass_a * ratio, 0.002), 5)
    start_a = contact - forward * (radius + speed_a * t_contact)
    start_b = contact + forward * (radius + speed_b * t_contact)
    balls = [
        _ball(rng, "ball_a", radius, mass_a, start_a, forward * speed_a, restitution=restitution),
        _ball(rng, "ball_b", radius, mass_b, start_b, -forward * speed_b, restitution=restitution),
    ]
    # 1D velocities after the collision (along forward), to frame where the balls go.
    total = mass_a + mass_b
    v_a = (mass_a * speed_a - mass_b * speed_b - mass_b * restitution * (speed_a + speed_b)) / total
    v_b = (mass_a * speed_a - mass_b * speed_b + mass_a * restitution * (speed_a + speed_b)) / total
    rest = duration - t_contact
    points = [start_a, start_b, contact + forward * (v_a * rest - radius), contact + forward * (v_b * rest + radius)]
    low, high = np.min(points, axis=0) - radius, np.max(points, axis=0) + radius
    low[2], high[2] = 0.0, 2 * radius
    path = _side_camera(rng, view, low, high, direction)
    return [], [], balls, path, PhysicsSettings(settle_s=0.0)


def _parabola(rng, draws: Draws, config: SceneConfig, fps: float, frames: int, view: View):
    duration = _duration(fps, frames)
    speed, angle, radius = draws.split_range("speed"), draws.split_range("angle"), draws.split_range("radius")
    density, launch_height, restitution = draws.common("density"), draws.common("height"), draws.common("restitution")
    direction = rng.uniform(-np.pi, np.pi)
    forward = np.array([*_planar(direction), 0.0])
    vx, vz = speed * np.cos(angle), speed * np.sin(angle)
    flight = (vz + np.sqrt(vz * vz + 2 * G * (launch_height - radius))) / G  # to the first bounce
    reach = vx * duration  # framed: the whole clip (bounces only slow the ball down along its path)
    start = np.array([*rng.uniform(-0.5, 0.5, size=2), launch_height]) - forward * reach / 2
    ball = _ball(rng, "ball", radius, _ball_mass(radius, density), start, forward * vx + np.array([0, 0, vz]),
                 restitution=restitution, rolling=False)  # fmt: skip
    apex = launch_height + vz * vz / (2 * G)
    draws.note("apex_m", apex)
    draws.note("first_bounce_s", flight)
    low = np.minimum(start, start + forward * reach) - radius
    high = np.maximum(start, start + forward * reach) + radius
    low[2], high[2] = 0.0, apex + radius
    path = _side_camera(rng, view, low, high, direction)
    return [], [], [ball], path, PhysicsSettings(settle_s=0.0)


SETUPS = {
    "glass_off_table": _glass_off_table, "ball_throw": _ball_throw, "knock_over": _knock_over, "stack_topple": _stack_topple,
    "uniform": _uniform, "collision": _collision, "parabola": _parabola,
}  # fmt: skip


def sample_physics_clip(
    config: SceneConfig, setup: str, rng: np.random.Generator, run_seed: int, clip_index: int, fps: float, num_frames: int,
    width: int, height: int,
) -> ClipSpec:  # fmt: skip
    """The spec of one clip of physics ``setup`` (drawn from ``rng``, the clip's generator)."""
    physics = config.physics
    split = physics.split if setup in SINGLE_OBJECT else "id"
    draws = Draws(rng, setup, split)
    fov = r4(rng.uniform(*config.fov_deg), 3)
    people, props, dynamic, path, settings = SETUPS[setup](rng, draws, config, fps, num_frames, View(fov, width, height))
    lighting, ground, background = sample_look(rng)
    roll = r4(rng.normal(0.0, 0.02)) if setup not in SINGLE_OBJECT else 0.0
    return ClipSpec(
        run_seed=run_seed, clip_index=clip_index, scenario=setup, fps=fps, num_frames=num_frames, width=width, height=height,
        ground=ground, lighting=lighting, background_color=background, characters=tuple(people), props=tuple(props),
        camera=CameraSpec(path=path, fov_deg=fov, roll=roll), dynamic_props=tuple(dynamic), physics=draws.scenario(),
        simulation=PhysicsSettings(substep_hz=physics.substep_hz, settle_s=settings.settle_s),
    )  # fmt: skip
