"""Safe decoding for stock ``webdataset`` pipelines: ``wds.WebDataset(urls).map(decode_safely)``.

webdataset's own ``.decode()`` unpickles ``.pyd``/``.pickle`` members and ``torch.load``s
``.pth`` members, so a hostile shard could run code in the reader. ``decode_safely`` decodes
only what the worldclips schema holds, without unpickling and with sizes checked before
anything is inflated: ``.json`` -> parsed JSON, ``.npy`` -> ndarray, ``.npz`` -> dict of
ndarrays, except the layers (shards.format.layer_registry): ``depth.npz`` -> (T, H, W) float32
metres, ``seg.npz`` -> (T, H, W) uint16 ids, ``normals.npz`` -> (T, H, W, 3) float16, ``flow.npz``
and ``tracks.npz`` -> dicts of their arrays, dtypes checked; ``.mp4`` -> (T, H, W, 3) uint8
RGB frames (PyAV). Any other member stays bytes.

    import webdataset as wds
    from worldclips.shards.format.stock import decode_safely

    for sample in wds.WebDataset(["data/demo/shard-000000.tar"], shardshuffle=False).map(decode_safely):
        frames = sample["rgb.mp4"]     # (T, H, W, 3) uint8
        depth = sample["depth.npz"]    # (T, H, W) float32 metres (schema v4; v1-v3: depth.npy)
"""

from __future__ import annotations

import json

from worldclips.motions.safe_arrays import load_npy, load_npz
from worldclips.shards.format.layer_registry import layer_for_member
from worldclips.shards.format.video import decode_mp4


def decode_member(name: str, data: bytes):
    """One member by its extension (``meta.json``, ``depth.npy``, ``pose.npz``, ``rgb.mp4``); other bytes unchanged."""
    extension = name.rpartition(".")[2]
    if extension == "json":
        return json.loads(data)
    if extension == "npy":
        return load_npy(data, name)
    layer = layer_for_member(name)
    if layer is not None and layer.decode is not None:
        return layer.decode(load_npz(data, name), name)
    if extension == "npz":
        return load_npz(data, name)
    if extension == "mp4":
        return decode_mp4(data)
    return data


def decode_safely(sample: dict) -> dict:
    """A webdataset sample (``__key__``, ``__url__``, member -> bytes) with its members decoded."""
    return {name: value if name.startswith("__") or not isinstance(value, bytes) else decode_member(name, value)
            for name, value in sample.items()}  # fmt: skip
