"""The embedded-Python coupling layer, through the Fortran test program."""

from __future__ import annotations

import platform
import re
import textwrap
import venv
from pathlib import Path

import pytest

from conftest import SOAK_CALLS, assert_soak_bounded, run, soak_samples

PROBE = '''
"""Functions the Fortran test program calls through the embedded interpreter."""
import gc
import sys

import numpy as np
import torch

from ftbench.models import large_stride


def address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def torch_address(a: np.ndarray) -> int:
    return torch.from_numpy(a).data_ptr()


def layout(a: np.ndarray) -> str:
    order = "F" if a.flags.f_contiguous else ("C" if a.flags.c_contiguous else "strided")
    return f"{a.dtype}:{a.shape}:{a.strides}:{order}:{'writeable' if a.flags.writeable else 'ro'}"


def double_in_place(a: np.ndarray) -> None:
    a *= 2


def write_indices(a: np.ndarray) -> None:
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            a[i, j] = 10 * i + j


def echo_types(*args: object) -> str:
    return " ".join(f"{type(a).__name__}:{a}" for a in args)


def add(a, b):
    return a + b


_MODEL = torch.jit.script(large_stride.build("vectorized"))


def forward(x: np.ndarray, y: np.ndarray, k: int) -> int:
    """A model's forward, as the emulator modules run it (y = 2x, (0, 1) negated)."""
    with torch.inference_mode():
        torch.from_numpy(y).copy_(_MODEL(torch.from_numpy(x)))
    return k + 1


def touch(x: np.ndarray, y: np.ndarray, k: int) -> int:
    torch.from_numpy(y).copy_(2 * torch.from_numpy(x))
    return k + 1


def allocated_blocks() -> int:
    gc.collect()
    return sys.getallocatedblocks()


def tracked_objects() -> int:
    gc.collect()
    return len(gc.get_objects())


def _inner(level: int) -> None:
    raise ValueError(f"deliberate failure at level {level}")


def fail_deep(level: int) -> None:
    _inner(level + 1)


def count(*args: object) -> int:
    return len(args)


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no text")


def unprintable() -> Unprintable:
    return Unprintable()


def fail_surrogate() -> None:
    raise ValueError("byte \\udcff")
'''


@pytest.fixture(scope="module")
def probe_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("probe")
    (directory / "embed_probe.py").write_text(textwrap.dedent(PROBE))
    return directory


def embed(build_dir: Path, *args: object, **kwargs: object):
    return run([build_dir / "tests" / "test_py_embedding", *args], **kwargs)


def test_numpy_and_torch_see_the_fortran_address(build_dir: Path, probe_dir: Path) -> None:
    """Zero copy: NumPy's data address and torch.from_numpy's data_ptr are the Fortran address."""
    out = embed(build_dir, "zero-copy", probe_dir)
    assert out.returncode == 0, out.stdout + out.stderr
    rows = re.findall(r"^(.*) fortran=(\w+) numpy=(\w+) torch=(\w+) layout=(.*)$", out.stdout, re.M)
    labels = {row[0] for row in rows}
    for dtype in ("real32", "real64", "int32", "int64"):
        assert {f"{dtype} rank {r}" for r in range(1, 5)} <= labels
    for label, fortran, numpy_address, torch_address, _ in rows:
        assert fortran == numpy_address == torch_address, label
    layouts = {row[0]: row[4] for row in rows}
    assert layouts["real32 rank 2"] == "float32:(3, 5):(4, 12):F:writeable"
    assert layouts["int64 rank 3"] == "int64:(3, 5, 2):(8, 24, 120):F:writeable"
    assert layouts["real64 section big(2:6:2, 3:8)"] == "float64:(3, 6):(16, 48):strided:writeable"


def test_in_place_writes_in_python_are_seen_in_fortran(build_dir: Path, probe_dir: Path) -> None:
    out = embed(build_dir, "write-back", probe_dir)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ALL PASSED" in out.stdout


def test_index_order_non_square(build_dir: Path, probe_dir: Path) -> None:
    """Python's a[i, j] is Fortran's a(i+1, j+1) on a 3 x 5 array."""
    out = embed(build_dir, "index-order", probe_dir)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ALL PASSED" in out.stdout


def test_scalar_arguments_and_conversions(build_dir: Path, probe_dir: Path) -> None:
    out = embed(build_dir, "scalars", probe_dir)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "int:42 int:7 float:2.5 str:héllo bool:True" in out.stdout


def test_interpreter_runs_in_the_project_venv(build_dir: Path, probe_dir: Path) -> None:
    """Whatever the caller's environment, the embedded Python is the one the build was
    configured with, with its torch: the project's .venv, or FTB_PYTHON's interpreter
    (scripts/python.sh), which also runs these tests."""
    import sys

    import torch

    env = {"PATH": "/usr/bin:/bin", "HOME": str(probe_dir)}  # no venv activated
    out = embed(build_dir, "venv", probe_dir, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"sys.prefix={sys.prefix}\n" in out.stdout
    assert f"torch={torch.__file__}\n" in out.stdout


def test_interpreter_override_by_environment(build_dir: Path, probe_dir: Path) -> None:
    out = embed(build_dir, "venv", probe_dir, env={"FTB_PYTHON_EXECUTABLE": "/nowhere/python"})
    assert out.returncode == 1
    assert out.stderr.strip() == (
        "py_initialize: Python interpreter '/nowhere/python' not found or not executable "
        "(set FTB_PYTHON_EXECUTABLE to a venv's bin/python, or run scripts/setup.sh)"
    )


STAT_PATHS = [
    "finalize-before-initialize",
    "from-int32",
    "from-int64",
    "from-real32",
    "from-real64",
    "from-string",
    "from-logical",
    "array-from",
    "path-append",
    "initialize-given-interpreter",
    "call-null-object",
    "getattr-null-object",
    "getattr-missing",
    "call-null-argument",
    "to-int-null",
    "to-real-null",
    "to-string-null",
    "call-17-arguments",
    "to-real-of-str",
    "to-string-raises",
    "to-int32-out-of-range",
    "to-int32-of-str",
    "exception-not-utf8",
    "finalize-twice",
]


def test_every_stat_path_and_py_version(build_dir: Path, probe_dir: Path) -> None:
    """Each failure the Fortran modules can report (before py_initialize, null objects,
    refused conversions, 17 arguments, an exception message that is not valid UTF-8)
    comes back through stat/errmsg with its message (test_py_embedding.f90 states each
    expected text); py_version is the embedded interpreter's version, this venv's."""
    out = embed(build_dir, "stat-paths", probe_dir)
    assert out.returncode == 0, out.stdout + out.stderr
    assert re.findall(r"^ok ([\w-]+): ", out.stdout, re.M) == STAT_PATHS
    assert f"python={platform.python_version()}" in out.stdout.splitlines()
    assert out.stdout.rstrip().endswith("ALL PASSED")


def test_interpreter_without_numpy_is_one_clear_error(
    build_dir: Path, probe_dir: Path, tmp_path: Path
) -> None:
    """An interpreter whose environment lacks NumPy (a bare venv) stops py_initialize
    with one message naming NumPy, never a crash."""
    bare = tmp_path / "bare"
    venv.create(bare, with_pip=False)
    out = embed(
        build_dir, "venv", probe_dir, env={"FTB_PYTHON_EXECUTABLE": str(bare / "bin/python")}
    )
    assert out.returncode == 1, out.stdout + out.stderr
    first = out.stderr.splitlines()[0]
    assert (
        first.startswith(
            "py_initialize: cannot load NumPy's C API (is numpy installed in the venv?): "
        )
        and "ModuleNotFoundError: No module named 'numpy'" in first
    ), out.stderr
    assert "Segmentation" not in out.stderr


# case -> (failing procedure, first line must contain, later lines must contain)
ERRORS = {
    "exception": (
        "py_call",
        "calling 'fail_deep' of module 'embed_probe' failed: "
        "ValueError: deliberate failure at level 2",
        ["Traceback (most recent call last):", "in fail_deep", "in _inner"],
    ),
    "missing-module": (
        "py_import",
        "cannot import module 'no_such_module_here'",
        ["ModuleNotFoundError: No module named 'no_such_module_here'"],
    ),
    "missing-function": (
        "py_call",
        "calling 'no_such_function' of module 'embed_probe' failed: AttributeError: module "
        "'embed_probe' has no attribute 'no_such_function'",
        [],
    ),
    "wrong-arg-count": (
        "py_call",
        "calling 'add' of module 'embed_probe' failed: TypeError: add() missing 1 required "
        "positional argument: 'b'",
        [],
    ),
    "bad-convert": ("py_object_to", "cannot convert object of type 'str' to an integer", []),
    "not-initialized": ("py_import", "the Python interpreter is not initialised", []),
    "double-initialize": ("py_initialize", "already initialised", []),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_error_returned_through_stat(build_dir: Path, probe_dir: Path, case: str) -> None:
    procedure, first, later = ERRORS[case]
    out = embed(build_dir, case, probe_dir, "stat")
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "stat=1"
    assert lines[1].startswith(f"{procedure}: ") and first in lines[1], lines[1]
    for text in later:
        assert text in out.stdout


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_error_without_stat_stops_cleanly(build_dir: Path, probe_dir: Path, case: str) -> None:
    procedure, first, later = ERRORS[case]
    out = embed(build_dir, case, probe_dir, "stop")
    assert out.returncode == 1, out.stdout + out.stderr
    lines = out.stderr.splitlines()
    assert lines[0].startswith(f"{procedure}: ") and first in lines[0], out.stderr
    for text in later:
        assert text in out.stderr
    assert "Segmentation" not in out.stderr and "Backtrace" not in out.stderr


@pytest.mark.resident_memory
@pytest.mark.parametrize("case", ["memory", "memory-forward"])
def test_soak_100000_calls(build_dir: Path, probe_dir: Path, case: str) -> None:
    """The soak: 100,000 calls with two array views and a scalar, to a tensor
    operation and to a TorchScript model's forward. From call 10,000 on, resident
    memory grows < 256 kB (< 3 bytes a call), Python's allocated blocks by < 100,
    its gc-tracked objects by < 10, and the open descriptors and threads stay."""
    out = embed(build_dir, case, probe_dir, "stat", SOAK_CALLS)
    assert out.returncode == 0 and "ALL PASSED" in out.stdout, out.stdout + out.stderr
    assert_soak_bounded(soak_samples(out.stdout), SOAK_CALLS, 256)
