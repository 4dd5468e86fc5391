"""What the physics simulation needs, as plain frozen dataclasses (no MuJoCo types).

Dynamic props have a collision shape, mass and contact parameters, an initial pose and what
happens to them (held until a release frame, velocity kicks at chosen frames). Static colliders
are boxes and spheres in the world (the ground is implicit). Characters enter as kinematic
convex hulls whose world poses are given per frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SHAPES = ("box", "sphere", "cylinder", "capsule")
Vec3 = tuple[float, float, float]


def _finite(name: str, values) -> None:
    if not all(math.isfinite(float(v)) for v in np.ravel(values)):
        raise ValueError(f"{name}: expected finite values, got {values}")


@dataclass(frozen=True)
class Kick:
    """At ``frame`` the prop's velocity is set to (linear m/s, angular rad/s), world frame."""

    frame: int
    linear: Vec3
    angular: Vec3 = (0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        if self.frame < 0:
            raise ValueError(f"Kick.frame: expected >= 0, got {self.frame}")
        _finite("Kick.linear", self.linear)
        _finite("Kick.angular", self.angular)
        if max(abs(v) for v in (*self.linear, *self.angular)) > 100.0:
            raise ValueError(f"Kick: speeds above 100 m/s or rad/s are not physical here, got {self.linear} {self.angular}")


@dataclass(frozen=True)
class DynamicProp:
    """A rigid prop simulated by MuJoCo.

    shape: one of SHAPES; size in metres: box (half x, half y, half z), sphere (radius,),
        cylinder and capsule (radius, half length along the local z axis).
    mass: kg (> 0). friction: sliding coefficient (> 0). rolling_friction: metres (>= 0, keeps
        balls from rolling forever). restitution: bounce (0 = none .. 0.95).
    position: world position of the body origin (the shape's centre); rotation: axis-angle.
    held_until: the prop is held still until this frame (exclusive), then released; 0 = free
        from the start (after the settle phase).
    kicks: velocity changes at given frames.
    """

    instance_id: int
    shape: str
    size: tuple[float, ...]
    mass: float
    position: Vec3
    rotation: Vec3 = (0.0, 0.0, 0.0)
    friction: float = 0.6
    rolling_friction: float = 0.002
    restitution: float = 0.3
    held_until: int = 0
    kicks: tuple[Kick, ...] = ()

    def __post_init__(self) -> None:
        name = f"DynamicProp[{self.instance_id}]"
        if self.shape not in SHAPES:
            raise ValueError(f"{name}.shape: expected one of {SHAPES}, got {self.shape!r}")
        expected = {"box": 3, "sphere": 1, "cylinder": 2, "capsule": 2}[self.shape]
        if len(self.size) != expected:
            raise ValueError(f"{name}.size: a {self.shape} needs {expected} values, got {len(self.size)}")
        _finite(f"{name}.size", self.size)
        if not all(0.005 <= s <= 5.0 for s in self.size):
            raise ValueError(f"{name}.size: expected sizes in [0.005, 5] m, got {self.size}")
        for field, low, high in (("mass", 1e-3, 1e3), ("friction", 1e-3, 5.0), ("rolling_friction", 0.0, 0.1),
                                 ("restitution", 0.0, 0.95)):  # fmt: skip
            value = getattr(self, field)
            if not (math.isfinite(value) and low <= value <= high):
                raise ValueError(f"{name}.{field}: expected a value in [{low}, {high}], got {value}")
        _finite(f"{name}.position", self.position)
        _finite(f"{name}.rotation", self.rotation)
        if self.held_until < 0:
            raise ValueError(f"{name}.held_until: expected >= 0, got {self.held_until}")


@dataclass(frozen=True)
class StaticBox:
    """An immovable box collider: world centre, half sizes and yaw (radians about +Z)."""

    instance_id: int
    center: Vec3
    half_size: Vec3
    yaw: float = 0.0
    friction: float = 0.8


@dataclass(frozen=True)
class StaticSphere:
    """An immovable sphere collider: world centre and radius."""

    instance_id: int
    center: Vec3
    radius: float
    friction: float = 0.8


@dataclass(frozen=True, eq=False)
class StaticHull:
    """An immovable convex collider: the convex hull of (K, 3) float64 world-frame ``vertices``."""

    instance_id: int
    vertices: np.ndarray
    friction: float = 0.8


@dataclass(frozen=True, eq=False)
class KinematicHulls:
    """A character's collision shape: convex hulls moved kinematically.

    instance_id: the character's segmentation id.
    hull_vertices: L arrays (V_l, 3) float64, each hull in its link frame.
    world_from_link: (T, L, 4, 4) float64 link poses per frame.
    link_names: L names (hands are recognised by "Wrist" in the name).
    """

    instance_id: int
    hull_vertices: tuple[np.ndarray, ...]
    world_from_link: np.ndarray
    link_names: tuple[str, ...]


@dataclass(frozen=True)
class PhysicsSettings:
    """substep_hz: simulation rate (>= 500 Hz, rounded to a multiple of the fps);
    settle_s: seconds simulated before frame 0 with held props fixed."""

    substep_hz: float = 1000.0
    settle_s: float = 1.0

    def __post_init__(self) -> None:
        if not 500.0 <= self.substep_hz <= 20000.0:
            raise ValueError(f"PhysicsSettings.substep_hz: expected 500..20000, got {self.substep_hz}")
        if not 0.0 <= self.settle_s <= 10.0:
            raise ValueError(f"PhysicsSettings.settle_s: expected 0..10 s, got {self.settle_s}")


@dataclass(frozen=True, eq=False)
class ContactEvents:
    """Contacts per frame, aggregated per pair of instances (E events).

    frame: (E,) int32; instance_a, instance_b: (E,) int32 with a < b (0 is never used: the ground
        is its own instance id); position: (E, 3) float64 mean world contact point; normal:
        (E, 3) float64 unit normal pointing from a to b; impulse: (E,) float64 normal impulse
        in N*s accumulated over the frame's substeps.
    """

    frame: np.ndarray
    instance_a: np.ndarray
    instance_b: np.ndarray
    position: np.ndarray
    normal: np.ndarray
    impulse: np.ndarray

    def __len__(self) -> int:
        return len(self.frame)

    @classmethod
    def from_rows(cls, rows) -> "ContactEvents":
        """Events from (frame, a, b, position, normal, impulse) rows, sorted by (frame, a, b)."""
        rows = sorted(rows, key=lambda r: (r[0], r[1], r[2]))
        if not rows:
            empty = np.zeros((0, 3))
            return cls(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int32), empty, empty.copy(), np.zeros(0))
        frame, a, b, position, normal, impulse = zip(*rows)
        return cls(
            frame=np.array(frame, np.int32), instance_a=np.array(a, np.int32), instance_b=np.array(b, np.int32),
            position=np.array(position, float).reshape(-1, 3), normal=np.array(normal, float).reshape(-1, 3),
            impulse=np.array(impulse, float),
        )  # fmt: skip


@dataclass(frozen=True, eq=False)
class PhysicsResult:
    """Simulated prop motion, O props in input order.

    world_from_object: (O, T, 4, 4) float64; linear_velocity, angular_velocity: (O, T, 3)
    float64 world frame (angular about the body origin); contacts: per-frame events.
    """

    world_from_object: np.ndarray
    linear_velocity: np.ndarray
    angular_velocity: np.ndarray
    contacts: ContactEvents
