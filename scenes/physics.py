"""Rigid-body simulation of props with MuJoCo (the only module that imports mujoco).

The model: the ground plane, static box, sphere and convex-hull colliders (furniture, user
meshes), free-floating props, and the characters as mocap bodies (convex hulls moved kinematically every substep, interpolated
between frames), so people push, kick and block props. Fixed substeps of at least 500 Hz, sampled
at the clip's fps; a settle phase before frame 0; rolling friction (condim 6) so balls come to
rest. Props can be held on a given trajectory (a table top, a hand) and released, kicked at given
frames, or caught by a hand that comes within reach (checked every substep). A prop in a hand
does not collide with the characters' hulls (it would be pushed by the very hand that holds it),
nor for RELEASE_GRACE_S after it leaves a hand. Deterministic: the same inputs give the same
trajectories bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

import mujoco
import numpy as np
from scipy.spatial.transform import Rotation

from worldclips.scenes.physics_contacts import foot_ground_rows
from worldclips.scenes.physics_spec import (
    ContactEvents,
    DynamicProp,
    KinematicHulls,
    PhysicsResult,
    PhysicsSettings,
    StaticBox,
    StaticHull,
    StaticSphere,
)

GROUND_FRICTION = 0.8
RELEASE_GRACE_S = 0.25  # a prop released from a hand ignores the characters' hulls this long
# Collision bits: props and the world collide with everything; hulls (kinematic) only with props.
# A prop in a hand gets GHOST bits: it still meets the world and other props, never a hull.
PROP_BITS = (1, 3)  # (contype, conaffinity)
GHOST_BITS = (4, 1)
HULL_BITS = (2, 1)
# Contact parameters are averaged with these weights: a prop's own (its restitution) rule its
# contacts with the ground, furniture and hulls; two props average theirs. MuJoCo takes the larger
# friction of two geoms per dimension; the world's torsional and rolling friction are 0, so a
# prop's own values apply.
WORLD_SOLMIX = 1e-6
CONTACT_TIMECONST_S = 0.002  # 1 / natural frequency of contacts (at least two substeps)


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


def contact_solref(restitution: float, timeconst: float) -> tuple[float, float]:
    """MuJoCo solref (time constant, damping ratio) of a contact that rebounds with ``restitution``.

    MuJoCo's contact is a spring-damper with damping ratio ``dampratio`` and natural frequency
    1 / (timeconst * dampratio): the time constant grows as the damping ratio falls, so the
    natural frequency stays 1 / ``timeconst`` (stable at the substep) whatever the restitution.
    """
    ratio = restitution_dampratio(restitution)
    return timeconst / ratio, ratio


def _prop_geom(prop: DynamicProp, timeconst: float) -> str:
    solref = contact_solref(prop.restitution, timeconst)
    return (
        f'<geom name="prop{prop.instance_id}" type="{prop.shape}" size="{_fmt(prop.size)}" mass="{prop.mass:.9g}" condim="6" '
        f'friction="{prop.friction:.9g} 0.005 {prop.rolling_friction:.9g}" solref="{_fmt(solref)}" solmix="1" '
        f'contype="{PROP_BITS[0]}" conaffinity="{PROP_BITS[1]}"/>'
    )


@dataclass(frozen=True, eq=False)
class Hold:
    """A prop held on a world trajectory (T, 4, 4) up to ``until`` (exclusive), e.g. by a hand.

    character: instance id of the holding character (0: not a hand, e.g. a table top). While a
    hand holds the prop, a hand-object contact (impulse 0) is reported every frame at
    ``contact_points`` (T, 3) (default: the prop's origin).
    """

    world_from_object: np.ndarray
    until: int
    character: int = 0
    contact_points: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class Catch:
    """After ``after``, a prop whose origin comes within ``reach`` metres of the hand point
    (the origin of ``world_from_hand`` (T, 4, 4)) attaches to it at its relative offset and follows
    ``world_from_hand``. Checked every substep.

    character: the catching character's instance id (0: none). The catch is reported as a
    hand-object contact with the impulse that stops the prop relative to the hand
    (mass x relative speed), then every frame while attached (impulse 0) at ``contact_points``
    (T, 3) (default: the hand point).
    """

    world_from_hand: np.ndarray
    after: int
    reach: float = 0.12
    character: int = 0
    contact_points: np.ndarray | None = None


def build_mjcf(props, statics, characters, timestep: float) -> str:
    """The MJCF document of a clip's physics."""
    timeconst = max(2.0 * timestep, CONTACT_TIMECONST_S)
    assets, bodies = [], []
    for index, static in enumerate(statics):
        name = f"static{static.instance_id}_{index}"
        if isinstance(static, StaticHull):  # MuJoCo collides with the convex hull of a mesh's vertices
            mesh = f"static_hull{static.instance_id}_{index}"
            assets.append(f"<mesh name={quoteattr(mesh)} vertex={quoteattr(_fmt(static.vertices))}/>")
            bodies.append(f'<geom name="{name}" type="mesh" mesh="{mesh}" friction="{static.friction:.9g} 0 0" condim="3"/>')
            continue
        common = f'name="{name}" pos="{_fmt(static.center)}" friction="{static.friction:.9g} 0 0" condim="3"'
        if isinstance(static, StaticSphere):
            bodies.append(f'<geom {common} type="sphere" size="{static.radius:.9g}"/>')
        else:
            quat = _quat_wxyz(Rotation.from_euler("z", static.yaw))
            bodies.append(f'<geom {common} type="box" quat="{_fmt(quat)}" size="{_fmt(static.half_size)}"/>')
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
                f'friction="0.8 0 0" contype="{HULL_BITS[0]}" conaffinity="{HULL_BITS[1]}"/></body>'
            )
    return (
        f'<mujoco model="worldclips"><compiler angle="radian"/>'
        f'<option timestep="{timestep:.12g}" gravity="0 0 -9.81" cone="elliptic" integrator="implicitfast"/>'
        f'<default><geom contype="1" conaffinity="3" solmix="{WORLD_SOLMIX}"/></default>'
        f'<asset>{"".join(assets)}</asset><worldbody>'
        f'<geom name="ground" type="plane" size="0 0 1" friction="{GROUND_FRICTION} 0 0" condim="3"/>'
        f'{"".join(bodies)}</worldbody></mujoco>'
    )


def _grid_poses(poses: np.ndarray, fps: float, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, N, 4, 4) pose tracks sampled at (K,) times: linear positions, slerped rotations.

    Returns positions (K, N, 3) and unit quaternions (K, N, 4) wxyz; times are clamped to the clip.
    """
    poses = np.asarray(poses, dtype=np.float64)
    count, tracks = poses.shape[:2]
    xyzw = Rotation.from_matrix(poses[..., :3, :3].reshape(-1, 3, 3)).as_quat().reshape(count, tracks, 4)
    quats = np.concatenate([xyzw[..., 3:], xyzw[..., :3]], axis=-1)
    t = np.clip(np.asarray(times, dtype=np.float64), 0.0, (count - 1) / fps)
    if count == 1:
        return np.repeat(poses[:1, :, :3, 3], len(t), 0), np.repeat(quats[:1], len(t), 0)
    u = t * fps
    i = np.minimum(u.astype(np.int64), count - 2)
    w = (u - i)[:, None, None]
    position = poses[i, :, :3, 3] * (1 - w) + poses[i + 1, :, :3, 3] * w
    q0, q1 = quats[i], quats[i + 1]
    dot = (q0 * q1).sum(-1, keepdims=True)
    q1 = np.where(dot < 0, -q1, q1)
    theta = np.arccos(np.clip(np.abs(dot), 0.0, 1.0))
    sin = np.sin(theta)
    close = sin < 1e-9
    a = np.where(close, 1 - w, np.sin((1 - w) * theta) / np.where(close, 1.0, sin))
    b = np.where(close, w, np.sin(w * theta) / np.where(close, 1.0, sin))
    quat = a * q0 + b * q1
    return position, quat / np.linalg.norm(quat, axis=-1, keepdims=True)


class _Trajectory:
    """A (T, 4, 4) pose track sampled at any time by linear position / slerp rotation interpolation."""

    def __init__(self, poses: np.ndarray, fps: float):
        self.poses, self.fps = np.asarray(poses, dtype=np.float64), fps

    def at(self, t: float) -> tuple[np.ndarray, Rotation]:
        position, quat = _grid_poses(self.poses[:, None], self.fps, np.array([t]))
        return position[0, 0], Rotation.from_quat(np.roll(quat[0, 0], -1))


class _GridTrack:
    """A pose track sampled once on the simulation's time grid (index k = time k * dt)."""

    def __init__(self, poses: np.ndarray, fps: float, times: np.ndarray):
        position, quat = _grid_poses(np.asarray(poses)[:, None], fps, times)
        self.position, self.quat = position[:, 0], quat[:, 0]

    def matrix(self, k: int) -> np.ndarray:
        pose = np.eye(4)
        pose[:3, :3] = Rotation.from_quat(np.roll(self.quat[k], -1)).as_matrix()
        pose[:3, 3] = self.position[k]
        return pose


class ContactRecorder:
    """Accumulates contacts during a simulation, per frame and pair of instances; ``events()``
    adds the characters' foot-ground contacts (scenes.physics_contacts) and gives ContactEvents.

    Each substep's contacts are copied as arrays; they are summed per (frame, a, b) once, at the end.
    """

    def __init__(self, model: mujoco.MjModel, characters: list[KinematicHulls], ground_id: int):
        self._ground_id = ground_id
        self._instance_of_geom = np.zeros(model.ngeom, dtype=np.int64)
        for geom in range(model.ngeom):
            name = model.geom(geom).name
            body = model.body(model.geom_bodyid[geom]).name
            if name == "ground":
                self._instance_of_geom[geom] = ground_id
            elif name.startswith("static"):
                self._instance_of_geom[geom] = int(name[len("static"):].split("_")[0])
            elif body.startswith("prop"):
                self._instance_of_geom[geom] = int(body[len("prop"):])
            elif body.startswith("hull"):
                self._instance_of_geom[geom] = int(body[len("hull"):].split("_")[0])
        self._characters = characters
        self._chunks: list[tuple] = []  # (frame, geoms (n, 2), positions (n, 3), normals (n, 3), impulses (n,))
        self._extra: list[tuple] = []  # single contacts added by ``add``

    def record(self, data: mujoco.MjData, frame: int, dt: float) -> None:
        """Add the contacts of the substep just taken to ``frame`` (normal impulse = force x dt)."""
        if data.ncon == 0:
            return
        contact = data.contact
        address = contact.efc_address
        # elliptic cones: a contact's first constraint row is its normal force (-1: no constraint)
        force = data.efc_force[address] if data.nefc else np.zeros(len(address))
        force = np.where(address >= 0, force, 0.0)
        # normals point from geom1 to geom2
        self._chunks.append((frame, contact.geom.copy(), contact.pos.copy(), contact.frame[:, :3].copy(), force * dt))

    def add(self, frame: int, a: int, b: int, position, normal, impulse: float) -> None:
        """One contact (a < b, normal from a to b) into the frame's event of that pair."""
        self._extra.append((frame, a, b, np.asarray(position, dtype=np.float64), np.asarray(normal, dtype=np.float64), float(impulse)))

    def events(self) -> ContactEvents:
        frames, a, b, position, normal, impulse = [], [], [], [], [], []
        if self._chunks:
            chunk_frames, geoms, pos, nrm, imp = zip(*self._chunks)
            geoms = np.concatenate(geoms)
            frames.append(np.repeat(chunk_frames, [len(g) for g in pos]))
            a.append(self._instance_of_geom[geoms[:, 0]])
            b.append(self._instance_of_geom[geoms[:, 1]])
            position.append(np.concatenate(pos))
            normal.append(np.concatenate(nrm))
            impulse.append(np.maximum(np.concatenate(imp), 0.0))
        for frame, ea, eb, pos, nrm, imp in self._extra:
            frames.append(np.array([frame]))
            a.append(np.array([ea]))
            b.append(np.array([eb]))
            position.append(pos[None])
            normal.append(nrm[None])
            impulse.append(np.array([imp]))
        rows = foot_ground_rows(self._characters, self._ground_id)
        if not frames:
            return ContactEvents.from_rows(rows)
        frames, a, b = np.concatenate(frames), np.concatenate(a), np.concatenate(b)
        position, normal, impulse = np.concatenate(position), np.concatenate(normal), np.concatenate(impulse)
        keep = a != b
        frames, a, b, position, normal, impulse = frames[keep], a[keep], b[keep], position[keep], normal[keep], impulse[keep]
        swap = a > b
        a, b = np.where(swap, b, a), np.where(swap, a, b)
        normal = np.where(swap[:, None], -normal, normal)
        span = int(max(a.max(), b.max())) + 1
        codes, inverse = np.unique((frames.astype(np.int64) * span + a) * span + b, return_inverse=True)
        inverse = inverse.reshape(-1)
        keys = np.stack([codes // (span * span), codes // span % span, codes % span], axis=1)
        count = np.bincount(inverse, minlength=len(keys)).astype(np.float64)
        total = lambda values: np.stack([np.bincount(inverse, values[:, k], len(keys)) for k in range(3)], axis=1)  # noqa: E731
        mean_position = total(position) / count[:, None]
        summed = total(normal)
        length = np.linalg.norm(summed, axis=1, keepdims=True)
        unit = np.where(length > 1e-12, summed / np.maximum(length, 1e-12), [0.0, 0.0, 1.0])
        impulses = np.bincount(inverse, impulse, len(keys))
        rows += [(int(f), int(ea), int(eb), p, n, float(i)) for (f, ea, eb), p, n, i in zip(keys, mean_position, unit, impulses)]
        return ContactEvents.from_rows(rows)


def _track_velocity(position: np.ndarray, quat: np.ndarray, k: int, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """World linear and angular velocity of a grid track (K, 3) positions, (K, 4) wxyz quats at index k (central differences)."""
    lo, hi = max(k - 1, 0), min(k + 1, len(position) - 1)
    if hi == lo:
        return np.zeros(3), np.zeros(3)
    span = (hi - lo) * dt
    a, b = (Rotation.from_quat(np.roll(quat[j], -1)) for j in (lo, hi))
    return (position[hi] - position[lo]) / span, (b * a.inv()).as_rotvec() / span


def _hand_normal(a: int, prop_id: int, prop_origin: np.ndarray, point: np.ndarray) -> np.ndarray:
    """Unit normal from instance a to b of a hand-object contact (prop origin -> hand point for a = prop)."""
    direction = point - prop_origin
    length = np.linalg.norm(direction)
    direction = direction / length if length > 1e-9 else np.array([0.0, 0.0, 1.0])
    return direction if a == prop_id else -direction


def simulate(
    props: list[DynamicProp],
    statics: list[StaticBox | StaticSphere | StaticHull],
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
    geom_of = [model.geom(f"prop{i}").id for i in prop_ids]
    # Every pose the substeps need lies on one grid: k * dt, k = 0 .. (T - 1) * substeps.
    grid = np.arange(max(num_frames - 1, 0) * substeps + 1) * dt
    mocap_ids = [model.body(f"hull{c.instance_id}_{l}").mocapid[0] for c in characters for l in range(len(c.hull_vertices))]
    assert mocap_ids == list(range(model.nmocap))  # the hulls are the only mocap bodies, in this order
    if characters:
        mocap_position, mocap_quat = _grid_poses(np.concatenate([c.world_from_link for c in characters], axis=1), fps, grid)
    else:
        mocap_position, mocap_quat = np.zeros((len(grid), 0, 3)), np.zeros((len(grid), 0, 4))
    rest_pose = {p.instance_id: data.qpos[a : a + 7].copy() for p, a in zip(props, qpos_adr)}
    hold_tracks = {i: _GridTrack(h.world_from_object, fps, grid) for i, h in holds.items()}
    catch_tracks = {i: _GridTrack(c.world_from_hand, fps, grid) for i, c in catches.items()}
    hand_held = {i for i, h in holds.items() if h.character}
    attached: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # prop id -> its grid track in the hand: positions, wxyz quats
    ghost_until = {i: -1.0 for i in prop_ids}  # time up to which a prop ignores the hulls
    ghosted = {i: False for i in prop_ids}
    recorder = ContactRecorder(model, characters, ground_id)

    def set_pose(index: int, position: np.ndarray, quat: np.ndarray) -> None:
        a, v = qpos_adr[index], qvel_adr[index]
        data.qpos[a : a + 3], data.qpos[a + 3 : a + 7] = position, quat
        data.qvel[v : v + 6] = 0.0

    def pose_of(index: int) -> np.ndarray:
        a = qpos_adr[index]
        pose = np.eye(4)
        pose[:3, :3] = Rotation.from_quat(np.roll(data.qpos[a + 3 : a + 7], -1)).as_matrix()
        pose[:3, 3] = data.qpos[a : a + 3]
        return pose

    def held(prop: DynamicProp, frame: int) -> bool:
        return frame < max(prop.held_until, holds[prop.instance_id].until if prop.instance_id in holds else 0)

    def pin(index: int, k: int, frame: int) -> bool:
        """Hold a prop on its track (or its initial pose) at grid time k while held; returns whether it is pinned."""
        prop = props[index]
        if prop.instance_id in attached:
            positions, quats = attached[prop.instance_id]
            set_pose(index, positions[k], quats[k])
            return True
        if held(prop, frame):
            if prop.instance_id in hold_tracks:
                track = hold_tracks[prop.instance_id]
                set_pose(index, track.position[k], track.quat[k])
            else:
                data.qpos[qpos_adr[index] : qpos_adr[index] + 7] = rest_pose[prop.instance_id]
                data.qvel[qvel_adr[index] : qvel_adr[index] + 6] = 0.0
            return True
        return False

    def update_ghosts(time: float, frame: int) -> None:
        for index, prop in enumerate(props):
            i = prop.instance_id
            in_hand = i in attached or (i in hand_held and held(prop, frame))
            want = in_hand or time < ghost_until[i]
            if want != ghosted[i]:
                bits = GHOST_BITS if want else PROP_BITS
                model.geom_contype[geom_of[index]], model.geom_conaffinity[geom_of[index]] = bits
                ghosted[i] = want

    def try_catches(k: int, frame: int) -> bool:
        """Attach props that reached their catching hand; returns whether one did."""
        caught = False
        for index, prop in enumerate(props):
            i = prop.instance_id
            catch = catches.get(i)
            if catch is None or i in attached or frame < catch.after or held(prop, frame):
                continue
            track = catch_tracks[i]
            origin = data.qpos[qpos_adr[index] : qpos_adr[index] + 3]
            if np.linalg.norm(origin - track.position[k]) <= catch.reach:
                hand = track.matrix(k)
                lo, hi = max(k - 1, 0), min(k + 1, len(grid) - 1)
                hand_velocity = (track.position[hi] - track.position[lo]) / (dt * (hi - lo)) if hi > lo else np.zeros(3)
                relative = data.qvel[qvel_adr[index] : qvel_adr[index] + 3] - hand_velocity
                offset = np.linalg.inv(hand) @ pose_of(index)  # hand_from_object, kept from now on
                hands = Rotation.from_quat(np.roll(track.quat, -1, axis=1))
                positions = track.position + hands.apply(offset[:3, 3])
                quats = np.roll((hands * Rotation.from_matrix(offset[:3, :3])).as_quat(), 1, axis=1)
                attached[i] = (positions, quats)
                caught = True
                if catch.character:
                    a, b = sorted((i, catch.character))
                    point = catch.contact_points[frame] if catch.contact_points is not None else hand[:3, 3]
                    recorder.add(frame, a, b, point, _hand_normal(a, i, origin.copy(), point), prop.mass * float(np.linalg.norm(relative)))
        return caught

    def pinned_in(frame: int) -> list[int]:
        """Props held or attached in ``frame`` (changes within a frame only when a catch happens)."""
        return [index for index, prop in enumerate(props) if prop.instance_id in attached or held(prop, frame)]

    def step(k: int, frame: int, settling: bool, pinned: list[int]) -> None:
        if mocap_ids:
            data.mocap_pos[:] = mocap_position[k]
            data.mocap_quat[:] = mocap_quat[k]
        for index in pinned:
            pin(index, k, frame)
        mujoco.mj_step(model, data)
        after = k if settling else k + 1
        for index in pinned:  # a held prop ends the substep exactly on its hold, not dt into a fall
            pin(index, after, frame)

    settle_steps = int(round(settings.settle_s * fps * substeps))
    update_ghosts(0.0, 0)
    pinned = pinned_in(0)
    for _ in range(settle_steps):
        step(0, 0, True, pinned)
    watch_ghosts = bool(hand_held or catches)  # hand holds and catches change collision bits
    count = len(props)
    poses = np.zeros((count, num_frames, 4, 4))
    linear = np.zeros((count, num_frames, 3))
    angular = np.zeros((count, num_frames, 3))
    for frame in range(num_frames):
        t = frame / fps
        k0 = frame * substeps
        for index, prop in enumerate(props):
            i = prop.instance_id
            pinned = pin(index, k0, frame)
            if i in holds and frame == holds[i].until and frame > 0:
                # Released from a moving hold: leave with the hold's velocity at release.
                track = _Trajectory(holds[i].world_from_object, fps)
                before, _ = track.at(t - 1.0 / fps)
                after, _ = track.at(t)
                data.qvel[qvel_adr[index] : qvel_adr[index] + 3] = (after - before) * fps
                if holds[i].character:
                    ghost_until[i] = t + RELEASE_GRACE_S
            for kick in prop.kicks:
                if kick.frame == frame and not pinned:
                    v = qvel_adr[index]
                    rotation = Rotation.from_quat(np.roll(data.qpos[qpos_adr[index] + 3 : qpos_adr[index] + 7], -1))
                    data.qvel[v : v + 3] = kick.linear
                    data.qvel[v + 3 : v + 6] = rotation.inv().apply(kick.angular)  # free joints use body-frame angular velocity
            a, v = qpos_adr[index], qvel_adr[index]
            rotation = Rotation.from_quat(np.roll(data.qpos[a + 3 : a + 7], -1))
            poses[index, frame, :3, :3] = rotation.as_matrix()
            poses[index, frame, :3, 3] = data.qpos[a : a + 3]
            poses[index, frame, 3, 3] = 1.0
            linear[index, frame] = data.qvel[v : v + 3]
            angular[index, frame] = rotation.apply(data.qvel[v + 3 : v + 6])
            moving = attached.get(i) if i in attached else None
            if moving is None and i in hold_tracks and held(prop, frame):
                moving = (hold_tracks[i].position, hold_tracks[i].quat)
            if moving is not None:  # carried by a hand: the velocity of its track, not the pinned body's zero
                linear[index, frame], angular[index, frame] = _track_velocity(*moving, k0, dt)
            origin = poses[index, frame, :3, 3]
            in_hand = []  # (character, contact point) of a hand holding the prop in this frame
            if i in hand_held and held(prop, frame):
                points = holds[i].contact_points
                in_hand.append((holds[i].character, origin if points is None else points[frame]))
            if i in attached and catches[i].character:
                points = catches[i].contact_points
                in_hand.append((catches[i].character, catch_tracks[i].position[k0] if points is None else points[frame]))
            for character, point in in_hand:
                low, high = sorted((i, character))
                recorder.add(frame, low, high, point, _hand_normal(low, i, origin, point), 0.0)
        if frame == num_frames - 1:
            break
        pinned = pinned_in(frame)
        for sub in range(substeps):
            k = k0 + sub
            if watch_ghosts:
                update_ghosts(t + sub * dt, frame)
            if len(attached) < len(catches) and try_catches(k, frame):
                pinned = pinned_in(frame)
            step(k, frame, False, pinned)
            recorder.record(data, frame, dt)
    return PhysicsResult(poses, linear, angular, recorder.events())
