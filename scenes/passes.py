"""Balls passed between hands, resolved on the posed bodies (scenes.interaction_spec.PassedPropSpec).

The ball's centre sits in a hand at ``grip_offset(radius)`` in the hand frame (scenes.hands)
while held. At a release frame it leaves that point on the ballistic arc (g = 9.81 m/s^2) that
reaches the catching hand's point ``flight_s`` seconds later (the hand's point at that time,
interpolated between frames), and from the first frame at or after the arrival it follows the
catching hand. Its orientation follows the holding hand and turns smoothly (slerp) from the
throwing hand's to the catching hand's during a flight. The arcs are exact: nothing is
simulated, and the ball collides with nothing.

Contacts: one hand-object event per frame while the ball is in a hand (impulse 0, at the palm
centre), and at the catch the impulse that stops the ball relative to the hand
(mass x relative speed), as for simulated catches.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from worldclips.scenes.hands import grip_offset, world_from_hand
from worldclips.scenes.interaction_spec import PassedPropSpec
from worldclips.scenes.scene import Character

GRAVITY = np.array([0.0, 0.0, -9.81])


def _hold_track(character: Character, side: str, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """(T, 4, 4) pose of a ball held in the hand and (T, 3) the palm centre."""
    hand = world_from_hand(character.body.joints, side)
    pose = hand.copy()
    pose[:, :3, 3] = hand[:, :3, 3] + hand[:, :3, :3] @ np.asarray(grip_offset(radius))
    return pose, hand[:, :3, 3].copy()


def _at(track: np.ndarray, t: float, fps: float) -> np.ndarray:
    """Position (3,) of a (T, 4, 4) track at time t, linear between frames, clamped to the clip."""
    u = float(np.clip(t * fps, 0.0, len(track) - 1))
    i = min(int(u), max(len(track) - 2, 0))
    w = u - i
    j = min(i + 1, len(track) - 1)
    return track[i, :3, 3] * (1.0 - w) + track[j, :3, 3] * w


def pass_trajectory(prop: PassedPropSpec, characters: dict[str, Character], fps: float, frames: int):
    """The ball's poses and contacts.

    Returns (world_from_object (T, 4, 4), rows) with rows (frame, character name, palm point (3,),
    impulse) for every frame the ball is in a hand and for each catch.
    """
    holds = {(prop.holder, prop.side): _hold_track(characters[prop.holder], prop.side, prop.radius)}
    for throw in prop.passes:
        key = (throw.character, throw.side)
        if key not in holds:
            holds[key] = _hold_track(characters[throw.character], throw.side, prop.radius)
    poses = np.zeros((frames, 4, 4))
    rows: list[tuple[int, str, np.ndarray, float]] = []
    t = np.arange(frames) / fps
    holder, frame = (prop.holder, prop.side), 0
    for throw in (*prop.passes, None):
        end = frames if throw is None else min(throw.release, frames)
        track, palm = holds[holder]
        poses[frame:end] = track[frame:end]
        rows += [(f, holder[0], palm[f], 0.0) for f in range(frame, end)]
        if throw is None or throw.release >= frames:
            break
        start = track[throw.release, :3, 3]
        receiver = (throw.character, throw.side)
        arrival = throw.release / fps + throw.flight_s
        target = _at(holds[receiver][0], arrival, fps)
        velocity = (target - start) / throw.flight_s - 0.5 * GRAVITY * throw.flight_s
        landed = int(np.ceil(arrival * fps - 1e-9))
        flying = np.arange(throw.release, min(landed, frames))
        tau = (t[flying] - throw.release / fps)[:, None]
        poses[flying, :3, 3] = start + velocity * tau + 0.5 * GRAVITY * tau**2
        arrive_frame = min(landed, frames - 1)
        ends = Rotation.from_matrix(np.stack([track[throw.release, :3, :3], holds[receiver][0][arrive_frame, :3, :3]]))
        turn = Slerp([0.0, throw.flight_s], ends)(np.clip(tau[:, 0], 0.0, throw.flight_s))
        poses[flying, :3, :3] = turn.as_matrix()
        poses[flying, 3, 3] = 1.0
        if landed < frames:
            catch_track, catch_palm = holds[receiver]
            previous = max(landed - 1, 0)
            hand_velocity = (catch_track[landed, :3, 3] - catch_track[previous, :3, 3]) * fps if landed > 0 else np.zeros(3)
            incoming = velocity + GRAVITY * throw.flight_s
            rows.append((landed, receiver[0], catch_palm[landed], prop.mass * float(np.linalg.norm(incoming - hand_velocity))))
        holder, frame = receiver, min(landed, frames)
    return poses, rows


def pass_contact_rows(prop: PassedPropSpec, instance_id: int, rows, ids: dict[str, int], poses: np.ndarray) -> list[tuple]:
    """Contact rows (frame, a, b, position, normal, impulse) of the hand-object events of a passed
    ball (a < b, the normal from a to b; a catch and the hold in the same frame merge into one)."""
    merged: dict[tuple[int, int], list] = {}
    for frame, name, palm, impulse in rows:
        character = ids[name]
        a, b = sorted((instance_id, character))
        direction = np.asarray(palm) - poses[frame, :3, 3]
        length = np.linalg.norm(direction)
        direction = direction / length if length > 1e-9 else np.array([0.0, 0.0, 1.0])
        normal = direction if a == instance_id else -direction
        key = (frame, character)
        if key in merged:
            merged[key][5] += impulse
        else:
            merged[key] = [frame, a, b, np.asarray(palm, dtype=np.float64), normal, float(impulse)]
    return [tuple(row) for row in merged.values()]
