"""Running the benchmark drivers as a suite.

A suite is a list of driver invocations. ``run_suite`` runs them one after
another under controlled conditions (intra-op threads, ``OMP_NUM_THREADS``,
glibc malloc thresholds), writes each driver's JSON and log into a fresh
directory and only replaces the previous results when every run passed, so a
failed suite never leaves a mix of old and new files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

PINNED_MALLOC = {
    # Without these, glibc's dynamic mmap threshold makes per-step times of
    # large-tensor models bimodal (tensors are mmapped and unmapped every step).
    "MALLOC_MMAP_THRESHOLD_": "33554432",
    "MALLOC_TRIM_THRESHOLD_": "4294967296",
}


class SuiteError(RuntimeError):
    """A driver of the suite is missing or failed."""


@dataclass(frozen=True)
class Run:
    """One driver invocation.

    Attributes:
        name: results file stem, unique within a suite.
        driver: executable name under ``<build>/bin``.
        args: positional arguments; ``{models}`` stands for the models directory.
        options: extra options for the driver.
    """

    name: str
    driver: str
    args: tuple[str, ...]
    options: tuple[str, ...] = ()


def large_stride_runs(variant: str, n: int, ntimes: int) -> tuple[Run, ...]:
    """The large-stride model ``variant`` at size ``n`` through every coupling path:
    direct (TorchScript), embedded Python with the model built in Python, and
    embedded Python loading the same TorchScript file."""
    torchscript = f"large_stride_{variant}_cpu.pt"
    embedded_args = ("{models}", "large_stride_emulator", str(ntimes), str(n))
    stem = f"large_stride_{variant}_N{n}"
    return (
        Run(
            f"{stem}_direct",
            "benchmarker_large_stride_torch",
            ("{models}", torchscript, str(ntimes), str(n)),
        ),
        Run(
            f"{stem}_embedded_python_model",
            "benchmarker_large_stride_forpy",
            embedded_args,
            ("--variant", variant, "--torchscript", "none"),
        ),
        Run(
            f"{stem}_embedded_torchscript",
            "benchmarker_large_stride_forpy",
            embedded_args,
            ("--torchscript", torchscript),
        ),
    )


def cgdrag_runs(ntimes: int, columns: int = 8192) -> tuple[Run, ...]:
    """WaveNet-2 (cgdrag) on ``columns`` columns of the T42 grid through every coupling path:
    direct (scripted TorchScript, implicit and explicit reshape; traced-frozen),
    embedded Python with the model built in Python (implicit and explicit
    reshape) and embedded Python loading the scripted TorchScript file."""
    common = (str(ntimes),)
    sized = ("--columns", str(columns))
    direct, embedded = "benchmarker_cgdrag_torch", "benchmarker_cgdrag_forpy"
    stem = f"cgdrag_C{columns}"
    return (
        Run(f"{stem}_direct", direct, ("{models}", "cgdrag_cpu.pt", *common), sized),
        Run(
            f"{stem}_direct_explicit",
            direct,
            ("{models}", "cgdrag_cpu.pt", *common),
            (*sized, "--explicit-reshape"),
        ),
        Run(f"{stem}_direct_traced", direct, ("{models}", "cgdrag_traced_cpu.pt", *common), sized),
        Run(
            f"{stem}_embedded_python_model",
            embedded,
            ("{models}", "cgdrag_emulator", *common),
            (*sized, "--torchscript", "none"),
        ),
        Run(
            f"{stem}_embedded_python_model_explicit",
            embedded,
            ("{models}", "cgdrag_emulator", *common),
            (*sized, "--torchscript", "none", "--explicit-reshape"),
        ),
        Run(
            f"{stem}_embedded_torchscript",
            embedded,
            ("{models}", "cgdrag_emulator", *common),
            (*sized, "--torchscript", "cgdrag_cpu.pt"),
        ),
    )


DEFAULT_SUITE: tuple[Run, ...] = (
    # The published sizes: the interpreter-bound loop and the vectorized model.
    *large_stride_runs("loop", 256, 20),
    *large_stride_runs("vectorized", 1024, 100),
    # A 4 x 4 array: what remains is each path's fixed cost per call.
    *large_stride_runs("vectorized", 4, 2000),
    # WaveNet-2 gravity-wave drag on the whole T42 grid, as MiMA calls it.
    *cgdrag_runs(20),
)


def run_environment(threads: int, pin_malloc: bool) -> dict[str, str]:
    """Environment for the drivers: ours plus thread and malloc settings."""
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads)
    for name in PINNED_MALLOC:
        env.pop(name, None)
    if pin_malloc:
        env.update(PINNED_MALLOC)
    return env


def run_suite(
    runs: Sequence[Run],
    build_dir: Path,
    models_dir: Path,
    raw_dir: Path,
    threads: int = 1,
    pin_malloc: bool = True,
    progress: bool = True,
) -> list[Path]:
    """Run every driver and return the results files, written under ``raw_dir``.

    Files go to ``<raw_dir>.partial`` first; when all runs pass it replaces
    ``raw_dir``. Each run's standard output and error are kept in ``<name>.log``.

    Raises:
        SuiteError: a driver is missing (build first) or exits non-zero; the
            message names the run, its exit code, its last output line and its log.
    """
    partial = raw_dir.with_name(raw_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    env = run_environment(threads, pin_malloc)
    written = []
    for run in tqdm(runs, desc="benchmarks", unit="run", disable=not progress):
        executable = build_dir / "bin" / run.driver
        if not executable.exists():
            raise SuiteError(f"{run.name}: driver {executable} not found (build the project first)")
        result_file = partial / f"{run.name}.json"
        log_file = partial / f"{run.name}.log"
        command = [
            str(executable),
            *(a.format(models=models_dir) for a in run.args),
            *run.options,
            "--threads",
            str(threads),
            "--json",
            str(result_file),
        ]
        with log_file.open("w") as log:
            log.write("$ " + " ".join(command) + "\n")
            log.flush()
            code = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=env).returncode
        if code != 0:
            lines = log_file.read_text().strip().splitlines()
            raise SuiteError(
                f"{run.name}: {run.driver} exited with {code}: "
                f"{lines[-1] if lines else '(no output)'} (full output: {log_file})"
            )
        written.append(result_file.name)
    shutil.rmtree(raw_dir, ignore_errors=True)
    partial.rename(raw_dir)
    return [raw_dir / name for name in written]
