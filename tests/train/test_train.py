"""Training end to end on CPU with the tiny config: checkpoints, exact resume, sampling, overfitting
one batch, and one-line errors for bad paths, configs and checkpoints."""

import json

import pytest
import torch
import yaml

from worldclips.train.conditions import model_inputs
from worldclips.train.config import load_config, replace
from worldclips.train.loader import collate, iter_examples
from worldclips.train.model import trainable_parameters
from worldclips.train.optim import make_optimizer
from worldclips.train.sources import shard_urls
from worldclips.train.trainer import build_model, inputs_loss, step_generator, train
from worldclips.train.video import decode_frames
from worldclips.cli import main


@pytest.fixture(scope="module")
def config_file(tiny, tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "tiny.yaml"
    path.write_text(yaml.safe_dump({"preset": "tiny", "data": {"height": 32, "width": 32}, "train": {"warmup_steps": 2}}))
    return path


@pytest.fixture(scope="module")
def run_dir(dataset, config_file, tmp_path_factory):
    """A 3-step run through the CLI."""
    out = tmp_path_factory.mktemp("runs") / "run"
    assert main(["train", "--data", str(dataset), "--config", str(config_file), "--steps", "3", "--out", str(out)]) == 0
    return out


def test_three_steps_write_a_checkpoint_and_resume_continues(run_dir, dataset, capsys):
    checkpoint = run_dir / "checkpoints" / "step-00000003"
    assert sorted(p.name for p in checkpoint.iterdir()) == [
        "ema.safetensors", "model.safetensors", "optimizer.pt", "rng.safetensors", "state.json"]  # fmt: skip
    assert (run_dir / "checkpoints" / "latest").read_text().strip() == "step-00000003"
    assert list((run_dir / "tb").glob("events.out.tfevents.*"))
    assert main(["train", "--data", str(dataset), "--out", str(run_dir), "--resume", "--steps", "5"]) == 0
    out = capsys.readouterr().out
    assert "resumed from" in out and "step 4/5" in out and "step 1/" not in out.split("resumed from")[1]
    state = json.loads((run_dir / "checkpoints" / "step-00000005" / "state.json").read_text())
    assert state["step"] == 5 and state["data"]["positions"][0]["0"][1] > 0


def test_resume_reproduces_the_uninterrupted_run(dataset, tiny, tmp_path):
    straight = train(str(dataset), replace(tiny, train={"steps": 3}), tmp_path / "a", tensorboard=False)
    train(str(dataset), replace(tiny, train={"steps": 2}), tmp_path / "b", tensorboard=False)
    resumed = train(str(dataset), None, tmp_path / "b", resume=True, steps=3, tensorboard=False)
    assert resumed["step"] == straight["step"] == 3
    assert resumed["loss"] == pytest.approx(straight["loss"], rel=1e-6)


def test_the_logged_loss_is_the_mean_over_its_logging_window(dataset, tiny, tmp_path, capsys):
    every = train(str(dataset), replace(tiny, train={"steps": 3, "log_every": 1}), tmp_path / "a", tensorboard=False)
    per_step = [float(line.split("loss ")[1].split(" |")[0]) for line in capsys.readouterr().out.splitlines()
                if line.startswith("step ") and "loss " in line]  # fmt: skip
    windowed = train(str(dataset), replace(tiny, train={"steps": 3, "log_every": 3}), tmp_path / "b", tensorboard=False)
    assert len(per_step) == 3 and every["loss"] == pytest.approx(per_step[-1], rel=1e-3)
    assert windowed["loss"] == pytest.approx(sum(per_step) / 3, rel=1e-3)  # same batches and noise: a mean of three


def test_sample_writes_generated_beside_ground_truth(run_dir, dataset, tmp_path, capsys):
    out = tmp_path / "clip.mp4"
    assert main(["sample", "--checkpoint", str(run_dir), "--data", str(dataset), "--out", str(out), "--steps", "2"]) == 0
    frames = decode_frames(out.read_bytes(), range(9))
    assert frames.shape == (9, 32, 64, 3)
    assert "generated | ground truth" in capsys.readouterr().out


def test_overfitting_one_batch_halves_the_loss(dataset, tiny):
    config = replace(tiny, train={"lr": 3e-3})
    model, codec = build_model(config, None)
    examples = iter_examples(shard_urls(dataset), config.data)
    inputs = model_inputs(collate([next(examples), next(examples)]), codec, config.model)
    optimizer = make_optimizer(trainable_parameters(model), config.train)
    losses = []
    for _ in range(20):  # the same batch, noise and noise level every step
        loss = inputs_loss(model, inputs, config, step_generator(0, 0, 0))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] <= 0.5 * losses[0], losses


def test_lora_run_on_a_local_base(dataset, tiny, tmp_path):
    from worldclips.train.build import random_transformer, random_vae

    base = tmp_path / "base"
    random_transformer(tiny.model).save_pretrained(base / "transformer")
    random_vae(tiny.model).save_pretrained(base / "vae")
    config = replace(tiny, model={"lora_rank": 2}, train={"steps": 2})
    result = train(str(dataset), config, tmp_path / "run", base=base, tensorboard=False)
    from safetensors.torch import load_file

    saved = load_file(str(tmp_path / "run" / "checkpoints" / "step-00000002" / "model.safetensors"))
    assert saved and all("lora_" in k or "patch_embedding.c" in k or k.startswith("joint_tokens") for k in saved)
    assert result["step"] == 2
    assert main(["sample", "--checkpoint", str(tmp_path / "run"), "--data", str(dataset),
                 "--out", str(tmp_path / "s.mp4"), "--steps", "1"]) == 0  # fmt: skip


def error_of(capsys, *argv) -> str:
    code = main(list(argv))
    err = capsys.readouterr().err.strip()
    assert code != 0 and err.startswith("worldclips: error: ") and "\n" not in err, err
    return err


def test_bad_paths_and_configs_give_one_line_errors(dataset, run_dir, tmp_path, capsys):
    out = str(tmp_path / "new")
    assert "does not exist" in error_of(capsys, "train", "--data", str(tmp_path / "nope"), "--out", out)
    assert "no shards" in error_of(capsys, "train", "--data", str(tmp_path), "--out", out)
    assert "already holds a run" in error_of(capsys, "train", "--data", str(dataset), "--out", str(run_dir))
    assert "neither a preset" in error_of(capsys, "train", "--data", str(dataset), "--out", out, "--config", "huge")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model:\n  num_layer: 3\n")
    assert "model.num_layer: unknown field" in error_of(capsys, "train", "--data", str(dataset), "--out", out, "--config", str(bad))
    bad.write_text("data:\n  frames: 10\n")
    assert "data.frames: expected 4k + 1" in error_of(capsys, "train", "--data", str(dataset), "--out", out, "--config", str(bad))
    bad.write_text("train:\n  lr: fast\n")
    assert "train.lr: expected a number" in error_of(capsys, "train", "--data", str(dataset), "--out", out, "--config", str(bad))
    assert "--base" in error_of(capsys, "train", "--data", str(dataset), "--out", out, "--base", str(tmp_path))
    assert "--steps" in error_of(capsys, "train", "--data", str(dataset), "--out", out, "--steps", "0")
    assert "neither a run directory" in error_of(capsys, "sample", "--checkpoint", out, "--data", str(dataset), "--out", "x.mp4")
    assert not (tmp_path / "new").exists()


def test_a_failed_first_start_resumes_from_step_zero(dataset, config_file, tmp_path, capsys):
    """A first start that fails before its first checkpoint leaves config.json; rerunning the same
    command line with --resume starts from step 0, and only a different --config is refused, naming
    the differing fields."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text(json.dumps(load_config(config_file).to_dict()))  # what a failed start leaves
    assert "already holds a run" in error_of(capsys, "train", "--data", str(dataset), "--out", str(out))
    other = tmp_path / "other.yaml"
    values = yaml.safe_load(config_file.read_text())
    other.write_text(yaml.safe_dump({**values, "model": {"num_layers": 3}, "train": {**values["train"], "lr": 0.5}}))
    err = error_of(capsys, "train", "--data", str(dataset), "--out", str(out), "--resume", "--config", str(other))
    assert "model.num_layers" in err and "train.lr" in err and "data." not in err
    assert main(["train", "--data", str(dataset), "--out", str(out), "--resume", "--config", str(config_file), "--steps", "1",
                 "--no-tensorboard"]) == 0  # fmt: skip
    assert "trained to step 1" in capsys.readouterr().out


def test_corrupt_checkpoint_is_a_clear_error(dataset, tiny, tmp_path, capsys):
    run = tmp_path / "run"
    train(str(dataset), replace(tiny, train={"steps": 1}), run, tensorboard=False)
    weights = run / "checkpoints" / "step-00000001" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    assert "corrupt safetensors" in error_of(capsys, "train", "--data", str(dataset), "--out", str(run), "--resume", "--steps", "2")
    (run / "checkpoints" / "step-00000001" / "optimizer.pt").unlink()
    assert "optimizer.pt is missing" in error_of(capsys, "sample", "--checkpoint", str(run), "--data", str(dataset), "--out", str(tmp_path / "x.mp4"))


def test_presets_load():
    assert load_config("tiny").model.num_layers == 2
    big = load_config("wan-1.3b")
    assert (big.model.num_layers, big.model.num_heads * big.model.head_dim, big.model.ffn_dim) == (30, 1536, 8960)
    assert (big.data.frames, big.data.height, big.data.width) == (33, 480, 832)
    assert torch.__version__.startswith("2.13.0")


def test_exponent_numbers_read_as_numbers(tmp_path):
    """YAML 1.1 reads ``lr: 1e-3`` as a string; a float field takes it as 0.001, other strings stay errors."""
    from worldclips.train.config import config_from_dict

    assert config_from_dict({"train": {"lr": "1e-3", "timestep_shift": "+2.5E+0"}}, where="c").train.lr == 0.001
    with pytest.raises(ValueError, match="c: train.lr: expected a number, got 'fast'"):
        config_from_dict({"train": {"lr": "fast"}}, where="c")


def test_the_14b_preset_is_wan_14b_and_sharded():
    """Built on the meta device (no memory): Wan 2.1 14B's 14.29 B transformer parameters, trained with FSDP."""
    from worldclips.train.build import random_transformer
    from worldclips.train.model import ConditionedWan

    config = load_config("wan-14b")
    with torch.device("meta"):
        model = ConditionedWan(random_transformer(config.model), config.model)
    base = sum(p.numel() for name, p in model.named_parameters() if not name.startswith(("joint_tokens", "transformer.patch_embedding.c")))
    assert 14.28e9 < base < 14.30e9
    assert config.train.fsdp and config.model.gradient_checkpointing and config.model.num_heads * config.model.head_dim == 5120


def torchrun_train(dataset, config, out, steps, *extra):
    import subprocess
    import sys

    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "-m", "worldclips", "train",
               "--data", str(dataset), "--config", str(config), "--steps", str(steps), "--out", str(out),
               "--no-tensorboard", *extra]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_fsdp_trains_what_ddp_trains_on_two_cpu_processes(dataset, tmp_path):
    """The multi-GPU paths with gloo on the CPU. DDP and FSDP (sharded weights, gradients, AdamW
    and EMA; accumulation without reduction on the first micro-step) on the same batches and noise
    give the same weights, and an FSDP run resumed from its own (gathered) checkpoint continues
    exactly as the uninterrupted DDP run."""
    from safetensors.torch import load_file

    def write(name, fsdp):
        path = tmp_path / name
        path.write_text(yaml.safe_dump({"preset": "tiny", "data": {"height": 32, "width": 32},
                                        "train": {"grad_accum": 2, "warmup_steps": 1, "checkpoint_every": 1, "fsdp": fsdp}}))  # fmt: skip
        return path

    ddp, fsdp = tmp_path / "ddp", tmp_path / "fsdp"
    printed = torchrun_train(dataset, write("ddp.yaml", False), ddp, 3)
    assert "on 2 x cpu," in printed and printed.count("trained to step 3") == 1
    state = json.loads((ddp / "checkpoints" / "step-00000003" / "state.json").read_text())
    assert state["data"]["world_size"] == 2 and len(state["data"]["positions"]) == 2
    assert "on 2 x cpu (FSDP)" in torchrun_train(dataset, write("fsdp.yaml", True), fsdp, 2)
    torchrun_train(dataset, write("fsdp.yaml", True), fsdp, 3, "--resume")
    # Compared as functions: parameters whose gradient vanishes (cross-attention over the alike
    # null-text and zero joint tokens, key biases) get Adam updates of pure rounding noise.
    model, _ = build_model(load_config(str(tmp_path / "ddp.yaml")), None)
    generator = torch.Generator().manual_seed(0)
    x, cond, plucker = (torch.randn(2, c, 3, 4, 4, generator=generator) for c in (4, model.cond_channels, 24))
    joints = (torch.randn(2, 3, 9, 55, 3, generator=generator), torch.ones(2, 3, 55, dtype=torch.bool), torch.ones(2, 3, dtype=torch.bool))

    def output(run, step, name):
        model.load_state_dict(load_file(run / "checkpoints" / f"step-{step:08d}" / name), strict=name == "model.safetensors")
        with torch.no_grad():
            return model(x, torch.tensor([300.0, 700.0]), cond, plucker, None, joints)

    for name in ("model.safetensors", "ema.safetensors"):
        moved = float((output(ddp, 3, name) - output(ddp, 2, name)).abs().max())
        apart = float((output(ddp, 3, name) - output(fsdp, 3, name)).abs().max())
        assert moved > 1e-3 and apart < 1e-3 * moved, (name, moved, apart)


def test_data_positions_restore_only_for_the_same_layout(tiny):
    from worldclips.train.logs import TrainLog
    from worldclips.train.trainer import Distributed, restore_positions

    state = {"data": {"world_size": 1, "num_workers": 0, "num_shards": 3, "positions": [{"0": [2, 5]}]}}
    world = Distributed(0, 1, torch.device("cpu"))
    log = TrainLog(None, enabled=False)
    assert restore_positions(state, tiny, world, 3, log) == {0: (2, 5)}
    assert restore_positions(state, tiny, world, 4, log) == {0: (3, 0)}  # shards changed: next epoch
    two_workers = replace(tiny, data={"num_workers": 2})
    assert restore_positions(state, two_workers, world, 3, log) == {0: (3, 0), 1: (3, 0)}


def test_validation_loss_is_logged_and_deterministic(dataset, tiny, tmp_path, capsys):
    from worldclips.train.trainer import held_out_inputs, validation_loss

    config = replace(tiny, train={"steps": 3, "val_every": 2, "val_clips": 3})
    train(str(dataset), config, tmp_path / "run", tensorboard=False, val_data=str(dataset))
    lines = [line for line in capsys.readouterr().out.splitlines() if "val_loss" in line]
    assert [line.split()[1] for line in lines] == ["2/3", "3/3"]
    values = [float(line.rsplit("val_loss", 1)[1]) for line in lines]
    assert all(v == v and v > 0 for v in values)
    model, codec = build_model(config, None)
    inputs = held_out_inputs(str(dataset), config, codec, None, torch.device("cpu"))
    assert len(inputs.latents) == 3
    assert validation_loss(model, inputs, config) == validation_loss(model, inputs, config)


def test_optimizer_state_of_older_checkpoints_still_resumes(tiny):
    """Checkpoints before FSDP kept torch's index-keyed AdamW state: it loads without FSDP and
    is refused in one line with it; the state by names loads in both."""
    from worldclips.train.sharding import optimizer_state
    from worldclips.train.trainer import restore_optimizer

    model, _ = build_model(tiny, None)
    params = trainable_parameters(model)
    optimizer = make_optimizer(params, tiny.train)
    x, cond, plucker = torch.randn(2, 4, 3, 4, 4), torch.randn(2, model.cond_channels, 3, 4, 4), torch.randn(2, 24, 3, 4, 4)
    model(x, torch.tensor([500.0, 500.0]), cond, plucker).square().mean().backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    want = optimizer.state_dict()["state"][0]["exp_avg"]
    for saved in (optimizer.state_dict(), optimizer_state(model, optimizer)):
        fresh = make_optimizer(params, tiny.train)
        restore_optimizer(model, fresh, saved, fsdp=False, checkpoint="ckpt")
        assert torch.equal(fresh.state_dict()["state"][0]["exp_avg"], want)
    with pytest.raises(ValueError, match="checkpoint ckpt: optimizer.pt .*train.fsdp: false"):
        restore_optimizer(model, make_optimizer(params, tiny.train), optimizer.state_dict(), fsdp=True, checkpoint="ckpt")
