"""Running the benchmark drivers and native baselines as a suite.

A suite is a list of runs (a Fortran driver, the native C++ baseline, or the
native Python baseline). ``run_suite`` runs them pass after pass, in a shuffled
order within each pass, under controlled conditions (intra-op threads and
``OMP_NUM_THREADS`` per run, glibc malloc thresholds, each process pinned to
CPUs), records how busy the machine was during each run, and packs every run's
JSON and log into one archive only when every run passed, so a failed suite
never leaves a mix of old and new files.

Suites: :func:`default_suite` (the main job: fixed cost per call, WaveNet-2
through the main paths, ResNet-18 at batch 1 and 16), :func:`full_suite` (every
path, format and grad mode), :func:`sweep_suite` (threads 1 and 2;
large-stride N from 64 to 2048; cgdrag 128 to 8192 columns) and
:func:`mpi_suite` (WaveNet-2 on 1 to N MPI ranks: strong and weak scaling,
ranks against threads, bound against oversubscribed).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ftbench import conditions, run_model, signature
from ftbench.interrupts import raise_if_stopped
from ftbench.models import resnet
from ftbench.results import ARCHIVE_SUFFIX

PINNED_MALLOC = {
    # Without these, glibc's dynamic mmap threshold makes per-step times of
    # large-tensor models bimodal (tensors are mmapped and unmapped every step).
    "MALLOC_MMAP_THRESHOLD_": "33554432",
    "MALLOC_TRIM_THRESHOLD_": "4294967296",
}
PYTHON_BASELINE = "ftbench native"
"""Pseudo driver name: the native Python baseline (``python -m ftbench.cli native``)."""
F2PY_HOST = "ftbench f2py"
"""Pseudo driver name: the Python-hosted f2py path (``python -m ftbench.cli f2py``)."""


class SuiteError(RuntimeError):
    """A run of the suite is missing its program or failed."""


class SuiteInterrupted(KeyboardInterrupt):
    """The suite was interrupted (SIGINT, or SIGTERM through ``ftbench``'s handler):
    the running child was killed, the previous archive is unchanged."""


@dataclass(frozen=True)
class Run:
    """One invocation.

    Attributes:
        name: results file stem, unique within a suite.
        driver: executable under ``<build>/bin``, ``PYTHON_BASELINE`` or ``F2PY_HOST``.
        args: arguments; ``{models}`` stands for the models directory.
        threads: intra-op threads (also ``OMP_NUM_THREADS``), per rank under MPI.
        ranks: 0 for one process; else the driver runs under ``mpirun -np ranks``.
        mpirun_args: OpenMPI options for placement (``--bind-to core``, ...).
    """

    name: str
    driver: str
    args: tuple[str, ...]
    threads: int = 1
    ranks: int = 0
    mpirun_args: tuple[str, ...] = ()

    @property
    def compiles(self) -> bool:
        """True for a run that compiles with torch.compile in its first call."""
        pairs = zip(self.args, self.args[1:], strict=False)
        return "--compile" in self.args or ("--mode", "compile") in pairs

    def command(self, build_dir: Path, models_dir: Path, result_file: Path) -> list[str]:
        """The command line, writing its results to ``result_file``."""
        if self.driver == PYTHON_BASELINE:
            program = [sys.executable, "-m", "ftbench.cli", "native"]
            extra = ["--models", str(models_dir)]
        elif self.driver == F2PY_HOST:
            program = [sys.executable, "-m", "ftbench.cli", "f2py"]
            extra = ["--models", str(models_dir), "--build", str(build_dir)]
        else:
            program = [str(build_dir / "bin" / self.driver)]
            extra = []
        arguments = [a.format(models=models_dir) for a in self.args]
        return [
            *self.launcher(),
            *program,
            *arguments,
            *extra,
            "--threads",
            str(self.threads),
            "--json",
            str(result_file),
        ]

    def launcher(self) -> list[str]:
        """``mpirun -np <ranks> <mpirun_args>`` for an MPI run, else nothing."""
        return ["mpirun", "-np", str(self.ranks), *self.mpirun_args] if self.ranks else []


FORMATS = ("torchscript", "aoti", "compile")
"""Model formats of the default suite besides the model built in Python: TorchScript
files, AOTInductor packages and torch.compile (see docs/benchmarks.md)."""


def _native_runs(
    stem: str,
    threads: int,
    python_args: tuple[str, ...],
    cpp_args: tuple[str, ...],
    no_grad: bool,
    formats: Sequence[str] = FORMATS,
) -> list[Run]:
    runs = [Run(f"{stem}_native_cpp", "benchmarker_native_cpp", cpp_args, threads)]
    if "aoti" in formats:
        package = tuple(a.replace("_cpu.pt", "_cpu.pt2") for a in cpp_args)
        runs.append(Run(f"{stem}_native_cpp_aoti", "benchmarker_native_cpp", package, threads))
    grads = ("inference_mode", "no_grad") if no_grad else ("inference_mode",)
    for mode in ("eager", *formats):
        # no_grad variants only for the formats that have had them from the start
        for grad in grads if mode in ("eager", "torchscript") else ("inference_mode",):
            runs.append(
                Run(
                    f"{stem}_native_python_{mode}_{grad}",
                    PYTHON_BASELINE,
                    (*python_args, "--mode", mode, "--grad", grad),
                    threads,
                )
            )
    return runs


def _f2py_runs(stem: str, threads: int, args: tuple[str, ...], formats: Sequence[str]) -> list[Run]:
    """The Python-hosted f2py path: the model built in Python with the host's arrays in
    Fortran order (``f2py``) and in C order (``f2py_c``); with ``torchscript`` or
    ``aoti`` in ``formats`` also those files, Fortran order."""
    runs = [
        Run(f"{stem}_f2py", F2PY_HOST, (*args, "--mode", "eager", "--order", "F"), threads),
        Run(f"{stem}_f2py_c", F2PY_HOST, (*args, "--mode", "eager", "--order", "C"), threads),
    ]
    for mode in ("torchscript", "aoti"):
        if mode in formats:
            runs.append(Run(f"{stem}_f2py_{mode}", F2PY_HOST, (*args, "--mode", mode), threads))
    return runs


def large_stride_runs(
    variant: str,
    n: int,
    ntimes: int,
    threads: int = 1,
    no_grad: bool = True,
    formats: Sequence[str] = ("torchscript",),
) -> tuple[Run, ...]:
    """The large-stride model ``variant`` at size ``n``: direct (TorchScript), embedded
    Python (model built in Python; TorchScript), and the native baselines (C++; Python
    eager and TorchScript under inference_mode and, with ``no_grad``, no_grad); with
    ``aoti`` in ``formats`` also the AOTInductor package on every path, with
    ``compile`` torch.compile on the embedded path and the Python baseline."""
    torchscript = f"large_stride_{variant}_cpu.pt"
    stem = f"large_stride_{variant}_N{n}_T{threads}"
    embedded = ("{models}", "large_stride_emulator", str(ntimes), str(n))
    extra: list[Run] = []
    if "aoti" in formats:
        extra += [
            Run(
                f"{stem}_direct_aoti",
                "benchmarker_large_stride_torch",
                ("{models}", f"{torchscript}2", str(ntimes), str(n)),
                threads,
            ),
            Run(
                f"{stem}_embedded_aoti",
                "benchmarker_large_stride_forpy",
                (*embedded, "--aoti", f"{torchscript}2"),
                threads,
            ),
        ]
    if "compile" in formats:
        extra.append(
            Run(
                f"{stem}_embedded_compile",
                "benchmarker_large_stride_forpy",
                (*embedded, "--variant", variant, "--compile"),
                threads,
            )
        )
    return (
        *extra,
        Run(
            f"{stem}_direct",
            "benchmarker_large_stride_torch",
            ("{models}", torchscript, str(ntimes), str(n)),
            threads,
        ),
        Run(
            f"{stem}_embedded_python_model",
            "benchmarker_large_stride_forpy",
            (*embedded, "--variant", variant, "--torchscript", "none"),
            threads,
        ),
        Run(
            f"{stem}_embedded_torchscript",
            "benchmarker_large_stride_forpy",
            (*embedded, "--torchscript", torchscript),
            threads,
        ),
        *_f2py_runs(
            stem,
            threads,
            ("large_stride", str(ntimes), "--variant", variant, "--n", str(n)),
            formats,
        ),
        *_native_runs(
            stem,
            threads,
            ("large_stride", str(ntimes), "--variant", variant, "--n", str(n)),
            ("{models}", torchscript, str(ntimes), "large_stride", "--n", str(n)),
            no_grad,
            formats,
        ),
    )


def cgdrag_runs(
    ntimes: int,
    columns: int = 8192,
    threads: int = 1,
    full: bool = True,
    formats: Sequence[str] = ("torchscript",),
) -> tuple[Run, ...]:
    """WaveNet-2 on ``columns`` columns of the T42 grid: direct (scripted TorchScript,
    implicit reshape; with ``full`` also explicit reshape and traced-frozen), embedded
    Python (model built in Python, implicit reshape; with ``full`` also explicit; and
    TorchScript), and the native baselines (no_grad variants with ``full``); with
    ``aoti`` in ``formats`` also the AOTInductor package on every path, with
    ``compile`` torch.compile on the embedded path and the Python baseline."""
    stem = f"cgdrag_C{columns}_T{threads}"
    sized = ("--columns", str(columns))
    direct = ("{models}", "cgdrag_cpu.pt", str(ntimes), *sized)
    embedded = ("{models}", "cgdrag_emulator", str(ntimes), *sized)
    runs = [
        Run(f"{stem}_direct", "benchmarker_cgdrag_torch", direct, threads),
        Run(
            f"{stem}_embedded_python_model",
            "benchmarker_cgdrag_forpy",
            (*embedded, "--torchscript", "none"),
            threads,
        ),
        Run(
            f"{stem}_embedded_torchscript",
            "benchmarker_cgdrag_forpy",
            (*embedded, "--torchscript", "cgdrag_cpu.pt"),
            threads,
        ),
    ]
    if "aoti" in formats:
        runs += [
            Run(
                f"{stem}_direct_aoti",
                "benchmarker_cgdrag_torch",
                ("{models}", "cgdrag_cpu.pt2", str(ntimes), *sized),
                threads,
            ),
            Run(
                f"{stem}_embedded_aoti",
                "benchmarker_cgdrag_forpy",
                (*embedded, "--aoti", "cgdrag_cpu.pt2"),
                threads,
            ),
        ]
    if "compile" in formats:
        runs.append(
            Run(
                f"{stem}_embedded_compile",
                "benchmarker_cgdrag_forpy",
                (*embedded, "--compile"),
                threads,
            )
        )
    if full:
        runs += [
            Run(
                f"{stem}_direct_explicit",
                "benchmarker_cgdrag_torch",
                (*direct, "--explicit-reshape"),
                threads,
            ),
            Run(
                f"{stem}_direct_traced",
                "benchmarker_cgdrag_torch",
                ("{models}", "cgdrag_traced_cpu.pt", str(ntimes), *sized),
                threads,
            ),
            Run(
                f"{stem}_embedded_python_model_explicit",
                "benchmarker_cgdrag_forpy",
                (*embedded, "--torchscript", "none", "--explicit-reshape"),
                threads,
            ),
        ]
    runs += _f2py_runs(stem, threads, ("cgdrag", str(ntimes), "--columns", str(columns)), formats)
    runs += _native_runs(
        stem,
        threads,
        ("cgdrag", str(ntimes), "--columns", str(columns)),
        ("{models}", "cgdrag_cpu.pt", str(ntimes), "cgdrag", *sized),
        full,
        formats,
    )
    return tuple(runs)


def cgdrag_train_runs(ntimes: int, threads: int = 1, full: bool = False) -> tuple[Run, ...]:
    """WaveNet-2 trained online on the whole grid (:mod:`ftbench.training`): direct
    (TorchScript), embedded Python (model built in Python; with ``full`` also its
    TorchScript file) and the native baselines (C++ TorchScript; Python eager, with
    ``full`` also TorchScript), ``ntimes`` steps after 1 warm-up."""
    stem = f"cgdrag_train_T{threads}"
    steps = str(ntimes)
    embedded = ("{models}", "cgdrag_emulator", steps)
    runs = [
        Run(
            f"{stem}_direct",
            "benchmarker_cgdrag_train_torch",
            ("{models}", "cgdrag_cpu.pt", steps),
            threads,
        ),
        Run(
            f"{stem}_embedded_python_model",
            "benchmarker_cgdrag_train_forpy",
            (*embedded, "--torchscript", "none"),
            threads,
        ),
        Run(
            f"{stem}_native_cpp",
            "benchmarker_native_cpp",
            ("{models}", "cgdrag_cpu.pt", steps, "cgdrag_train"),
            threads,
        ),
        Run(
            f"{stem}_native_python_eager_inference_mode",
            PYTHON_BASELINE,
            ("cgdrag_train", steps, "--mode", "eager"),
            threads,
        ),
    ]
    if full:
        runs += [
            Run(
                f"{stem}_embedded_torchscript",
                "benchmarker_cgdrag_train_forpy",
                (*embedded, "--torchscript", "cgdrag_cpu.pt"),
                threads,
            ),
            Run(
                f"{stem}_native_python_torchscript_inference_mode",
                PYTHON_BASELINE,
                ("cgdrag_train", steps, "--mode", "torchscript"),
                threads,
            ),
        ]
    return tuple(runs)


TRAIN_STEPS = 10
"""Measured training steps per process (after 1 warm-up step; the references cover 32)."""


def model_runs(
    case: run_model.ModelCase,
    case_file: Path,
    stem: str,
    ntimes: int,
    warmup: int,
    threads: int = 1,
) -> tuple[Run, ...]:
    """Any model prepared by :func:`ftbench.run_model.prepare` (``case_file``): the
    direct and embedded-Python paths (generic drivers, TorchScript) and the native
    C++ and Python baselines (TorchScript, inference mode), each checked against the
    case's references, named ``<stem>_direct``, ``<stem>_embedded``,
    ``<stem>_native_cpp``, ``<stem>_native_python``."""
    checked = (
        "--inputs",
        signature.join(case.input_specs),
        "--references",
        ",".join(case.references),
        "--rtol",
        repr(case.rtol),
        "--warmup",
        str(warmup),
    )
    coupled = (case.model, str(ntimes), *checked, "--benchmark", case.name, "--quiet")
    model = Path(case.model)
    cpp = (str(model.parent), model.name, str(ntimes), "model", *checked, "--name", case.name)
    native = ("model", str(ntimes), "--case", str(case_file), "--mode", "torchscript")
    return (
        Run(f"{stem}_direct", "benchmarker_model_torch", coupled, threads),
        Run(f"{stem}_embedded", "benchmarker_model_forpy", coupled, threads),
        Run(f"{stem}_native_cpp", "benchmarker_native_cpp", cpp, threads),
        Run(
            f"{stem}_native_python",
            PYTHON_BASELINE,
            (*native, "--warmup", str(warmup), "--quiet"),
            threads,
        ),
    )


RESNET_BATCHES = {1: 5, 16: 2}
"""ResNet-18 batch sizes of the default suite and the measured steps per process
(after 1 warm-up step): a batch-16 forward takes about 0.5 s on one core."""


def resnet18_runs(models: Path, threads: int = 1) -> tuple[Run, ...]:
    """ResNet-18 (``ftbench export``'s ``resnet18_cpu.pt``) at each batch size of
    :data:`RESNET_BATCHES` through :func:`model_runs`, its cases (inputs, references,
    tolerance) prepared in ``models/resnet18_b<batch>/`` first.

    Raises:
        FileNotFoundError: the model was not exported.
    """
    runs: list[Run] = []
    for batch, ntimes in RESNET_BATCHES.items():
        directory = models / f"resnet18_b{batch}"
        spec = signature.TensorSpec((batch, *resnet.IMAGE), "float32")
        case = run_model.prepare(models / "resnet18_cpu.pt", [spec], directory, "resnet18")
        case_file = directory / run_model.CASE_FILE
        runs += model_runs(case, case_file, f"resnet18_B{batch}_T{threads}", ntimes, 1, threads)
    return tuple(runs)


DEFAULT_REPEAT = 3
"""Processes per configuration in the default suite (``ftbench suite --repeat``)."""


MAIN_PATHS = (
    "direct",
    "direct_aoti",
    "embedded_python_model",
    "native_cpp",
    "native_cpp_aoti",
    "native_python_eager_inference_mode",
    "f2py",
    "f2py_c",
)
"""The runs of the default suite, each coupled path with the native baseline of its
format: direct (TorchScript, AOTInductor) against C++, embedded Python and the
Python-hosted f2py path (Fortran- and C-ordered host arrays; model built in Python)
against Python eager; every other path and format is in :func:`full_suite`."""


def default_suite(threads: int = 1, models: Path | None = None) -> tuple[Run, ...]:
    """The main job's suite at ``threads`` intra-op threads (run ``DEFAULT_REPEAT``
    times): the fixed cost per call (large-stride, N = 4), WaveNet-2 on the whole
    T42 grid and WaveNet-2 trained online on it (:func:`cgdrag_train_runs`), through
    :data:`MAIN_PATHS`; with ``models``, ResNet-18 at batch 1 and 16
    (:func:`resnet18_runs`)."""
    runs = (
        *large_stride_runs("vectorized", 4, 1000, threads, no_grad=False, formats=("aoti",)),
        *cgdrag_runs(10, 8192, threads, full=False, formats=("aoti",)),
        *cgdrag_train_runs(TRAIN_STEPS, threads),
    )
    main = tuple(r for r in runs if r.name.split(f"_T{threads}_", 1)[1] in MAIN_PATHS)
    return main + (resnet18_runs(models, threads) if models is not None else ())


def full_suite(threads: int = 1, models: Path | None = None) -> tuple[Run, ...]:
    """Every path, model format and grad mode at ``threads`` intra-op threads
    (``ftbench suite --full``; run ``DEFAULT_REPEAT`` times); with ``models``,
    ResNet-18 too (:func:`resnet18_runs`)."""
    return (
        *(resnet18_runs(models, threads) if models is not None else ()),
        # The published sizes: the interpreter-bound loop and the vectorized model.
        # The loop model exists as TorchScript only (docs/benchmarks.md).
        *large_stride_runs("loop", 256, 10, threads),
        *large_stride_runs("vectorized", 1024, 50, threads, formats=FORMATS),
        # A 4 x 4 array: what remains is each path's fixed cost per call.
        *large_stride_runs("vectorized", 4, 1000, threads, formats=FORMATS),
        # WaveNet-2 gravity-wave drag on the whole T42 grid, as MiMA calls it.
        *cgdrag_runs(10, 8192, threads, formats=FORMATS),
        # ... and trained online on it.
        *cgdrag_train_runs(TRAIN_STEPS, threads, full=True),
    )


SWEEP_THREADS = (1, 2)
SWEEP_N = (64, 128, 256, 512, 1024, 2048)
SWEEP_COLUMNS = (128, 512, 2048, 8192)


def sweep_suite() -> tuple[Run, ...]:
    """Size and thread sweeps: vectorized large-stride at every N of ``SWEEP_N`` and
    cgdrag at every column count of ``SWEEP_COLUMNS``, at 1 and 2 threads, through
    the main paths and the inference_mode baselines."""
    runs: list[Run] = []
    for threads in SWEEP_THREADS:
        for n in SWEEP_N:
            runs += large_stride_runs("vectorized", n, 50, threads, no_grad=False)
        for columns in SWEEP_COLUMNS:
            runs += cgdrag_runs(10, columns, threads, full=False)
    # The f2py path's scaling is the native Python baseline's plus its copies: not swept.
    return tuple(r for r in runs if r.driver != F2PY_HOST)


MPI_DRIVERS = {
    "direct": ("benchmarker_cgdrag_torch_mpi", ("{models}", "cgdrag_cpu.pt")),
    "embedded": (
        "benchmarker_cgdrag_forpy_mpi",
        ("{models}", "cgdrag_emulator", "--torchscript", "none"),
    ),
}
"""The MPI suite's drivers and their arguments before the step count: the direct path
(TorchScript) and the embedded path (model built in Python), as in the main job."""
MPI_STEPS = 6
"""Measured steps per MPI run (after 1 warm-up step)."""
GRID_COLUMNS = 8192
"""Columns of the whole T42 grid (128 longitudes x 64 latitudes)."""


def mpi_rank_counts(max_ranks: int) -> list[int]:
    """1, the powers of 2 below ``max_ranks``, and ``max_ranks``."""
    counts = {1, max_ranks}
    counts.update(2**k for k in range(1, max_ranks.bit_length()) if 2**k < max_ranks)
    return sorted(counts)


def mpi_placement(ranks: int, bound: bool, cpus: int) -> tuple[str, ...]:
    """OpenMPI options: one core per rank (``--bind-to core --map-by core``) when
    ``bound`` and the ranks fit on the ``cpus``; else no binding, with
    ``--oversubscribe`` when there are more ranks than CPUs."""
    if bound and ranks <= cpus:
        return ("--bind-to", "core", "--map-by", "core")
    return ("--bind-to", "none", *(("--oversubscribe",) if ranks > cpus else ()))


def mpi_suite(max_ranks: int, cpus: int | None = None) -> tuple[Run, ...]:
    """WaveNet-2 (cgdrag) through both coupling paths' MPI drivers (:data:`MPI_DRIVERS`),
    named ``mpi_<path>_C<columns>_R<ranks>_T<threads>[_bound]``:

    * strong scaling: the whole grid on every rank count of :func:`mpi_rank_counts`,
      1 thread per rank, each rank bound to a core;
    * weak scaling: ``8192 // max_ranks`` columns per rank (rounded down to whole
      latitude rows) on the same rank counts, bound;
    * ranks against threads: 1 rank with ``max_ranks`` threads on the whole grid;
    * oversubscription: ``max_ranks`` ranks with ``cpus`` threads each, unbound (what a
      rank gets when torch takes every core it sees), beside the bound 1-thread run.

    ``cpus`` defaults to the CPUs this process may use.

    Raises:
        ValueError: ``max_ranks`` < 1, or more ranks than the grid has latitude rows
            for the weak-scaling runs (64).
    """
    if cpus is None:
        cpus = len(os.sched_getaffinity(0))
    per_rank = GRID_COLUMNS // max(max_ranks, 1) // 128 * 128
    if max_ranks < 1 or per_rank < 128:
        raise ValueError(
            f"--mpi takes 1 to 64 ranks (one latitude row each at least), got {max_ranks}"
        )
    runs: dict[str, Run] = {}

    def add(path: str, columns: int, ranks: int, threads: int, bound: bool) -> None:
        driver, head = MPI_DRIVERS[path]
        placement = mpi_placement(ranks, bound, cpus)
        suffix = "_bound" if placement[:2] == ("--bind-to", "core") else ""
        name = f"mpi_{path}_C{columns}_R{ranks}_T{threads}{suffix}"
        args = (*head, str(MPI_STEPS), "--columns", str(columns), "--quiet")
        runs[name] = Run(name, driver, args, threads, ranks, placement)

    for path in MPI_DRIVERS:
        for ranks in mpi_rank_counts(max_ranks):
            add(path, GRID_COLUMNS, ranks, 1, bound=True)
            add(path, per_rank * ranks, ranks, 1, bound=True)
        if max_ranks > 1:
            add(path, GRID_COLUMNS, 1, max_ranks, bound=False)
            add(path, GRID_COLUMNS, max_ranks, cpus, bound=False)
    return tuple(runs.values())


COLD_COMPILE = {"TORCHINDUCTOR_FORCE_DISABLE_CACHES": "1"}
"""For torch.compile runs: Inductor's on-disk caches off, so every process pays the
whole compilation in its first call (with a warm cache a later process of the same
model on the same machine pays much less: docs/benchmarks.md)."""


MPI_AS_ROOT = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
"""OpenMPI refuses to start as root without these (containers and CI run as root)."""


def run_environment(
    threads: int, pin_malloc: bool, cold_compile: bool = False, mpi: bool = False
) -> dict[str, str]:
    """Environment for a run: ours plus thread and malloc settings,
    :data:`COLD_COMPILE` for a run that compiles, and :data:`MPI_AS_ROOT` for an MPI
    run as root (mpirun passes the environment on to its ranks)."""
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads)
    for name in (*PINNED_MALLOC, *COLD_COMPILE):
        env.pop(name, None)
    if pin_malloc:
        env.update(PINNED_MALLOC)
    if cold_compile:
        env.update(COLD_COMPILE)
    if mpi and os.geteuid() == 0:
        env.update(MPI_AS_ROOT)
    return env


SEED = 20261123
"""Seed of the shuffled order of the configurations within each pass (``--seed``)."""


def pinned_cpus(threads: int) -> list[int] | None:
    """The CPUs a run with ``threads`` intra-op threads is pinned to: the last
    ``threads`` of the CPUs this process may use (CPU 0, where the system's own
    work tends to land, stays free while there are more CPUs than threads), or
    None (not pinned) when there are not more CPUs than threads."""
    allowed = sorted(os.sched_getaffinity(0))
    return allowed[-threads:] if threads < len(allowed) else None


def shuffled_passes(runs: Sequence[Run], repeat: int, seed: int) -> list[tuple[int, Run]]:
    """``repeat`` passes of ``runs``, each in its own shuffled order (``random.Random(seed
    + k)`` for pass k; seed < 0: the given order), as (pass, run) pairs, the runs renamed
    ``<name>_r<k>`` when ``repeat`` > 1."""
    order = []
    for k in range(1, repeat + 1):
        one_pass = [
            dataclasses.replace(run, name=f"{run.name}_r{k}" if repeat > 1 else run.name)
            for run in runs
        ]
        if seed >= 0:
            random.Random(seed + k).shuffle(one_pass)
        order += [(k, run) for run in one_pass]
    return order


def run_suite(
    runs: Sequence[Run],
    build_dir: Path,
    models_dir: Path,
    archive: Path,
    pin_malloc: bool = True,
    progress: bool = True,
    repeat: int = 1,
    seed: int = SEED,
    pin_cpus: bool = True,
) -> list[str]:
    """Run everything and write the results files into the archive ``archive``
    (``<name>.tar.xz``); return their names there.

    With ``repeat`` > 1 the whole list runs that many times, one pass after the
    other (so slow drifts of the machine spread over every configuration), each
    run in its own process, as ``<name>_r<k>``; reports pool the repeats. Within
    a pass the order is shuffled (``seed``; negative: as given). Each process is
    pinned to CPUs (:func:`pinned_cpus`, unless ``pin_cpus`` is False), and its
    run conditions (:mod:`ftbench.conditions`, with its pass, position and the
    seed) are added to its results file as ``run_conditions``; a busy run is
    reported on standard error. Each run's standard output and error are kept in
    ``<name>.log``. Files go to the directory ``<archive stem>.partial`` first;
    when all runs pass they are packed into ``archive`` (replacing it) and the
    directory is removed, so a failed suite never leaves a mix of old and new files.

    Raises:
        SuiteError: a driver is missing (build first) or exits non-zero; the
            message names the run, its exit code, its last output line and its log.
        SuiteInterrupted: SIGINT (or SIGTERM under :func:`ftbench.interrupts.stop_on_signals`, as
            ``ftbench`` runs it) during the runs: the running child has been
            killed; the message says what is left where.
        ValueError: ``repeat`` < 1, or ``archive`` does not end in ``.tar.xz``.
        OSError: the directory of ``archive`` cannot be written.
    """
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, got {repeat}")
    if not archive.name.endswith(ARCHIVE_SUFFIX):
        raise ValueError(f"{archive}: the raw results archive must end in {ARCHIVE_SUFFIX}")
    partial = archive.with_name(archive.name.removesuffix(ARCHIVE_SUFFIX) + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:  # fail before the first run if the results could not be written
        partial.mkdir(parents=True)
    except OSError as error:
        raise OSError(
            f"cannot create {partial} for the results ({error.strerror}; "
            "choose a writable directory for --raw)"
        ) from None
    order = shuffled_passes(runs, repeat, seed)
    written = []
    position = 0
    bar = tqdm(order, desc="benchmarks", unit="run", disable=not progress)
    try:
        for position, (k, run) in enumerate(bar, start=1):
            raise_if_stopped()
            if (
                run.driver not in (PYTHON_BASELINE, F2PY_HOST)
                and not (build_dir / "bin" / run.driver).exists()
            ):
                program = build_dir / "bin" / run.driver
                raise SuiteError(f"{run.name}: {program} not found (build the project first)")
            result_file = partial / f"{run.name}.json"
            log_file = partial / f"{run.name}.log"
            command = run.command(build_dir, models_dir, result_file)
            # MPI runs are placed by mpirun (its --bind-to), not pinned here
            cpus = pinned_cpus(run.threads) if pin_cpus and not run.ranks else None
            with log_file.open("w") as log:
                log.write("$ " + " ".join(command) + "\n")
                log.flush()
                before = conditions.sample()
                with subprocess.Popen(
                    command,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=run_environment(run.threads, pin_malloc, run.compiles, run.ranks > 0),
                    preexec_fn=functools.partial(os.sched_setaffinity, 0, cpus) if cpus else None,
                ) as process:
                    try:
                        raise_if_stopped()  # a signal lost inside Popen's fork
                        code = process.wait()
                    except BaseException:
                        process.kill()  # no orphan keeps writing; Popen's exit reaps it
                        raise
                after = conditions.sample()
            if code != 0:
                lines = log_file.read_text().strip().splitlines()
                raise SuiteError(
                    f"{run.name}: {run.driver} exited with {code}: "
                    f"{lines[-1] if lines else '(no output)'} (full output: {log_file})"
                )
            found = conditions.between(before, after, cpus)
            found.update({"pass": k, "position": position, "order_seed": seed})
            document = json.loads(result_file.read_text())
            document["run_conditions"] = found
            if run.ranks:
                document["mpi"]["launcher"] = " ".join(run.launcher())
            result_file.write_text(json.dumps(document, indent=2) + "\n")
            if found["busy"]:
                bar.write(
                    f"warning: {run.name}: the machine was busy ({conditions.describe(found)})"
                )
            written.append(result_file.name)
    except KeyboardInterrupt as interrupt:
        raise SuiteInterrupted(
            f"{str(interrupt) or 'interrupted by SIGINT'} during run {position} of {len(order)}: "
            f"{archive} is unchanged; the {len(written)} finished runs are in {partial} "
            "(running the suite again starts over)"
        ) from None
    pack(partial, archive)
    shutil.rmtree(partial)
    return written


def pack(directory: Path, archive: Path) -> None:
    """Pack the files of ``directory`` (flat, sorted, no owners or times) into the
    xz-compressed tar ``archive``, written atomically."""
    temporary = archive.with_name(f".{archive.name}.tmp")
    with tarfile.open(temporary, "w:xz") as tar:
        for path in sorted(directory.iterdir()):
            info = tar.gettarinfo(str(path), arcname=path.name)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            with path.open("rb") as data:
                tar.addfile(info, data)
    os.replace(temporary, archive)
