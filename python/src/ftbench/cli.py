"""The ``ftbench`` command: export models, run the suite, write reports.

Every subcommand exits 0 on success; on failure it prints one line
``ftbench <subcommand>: <what went wrong>`` on standard error and exits 1
(2 for a usage error, as argparse does). ``ftbench compare`` exits 3 when it
flags a regression.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from ftbench import __version__
from ftbench.interrupts import received, stop_on_signals

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
    if not args.force and is_current(args.out, checkpoint, args.threads):
        print(f"up to date: {args.out}")
    else:
        written = write_inputs(args.out, checkpoint, args.threads)
        print(f"wrote inputs and references: {written}")


def _cmd_suite(args: argparse.Namespace) -> None:
    from ftbench.suite import (
        DEFAULT_REPEAT,
        SEED,
        default_suite,
        full_suite,
        mpi_suite,
        run_suite,
        sweep_suite,
    )

    if args.mpi is not None:
        runs = mpi_suite(args.mpi)
        missing = sorted({r.driver for r in runs if not (args.build / "bin" / r.driver).exists()})
        if missing or shutil.which("mpirun") is None:
            raise SystemExit(
                f"ftbench suite --mpi: {', '.join(missing) or 'mpirun'} not found: install "
                "OpenMPI (Debian: apt-get install openmpi-bin libopenmpi-dev; "
                "scripts/setup.sh does this as root) and rebuild, so that CMake finds MPI"
            )
    elif args.sweep:
        runs = sweep_suite()
    elif args.full:
        runs = full_suite(args.threads, args.models)
    else:
        runs = default_suite(args.threads, args.models)
    repeat = args.repeat if args.repeat is not None else (1 if args.sweep else DEFAULT_REPEAT)
    files = run_suite(
        runs,
        args.build,
        args.models,
        args.raw,
        pin_malloc=not args.no_pin_malloc,
        progress=not args.no_progress,
        repeat=repeat,
        seed=SEED if args.seed is None else args.seed,
        pin_cpus=not args.no_pin_cpus,
    )
    print(f"{len(files)} results files in {args.raw}")


def _cmd_selftest(args: argparse.Namespace) -> None:
    from ftbench.selftest import rows, run_selftest

    if args.passes < 2:
        raise ValueError("--passes must be at least 2 (an interval needs two passes)")
    selected = rows(args.columns, args.steps, args.calls)
    report = run_selftest(
        args.build, args.models, args.out, args.passes, selected, progress=not args.no_progress
    )
    print(f"selftest: {report}")


def _cmd_python_hosted(args: argparse.Namespace) -> None:
    """``ftbench native`` and ``ftbench f2py``: both run through ``run_native``, from
    their common options and each subcommand's own."""
    from ftbench import f2py_host
    from ftbench.native import NativeConfig, run_native

    if args.command == "f2py":
        own = {"grad": "inference_mode", "order": args.order, "build": args.build}
    else:
        own = {"grad": args.grad, "write_input": args.write_input, "case": args.case}
    config = NativeConfig(
        benchmark=args.benchmark,
        mode=args.mode,
        ntimes=args.ntimes,
        warmup=args.warmup,
        threads=args.threads,
        models=args.models,
        variant=args.variant,
        n=args.n,
        columns=args.columns,
        quiet=args.quiet,
        **own,
    )
    run = f2py_host.run_f2py if args.command == "f2py" else run_native
    document = run(config, args.json)
    if not document["correctness"]["passed"]:
        failed = document["correctness"]["failed_iterations"]
        raise RuntimeError(f"{failed} iteration(s) exceeded the tolerance")


def _cmd_run_model(args: argparse.Namespace) -> None:
    from ftbench import run_model, signature
    from ftbench.report import write_report
    from ftbench.results import load_all
    from ftbench.suite import model_runs, run_suite

    for option in ("ntimes", "passes", "threads"):
        if getattr(args, option) < 1:
            raise ValueError(f"--{option} must be at least 1")
    if args.warmup < 0:
        raise ValueError("--warmup must be at least 0")
    specs = signature.parse_all(args.input)
    name = args.name or args.model.stem
    out = args.out or Path("results") / "run-model" / name
    case = run_model.prepare(args.model, specs, out / "case", name)
    print(
        f"{args.model}: inputs {signature.join(specs)} -> outputs {', '.join(case.outputs)}; "
        f"tolerance {case.rounding_units} rounding units ({case.operations} operations counted)"
    )
    raw = out / "raw.tar.xz"
    case_file = out / "case" / run_model.CASE_FILE
    runs = model_runs(case, case_file, name, args.ntimes, args.warmup, args.threads)
    run_suite(runs, args.build, out, raw, progress=not args.no_progress, repeat=args.passes)
    print(f"report: {write_report(load_all([raw]), out)}")


def _cmd_parse(args: argparse.Namespace) -> None:
    import json

    from ftbench.profiles import read

    data = read(args.kind, args.file, args.executable)
    if args.kind == "perf" and args.layers:
        print("share of samples by layer:")
        for layer, share in data["by_layer"].items():
            print(f"  {layer:14s} {share:6.2f} %")
    elif args.kind == "gprof" and args.top:
        print(
            f"top functions by self time (gprof; {data['total_seconds']:.2f} s sampled in the "
            "executable):"
        )
        for row in data["flat"][: args.top]:
            print(f"  {row['percent']:6.2f} %  {row['readable']}")
    else:
        print(json.dumps(data, indent=2))


REGRESSION_EXIT_CODE = 3
"""Exit status of ``ftbench compare`` when it flags a regression."""


def _cmd_compare(args: argparse.Namespace) -> int:
    from ftbench.compare import compare, markdown
    from ftbench.results import load_all

    rows = compare(load_all(args.a), load_all(args.b), args.threshold)
    if not rows:
        raise ValueError("no run appears in both sets (same benchmark, sizes, threads and path)")
    text = markdown(rows, args.threshold)
    print(text, end="")
    if args.out:
        args.out.write_text(text)
    return REGRESSION_EXIT_CODE if any(r.verdict == "regression" for r in rows) else 0


def _cmd_report(args: argparse.Namespace) -> None:
    from ftbench.report import write_report
    from ftbench.results import load_all

    profiles = args.profiles if args.profiles is not None else args.out / "profiles"
    print(f"report: {write_report(load_all(args.results), args.out, profiles)}")


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

    p = sub.add_parser(
        "inputs", help="write the cgdrag inputs and reference outputs (a directory of .npy files)"
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("models/data/cgdrag_t42"),
        help="directory to write (replaced)",
    )
    p.add_argument("--checkpoint", type=Path, help=checkpoint_help)
    p.add_argument("--force", action="store_true", help="write even if the inputs are up to date")
    p.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch threads for the references (default: torch's); recorded in the file",
    )
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
    _add_build_and_models(p)
    p.add_argument(
        "--raw",
        type=Path,
        default=Path("results/raw.tar.xz"),
        help="archive the results files and logs go into (default: results/raw.tar.xz)",
    )
    p.add_argument("--threads", type=int, default=1, help="intra-op threads (default: 1)")
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--full",
        action="store_true",
        help="every path, model format and grad mode (default: the main paths, about 2 min)",
    )
    which.add_argument(
        "--sweep",
        action="store_true",
        help="run the size and thread sweeps instead (threads 1 and 2; --threads is ignored)",
    )
    which.add_argument(
        "--mpi",
        type=int,
        metavar="N",
        help="run WaveNet-2 on 1 to N MPI ranks instead: strong and weak scaling, ranks "
        "against threads, bound against oversubscribed (ftbench.suite.mpi_suite; needs the "
        "MPI drivers and mpirun; --threads is ignored)",
    )
    p.add_argument(
        "--no-pin-malloc",
        action="store_true",
        help="leave glibc's malloc thresholds dynamic (default: pinned)",
    )
    p.add_argument(
        "--no-pin-cpus",
        action="store_true",
        help="do not pin each process to CPUs (default: the last CPUs, as many as threads)",
    )
    p.add_argument(
        "--repeat",
        type=int,
        help="run every configuration in this many processes, pass after pass "
        "(default: 3, or 1 with --sweep)",
    )
    p.add_argument(
        "--seed",
        type=int,
        help="seed of the shuffled order within each pass (default: ftbench.suite.SEED; "
        "negative: the suite's order)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=_cmd_suite)

    p = sub.add_parser(
        "selftest",
        help="check what a run resolves: A/A, and costs of 2, 5 and 10 %% of a step injected",
    )
    _add_build_and_models(p)
    p.add_argument(
        "--out",
        type=Path,
        default=Path("results/selftest"),
        help="where selftest.md and the raw results go (default: results/selftest)",
    )
    p.add_argument("--passes", type=int, default=3, help="passes (default: 3)")
    p.add_argument("--columns", type=int, default=8192, help="cgdrag columns (default: 8192)")
    p.add_argument("--steps", type=int, default=10, help="cgdrag steps per process (default: 10)")
    p.add_argument(
        "--calls", type=int, default=1000, help="fixed-cost calls per process (default: 1000)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=_cmd_selftest)

    p = sub.add_parser("native", help="run a native Python baseline (no Fortran)")
    p.add_argument(
        "benchmark",
        choices=["large_stride", "cgdrag", "cgdrag_train", "model"],
        help="model: any TorchScript model, as ftbench run-model prepared it (--case)",
    )
    _add_python_hosted(p)
    p.add_argument("--grad", choices=["inference_mode", "no_grad"], default="inference_mode")
    p.add_argument(
        "--write-input",
        type=Path,
        help="large_stride: write the first iteration's input to this file (raw float32, "
        "column-major) to compare paths",
    )
    p.add_argument("--case", type=Path, help="model: the case.json that ftbench run-model wrote")
    p.set_defaults(run=_cmd_python_hosted)

    p = sub.add_parser(
        "f2py",
        help="run the Python-hosted path: the model in Python, the Fortran side through f2py",
        description="Python hosts the time loop and the model; each step calls the project's "
        "Fortran through NumPy's f2py before and after the forward (docs/f2py.md).",
    )
    p.add_argument("benchmark", choices=["large_stride", "cgdrag"])  # ftbench.f2py_host.CASES
    _add_python_hosted(p)
    p.add_argument(
        "--order",
        choices=["F", "C"],  # ftbench.f2py_host.ORDERS
        default="F",
        help="memory order of the host's arrays: F (Fortran, passed without copies) or C "
        "(copied to and from Fortran order, each copy a timed phase)",
    )
    p.add_argument("--build", type=Path, default=Path("build"), help="build tree (default: build)")
    p.set_defaults(run=_cmd_python_hosted)

    p = sub.add_parser(
        "run-model",
        help="measure any TorchScript model through every path, with a report",
        description="Run MODEL (a TorchScript file) on inputs of the declared signature "
        "through the native C++ and Python baselines, the direct path and the "
        "embedded-Python path, every iteration checked against references made in "
        "Python, and write a report.",
    )
    p.add_argument("model", type=Path, help="TorchScript file (torch.jit.save)")
    p.add_argument(
        "--input",
        action="append",
        required=True,
        metavar="SIZExSIZE...:DTYPE",
        help="one forward argument, in order, e.g. 1x3x224x224:float32 (PyTorch order; "
        "float32 or float64; rank 1 to 4); repeat per argument",
    )
    p.add_argument("--name", help="benchmark name in the results (default: the file's stem)")
    p.add_argument("--ntimes", type=int, default=20, help="measured iterations per process")
    p.add_argument("--warmup", type=int, default=2, help="warm-up iterations per process")
    p.add_argument("--passes", type=int, default=3, help="processes per path (default: 3)")
    p.add_argument("--threads", type=int, default=1, help="intra-op threads (default: 1)")
    p.add_argument(
        "--out",
        type=Path,
        help="where the case, raw results and report go (default: results/run-model/<name>)",
    )
    p.add_argument("--build", type=Path, default=Path("build"), help="build tree (default: build)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=_cmd_run_model)

    p = sub.add_parser(
        "compare",
        help="compare two sets of results (exit 3 when a regression is flagged)",
    )
    p.add_argument("a", nargs=1, type=Path, help="baseline results: a file or a directory")
    p.add_argument("b", nargs=1, type=Path, help="new results: a file or a directory")
    p.add_argument(
        "--threshold",
        type=float,
        default=0.05,
        help="flag ratios whose 95%% interval lies beyond 1 +- this (default 0.05)",
    )
    p.add_argument("--out", type=Path, help="also write the markdown table to this file")
    p.set_defaults(run=_cmd_compare)

    p = sub.add_parser("parse", help="parse gprof, perf or driver output into JSON")
    p.add_argument("kind", choices=["gprof", "perf", "output"])
    p.add_argument("file", type=Path, help="the text to parse")
    p.add_argument("--executable", help="perf: file name of the profiled driver")
    p.add_argument("--layers", action="store_true", help="perf: print the share by layer only")
    p.add_argument("--top", type=int, default=0, help="gprof: print the top N functions only")
    p.set_defaults(run=_cmd_parse)

    p = sub.add_parser("report", help="write results/report.md and plots from results files")
    p.add_argument("results", nargs="+", type=Path, help="results files or directories of them")
    p.add_argument(
        "--out", type=Path, default=Path("results"), help="output directory (default: results)"
    )
    p.add_argument(
        "--profiles",
        type=Path,
        help="profiles from scripts/profile.sh (default: <out>/profiles, if it exists)",
    )
    p.set_defaults(run=_cmd_report)
    return parser


def _add_python_hosted(parser: argparse.ArgumentParser) -> None:
    """The arguments ``ftbench native`` and ``ftbench f2py`` share."""
    parser.add_argument("ntimes", type=int, help="measured iterations")
    parser.add_argument(
        "--mode",
        choices=["eager", "torchscript", "aoti", "compile"],  # ftbench.native.MODES
        default="eager",
        help="model built in Python (eager), TorchScript file, AOTInductor package (aoti) "
        "or built in Python under torch.compile (compile)",
    )
    parser.add_argument(
        "--variant", choices=["loop", "vectorized"], default="vectorized", help="large_stride model"
    )
    parser.add_argument("--n", type=int, default=4, help="large_stride size N")
    parser.add_argument("--columns", type=int, default=8192, help="cgdrag columns")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up iterations (default 1)")
    parser.add_argument(
        "--threads", type=int, default=0, help="intra-op threads (default: torch's)"
    )
    parser.add_argument("--models", type=Path, default=Path("models"), help="models directory")
    parser.add_argument("--json", type=Path, help="write the results to this file")
    parser.add_argument(
        "--quiet", action="store_true", help="print only failed checks and the summary"
    )


def _add_build_and_models(parser: argparse.ArgumentParser) -> None:
    """The options of the subcommands that run the drivers: --build and --models."""
    parser.add_argument(
        "--build", type=Path, default=Path("build"), help="build tree (default: build)"
    )
    parser.add_argument("--models", type=Path, default=Path("models"), help="models directory")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ftbench`` with ``argv`` (default: the command line); return the exit
    status: 0, 1 on an error (one line on standard error), 130 when interrupted
    by SIGINT or SIGTERM (results files are written atomically, so none is left
    half-written)."""
    args = build_parser().parse_args(argv)
    interrupted = None
    try:
        with stop_on_signals():
            try:
                status = args.run(args)
            finally:
                interrupted = received()
    except (OSError, ValueError, RuntimeError) as error:
        print(f"ftbench {args.command}: {interrupted or error}", file=sys.stderr)
        return 130 if interrupted else 1
    except KeyboardInterrupt as interrupt:  # the suite's says what it left where
        print(
            f"ftbench {args.command}: {str(interrupt) or 'interrupted by SIGINT'}", file=sys.stderr
        )
        return 130
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
