"""Condition dropout sets exactly the dropped samples' conditions to their null values; guidance
reduces to the conditional velocity at scale 1 and follows its formula otherwise."""

import pytest
import torch

from worldclips.train.conditions import ModelInputs
from worldclips.train.config import config_from_dict, replace
from worldclips.train.guidance import (
    condition_channels,
    draw_dropout,
    drop_conditions,
    enabled_conditions,
    guided_velocity,
    parse_guidance,
)
from worldclips.train.model import ConditionedWan
from worldclips.train.build import random_transformer

Z = 4  # the tiny VAE's latent channels


def _inputs(config, batch=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    channels = 4 * Z + 8 + 56  # depth, skeleton, first frame, reprojection; 2 masks; the pose grid
    joints = (torch.randn(batch, 2, 9, 55, 3, generator=g), torch.ones(batch, 2, 55, dtype=torch.bool),
              torch.ones(batch, 2, dtype=torch.bool))  # fmt: skip
    return ModelInputs(latents=torch.randn(batch, Z, 3, 4, 4, generator=g),
                       cond=torch.randn(batch, channels, 3, 4, 4, generator=g),
                       plucker=torch.randn(batch, 24, 3, 4, 4, generator=g), joints=joints,
                       text=torch.randn(batch, 4, 16, generator=g))  # fmt: skip


def test_channel_layout_follows_model_inputs(tiny):
    slices = condition_channels(tiny.model, Z)
    assert slices == {"depth": [slice(0, 4)], "pose_maps": [slice(4, 8)], "first_frame": [slice(8, 12), slice(16, 20)],
                      "reprojection": [slice(12, 16), slice(20, 24)], "pose_grid": [slice(24, 80)]}  # fmt: skip
    no_depth = condition_channels(replace(tiny, model={"depth": "none", "reprojection": False, "pose_grid": False}).model, Z)
    assert no_depth == {"pose_maps": [slice(0, 4)], "first_frame": [slice(4, 8), slice(8, 12)]}


@pytest.mark.parametrize("name", ["first_frame", "camera", "reprojection", "depth", "pose_maps", "pose_grid", "pose_tokens", "text"])
def test_dropping_one_condition_touches_only_it_and_only_the_dropped_samples(tiny, name):
    inputs = _inputs(tiny)
    dropped = drop_conditions(inputs, {name: torch.tensor([False, True, False])}, tiny.model, Z)
    slices = condition_channels(tiny.model, Z)
    channels = torch.zeros(inputs.cond.shape[1], dtype=torch.bool)
    for part in slices.get(name, []) + (slices["reprojection"] if name == "first_frame" else []):
        channels[part] = True  # no first frame given: nor its reprojection (frame 0 of it is the first frame)
    assert torch.equal(dropped.cond[:, ~channels], inputs.cond[:, ~channels])
    assert torch.equal(dropped.cond[0], inputs.cond[0]) and torch.equal(dropped.cond[2], inputs.cond[2])
    assert torch.all(dropped.cond[1][channels] == 0)
    assert torch.equal(dropped.plucker[[0, 2]], inputs.plucker[[0, 2]])
    assert torch.all(dropped.plucker[1] == 0) == (name == "camera")
    assert bool(dropped.joints[2][1].any()) == (name != "pose_tokens") and bool(dropped.joints[2][0].all())
    assert torch.all(dropped.text[1] == 0) == (name == "text") and torch.equal(dropped.text[0], inputs.text[0])
    assert torch.equal(dropped.latents, inputs.latents)


def test_dropout_draws_follow_the_probabilities_and_the_generator(tiny):
    config = replace(tiny, model={"drop_camera": 1.0, "drop_depth": 0.0, "drop_first_frame": 0.5}).model
    draws = draw_dropout(4000, config, torch.Generator().manual_seed(1))
    assert draws["camera"].all() and not draws["depth"].any()
    assert abs(draws["first_frame"].float().mean().item() - 0.5) < 0.05
    again = draw_dropout(4000, config, torch.Generator().manual_seed(1))
    assert all(torch.equal(draws[k], again[k]) for k in draws)
    assert set(draws) == set(enabled_conditions(config))
    with pytest.raises(ValueError, match="model.drop_camera: expected a probability"):
        config_from_dict({"preset": "tiny", "model": {"drop_camera": 1.5}})


def test_guidance_at_scale_one_is_the_conditional_velocity_and_follows_the_formula(tiny):
    torch.manual_seed(0)
    model = ConditionedWan(random_transformer(tiny.model), tiny.model)
    with torch.no_grad():  # give every condition an effect
        for parameter in model.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    inputs = _inputs(tiny, batch=2)
    x, t = torch.randn(2, Z, 3, 4, 4), torch.tensor([300.0, 800.0])

    def predict(x, t, given):
        return model(x, t, given.cond, given.plucker, given.text, given.joints)

    with torch.no_grad():
        plain = predict(x, t, inputs)
        ones = guided_velocity(predict, inputs, parse_guidance("camera=1,depth+pose_maps=1", tiny.model), tiny.model, Z, x, t)
        assert torch.allclose(ones, plain, atol=1e-5)
        groups = parse_guidance("camera=3", tiny.model)
        guided = guided_velocity(predict, inputs, groups, tiny.model, Z, x, t)
        without = predict(x, t, drop_conditions(inputs, {"camera": torch.ones(2, dtype=torch.bool)}, tiny.model, Z))
        assert torch.allclose(guided, without + 3 * (plain - without), atol=1e-5)
        assert not torch.allclose(guided, plain, atol=1e-4)


def test_guidance_text_is_checked(tiny):
    assert parse_guidance("", tiny.model) == []
    with pytest.raises(ValueError, match="not a condition of this model"):
        parse_guidance("lighting=2", tiny.model)
    with pytest.raises(ValueError, match="two groups"):
        parse_guidance("camera=2,camera+depth=3", tiny.model)
    with pytest.raises(ValueError, match="NAME=SCALE"):
        parse_guidance("camera", tiny.model)
    with pytest.raises(ValueError, match="needs a text encoder"):
        parse_guidance("text=2", tiny.model)
