"""One clip -> one WebDataset sample (dict of member name -> bytes), and back.

Encoding is deterministic (fixed zip timestamps, no pickles) and decoding never unpickles:
arrays are read with ``allow_pickle=False``.
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np

from worldclips.scenes.build import instance_ids
from worldclips.scenes.scene import Scene
from worldclips.scenes.serialization import to_jsonable
from worldclips.scenes.spec import ClipSpec
from worldclips.render.frames import RenderedClip
from worldclips.shards.format import ground_truth
from worldclips.shards.format.schema import CONVENTIONS, META_MEMBER, SCHEMA_VERSION, VIDEO_MEMBER
from worldclips.shards.format.video import encode_mp4

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An npz archive (stored, not compressed) with fixed timestamps, members in sorted order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            archive.writestr(info, npy_bytes(arrays[name]))
    return buffer.getvalue()


def scenario_params(spec: ClipSpec) -> dict:
    """A short summary of the choices that define the scenario (the full spec is stored too).

    Clips with dynamic props add their count and categories; physics setups add ``physics``:
    the setup, the split (id / ood), the values drawn and the ranges they were drawn from.
    """
    params = {
        "camera_family": spec.camera.path.family,
        "fov_deg": spec.camera.fov_deg,
        "num_people": len(spec.characters),
        "people_motion": [c.motion_kind for c in spec.characters],
        "num_props": len(spec.props),
        "prop_categories": [p.category for p in spec.props],
        "num_dynamic_props": len(spec.dynamic_props),
        "dynamic_prop_categories": [p.category for p in spec.dynamic_props],
    }
    if spec.physics is not None:
        params["physics"] = to_jsonable(spec.physics)
    return params


def build_meta(
    key: str, run: str, spec: ClipSpec, scene: Scene, body_model: str, renderer: str, versions: dict, scenario: dict | None = None
) -> dict:
    """meta.json of a clip; ``scenario``: what a scenario drew (scenes.scenarios.sampler), kept
    under ``scenario_params.scenario``."""
    ids = instance_ids(spec)
    assert all(ids[row["name"]] == row["id"] for row in scene.instances())
    params = scenario_params(spec)
    if scenario is not None:
        params["scenario"] = scenario
    return {
        "schema_version": SCHEMA_VERSION,
        "clip_id": key,
        "run": run,
        "run_seed": spec.run_seed,
        "clip_index": spec.clip_index,
        "fps": spec.fps,
        "num_frames": spec.num_frames,
        "width": spec.width,
        "height": spec.height,
        "scenario": spec.scenario,
        "scenario_params": params,
        "spec": to_jsonable(spec),
        "instances": scene.instances(),
        "body_model": body_model,
        "renderer": renderer,
        "conventions": CONVENTIONS,
        "versions": versions,
    }


def ground_truth_arrays(scene: Scene, rendered: RenderedClip) -> dict[str, dict[str, np.ndarray]]:
    """The arrays of the .npz members, by member name."""
    return {
        "camera.npz": ground_truth.camera_arrays(scene),
        "pose.npz": ground_truth.pose_arrays(scene, rendered),
        "objects.npz": ground_truth.objects_arrays(scene),
        "contacts.npz": ground_truth.contacts_arrays(scene),
    }


def encode_sample(meta: dict, scene: Scene, rendered: RenderedClip, arrays: dict | None = None) -> dict[str, bytes]:
    """All members of one sample, keyed by member name (without the sample key); ``arrays``: the
    .npz members' arrays if already computed (``ground_truth_arrays``)."""
    arrays = ground_truth_arrays(scene, rendered) if arrays is None else arrays
    return {
        META_MEMBER: json.dumps(meta, sort_keys=True, indent=1).encode(),
        VIDEO_MEMBER: encode_mp4(rendered.rgb, scene.fps),
        "depth.npy": npy_bytes(rendered.depth.astype(np.float32)),
        "seg.npy": npy_bytes(rendered.segmentation.astype(np.uint16)),
        **{member: npz_bytes(values) for member, values in arrays.items()},
    }
