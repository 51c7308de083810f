"""The correctness check: its rule, its one definition, that it holds across thread
counts, model formats and memory orders, and that it still catches real faults.

See docs/checks.md. The planted faults go through the Fortran drivers' own check
(build/tests/test_cgdrag_check, which calls cgdrag_case and bench_check, and
through them the C comparison the C++ baseline uses too) and through the Python
one (ftbench.checks), which must agree.
"""

from __future__ import annotations

import copy
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import REPO, run
from ftbench import checks
from ftbench.emulators import CheckedPackage
from ftbench.inputs import columns, read_inputs, synthetic_fields
from ftbench.models import wavenet
from ftbench.results import load

HONEST_MARGIN = 10.0
"""An honest run must stay below 1/10 of the tolerance."""
FAULT_FACTOR = 100.0
"""A planted fault must exceed the tolerance at least 100 times."""


# --- the rule ---------------------------------------------------------------------


def test_rule_at_the_boundary() -> None:
    expected = np.array([1.0, -2.0, 0.0])
    rtol, atol = 1e-3, 1e-6
    bound = rtol * np.abs(expected) + atol
    ratio, diff = checks.compare(expected + bound, expected, rtol, atol)
    assert ratio == pytest.approx(1.0, rel=1e-9) and diff == pytest.approx(bound.max())
    ratio, _ = checks.compare(expected + 2 * bound, expected, rtol, atol)
    assert ratio == pytest.approx(2.0, rel=1e-9)


@pytest.mark.parametrize(
    ("actual", "expected", "ratio"),
    [
        ([np.nan], [1.0], np.inf),
        ([1.0], [np.nan], np.inf),
        ([np.inf], [np.inf], 0.0),
        ([-np.inf], [np.inf], np.inf),
        ([np.inf], [1.0], np.inf),
        ([0.0], [0.0], 0.0),
    ],
)
def test_rule_non_finite_and_zero(actual: list, expected: list, ratio: float) -> None:
    assert checks.compare(np.array(actual), np.array(expected), 1e-10, 0.0)[0] == ratio


def test_rule_zero_tolerance_means_exact() -> None:
    assert checks.compare(np.array([1.0]), np.array([1.0]), 0.0, 0.0) == (0.0, 0.0)
    assert checks.compare(np.array([1.0 + 1e-16 * 2]), np.array([1.0]), 0.0, 0.0)[0] == np.inf


def test_rule_compares_by_index_not_memory_order() -> None:
    a = np.arange(6.0).reshape(2, 3)
    assert checks.compare(np.asfortranarray(a), a, 0.0, 0.0) == (0.0, 0.0)
    with pytest.raises(ValueError, match="shape"):
        checks.compare(a, a.T, 0.0, 0.0)


# --- one definition ---------------------------------------------------------------


@pytest.mark.parametrize("benchmark", ["cgdrag", "large_stride"])
def test_tolerance_follows_its_basis(benchmark: str) -> None:
    t = checks.tolerance(benchmark)
    assert t.rtol == t.rounding_units * checks.unit_roundoff(t.dtype)
    assert t.atol_fraction == t.rtol and str(t.rounding_units) in t.basis


def test_wavenet_rounding_units_are_its_dot_product_lengths() -> None:
    """1418 = the summed lengths of the dot products on WaveNet-2's deepest path."""
    model = wavenet.build()
    linears = [m for m in model.shared if isinstance(m, torch.nn.Linear)]
    linears += [m for m in model.branches[0] if isinstance(m, torch.nn.Linear)]
    assert sum(m.in_features for m in linears) == checks.tolerance("cgdrag").rounding_units


def test_generated_fortran_and_c_tolerances_are_the_json_ones(build_dir: Path) -> None:
    fortran = (build_dir / "generated" / "bench_tolerances.f90").read_text()
    header = (build_dir / "generated" / "bench_tolerances.h").read_text()
    for benchmark in ("cgdrag", "large_stride"):
        t = checks.tolerance(benchmark)
        for field in ("rtol", "atol_fraction"):
            f = re.search(rf"{benchmark}_{field} = &?\s*([-+.\deE]+)_real64", fortran)
            c = re.search(rf"FTB_{benchmark.upper()}_{field.upper()} ([-+.\deE]+)", header)
            assert f and c and float(f.group(1)) == float(c.group(1)) == getattr(t, field)


def test_unknown_benchmark_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="no tolerance for benchmark 'resnet'.*cgdrag"):
        checks.tolerance("resnet")


def test_unit_roundoff_and_the_tolerances_values() -> None:
    assert checks.unit_roundoff("float64") == 2.0**-53
    assert checks.unit_roundoff("float32") == 2.0**-24
    cgdrag = checks.tolerance("cgdrag")
    assert (cgdrag.dtype, cgdrag.rounding_units, cgdrag.rtol) == ("float64", 1418, 1418 * 2.0**-53)
    known = r"\(cgdrag, cgdrag_train, large_stride"
    with pytest.raises(ValueError, match=r"'description' in checks.json " + known):
        checks.tolerance("description")  # the file's comment, not a benchmark


def test_atol_is_a_fraction_of_the_largest_magnitude() -> None:
    t = checks.tolerance("large_stride")
    assert t.atol(np.array([[1.0, -8.0], [2.0, 4.0]])) == 8.0 * t.atol_fraction
    assert t.atol(np.array([])) == 0.0


def test_rule_on_empty_arrays_and_without_floating_point_warnings() -> None:
    assert checks.compare(np.zeros((0, 3)), np.zeros((0, 3)), 0.0, 0.0) == (0.0, 0.0)
    actual = np.array([np.inf, 1e308, 1.0, 0.0, np.nan])
    expected = np.array([np.inf, -1e308, 2.0, 0.0, 1.0])  # inf - inf, overflow, x / 0, 0 / 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert checks.compare(actual, expected, 0.0, 0.0) == (np.inf, np.inf)
        assert checks.compare(actual[:1], expected[:1], 0.0, 0.0) == (0.0, 0.0)  # same infinity


def test_rule_compares_in_float64_whatever_the_input_dtype() -> None:
    """int8 127 against -128 differs by 255, not by the wrapped-around 1."""
    ratio, difference = checks.compare(np.int8([127]), np.int8([-128]), 0.0, 1.0)
    assert (ratio, difference) == (255.0, 255.0)
    ratio, difference = checks.compare(np.array([np.nan, 1.0]), np.array([1.0, 1.5]), 0.0, 1.0)
    assert ratio == difference == np.inf  # a NaN anywhere wins, not the finite maximum


def test_cpu_model_from_proc_cpuinfo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: X\nmodel name\t: Some CPU @ 2.0GHz: v2 \n")
    real_open = open

    def fake_open(path: str, *args: object, **kwargs: object):  # noqa: ANN202
        assert path == "/proc/cpuinfo"
        return real_open(info, *args, **kwargs)

    monkeypatch.setattr(checks, "open", fake_open, raising=False)
    assert checks.cpu_model() == "Some CPU @ 2.0GHz: v2"
    info.write_text("processor\t: 0\n")
    assert checks.cpu_model() == "unknown"
    info.unlink()
    assert checks.cpu_model() == "unknown"


def test_rounding_conditions_name_what_rounding_depends_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shown = "  - Build settings: BLAS_INFO=mkl,BUILD_TYPE=Release, LAPACK_INFO=mkl\n"
    monkeypatch.setattr(torch.__config__, "show", lambda: shown)
    conditions = checks.rounding_conditions()
    assert conditions == {
        "cpu_model": checks.cpu_model(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "blas": "mkl",
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    monkeypatch.setattr(torch.__config__, "show", lambda: "no BLAS here")
    assert checks.rounding_conditions()["blas"] == "unknown"


# --- the check on honest runs and on planted faults ----------------------------------


def _wavenet_outputs(
    model: object, wind: np.ndarray, order: str = "F", dtype: torch.dtype = torch.float64
) -> np.ndarray:
    fields = synthetic_fields()
    lat2d = np.broadcast_to(fields["lat"][np.newaxis, :], fields["psfc"].shape)
    layout = np.asfortranarray if order == "F" else np.ascontiguousarray
    args = [torch.from_numpy(layout(columns(a))).to(dtype) for a in (wind, lat2d, fields["psfc"])]
    with torch.inference_mode():
        drag = model(*args)
    return drag.double().numpy().reshape(wind.shape, order="F")


def _outputs(model_dir: Path, case: str) -> tuple[np.ndarray, np.ndarray]:
    """(gwfu, gwfv) of one honest run or one planted fault, on the whole grid."""
    fields = synthetic_fields()
    eager = wavenet.build(model_dir / "wavenet_checkpoint.pt")
    scripted = torch.jit.load(str(model_dir / "cgdrag_cpu.pt"))
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1 if case.endswith("1 thread") else 2)
        dtype = torch.float64
        if case.startswith("TorchScript"):
            model, order = scripted, "F"
        elif case.startswith("AOTInductor"):
            model, order = CheckedPackage(model_dir / "cgdrag_cpu.pt2"), "F"
        elif case.startswith("eager C-ordered"):
            model, order = eager, "C"
        else:
            model, order = eager, "F"
        if case == "float32 model":
            model, dtype = copy.deepcopy(eager).float(), torch.float32
        wind_u, wind_v = fields["uuu"], fields["vvv"]
        if case == "input of the neighbouring column":
            wind_u, wind_v = np.roll(wind_u, 1, axis=0), np.roll(wind_v, 1, axis=0)
        u = _wavenet_outputs(model, wind_u, order, dtype)
        v = _wavenet_outputs(model, wind_v, order, dtype)
    finally:
        torch.set_num_threads(threads)
    if case == "columns in C order":
        u = u.reshape(-1, u.shape[2], order="F").reshape(u.shape, order="C")
        v = v.reshape(-1, v.shape[2], order="F").reshape(v.shape, order="C")
    elif case == "two levels swapped":
        u[:, :, [20, 21]] = u[:, :, [21, 20]]
    elif case == "a single NaN":
        v[70, 30, 5] = np.nan
    return u, v


def _fortran_check(build_dir: Path, data: Path, u: np.ndarray, v: np.ndarray, tmp: Path) -> dict:
    path = tmp / "outputs"
    path.mkdir()
    for name, values in (("gwfu", u), ("gwfv", v)):
        np.save(path / f"{name}.npy", np.asfortranarray(values))
    out = run([build_dir / "tests" / "test_cgdrag_check", data, path])
    assert out.returncode == 0, out.stdout + out.stderr
    values = dict(line.split() for line in out.stdout.splitlines())
    return {
        "ratio": float(values["max_error_ratio"]),
        "diff": float(values["max_abs_error"]),
        "passed": values["passed"] == "T",
    }


def _python_check(data: dict, u: np.ndarray, v: np.ndarray) -> float:
    t = checks.tolerance("cgdrag")
    return max(
        checks.compare(u, data["gwfu_ref"], t.rtol, t.atol(data["gwfu_ref"]))[0],
        checks.compare(v, data["gwfv_ref"], t.rtol, t.atol(data["gwfv_ref"]))[0],
    )


HONEST = [
    "eager 1 thread",
    "eager 2 threads",
    "eager C-ordered 1 thread",
    "TorchScript 1 thread",
    "TorchScript 2 threads",
    "AOTInductor 1 thread",
    "AOTInductor 2 threads",
]
FAULTS = [
    "columns in C order",
    "two levels swapped",
    "input of the neighbouring column",
    "float32 model",
    "a single NaN",
]


@pytest.mark.parametrize("references", ["cgdrag_t42", "cgdrag_t42_2threads"])
@pytest.mark.parametrize("case", HONEST + FAULTS)
def test_cgdrag_check_on_honest_runs_and_planted_faults(
    build_dir: Path, model_dir: Path, tmp_path: Path, case: str, references: str
) -> None:
    """Honest outputs (any thread count, eager or TorchScript, C- or Fortran-ordered
    input, references made on 1 or 2 threads) stay 10x below the tolerance; every
    planted fault exceeds it at least 100x, in the Fortran check and the Python one alike."""
    data_path = model_dir / "data" / references
    u, v = _outputs(model_dir, case)
    fortran = _fortran_check(build_dir, data_path, u, v, tmp_path)
    python = _python_check(read_inputs(data_path), u, v)
    if case in HONEST:
        assert fortran["passed"] and fortran["ratio"] <= 1 / HONEST_MARGIN
    else:
        assert not fortran["passed"] and fortran["ratio"] >= FAULT_FACTOR
    if np.isfinite(fortran["ratio"]):
        assert python == pytest.approx(fortran["ratio"], rel=1e-12, abs=1e-300)
    else:
        assert python == np.inf and fortran["diff"] == np.inf


# --- drivers and baselines on references made on another thread count ---------------


@pytest.mark.parametrize(
    ("driver", "model", "threads", "references"),
    [
        ("benchmarker_cgdrag_torch", "cgdrag_cpu.pt", 2, "cgdrag_t42"),
        ("benchmarker_cgdrag_torch", "cgdrag_cpu.pt", 1, "cgdrag_t42_2threads"),
        ("benchmarker_cgdrag_forpy", "cgdrag_emulator", 2, "cgdrag_t42"),
        ("benchmarker_cgdrag_forpy", "cgdrag_emulator", 1, "cgdrag_t42_2threads"),
    ],
)
def test_drivers_pass_on_references_of_another_thread_count(
    build_dir: Path,
    model_dir: Path,
    tmp_path: Path,
    driver: str,
    model: str,
    threads: int,
    references: str,
) -> None:
    results = tmp_path / "r.json"
    out = run(
        [build_dir / "bin" / driver, model_dir, model, 1, "--threads", threads, "--columns", 1024]
        + ["--data", model_dir / "data" / references, "--json", results, "--quiet"]
    )
    assert out.returncode == 0, out.stdout + out.stderr
    correctness = load(results).data["correctness"]
    assert correctness["passed"] and correctness["max_error_ratio"] <= 1 / HONEST_MARGIN
    assert correctness["reference_conditions"]["threads"] != threads
    assert correctness["rtol"] == checks.tolerance("cgdrag").rtol
    assert set(correctness["atol"]) == {"gwfu", "gwfv"}


def test_cpp_baseline_on_references_of_another_thread_count(
    build_dir: Path, model_dir: Path, tmp_path: Path
) -> None:
    results = tmp_path / "r.json"
    out = run(
        [build_dir / "bin" / "benchmarker_native_cpp", model_dir, "cgdrag_cpu.pt", 1, "cgdrag"]
        + ["--columns", 1024, "--threads", 2, "--json", results]
    )
    assert out.returncode == 0, out.stdout + out.stderr
    correctness = load(results).data["correctness"]
    assert correctness["passed"] and correctness["max_error_ratio"] <= 1 / HONEST_MARGIN
    assert correctness["reference_conditions"]["threads"] == 1


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize(
    "driver", ["benchmarker_large_stride_torch", "benchmarker_large_stride_forpy"]
)
def test_large_stride_drivers_exact_on_any_thread_count(
    build_dir: Path, model_dir: Path, tmp_path: Path, driver: str, threads: int
) -> None:
    """2 x input is exact in float32 whatever the threads: the check sees no difference."""
    model = (
        "large_stride_vectorized_cpu.pt" if driver.endswith("torch") else "large_stride_emulator"
    )
    extra = [] if driver.endswith("torch") else ["--variant", "vectorized"]
    results = tmp_path / "r.json"
    out = run(
        [build_dir / "bin" / driver, model_dir, model, 3, 64, "--threads", threads, *extra]
        + ["--json", results]
    )
    assert out.returncode == 0, out.stdout + out.stderr
    correctness = load(results).data["correctness"]
    assert correctness["max_abs_error"] == 0.0 and correctness["passed"]


def test_inputs_record_the_reference_conditions(model_dir: Path) -> None:
    conditions = read_inputs(model_dir / "data" / "cgdrag_t42_2threads")["reference_conditions"]
    assert conditions["threads"] == 2
    assert conditions["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert conditions["blas"] in torch.__config__.show()
    assert conditions["cpu_model"] == checks.cpu_model()


def test_checks_json_is_the_one_the_package_reads() -> None:
    on_disk = json.loads((REPO / "python" / "src" / "ftbench" / "checks.json").read_text())
    assert on_disk["cgdrag"]["rtol"] == checks.tolerance("cgdrag").rtol
