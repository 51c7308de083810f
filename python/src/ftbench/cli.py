"""The ``ftbench`` command: export models, run the suite, write reports.

Every subcommand exits 0 on success; on failure it prints one line
``ftbench <subcommand>: <what went wrong>`` on standard error and exits 1
(2 for a usage error, as argparse does).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ftbench import __version__

DEFAULT_CHECKPOINT = Path("models/wavenet_checkpoint.pt")


def _checkpoint(args: argparse.Namespace) -> Path:
    """The checkpoint to use: --checkpoint, else the default one, written if missing."""
    from ftbench.models import wavenet

    if args.checkpoint is not None:
        if not args.checkpoint.exists():
            raise FileNotFoundError(f"checkpoint {args.checkpoint} does not exist")
        return args.checkpoint
    if not DEFAULT_CHECKPOINT.exists():
        wavenet.save_checkpoint(wavenet.synthetic_checkpoint(), DEFAULT_CHECKPOINT)
        print(f"wrote synthetic checkpoint: {DEFAULT_CHECKPOINT}")
    return DEFAULT_CHECKPOINT


def _cmd_checkpoint(args: argparse.Namespace) -> None:
    from ftbench.models import wavenet

    wavenet.save_checkpoint(wavenet.synthetic_checkpoint(), args.out)
    print(f"wrote synthetic checkpoint: {args.out}")


def _cmd_export(args: argparse.Namespace) -> None:
    from ftbench.export import export_all

    checkpoint = _checkpoint(args)
    for path, written in export_all(args.out, checkpoint, force=args.force, only=args.only or ()):
        print(f"{'exported' if written else 'up to date'}: {path}")


def _cmd_inputs(args: argparse.Namespace) -> None:
    from ftbench.inputs import is_current, write_inputs

    checkpoint = _checkpoint(args)
    if not args.force and is_current(args.out, checkpoint):
        print(f"up to date: {args.out}")
    else:
        print(f"wrote inputs and references: {write_inputs(args.out, checkpoint)}")


def _cmd_suite(args: argparse.Namespace) -> None:
    from ftbench.suite import DEFAULT_SUITE, run_suite

    files = run_suite(
        DEFAULT_SUITE,
        args.build,
        args.models,
        args.raw,
        threads=args.threads,
        pin_malloc=not args.no_pin_malloc,
        progress=not args.no_progress,
    )
    print(f"{len(files)} results files in {args.raw}")


def _cmd_report(args: argparse.Namespace) -> None:
    from ftbench.report import write_report
    from ftbench.results import load_all

    print(f"report: {write_report(load_all(args.results), args.out)}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``ftbench`` and its subcommands."""
    parser = argparse.ArgumentParser(prog="ftbench", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"ftbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    checkpoint_help = (
        "WaveNet-2 checkpoint in the published layout (default: "
        f"{DEFAULT_CHECKPOINT}, written with synthetic weights if missing)"
    )
    p = sub.add_parser("checkpoint", help="write a synthetic WaveNet-2 checkpoint")
    p.add_argument("--out", type=Path, default=DEFAULT_CHECKPOINT, help="checkpoint file")
    p.set_defaults(run=_cmd_checkpoint)

    p = sub.add_parser("inputs", help="write the cgdrag inputs and reference outputs (netCDF)")
    p.add_argument(
        "--out", type=Path, default=Path("models/data/cgdrag_t42.nc"), help="netCDF file to write"
    )
    p.add_argument("--checkpoint", type=Path, help=checkpoint_help)
    p.add_argument("--force", action="store_true", help="write even if the file is up to date")
    p.set_defaults(run=_cmd_inputs)

    p = sub.add_parser("export", help="export the models to TorchScript (round-trip checked)")
    p.add_argument(
        "--out", type=Path, default=Path("models"), help="models directory (default: models)"
    )
    p.add_argument("--checkpoint", type=Path, help=checkpoint_help)
    p.add_argument("--force", action="store_true", help="export even files that are up to date")
    p.add_argument("--only", nargs="+", metavar="FILE", help="export only these file names")
    p.set_defaults(run=_cmd_export)

    p = sub.add_parser("suite", help="run the default benchmark suite")
    p.add_argument("--build", type=Path, default=Path("build"), help="build tree (default: build)")
    p.add_argument("--models", type=Path, default=Path("models"), help="models directory")
    p.add_argument(
        "--raw",
        type=Path,
        default=Path("results/raw"),
        help="where results files and logs go (default: results/raw)",
    )
    p.add_argument("--threads", type=int, default=1, help="intra-op threads (default: 1)")
    p.add_argument(
        "--no-pin-malloc",
        action="store_true",
        help="leave glibc's malloc thresholds dynamic (default: pinned)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=_cmd_suite)

    p = sub.add_parser("report", help="write results/report.md and plots from results files")
    p.add_argument("results", nargs="+", type=Path, help="results files or directories of them")
    p.add_argument(
        "--out", type=Path, default=Path("results"), help="output directory (default: results)"
    )
    p.set_defaults(run=_cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ftbench`` with ``argv`` (default: the command line); return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (OSError, ValueError, RuntimeError) as error:
        print(f"ftbench {args.command}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
