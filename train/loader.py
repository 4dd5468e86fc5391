"""Streaming loader: WebDataset shards -> batches of training examples, endlessly.

Each (rank, DataLoader worker) pair is one stream, ``stream = rank * workers + worker``. A stream
runs epochs: in epoch e the shard list is shuffled with seed (seed, e) identically everywhere and
stream s takes shards s, s + S, ... (S streams); with fewer shards than streams every stream reads
all shards and keeps samples s, s + S, ... instead. With ``resampled`` each stream draws shards
with replacement, one pseudo-epoch being as many draws as there are shards. Samples go through a
shuffle buffer of undecoded bytes (seeded per stream and epoch), then are decoded with a
generator seeded by (seed, stream, epoch, index), so the data are a pure function of the seed.

Every batch says which worker made it and the (epoch, index) of its last sample; the trainer keeps
the position of each worker and a resumed run skips what was consumed, before any decoding.
Corrupt samples (unreadable tar entries, missing or malformed members, short clips) and scenario
clips kept with ``verified: false`` (unless ``DataConfig.unverified``) are skipped and counted
per worker (``skipped`` in each batch).

Batches: every array of train.decode stacked on a new batch axis, strings (``key``, ``caption``)
as lists, plus
``worker``, ``epoch``, ``index`` and ``skipped`` (ints).
"""

from __future__ import annotations

import random
import sys
from typing import Iterator

import numpy as np
import torch
import webdataset as wds
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from worldclips.train.config import DataConfig
from worldclips.train.decode import CACHE_MEMBERS, READ_MEMBERS, decode_cached, decode_example, is_verified
from worldclips.train.shard_stream import shard_samples

WARN_LIMIT = 3  # skipped-sample warnings printed per worker


def collate(examples: list[dict]) -> dict:
    batch = {}
    for name, value in examples[0].items():
        values = [e[name] for e in examples]
        batch[name] = values if isinstance(value, str) else torch.from_numpy(np.stack(values))
    return batch


class ShardStream(IterableDataset):
    """Endless batches from shards for one rank (see module docstring).

    start: worker id -> (epoch, index) of the next sample to use, from a checkpoint.
    """

    def __init__(self, urls: list[str], config: DataConfig, rank: int = 0, world_size: int = 1,
                 start: dict[int, tuple[int, int]] | None = None, skeletons: bool = True, cached: bool = False):  # fmt: skip
        super().__init__()
        if not urls:
            raise ValueError("loader: no shards")
        self.urls, self.config, self.rank, self.world_size = list(urls), config, rank, world_size
        self.start, self.skeletons, self.cached = dict(start or {}), skeletons, cached

    def _epoch_shards(self, epoch: int, stream: int, streams: int) -> tuple[list[str], bool]:
        """(shard URLs for this stream in this epoch, whether to split by sample instead)."""
        seed = self.config.seed
        if self.config.resampled:
            rng = np.random.default_rng([seed, stream, epoch, 1])
            return [self.urls[i] for i in rng.integers(len(self.urls), size=len(self.urls))], False
        order = [self.urls[i] for i in np.random.default_rng([seed, epoch]).permutation(len(self.urls))]
        if len(order) >= streams:
            return order[stream::streams], False
        return order, True

    def __iter__(self) -> Iterator[dict]:
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        if info is not None:
            torch.set_num_threads(1)
        stream, streams = self.rank * workers + worker, self.world_size * workers
        start_epoch, start_index = self.start.get(worker, (0, 0))
        skipped, pending = [0], []

        def on_error(error: Exception) -> bool:
            skipped[0] += 1
            if skipped[0] <= WARN_LIMIT:
                print(f"loader: worker {worker}: skipped a sample ({str(error)[:200]})", file=sys.stderr)
            return True

        wanted = set(CACHE_MEMBERS if self.cached else READ_MEMBERS)
        for epoch in range(start_epoch, sys.maxsize):
            shards, by_sample = self._epoch_shards(epoch, stream, streams)
            raw = shard_samples(shards, handler=on_error, select=lambda member: member in wanted)
            if by_sample:
                raw = (s for i, s in enumerate(raw) if i % streams == stream)
            rng = random.Random(int(np.random.default_rng([self.config.seed, stream, epoch, 2]).integers(2**62)))
            raw = wds.shuffle(self.config.shuffle_buffer, self.config.shuffle_buffer, rng=rng)(raw)
            seen = decoded = 0
            for index, sample in enumerate(raw):
                seen += 1
                if epoch == start_epoch and index < start_index:
                    continue
                generator = np.random.default_rng([self.config.seed, stream, epoch, index])
                try:
                    if self.cached:  # a latent-cache sample (train.latent_cache): its crop is fixed
                        example = decode_cached(sample)
                    else:
                        example = decode_example(sample, self.config, generator, self.skeletons)
                except Exception as error:  # a bad sample never stops training
                    on_error(ValueError(f"{sample.get('__key__')}: {error}"))
                    continue
                decoded += 1
                example["key"] = sample["__key__"]
                pending.append(example)
                if len(pending) == self.config.batch_size:
                    batch = collate(pending)
                    batch.update(worker=worker, epoch=epoch, index=index, skipped=skipped[0])
                    pending = []
                    yield batch
            if seen == 0:
                raise RuntimeError(f"loader: worker {worker} of rank {self.rank} got no samples in epoch {epoch} "
                                   f"({len(self.urls)} shards for {streams} streams; use fewer workers)")  # fmt: skip
            if decoded == 0 and seen > (start_index if epoch == start_epoch else 0):
                raise RuntimeError(f"loader: no decodable sample in {len(shards)} shard(s) ({skipped[0]} skipped)")


def make_loader(urls: list[str], config: DataConfig, rank: int = 0, world_size: int = 1,
                start: dict[int, tuple[int, int]] | None = None, skeletons: bool = True,
                pin_memory: bool = False, cached: bool = False) -> DataLoader:  # fmt: skip
    """A DataLoader over a ShardStream: batches are made in the workers (batch_size=None here)."""
    stream = ShardStream(urls, config, rank, world_size, start, skeletons, cached)
    workers = config.num_workers
    return DataLoader(stream, batch_size=None, num_workers=workers, pin_memory=pin_memory,
                      persistent_workers=workers > 0, prefetch_factor=2 if workers else None)  # fmt: skip


def iter_examples(urls: list[str], config: DataConfig, skeletons: bool = True, seed: int = 0,
                  person_pixels: bool = False, skip_unverified: bool = False) -> Iterator[dict]:  # fmt: skip
    """Examples in dataset order, one pass, no shuffling (for sampling, evaluation and inspection).
    Corrupt samples raise; with ``skip_unverified`` scenario clips kept with ``verified: false``
    are passed over as the training loader does (unless ``config.unverified``)."""
    for index, sample in enumerate(shard_samples(urls)):
        if skip_unverified and not config.unverified and not is_verified(sample):
            continue
        example = decode_example(sample, config, np.random.default_rng([seed, index]), skeletons, person_pixels)
        example["key"] = sample["__key__"]
        yield example
