"""Native baselines (C++ and Python, no Fortran): same inputs, same checks, same outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run
from ftbench.cli import main
from ftbench.results import load


@pytest.mark.parametrize("mode", ["eager", "torchscript"])
@pytest.mark.parametrize("grad", ["inference_mode", "no_grad"])
@pytest.mark.parametrize(
    ("benchmark", "size"),
    [("large_stride", ["--variant", "vectorized", "--n", "9"]), ("cgdrag", ["--columns", "512"])],
)
def test_python_baseline_matches_references(
    model_dir: Path, tmp_path: Path, mode: str, grad: str, benchmark: str, size: list[str]
) -> None:
    """Exact agreement with the references the coupled paths are checked against
    (references made on 1 thread, like this run: every element equal), so the
    baseline computes the same outputs."""
    results = tmp_path / "r.json"
    code = main(
        ["native", benchmark, "2", "--mode", mode, "--grad", grad, *size]
        + ["--models", str(model_dir), "--threads", "1", "--json", str(results), "--quiet"]
    )
    assert code == 0
    data = load(results).data
    assert data["coupling_path"] == f"native-python-{mode}" and data["coupling_variant"] == grad
    assert data["correctness"]["passed"] and data["correctness"]["max_abs_error"] == 0.0
    assert data["correctness"]["max_error_ratio"] == 0.0
    assert data["phase_order"] == ["tensor creation", "forward", "tensor deletion", "loop"]
    assert data["threads"] == 1


@pytest.mark.parametrize(
    ("model", "args", "sizes"),
    [
        ("large_stride_vectorized_cpu.pt", ["large_stride", "--n", "9"], {"N": 9}),
        ("large_stride_loop_cpu.pt", ["large_stride", "--n", "5"], {"N": 5}),
        ("cgdrag_cpu.pt", ["cgdrag", "--columns", "512"], {"columns": 512, "levels": 40}),
    ],
)
def test_cpp_baseline_matches_references(
    build_dir: Path, model_dir: Path, tmp_path: Path, model: str, args: list[str], sizes: dict
) -> None:
    results = tmp_path / "r.json"
    out = run(
        [build_dir / "bin" / "benchmarker_native_cpp", model_dir, model, 2, *args]
        + ["--threads", 1, "--json", results]
    )
    assert out.returncode == 0, out.stdout + out.stderr
    result = load(results)
    assert result.data["coupling_path"] == "native-cpp-torchscript"
    assert result.data["sizes"] == sizes
    assert result.data["correctness"]["max_abs_error"] == 0.0
    assert result.is_native and out.stdout.count("PASSED :: [check") == 3


def test_cpp_baseline_errors(build_dir: Path, model_dir: Path, tmp_path: Path) -> None:
    program = build_dir / "bin" / "benchmarker_native_cpp"
    out = run(
        [program, model_dir, "none.pt", 2, "large_stride", "--n", 4, "--json", tmp_path / "r"]
    )
    assert out.returncode == 1 and not (tmp_path / "r").exists()
    assert out.stderr.strip() == (
        "benchmarker_native_cpp: cannot load TorchScript model "
        f"'{model_dir}/none.pt': no such file (create the models with `ftbench export`)"
    )
    assert run([program, model_dir, "x.pt", 2, "bogus"]).returncode == 2
    assert run([program, model_dir, "x.pt", 2, "large_stride"]).returncode == 2


def test_python_baseline_missing_model_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["native", "large_stride", "2", "--mode", "torchscript", "--models", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist (create it with `ftbench export`)" in err
