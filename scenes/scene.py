"""Scene: every per-frame value of a clip resolved, ready for any renderer.

A Scene holds no randomness and no references to the spec sampler: renderers and ground-truth
writers read it and nothing else. All transforms follow motions.conventions (Z-up world,
OpenCV cameras, ``a_from_b`` naming).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worldclips.motions.body import PosedBody
from worldclips.motions.motion import MotionClip
from worldclips.scenes.outfits import Outfit
from worldclips.scenes.physics_spec import ContactEvents
from worldclips.scenes.textures import TextureSet

PATTERNS = ("plain", "checker", "stripes", "tiles", "noise", "grass", "dirt", "asphalt", "concrete", "planks", "carpet",
            "plaster")  # fmt: skip


@dataclass(frozen=True)
class Material:
    """Surface appearance for the raster and path-traced backends.

    base_color: linear RGB in [0, 1].
    pattern: one of PATTERNS, evaluated procedurally from the surface's uv coordinates; the
        natural ones (grass ... carpet) blend base_color and pattern_color as their palette.
    pattern_color: linear RGB of the pattern's second colour.
    pattern_scale: pattern repeats per uv unit (uv is in metres for the ground and props).
    roughness: 0 (mirror-like highlight) .. 1 (matte).
    emission: light the surface gives off, as a multiple of its albedo, in the units of
        Lighting.sun_color (0: none; a ceiling light's panel glows).
    texture: a PBR texture set (scenes.textures) whose Color image, times base_color, is the
        albedo (uv in metres, one image per ``texture.size_m``), with its Roughness and
        NormalGL images where it has them; None: the procedural pattern.
    """

    base_color: tuple[float, float, float]
    pattern: str = "plain"
    pattern_color: tuple[float, float, float] = (0.0, 0.0, 0.0)
    pattern_scale: float = 1.0
    roughness: float = 0.6
    emission: float = 0.0
    texture: TextureSet | None = None

    def __post_init__(self) -> None:
        if self.pattern not in PATTERNS:
            raise ValueError(f"Material.pattern: expected one of {PATTERNS}, got {self.pattern!r}")
        if not (isinstance(self.emission, (int, float)) and 0.0 <= self.emission < 1e4):
            raise ValueError(f"Material.emission: expected 0..1e4, got {self.emission!r}")


@dataclass(frozen=True, eq=False)
class TriangleMesh:
    """A rigid triangle mesh in its object frame.

    vertices: (V, 3) float32 metres.
    normals: (V, 3) float32 unit vertex normals (flat-shaded meshes duplicate vertices).
    uvs: (V, 2) float32 texture coordinates in metres along the surface.
    faces: (F, 3) uint32 indices, counter-clockwise seen from outside.
    """

    vertices: np.ndarray
    normals: np.ndarray
    uvs: np.ndarray
    faces: np.ndarray


@dataclass(frozen=True, eq=False)
class SceneObject:
    """A rigid object with an instance id: the ground, a static prop or a moving prop.

    world_from_object: (T, 4, 4) float64 pose per frame.
    dynamic: true when the object moves during the clip.
    category: coarse class ("ground", "box", "sphere", "chair", "table", "glass", ...).
    linear_velocity, angular_velocity: (T, 3) float64 world-frame velocity of the object's origin
        (m/s) and angular velocity (rad/s), as simulated; None: derived from the poses
        (``velocities``).
    """

    instance_id: int
    name: str
    category: str
    dynamic: bool
    mesh: TriangleMesh
    material: Material
    world_from_object: np.ndarray
    linear_velocity: np.ndarray | None = None
    angular_velocity: np.ndarray | None = None

    def velocities(self, fps: float) -> tuple[np.ndarray, np.ndarray]:
        """(T, 3) linear and (T, 3) angular world velocity: the simulated ones, zeros for a static
        object, else finite differences of the poses (central inside the clip, one-sided at its ends)."""
        frames = len(self.world_from_object)
        if self.linear_velocity is not None and self.angular_velocity is not None:
            return np.asarray(self.linear_velocity, np.float64), np.asarray(self.angular_velocity, np.float64)
        if not self.dynamic or frames < 2:
            return np.zeros((frames, 3)), np.zeros((frames, 3))
        return pose_velocities(np.asarray(self.world_from_object, np.float64), fps)


@dataclass(frozen=True, eq=False)
class Character:
    """A person: SMPL-X motion, the body it drives and its look.

    material: the body's material (with an outfit: roughness aside, the top's colour and pattern).
    outfit: clothes, hair and skin by body region (needs body.vertex_regions); None: one material.
    """

    instance_id: int
    name: str
    motion: MotionClip
    body: PosedBody
    material: Material
    outfit: Outfit | None = None


MAX_SENSOR_NOISE = 0.1  # PhotoLook.sensor_noise: beyond this the frames are mostly noise


@dataclass(frozen=True)
class PhotoLook:
    """The photographic look of a clip (a Scene or ClipSpec without one has the flat debugging look:
    a plain background colour and no tone curve).

    turbidity: haze of the analytic daylight sky (scenes.sky; 2 clear .. 6 hazy).
    zenith_luminance: the sky's radiance at the zenith, in the units of Lighting.sun_color.
    exposure: scale of scene radiance before the filmic tone curve.
    haze_m: distance over which surfaces fade into the horizon's colour (aerial perspective).
    environment: path of the HDRI map (scenes.environments) that is the sky instead of the
        analytic one ("" for the analytic sky); environment_sha256 its content's hash (checked
        when the scene is built), environment_rotation the map's turn about +Z (radians) and
        environment_licence the first line of the licence file beside it.
    sensor_noise: the camera's sensor noise, its standard deviation at middle grey in linear RGB
        (render.sensor_noise; 0: none).
    """

    turbidity: float
    zenith_luminance: float
    exposure: float
    haze_m: float
    environment: str = ""
    environment_sha256: str = ""
    environment_rotation: float = 0.0
    environment_licence: str = ""
    sensor_noise: float = 0.0

    def __post_init__(self) -> None:
        for name in ("turbidity", "zenith_luminance", "exposure", "haze_m"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
                raise ValueError(f"PhotoLook.{name}: expected a positive number, got {value!r}")
        if not 1.7 <= self.turbidity <= 10.0:
            raise ValueError(f"PhotoLook.turbidity: expected 1.7..10 (the sky model's range), got {self.turbidity}")
        noise = self.sensor_noise
        if isinstance(noise, bool) or not (isinstance(noise, (int, float)) and 0.0 <= noise <= MAX_SENSOR_NOISE):
            raise ValueError(f"PhotoLook.sensor_noise: expected a standard deviation in [0, {MAX_SENSOR_NOISE}], got {noise!r}")


@dataclass(frozen=True)
class Lighting:
    """A sun plus a hemispherical ambient term.

    sun_direction: unit world vector pointing from the scene towards the sun.
    sun_color: linear RGB radiance scale of the sun.
    sky_color, ground_color: ambient light from above and from below.
    """

    sun_direction: tuple[float, float, float]
    sun_color: tuple[float, float, float]
    sky_color: tuple[float, float, float]
    ground_color: tuple[float, float, float]


@dataclass(frozen=True, eq=False)
class CameraTrack:
    """The camera over the clip.

    K: (T, 3, 3) float64 intrinsics in pixels.
    cam_from_world: (T, 4, 4) float64 OpenCV extrinsics.
    near, far: clipping distances of the raster backend, metres.
    family: the path family it was drawn from ("static", "orbit", ...).
    """

    K: np.ndarray
    cam_from_world: np.ndarray
    near: float
    far: float
    family: str


@dataclass(frozen=True)
class Lamp:
    """A small downward-facing light panel: centre of its emitting face (world metres), area
    (m^2) and radiance (linear RGB, the units of Lighting.sun_color: emission x albedo)."""

    position: tuple[float, float, float]
    area: float
    radiance: tuple[float, float, float]


@dataclass(frozen=True, eq=False)
class Scene:
    """A fully resolved clip.

    width, height: image size in pixels; num_frames at fps.
    objects: ground and props; characters: people. Instance ids are unique and >= 1.
    background_color: linear RGB of the sky seen where no surface is hit (flat look).
    look: the photographic look (sky, haze, tone curve); None: the flat debugging look.
    sky_image: (H, 2H, 3) float32 radiance of the look's HDRI map in Blender's equirectangular
        layout (scenes.sky.equirect_directions), rotated; None: the analytic sky.
    contacts: contact events of the clip (scenes.physics_spec.ContactEvents: simulated prop
        contacts, hand-object and foot-ground contacts); None when the scene was made without them.
    lamps: ceiling light panels that light the scene (a room's; the raster backend lights with
        them, Cycles with the emitting panel meshes themselves).
    """

    width: int
    height: int
    fps: float
    num_frames: int
    camera: CameraTrack
    lighting: Lighting
    objects: tuple[SceneObject, ...]
    characters: tuple[Character, ...]
    background_color: tuple[float, float, float]
    contacts: ContactEvents | None = None
    look: PhotoLook | None = None
    sky_image: np.ndarray | None = None
    lamps: tuple[Lamp, ...] = ()

    def instances(self) -> list[dict]:
        """The instance table: id, name, category, dynamic, kind ("object" or "person")."""
        table = [
            {"id": o.instance_id, "name": o.name, "category": o.category, "dynamic": o.dynamic, "kind": "object"}
            for o in self.objects
        ]
        table += [
            {"id": c.instance_id, "name": c.name, "category": "person", "dynamic": True, "kind": "person"}
            for c in self.characters
        ]
        return sorted(table, key=lambda row: row["id"])


def pose_velocities(poses: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(T, 4, 4) poses -> (T, 3) linear and (T, 3) angular world velocities by finite differences."""
    from scipy.spatial.transform import Rotation

    frames = len(poses)
    lo = np.maximum(np.arange(frames) - 1, 0)
    hi = np.minimum(np.arange(frames) + 1, frames - 1)
    span = (hi - lo)[:, None] / fps
    linear = (poses[hi, :3, 3] - poses[lo, :3, 3]) / span
    relative = poses[hi, :3, :3] @ np.swapaxes(poses[lo, :3, :3], 1, 2)  # world-frame rotation from lo to hi
    angular = Rotation.from_matrix(relative).as_rotvec() / span
    return linear, angular
