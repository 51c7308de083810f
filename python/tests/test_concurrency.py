"""OpenMP threads calling both coupling layers at once (issue 13, item 3), through
the Fortran test program test_concurrency (docs/reliability.md, "Concurrency")."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import run

THREADS = 8  # four times the cores of the CI machines: the threads interleave
ITERATIONS = 2000


def concurrency(build_dir: Path, *args: object, **kwargs: object):
    program = build_dir / "tests" / "test_concurrency"
    if not program.exists():
        pytest.skip("built without OpenMP (find_package(OpenMP) failed)")
    return run([program, *args], **kwargs)


@pytest.mark.parametrize("torch_threads", ["1", "2"])
@pytest.mark.parametrize(
    ("case", "model"),
    [
        ("direct-shared", "large_stride_vectorized_cpu.pt"),
        ("direct-shared", "large_stride_vectorized_cpu.pt2"),
        ("direct-per-thread", "large_stride_vectorized_cpu.pt"),
        ("direct-per-thread", "large_stride_vectorized_cpu.pt2"),
        ("embedded", "large_stride_vectorized_cpu.pt"),
    ],
)
def test_threads_get_their_own_results(
    build_dir: Path, model_dir: Path, case: str, model: str, torch_threads: str
) -> None:
    """8 threads x 2,000 calls, each on its own arrays with values unique to the
    thread and the call: every output is exactly right, no call fails, and the
    program ends (a deadlock would hit the timeout): with one model shared by all
    threads, with one model per thread, and on the embedded path, where every call
    takes the GIL. With 1 and 2 intra-op threads inside each call."""
    out = concurrency(
        build_dir,
        case,
        model_dir,
        THREADS,
        ITERATIONS,
        model,
        env={**os.environ, "OMP_NUM_THREADS": torch_threads},
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"threads={THREADS} calls={THREADS * ITERATIONS} mismatches=0 failures=0" in out.stdout


@pytest.mark.parametrize(
    ("case", "model", "calls", "failures", "message"),
    [
        ("direct-per-thread", "no_such_model.pt", 0, 4, r"torch_model_load: cannot load .*no such"),
        ("direct-shared", "raises.pt", 40, 40, r"torch_model_forward: forward of .*raises\.pt"),
        ("embedded", "raises.pt", 40, 40, r"py_call: calling 'compute' of module"),
    ],
)
def test_failures_in_threads_are_reported_per_call(
    build_dir: Path,
    model_dir: Path,
    case: str,
    model: str,
    calls: int,
    failures: int,
    message: str,
) -> None:
    """Calls that fail in several threads at once each return their own stat and
    message (the layers keep the last error per thread): the program counts them,
    prints the first, and exits 1 without a crash."""
    out = concurrency(build_dir, case, model_dir, 4, 10, model)
    assert out.returncode == 1, out.stdout + out.stderr
    assert f"threads=4 calls={calls} mismatches=0 failures={failures}" in out.stdout
    assert re.search("first failure: " + message, out.stdout), out.stdout


def test_packages_load_concurrently(build_dir: Path, model_dir: Path) -> None:
    """8 threads loading an AOTInductor package at once, in 10 processes. torch 2.13's
    package loader parses metadata into one shared static, so unserialised loads
    corrupt each other; measured before the shim serialised them: 12 of 40 such
    processes died of SIGSEGV or SIGABRT. With the lock: none (and here, 10 of 10)."""
    for _ in range(10):
        out = concurrency(
            build_dir,
            "direct-per-thread",
            model_dir,
            THREADS,
            20,
            "large_stride_vectorized_cpu.pt2",
        )
        assert out.returncode == 0, out.stdout + out.stderr
