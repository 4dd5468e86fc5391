"""A clip's physics from its spec and posed characters: colliders, hands, the simulation.

Static props become colliders built from the same boxes as their meshes
(``scenes.meshes.prop_parts``; spheres as spheres; a user's mesh as its convex hull); props a character carries move and are not
colliders. Characters enter as kinematic mannequin-x convex hulls (scenes.character_hulls).
Holds, throws and catches are resolved on the posed bodies' hand frames (scenes.hands): a
thrown prop's release velocity is the ballistic one that brings it to the catching hand's point
after the throw's flight time, with the hands' real positions. Clips without dynamic props get
only their foot-ground contacts, from the hulls, without a simulation (``contacts_without_props``).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.spatial.transform import Rotation

from worldclips.motions.conventions import make_transform, rotation_z
from worldclips.scenes import meshes
from worldclips.scenes.character_hulls import character_hulls
from worldclips.scenes.hands import grip_offset, world_from_hand
from worldclips.scenes.physics_contacts import foot_ground_events
from worldclips.scenes.physics_spec import ContactEvents, Kick, KinematicHulls, PhysicsResult, StaticBox, StaticHull, StaticSphere
from worldclips.scenes.rooms import room_parts
from worldclips.scenes.scene import Character
from worldclips.scenes.spec import ClipSpec, PropSpec
from worldclips.scenes.user_props import hull_vertices

GRAVITY = np.array([0.0, 0.0, -9.81])
FURNITURE_FRICTION = 0.5  # sliding friction of static props (MuJoCo uses the larger of two geoms' values)


def static_colliders(props: list[PropSpec], ids: dict[str, int]) -> list[StaticBox | StaticSphere | StaticHull]:
    """Colliders of static props standing on the ground (yaw about their footprint centre)."""
    out: list[StaticBox | StaticSphere | StaticHull] = []
    for prop in props:
        x, y = prop.position
        if prop.asset is not None:
            hull = hull_vertices(prop.asset) @ rotation_z(prop.yaw).T + [x, y, 0.0]
            out.append(StaticHull(ids[prop.name], hull, FURNITURE_FRICTION))
            continue
        if prop.category == "sphere":
            out.append(StaticSphere(ids[prop.name], (x, y, prop.size[0]), prop.size[0], FURNITURE_FRICTION))
            continue
        rotation = rotation_z(prop.yaw)
        for size, center in meshes.prop_parts(prop.category, prop.size):
            world = rotation @ np.asarray(center, dtype=np.float64) + [x, y, 0.0]
            half = tuple(float(s) / 2 for s in size)
            out.append(StaticBox(ids[prop.name], tuple(float(c) for c in world), half, float(prop.yaw), FURNITURE_FRICTION))
    return out


def room_colliders(spec: ClipSpec, ids: dict[str, int]) -> list[StaticBox]:
    """A room's walls, window frames, skirting, ceiling and lights as boxes (the boxes its meshes
    are made of); none outdoors."""
    if spec.room is None:
        return []
    return [
        StaticBox(ids[part.name], tuple(float(c) for c in centre), tuple(float(s) / 2 for s in size), 0.0, FURNITURE_FRICTION)
        for part in room_parts(spec.room) for size, centre in part.boxes
    ]  # fmt: skip


def _offset(track: np.ndarray, offset) -> np.ndarray:
    """(T, 4, 4) hand poses moved by a point ``offset`` in the hand frame (orientation kept)."""
    moved = track.copy()
    moved[:, :3, 3] += np.einsum("tij,j->ti", track[:, :3, :3], np.asarray(offset, dtype=np.float64))
    return moved


def _position_at(track: np.ndarray, t: float, fps: float) -> np.ndarray:
    """Linear interpolation of (T, 4, 4) positions at time t (clamped to the clip)."""
    u = float(np.clip(t * fps, 0.0, len(track) - 1))
    i = min(int(u), len(track) - 2) if len(track) > 1 else 0
    w = u - i
    return track[i, :3, 3] * (1 - w) + track[min(i + 1, len(track) - 1), :3, 3] * w


def ballistic_velocity(start: np.ndarray, target: np.ndarray, flight_s: float) -> np.ndarray:
    """The launch velocity that brings a point from ``start`` to ``target`` in ``flight_s`` under gravity."""
    return (np.asarray(target) - np.asarray(start)) / flight_s - 0.5 * GRAVITY * flight_s


TOUCH_CLEARANCE_M = 0.005  # gap left between a thrown prop's aim point and the catching hand's hull


def _hand_link(hulls: KinematicHulls, side: str) -> int:
    prefix = "L_Wrist" if side == "left" else "R_Wrist"
    return next(i for i, name in enumerate(hulls.link_names) if name.startswith(prefix))


def touching_point(hulls: KinematicHulls, side: str, frame: int, palm: np.ndarray, direction: np.ndarray, radius: float) -> np.ndarray:
    """The world point, from the palm centre along unit ``direction``, where a sphere of ``radius``
    just clears the hand's collision hull (mannequin-x's hand link) in ``frame``."""
    link = _hand_link(hulls, side)
    pose = hulls.world_from_link[frame, link]
    vertices = hulls.hull_vertices[link] @ pose[:3, :3].T + pose[:3, 3]
    support = float(((vertices - palm) @ direction).max())
    return palm + direction * (max(support, 0.0) + radius + TOUCH_CLEARANCE_M)


def resolve_throw(prop, release_track: np.ndarray, target_hand: np.ndarray, target_hulls: KinematicHulls, fps: float):
    """(release velocity (3,), hand-frame offset of the aim point (3,)) of a thrown prop.

    The aim point is ``prop.hold.throw.offset`` when given; else the point where the prop,
    arriving on its arc, touches the catching hand (a few fixed-point iterations on the arrival
    direction).
    """
    throw, release = prop.hold.throw, prop.hold.release
    start = release_track[release, :3, 3]
    t_arrive = release / fps + throw.flight_s
    frame = int(np.clip(round(t_arrive * fps), 0, len(target_hand) - 1))
    if throw.offset is not None:
        target = _position_at(_offset(target_hand, throw.offset), t_arrive, fps)
        return ballistic_velocity(start, target, throw.flight_s), np.asarray(throw.offset, dtype=np.float64)
    palm = _position_at(target_hand, t_arrive, fps)
    target = palm
    for _ in range(4):
        velocity = ballistic_velocity(start, target, throw.flight_s)
        incoming = velocity + GRAVITY * throw.flight_s  # velocity on arrival
        target = touching_point(target_hulls, throw.side, frame, palm, -incoming / np.linalg.norm(incoming), prop.radius)
    velocity = ballistic_velocity(start, target, throw.flight_s)
    pose = target_hand[frame]
    offset = pose[:3, :3].T @ (target - palm)  # in the hand frame of the arrival frame
    return velocity, offset


def simulate_clip(spec: ClipSpec, characters: list[Character], ids: dict[str, int], carried: set[str], ground_id: int) -> PhysicsResult:
    """Simulate the clip's dynamic props among its static props and characters."""
    from worldclips.scenes.physics import Catch, Hold, simulate  # mujoco only where a clip has dynamic props

    frames, fps = spec.num_frames, spec.fps
    by_name = {c.name: c for c in characters}
    hulls = {c.name: character_hulls(c.instance_id, c.motion) for c in characters}
    hands: dict[tuple[str, str], np.ndarray] = {}

    def hand(name: str, side: str) -> np.ndarray:
        if (name, side) not in hands:
            hands[name, side] = world_from_hand(by_name[name].body.joints, side)
        return hands[name, side]

    props, holds, catches = [], {}, {}
    for prop in spec.dynamic_props:
        instance = ids[prop.name]
        physical = prop.physics(instance)
        aimed: tuple[str, str, np.ndarray] | None = None  # (character, side, hand-frame offset) a throw aims at
        if prop.hold is not None:
            palm = hand(prop.hold.character, prop.hold.side)
            track = _offset(palm, prop.hold.offset) @ make_transform(Rotation.from_rotvec(prop.rotation).as_matrix(), np.zeros(3))
            start = track[0]
            physical = prop.physics(instance, start[:3, 3], Rotation.from_matrix(start[:3, :3]).as_rotvec())
            holds[instance] = Hold(track, prop.hold.release, ids[prop.hold.character], palm[:, :3, 3].copy())
            throw = prop.hold.throw
            if throw is not None and 0 < prop.hold.release < frames:
                velocity, offset = resolve_throw(prop, track, hand(throw.character, throw.side), hulls[throw.character], fps)
                kick = Kick(prop.hold.release, tuple(float(v) for v in velocity))
                physical = dataclasses.replace(physical, kicks=(*physical.kicks, kick))
                aimed = (throw.character, throw.side, offset)
        if prop.catch is not None:
            catch = prop.catch
            palm = hand(catch.character, catch.side)
            if catch.offset is not None:
                offset = np.asarray(catch.offset, dtype=np.float64)
            elif aimed is not None and aimed[:2] == (catch.character, catch.side):
                offset = aimed[2]
            else:
                offset = np.array(grip_offset(prop.radius))
            catches[instance] = Catch(_offset(palm, offset), catch.after, catch.reach, ids[catch.character], palm[:, :3, 3].copy())
        props.append(physical)
    statics = static_colliders([p for p in spec.props if p.name not in carried], ids) + room_colliders(spec, ids)
    return simulate(props, statics, list(hulls.values()), fps, frames, spec.simulation, holds, catches, ground_id)


def contacts_without_props(characters: list[Character], ground_id: int) -> ContactEvents:
    """Foot-ground contacts of a clip without dynamic props (no simulation)."""
    hulls: list[KinematicHulls] = [character_hulls(c.instance_id, c.motion) for c in characters]
    return foot_ground_events(hulls, ground_id)
