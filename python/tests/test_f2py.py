"""The f2py direction: the project's Fortran imported into Python (``ftb_f2py``),
checked against its Python twins, and the Python-hosted driver ``ftbench f2py``."""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conftest import SOAK_CALLS, assert_soak_bounded, soak_samples
from ftbench import checks, inputs
from ftbench.cli import main
from ftbench.f2py_host import address, flat, load_extension
from ftbench.results import load

FUZZ = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def fortran(build_dir: Path) -> ModuleType:
    """The f2py module of the test build."""
    return load_extension(build_dir)


def _fields(rng: np.random.Generator, nlon: int, nlat: int, nlev: int) -> list[np.ndarray]:
    """Random Fortran-ordered uuu, vvv (nlon, nlat, nlev) and lat, psfc (nlon, nlat)."""
    shapes = [(nlon, nlat, nlev)] * 2 + [(nlon, nlat)] * 2
    return [np.asfortranarray(rng.standard_normal(s)) for s in shapes]


@given(nlon=st.integers(1, 7), nlat=st.integers(1, 5), nlev=st.integers(1, 6), seed=st.integers(0))
@FUZZ
def test_column_packing_is_numpy_fortran_order_reshape(
    fortran: ModuleType, nlon: int, nlat: int, nlev: int, seed: int
) -> None:
    """cgdrag_pack_columns gives exactly NumPy's order="F" reshape (column c = i +
    nlon*(j-1)), and cgdrag_apply_drag inverts it, on non-square grids."""
    rng = np.random.default_rng(seed)
    uuu, vvv, lat, psfc = _fields(rng, nlon, nlat, nlev)
    ncol = nlon * nlat
    cols = [np.zeros((ncol, k), order="F") for k in (nlev, nlev, 1, 1)]
    fortran.cgdrag_pack_columns(uuu, vvv, lat, psfc, *cols)
    for field, col in zip((uuu, vvv, lat, psfc), cols, strict=True):
        assert np.array_equal(col, field.reshape((ncol, -1), order="F"))
        assert np.array_equal(col, inputs.columns(field))
    gx, gy = np.zeros_like(uuu, order="F"), np.zeros_like(vvv, order="F")
    fortran.cgdrag_apply_drag(cols[0], cols[1], gx, gy)
    assert np.array_equal(gx, uuu) and np.array_equal(gy, vvv)


SPECIALS = [0.0, -0.0, np.inf, -np.inf, np.nan]
EXTREMES = {np.float64: [1e-300, 1e300], np.float32: [1e-38, 1e38]}


@given(
    data=st.data(),
    dtype=st.sampled_from([np.float64, np.float32]),
    rtol=st.sampled_from([0.0, 1e-12, 1e-6, 0.5]),
    atol_fraction=st.sampled_from([0.0, 1e-10, 1e-3]),
)
@FUZZ
def test_fortran_check_matches_python_twin(
    fortran: ModuleType, data: st.DataObject, dtype: type, rtol: float, atol_fraction: float
) -> None:
    """The Fortran check (bench_check's rule, through f2py) gives the ratio and
    difference of ftbench.checks.compare, NaN, Inf and zero references included."""
    n = data.draw(st.integers(1, 12))
    finite = st.floats(-1e6, 1e6, width=32 if dtype is np.float32 else 64)
    values = st.one_of(finite, st.sampled_from(SPECIALS + EXTREMES[dtype]))
    expected = data.draw(hnp.arrays(dtype, n, elements=values))
    noise = data.draw(hnp.arrays(dtype, n, elements=values))
    actual = np.where(data.draw(hnp.arrays(bool, n)), expected, noise).astype(dtype)
    check = fortran.check_real64 if dtype is np.float64 else fortran.check_real32
    ratio, difference, atol = check(actual, expected, rtol, atol_fraction)
    twin = checks.Tolerance("twin", "float64", 0.0, rtol, atol_fraction, "test")
    assert atol == twin.atol(expected)  # max over the finite references only
    twin_ratio, twin_difference = checks.compare(actual, expected, rtol, float(atol))
    assert ratio == pytest.approx(twin_ratio, rel=1e-12, nan_ok=True) or (
        np.isinf(ratio) and np.isinf(twin_ratio)
    )
    assert difference == pytest.approx(twin_difference, rel=1e-12, nan_ok=True) or (
        np.isinf(difference) and np.isinf(twin_difference)
    )
    assert (ratio <= 1) == (twin_ratio <= 1)


def test_fortran_ordered_arrays_are_passed_without_copies(fortran: ModuleType) -> None:
    """Zero-copy proven by data pointers: f2py hands Fortran the caller's memory for a
    Fortran-ordered float64/float32 array (any rank), and a copy for a C-ordered one
    or another dtype, which is why the c-order driver times its copies itself."""
    f64 = np.zeros((8, 3, 5), order="F")
    f32 = np.zeros((4, 4), dtype=np.float32, order="F")
    assert address(fortran, f64) == f64.ctypes.data
    assert address(fortran, f32) == f32.ctypes.data
    assert address(fortran, flat(f64)) == f64.ctypes.data  # flat(): a view
    c64 = np.ascontiguousarray(f64)
    assert address(fortran, c64) != c64.ctypes.data
    assert int(fortran.address_real64(f32.astype(np.float32))) != f32.ctypes.data
    assert int(fortran.address_inout_real64(f64)) == f64.ctypes.data


SOAK = """
import sys
from pathlib import Path

import numpy as np

from conftest import process_sample
from ftbench.f2py_host import load_extension

fortran = load_extension(Path(sys.argv[1]))
calls = int(sys.argv[2])
x = np.asfortranarray(np.arange(16, dtype=np.float32).reshape(4, 4))
x_in = np.zeros((4, 4), dtype=np.float32, order="F")
expected = x.reshape(-1, order="F").astype(np.float64)  # f2py converts it on every call
for call in range(1, calls + 1):
    fortran.large_stride_pack(x, x_in)
    max_ratio, _, _ = fortran.check_real32(x_in.reshape(-1, order="F"), expected, 0, 0)
    assert max_ratio == 0
    if call % (calls // 10) == 0:
        print(process_sample(call), flush=True)
"""


@pytest.mark.resident_memory
def test_soak_100000_calls(build_dir: Path, tmp_path: Path) -> None:
    """The soak in a fresh Python process: 100,000 pairs of f2py calls, one packing
    a Fortran-ordered array (no copy) and one checking it against a float64
    reference (f2py converts it to a float32 copy). From call 10,000 on, resident
    memory grows < 256 kB (< 3 bytes a call) and the open descriptors and threads
    stay the same."""
    import subprocess
    import sys

    script = tmp_path / "soak.py"
    script.write_text(SOAK)
    out = subprocess.run(
        [sys.executable, script, build_dir, str(SOAK_CALLS)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent)},
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert_soak_bounded(soak_samples(out.stdout), SOAK_CALLS, 256)


def test_wrong_order_dtype_or_shape_is_refused_by_f2py(fortran: ModuleType) -> None:
    """f2py's own errors, never a crash: a C-ordered, float32 or wrongly shaped array for
    an intent(inout) argument, and columns that do not match the grid."""
    rng = np.random.default_rng(1)
    uuu, vvv, lat, psfc = _fields(rng, 4, 2, 3)
    good = [np.zeros((8, k), order="F") for k in (3, 3, 1, 1)]
    bad = {
        "not fortran contiguous": np.zeros((8, 3)),
        "expected elsize=8": np.zeros((8, 3), dtype=np.float32, order="F"),
        "must be fixed to 3": np.zeros((8, 2), order="F"),
        "fixed to 8 but got 7": np.zeros((7, 3), order="F"),
    }
    for message, u_col in bad.items():
        with pytest.raises(ValueError, match=message):
            fortran.cgdrag_pack_columns(uuu, vvv, lat, psfc, u_col, *good[1:])
    with pytest.raises((ValueError, TypeError)):
        fortran.cgdrag_pack_columns(uuu, vvv, lat, "not an array", *good)
    with pytest.raises(ValueError):
        fortran.check_real64(np.zeros(3), np.zeros(4), 0.1, 0.0)


def test_missing_extension_names_the_fix(tmp_path: Path) -> None:
    """A build tree without the module: one line naming it and the fix, exit 1."""
    with pytest.raises(FileNotFoundError, match="no f2py module ftb_f2py in .*build"):
        load_extension(tmp_path)
    code = main(["f2py", "large_stride", "2", "--build", str(tmp_path), "--quiet"])
    assert code == 1


@pytest.mark.parametrize("order", ["F", "C"])
@pytest.mark.parametrize(
    ("benchmark", "mode", "size"),
    [
        ("large_stride", "eager", ["--n", "5"]),
        ("large_stride", "torchscript", ["--n", "5"]),
        ("cgdrag", "eager", ["--columns", "256"]),
    ],
)
def test_f2py_driver_runs_checks_and_records(
    build_dir: Path,
    model_dir: Path,
    tmp_path: Path,
    order: str,
    benchmark: str,
    mode: str,
    size: list[str],
) -> None:
    """The Python-hosted driver: every iteration checked (exactly the references, as
    the native Python baseline on 1 thread), its phases, and the zero-copy record
    (True for every host array with Fortran order, False with C order)."""
    results = tmp_path / "r.json"
    code = main(
        ["f2py", benchmark, "3", "--mode", mode, "--order", order, *size]
        + ["--models", str(model_dir), "--build", str(build_dir), "--threads", "1"]
        + ["--json", str(results), "--quiet"]
    )
    assert code == 0
    data = load(results).data
    assert data["coupling_path"] == "f2py"
    assert data["coupling_variant"] == {"F": "fortran-order", "C": "c-order"}[order]
    assert data["correctness"]["passed"] and data["correctness"]["max_abs_error"] == 0.0
    assert data["phase_order"][1] == "f2py call before" and data["phase_order"][-1] == "loop"
    assert data["model_metadata"]["format"].startswith({"eager": "python-eager"}.get(mode, mode))
    zero_copy = data["f2py"]["zero_copy"]
    assert zero_copy and all(v == (order == "F") for v in zero_copy.values())
    copies = data["phases"]["copy to Fortran order"]["statistics"]["median"]
    assert copies >= 0


def test_report_and_suite_carry_the_f2py_path(
    build_dir: Path, model_dir: Path, tmp_path: Path
) -> None:
    """The default suite runs the f2py path (both orders, with its build tree), and the
    report puts an f2py row, compared with native Python, in the fixed-cost section,
    with the time of one f2py call below the table."""
    from ftbench.report import write_report
    from ftbench.results import load_all
    from ftbench.suite import F2PY_HOST, PYTHON_BASELINE, Run, default_suite, run_suite
    from test_report import table_after

    f2py_runs = [r for r in default_suite() if r.driver == F2PY_HOST]
    assert {r.name.split("_T1_")[1] for r in f2py_runs} == {"f2py", "f2py_c"}
    command = f2py_runs[0].command(build_dir, model_dir, tmp_path / "r.json")
    assert command[command.index("--build") + 1] == str(build_dir)
    args = ("large_stride", "50", "--n", "4", "--quiet")
    runs = [Run("native", PYTHON_BASELINE, args), Run("f2py", F2PY_HOST, args)]
    raw = tmp_path / "raw.tar.xz"
    files = run_suite(runs, build_dir, model_dir, raw, progress=False)
    assert sorted(files) == ["f2py.json", "native.json"]
    text = write_report(load_all([raw]), tmp_path / "out").read_text()
    rows = {row["path"]: row for row in table_after(text, "## Fixed cost per call")}
    assert rows["f2py (fortran-order)"]["× native"] not in ("", "—")
    assert (
        "One f2py call on the 4 × 4 array alone (the `f2py call before` phase, median) takes"
        in text
    )
    # the phase table: the f2py path's own phases among the others', loop after them all
    table = text[text.index("| phase (median)") :].split("\n\n")[0].splitlines()
    names = [line.split("|")[1].strip() for line in table[2:]]
    assert names.index("copy to Fortran order") < names.index("tensor creation")
    assert names.index("f2py call after") < names.index("loop") < names.index("model load (once)")
