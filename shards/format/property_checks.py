"""The measurement of each kind of check (scenes.scenarios.checks) on a clip's ground truth.

Each function takes the check and a shards.format.properties.ClipData and returns (values, passed):
the values measured (JSON numbers, rounded to 6 decimals, recorded in meta.json) and whether
the clip has the property. Geometry comes from the stored arrays only: the segmentation, the
camera extrinsics, joints3d and foot contacts, object poses and contact events.
"""

from __future__ import annotations

import numpy as np

from worldclips.motions.conventions import joint_index

G = 9.81
GROUND_NAME = "ground"
PELVIS = joint_index("pelvis")


def _round(values: dict) -> dict:
    return {k: (round(float(v), 6) if isinstance(v, (float, np.floating)) else int(v) if isinstance(v, (np.integer,)) else v)
            for k, v in values.items()}  # fmt: skip


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end exclusive) of every run of True in a (T,) mask."""
    padded = np.concatenate([[False], np.asarray(mask, bool), [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))


def occluded(check, data):
    counts = data.pixels(check.object)
    peak = int(counts.max()) if len(counts) else 0
    hidden, seen = counts < check.below * peak, counts >= check.recover * peak
    best, dips = (0, -1), 0
    for start, end in _runs(hidden):
        if seen[:start].any() and seen[end:].any():  # visible before, recovers after
            dips += 1
            best = max(best, (end - start, start))
    values = {"peak_px": peak, "hidden_frames": best[0], "first_hidden_frame": best[1], "dips": dips,
              "min_px": int(counts.min()) if len(counts) else 0}  # fmt: skip
    return _round(values), peak >= check.min_peak_px and best[0] >= check.min_frames


def visible(check, data):
    counts = data.pixels(check.target)
    fraction = float((counts >= check.min_px).mean())
    return _round({"fraction": fraction, "median_px": float(np.median(counts))}), fraction >= check.min_fraction


def orbit_sweep(check, data):
    pelvis = data.joints3d[data.person(check.character), :, PELVIS].astype(np.float64)
    rotation, translation = data.cam_from_world[:, :3, :3], data.cam_from_world[:, :3, 3]
    centre = -np.einsum("tji,tj->ti", rotation, translation)  # camera centre in the world
    offset = centre[:, :2] - pelvis[:, :2]
    azimuth = np.unwrap(np.arctan2(offset[:, 1], offset[:, 0]))
    sweep = float(np.degrees(azimuth.max() - azimuth.min()))
    net = float(np.degrees(abs(azimuth[-1] - azimuth[0])))
    return _round({"sweep_deg": sweep, "net_deg": net, "radius_m": float(np.linalg.norm(offset, axis=1).mean())}), sweep >= check.min_deg


def straight_path(check, data):
    xy = data.joints3d[data.person(check.character), :, PELVIS, :2].astype(np.float64)
    centred = xy - xy.mean(axis=0)
    direction = np.linalg.svd(centred, full_matrices=False)[2][0]
    along = centred @ direction
    deviation = float(np.abs(centred @ np.array([-direction[1], direction[0]])).max())
    length = float(along.max() - along.min())
    return _round({"max_deviation_m": deviation, "length_m": length}), deviation <= check.max_deviation_m and length >= check.min_length_m


def _airborne_runs(contact: np.ndarray, lands: bool) -> list[tuple[int, int]]:
    """Runs with no foot contact that follow a contact (and, with ``lands``, end in one)."""
    grounded = contact.any(axis=1)
    return [(s, e) for s, e in _runs(~grounded) if grounded[:s].any() and (not lands or grounded[e:].any())]


def airborne(check, data):
    runs = _airborne_runs(data.foot_contact[data.person(check.character)], check.lands)
    longest = max((e - s for s, e in runs), default=0)
    return _round({"longest_frames": longest, "flights": len(runs)}), longest >= check.min_frames


def seated(check, data):
    p = data.person(check.character)
    pelvis = data.joints3d[p, :, PELVIS].astype(np.float64)
    chair_name = data.roles.get(check.chair, check.chair)
    chair = next(prop for prop in data.spec["props"] if prop["name"] == chair_name)
    centre = data.object_poses(check.chair)[0, :3, 3]
    point = np.array([centre[0], centre[1], float(chair["size"][2]) + check.pelvis_above_seat_m])
    distance = np.linalg.norm(pelvis - point, axis=1)
    frame = int(np.argmin(distance))
    approach = float(np.linalg.norm(pelvis[frame, :2] - pelvis[0, :2]))
    rise = float(pelvis[-1, 2] - pelvis[:, 2].min())
    passed = distance[frame] <= check.max_distance_m and approach >= check.min_approach_m
    passed = passed and (not check.stands_up or rise >= check.min_rise_m)
    return _round({"distance_m": float(distance[frame]), "seated_frame": frame, "approach_m": approach, "rise_m": rise}), passed


def reaches_floor(check, data):
    row = data.instance(check.object)
    ground = next(r["id"] for r in data.instances if r["name"] == GROUND_NAME)
    z = data.object_poses(check.object)[:, 2, 3]
    frames = data.contacts["frame"][data.pair_frames(row["id"], ground)]
    low = [int(f) for f in frames if z[0] - z[int(f)] >= check.min_drop_m]
    first = min(low) if low else -1
    return _round({"floor_frame": first, "drop_m": float(z[0] - z.min()), "final_height_m": float(z[-1])}), first >= 0


def lifted(check, data):
    lifted_contact = data.foot_contact[data.person(check.character)].any(axis=1)
    carrier_contact = data.foot_contact[data.person(check.by)].any(axis=1)
    runs = _runs(~lifted_contact & carrier_contact)
    longest = max((e - s for s, e in runs), default=0)
    z = data.joints3d[data.person(check.character), :, PELVIS, 2].astype(np.float64)
    rise = float(z.max() - z[0])
    return _round({"longest_frames": longest, "rise_m": rise}), longest >= check.min_frames and rise >= check.min_rise_m


def collides(check, data):
    a, b = data.instance(check.a)["id"], data.instance(check.b)["id"]
    events = data.pair_frames(a, b)
    first = int(data.contacts["frame"][events].min()) if len(events) else -1
    return _round({"first_frame": first, "impulse": float(data.contacts["impulse"][events].sum())}), len(events) > 0


def constant_speed(check, data):
    xy = data.object_poses(check.object)[:, :2, 3]
    speed = np.linalg.norm(np.diff(xy, axis=0), axis=1) * data.fps
    mean = float(speed.mean())
    spread = float(np.abs(speed - mean).max() / mean) if mean > 0 else float("inf")
    return _round({"mean_speed": mean, "max_relative_deviation": spread}), spread <= check.tolerance


def ballistic(check, data):
    row = data.instance(check.object)
    ground = next(r["id"] for r in data.instances if r["name"] == GROUND_NAME)
    touching = data.contacts["frame"][data.pair_frames(row["id"], ground)]
    first = int(touching.min()) if len(touching) else len(data.segmentation) - 1
    z = data.object_poses(check.object)[: first + 1, 2, 3]
    if len(z) < max(check.min_frames, 3):
        return _round({"flight_frames": len(z), "g": 0.0, "relative_error": 1.0}), False
    g = -2.0 * float(np.polyfit(np.arange(len(z)) / data.fps, z, 2)[0])
    error = abs(g - G) / G
    return _round({"flight_frames": len(z), "g": g, "relative_error": error}), error <= check.tolerance


def speed_in_range(check, data):
    positions = data.object_poses(check.object)[:, :3, 3]
    count = max(check.frames, 3)
    t = np.arange(count) / data.fps
    velocity = np.array([np.polyfit(t, positions[:count, axis], 2)[1] for axis in range(3)])  # d/dt at t = 0
    speed = float(np.linalg.norm(velocity))
    ranges = [tuple(r) for r in ((data.spec.get("physics") or {}).get("ranges") or {}).get(check.value, [])]
    if not ranges:
        raise ValueError(f"the clip's physics setup drew no {check.value!r}")
    inside = any(lo * (1 - check.tolerance) <= speed <= hi * (1 + check.tolerance) for lo, hi in ranges)
    return _round({"speed": speed, "low": min(lo for lo, _ in ranges), "high": max(hi for _, hi in ranges)}), inside


MEASURES = {
    "occluded": occluded, "visible": visible, "orbit_sweep": orbit_sweep, "straight_path": straight_path, "airborne": airborne,
    "seated": seated, "reaches_floor": reaches_floor, "lifted": lifted, "collides": collides, "constant_speed": constant_speed,
    "ballistic": ballistic, "speed_in_range": speed_in_range,
}  # fmt: skip
