"""The latent cache: cached inputs equal a fresh encoding of the same crop, training reads them,
and a cache made for other settings is refused in one line."""

import json
import shutil

import pytest
import torch

from worldclips.cli import main
from worldclips.train.conditions import model_inputs
from worldclips.train.config import replace
from worldclips.train.latent_cache import CACHE_MANIFEST, cache_key, encode_dataset
from worldclips.train.loader import collate, iter_examples
from worldclips.train.shard_stream import shard_samples
from worldclips.train.decode import decode_cached
from worldclips.train.sources import shard_urls
from worldclips.train.trainer import build_model, train


@pytest.fixture(scope="module")
def cache(dataset, tiny, tmp_path_factory):
    out = tmp_path_factory.mktemp("cache") / "data.latents"
    manifest = encode_dataset(str(dataset), tiny, build_model(tiny, None)[1], out, crops=2, clips_per_shard=4,
                              progress=lambda line: None)  # fmt: skip
    return out, manifest


def test_cached_inputs_equal_a_fresh_encoding(cache, dataset, tiny):
    out, manifest = cache
    assert manifest["samples"] == 12 and manifest["crops"] == 2 and (out / CACHE_MANIFEST).is_file()
    cached = {s["__key__"]: decode_cached(s) for s in shard_samples(shard_urls(str(out)))}
    _, codec = build_model(tiny, None)
    example = next(iter_examples(shard_urls(str(dataset)), tiny.data, skeletons=True, seed=1))
    with torch.no_grad():
        fresh = model_inputs(collate([example]), codec, tiny.model)
    stored = cached[cache_key(example["key"], 1)]
    assert torch.allclose(torch.from_numpy(stored["latents"]), fresh.latents[0], atol=1e-5)
    assert torch.allclose(torch.from_numpy(stored["cond"]), fresh.cond[0], atol=1e-5)
    assert torch.allclose(torch.from_numpy(stored["plucker"]), fresh.plucker[0], atol=1e-6)
    assert torch.equal(torch.from_numpy(stored["person_mask"]), fresh.joints[2][0])
    assert stored["caption"] == example["caption"]


def test_training_reads_the_cache_and_never_runs_the_vae(cache, dataset, tiny, tmp_path, monkeypatch):
    from worldclips.train.build import LatentCodec

    def no_vae(self, video):
        raise AssertionError("the VAE ran although the latents are cached")

    monkeypatch.setattr(LatentCodec, "encode", no_vae)
    out, _ = cache
    result = train(str(dataset), replace(tiny, train={"steps": 2}), tmp_path / "run", tensorboard=False, latents=str(out))
    assert result["step"] == 2 and result["loss"] == result["loss"]
    with pytest.raises(ValueError, match="was encoded from .* not from --data"):
        copy = shutil.copytree(dataset, tmp_path / "another")  # the same clips, but not the dataset it was made from
        train(str(copy), replace(tiny, train={"steps": 1}), tmp_path / "run2", tensorboard=False, latents=str(out))


def test_a_cache_for_other_settings_is_refused(cache, dataset, tmp_path, capsys):
    out, _ = cache
    args = ["train", "--data", str(dataset), "--latents", str(out), "--out", str(tmp_path / "run"), "--steps", "1",
            "--no-tensorboard", "--config"]  # fmt: skip
    other = tmp_path / "other.yaml"
    other.write_text(json.dumps({"preset": "tiny", "data": {"height": 32, "width": 32, "frames": 5}}))
    assert main([*args, str(other)]) == 2
    assert "encoded with other settings: frames 9 (run: 5)" in capsys.readouterr().err
    assert main(["encode", "--data", str(dataset), "--out", str(out), "--quiet"]) != 0  # never into a used folder
    assert "is not empty" in capsys.readouterr().err
