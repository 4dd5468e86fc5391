"""ClipSpec: the seed and every choice of one clip, JSON round-trippable.

``scenes.sampling`` draws a ClipSpec from a seeded generator; ``scenes.build`` turns it into a
Scene without any further randomness. Storing the spec in a sample's meta.json is therefore
enough to rebuild the clip exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

from worldclips.motions.catalog import MotionSpec
from worldclips.motions.idle import IdleParams
from worldclips.motions.walk import WalkParams
from worldclips.scenes.meshes import DYNAMIC_CATEGORIES, DYNAMIC_SHAPES
from worldclips.scenes.interaction_spec import AttachmentSpec, PassedPropSpec
from worldclips.scenes.physics_spec import DynamicProp, Kick, PhysicsSettings
from worldclips.scenes.rooms import RoomSpec
from worldclips.scenes.user_props import MeshAsset
from worldclips.scenes.outfits import Outfit
from worldclips.scenes.scene import Lighting, Material, PhotoLook
from worldclips.scenes.serialization import from_jsonable, to_jsonable

# 2: CharacterSpec.motion (every motion kind); 3: dynamic_props, physics, simulation;
# 4: passes, attachments, the orbit_follow camera, SitParams' approach steps.
# 5: outfits (CharacterSpec.outfit) and the photographic look (ClipSpec.look); older specs have
#    neither and render in the flat look they were made with.
# 6: static props from the user's mesh folder (PropSpec.asset, category "mesh").
# 7: indoor rooms (ClipSpec.room, scenes.rooms), glowing materials (Material.emission) and PBR
#    texture sets (Material.texture, scenes.textures); older specs are outdoors and procedural.
# Older specs still load (``upgrade``).
SPEC_VERSION = 7
Vec2 = tuple[float, float]
Vec3 = tuple[float, float, float]
PROP_CATEGORIES = ("box", "sphere", "chair", "table")  # drawn by default
STATIC_CATEGORIES = (*PROP_CATEGORIES, "shelf", "wall")  # every built-in static prop category
USER_MESH = "mesh"  # a static prop whose mesh comes from the user's folder (scenes.user_props)
HAND_SIDES = ("left", "right")


@dataclass(frozen=True)
class CharacterSpec:
    """One person: body shape, look and motion.

    motion: any motion kind (motions.catalog.MotionSpec: walk, run, idle, jump, sit, reach,
        carry, wave, turn, dance, sequence or a user file), told apart in JSON by its ``family``.
    walk, idle: the fields of spec version 1, still accepted; exactly one of motion / walk /
        idle is set.
    outfit: clothes, hair and skin tone (scenes.outfits); None (specs before version 5, the
        flat look): the body wears ``material`` all over.
    """

    name: str
    betas: tuple[float, ...]
    material: Material
    walk: WalkParams | None = None
    idle: IdleParams | None = None
    motion: MotionSpec | None = None
    outfit: Outfit | None = None

    def __post_init__(self) -> None:
        if len(self.betas) != 10:
            raise ValueError(f"CharacterSpec.betas: expected 10 values, got {len(self.betas)}")
        if sum(m is not None for m in (self.walk, self.idle, self.motion)) != 1:
            raise ValueError("CharacterSpec: exactly one of motion, walk or idle must be given")

    @property
    def motion_params(self) -> MotionSpec:
        """The character's motion, whichever field holds it."""
        return self.motion if self.motion is not None else (self.walk if self.walk is not None else self.idle)

    @property
    def motion_kind(self) -> str:
        """"walk", "run", "sit", "file", ... (the motion's family)."""
        return self.motion_params.family


@dataclass(frozen=True)
class PropSpec:
    """A static prop standing on the ground.

    category: one of STATIC_CATEGORIES, or USER_MESH with ``asset`` (a user's mesh file).
    size: metres; box (sx, sy, sz), sphere (radius,), chair (width, depth, seat height, back
        height), table (width, depth, height), shelf (width, depth, height; open at +Y),
        wall (length, thickness, height), mesh (sx, sy, sz: the asset's bounding box).
    position: world XY of the footprint centre; yaw: radians about +Z.
    """

    name: str
    category: str
    size: tuple[float, ...]
    position: Vec2
    yaw: float
    material: Material
    asset: MeshAsset | None = None

    def __post_init__(self) -> None:
        if self.category not in (*STATIC_CATEGORIES, USER_MESH):
            raise ValueError(f"PropSpec.category: expected one of {(*STATIC_CATEGORIES, USER_MESH)}, got {self.category!r}")
        if (self.category == USER_MESH) != (self.asset is not None):
            raise ValueError(f"PropSpec.asset: expected a mesh asset exactly when the category is {USER_MESH!r}")
        expected = {"box": 3, "sphere": 1, "chair": 4, "table": 3, "shelf": 3, "wall": 3, USER_MESH: 3}[self.category]
        if len(self.size) != expected or min(self.size) <= 0:
            raise ValueError(f"PropSpec.size: a {self.category} needs {expected} positive sizes, got {self.size}")
        if self.asset is not None and tuple(self.size) != tuple(self.asset.size):
            raise ValueError(f"PropSpec.size: a mesh prop has its asset's size {self.asset.size}, got {self.size}")


def _hand(where: str, character: str, side: str) -> None:
    if not isinstance(character, str) or not character:
        raise ValueError(f"{where}.character: expected a character's name, got {character!r}")
    if side not in HAND_SIDES:
        raise ValueError(f"{where}.side: expected one of {HAND_SIDES}, got {side!r}")


@dataclass(frozen=True)
class ThrowSpec:
    """At release the prop leaves on the ballistic arc that brings its origin, ``flight_s`` seconds
    later, to a point of ``character``'s ``side`` hand, instead of leaving with the holding hand's
    velocity. The point: ``offset`` (metres, in the hand frame of scenes.hands), or by default the
    point where the prop, arriving on its arc, just touches the hand's collision hull. Solved on
    the posed bodies when the scene is built."""

    character: str
    side: str
    flight_s: float
    offset: Vec3 | None = None

    def __post_init__(self) -> None:
        _hand("ThrowSpec", self.character, self.side)
        if not 0.05 <= self.flight_s <= 5.0:
            raise ValueError(f"ThrowSpec.flight_s: expected 0.05..5 s, got {self.flight_s}")
        _offset("ThrowSpec", self.offset)


def _offset(where: str, offset) -> None:
    if offset is not None and max(abs(c) for c in offset) > 0.5:
        raise ValueError(f"{where}.offset: expected within 0.5 m of the hand, got {offset}")


@dataclass(frozen=True)
class HoldSpec:
    """The prop is in ``character``'s ``side`` hand from the start until frame ``release``
    (exclusive), its origin at ``offset`` (metres, hand frame of scenes.hands); it then leaves
    with the hand's velocity, or on ``throw``'s arc."""

    character: str
    side: str
    release: int
    offset: Vec3 = (0.0, 0.0, 0.05)
    throw: ThrowSpec | None = None

    def __post_init__(self) -> None:
        _hand("HoldSpec", self.character, self.side)
        if self.release < 0:
            raise ValueError(f"HoldSpec.release: expected a frame >= 0, got {self.release}")
        _offset("HoldSpec", self.offset)


@dataclass(frozen=True)
class CatchSpec:
    """From frame ``after`` on, the prop attaches to ``character``'s ``side`` hand when its origin
    comes within ``reach`` metres of the catching point, and stays there. The catching point:
    ``offset`` (metres, hand frame), or by default the point a throw to this hand aims at (else
    out of the palm by the prop's radius)."""

    character: str
    side: str
    after: int = 0
    reach: float = 0.05
    offset: Vec3 | None = None

    def __post_init__(self) -> None:
        _hand("CatchSpec", self.character, self.side)
        if self.after < 0:
            raise ValueError(f"CatchSpec.after: expected a frame >= 0, got {self.after}")
        if not 0.01 <= self.reach <= 0.5:
            raise ValueError(f"CatchSpec.reach: expected 0.01..0.5 m, got {self.reach}")
        _offset("CatchSpec", self.offset)


@dataclass(frozen=True)
class DynamicPropSpec:
    """A prop simulated by MuJoCo (scenes.physics).

    category: one of DYNAMIC_CATEGORIES (ball, box, cylinder, glass, cup, bottle).
    shape: its collision shape (ball: sphere; box: box; cylinder: cylinder or capsule; glass,
        cup, bottle: cylinder; the glass and cup meshes are open vessels, the bottle's neck lies
        inside its cylinder). size: metres, box (half x, half y, half z), sphere (radius,),
        cylinder and capsule (radius, half length along the local z axis).
    mass (kg), friction, rolling_friction (m), restitution: as scenes.physics_spec.DynamicProp.
    position: world position of the shape's centre (the body origin); rotation: axis-angle.
        A prop held in a hand starts in the hand instead.
    held_until: held still until this frame (exclusive); kicks: velocity changes at frames.
    hold, catch: a hand that holds the prop from the start / catches it.
    """

    name: str
    category: str
    shape: str
    size: tuple[float, ...]
    mass: float
    position: Vec3
    material: Material
    rotation: Vec3 = (0.0, 0.0, 0.0)
    friction: float = 0.6
    rolling_friction: float = 0.002
    restitution: float = 0.3
    held_until: int = 0
    kicks: tuple[Kick, ...] = ()
    hold: HoldSpec | None = None
    catch: CatchSpec | None = None

    def __post_init__(self) -> None:
        if self.category not in DYNAMIC_CATEGORIES:
            raise ValueError(f"DynamicPropSpec.category: expected one of {DYNAMIC_CATEGORIES}, got {self.category!r}")
        if self.shape not in DYNAMIC_SHAPES[self.category]:
            raise ValueError(f"DynamicPropSpec.shape: a {self.category} collides as one of {DYNAMIC_SHAPES[self.category]}, got {self.shape!r}")
        self.physics(0)  # the physical ranges (DynamicProp's checks), reported under this class's name

    def physics(self, instance_id: int, position=None, rotation=None) -> DynamicProp:
        """The simulation's prop (optionally starting at another pose, e.g. in a hand)."""
        try:
            return DynamicProp(
                instance_id=instance_id, shape=self.shape, size=tuple(self.size), mass=self.mass,
                position=tuple(self.position if position is None else position),
                rotation=tuple(self.rotation if rotation is None else rotation), friction=self.friction,
                rolling_friction=self.rolling_friction, restitution=self.restitution, held_until=self.held_until,
                kicks=tuple(self.kicks),
            )  # fmt: skip
        except ValueError as error:
            raise ValueError(str(error).replace(f"DynamicProp[{instance_id}]", "DynamicPropSpec", 1)) from error

    @property
    def radius(self) -> float:
        """Radius of the smallest sphere about the origin that holds the collision shape."""
        if self.shape == "sphere":
            return float(self.size[0])
        if self.shape == "box":
            return float(sum(c * c for c in self.size) ** 0.5)
        if self.shape == "capsule":
            return float(self.size[0] + self.size[1])
        return float((self.size[0] ** 2 + self.size[1] ** 2) ** 0.5)


PHYSICS_SETUPS = ("glass_off_table", "ball_throw", "knock_over", "stack_topple", "uniform", "collision", "parabola")


@dataclass(frozen=True)
class PhysicsScenario:
    """What a physics setup drew (recorded in meta.json's scenario_params).

    setup: one of PHYSICS_SETUPS; split: "id" or "ood" (in- or out-of-distribution ranges);
    values: the sampled values by name (SI units, angles in radians); ranges: the ranges each
    value was drawn from (one or more [low, high] intervals); choices: categorical draws
    (e.g. the prop category, push or tip).
    """

    setup: str
    split: str
    values: dict[str, float]
    ranges: dict[str, tuple[tuple[float, float], ...]]
    choices: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.setup not in PHYSICS_SETUPS:
            raise ValueError(f"PhysicsScenario.setup: expected one of {PHYSICS_SETUPS}, got {self.setup!r}")
        if self.split not in ("id", "ood"):
            raise ValueError(f"PhysicsScenario.split: expected 'id' or 'ood', got {self.split!r}")


@dataclass(frozen=True)
class StaticCamera:
    """A fixed camera at ``eye`` looking at ``target``."""

    eye: Vec3
    target: Vec3
    family: Literal["static"] = "static"


@dataclass(frozen=True)
class OrbitCamera:
    """A camera circling ``center`` at ``radius`` and ``height``, from ``start`` through ``sweep`` radians."""

    center: Vec3
    radius: float
    height: float
    start: float
    sweep: float
    family: Literal["orbit"] = "orbit"


@dataclass(frozen=True)
class DollyCamera:
    """A camera translating from ``eye_start`` to ``eye_end`` while looking at ``target``."""

    eye_start: Vec3
    eye_end: Vec3
    target: Vec3
    family: Literal["dolly"] = "dolly"


@dataclass(frozen=True)
class PanTiltCamera:
    """A fixed camera turning its gaze from ``target_start`` to ``target_end``."""

    eye: Vec3
    target_start: Vec3
    target_end: Vec3
    family: Literal["pan_tilt"] = "pan_tilt"


@dataclass(frozen=True)
class TrackingCamera:
    """A camera keeping a constant world offset from a character's smoothed pelvis and looking at it."""

    character: int
    offset: Vec3
    smoothing_s: float = 0.5
    family: Literal["tracking"] = "tracking"


@dataclass(frozen=True)
class FollowOrbitCamera:
    """A camera circling a character's smoothed pelvis (``character``: index in the clip) at
    ``radius`` and ``height``, from ``start`` through ``sweep`` radians (azimuth about +Z, linear
    in time), looking at the pelvis."""

    character: int
    radius: float
    height: float
    start: float
    sweep: float
    smoothing_s: float = 0.5
    family: Literal["orbit_follow"] = "orbit_follow"


CameraPath = StaticCamera | OrbitCamera | DollyCamera | PanTiltCamera | TrackingCamera | FollowOrbitCamera
CAMERA_FAMILIES = ("static", "orbit", "dolly", "pan_tilt", "tracking")  # drawn by the default scene
ALL_CAMERA_FAMILIES = (*CAMERA_FAMILIES, "orbit_follow")  # every family a spec or scenario may use


@dataclass(frozen=True)
class CameraSpec:
    """The camera path and its horizontal field of view (degrees); roll in radians."""

    path: CameraPath
    fov_deg: float
    roll: float = 0.0

    def __post_init__(self) -> None:
        if not 5.0 <= self.fov_deg <= 150.0:
            raise ValueError(f"CameraSpec.fov_deg: expected 5..150 degrees, got {self.fov_deg}")


@dataclass(frozen=True)
class ClipSpec:
    """Everything that decides one clip.

    run_seed, clip_index: where it came from (the generator was seeded with both).
    num_frames at fps; width x height pixels.
    dynamic_props: props simulated by MuJoCo (with ``simulation`` settings); physics: what a
    physics setup drew (None for other scenarios).
    passes: balls passed between hands on ballistic arcs; attachments: characters whose bodies
    follow another's hand (scenes.interaction_spec, resolved kinematically).
    look: the photographic look (None: flat). room: the walls, windows and ceiling around
    everything (scenes.rooms; the ground material is its floor); None: outdoors.
    """

    run_seed: int
    clip_index: int
    scenario: str
    fps: float
    num_frames: int
    width: int
    height: int
    ground: Material
    lighting: Lighting
    background_color: Vec3
    characters: tuple[CharacterSpec, ...]
    props: tuple[PropSpec, ...]
    camera: CameraSpec
    dynamic_props: tuple[DynamicPropSpec, ...] = ()
    physics: PhysicsScenario | None = None
    simulation: PhysicsSettings = PhysicsSettings()
    passes: tuple[PassedPropSpec, ...] = ()
    attachments: tuple[AttachmentSpec, ...] = ()
    look: PhotoLook | None = None
    room: RoomSpec | None = None
    version: int = SPEC_VERSION

    def __post_init__(self) -> None:
        if self.num_frames < 1:
            raise ValueError(f"ClipSpec.num_frames: expected >= 1, got {self.num_frames}")
        if self.width < 1 or self.height < 1:
            raise ValueError(f"ClipSpec.width/height: expected >= 1, got {self.width}x{self.height}")
        if not self.fps > 0:
            raise ValueError(f"ClipSpec.fps: expected > 0, got {self.fps}")
        people = {c.name for c in self.characters}
        for prop in self.dynamic_props:
            for role, hand in (("hold", prop.hold), ("catch", prop.catch), ("hold.throw", prop.hold and prop.hold.throw)):
                if hand is not None and hand.character not in people:
                    raise ValueError(f"ClipSpec.dynamic_props: {prop.name!r}.{role}.character {hand.character!r} is not a character of the clip")
        for prop in self.passes:
            unknown = sorted(prop.characters() - people)
            if unknown:
                raise ValueError(f"ClipSpec.passes: {prop.name!r} names {unknown[0]!r}, which is not a character of the clip")
            prop.check_timing(self.fps)
        for attachment in self.attachments:
            for name in (attachment.character, attachment.to):
                if name not in people:
                    raise ValueError(f"ClipSpec.attachments: {name!r} is not a character of the clip")

    def to_json(self) -> str:
        return json.dumps(to_jsonable(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ClipSpec":
        return from_jsonable(cls, upgrade(json.loads(text)))


def upgrade(data: object) -> object:
    """Spec JSON of older versions in today's layout (version 1: walk / idle params had no family;
    versions 1 and 2 have no dynamic props, physics or simulation, versions 1-3 no passes or
    attachments: the defaults apply)."""
    if isinstance(data, dict):
        for character in data.get("characters") or ():
            for kind in ("walk", "idle"):
                params = character.get(kind) if isinstance(character, dict) else None
                if isinstance(params, dict) and "family" not in params:
                    character[kind] = {**params, "family": kind}
    return data
