"""The generate job's configuration: defaults <- YAML file <- command-line flags, validated up front.

Every problem is reported as one ConfigError line naming the field (or the file) and what was
expected, before anything is written. With ``scenario`` (a scenario, a file or a mixture,
scenes.scenarios) the scenarios are loaded here and kept, resolved, in ``resolved_scenario``;
``frames``, ``fps`` and ``size`` then stay None (each clip draws them from its scenario) unless
they were given.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from worldclips.render.cycles.options import CyclesConfig
from worldclips.scenes.scene import MAX_SENSOR_NOISE
from worldclips.scenes.scene_config import SceneConfig
from worldclips.scenes.scenarios.mixture import ScenarioMixture
from worldclips.scenes.serialization import SpecError, from_jsonable, to_jsonable
from worldclips.scenes.textures import TextureSet
from worldclips.scenes.user_props import MeshAsset
from worldclips.scenes.yaml_files import read_yaml_mapping
from worldclips.shards.format.layer_registry import DEFAULT_LAYERS, LAYERS, MAX_TRACKS, REQUIRED_LAYERS
from worldclips.shards.format.schema import MAX_FRAMES, MAX_SIDE, RUN_NAME_PATTERN

BACKENDS = ("raster", "cycles")
LOOKS = ("photo", "flat")
NO_ENVIRONMENTS = "none"
MAX_CLIP_BYTES = 8 << 30  # rgb + depth + segmentation (+ surface layers) of one clip held in memory
SURFACE_BYTES_PER_PIXEL = 96  # the raster's surface read-back (48), normals and flow (24), temporaries
DEFAULT_FRAMES, DEFAULT_FPS, DEFAULT_SIZE = 48, 24.0, "256x256"


class ConfigError(ValueError):
    """A bad configuration value, file or flag; the message is one line."""


@dataclass(frozen=True)
class GenerateConfig:
    """Everything ``worldclips generate`` needs. ``size`` is WIDTHxHEIGHT in pixels.

    frames, fps, size: None only with a scenario (each clip draws them from its scenario).
    scenario: what ``--scenario`` asked for; split: ``--split`` (id / ood); resolved_scenario:
    the scenarios it names, loaded (scenes.scenarios.mixture), recorded with the run.
    """

    out: str
    clips: int = 8
    seed: int = 0
    frames: int | None = DEFAULT_FRAMES
    fps: float | None = DEFAULT_FPS
    size: str | None = DEFAULT_SIZE
    clips_per_shard: int = 4
    backend: str = "raster"
    look: str = "photo"  # photo (outfits, natural materials, daylight sky, filmic) or flat (debugging)
    supersample: int | None = None  # raster colour samples per pixel side (odd); None: 3 in the photo look, 1 flat
    # Photo look: each clip's sensor noise (render.sensor_noise) is drawn uniformly in [0, this]; the
    # value is its standard deviation at middle grey in linear RGB (0: no noise, e.g. 0.02 for a phone indoors).
    sensor_noise: float = 0.0
    # Raster backend: motion blur with the shutter open this many frames, centred on each frame
    # (0.5: a 180-degree shutter; 0: none), colour averaged over motion_blur_samples sub-frames
    # (render.motion_blur); the ground truth stays at the frame time. Cycles: cycles.motion_blur.
    motion_blur: float = 0.0
    motion_blur_samples: int = 5
    # HDRI maps (.exr/.hdr) lighting some photo-look clips; None: Blender's outdoor maps when
    # `worldclips setup cycles` installed them (resolved to their folder), "none": the analytic sky only.
    environment_dir: str | None = None
    # User meshes (OBJ, glTF, PLY, STL) described by props.yaml in this folder (scenes.user_props):
    # some random static props of the default scene are drawn from them. user_props: the folder
    # read at load (each file's sha256 and size), recorded with the run.
    prop_dir: str | None = None
    user_props: tuple[MeshAsset, ...] = ()
    # PBR texture sets (*_Color / *_Roughness / *_NormalGL images) described by textures.yaml in
    # this folder (scenes.textures): photo-look surfaces are drawn with them. textures: the
    # folder read at load (each image's sha256), recorded with the run.
    texture_dir: str | None = None
    textures: tuple[TextureSet, ...] = ()
    # Ground-truth layers written (shards.format.layer_registry): rgb, depth and seg always; any of
    # normals, flow (raster backend) and tracks (num_tracks point tracks per clip) on request.
    layers: tuple[str, ...] = DEFAULT_LAYERS
    num_tracks: int = 256
    smplx_model_dir: str | None = None
    motion_dir: str | None = None  # user motion files (AMASS .npz, BVH), scanned recursively; see scene.motions
    run_name: str | None = None
    scene: SceneConfig = field(default_factory=SceneConfig)
    cycles: CyclesConfig = field(default_factory=CyclesConfig)  # options of backend "cycles" (docs/cycles.md)
    # The render farm (shards.job.farm). None means "decide from the machine or the cluster".
    workers: int | None = None  # local Ray instance: one worker per core or GPU; with address: tasks at once
    address: str | None = None  # "auto" or HOST:PORT of a cluster started with `ray start`
    ray: bool = True  # false (--no-ray): a single process, for debugging
    gpus_per_task: float | None = None  # default: 1 when the cluster has GPUs, else 0
    task_timeout_s: float = 3600.0  # a shard task running longer is cancelled and retried
    task_retries: int = 3  # retries of a shard task whose worker died, timed out or raised
    max_in_flight: int | None = None  # shard tasks submitted at once (default: 2 per worker)
    max_redraws: int = 3  # re-draws of a clip whose scene cannot be built, rendered or verified
    scenario: str | None = None
    split: str | None = None
    resolved_scenario: ScenarioMixture | None = None

    @property
    def width(self) -> int:
        """Width of every clip (with a scenario and no size: of the renderer's first targets)."""
        return parse_size(self.size or DEFAULT_SIZE)[0]

    @property
    def height(self) -> int:
        return parse_size(self.size or DEFAULT_SIZE)[1]

    @property
    def fixed_size(self) -> tuple[int, int] | None:
        """(width, height) given for every clip, or None (drawn per clip from the scenario)."""
        return parse_size(self.size) if self.size is not None else None

    @property
    def run(self) -> str:
        """The run name used in sample keys (default: seed<seed>)."""
        return self.run_name if self.run_name is not None else f"seed{self.seed}"

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)


FIELDS = tuple(f.name for f in dataclasses.fields(GenerateConfig))


def parse_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", str(text))
    if not match:
        raise ConfigError(f"size: expected WIDTHxHEIGHT with positive integers, e.g. 256x256, got {text!r}")
    width, height = int(match.group(1)), int(match.group(2))
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise ConfigError(f"size: width and height must be within 1..{MAX_SIDE}, got {width}x{height}")
    if width % 2 or height % 2:
        raise ConfigError(f"size: expected even width and height (rgb.mp4 is H.264 4:2:0, which players need), got {width}x{height}")
    return width, height


def _check(config: GenerateConfig) -> GenerateConfig:
    def integer(name: str, low: int, high: int) -> None:
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(f"{name}: expected an integer in {low}..{high}, got {value!r}")

    if not isinstance(config.out, str) or not config.out.strip():
        raise ConfigError("out: expected an output directory path")
    mixture = config.resolved_scenario
    for name in ("frames", "fps", "size"):
        if getattr(config, name) is None and mixture is None:
            raise ConfigError(f"{name}: missing (only a scenario can leave it open)")
    integer("clips", 1, 10**8)
    integer("seed", 0, 2**63 - 1)
    if config.frames is not None:
        integer("frames", 1, MAX_FRAMES)
    integer("clips_per_shard", 1, 100_000)
    if config.fps is not None and (isinstance(config.fps, bool) or not isinstance(config.fps, (int, float)) or not 1.0 <= config.fps <= 240.0):
        raise ConfigError(f"fps: expected a number in 1..240, got {config.fps!r}")
    frames = config.frames if config.frames is not None else mixture.max_frames()
    pixels = config.width * config.height if config.size is not None else mixture.max_pixels()
    if frames > MAX_FRAMES:
        raise ConfigError(f"frames: a scenario's clips would have up to {frames} frames (limit {MAX_FRAMES}); give --frames")
    per_pixel = 9 + (SURFACE_BYTES_PER_PIXEL if any(LAYERS[name].surface_pass for name in config.layers) else 0)
    if frames * pixels * per_pixel > MAX_CLIP_BYTES:
        need = frames * pixels * per_pixel / 2**30
        raise ConfigError(f"frames x size: one clip would need {need:.1f} GiB of memory (limit {MAX_CLIP_BYTES >> 30})")
    if config.backend not in BACKENDS:
        raise ConfigError(f"backend: expected one of {list(BACKENDS)}, got {config.backend!r}")
    if config.look not in LOOKS:
        raise ConfigError(f"look: expected one of {list(LOOKS)}, got {config.look!r}")
    if config.supersample is not None and (isinstance(config.supersample, bool) or not isinstance(config.supersample, int)
                                           or config.supersample not in (1, 3, 5)):  # fmt: skip
        raise ConfigError(f"supersample: expected 1, 3 or 5 (odd: the centre sample is the pixel centre), got {config.supersample!r}")
    noise = config.sensor_noise
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0.0 <= noise <= MAX_SENSOR_NOISE:
        raise ConfigError(f"sensor_noise: expected a standard deviation at middle grey in [0, {MAX_SENSOR_NOISE}], got {noise!r}")
    if noise and config.look != "photo":
        raise ConfigError("sensor_noise: the flat debugging look has no camera model; use look: photo or sensor_noise: 0")
    blur, blur_samples = config.motion_blur, config.motion_blur_samples
    if isinstance(blur, bool) or not isinstance(blur, (int, float)) or not 0.0 <= blur <= 2.0:
        raise ConfigError(f"motion_blur: expected a shutter of 0 (none) to 2 frames, got {blur!r}")
    if isinstance(blur_samples, bool) or not isinstance(blur_samples, int) or blur_samples < 3 or blur_samples % 2 == 0 or blur_samples > 15:
        raise ConfigError(f"motion_blur_samples: expected an odd number from 3 to 15 (the middle one is the frame), got {blur_samples!r}")
    if blur and config.backend != "raster":
        raise ConfigError("motion_blur: the raster backend's option; Cycles blurs with cycles: {motion_blur: true, shutter: S}")
    surface = [name for name in config.layers if LAYERS[name].surface_pass]
    if surface and config.backend != "raster":
        raise ConfigError(f"layers: {', '.join(surface)} need the raster backend's surface pass; backend "
                          f"{config.backend} writes {', '.join(n for n in LAYERS if n not in surface)}")
    integer("num_tracks", 1, MAX_TRACKS)
    if config.run_name is not None and not RUN_NAME_PATTERN.match(str(config.run_name)):
        raise ConfigError(f"run_name: expected 1-64 letters, digits, '_' or '-', got {config.run_name!r}")
    _check_farm(config, integer)
    if config.motion_dir is not None:
        from worldclips.motions.files import scan_motion_dir

        try:
            scan_motion_dir(config.motion_dir)
        except ValueError as error:
            raise ConfigError(str(error)) from error
    return config


FARM_FIELDS = ("workers", "address", "ray", "gpus_per_task", "task_timeout_s", "task_retries", "max_in_flight")
ADDRESS_PATTERN = re.compile(r"^(auto|(ray://)?[A-Za-z0-9_.\-]+:\d{1,5}|(ray://)?\[[0-9A-Fa-f:]+\]:\d{1,5})$")


def _check_farm(config: GenerateConfig, integer) -> None:
    """The render-farm fields (they change how a dataset is made, never its bytes)."""

    def number(name: str, low: float, high: float) -> None:
        value = getattr(config, name)
        ok = not isinstance(value, bool) and isinstance(value, (int, float)) and low <= value <= high
        if not ok:
            raise ConfigError(f"{name}: expected a number in {low:g}..{high:g}, got {value!r}")

    if config.workers is not None:
        integer("workers", 1, 100_000)
    if config.max_in_flight is not None:
        integer("max_in_flight", 1, 1_000_000)
    integer("task_retries", 0, 100)
    integer("max_redraws", 0, 100)
    number("task_timeout_s", 1, 30 * 86400)
    if not isinstance(config.ray, bool):
        raise ConfigError(f"ray: expected true or false, got {config.ray!r}")
    if config.address is not None:
        if not isinstance(config.address, str) or not ADDRESS_PATTERN.match(config.address):
            raise ConfigError(f"address: expected 'auto' or HOST:PORT of a Ray cluster, got {config.address!r}")
        if not config.ray:
            raise ConfigError("address: joining a Ray cluster needs Ray; drop --no-ray (ray: false)")
    if config.gpus_per_task is not None:
        number("gpus_per_task", 0, 64)
        if config.gpus_per_task > 1 and config.gpus_per_task != int(config.gpus_per_task):
            raise ConfigError(f"gpus_per_task: above 1 it must be a whole number, got {config.gpus_per_task!r}")


def output_fields(config: GenerateConfig) -> dict[str, Any]:
    """The fields that decide the dataset's bytes (not where or how it is rendered)."""
    values = config.to_dict()
    for name in ("out", *FARM_FIELDS):
        values.pop(name)
    return values


def load_yaml_config(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping with the strict safe loader (scenes.yaml_files); errors name the file."""
    return read_yaml_mapping(Path(path), "config", ConfigError)


def resolve_config(file_values: dict[str, Any], flag_values: dict[str, Any], source: str = "config") -> GenerateConfig:
    """Defaults, then the file's values, then flags that were given (not None)."""
    merged: dict[str, Any] = {}
    for origin, values in ((source, file_values), ("flags", flag_values)):
        for name, value in values.items():
            if name not in FIELDS:
                raise ConfigError(f"{origin}: unknown field {name!r} (expected one of {', '.join(FIELDS)})")
            if value is not None:
                merged[name] = value
    if "out" not in merged:
        raise ConfigError("out: missing (give --out DIR or 'out:' in the config file)")
    _resolve_scenario(merged)
    if isinstance(merged.get("size"), (list, tuple)) and len(merged["size"]) == 2:
        merged["size"] = f"{merged['size'][0]}x{merged['size'][1]}"
    if merged.get("size") is not None:
        merged["size"] = str(merged["size"])
    for name in ("out", "smplx_model_dir", "motion_dir", "environment_dir", "prop_dir", "texture_dir"):
        value = merged.get(name)
        if value is not None and not isinstance(value, (str, Path)):
            raise ConfigError(f"{name}: expected a path (text), got {type(value).__name__} {value!r}"[:200])
    merged["out"] = str(merged["out"])
    if merged["out"].startswith("memory://"):
        raise ConfigError("out: memory:// lives only as long as the process; give a folder or a bucket URL")
    if "smplx_model_dir" in merged:
        merged["smplx_model_dir"] = str(merged["smplx_model_dir"])
    scene = merged.pop("scene", None)
    if merged.get("motion_dir") is not None:
        merged["motion_dir"] = str(merged["motion_dir"])
        scene = dict(scene) if isinstance(scene, dict) else ({} if scene is None else scene)
        if isinstance(scene, dict):
            if scene.get("motion_dir") not in (None, merged["motion_dir"]):
                raise ConfigError(f"scene.motion_dir: {scene['motion_dir']!r} differs from motion_dir {merged['motion_dir']!r}")
            scene["motion_dir"] = merged["motion_dir"]
    elif isinstance(scene, dict) and scene.get("motion_dir") is not None:
        merged["motion_dir"] = str(scene["motion_dir"])
    try:
        scene_config = from_jsonable(SceneConfig, scene if scene is not None else {}, "scene")
        cycles = merged.pop("cycles", None)
        cycles_config = from_jsonable(CyclesConfig, cycles if cycles is not None else {}, "cycles")
    except SpecError as error:
        raise ConfigError(str(error)) from error
    merged["environment_dir"] = _resolve_environment_dir(merged.get("environment_dir"))
    merged.pop("user_props", None)  # a saved config's record: the folder is read again
    if merged.get("prop_dir") is not None:
        merged["prop_dir"], merged["user_props"] = _resolve_prop_dir(merged["prop_dir"])
    merged.pop("textures", None)  # likewise
    if merged.get("texture_dir") is not None:
        merged["texture_dir"], merged["textures"] = _resolve_texture_dir(merged["texture_dir"])
    merged["layers"] = parse_layers(merged.get("layers", DEFAULT_LAYERS))
    try:
        config = GenerateConfig(**merged, scene=scene_config, cycles=cycles_config)
    except TypeError as error:
        raise ConfigError(str(error)) from error
    return _check(config)


def default_map_dir() -> Path | None:
    """Blender's world maps in the Cycles environment (``worldclips setup cycles``), if installed."""
    from worldclips.render.cycles.environment import default_env_dir
    from worldclips.scenes.environments import blender_map_dir

    return blender_map_dir(default_env_dir())


def parse_layers(value) -> tuple[str, ...]:
    """``layers`` as a list or "a,b,c" text -> the layers in registry order, the required ones included."""
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"layers: expected a list of layer names ({', '.join(LAYERS)}), got {value!r}"[:200])
    names = [n.strip() for n in names if n.strip()]
    unknown = [n for n in names if n not in LAYERS]
    if unknown:
        raise ConfigError(f"layers: unknown layer {unknown[0]!r} (expected some of {', '.join(LAYERS)})"[:200])
    return tuple(name for name in LAYERS if name in names or name in REQUIRED_LAYERS)


def _resolve_environment_dir(value) -> str:
    """The folder of HDRI maps (checked), or "none"."""
    from worldclips.scenes.environments import EnvironmentError_, list_maps

    if value is None:
        found = default_map_dir()
        return str(found) if found is not None else NO_ENVIRONMENTS
    if str(value) == NO_ENVIRONMENTS:
        return NO_ENVIRONMENTS
    try:
        list_maps(Path(str(value)).expanduser())
    except EnvironmentError_ as error:
        raise ConfigError(str(error)) from None
    return str(Path(str(value)).expanduser().resolve())


def _resolve_prop_dir(value) -> tuple[str, tuple[MeshAsset, ...]]:
    """The user prop folder (absolute) and its meshes, read and checked."""
    from worldclips.scenes.user_props import PropFolderError, read_prop_folder

    return _read_folder(value, read_prop_folder, PropFolderError)


def _resolve_texture_dir(value) -> tuple[str, tuple[TextureSet, ...]]:
    """The texture folder (absolute) and its sets, read and checked."""
    from worldclips.scenes.textures import TextureFolderError, read_texture_folder

    return _read_folder(value, read_texture_folder, TextureFolderError)


def _read_folder(value, read, error: type[Exception]) -> tuple[str, tuple]:
    """(absolute folder, what ``read`` finds in it); ``error`` becomes a ConfigError of one line."""
    folder = Path(str(value)).expanduser().resolve()
    try:
        return str(folder), read(folder)
    except error as problem:
        raise ConfigError(str(problem)) from None


def environment_maps(config: GenerateConfig) -> tuple[Path, ...]:
    """The maps photo-look clips of this config draw from (Blender's: the outdoor daylight ones)."""
    from worldclips.scenes.environments import OUTDOOR_DEFAULT_MAPS, list_maps

    if config.look != "photo" or config.environment_dir in (None, NO_ENVIRONMENTS):
        return ()
    folder = Path(config.environment_dir)
    default = default_map_dir()
    names = OUTDOOR_DEFAULT_MAPS if default is not None and folder == default else None
    return tuple(list_maps(folder, names))


def _resolve_scenario(merged: dict[str, Any]) -> None:
    """Load the scenarios ``scenario`` names (or keep the resolved ones a saved config recorded)
    into ``resolved_scenario``; frames, fps and size not given stay open (None)."""
    from worldclips.scenes.scenarios.loader import ScenarioError
    from worldclips.scenes.scenarios.mixture import load_mixture

    source, split, recorded = merged.get("scenario"), merged.get("split"), merged.pop("resolved_scenario", None)
    if source is None:
        if recorded is not None or split is not None:
            raise ConfigError(f"{'split' if split is not None else 'resolved_scenario'}: only used with a scenario (--scenario)")
        return
    if split not in (None, "id", "ood"):
        raise ConfigError(f"split: expected 'id' or 'ood', got {split!r}")
    mixture = None
    if isinstance(recorded, dict) and recorded.get("source") == str(source) and recorded.get("split") == split:
        try:
            mixture = from_jsonable(ScenarioMixture, recorded, "resolved_scenario")
        except SpecError as error:
            raise ConfigError(str(error)) from error
    if mixture is None:
        try:
            mixture = load_mixture(str(source), split)
        except ScenarioError as error:
            raise ConfigError(str(error)) from error
    if split is not None and not any(e.scenario.layout.kind == "physics" and e.scenario.layout.has_splits for e in mixture.entries):
        raise ConfigError(f"split: scenario {source!r} has no id/ood ranges (only physics_uniform, physics_collision, physics_parabola and scenarios like them)")
    merged["scenario"], merged["resolved_scenario"] = str(source), mixture
    for name in ("frames", "fps", "size"):
        merged.setdefault(name, None)


def config_yaml(config: GenerateConfig) -> str:
    """The resolved config as YAML (saved beside the shards)."""
    return yaml.safe_dump(config.to_dict(), sort_keys=True)
