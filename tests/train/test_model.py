"""The conditioned Wan model: conditions start with no effect (zero-initialised projections), LoRA
trains only adapters and new modules, base weights load from a local diffusers folder."""

import json
import shutil

import pytest
import torch

from worldclips.train.build import check_base, random_transformer, random_vae
from worldclips.train.config import replace
from worldclips.train.model import ConditionedWan, condition_channels
from worldclips.train.trainer import build_model


def inputs(model, batch=2, frames=3, size=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    z = model.transformer.config.in_channels
    return (torch.randn(batch, z, frames, size, size, generator=g), torch.tensor([100.0, 700.0]),
            torch.randn(batch, model.cond_channels, frames, size, size, generator=g),
            torch.randn(batch, 24, frames, size, size, generator=g))  # fmt: skip


def _joints(batch=2, persons=2, frames=9, seed=1):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(batch, persons, frames, 55, 3, generator=g), torch.ones(batch, persons, 55, dtype=torch.bool),
            torch.tensor([[True, True], [True, False]]))  # fmt: skip


def test_conditions_start_with_no_effect_and_match_the_base_model(tiny):
    """Every condition on (control maps, reprojection, camera rays, joint tokens): at step 0 the model is the
    base model exactly; after one training step each condition changes the output."""
    config = tiny
    assert config.model.pose_tokens and config.model.camera
    torch.manual_seed(0)
    base = random_transformer(config.model)
    torch.manual_seed(0)
    model = ConditionedWan(random_transformer(config.model), config.model)
    assert model.cond_channels == condition_channels(config.model, 4) == 4 * 4 + 4 + 4 + 56  # 4 videos, 2 masks, the pose grid
    noisy, timestep, cond, plucker = inputs(model)
    joints = _joints()
    out = model(noisy, timestep, cond, plucker, joints=joints)
    context = torch.zeros(2, config.model.text_len, config.model.text_dim)
    expected = base(noisy, timestep, context, return_dict=False)[0]
    assert out.shape == noisy.shape and torch.allclose(out, expected, atol=1e-5)
    assert torch.allclose(model(noisy, timestep, cond * 0, plucker * 0), out, atol=1e-5)
    # After a training step every condition matters.
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model(noisy, timestep, cond, plucker, joints=joints).square().mean().backward()
    optimizer.step()
    trained = model(noisy, timestep, cond, plucker, joints=joints)
    assert not torch.allclose(trained, model(noisy, timestep, cond * 0, plucker, joints=joints))
    assert not torch.allclose(trained, model(noisy, timestep, cond, plucker * 0, joints=joints))
    assert not torch.allclose(trained, model(noisy, timestep, cond, plucker, joints=(joints[0] * 0, *joints[1:])))


def test_lora_trains_adapters_and_new_modules_only(tiny):
    config = replace(tiny, model={"lora_rank": 4})
    model, _ = build_model(config, None)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n or "patch_embedding.control" in n or "patch_embedding.camera" in n
                             or n.startswith("joint_tokens") for n in trainable)  # fmt: skip
    assert any("lora_A" in n for n in trainable) and "transformer.patch_embedding.control.weight" in trainable
    frozen = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    noisy, timestep, cond, plucker = inputs(model)
    model(noisy, timestep, cond, plucker).square().mean().backward()
    optimizer.step()
    assert all(torch.equal(p, frozen[n]) for n, p in model.named_parameters() if n in frozen)


@pytest.fixture(scope="module")
def base_folder(tiny, tmp_path_factory):
    """A local diffusers folder as save_pretrained writes it (the tiny dims, random weights)."""
    folder = tmp_path_factory.mktemp("base")
    torch.manual_seed(5)
    random_transformer(tiny.model).save_pretrained(folder / "transformer")
    random_vae(tiny.model).save_pretrained(folder / "vae")
    return folder


def test_base_weights_load_from_a_local_folder(tiny, base_folder, tmp_path):
    model, codec = build_model(tiny, base_folder)
    torch.manual_seed(5)
    reference = random_transformer(tiny.model)
    assert torch.equal(model.transformer.blocks[0].attn1.to_q.weight, reference.blocks[0].attn1.to_q.weight)
    assert torch.equal(model.transformer.patch_embedding.latent.weight, reference.patch_embedding.weight)
    assert codec.channels == 4 and codec.spatial == 8
    with pytest.raises(FileNotFoundError, match="transformer/config.json is missing"):
        check_base(tmp_path)
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        check_base(tmp_path / "nothing")


def test_an_image_to_video_base_is_refused_before_loading(base_folder, tmp_path):
    """Wan I2V checkpoints take 36 input channels and an image embedder: refused in one line up front."""
    i2v = shutil.copytree(base_folder, tmp_path / "i2v")
    config = json.loads((i2v / "transformer" / "config.json").read_text())
    config.update(in_channels=36, image_dim=1280)
    (i2v / "transformer" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="in_channels 36 differs from the VAE's z_dim 4 .an image-to-video checkpoint"):
        check_base(i2v)
    check_base(base_folder)  # the text-to-video folder passes


def test_latent_codec_shapes(tiny):
    _, codec = build_model(tiny, None)
    video = torch.rand(1, 3, 9, 32, 32) * 2 - 1
    latents = codec.encode(video)
    assert latents.shape == (1, 4, 3, 4, 4)
    assert codec.decode(latents).shape == video.shape


def test_random_vae_latent_frames_encode_their_own_frames(tiny):
    """Later latent frames follow their own 4-frame group, not the first frame (a random causal
    VAE's time kernels made them a function of frame 0: the targets carried no motion), and a
    still clip gives the same latent in every frame, with unit-variance latents."""
    from worldclips.train.build import calibration_video

    _, codec = build_model(tiny, None)
    clips = calibration_video(batch=4, frames=9, size=32)
    other = torch.roll(clips, 1, dims=0)
    mixed = torch.cat([clips[:, :, :1], other[:, :, 1:]], dim=2)  # frame 0 of one clip, the rest of another
    latents, other_latents, mixed_latents = (codec.encode(v) for v in (clips, other, mixed))
    assert torch.allclose(mixed_latents[:, :, 1:], other_latents[:, :, 1:], atol=1e-5)
    assert torch.allclose(mixed_latents[:, :, :1], latents[:, :, :1], atol=1e-5)
    assert (latents[:, :, 1:] - other_latents[:, :, 1:]).square().mean() > 0.5
    still = codec.encode(clips[:, :, :1].expand_as(clips).contiguous())
    assert torch.allclose(still[:, :, 1:], still[:, :, :1].expand_as(still[:, :, 1:]), atol=1e-5)
    assert (latents[:, :, 1:] - still[:, :, 1:]).square().mean() > 0.05  # the fields drift: the motion is kept
    assert 0.7 < float(latents.std()) < 1.3
