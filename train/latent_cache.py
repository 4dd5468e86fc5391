"""The latent cache: VAE latents of each clip's target and condition videos, encoded once.

VAE encoding is most of a training step (about 75% for the tiny model on a CPU). ``worldclips
encode --data D --config C --out D.latents`` runs the loader's decoding and the VAE over every
clip, ``crops`` times (crop k draws its frames and stride with seed k, as ``iter_examples``
does), and writes WebDataset shards ``shard-NNNNNN.tar`` of samples ``<clip key>_c<k>`` holding
``inputs.npz`` (``latents`` (z, T_lat, h, w), ``cond`` (C, T_lat, h, w), and with those
conditions ``plucker`` (24, T_lat, h, w), ``joints3d_cam``, ``joints_valid``, ``person_mask``),
``caption.txt`` and ``meta.json`` (clip key, crop; ``inputs.npz`` deflated at level 1: the
pose grid's channels are mostly zeros), then ``latents.json`` last: the fingerprint
of everything the latents depend on (data crop and size, the condition settings, a hash of the
VAE weights). ``worldclips train --latents D.latents`` streams them instead of the clips through
the same loader (sharding, shuffling, resume) and refuses a cache whose fingerprint differs from
the run's, naming the first field that differs. Condition dropout, noise and the model are
unchanged: only the VAE pass is skipped. A cache holds ``crops`` fixed crops per clip, where
training on clips draws a new crop each epoch: encode more crops for long runs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from worldclips.shards.format.reader import MAX_MANIFEST_BYTES, parse_manifest
from worldclips.shards.format.sample import npz_bytes
from worldclips.shards.format.writer import write_atomic, write_shard
from worldclips.train.conditions import ModelInputs, model_inputs, to_device
from worldclips.train.decode import JOINT_ARRAYS
from worldclips.train.config import ADDED_OFF, RunConfig
from worldclips.train.loader import collate, iter_examples
from worldclips.train.sources import shard_urls

CACHE_MANIFEST = "latents.json"
CACHE_VERSION = 1


def vae_digest(codec) -> str:
    """sha256 of the VAE's weights and latent statistics (what the cached latents depend on)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(codec.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()


def fingerprint(config: RunConfig, codec) -> dict:
    """The settings the cached inputs depend on."""
    d, m = config.data, config.model
    return {
        "version": CACHE_VERSION, "frames": d.frames, "height": d.height, "width": d.width, "strides": list(d.strides),
        "max_persons": d.max_persons, "unverified": d.unverified, "depth": m.depth, "pose_maps": m.pose_maps, "pose_grid": m.pose_grid, "pose_tokens": m.pose_tokens,
        "first_frame": m.first_frame, "camera": m.camera, "reprojection": m.reprojection, "vae": vae_digest(codec),
    }  # fmt: skip


def cache_key(clip_key: str, crop: int) -> str:
    """``<run>-<index>`` of a clip -> ``<run>_c<crop>-<index>`` (still a valid sample key)."""
    run, _, index = clip_key.rpartition("-")
    return f"{run}_c{crop}-{index}"


def _members(inputs: ModelInputs, index: int, caption: str, key: str, crop: int) -> dict[str, bytes]:
    arrays = {"latents": inputs.latents[index], "cond": inputs.cond[index]}
    if inputs.plucker is not None:
        arrays["plucker"] = inputs.plucker[index]
    if inputs.joints is not None:
        arrays.update(zip(JOINT_ARRAYS, (part[index] for part in inputs.joints)))
    arrays = {name: value.detach().float().cpu().numpy() if value.is_floating_point() else value.cpu().numpy()
              for name, value in arrays.items()}  # fmt: skip
    return {
        "inputs.npz": npz_bytes(arrays, deflate=True, level=1),  # the pose grid is mostly zeros
        "caption.txt": caption.encode(),
        "meta.json": json.dumps({"clip": key, "crop": crop}, sort_keys=True).encode(),
    }


def encode_dataset(data: str, config: RunConfig, codec, out: Path, crops: int = 1, clips_per_shard: int = 64,
                   progress=print) -> dict:  # fmt: skip
    """Write the cache of ``data`` for ``config`` with ``codec`` (the run's VAE: trainer.build_model)
    into ``out`` (a new or empty folder); returns its manifest."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"--out: {out} is not empty (the cache goes into a new folder)")
    if crops < 1:
        raise ValueError(f"--crops: expected at least 1, got {crops}")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    codec.to(device)
    out.mkdir(parents=True, exist_ok=True)
    urls = shard_urls(data)
    shards, pending, count = [], [], 0
    batch_size = max(1, config.data.batch_size)

    def flush(final: bool = False) -> None:
        nonlocal pending
        while len(pending) >= clips_per_shard or (final and pending):
            record = write_shard(out, f"shard-{len(shards):06d}.tar", pending[:clips_per_shard])
            shards.append({"name": record.name, "samples": record.samples, "sha256": record.sha256})
            pending = pending[clips_per_shard:]

    for crop in range(crops):
        examples = iter_examples(urls, config.data, skeletons=config.model.pose_maps, seed=crop, skip_unverified=True)
        while True:
            group = [e for _, e in zip(range(batch_size), examples)]
            if not group:
                break
            batch = collate(group)
            with torch.no_grad():
                inputs = model_inputs(to_device(batch, device), codec, config.model)
            for index, example in enumerate(group):
                pending.append((cache_key(example["key"], crop), _members(inputs, index, example["caption"], example["key"], crop)))
            count += len(group)
            flush()
            progress(f"encode: {count} crops of clips encoded")
    flush(final=True)
    manifest = {"fingerprint": fingerprint(config, codec), "crops": crops, "samples": count, "shards": shards,
                "data": dataset_identity(data)}  # fmt: skip
    write_atomic(out / CACHE_MANIFEST, (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())
    return manifest


def read_cache_manifest(directory: Path) -> dict:
    path = Path(directory) / CACHE_MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"--latents: {directory} has no {CACHE_MANIFEST} (make one with `worldclips encode`)")
    with open(path, "rb") as handle:  # the dataset manifest's parser: size, JSON and shards list checked
        manifest = parse_manifest(handle.read(MAX_MANIFEST_BYTES + 1), f"--latents: {path}")
    if not isinstance(manifest.get("fingerprint"), dict):
        raise ValueError(f"--latents: {path}: no fingerprint")
    return manifest


def dataset_identity(data: str) -> str:
    """What a cache records of its dataset: a local folder's resolved path, else the text given."""
    path = Path(str(data))
    return str(path.resolve()) if path.exists() else str(data)


def check_fingerprint(manifest: dict, config: RunConfig, codec, where: str, data: str | None = None) -> None:
    """A one-line error naming the first setting where the cache and the run differ (``codec``
    as built, before any dtype cast), or when it was made from another dataset than ``data``."""
    if data is not None and manifest.get("data") != dataset_identity(data):
        raise ValueError(f"--latents: {where} was encoded from {manifest.get('data')}, not from --data {data}")
    expected = fingerprint(config, codec)
    for name, value in expected.items():
        cached = manifest["fingerprint"].get(name, ADDED_OFF.get(name))  # older caches: made without later conditions
        if cached != value:
            shown = "the VAE weights" if name == "vae" else f"{name} {cached!r} (run: {value!r})"
            raise ValueError(f"--latents: {where} was encoded with other settings: {shown}; encode it again for this config")


def cached_inputs(batch: dict, device: torch.device) -> ModelInputs:
    """A batch of cached examples -> ModelInputs on ``device`` (text: the null embedding, or the
    trainer's text encoder applied to ``batch["caption"]`` by the caller)."""
    to = lambda name: batch[name].to(device) if name in batch else None  # noqa: E731
    joints = tuple(batch[n].to(device) for n in JOINT_ARRAYS) if all(n in batch for n in JOINT_ARRAYS) else None
    return ModelInputs(latents=to("latents"), cond=to("cond"), plucker=to("plucker"), joints=joints)

