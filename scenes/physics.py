"""Rigid-body simulation of props with MuJoCo (the only module that imports mujoco).

The model: the ground plane, static box colliders (furniture), free-floating props, and the
characters as mocap bodies (convex hulls moved kinematically every substep, interpolated
between frames), so people push, kick and block props. Fixed substeps of at least 500 Hz, sampled
at the clip's fps; a settle phase before frame 0; rolling friction (condim 6) so balls come to
rest. Props can be held on a given trajectory (a table top, a hand) and released, kicked at given
frames, or caught by a hand that comes within reach. Deterministic: the same inputs give the
same trajectories bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

import mujoco
import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from scenes.physics_contacts import ContactRecorder
from scenes.physics_spec import DynamicProp, KinematicHulls, PhysicsResult, PhysicsSettings, StaticBox

GROUND_FRICTION = 0.8


def _fmt(values) -> str:
    return " ".join(f"{float(v):.9g}" for v in np.ravel(values))


def _quat_wxyz(rotation: Rotation) -> np.ndarray:
    x, y, z, w = rotation.as_quat()
    return np.array([w, x, y, z])


def restitution_dampratio(restitution: float) -> float:
    """Damping ratio of MuJoCo's contact spring whose rebound matches a coefficient of restitution."""
    if restitution <= 1e-6:
        return 1.0
    log_e = np.log(restitution)
    return float(-log_e / np.sqrt(np.pi**2 + log_e**2))


def _prop_geom(prop: DynamicProp, timeconst: float) -> str:
    size = {"box": prop.size, "sphere": prop.size, "cylinder": prop.size, "capsule": prop.size}[prop.shape]
    return (
        f'<geom type="{prop.shape}" size="{_fmt(size)}" mass="{prop.mass:.9g}" condim="6" '
        f'friction="{prop.friction:.9g} 0.005 {prop.rolling_friction:.9g}" '
        f'solref="{timeconst:.9g} {restitution_dampratio(prop.restitution):.9g}"/>'
    )


@dataclass(frozen=True)
class Hold:
    """A prop held on a world trajectory (T, 4, 4) up to ``until`` (exclusive), e.g. by a hand."""

    world_from_object: np.ndarray
    until: int


@dataclass(frozen=True)
class Catch:
    """After ``after``, a prop whose origin comes within ``reach`` metres of the hand point
    (T, 3) attaches to it at its relative offset and follows ``world_from_hand`` (T, 4, 4)."""

    world_from_hand: np.ndarray
    after: int
    reach: float = 0.12


def build_mjcf(props, statics, characters, timestep: float) -> str:
    """The MJCF document of a clip's physics."""
    timeconst = max(2.0 * timestep, 0.004)
    assets, bodies = [], []
    for box in statics:
        quat = _quat_wxyz(Rotation.from_euler("z", box.yaw))
        bodies.append(
            f'<geom name="static{box.instance_id}" type="box" pos="{_fmt(box.center)}" quat="{_fmt(quat)}" '
            f'size="{_fmt(box.half_size)}" friction="{box.friction:.9g} 0.005 0.0001" condim="3"/>'
        )
    for prop in props:
        quat = _quat_wxyz(Rotation.from_rotvec(prop.rotation))
        bodies.append(
            f'<body name="prop{prop.instance_id}" pos="{_fmt(prop.position)}" quat="{_fmt(quat)}">'
            f'<freejoint/>{_prop_geom(prop, timeconst)}</body>'
        )
    for character in characters:
        for link, vertices in enumerate(character.hull_vertices):
            mesh = f"hull{character.instance_id}_{link}"
            assets.append(f"<mesh name={quoteattr(mesh)} vertex={quoteattr(_fmt(vertices))}/>")
            bodies.append(
                f'<body name="{mesh}" mocap="true"><geom type="mesh" mesh="{mesh}" condim="3" '
                f'friction="0.8 0.005 0.0001" contype="2" conaffinity="1"/></body>'
            )
    return (
        f'<mujoco model="worldclips"><compiler angle="radian"/>'
        f'<option timestep="{timestep:.12g}" gravity="0 0 -9.81" cone="elliptic" integrator="implicitfast"/>'
        f'<default><geom contype="1" conaffinity="3"/></default>'
        f'<asset>{"".join(assets)}</asset><worldbody>'
        f'<geom name="ground" type="plane" size="0 0 1" friction="{GROUND_FRICTION} 0.005 0.0001" condim="3"/>'
        f'{"".join(bodies)}</worldbody></mujoco>'
    )


class _Trajectory:
    """A (T, 4, 4) pose track sampled at any time by linear position / slerp rotation interpolation."""

    def __init__(self, poses: np.ndarray, fps: float):
        self.poses, self.fps = poses, fps
        times = np.arange(len(poses)) / fps
        self._slerp = Slerp(times, Rotation.from_matrix(poses[:, :3, :3])) if len(poses) > 1 else None

    def at(self, t: float) -> tuple[np.ndarray, Rotation]:
        last = (len(self.poses) - 1) / self.fps
        t = min(max(t, 0.0), last)
        u = t * self.fps
        i = min(int(u), len(self.poses) - 2) if len(self.poses) > 1 else 0
        w = u - i
        position = self.poses[i, :3, 3] * (1 - w) + self.poses[min(i + 1, len(self.poses) - 1), :3, 3] * w
        rotation = self._slerp(t) if self._slerp else Rotation.from_matrix(self.poses[0, :3, :3])
        return position, rotation


def simulate(
    props: list[DynamicProp],
    statics: list[StaticBox],
    characters: list[KinematicHulls],
    fps: float,
    num_frames: int,
    settings: PhysicsSettings = PhysicsSettings(),
    holds: dict[int, Hold] | None = None,
    catches: dict[int, Catch] | None = None,
    ground_id: int = 1,
) -> PhysicsResult:
    """Simulate ``num_frames`` frames; props are recorded at t = frame / fps after the settle phase."""
    holds, catches = holds or {}, catches or {}
    substeps = max(1, int(np.ceil(settings.substep_hz / fps)))
    dt = 1.0 / (fps * substeps)
    model = mujoco.MjModel.from_xml_string(build_mjcf(props, statics, characters, dt))
    data = mujoco.MjData(model)
    prop_ids = [p.instance_id for p in props]
    qpos_adr = [model.jnt_qposadr[model.body(f"prop{i}").jntadr[0]] for i in prop_ids]
    qvel_adr = [model.jnt_dofadr[model.body(f"prop{i}").jntadr[0]] for i in prop_ids]
    links = [
        (model.body(f"hull{c.instance_id}_{l}").mocapid[0], _Trajectory(c.world_from_link[:, l], fps))
        for c in characters for l in range(len(c.hull_vertices))
    ]  # fmt: skip
    rest_pose = {p.instance_id: data.qpos[a : a + 7].copy() for p, a in zip(props, qpos_adr)}
    hold_tracks = {i: _Trajectory(h.world_from_object, fps) for i, h in holds.items()}
    attached: dict[int, tuple[_Trajectory, np.ndarray]] = {}
    recorder = ContactRecorder(model, prop_ids, characters, ground_id)

    def pin(index: int, t: float, frame: int) -> bool:
        """Hold a prop on its track (or its initial pose) while held; returns whether it is pinned."""
        prop = props[index]
        a, v = qpos_adr[index], qvel_adr[index]
        if prop.instance_id in attached:
            track, offset = attached[prop.instance_id]
            position, rotation = track.at(t)
            pose = np.eye(4)
            pose[:3, :3], pose[:3, 3] = rotation.as_matrix(), position
            pose = pose @ offset
            data.qpos[a : a + 3], data.qpos[a + 3 : a + 7] = pose[:3, 3], _quat_wxyz(Rotation.from_matrix(pose[:3, :3]))
            data.qvel[v : v + 6] = 0.0
            return True
        if frame < max(prop.held_until, holds[prop.instance_id].until if prop.instance_id in holds else 0):
            if prop.instance_id in hold_tracks:
                position, rotation = hold_tracks[prop.instance_id].at(t)
                data.qpos[a : a + 3], data.qpos[a + 3 : a + 7] = position, _quat_wxyz(rotation)
            else:
                data.qpos[a : a + 7] = rest_pose[prop.instance_id]
            data.qvel[v : v + 6] = 0.0
            return True
        return False

    def step(t: float, frame: int, settling: bool) -> None:
        for mocap, track in links:
            position, rotation = track.at(t)
            data.mocap_pos[mocap], data.mocap_quat[mocap] = position, _quat_wxyz(rotation)
        pinned = []
        for index in range(len(props)):
            hold_time = 0.0 if settling and props[index].instance_id in hold_tracks else t
            if pin(index, hold_time, frame):
                pinned.append((index, hold_time + (0.0 if settling else dt)))
        mujoco.mj_step(model, data)
        for index, hold_time in pinned:  # a held prop ends the substep exactly on its hold, not dt into a fall
            pin(index, hold_time, frame)

    settle_steps = int(round(settings.settle_s * fps * substeps))
    for _ in range(settle_steps):
        step(0.0, 0, settling=True)
    count = len(props)
    poses = np.zeros((count, num_frames, 4, 4))
    linear = np.zeros((count, num_frames, 3))
    angular = np.zeros((count, num_frames, 3))
    for frame in range(num_frames):
        t = frame / fps
        for index, prop in enumerate(props):
            pinned = pin(index, t, frame)
            if prop.instance_id in holds and frame == holds[prop.instance_id].until and frame > 0:
                # Released from a moving hold: leave with the hold's velocity at release.
                track = hold_tracks[prop.instance_id]
                before, _ = track.at(t - 1.0 / fps)
                after, _ = track.at(t)
                data.qvel[qvel_adr[index] : qvel_adr[index] + 3] = (after - before) * fps
            for kick in prop.kicks:
                if kick.frame == frame and not pinned:
                    v = qvel_adr[index]
                    rotation = Rotation.from_quat(np.roll(data.qpos[qpos_adr[index] + 3 : qpos_adr[index] + 7], -1))
                    data.qvel[v : v + 3] = kick.linear
                    data.qvel[v + 3 : v + 6] = rotation.inv().apply(kick.angular)  # free joints use body-frame angular velocity
            catch = catches.get(prop.instance_id)
            if catch is not None and prop.instance_id not in attached and frame >= catch.after and not pinned:
                hand = catch.world_from_hand[frame]
                origin = data.qpos[qpos_adr[index] : qpos_adr[index] + 3]
                if np.linalg.norm(origin - hand[:3, 3]) <= catch.reach:
                    pose = np.eye(4)
                    pose[:3, :3] = Rotation.from_quat(np.roll(data.qpos[qpos_adr[index] + 3 : qpos_adr[index] + 7], -1)).as_matrix()
                    pose[:3, 3] = origin
                    attached[prop.instance_id] = (_Trajectory(catch.world_from_hand, fps), np.linalg.inv(hand) @ pose)
            a, v = qpos_adr[index], qvel_adr[index]
            rotation = Rotation.from_quat(np.roll(data.qpos[a + 3 : a + 7], -1))
            poses[index, frame, :3, :3] = rotation.as_matrix()
            poses[index, frame, :3, 3] = data.qpos[a : a + 3]
            poses[index, frame, 3, 3] = 1.0
            linear[index, frame] = data.qvel[v : v + 3]
            angular[index, frame] = rotation.apply(data.qvel[v + 3 : v + 6])
        if frame == num_frames - 1:
            break
        for sub in range(substeps):
            step(t + sub * dt, frame, settling=False)
            recorder.record(data, frame, dt)
    return PhysicsResult(poses, linear, angular, recorder.events())
