"""Optional text conditioning: captions from meta.json, a local encoder, zeros past each caption."""

import pytest
import torch

from worldclips.train.build import random_transformer, random_vae
from worldclips.train.config import replace
from worldclips.train.text import TextEncoder, caption
from worldclips.train.trainer import train


def test_caption_describes_the_scenario():
    meta = {"scenario": "default", "scenario_params": {"camera_family": "pan_tilt", "num_people": 3, "num_props": 2,
            "people_motion": ["walk", "idle", "walk"], "prop_categories": ["box", "chair"]}}  # fmt: skip
    text = caption(meta)
    assert text.startswith("default scene: 3 people (1 standing, 2 walking)") and "pan tilt camera" in text
    assert "among 2 props (box, chair)" in text
    assert caption({}) == "default scene: an empty scene"
    meta["scenario_params"]["people_motion"] = ["carry", "sequence", "dance"]
    meta["look"] = {"name": "photo", "outfits": [{"person": n, "outfit": f"a red t-shirt, jeans and {h}"} for n, h in
                                                 (("a", "a hat"), ("b", "short hair"), ("c", "a shaved head"))]}  # fmt: skip
    meta["spec"] = {"ground": {"pattern": "grass"}, "look": {"turbidity": 2.2}}
    text = caption(meta)
    assert "3 people (one in a red t-shirt, jeans and a hat carrying something; one in" in text
    assert "dancing) on a lawn under a clear daylight sky" in text and "standing" not in text
    meta["spec"] = {"ground": {"pattern": "planks"}, "look": {"turbidity": 2.2}, "room": {"windows": [{}, {}]}}
    text = caption(meta)
    assert "dancing) in a room with a wooden floor, 2 windows and ceiling lights" in text and "lawn" not in text


@pytest.fixture(scope="module")
def base_with_text(tiny, tmp_path_factory):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, UMT5Config, UMT5EncoderModel

    folder = tmp_path_factory.mktemp("base-text")
    words = ["<pad>", "</s>", "<unk>", "default", "scene:", "people", "camera", "among", "props", "orbit"]
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", unk_token="<unk>", eos_token="</s>").save_pretrained(folder / "tokenizer")
    torch.manual_seed(0)
    encoder = UMT5EncoderModel(UMT5Config(vocab_size=len(words), d_model=tiny.model.text_dim, d_kv=4, d_ff=32,
                                          num_layers=1, num_heads=2, relative_attention_num_buckets=8))  # fmt: skip
    encoder.save_pretrained(folder / "text_encoder")
    random_transformer(tiny.model).save_pretrained(folder / "transformer")
    random_vae(tiny.model).save_pretrained(folder / "vae")
    return folder


def test_text_encoder_zeroes_padding(base_with_text, tiny):
    encoder = TextEncoder(base_with_text, max_length=6, device=torch.device("cpu"))
    hidden = encoder(["default scene:", "orbit camera among props"])
    assert hidden.shape == (2, 6, tiny.model.text_dim)
    assert hidden[0, :2].abs().sum() > 0 and torch.all(hidden[0, 2:] == 0) and torch.all(hidden[1, 4:] == 0)


def test_training_with_the_text_encoder(base_with_text, dataset, tiny, tmp_path):
    config = replace(tiny, model={"text_encoder": True}, train={"steps": 1})
    assert train(str(dataset), config, tmp_path / "run", base=base_with_text, tensorboard=False)["step"] == 1
    with pytest.raises(ValueError, match="model.text_encoder: needs --base"):
        train(str(dataset), config, tmp_path / "run2", tensorboard=False)
    assert not (tmp_path / "run2").exists()
