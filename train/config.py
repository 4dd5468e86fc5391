"""Run configuration: three frozen dataclasses (data, model, optimisation) and their loading.

A config is a preset name (``tiny``, ``wan-1.3b``) or a YAML file with up to three sections,
``data``, ``model`` and ``train``, whose fields are those below; a file may start from a preset
with ``preset: tiny``. Unknown fields are errors naming the field.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from worldclips.scenes.yaml_files import read_yaml_mapping

DEPTH_MODES = ("log", "normalized", "none")


@dataclass(frozen=True)
class DataConfig:
    """What the loader yields: batches of ``frames`` frames at ``height`` x ``width``.

    video (B, frames, 3, height, width) uint8; ``frames`` must be 4k + 1 (the VAE packs the first
    frame alone, then 4 frames per latent frame); height and width multiples of 16.
    """

    frames: int = 9
    height: int = 64
    width: int = 64
    strides: tuple[int, ...] = (1, 2)  # temporal strides drawn per sample (those that fit the clip)
    batch_size: int = 2
    num_workers: int = 0
    shuffle_buffer: int = 16  # samples held (undecoded) for sample-level shuffling
    resampled: bool = False  # shards drawn with replacement per worker (multi-node), else split
    max_persons: int = 3  # persons kept per clip (padded with person_mask false); the default scene has up to 3
    seed: int = 0
    unverified: bool = False  # also train on scenario clips kept with verified: false (docs/scenarios.md)


@dataclass(frozen=True)
class ModelConfig:
    """A Wan video diffusion transformer + Wan VAE, with the 3D conditions added.

    Without ``--base`` the transformer and VAE are built from these dims with random weights;
    with ``--base`` they come from the local diffusers folder and these dims are ignored.
    Tokens: (1 + (frames - 1) / 4) x (height / 16) x (width / 16) for patch (1, 2, 2).
    """

    num_layers: int = 2
    num_heads: int = 2
    head_dim: int = 12  # even; rotary embedding splits it into time, height and width parts
    ffn_dim: int = 48
    text_dim: int = 16
    text_len: int = 4  # length of the null text embedding (zeros) when no text encoder is used
    freq_dim: int = 32
    vae_base_dim: int = 8
    vae_z_dim: int = 4
    vae_dim_mult: tuple[int, ...] = (1, 1, 1, 1)
    vae_num_res_blocks: int = 1
    depth: str = "log"  # depth condition: log | normalized | none
    pose_maps: bool = True  # skeleton maps rendered in the image, VAE-encoded
    pose_grid: bool = True  # body-part maps computed on the latent grid from the 2D joints (no VAE)
    pose_tokens: bool = True  # 3D joints in the camera frame as extra context tokens
    first_frame: bool = True  # VAE latents of the first frame + a 4-channel frame mask
    camera: bool = True  # Plücker ray maps (relative to frame 0) through the camera adapter
    camera_hidden: int = 32  # width of the camera adapter
    reprojection: bool = True  # the first frame reprojected into every frame by its depth and the camera, + coverage mask
    lora_rank: int = 0  # 0: full fine-tune; > 0: LoRA on attention and FFN linears (peft)
    lora_alpha: float = 0.0  # 0 means lora_rank
    gradient_checkpointing: bool = False
    text_encoder: bool = False  # encode clip captions with BASE/text_encoder (needs --base); else null text
    # Condition dropout (train.guidance): the probability that a sample trains without each
    # condition; it teaches the unconditional velocities that guidance needs and, for the first
    # frame, makes the model draw the scene from the 3D conditions alone.
    drop_first_frame: float = 0.1
    drop_camera: float = 0.1
    drop_reprojection: float = 0.1
    drop_depth: float = 0.1
    drop_pose_maps: float = 0.1
    drop_pose_grid: float = 0.1
    drop_pose_tokens: float = 0.1
    drop_text: float = 0.1


@dataclass(frozen=True)
class OptimConfig:
    """Flow-matching training: AdamW, warmup + cosine LR, accumulation, clipping, EMA."""

    steps: int = 100
    lr: float = 1e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 5
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.99)
    grad_accum: int = 1
    grad_clip: float = 1.0
    ema_decay: float = 0.99
    timestep_shift: float = 1.0  # sigma shift for training and sampling (Wan uses 3-5 at 480p)
    log_every: int = 1
    checkpoint_every: int = 50
    keep_checkpoints: int = 3  # older checkpoints are deleted once a newer one is complete
    bf16: bool = True  # bf16 autocast (GPU only); with fsdp, bf16 block weights while they compute
    fsdp: bool = False  # under torchrun: shard weights, gradients, AdamW and EMA across ranks (train.sharding), else DDP
    val_every: int = 0  # with --val-data: the held-out loss every N steps (0: at the end only)
    val_clips: int = 8  # held-out clips of that loss (fixed crops, noise and noise levels)
    seed: int = 0


@dataclass(frozen=True)
class RunConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: OptimConfig = field(default_factory=OptimConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# What the Wan 2.1 text-to-video models share: the VAE, the umT5 text width, the loader and optimiser.
WAN_DATA = {"frames": 33, "batch_size": 1, "num_workers": 4, "shuffle_buffer": 64}
WAN_MODEL = {"text_dim": 4096, "text_len": 512, "freq_dim": 256, "vae_base_dim": 96, "vae_z_dim": 16,
             "vae_dim_mult": [1, 2, 4, 4], "vae_num_res_blocks": 2, "camera_hidden": 256, "gradient_checkpointing": True}
WAN_TRAIN = {"lr": 1e-5, "warmup_steps": 100, "weight_decay": 0.01, "ema_decay": 0.999, "log_every": 10}

PRESETS: dict[str, dict] = {
    "tiny": {},
    # Wan 2.1 T2V 1.3B dims at 480p x 33 frames (random init unless --base is given).
    "wan-1.3b": {
        "data": {**WAN_DATA, "height": 480, "width": 832},
        "model": {**WAN_MODEL, "num_layers": 30, "num_heads": 12, "head_dim": 128, "ffn_dim": 8960},
        "train": {**WAN_TRAIN, "timestep_shift": 3.0, "checkpoint_every": 500},
    },
    # Wan 2.1 T2V 14B dims (40 layers, 5120 wide, 14.3 B parameters) at 720p x 33 frames: too large
    # for one GPU with AdamW, so sharded across the torchrun ranks (train.fsdp) with activation
    # checkpointing; bf16 weights while a block computes, float32 master weights and moments.
    "wan-14b": {
        "data": {**WAN_DATA, "height": 720, "width": 1280},
        "model": {**WAN_MODEL, "num_layers": 40, "num_heads": 40, "head_dim": 128, "ffn_dim": 13824},
        "train": {**WAN_TRAIN, "timestep_shift": 5.0, "checkpoint_every": 250, "fsdp": True},
    },
}  # fmt: skip


def _build(cls, values: dict, where: str, section: str):
    if not isinstance(values, dict):
        raise ValueError(f"{where}: {section}: expected a mapping of fields, got {type(values).__name__}")
    names = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in names:
            raise ValueError(f"{where}: {section}.{key}: unknown field (expected one of: {', '.join(names)})")
        kwargs[key] = _coerce(value, names[key].default, f"{where}: {section}.{key}")
    return cls(**kwargs)


FLOAT_TEXT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def _coerce(value, default, where: str):
    """Check a value against the type of the field's default; lists become tuples."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{where}: expected true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where}: expected an integer, got {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, str) and FLOAT_TEXT.fullmatch(value.strip()):  # YAML 1.1 reads 1e-3 as a string
            value = float(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if isinstance(default, tuple):
        if not isinstance(value, (list, tuple)) or not value:
            raise ValueError(f"{where}: expected a non-empty list, got {value!r}")
        return tuple(_coerce(v, default[0], where) for v in value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ValueError(f"{where}: expected a string, got {value!r}")
        return value
    raise AssertionError(where)


def _merge(base: dict, override: dict) -> dict:
    merged = {k: dict(v) for k, v in base.items()}
    for section, values in override.items():
        if isinstance(values, dict) and isinstance(merged.get(section), dict):
            merged[section] = {**merged[section], **values}
        else:
            merged[section] = values
    return merged


def config_from_dict(values: dict, where: str = "config") -> RunConfig:
    """Build and check a RunConfig from ``{"data": {...}, "model": {...}, "train": {...}}``."""
    if not isinstance(values, dict):
        raise ValueError(f"{where}: expected a mapping with data/model/train sections")
    values = dict(values)
    preset = values.pop("preset", None)
    if preset is not None:
        if preset not in PRESETS:
            raise ValueError(f"{where}: preset: unknown preset {preset!r} (expected one of: {', '.join(PRESETS)})")
        values = _merge(PRESETS[preset], values)
    sections = {"data": DataConfig, "model": ModelConfig, "train": OptimConfig}
    for key in values:
        if key not in sections:
            raise ValueError(f"{where}: {key}: unknown section (expected preset, data, model or train)")
    config = RunConfig(**{name: _build(cls, values.get(name, {}), where, name) for name, cls in sections.items()})
    check_config(config, where)
    return config


def check_config(config: RunConfig, where: str = "config") -> None:
    d, m, t = config.data, config.model, config.train
    checks = [
        (d.frames >= 1 and (d.frames - 1) % 4 == 0, "data.frames", f"4k + 1 (1, 5, 9, ...), got {d.frames}"),
        (d.height >= 16 and d.height % 16 == 0, "data.height", f"a positive multiple of 16, got {d.height}"),
        (d.width >= 16 and d.width % 16 == 0, "data.width", f"a positive multiple of 16, got {d.width}"),
        (all(s >= 1 for s in d.strides), "data.strides", f"positive integers, got {list(d.strides)}"),
        (d.batch_size >= 1, "data.batch_size", f"at least 1, got {d.batch_size}"),
        (d.num_workers >= 0, "data.num_workers", f"at least 0, got {d.num_workers}"),
        (d.shuffle_buffer >= 1, "data.shuffle_buffer", f"at least 1, got {d.shuffle_buffer}"),
        (d.max_persons >= 1, "data.max_persons", f"at least 1, got {d.max_persons}"),
        (m.num_layers >= 1 and m.num_heads >= 1, "model.num_layers", "num_layers and num_heads at least 1"),
        (m.head_dim >= 6 and m.head_dim % 2 == 0, "model.head_dim", f"an even number >= 6, got {m.head_dim}"),
        (m.depth in DEPTH_MODES, "model.depth", f"one of {', '.join(DEPTH_MODES)}, got {m.depth!r}"),
        (m.lora_rank >= 0, "model.lora_rank", f"at least 0, got {m.lora_rank}"),
        *[(0.0 <= getattr(m, name) <= 1.0, f"model.{name}", f"a probability in [0, 1], got {getattr(m, name)}")
          for name in DROPOUT_FIELDS],
        (len(m.vae_dim_mult) == 4, "model.vae_dim_mult", f"4 entries, got {list(m.vae_dim_mult)}"),
        (t.steps >= 1, "train.steps", f"at least 1, got {t.steps}"),
        (t.lr > 0, "train.lr", f"positive, got {t.lr}"),
        (t.grad_accum >= 1, "train.grad_accum", f"at least 1, got {t.grad_accum}"),
        (0.0 <= t.ema_decay < 1.0, "train.ema_decay", f"in [0, 1), got {t.ema_decay}"),
        (len(t.betas) == 2, "train.betas", f"two numbers, got {list(t.betas)}"),
        (t.timestep_shift > 0, "train.timestep_shift", f"positive, got {t.timestep_shift}"),
        (t.log_every >= 1 and t.checkpoint_every >= 1, "train.log_every", "log_every and checkpoint_every at least 1"),
        (t.keep_checkpoints >= 1, "train.keep_checkpoints", f"at least 1, got {t.keep_checkpoints}"),
        (t.val_every >= 0 and t.val_clips >= 1, "train.val_every", "val_every at least 0 and val_clips at least 1"),
    ]  # fmt: skip
    for ok, name, expected in checks:
        if not ok:
            raise ValueError(f"{where}: {name}: expected {expected}")


def load_config(spec: str | Path) -> RunConfig:
    """A preset name or a YAML/JSON file path -> RunConfig."""
    text = str(spec)
    if text in PRESETS:
        return config_from_dict({"preset": text}, where=text)
    path = Path(text)
    if not path.is_file():
        raise FileNotFoundError(f"--config: {text} is neither a preset ({', '.join(PRESETS)}) nor a file")
    values = read_yaml_mapping(path, "train config", ValueError)
    return config_from_dict(values, where=str(path))


def replace(config: RunConfig, **sections: dict) -> RunConfig:
    """A copy with fields replaced per section, e.g. replace(c, train={"steps": 3})."""
    changed = {name: dataclasses.replace(getattr(config, name), **values) for name, values in sections.items()}
    new = dataclasses.replace(config, **changed)
    check_config(new)
    return new


def save_config(config: RunConfig, path: Path) -> None:
    path.write_text(json.dumps(config.to_dict(), indent=2) + "\n")


DROPOUT_FIELDS = tuple(f"drop_{c}" for c in ("first_frame", "camera", "reprojection", "depth", "pose_maps", "pose_grid", "pose_tokens", "text"))


ADDED_OFF = {"reprojection": False, "pose_grid": False}  # conditions added later: off in runs saved before them


def read_config(path: Path) -> RunConfig:
    """A run's saved config.json. A run saved before condition dropout existed keeps training
    without it (its missing drop_* fields read as 0, not as today's defaults), and one saved
    before a condition existed (ADDED_OFF) without that condition."""
    try:
        values = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: unreadable run config ({error})") from None
    model = values.get("model") if isinstance(values, dict) else None
    if isinstance(model, dict):
        values = {**values, "model": {**{name: 0.0 for name in DROPOUT_FIELDS}, **ADDED_OFF, **model}}
    return config_from_dict(values, where=str(path))
