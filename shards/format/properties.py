"""Verified properties: a scenario's checks measured on a clip's ground truth after rendering.

``ClipData`` holds the arrays a sample stores (segmentation, camera, pose, objects, contacts)
plus the instance table, the spec and the scenario's roles, built (``from_arrays``) from the
arrays of a freshly rendered clip or of a sample validate has read back, so the same measurement
runs in ``generate`` (before a clip is accepted) and in ``validate`` (``recheck``).
``measure`` gives, per property, its measured values and whether it passed; the measurement
functions are in shards.format.property_checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worldclips.scenes.scenarios.checks import Check, label
from worldclips.scenes.serialization import to_jsonable
from worldclips.shards.format.meta_schema import parsed


class PropertiesFailed(RuntimeError):
    """A clip's ground truth does not have every property its scenario asks for."""

    def __init__(self, results: dict[str, dict], scenario: str = ""):
        self.results, self.scenario = results, scenario
        failed = [f"{name} ({_summary(result)})" for name, result in results.items() if not result["passed"]]
        super().__init__(f"properties not met: {'; '.join(failed)}")


def _summary(result: dict) -> str:
    return ", ".join(f"{k} {v:g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else f"{k} {v}"
                     for k, v in list(result["values"].items())[:3])  # fmt: skip


@dataclass(frozen=True, eq=False)
class ClipData:
    """One clip's ground truth (T frames, H x W, P persons, O objects, E contact events).

    segmentation: (T, H, W) uint16; cam_from_world: (T, 4, 4); joints3d: (P, T, 55, 3);
    foot_contact: (P, T, 4) bool; person_ids: (P,); world_from_object: (O, T, 4, 4);
    object_ids: (O,); contacts: frame, instance_a, instance_b (E,) and impulse (E,);
    instances: meta.json's instance table; spec: meta.json's spec (JSON); roles: role -> name.
    """

    fps: float
    segmentation: np.ndarray
    cam_from_world: np.ndarray
    joints3d: np.ndarray
    foot_contact: np.ndarray
    person_ids: np.ndarray
    world_from_object: np.ndarray
    object_ids: np.ndarray
    contacts: dict
    instances: list
    spec: dict
    roles: dict

    @classmethod
    def from_arrays(cls, meta: dict, segmentation: np.ndarray, arrays: dict[str, dict[str, np.ndarray]]) -> "ClipData":
        """From meta.json (as a dict) and the member arrays (``camera.npz``, ``pose.npz``, ...)."""
        pose, objects = arrays["pose.npz"], arrays["objects.npz"]
        frames = len(segmentation)
        contact = pose.get("foot_contact")
        return cls(
            fps=float(meta["fps"]), segmentation=segmentation, cam_from_world=arrays["camera.npz"]["cam_from_world"],
            joints3d=pose["joints3d"], foot_contact=contact if contact is not None else np.zeros((len(pose["joints3d"]), frames, 4), bool),
            person_ids=pose["instance_id"], world_from_object=objects["world_from_object"], object_ids=objects["instance_id"],
            contacts=arrays.get("contacts.npz", {"frame": np.zeros(0, np.int32), "instance_a": np.zeros(0, np.int32),
                                                 "instance_b": np.zeros(0, np.int32), "impulse": np.zeros(0)}),
            instances=list(meta["instances"]), spec=parsed(meta, "spec"),
            roles=dict((parsed(meta, "scenario_params", "scenario") or {}).get("roles", {})),
        )  # fmt: skip

    def instance(self, role: str) -> dict:
        """The instance-table row of a role (or a name)."""
        name = self.roles.get(role, role)
        row = next((r for r in self.instances if r["name"] == name), None)
        if row is None:
            raise KeyError(f"{role!r} is not in the clip")
        return row

    def person(self, role: str) -> int:
        """Index into the pose arrays of a character."""
        return int(np.nonzero(self.person_ids == self.instance(role)["id"])[0][0])

    def object_poses(self, role: str) -> np.ndarray:
        """(T, 4, 4) world_from_object of an object."""
        return self.world_from_object[int(np.nonzero(self.object_ids == self.instance(role)["id"])[0][0])]

    def pixels(self, role: str) -> np.ndarray:
        """(T,) pixels of a character or object in the segmentation."""
        return (self.segmentation == self.instance(role)["id"]).sum(axis=(1, 2))

    def pair_frames(self, a: int, b: int) -> np.ndarray:
        """Indices of the contact events between instances a and b."""
        low, high = sorted((a, b))
        return np.nonzero((self.contacts["instance_a"] == low) & (self.contacts["instance_b"] == high))[0]


def measure(checks: tuple[Check, ...], data: ClipData) -> dict[str, dict]:
    """name -> {check, params, values, passed} for every check (a check that cannot be measured fails)."""
    from worldclips.shards.format.property_checks import MEASURES

    results = {}
    for check in checks:
        params = {k: v for k, v in to_jsonable(check).items() if k not in ("name", "check")}
        try:
            values, passed = MEASURES[check.check](check, data)
        except (KeyError, IndexError, ValueError, np.linalg.LinAlgError) as error:
            values, passed = {"error": " ".join(str(error).split())[:200]}, False
        results[label(check)] = {"check": check.check, "params": params, "values": values, "passed": bool(passed)}
    return results


def results_agree(stored: dict, measured: dict, tolerance: float = 1e-6) -> str | None:
    """None when re-measured results match the stored ones, else the first difference (one line)."""
    for name, result in measured.items():
        old = stored.get(name)
        if old is None:
            return f"{name}: not recorded in meta.json"
        if old.get("passed") != result["passed"]:
            return f"{name}: recorded passed={old.get('passed')}, re-measured passed={result['passed']}"
        for key, value in result["values"].items():
            before = old.get("values", {}).get(key)
            if isinstance(value, (int, float)) and not (isinstance(before, (int, float)) and abs(value - before) <= tolerance * max(1.0, abs(value))):
                return f"{name}.{key}: recorded {before}, re-measured {value}"
    return None


def recheck(meta: dict, data: ClipData) -> str | None:
    """Re-measure the properties a sample's meta.json records (``meta``, with the sample's arrays in
    ``data``); None when they agree with the record and ``verified`` says whether all passed (a clip
    kept after its last re-draw is ``verified: false``), else one line saying what differs."""
    from worldclips.scenes.scenarios.checks import CHECK_CLASSES
    from worldclips.scenes.serialization import SpecError, from_jsonable

    recorded = parsed(meta, "properties")
    if not recorded:
        return None
    try:
        checks = tuple(from_jsonable(CHECK_CLASSES[row["check"]], {**row["params"], "check": row["check"], "name": name}, f"properties.{name}")
                       for name, row in recorded.items())  # fmt: skip
    except (SpecError, KeyError, TypeError) as error:
        return f"meta.json: properties: cannot be read ({error})"
    measured = measure(checks, data)
    difference = results_agree(recorded, measured, tolerance=1e-5)
    if difference is not None:
        return f"meta.json: properties: {difference}"
    failed = [name for name, result in measured.items() if not result["passed"]]
    if meta.get("verified") is not (not failed):
        state = f"fails {', '.join(failed)}" if failed else "has every property"
        return f"meta.json: verified: {meta.get('verified')!r}, but the clip {state}"
    return None
