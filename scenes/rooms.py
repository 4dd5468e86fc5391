"""Indoor rooms: a floor, four walls with window openings, skirting, window frames and a ceiling
with light fixtures, drawn around what a clip's people, props and camera need.

A RoomSpec is geometry and materials only. ``room_parts`` turns it into axis-aligned boxes in
world metres; the meshes the backends draw and the physics colliders are both built from that
one list (as static props are from ``meshes.prop_parts``). ``sample_room`` draws a room around a
clip's content: every walking path, prop and camera position stays at least CONTENT_MARGIN_M
inside the walls and below the ceiling, so the camera never leaves the room and nobody walks
through a wall. Furniture (shelves, cabinets, tables) stands against the walls, clear of the
paths and the camera.

Frame: world Z up, floor at z = 0 (the physics ground). Walls are WALL_THICKNESS_M thick outside
the interior bounds and reach down to the ground outside, which lies OUTSIDE_DROP_M below the
floor and is what the windows show below the horizon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worldclips.scenes import meshes
from worldclips.scenes.scene import Lamp, Material

WALL_SIDES = ("south", "east", "north", "west")  # the walls at y_min, x_max, y_max, x_min
WALL_THICKNESS_M = 0.15
OUTSIDE_DROP_M = 0.45  # the ground outside lies this far below the floor
SKIRTING_M = (0.08, 0.015)  # height, depth
FRAME_M = 0.05  # width of a window frame's members
WINDOW_BOARD_M = (0.03, 0.05)  # thickness, depth of the board under a window (into the room)
LAMP_M = (0.5, 0.04)  # side, thickness of a ceiling light fixture
MAX_WINDOWS_PER_WALL = 8
MAX_ROOM_M = 40.0  # content wider than this (a very large arena) stays outdoors
CONTENT_MARGIN_M = 0.6  # walls stand at least this far from any path, prop or camera position
CEILING_CLEARANCE_M = 0.4  # the ceiling is at least this far above the camera and every prop
MIN_ROOM_M = 4.0
ROOM_PART_CATEGORIES = ("wall", "window", "skirting", "ceiling", "lamp")
FURNITURE = ("shelf", "box", "table", "shelf")  # drawn against the walls (box: a cabinet)

Box = tuple[tuple[float, float, float], tuple[float, float, float]]  # (size, centre), world metres


@dataclass(frozen=True)
class WindowSpec:
    """An opening in one wall.

    side: one of WALL_SIDES; center: metres along the wall from the interior's midpoint (+X for
    the south and north walls, +Y for the east and west walls); width: metres; sill, head:
    heights of its bottom and top above the floor.
    """

    side: str
    center: float
    width: float
    sill: float
    head: float


@dataclass(frozen=True)
class RoomSpec:
    """A closed room.

    bounds: interior (x_min, y_min, x_max, y_max), world metres; height: the ceiling above the
    floor; windows: openings in the walls; lights: (x, y) of the ceiling light fixtures;
    wall, ceiling, trim (skirting and window frames), outside (the ground seen through the
    windows), lamp (the fixtures' glowing panels): materials. The floor is the clip's ground
    material (ClipSpec.ground).
    """

    bounds: tuple[float, float, float, float]
    height: float
    windows: tuple[WindowSpec, ...]
    lights: tuple[tuple[float, float], ...]
    wall: Material
    ceiling: Material
    trim: Material
    outside: Material
    lamp: Material = Material(base_color=(0.95, 0.94, 0.9), roughness=0.3, emission=1.0)

    def __post_init__(self) -> None:
        x0, y0, x1, y1 = self.bounds
        if not (2.0 <= x1 - x0 <= 60.0 and 2.0 <= y1 - y0 <= 60.0):
            raise ValueError(f"RoomSpec.bounds: expected 2..60 m on each side, got {list(self.bounds)}")
        if not 2.0 <= self.height <= 8.0:
            raise ValueError(f"RoomSpec.height: expected 2..8 m, got {self.height}")
        for window in self.windows:
            if window.side not in WALL_SIDES:
                raise ValueError(f"RoomSpec.windows: side expected one of {WALL_SIDES}, got {window.side!r}")
            half = wall_length(self.bounds, window.side) / 2
            if not (window.width > 2 * FRAME_M and abs(window.center) + window.width / 2 <= half):
                raise ValueError(f"RoomSpec.windows: a {window.width} m window at {window.center} m does not fit the "
                                 f"{2 * half:.2f} m {window.side} wall")  # fmt: skip
            if not 0.0 <= window.sill < window.head - 2 * FRAME_M <= self.height - 2 * FRAME_M:
                raise ValueError(f"RoomSpec.windows: expected 0 <= sill < head <= height, got sill {window.sill}, "
                                 f"head {window.head}, height {self.height}")  # fmt: skip
        for side in WALL_SIDES:
            if sum(w.side == side for w in self.windows) > MAX_WINDOWS_PER_WALL:
                raise ValueError(f"RoomSpec.windows: more than {MAX_WINDOWS_PER_WALL} on the {side} wall")
        for a, b in _pairs(list(self.windows)):
            if a.side == b.side and abs(a.center - b.center) < (a.width + b.width) / 2 + 2 * FRAME_M:
                raise ValueError(f"RoomSpec.windows: two windows of the {a.side} wall overlap")
        for x, y in self.lights:
            if not (x0 <= x <= x1 and y0 <= y <= y1):
                raise ValueError(f"RoomSpec.lights: ({x}, {y}) lies outside the room")
        if len(self.lights) > MAX_LAMPS:
            raise ValueError(f"RoomSpec.lights: {len(self.lights)} fixtures, expected at most {MAX_LAMPS}")

    @property
    def center(self) -> np.ndarray:
        x0, y0, x1, y1 = self.bounds
        return np.array([(x0 + x1) / 2, (y0 + y1) / 2])


@dataclass(frozen=True)
class RoomPart:
    """One object of a room: its name (unique in the clip), segmentation category, boxes and material."""

    name: str
    category: str
    boxes: tuple[Box, ...]
    material: Material


def _pairs(items: list) -> list[tuple]:
    return [(a, b) for i, a in enumerate(items) for b in items[i + 1 :]]


def wall_length(bounds: tuple[float, float, float, float], side: str) -> float:
    """Interior length of a wall (along its own axis) of a room with interior ``bounds``."""
    x0, y0, x1, y1 = bounds
    return (x1 - x0) if side in ("south", "north") else (y1 - y0)


def _slab(room: RoomSpec, side: str, along: tuple[float, float], up: tuple[float, float], inward: tuple[float, float]) -> Box:
    """The box of a wall-aligned slab: ``along`` metres along the wall from its midpoint, ``up``
    metres above the floor, ``inward`` metres from the wall's interior face into the room
    (negative: into the wall)."""
    x0, y0, x1, y1 = room.bounds
    (a0, a1), (z0, z1), (n0, n1) = along, up, inward
    mid_x, mid_y = (x0 + x1) / 2, (y0 + y1) / 2
    if side in ("south", "north"):
        face, sign = (y0, 1.0) if side == "south" else (y1, -1.0)
        ys = sorted((face + sign * n0, face + sign * n1))
        lo, hi = (mid_x + a0, ys[0], z0), (mid_x + a1, ys[1], z1)
    else:
        face, sign = (x1, -1.0) if side == "east" else (x0, 1.0)
        xs = sorted((face + sign * n0, face + sign * n1))
        lo, hi = (xs[0], mid_y + a0, z0), (xs[1], mid_y + a1, z1)
    size = tuple(float(h - l) for l, h in zip(lo, hi))
    centre = tuple(float((h + l) / 2) for l, h in zip(lo, hi))
    return size, centre


def _wall_boxes(room: RoomSpec, side: str) -> list[Box]:
    """The solid parts of a wall around its window openings; the south and north walls also
    cover the corners."""
    t, height = WALL_THICKNESS_M, room.height
    half = wall_length(room.bounds, side) / 2 + (t if side in ("south", "north") else 0.0)
    openings = sorted((w.center - w.width / 2, w.center + w.width / 2, w.sill, w.head) for w in room.windows if w.side == side)
    boxes, start = [], -half
    for lo, hi, sill, head in openings:
        boxes.append(_slab(room, side, (start, lo), (-OUTSIDE_DROP_M, height), (-t, 0.0)))
        boxes.append(_slab(room, side, (lo, hi), (-OUTSIDE_DROP_M, sill), (-t, 0.0)))
        boxes.append(_slab(room, side, (lo, hi), (head, height), (-t, 0.0)))
        start = hi
    boxes.append(_slab(room, side, (start, half), (-OUTSIDE_DROP_M, height), (-t, 0.0)))
    return [b for b in boxes if min(b[0]) > 1e-6]


def _window_boxes(room: RoomSpec, window: WindowSpec) -> list[Box]:
    """A frame lining the opening and a board under it reaching into the room."""
    t, f = WALL_THICKNESS_M, FRAME_M
    lo, hi = window.center - window.width / 2, window.center + window.width / 2
    frame = (-t, 0.0)
    board_t, board_d = WINDOW_BOARD_M
    return [
        _slab(room, window.side, (lo, lo + f), (window.sill, window.head), frame),
        _slab(room, window.side, (hi - f, hi), (window.sill, window.head), frame),
        _slab(room, window.side, (lo + f, hi - f), (window.head - f, window.head), frame),
        _slab(room, window.side, (lo + f, hi - f), (window.sill, window.sill + f), frame),
        _slab(room, window.side, (lo - f, hi + f), (window.sill - board_t, window.sill), (0.0, board_d)),
    ]


def _skirting_boxes(room: RoomSpec) -> list[Box]:
    height, depth = SKIRTING_M
    boxes = []
    for side in WALL_SIDES:
        half = wall_length(room.bounds, side) / 2
        if side in ("east", "west"):  # between the south and north skirting
            half -= depth
        boxes.append(_slab(room, side, (-half, half), (0.0, height), (0.0, depth)))
    return boxes


def room_parts(room: RoomSpec) -> list[RoomPart]:
    """Every object of the room but its floor: four walls, the window frames, the skirting,
    the ceiling and its light fixtures (parts without boxes are left out)."""
    x0, y0, x1, y1 = room.bounds
    t = WALL_THICKNESS_M
    ceiling = ((x1 - x0 + 2 * t, y1 - y0 + 2 * t, t), ((x0 + x1) / 2, (y0 + y1) / 2, room.height + t / 2))
    side_len, thick = LAMP_M
    lamps = [((side_len, side_len, thick), (x, y, room.height - thick / 2)) for x, y in room.lights]
    parts = [RoomPart(f"wall_{side}", "wall", tuple(_wall_boxes(room, side)), room.wall) for side in WALL_SIDES]
    windows = [box for window in room.windows for box in _window_boxes(room, window)]
    parts += [
        RoomPart("window_frames", "window", tuple(windows), room.trim),
        RoomPart("skirting", "skirting", tuple(_skirting_boxes(room)), room.trim),
        RoomPart("ceiling", "ceiling", (ceiling,), room.ceiling),
        RoomPart("ceiling_lights", "lamp", tuple(lamps), room.lamp),
    ]
    return [part for part in parts if part.boxes]


ROOM_PART_NAMES = ("wall_south", "wall_east", "wall_north", "wall_west", "window_frames", "skirting", "ceiling",
                   "ceiling_lights")  # fmt: skip


def room_lamps(room: RoomSpec) -> tuple[Lamp, ...]:
    """The ceiling light panels as lights: the lower face of each fixture, glowing with the
    lamp material's emission times its albedo."""
    side, thick = LAMP_M
    radiance = tuple(float(c) * float(room.lamp.emission) for c in room.lamp.base_color)
    if room.lamp.emission <= 0:
        return ()
    return tuple(Lamp((float(x), float(y), float(room.height - thick)), side * side, radiance) for x, y in room.lights)


def part_mesh(part: RoomPart) -> meshes.TriangleMesh:
    """The part's boxes as one flat-shaded mesh in world coordinates (uv in metres)."""
    return meshes.merge([meshes.box(size, centre) for size, centre in part.boxes])


def floor_mesh(room: RoomSpec) -> meshes.TriangleMesh:
    """The floor: the rectangle z = 0 under the room and its walls, normal +Z, uv = world xy."""
    x0, y0, x1, y1 = room.bounds
    t = WALL_THICKNESS_M
    return meshes.rectangle(x0 - t, y0 - t, x1 + t, y1 + t, 0.0)


# -- drawing a room around a clip ----------------------------------------------------------------


def content_bounds(paths, placed, eyes: np.ndarray) -> np.ndarray:
    """(x_min, y_min, x_max, y_max) of every body path (centres widened by their radius), placed
    prop (footprint radius) and camera position."""
    points = [np.asarray(eyes)[:, :2]]
    for centres, radius in paths:
        centres = np.asarray(centres, dtype=np.float64)
        points += [centres - radius, centres + radius]
    for xy, radius in placed:
        xy = np.asarray(xy, dtype=np.float64)
        points += [xy[None] - radius, xy[None] + radius]
    stacked = np.concatenate(points)
    return np.concatenate([stacked.min(axis=0), stacked.max(axis=0)])


def _windows(rng: np.random.Generator, room_bounds, height: float) -> tuple[WindowSpec, ...]:
    windows: list[WindowSpec] = []
    counts = rng.choice(3, size=4, p=[0.35, 0.45, 0.2])
    if counts.sum() == 0:
        counts[int(rng.integers(4))] = 1
    for side, count in zip(WALL_SIDES, counts):
        half = wall_length(room_bounds, side) / 2 - 0.4  # keep clear of the corners
        for _ in range(int(count)):
            width = float(min(rng.uniform(0.8, 1.8), 2 * half - 0.2))
            center = float(rng.uniform(-half + width / 2, half - width / 2))
            sill = float(rng.uniform(0.75, 1.0))
            head = float(min(rng.uniform(2.0, 2.3), height - 0.25))
            window = WindowSpec(side, round(center, 3), round(width, 3), round(sill, 3), round(head, 3))
            if all(w.side != side or abs(w.center - window.center) >= (w.width + window.width) / 2 + 0.3 for w in windows):
                windows.append(window)
    return tuple(windows)


MAX_LAMPS = 16  # the raster backend lights with at most this many (render.glsl Frame block)
LAMP_CELL_M = 4.0  # one light panel per cell of about this side (each costs the raster every fragment)


def _lights(room_bounds) -> tuple[tuple[float, float], ...]:
    """A grid of fixtures, one per ~LAMP_CELL_M cell (larger cells in rooms that would need more than MAX_LAMPS)."""
    x0, y0, x1, y1 = room_bounds
    cell = LAMP_CELL_M
    while max(1, round((x1 - x0) / cell)) * max(1, round((y1 - y0) / cell)) > MAX_LAMPS:
        cell += 0.5
    nx, ny = max(1, round((x1 - x0) / cell)), max(1, round((y1 - y0) / cell))
    xs = x0 + (np.arange(nx) + 0.5) * (x1 - x0) / nx
    ys = y0 + (np.arange(ny) + 0.5) * (y1 - y0) / ny
    return tuple((round(float(x), 3), round(float(y), 3)) for x in xs for y in ys)


def sample_room(rng: np.random.Generator, paths, placed, eyes: np.ndarray, top_m: float, materials) -> RoomSpec | None:
    """A room around the content: ``paths`` [(centres (T, 2), radius)], ``placed`` [(xy, radius)],
    camera ``eyes`` (N, 3), ``top_m`` the highest prop top; ``materials()`` returns (wall,
    ceiling, trim, outside). None when the content spans more than MAX_ROOM_M (no draw made)."""
    lo_x, lo_y, hi_x, hi_y = content_bounds(paths, placed, eyes)
    if max(hi_x - lo_x, hi_y - lo_y) > MAX_ROOM_M:
        return None
    pad = CONTENT_MARGIN_M + rng.uniform(0.0, 1.0, size=4)
    x0, y0, x1, y1 = lo_x - pad[0], lo_y - pad[1], hi_x + pad[2], hi_y + pad[3]
    grow_x, grow_y = max(0.0, MIN_ROOM_M - (x1 - x0)) / 2, max(0.0, MIN_ROOM_M - (y1 - y0)) / 2
    bounds = tuple(round(float(v), 3) for v in (x0 - grow_x, y0 - grow_y, x1 + grow_x, y1 + grow_y))
    bounds = (bounds[0], bounds[1], max(bounds[2], bounds[0] + MIN_ROOM_M), max(bounds[3], bounds[1] + MIN_ROOM_M))
    needed = max(float(np.max(np.asarray(eyes)[:, 2])), top_m) + CEILING_CLEARANCE_M
    height = round(float(max(rng.uniform(2.6, 3.2), needed)), 3)
    windows = _windows(rng, bounds, height)
    wall, ceiling, trim, outside = materials()
    return RoomSpec(bounds, height, windows, _lights(bounds), wall, ceiling, trim, outside)


def against_wall(room: RoomSpec, side: str, along: float, depth: float) -> tuple[tuple[float, float], float]:
    """Footprint centre and yaw of a piece of furniture of ``depth`` standing with its back
    (object -Y) against a wall, ``along`` metres from the wall's midpoint; the object's +Y faces
    into the room."""
    x0, y0, x1, y1 = room.bounds
    mid_x, mid_y = (x0 + x1) / 2, (y0 + y1) / 2
    gap = 0.02 + depth / 2
    if side == "south":
        return (mid_x + along, y0 + gap), 0.0
    if side == "north":
        return (mid_x + along, y1 - gap), float(np.pi)
    if side == "east":
        return (x1 - gap, mid_y + along), float(np.pi / 2)
    return (x0 + gap, mid_y + along), float(-np.pi / 2)


def blocks_window(room: RoomSpec, side: str, along: float, width: float, top_m: float) -> bool:
    """Whether furniture of ``width`` at ``along`` on a wall would stand in front of a window
    and reach above its sill."""
    return any(
        w.side == side and abs(w.center - along) < (w.width + width) / 2 and top_m > w.sill - WINDOW_BOARD_M[0]
        for w in room.windows
    )
