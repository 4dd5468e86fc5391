"""Command line: ``worldclips generate | preview | validate``. Wiring only, no logic of its own."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_USAGE = 2


def _generate(args: argparse.Namespace) -> int:
    from shards.config import load_yaml_config, resolve_config
    from shards.generate import generate

    file_values = load_yaml_config(args.config) if args.config else {}
    flags = {
        "out": args.out, "clips": args.clips, "seed": args.seed, "frames": args.frames, "fps": args.fps,
        "size": args.size, "clips_per_shard": args.clips_per_shard, "backend": args.backend,
        "smplx_model_dir": args.smplx_model_dir, "run_name": args.run_name,
    }  # fmt: skip
    config = resolve_config(file_values, flags, source=str(args.config or "config"))
    out = generate(config, progress=not args.quiet, overwrite=args.overwrite)
    print(f"wrote {config.clips} clips to {out}")
    return 0


def _preview(args: argparse.Namespace) -> int:
    from shards.preview import write_previews

    if not Path(args.dataset).is_dir():
        raise ValueError(f"preview: {args.dataset} is not a directory")
    written = write_previews(args.dataset, args.out, max_clips=args.max_clips)
    if not written:
        raise ValueError(f"preview: no samples found in {args.dataset}")
    print(f"wrote {len(written) // 2} previews (mp4 + png) to {args.out}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from shards.validate import validate_dataset

    report = validate_dataset(args.dataset, decode_video=not args.no_video)
    for line in report.errors:
        print(f"FAIL {line}")
    status = "OK" if report.ok else f"{len(report.errors)} problem(s)"
    print(f"{status}: {report.shards} shards, {report.samples} samples checked in {args.dataset}")
    return 0 if report.ok else 1


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


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="worldclips", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    gen = commands.add_parser("generate", help="render clips with exact 3D ground truth into WebDataset shards")
    gen.add_argument("--out", help="output directory (must not already hold a dataset)")
    gen.add_argument("--clips", type=_integer, help="number of clips (default 8)")
    gen.add_argument("--seed", type=_integer, help="run seed (default 0)")
    gen.add_argument("--frames", type=_integer, help="frames per clip (default 48)")
    gen.add_argument("--fps", type=float, help="frames per second (default 24)")
    gen.add_argument("--size", help="WIDTHxHEIGHT in pixels (default 256x256)")
    gen.add_argument("--clips-per-shard", type=_integer, help="clips per shard file (default 4)")
    gen.add_argument("--backend", help="renderer: raster (default)")
    gen.add_argument("--smplx-model-dir", help="directory holding SMPLX_NEUTRAL.npz (licensed body model)")
    gen.add_argument("--run-name", help="prefix of sample keys (default seed<seed>)")
    gen.add_argument("--config", help="YAML file of the same fields; flags override it")
    gen.add_argument("--overwrite", action="store_true", help="replace a dataset already in --out")
    gen.add_argument("--quiet", action="store_true", help="no progress bar")
    gen.set_defaults(handler=_generate)

    pre = commands.add_parser("preview", help="mp4 + PNG contact sheet per clip: RGB | depth | segmentation | skeleton")
    pre.add_argument("dataset", help="dataset directory written by generate")
    pre.add_argument("--out", required=True, help="directory for <key>.mp4 and <key>.png")
    pre.add_argument("--max-clips", type=_integer, default=None, help="preview at most this many clips")
    pre.set_defaults(handler=_preview)

    val = commands.add_parser("validate", help="re-check every shard and sample; non-zero exit on any problem")
    val.add_argument("dataset", help="dataset directory written by generate")
    val.add_argument("--no-video", action="store_true", help="skip decoding rgb.mp4")
    val.set_defaults(handler=_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("worldclips: interrupted; finished shards were kept, partial files removed", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError, FileExistsError, OSError, RuntimeError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"worldclips: error: {message}", file=sys.stderr)
        return EXIT_USAGE if isinstance(error, ValueError) else 1


if __name__ == "__main__":
    sys.exit(main())
