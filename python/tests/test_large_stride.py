"""The large-stride model, its export, and its driver end to end."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import REPO, run
from ftbench import export as export_module
from ftbench import inputs
from ftbench.emulators import load_aoti
from ftbench.export import SPECS, RoundTripError, export, export_all, read_metadata
from ftbench.models import large_stride
from ftbench.results import load

DRIVER = "benchmarker_large_stride_torch"


@pytest.mark.parametrize("variant", sorted(large_stride.VARIANTS))
def test_model_matches_reference_on_column_major_input(variant: str) -> None:
    x = torch.rand(5, 3).t()  # (3, 5), strides (1, 3): a Fortran array's view
    y = large_stride.build(variant)(x)
    np.testing.assert_array_equal(y.numpy(), large_stride.reference(x.numpy()))
    assert y[0, 1] == -2 * x[0, 1] and y[1, 0] == 2 * x[1, 0]


def test_unknown_variant_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown large-stride variant 'fast'"):
        large_stride.build("fast")


def test_export_round_trip_and_metadata(tmp_path: Path) -> None:
    written = export_all(tmp_path)  # no checkpoint: the large-stride models and ResNet-18
    assert sorted(p.name for p, _ in written) == sorted(s.file_name for s in SPECS)
    assert all(fresh for _, fresh in written)
    for spec in SPECS:
        path = tmp_path / spec.file_name
        assert read_metadata(path)["model"] == spec.model_name
        loaded = load_aoti(path) if spec.fmt == "aoti" else torch.jit.load(str(path))
        with torch.inference_mode():
            if spec.benchmark == "large_stride":  # exact: one multiplication per element
                x = torch.rand(6, 4).t()  # column-major, as the drivers pass it
                assert torch.equal(loaded(x), spec.build()(x))
            else:  # ResNet-18: float32 convolutions, within its counted tolerance
                x = torch.rand(1, 3, 224, 224)
                assert torch.allclose(loaded(x), spec.build()(x), rtol=2e-3, atol=2e-3)
    # A second export finds the files current and leaves them alone.
    assert not any(fresh for _, fresh in export_all(tmp_path))


def test_failed_round_trip_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = SPECS[0]
    other = torch.jit.script(large_stride.build("vectorized"))
    monkeypatch.setattr(export_module.torch.jit, "load", lambda *a, **k: lambda x: other(x) + 1)
    with pytest.raises(RoundTripError, match="differs from the eager model"):
        export(spec, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_export_rejects_unknown_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown model file"):
        export_all(tmp_path, only=["nope.pt"])


@pytest.mark.parametrize(
    ("file_name", "n"), [("large_stride_vectorized_cpu.pt", 33), ("large_stride_loop_cpu.pt", 6)]
)
def test_driver_passes_and_writes_valid_results(
    build_dir: Path, model_dir: Path, tmp_path: Path, file_name: str, n: int
) -> None:
    results = tmp_path / "r.json"
    out = run(
        [build_dir / "bin" / DRIVER, model_dir, file_name, 4, n, "--threads", 1]
        + ["--warmup", 2, "--json", results]
    )
    assert out.returncode == 0, out.stdout + out.stderr
    checks = [line for line in out.stdout.splitlines() if line.startswith("PASSED :: [check")]
    assert len(checks) == 6  # 2 warm-up + 4 measured
    assert "2 warm-up iteration(s) excluded" in out.stdout
    result = load(results)  # validates against the schema
    data = result.data
    assert data["sizes"] == {"N": n} and data["threads"] == 1 and data["warmup"] == 2
    assert data["phase_order"] == ["tensor creation", "forward", "tensor deletion", "loop"]
    assert all(len(data["phases"][p]["seconds"]) == 4 for p in data["phase_order"])
    assert all(len(data["phases"][p]["warmup_seconds"]) == 2 for p in data["phase_order"])
    assert set(data["once"]) == {"model load", "model delete"}
    assert data["correctness"]["passed"] and data["correctness"]["max_abs_error"] == 0
    assert data["correctness"]["max_error_ratio"] == 0 and set(data["correctness"]["atol"]) == {"y"}
    assert result.model_name == Path(file_name).stem.removesuffix("_cpu")
    for phase in data["phase_order"]:  # the Fortran statistics agree with NumPy's
        seconds = np.array(data["phases"][phase]["seconds"])
        stats = data["phases"][phase]["statistics"]
        assert stats["median"] == np.median(seconds) and stats["min"] == seconds.min()
        assert stats["stddev"] == pytest.approx(seconds.std(ddof=1), rel=1e-12)


def test_driver_missing_model_one_line_no_results(
    build_dir: Path, model_dir: Path, tmp_path: Path
) -> None:
    results = tmp_path / "r.json"
    out = run([build_dir / "bin" / DRIVER, model_dir, "missing.pt", 2, 8, "--json", results])
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1
    assert "missing.pt': no such file" in out.stderr and "ftbench export" in out.stderr
    assert list(tmp_path.iterdir()) == []


def test_driver_model_of_another_shape_fails_in_one_line(
    build_dir: Path, model_dir: Path, tmp_path: Path
) -> None:
    # mm_float32.pt needs a (., 4) input: on N x N real32 with N = 8 forward raises.
    out = run(
        [build_dir / "bin" / DRIVER, model_dir, "mm_float32.pt", 2, 8, "--json", tmp_path / "r"]
    )
    assert out.returncode == 1
    (line,) = out.stderr.strip().splitlines()
    assert line.startswith(f"torch_model_forward: forward of '{model_dir}/mm_float32.pt' on ")
    assert "float32 [8, 8]" in line and "shapes cannot be multiplied (8x8 and 4x2)" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "missing argument <model-dir>"),
        (["m", "f.pt", "3"], "missing argument <N>"),
        (["m", "f.pt", "x", "8"], "<ntimes> must be an integer, got 'x'"),
        (["m", "f.pt", "0", "8"], "<ntimes> must be at least 1"),
        (["m", "f.pt", "3", "8", "--threads"], "option --threads needs a value K"),
        (["m", "f.pt", "3", "8", "--frobnicate"], "unknown option '--frobnicate'"),
        (["m", "f.pt", "3", "8", "extra"], "unexpected argument 'extra'"),
        (["m", "f.pt", "3", "8", "--json", "/no/such/dir/r.json"], "directory '/no/such/dir'"),
    ],
)
def test_driver_usage_errors(build_dir: Path, args: list[str], message: str) -> None:
    out = run([build_dir / "bin" / DRIVER, *args])
    assert out.returncode == 2
    first = out.stderr.splitlines()[0]
    assert first.startswith(f"{DRIVER}: ") and message in first
    assert "usage: " + DRIVER in out.stderr


def test_driver_help(build_dir: Path) -> None:
    out = run([build_dir / "bin" / DRIVER, "--help"])
    assert out.returncode == 0 and "--warmup K" in out.stdout


def test_failed_check_is_recorded_and_exits_nonzero(
    build_dir: Path, model_dir: Path, tmp_path: Path
) -> None:
    # index_probe.pt returns 10*i + j, not 2x: every check must fail.
    results = tmp_path / "r.json"
    out = run([build_dir / "bin" / DRIVER, model_dir, "index_probe.pt", 2, 4, "--json", results])
    assert out.returncode == 1
    assert out.stderr.count("FAILED :: [check") == 3
    assert "FAILED: 3 of 3 iterations" in out.stderr
    data = load(results).data  # a failed run's file is complete and valid too
    assert data["correctness"]["passed"] is False and data["correctness"]["failed_iterations"] == 3
    assert (
        data["correctness"]["max_error_ratio"] > 1 and len(data["correctness"]["error_ratios"]) == 2
    )


FORPY = "benchmarker_large_stride_forpy"


@pytest.mark.parametrize(
    ("options", "variant_label", "model_name"),
    [
        (["--variant", "vectorized"], "python model", "large_stride_vectorized"),
        (["--variant", "loop"], "python model", "large_stride_loop"),
        (
            ["--torchscript", "large_stride_vectorized_cpu.pt"],
            "torchscript",
            "large_stride_vectorized",
        ),
    ],
)
def test_embedded_driver_passes_and_writes_valid_results(
    build_dir: Path,
    model_dir: Path,
    tmp_path: Path,
    options: list[str],
    variant_label: str,
    model_name: str,
) -> None:
    results = tmp_path / "r.json"
    out = run(
        [build_dir / "bin" / FORPY, model_dir, "large_stride_emulator", 3, 7, "--threads", 1]
        + [*options, "--json", results]
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("PASSED :: [check") == 4
    result = load(results)
    data = result.data
    assert data["coupling_path"] == "embedded-python"
    assert data["coupling_variant"] == variant_label
    assert result.model_name == model_name
    assert data["threads"] == 1 and data["sizes"] == {"N": 7}
    assert data["phase_order"] == ["tensor creation", "forward", "tensor deletion", "loop"]
    assert data["environment"]["torch_version"].startswith("2.13.0")
    assert data["correctness"]["passed"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no_such_module"], "py_import: cannot import module 'no_such_module'"),
        (["large_stride_emulator", "--variant", "fast"], "unknown large-stride variant 'fast'"),
        (["large_stride_emulator", "--torchscript", "missing.pt"], "missing.pt does not exist"),
    ],
)
def test_embedded_driver_errors(
    build_dir: Path, model_dir: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    module, *options = args
    results = tmp_path / "r.json"
    out = run([build_dir / "bin" / FORPY, model_dir, module, 2, 8, *options, "--json", results])
    assert out.returncode == 1
    assert message in out.stderr.splitlines()[0]
    assert not results.exists()


def test_usets_build_loads_torchscript_by_default(
    build_dir: Path, model_dir: Path, tmp_path: Path
) -> None:
    """-DUSETS=ON (the published switch) makes the embedded driver load TorchScript."""
    cache = (build_dir / "CMakeCache.txt").read_text()
    prefix = next(
        line.split("=", 1)[1] for line in cache.splitlines() if line.startswith("CMAKE_PREFIX_PATH")
    )
    python = next(
        line.split("=", 1)[1] for line in cache.splitlines() if line.startswith("Python_EXECUTABLE")
    )
    usets = tmp_path / "build-usets"
    configure = run(
        ["cmake", "-S", REPO, "-B", usets, "-DUSETS=ON", f"-DCMAKE_PREFIX_PATH={prefix}"]
        + [f"-DPython_EXECUTABLE={python}", "-DCMAKE_BUILD_TYPE=Release"]
    )
    assert configure.returncode == 0, configure.stderr
    build = run(["cmake", "--build", usets, "--target", FORPY, "--parallel", "2"])
    assert build.returncode == 0, build.stdout[-2000:]
    results = tmp_path / "r.json"
    out = run([usets / "bin" / FORPY, model_dir, "large_stride_emulator", 2, 6, "--json", results])
    assert out.returncode == 0, out.stdout + out.stderr
    data = load(results).data
    assert data["coupling_variant"] == "torchscript"
    assert data["model_metadata"]["format"] == "torchscript-scripted"
    # and 'none' still builds the model in Python
    out = run(
        [usets / "bin" / FORPY, model_dir, "large_stride_emulator", 2, 6, "--torchscript", "none"]
        + ["--json", results]
    )
    assert out.returncode == 0 and load(results).data["coupling_variant"] == "python model"


def test_every_path_feeds_identical_input_bytes(
    build_dir: Path, model_dir: Path, tmp_path: Path
) -> None:
    """The direct and embedded drivers, the C++ and the Python baselines write their
    first input; all equal the rule of checks.json (ftbench.inputs) byte for byte."""
    n = 37  # odd: a row/column swap or a wrong stride changes the bytes
    programs = {
        "direct": [build_dir / "bin" / DRIVER, model_dir, "large_stride_vectorized_cpu.pt", 1, n],
        "embedded": [build_dir / "bin" / FORPY, model_dir, "large_stride_emulator", 1, n]
        + ["--variant", "vectorized"],
        "native-cpp": [build_dir / "bin" / "benchmarker_native_cpp", model_dir]
        + ["large_stride_vectorized_cpu.pt", 1, "large_stride", "--n", n],
        "native-python": [sys.executable, "-m", "ftbench.cli", "native", "large_stride", 1]
        + ["--n", n, "--models", model_dir],
    }
    expected = inputs.large_stride_input(n, 0)
    assert expected.dtype == np.float32 and expected.flags.f_contiguous
    assert len(np.unique(expected)) > n  # not a constant or a single row
    for path, command in programs.items():
        written = tmp_path / f"{path}.bin"
        out = run([*command, "--threads", 1, "--write-input", written])
        assert out.returncode == 0, path + out.stdout + out.stderr
        assert written.read_bytes() == expected.tobytes(order="F"), path
    # Consecutive iterations differ (a stale output fails the check).
    assert not np.array_equal(inputs.large_stride_input(n, 1), expected)


def test_write_input_to_unwritable_path_fails_in_one_line(
    build_dir: Path, model_dir: Path, tmp_path: Path
) -> None:
    results = tmp_path / "r.json"
    out = run(
        [build_dir / "bin" / DRIVER, model_dir, "large_stride_vectorized_cpu.pt", 1, 4]
        + ["--write-input", tmp_path / "missing" / "x.bin", "--json", results]
    )
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    assert "--write-input" in out.stderr and not results.exists()
