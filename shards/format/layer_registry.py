"""Every ground-truth layer a run may write, declared once: its name (the ``layers:`` config
field), its sample member, what is stored (arrays, shapes, dtypes: the row of the schema table in
``docs/conventions.md``), how the renderer produces it, how it is encoded and decoded, the most
bytes its member may inflate to, and what ``validate`` checks. Adding a layer means one entry here,
its render pass and its tests.

rgb, depth and seg are always written (the pose visibility, validate's cross-checks and the
trainer need them); normals, flow and tracks are optional.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from worldclips.shards.format import layer_checks, layers
from worldclips.shards.format.layers import NPY_HEADER_SLACK

MAX_TRACKS = 4096  # point tracks of one clip (config num_tracks)


@dataclass(frozen=True)
class LayerInputs:
    """What layers are encoded from: the rendered clip (render.frames.RenderedClip) and, with the
    tracks layer, the clip's point tracks (render.tracks.PointTracks)."""

    rendered: object
    tracks: object | None = None


@dataclass(frozen=True)
class Layer:
    """One layer. bytes_per_pixel: inflated bytes per clip pixel (T H W), per_track: per track and frame."""

    name: str
    member: str
    stored: str
    produced_by: str
    encode: Callable[[LayerInputs], dict[str, np.ndarray]] | None  # None: encoded elsewhere (the video)
    decode: Callable[[dict[str, np.ndarray], str], object] | None
    check: Callable[..., list[str]] | None  # (decoded, (T, H, W), segmentation) -> problems
    bytes_per_pixel: int = 0
    per_track: int = 0
    arrays: int = 1  # arrays in the member (each has its own .npy header)
    frames_per_array: int = 0  # > 0: one array per this many frames instead (the depth chunks)
    deflate_level: int = 6  # zlib level of the member (1 for flow: 5-25% larger, 3-5x faster)
    surface_pass: bool = False  # needs the raster's surface pass (render.surface_layers)
    required: bool = False

    def inflated_limit(self, frames: int, height: int, width: int) -> int:
        """The most bytes this layer's member may declare when inflated (before anything is inflated)."""
        tracks = MAX_TRACKS * (self.per_track * frames + 16) if self.per_track else 0
        arrays = -(-frames // self.frames_per_array) if self.frames_per_array else self.arrays
        return self.bytes_per_pixel * frames * height * width + tracks + arrays * NPY_HEADER_SLACK


def _arrays(arrays: dict[str, np.ndarray], member: str, wanted: dict[str, tuple]) -> dict[str, np.ndarray]:
    """The named arrays, each of its dtype and number of dimensions, or a ValueError naming the first wrong one."""
    for name, (dtype, ndim) in wanted.items():
        array = arrays.get(name)
        if array is None or array.dtype != np.dtype(dtype) or array.ndim != ndim:
            shown = "missing" if array is None else f"{array.dtype} with {array.ndim} dimensions"
            raise ValueError(f"{member}/{name}: expected {np.dtype(dtype)} with {ndim} dimensions, got {shown}")
    return {name: arrays[name] for name in wanted}


FLOW_ARRAYS = {"forward_delta_bytes": ("u1", 5), "backward_delta_bytes": ("u1", 5), "occluded_forward": ("bool", 3),
               "occluded_backward": ("bool", 3)}  # fmt: skip
FLOW_DELTA_AXIS = 3  # of the (4, T, H, W, 2) planes: along image rows (x), where flow fields are smooth
TRACK_ARRAYS = {"query_points": ("<f4", 2), "tracks": ("<f4", 3), "visible": ("bool", 2), "points_world": ("<f4", 3),
                "instance_ids": ("<u2", 1), "kinds": ("u1", 1)}  # fmt: skip


def _encode_flow(inputs: LayerInputs) -> dict[str, np.ndarray]:
    surface = inputs.rendered.surface
    axis = FLOW_DELTA_AXIS - 1
    return {"forward_delta_bytes": layers.encode_float_bits(surface.flow_forward, axis),
            "backward_delta_bytes": layers.encode_float_bits(surface.flow_backward, axis),
            "occluded_forward": surface.occluded_forward, "occluded_backward": surface.occluded_backward}  # fmt: skip


def _decode_flow(arrays: dict[str, np.ndarray], member: str) -> dict[str, np.ndarray]:
    """flow.npz -> {"forward", "backward": (T, H, W, 2) float32, "occluded_forward", "occluded_backward"}."""
    found = _arrays(arrays, member, FLOW_ARRAYS)
    for name in ("forward_delta_bytes", "backward_delta_bytes"):
        if found[name].shape[0] != 4 or found[name].shape[-1] != 2:
            raise ValueError(f"{member}/{name}: expected uint8 (4, T, H, W, 2), got {found[name].shape}")
    axis = FLOW_DELTA_AXIS - 1
    return {"forward": layers.decode_float_bits(found["forward_delta_bytes"], axis),
            "backward": layers.decode_float_bits(found["backward_delta_bytes"], axis),
            "occluded_forward": found["occluded_forward"], "occluded_backward": found["occluded_backward"]}  # fmt: skip


def _encode_tracks(inputs: LayerInputs) -> dict[str, np.ndarray]:
    return {name: getattr(inputs.tracks, name) for name in TRACK_ARRAYS}


LAYERS: dict[str, Layer] = {
    layer.name: layer
    for layer in (
        Layer("rgb", "rgb.mp4", "H.264 video, yuv420p, CRF 18", "the renderer's colour pass",
              None, None, None, required=True),
        Layer("depth", layers.DEPTH_MEMBER, "`depth_delta_bytes_000`, `_001`, ... uint8 (4, 8, H, W): float32 "
              "planar z in chunks of 8 frames, time-differenced bits as byte planes (recipe below)",
              "planar camera z at pixel centres", lambda i: layers.encode_depth(i.rendered.depth), layers.decode_depth,
              None, bytes_per_pixel=4, frames_per_array=layers.DEPTH_CHUNK_FRAMES, required=True),
        Layer("seg", layers.SEG_MEMBER, "`seg` uint16 (T, H, W) instance ids, 0 = none", "instance id at pixel centres",
              lambda i: layers.encode_segmentation(i.rendered.segmentation), layers.decode_segmentation_member, None,
              bytes_per_pixel=2, required=True),
        Layer("normals", "normals.npz", "`normals` float16 (T, H, W, 3) unit shading normals, camera frame, "
              "facing the camera; 0 = none", "raster surface pass (render.surface_layers)",
              lambda i: {"normals": i.rendered.surface.normals},
              lambda a, m: _arrays(a, m, {"normals": ("<f2", 4)})["normals"], layer_checks.check_normals,
              bytes_per_pixel=6, surface_pass=True),
        Layer("flow", "flow.npz", "`forward_delta_bytes`, `backward_delta_bytes` uint8 (4, T, H, W, 2): float32 "
              "pixel motion (dx, dy) to frame t+1 / t-1, bits differenced along x as byte planes (recipe below); "
              "`occluded_forward`, `occluded_backward` bool (T, H, W)",
              "raster surface pass: each surface point's own next/previous position",
              _encode_flow, _decode_flow, layer_checks.check_flow,
              bytes_per_pixel=18, arrays=4, deflate_level=1, surface_pass=True),
        Layer("tracks", "tracks.npz", "TAP-Vid layout: `query_points` float32 (N, 3) (t, y, x); `tracks` float32 "
              "(N, T, 2) (x, y); `visible` bool (N, T); `points_world` float32 (N, T, 3); `instance_ids` uint16 (N,); "
              "`kinds` uint8 (N,) 0 person, 1 prop, 2 scenery", "scene geometry + rendered depth (render.tracks)",
              _encode_tracks, lambda a, m: _arrays(a, m, TRACK_ARRAYS), layer_checks.check_tracks, per_track=21,
              arrays=6),
    )  # fmt: skip
}
REQUIRED_LAYERS = tuple(name for name, layer in LAYERS.items() if layer.required)
DEFAULT_LAYERS = REQUIRED_LAYERS
OPTIONAL_LAYERS = tuple(name for name, layer in LAYERS.items() if not layer.required)


def layer_for_member(member: str) -> Layer | None:
    """The layer stored in a member name (``depth.npz``, ``<key>.flow.npz``), or None."""
    for layer in LAYERS.values():
        if member == layer.member or member.endswith("." + layer.member):
            return layer
    return None


def inflated_limits(frames: int, height: int, width: int) -> dict[str, int]:
    """The most bytes each layer member of a (frames, height, width) clip may declare when inflated."""
    return {layer.member: layer.inflated_limit(frames, height, width) for layer in LAYERS.values() if layer.decode}
