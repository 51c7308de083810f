"""The project's .npy reader and writer (fortran/common/bench_npy_c.h, Fortran module
bench_npy), which reads the cgdrag inputs and writes the drivers' --output, against
NumPy's own (numpy.lib.format): blocks of every rank from files of every format
version, scalars, and the errors, through the test program test_npy."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import run


def npy_tool(build_dir: Path, *args: object) -> tuple[int, str, str]:
    """Run build/tests/test_npy with ``args``: exit code, standard output and error."""
    out = run([build_dir / "tests" / "test_npy", *args])
    return out.returncode, out.stdout, out.stderr


def save(path: Path, values: np.ndarray, version: tuple[int, int]) -> None:
    """``values`` as a .npy of format ``version``, Fortran order when it is."""
    with path.open("wb") as file:
        np.lib.format.write_array(file, values, version=version)


@st.composite
def blocks(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """A shape of rank 1 to 3 and a block inside it: (full, start (0-based), count)."""
    full = tuple(draw(st.lists(st.integers(1, 9), min_size=1, max_size=3)))
    start = tuple(draw(st.integers(0, n - 1)) for n in full)
    count = tuple(draw(st.integers(1, n - s)) for n, s in zip(full, start, strict=True))
    return full, start, count


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(block=blocks(), version=st.sampled_from([(1, 0), (2, 0), (3, 0)]), seed=st.integers(0, 99))
def test_blocks_of_every_rank_and_format_version(
    build_dir: Path,
    block: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]],
    version: tuple[int, int],
    seed: int,
) -> None:
    """npy_read of any block of a Fortran-ordered float64 array (format 1.0, 2.0 or
    3.0) gives NumPy's slice exactly; npy_write's file loads in NumPy as that block,
    Fortran order, and its data starts on a 64-byte boundary, as the format asks."""
    full, start, count = block
    values = np.asfortranarray(np.random.default_rng(seed).normal(size=full))
    with tempfile.TemporaryDirectory() as directory:
        source, written = Path(directory) / "in.npy", Path(directory) / "out.npy"
        save(source, values, version)
        first = [s + 1 for s in start]
        code, _, err = npy_tool(
            build_dir, "block", source, written, len(full), *full, *first, *count
        )
        assert code == 0, err
        expected = values[tuple(slice(s, s + c) for s, c in zip(start, count, strict=True))]
        got = np.load(written)
        assert got.shape == expected.shape and np.array_equal(got, expected)
        assert got.flags.f_contiguous
        header_end = written.read_bytes().index(b"\n") + 1
        assert header_end % 64 == 0 and written.stat().st_size == header_end + 8 * got.size


def test_scalars_and_shape(build_dir: Path, tmp_path: Path) -> None:
    """Byte strings lose numpy's NUL padding only; int64 scalars; shapes first
    dimension first (the empty string and a 1-element shape included)."""
    cases = {
        "text.npy": (np.bytes_(b"AMD EPYC 9B14 (avx512)"), "text [AMD EPYC 9B14 (avx512)]"),
        "empty.npy": (np.bytes_(b""), "text []"),
        "padded.npy": (np.array(b"ab", dtype="S8"), "text [ab]"),
        "int.npy": (np.int64(-42), "int64 -42"),
    }
    for name, (value, line) in cases.items():
        np.save(tmp_path / name, value)
        what = line.split()[0]
        code, out, err = npy_tool(build_dir, what, tmp_path / name)
        assert code == 0, err
        assert out.strip() == line
    np.save(tmp_path / "a.npy", np.asfortranarray(np.zeros((3, 1, 5))))
    assert npy_tool(build_dir, "shape", tmp_path / "a.npy")[1].strip() == "shape 3 1 5"
    np.save(tmp_path / "b.npy", np.zeros(7))
    assert npy_tool(build_dir, "shape", tmp_path / "b.npy")[1].strip() == "shape 7"


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "No such file or directory"),
        ("not npy", "not a .npy file"),
        ("C order", "is stored in C order; save a Fortran-ordered array"),
        ("float32", "holds dtype '<f4', expected '<f8'"),
        ("big-endian", "holds dtype '>f8', expected '<f8'"),
        ("wrong shape", "has shape (4, 3), expected (4, 2)"),
        ("wrong rank", "has shape (4,), expected (4, 2)"),
        ("truncated", "truncated data"),
        ("block outside", "block outside the array's dimension 2"),
    ],
)
def test_errors_name_the_file_and_the_cause(
    build_dir: Path, tmp_path: Path, case: str, message: str
) -> None:
    """Every refusal: exit 1, one line naming the file and what is wrong with it."""
    path = tmp_path / "bad.npy"
    good = np.asfortranarray(np.arange(8.0).reshape(4, 2))
    if case == "not npy":
        path.write_bytes(b"uuu,vvv\n1,2\n")
    elif case == "C order":
        np.save(path, np.ascontiguousarray(good))
    elif case == "float32":
        np.save(path, good.astype(np.float32))
    elif case == "big-endian":
        np.save(path, good.astype(">f8"))
    elif case == "wrong shape":
        np.save(path, np.asfortranarray(np.zeros((4, 3))))
    elif case == "wrong rank":
        np.save(path, np.zeros(4))
    elif case in ("truncated", "block outside"):
        np.save(path, good)
        if case == "truncated":
            path.write_bytes(path.read_bytes()[:-9])
    column = 2 if case == "block outside" else 1  # columns 2 and 3 of 2: outside
    out = tmp_path / "o.npy"
    code, _, err = npy_tool(build_dir, "block", path, out, 2, 4, 2, 1, column, 4, 2)
    assert code == 1
    [line] = err.splitlines()
    assert line.startswith(f"npy_read: '{path}': ") and message in line, line
    assert not (tmp_path / "o.npy").exists()


def test_write_into_a_missing_directory_fails_cleanly(build_dir: Path, tmp_path: Path) -> None:
    """npy_write into a directory that does not exist: one line, exit 1, nothing left."""
    source = tmp_path / "in.npy"
    np.save(source, np.zeros(3))
    target = tmp_path / "nowhere" / "out.npy"
    code, _, err = npy_tool(build_dir, "block", source, target, 1, 3, 1, 3)
    assert code == 1
    assert err.startswith(f"npy_write: '{target}': cannot create '{target}.tmp.")
    assert not (tmp_path / "nowhere").exists()
