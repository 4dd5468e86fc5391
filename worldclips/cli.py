"""Command line: ``worldclips generate | scenarios | preview | validate | motions check | train | sample``. Wiring only, no logic of its own."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_USAGE = 2


def _generate(args: argparse.Namespace) -> int:
    from worldclips.shards.job.config import load_yaml_config, resolve_config
    from worldclips.shards.job.generate import generate

    file_values = load_yaml_config(args.config) if args.config else {}
    flags = {name: getattr(args, name) for name in args.config_fields}
    config = resolve_config(file_values, flags, source=str(args.config or "config"))
    out = generate(config, progress=not args.quiet, overwrite=args.overwrite, resume=args.resume)
    print(f"wrote {config.clips} clips to {out}")
    if config.resolved_scenario is not None:
        _report_scenarios(out)
    return 0


def _report_scenarios(out) -> None:
    import json

    from worldclips.shards.job.acceptance import report_lines
    from worldclips.shards.format.storage import open_storage

    summary = json.loads(open_storage(str(out)).read_bytes("manifest.json"))["summary"]
    for line in report_lines(summary.get("scenarios", {})):
        print(line)
    unverified = summary.get("unverified_clips", [])
    if unverified:
        print(f"warning: {len(unverified)} clip(s) lack their scenario's properties after every re-draw and are kept marked "
              f"verified: false: {', '.join(unverified[:5])}{' ...' if len(unverified) > 5 else ''} (manifest.json: failures)", file=sys.stderr)


def _scenarios(args: argparse.Namespace) -> int:
    from worldclips.scenes.scenarios.loader import describe, preset_names, resolved_yaml

    if args.scenarios_command == "list":
        names = preset_names()
        width = max(len(n) for n in names)
        for name in names:
            print(f"{name:<{width}}  {describe(name)}")
        return 0
    text = resolved_yaml(args.name)
    print(f"# {args.name}: every field, with its extends chain merged and defaults filled in (docs/scenarios.md)")
    print(text, end="")
    return 0


def _motions_check(args: argparse.Namespace) -> int:
    from worldclips.motions.quality import check_command

    return check_command(args.target, args.smplx_model_dir)


def _preview(args: argparse.Namespace) -> int:
    from worldclips.shards.format.preview import write_previews
    from worldclips.shards.format.storage import is_url

    if is_url(args.out):
        raise ValueError(f"preview: --out: expected a local folder, got {args.out}")
    if not is_url(args.dataset) and not Path(args.dataset.removeprefix("file://")).is_dir():
        raise ValueError(f"preview: {args.dataset} is not a directory")
    written = write_previews(args.dataset, args.out, max_clips=args.max_clips)
    if not written:
        raise ValueError(f"preview: no samples found in {args.dataset}")
    print(f"wrote {len(written) // 2} previews (mp4 + png) to {args.out}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from worldclips.shards.format.storage import is_url
    from worldclips.shards.format.validate import validate_dataset

    if args.cross_check and is_url(args.dataset):
        raise ValueError("validate: --cross-check reads local datasets only (it re-renders each clip)")
    report = validate_dataset(args.dataset, decode_video=not args.no_video)
    for line in report.errors:
        print(f"FAIL {line}")
    for line in report.warnings:
        print(f"WARN {line}")
    problems = len(report.errors)
    if args.cross_check and report.shards:
        from worldclips.shards.job.crosscheck import cross_check_dataset

        for result in cross_check_dataset(args.dataset):
            verdict = "ok" if result.ok else "FAIL"
            figures = result.error or result.check.summary()
            print(f"cross-check {result.key} ({result.stored} vs {result.reference}): {verdict}: {figures}")
            problems += 0 if result.ok else 1
    status = ("OK" if problems == 0 else f"{problems} problem(s)") + (f", {len(report.warnings)} warning(s)" if report.warnings else "")
    print(f"{status}: {report.shards} shards, {report.samples} samples checked in {args.dataset}")
    return 0 if problems == 0 else 1


def _setup(args: argparse.Namespace) -> int:
    from worldclips.render.cycles import create_environment

    create_environment(args.env)
    return 0


TRAIN_EXTRA_MODULES = ("torch", "diffusers", "peft", "transformers", "safetensors")


def _require_train_extra(command: str) -> None:
    """One line naming the extra when the trainer's libraries are not installed."""
    import importlib

    missing = []
    for name in TRAIN_EXTRA_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ModuleNotFoundError(
            f"{command} needs the trainer's libraries ({', '.join(missing)} missing): pip install 'worldclips[train]'"
        )


def _encode(args: argparse.Namespace) -> int:
    _require_train_extra("worldclips encode")
    from worldclips.train.config import load_config
    from worldclips.train.latent_cache import encode_dataset
    from worldclips.train.trainer import build_model

    config = load_config(args.config or "tiny")
    _, codec = build_model(config, Path(args.base) if args.base else None)
    manifest = encode_dataset(args.data, config, codec, Path(args.out), crops=args.crops,
                              progress=(lambda line: None) if args.quiet else print)  # fmt: skip
    print(f"wrote {manifest['samples']} cached crops in {len(manifest['shards'])} shards to {args.out}")
    return 0


def _train(args: argparse.Namespace) -> int:
    _require_train_extra("worldclips train")
    from worldclips.train.config import load_config
    from worldclips.train.trainer import train

    if args.steps is not None and args.steps < 1:
        raise ValueError(f"--steps: expected a positive integer, got {args.steps}")
    config = None if args.resume and args.config is None else load_config(args.config or "tiny")
    result = train(args.data, config, Path(args.out), resume=args.resume, base=Path(args.base) if args.base else None,
                   steps=args.steps, tensorboard=not args.no_tensorboard, latents=args.latents,
                   val_data=args.val_data)  # fmt: skip
    if result["rank"] == 0:
        print(f"trained to step {result['step']} (loss {result['loss']:.4f}); checkpoint {result['checkpoint']}")
    return 0


def _sample(args: argparse.Namespace) -> int:
    _require_train_extra("worldclips sample")
    from worldclips.train.sample import sample_clip

    if args.steps < 1:
        raise ValueError(f"--steps: expected a positive integer, got {args.steps}")
    result = sample_clip(Path(args.checkpoint), args.data, Path(args.out), key=args.key, steps=args.steps,
                         seed=args.seed, base=Path(args.base) if args.base else None, guidance=args.guidance,
                         without=args.without)  # fmt: skip
    print(f"wrote {args.out}: {result['frames']} frames of {result['key']}, generated | ground truth ({result['checkpoint']})")
    return 0


def _integer(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    return value


class OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line naming the flag (the usage text stays available with --help)."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"worldclips: error: {message} (see {self.prog} --help)\n")


def _eval(args) -> int:
    from worldclips.train.evaluate import effects_table, evaluate, write_report

    try:
        levels = tuple(float(v) for v in args.noise_levels.split(",") if v.strip())
    except ValueError:
        raise ValueError(f"--noise-levels: expected numbers in (0, 1], got {args.noise_levels!r}") from None
    if not levels or not all(0.0 < v <= 1.0 for v in levels):
        raise ValueError(f"--noise-levels: expected numbers in (0, 1], got {args.noise_levels!r}")
    if args.clips < 2 or args.steps < 1 or args.samples < 0:
        raise ValueError("--clips: at least 2; --steps: at least 1; --samples: at least 0")
    report = evaluate(Path(args.checkpoint), args.data, clips=args.clips, noise_levels=levels, samples=args.samples,
                      steps=args.steps, seed=args.seed, base=Path(args.base) if args.base else None,
                      camera_sfm=not args.no_camera_sfm)  # fmt: skip
    write_report(report, Path(args.out))
    print(effects_table(report))
    print(f"wrote {args.out} ({report['clips']} clips of {args.data}, {report['checkpoint']})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="worldclips", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    gen = commands.add_parser("generate", help="render clips with exact 3D ground truth into WebDataset shards")
    fields: list[str] = []  # dests of the flags that are also config fields (shards.job.config)

    def config_flag(*names, **kwargs) -> None:
        fields.append(gen.add_argument(*names, **kwargs).dest)

    config_flag("--out", help="output directory (must not already hold a dataset)")
    config_flag("--clips", type=_integer, help="number of clips (default 8)")
    config_flag("--seed", type=_integer, help="run seed (default 0)")
    config_flag("--frames", type=_integer, help="frames per clip (default 48, or the scenario's duration)")
    config_flag("--fps", type=float, help="frames per second (default 24, or the scenario's)")
    config_flag("--size", help="WIDTHxHEIGHT in pixels (default 256x256, or the scenario's resolution)")
    config_flag("--clips-per-shard", type=_integer, help="clips per shard file (default 4)")
    config_flag("--backend", help="renderer: raster (default) or cycles (after `worldclips setup cycles`)")
    config_flag("--look", help="photo (default: clothed people, natural materials, daylight sky) or flat (debugging)")
    config_flag("--environment-dir", help="folder of HDRI maps (.exr/.hdr) lighting photo-look clips, or 'none' (default: Blender's outdoor maps if installed)")
    config_flag("--prop-dir", help="folder of OBJ/glTF/PLY/STL meshes with a props.yaml (category, height in m) that some static props are drawn from")
    config_flag("--texture-dir", help="folder of PBR texture sets (*_Color, *_Roughness, *_NormalGL images) with a textures.yaml (uses, size in m) that photo-look surfaces are drawn with")
    config_flag("--supersample", type=_integer, help="raster colour samples per pixel side: 1, 3 or 5 (default 3 in the photo look, 1 flat)")
    config_flag("--sensor-noise", type=float, help="photo look: largest sensor noise drawn per clip, std at middle grey in linear RGB (default 0: none; e.g. 0.02)")
    config_flag("--motion-blur", type=float, help="raster: shutter in frames centred on each frame, e.g. 0.5 (default 0: none); ground truth stays at the frame time")
    config_flag("--motion-blur-samples", type=_integer, help="raster motion blur: sub-frames averaged per frame, odd, 3-15 (default 5)")
    config_flag("--layers", help="ground-truth layers, comma-separated: rgb,depth,seg (always) and any of normals,flow,tracks")
    config_flag("--num-tracks", type=_integer, help="point tracks per clip with the tracks layer (default 256)")
    config_flag("--smplx-model-dir", help="directory holding SMPLX_NEUTRAL.npz (licensed body model)")
    config_flag("--motion-dir", help="AMASS .npz / BVH files (searched recursively) that drive the characters")
    config_flag("--run-name", help="prefix of sample keys (default seed<seed>)")
    gen.add_argument("--config", help="YAML file of the same fields; flags override it")
    gen.add_argument("--overwrite", action="store_true", help="replace a dataset already in --out")
    gen.add_argument("--resume", action="store_true", help="keep the verified shards already in --out, make the rest")
    config_flag("--workers", type=_integer, help="Ray workers of the local instance (default: one per core or GPU)")
    config_flag("--address", help="join the Ray cluster at 'auto' or HOST:PORT (started with `ray start`)")
    config_flag("--no-ray", dest="ray", action="store_const", const=False, help="one process, no Ray (debugging)")
    config_flag("--gpus-per-task", type=float, help="GPUs per shard task, may be fractional (default: 1 if the cluster has GPUs, else 0)")
    config_flag("--task-timeout-s", type=float, help="cancel and retry a shard task running longer (default 3600)")
    config_flag("--task-retries", type=_integer, help="retries of a failed, killed or timed-out shard task (default 3)")
    config_flag("--max-in-flight", type=_integer, help="shard tasks submitted at once (default: 2 per worker)")
    config_flag("--max-redraws", type=_integer, help="re-draws of a clip whose scene fails to build, render or verify (default 3)")
    config_flag("--scenario", help="a scenario (preset name or .yaml file) or a mixture NAME:WEIGHT,... or mixture file (docs/scenarios.md)")
    config_flag("--split", choices=["id", "ood"], help="in- or out-of-distribution ranges of the physics scenarios (default: the scenario's)")
    gen.add_argument("--quiet", action="store_true", help="no progress bar")
    gen.set_defaults(handler=_generate, config_fields=tuple(fields))

    sce = commands.add_parser("scenarios", help="targeted scenarios: `scenarios list`, `scenarios show NAME_OR_FILE`")
    scenario_commands = sce.add_subparsers(dest="scenarios_command", required=True, parser_class=OneLineParser)
    scenario_commands.add_parser("list", help="the scenarios shipped with worldclips, one line each").set_defaults(handler=_scenarios)
    show = scenario_commands.add_parser("show", help="a scenario with every field resolved (extends merged, defaults filled in)")
    show.add_argument("name", help="a preset name or a scenario .yaml file")
    show.set_defaults(handler=_scenarios)

    mot = commands.add_parser("motions", help="user motion files: `motions check FILE_OR_DIR` measures their quality")
    motion_commands = mot.add_subparsers(dest="motions_command", required=True, parser_class=OneLineParser)
    chk = motion_commands.add_parser("check", help="foot slide, ground penetration and joint-velocity spikes per file")
    chk.add_argument("target", help="an AMASS .npz or BVH file, or a directory searched recursively")
    chk.add_argument("--smplx-model-dir", help="measure with the licensed SMPL-X body (default mannequin-x)")
    chk.set_defaults(handler=_motions_check)

    pre = commands.add_parser("preview", help="mp4 + PNG contact sheet per clip: RGB | depth | segmentation | skeleton")
    pre.add_argument("dataset", help="dataset written by generate: a directory or an fsspec URL (s3://bucket/prefix, ...)")
    pre.add_argument("--out", required=True, help="directory for <key>.mp4 and <key>.png")
    pre.add_argument("--max-clips", type=_integer, default=None, help="preview at most this many clips")
    pre.set_defaults(handler=_preview)

    val = commands.add_parser("validate", help="re-check every shard and sample; non-zero exit on any problem")
    val.add_argument("dataset", help="dataset written by generate: a directory or an fsspec URL (s3://bucket/prefix, ...)")
    val.add_argument("--no-video", action="store_true", help="skip decoding rgb.mp4")
    val.add_argument("--cross-check", action="store_true",
                     help="re-render each clip with the other backend (raster <-> cycles) and compare depth and segmentation")  # fmt: skip
    val.set_defaults(handler=_validate)

    setup = commands.add_parser("setup", help="install optional parts: `setup cycles` makes the Blender (bpy) environment")
    setup.add_argument("component", choices=["cycles"], help="cycles: a virtual environment with bpy 5.0.1 and numpy<2")
    setup.add_argument("--env", help="where to put it (default ~/.cache/worldclips/cycles-venv; then set cycles: {env: DIR})")
    setup.set_defaults(handler=_setup)

    tra = commands.add_parser("train", help="fine-tune the 3D-conditioned video diffusion model on shards")
    tra.add_argument("--data", required=True, help="dataset directory, tar files (brace patterns) or URLs")
    tra.add_argument("--config", help="preset (tiny, wan-1.3b) or YAML file (default tiny; with --resume: the saved one, and a "
                     "given one must equal it)")
    tra.add_argument("--steps", type=_integer, help="train until this step (default: the config's train.steps)")
    tra.add_argument("--out", required=True, help="run directory: config.json, checkpoints/, tb/")
    tra.add_argument("--resume", action="store_true", help="continue the run in --out from its latest checkpoint (from step 0 if it has none yet)")
    tra.add_argument("--base", help="local diffusers Wan folder (transformer/, vae/) with the base weights")
    tra.add_argument("--no-tensorboard", action="store_true", help="console logging only")
    tra.add_argument("--val-data", help="held-out clips: their loss (val_loss) is logged every train.val_every steps and at the end")
    tra.add_argument("--latents", help="a latent cache of --data made by `worldclips encode` (skips the VAE in every step)")
    tra.set_defaults(handler=_train)

    enc = commands.add_parser("encode", help="cache the VAE latents of a dataset's clips for faster training")
    enc.add_argument("--data", required=True, help="dataset directory, tar files or URLs")
    enc.add_argument("--config", help="the training config (preset or YAML file; default tiny): crops, size, conditions")
    enc.add_argument("--out", required=True, help="a new folder for the cache, e.g. data/demo.latents")
    enc.add_argument("--crops", type=_integer, default=1, help="crops per clip (each with its own frames and stride; default 1)")
    enc.add_argument("--base", help="local diffusers Wan folder whose VAE encodes (as the run will use)")
    enc.add_argument("--quiet", action="store_true", help="no progress lines")
    enc.set_defaults(handler=_encode)

    sam = commands.add_parser("sample", help="generate a clip from a sample's conditions, beside its ground truth")
    sam.add_argument("--checkpoint", required=True, help="run directory (latest checkpoint) or a checkpoint folder")
    sam.add_argument("--data", required=True, help="dataset holding the (held-out) sample")
    sam.add_argument("--out", required=True, help="output .mp4: generated | ground truth, side by side")
    sam.add_argument("--guidance", default="", help="classifier-free guidance per condition group, e.g. "
                     "camera=3,depth+pose_maps=2 (conditions: first_frame, camera, reprojection, depth, pose_maps, pose_grid, pose_tokens, text)")
    sam.add_argument("--without", default="", help="conditions to sample without, e.g. first_frame (comma-separated)")
    sam.add_argument("--key", help="sample key (default: the first sample)")
    sam.add_argument("--steps", type=_integer, default=20, help="Euler steps of the flow (default 20)")
    sam.add_argument("--seed", type=_integer, default=0, help="noise seed (default 0)")
    sam.add_argument("--base", help="the base folder of a --base run (default: the path the run recorded)")
    sam.set_defaults(handler=_sample)

    ev = commands.add_parser("eval", help="does a checkpoint use its conditions? condition ablations and sample metrics")
    ev.add_argument("--checkpoint", required=True, help="run directory (latest checkpoint) or a checkpoint folder")
    ev.add_argument("--data", required=True, help="held-out dataset")
    ev.add_argument("--out", required=True, help="the JSON report to write")
    ev.add_argument("--clips", type=_integer, default=16, help="held-out clips used (default 16, at least 2)")
    ev.add_argument("--noise-levels", default="0.25,0.5,0.75", help="noise levels s in (0, 1], comma-separated")
    ev.add_argument("--samples", type=_integer, default=2, help="clips sampled for PSNR / SSIM (default 2; 0: none)")
    ev.add_argument("--steps", type=_integer, default=20, help="Euler steps of each sample (default 20)")
    ev.add_argument("--seed", type=_integer, default=0, help="seed of the crops and the noise (default 0)")
    ev.add_argument("--base", help="the base folder of a --base run (default: the path the run recorded)")
    ev.add_argument("--no-camera-sfm", action="store_true", help="skip camera adherence by structure from motion "
                    "(it needs pycolmap: pip install 'worldclips[eval]')")
    ev.set_defaults(handler=_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt as interrupt:  # Ctrl-C, or SIGTERM during a farm run
        terminated = type(interrupt).__name__ == "Terminated"
        print(f"worldclips: {'terminated' if terminated else 'interrupted'}; finished shards were kept, partial "
              "files removed", file=sys.stderr)  # fmt: skip
        return 143 if terminated else 130
    except (ValueError, FileNotFoundError, FileExistsError, OSError, RuntimeError, ImportError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"worldclips: error: {message}", file=sys.stderr)
        return EXIT_USAGE if isinstance(error, ValueError) and not _is_bad_data(error) else 1


def _is_bad_data(error: BaseException) -> bool:
    """A dataset that is not what it should be (exit 1), as opposed to a bad flag or config (exit 2)."""
    from worldclips.shards.format.names import UnsafeName
    from worldclips.shards.format.reader import ShardFormatError

    return isinstance(error, (UnsafeName, ShardFormatError))


if __name__ == "__main__":
    sys.exit(main())
