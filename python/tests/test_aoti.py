"""AOTInductor packages (.pt2) and torch.compile: export, caching, the memory-order
safety of both coupling layers, every load and forward error, and the drivers and
baselines that run them. See docs/direct-coupling.md and docs/benchmarks.md."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import run
from ftbench import checks
from ftbench.emulators import CheckedPackage
from ftbench.export import MAX_COLUMNS, NOT_EXPORTABLE, export_all, read_metadata, specs
from ftbench.models import large_stride
from ftbench.results import load


def test_packages_carry_signature_compile_time_and_compiler(model_dir: Path) -> None:
    metadata = read_metadata(model_dir / "cgdrag_cpu.pt2")
    assert metadata["format"] == "aoti" and metadata["layout"] == "column-major"
    assert metadata["inputs"] == [
        {"name": "wind", "dtype": "float64", "shape": [[1, MAX_COLUMNS], 40]},
        {"name": "lat", "dtype": "float64", "shape": [[1, MAX_COLUMNS], 1]},
        {"name": "pressure", "dtype": "float64", "shape": [[1, MAX_COLUMNS], 1]},
    ]
    assert metadata["compile_seconds"] > 0 and metadata["compiler"].startswith("g++")
    assert metadata["torch_version"] == torch.__version__


def test_cache_skips_recompilation(model_dir: Path) -> None:
    package = model_dir / "large_stride_vectorized_cpu.pt2"
    before = package.stat().st_mtime_ns
    done = dict(export_all(model_dir, only=["large_stride_vectorized_cpu.pt2"]))
    assert done == {package: False} and package.stat().st_mtime_ns == before


def test_cache_rebuilds_when_the_compiler_changes(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ftbench import export as export_module

    spec = next(s for s in specs() if s.file_name == "large_stride_vectorized_cpu.pt2")
    assert export_module.is_current(spec, model_dir)
    monkeypatch.setattr(export_module, "cpp_compiler", lambda: "g++: another version")
    assert not export_module.is_current(spec, model_dir)


def test_loop_model_is_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="large_stride_loop_cpu.pt2: .*one fixed N x M"):
        export_all(tmp_path, only=["large_stride_loop_cpu.pt2"])
    assert "large_stride_loop_cpu.pt2" in NOT_EXPORTABLE and list(tmp_path.iterdir()) == []


def _wavenet_inputs(n: int, order: str) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(3)
    wind = torch.randn(n, 40, generator=generator, dtype=torch.float64) * 20
    lat = torch.rand(n, 1, generator=generator, dtype=torch.float64) * 180 - 90
    pressure = 1e5 + 1e3 * torch.randn(n, 1, generator=generator, dtype=torch.float64)
    if order == "F":
        return tuple(t.t().contiguous().t() for t in (wind, lat, pressure))
    return wind, lat, pressure


def test_raw_package_is_silently_wrong_on_c_order_and_the_wrapper_refuses(
    model_dir: Path,
) -> None:
    """Why the layers check layouts: the compiled code assumes the exported strides."""
    from torch._inductor import aoti_load_package

    eager = torch.jit.load(str(model_dir / "cgdrag_cpu.pt"))
    raw = aoti_load_package(str(model_dir / "cgdrag_cpu.pt2"))
    checked = CheckedPackage(model_dir / "cgdrag_cpu.pt2")
    t = checks.tolerance("cgdrag")
    with torch.inference_mode():
        fortran = _wavenet_inputs(300, "F")
        expected = eager(*fortran).numpy()
        for package in (raw, checked):
            ratio, _ = checks.compare(package(*fortran).numpy(), expected, t.rtol, t.atol(expected))
            assert ratio <= 1
        c_order = _wavenet_inputs(300, "C")
        wrong = raw(*c_order).numpy()
        assert checks.compare(wrong, expected, t.rtol, t.atol(expected))[0] > 1e6
        with pytest.raises(ValueError, match=r"input 1 \(wind\) has strides \[40, 1\]"):
            checked(*c_order)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p, x: p(x, x), r"2 input\(s\) given but the package takes 1"),
        (lambda p, x: p(x.double()), "has dtype float64; the package expects float32"),
        (lambda p, x: p(x[None]), "has rank 3"),
        (lambda p, x: p(x[:1]), r"has shape \[1, 5\]"),
        (lambda p, x: p(x[::2]), r"has strides \[2, 7\]"),
    ],
)
def test_checked_package_errors(model_dir: Path, call: object, message: str) -> None:
    package = CheckedPackage(model_dir / "large_stride_vectorized_cpu.pt2")
    x = torch.rand(5, 7).t()  # (7, 5), column-major
    with pytest.raises(ValueError, match=message):
        call(package, x)


@pytest.mark.parametrize(
    ("file", "message"),
    [
        ("other_torch.pt2", "compiled by torch 2.12.0\\+cpu"),
        ("no_signature.pt2", "has no input signature"),
        ("missing.pt2", "does not exist"),
    ],
)
def test_checked_package_refuses_to_load(model_dir: Path, file: str, message: str) -> None:
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        CheckedPackage(model_dir / file)


def test_direct_layer_index_order_and_zero_copy_through_a_package(
    build_dir: Path, model_dir: Path
) -> None:
    out = run([build_dir / "tests" / "test_torch_model", "pt2-index-order", model_dir])
    assert out.returncode == 0, out.stdout + out.stderr
    data_ptr, address = (
        out.stdout.split("input data_ptr=")[1].split()[0],
        out.stdout.split("c_loc=")[1].split()[0],
    )
    assert data_ptr == address
    assert '"format": "aoti"' in out.stdout and out.stdout.rstrip().endswith("ALL PASSED")


PACKAGE_ERRORS = {
    "pt2-other-torch": (
        "torch_model_load",
        "other_torch.pt2': the package was compiled by torch 2.12.0+cpu but this libtorch is",
    ),
    "pt2-no-signature": (
        "torch_model_load",
        "no_signature.pt2': the package has no input signature",
    ),
    "pt2-input-count": ("torch_model_forward", "1 input(s) given but the package takes 3"),
    "pt2-wrong-rank": (
        "torch_model_forward",
        "input 1 (x) has rank 3; the package expects float32 [2..65536, 2..65536]",
    ),
    "pt2-wrong-dtype": (
        "torch_model_forward",
        "input 1 (x) has dtype float64; the package expects",
    ),
    "pt2-wrong-shape": (
        "torch_model_forward",
        "input 1 (wind) has shape [8, 39]; the package expects float64 [1..8192, 40]",
    ),
    "pt2-out-of-range": (
        "torch_model_forward",
        "has shape [1, 6]; the package expects float32 [2..65536, 2..65536] (the range",
    ),
    "pt2-strided": (
        "torch_model_forward",
        "input 1 (x) has strides [2, 4]: the package was compiled for contiguous column-major",
    ),
}


@pytest.mark.parametrize("mode", ["stat", "stop"])
@pytest.mark.parametrize("case", sorted(PACKAGE_ERRORS))
def test_direct_layer_package_errors(
    build_dir: Path, model_dir: Path, case: str, mode: str
) -> None:
    """Every mismatch is one line through stat/errmsg (or, without stat, one line on
    stderr and exit 1), never a crash and never a result."""
    procedure, text = PACKAGE_ERRORS[case]
    out = run([build_dir / "tests" / "test_torch_model", case, model_dir, mode])
    if mode == "stat":
        assert out.returncode == 0, out.stdout + out.stderr
        line = out.stdout.strip().splitlines()[-1]
        assert line.startswith(f"stat=1 errmsg={procedure}: ") and text in line
    else:
        assert out.returncode == 1, out.stdout + out.stderr
        assert out.stderr.strip().startswith(f"{procedure}: ") and text in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("driver", "args", "variant"),
    [
        ("benchmarker_cgdrag_torch", ["cgdrag_cpu.pt2"], "implicit reshape"),
        ("benchmarker_cgdrag_forpy", ["cgdrag_emulator", "--aoti", "cgdrag_cpu.pt2"], "aoti"),
        ("benchmarker_cgdrag_forpy", ["cgdrag_emulator", "--compile"], "torch.compile"),
        ("benchmarker_torch", ["cgdrag_cpu.pt2"], "MiMA cg_drag_ML"),
        ("benchmarker_forpy", ["cgdrag_emulator", "--aoti", "cgdrag_cpu.pt2"], "aoti, MiMA"),
    ],
)
def test_cgdrag_drivers_run_packages_and_compiled_models(
    build_dir: Path, model_dir: Path, tmp_path: Path, driver: str, args: list[str], variant: str
) -> None:
    results = tmp_path / "r.json"
    model, *options = args
    out = run(
        [build_dir / "bin" / driver, model_dir, model, 2, "--threads", 1, "--columns", 256]
        + [*options, "--json", results]
    )
    assert out.returncode == 0, out.stdout + out.stderr
    data = load(results).data
    assert variant in data["coupling_variant"] and data["correctness"]["passed"]
    assert data["correctness"]["max_error_ratio"] <= 0.1
    if "MiMA" not in variant:  # the published MiMA-style drivers record no metadata
        expected_format = "python-torch.compile" if "--compile" in options else "aoti"
        assert data["model_metadata"]["format"] == expected_format


@pytest.mark.parametrize("options", [["--aoti", "large_stride_vectorized_cpu.pt2"], ["--compile"]])
def test_large_stride_embedded_driver_packages_and_compile(
    build_dir: Path, model_dir: Path, tmp_path: Path, options: list[str]
) -> None:
    results = tmp_path / "r.json"
    out = run(
        [build_dir / "bin" / "benchmarker_large_stride_forpy", model_dir, "large_stride_emulator"]
        + [3, 7, "--variant", "vectorized", *options, "--json", results]
    )
    assert out.returncode == 0, out.stdout + out.stderr
    correctness = load(results).data["correctness"]
    assert correctness["passed"] and correctness["max_abs_error"] == 0.0


def test_embedded_model_options_are_exclusive(build_dir: Path, model_dir: Path) -> None:
    out = run(
        [build_dir / "bin" / "benchmarker_cgdrag_forpy", model_dir, "cgdrag_emulator", 1]
        + ["--aoti", "cgdrag_cpu.pt2", "--compile"]
    )
    assert out.returncode == 2
    assert "give at most one of --torchscript, --aoti and --compile" in out.stderr


def test_embedded_c_ordered_view_is_refused(model_dir: Path) -> None:
    """The embedded path's views are Fortran-ordered; a C-ordered array is refused."""
    import sys

    sys.path.insert(0, str(model_dir))
    try:
        import large_stride_emulator as emulator
    finally:
        sys.path.remove(str(model_dir))
    model = emulator.initialize_aoti(str(model_dir / "large_stride_vectorized_cpu.pt2"))
    x = np.ones((4, 6), dtype=np.float32)  # C order
    with pytest.raises(ValueError, match="column-major"):
        emulator.compute(model, x, np.zeros_like(x))
    xf = np.asfortranarray(x)
    y = np.zeros_like(xf)
    emulator.compute(model, xf, y)
    np.testing.assert_array_equal(y, large_stride.reference(xf))


@pytest.mark.parametrize(
    ("benchmark", "mode", "size"),
    [
        ("cgdrag", "aoti", ["--columns", "256"]),
        ("large_stride", "aoti", ["--n", "9"]),
        ("large_stride", "compile", ["--n", "9"]),
    ],
)
def test_python_baselines_for_the_new_formats(
    model_dir: Path, tmp_path: Path, benchmark: str, mode: str, size: list[str]
) -> None:
    from ftbench.cli import main

    results = tmp_path / "r.json"
    code = main(
        ["native", benchmark, "2", "--mode", mode, *size, "--models", str(model_dir)]
        + ["--threads", "1", "--json", str(results), "--quiet"]
    )
    assert code == 0
    data = load(results).data
    assert data["coupling_path"] == f"native-python-{mode}" and data["correctness"]["passed"]


def test_cpp_baseline_runs_a_package(build_dir: Path, model_dir: Path, tmp_path: Path) -> None:
    results = tmp_path / "r.json"
    out = run(
        [build_dir / "bin" / "benchmarker_native_cpp", model_dir, "cgdrag_cpu.pt2", 2, "cgdrag"]
        + ["--columns", 256, "--threads", 1, "--json", results]
    )
    assert out.returncode == 0, out.stdout + out.stderr
    data = load(results).data
    assert data["coupling_path"] == "native-cpp-aoti" and data["correctness"]["passed"]
    assert json.loads(json.dumps(data["model_metadata"]))["format"] == "aoti"


@pytest.mark.parametrize("case", ["pt2-index-order", "pt2-wrong-rank"])
def test_no_extracted_package_left_behind(
    build_dir: Path, model_dir: Path, tmp_path: Path, case: str
) -> None:
    """AOTInductor extracts a package into a temporary directory; the layer removes it
    when the model is deleted, and at exit when the program stops on an error."""
    import os

    temporary = tmp_path / "tmp"
    temporary.mkdir()
    out = run(
        [build_dir / "tests" / "test_torch_model", case, model_dir, "stop"],
        env={**os.environ, "TMPDIR": str(temporary)},
    )
    assert out.returncode == (0 if case == "pt2-index-order" else 1), out.stdout + out.stderr
    assert list(temporary.iterdir()) == []
