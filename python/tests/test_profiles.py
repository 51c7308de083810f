"""Parsers of gprof, perf and driver output, on real outputs of the project's Profile runs.

The fixtures are unedited files written by scripts/profile.sh: gprof and perf of
benchmarker_large_stride_torch (5000 steps on a 4 x 4 array), perf of
benchmarker_cgdrag_forpy (model built in Python), and a cgdrag driver's output.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ftbench.cli import main
from ftbench.profiles import (
    LAYERS,
    ProfileParseError,
    demangle_fortran,
    layer_of,
    parse_driver_output,
    parse_gprof,
    parse_perf,
)

FIXTURES = Path(__file__).parent / "fixtures"


def test_gprof_flat_profile_rows() -> None:
    profile = parse_gprof((FIXTURES / "gprof_large_stride_direct.txt").read_text())
    assert profile.sample_seconds == 0.01
    top = profile.flat[0]
    assert top.name == "__bench_timer_MOD_timer_statistics"
    assert top.readable == "bench_timer::timer_statistics"
    assert (top.percent, top.self_seconds, top.calls) == (83.34, 0.05, 8)
    assert top.self_per_call == pytest.approx(6.25e-3)  # ms/call in the header
    rows = {row.readable: row for row in profile.flat}
    assert rows["bench_timer::timer_stop"].calls == 20004  # 4 phases x 5001 iterations
    assert rows["torch_c_tensor_delete"].calls == 20004  # 2 tensors x 5001 x ... deletes
    assert rows["(main program)"].total_per_call == pytest.approx(0.06)
    assert profile.total_seconds == pytest.approx(0.06)
    assert 99 < sum(row.percent for row in profile.flat) < 101


def test_gprof_call_graph_entries() -> None:
    profile = parse_gprof((FIXTURES / "gprof_large_stride_direct.txt").read_text())
    entries = {entry.readable: entry for entry in profile.call_graph}
    main_program = entries["(main program)"]
    assert main_program.index == 1 and main_program.percent == 100.0
    assert main_program.callers == ["main"]
    assert "bench_run::bench_finish" in main_program.callees
    statistics = entries["bench_timer::timer_statistics"]
    assert set(statistics.callers) == {
        "bench_timer::timer_print_summary",
        "bench_timer::timer_to_json",
    }


@pytest.mark.parametrize(
    ("good", "bad", "message"),
    [
        ("  0.00      0.06     0.00   130212", "  0.00  zero point", "not a flat-profile row"),
        ("[1]    100.0    0.00    0.06", "[1]    broken", "not a call-graph primary line"),
    ],
)
def test_gprof_malformed_line_is_named(good: str, bad: str, message: str) -> None:
    lines = (FIXTURES / "gprof_large_stride_direct.txt").read_text().splitlines()
    number = next(i for i, line in enumerate(lines) if line.startswith(good))
    lines[number] = bad
    with pytest.raises(ProfileParseError, match=rf"fixture:{number + 1}: {message}"):
        parse_gprof("\n".join(lines), "fixture")


def test_gprof_rejects_other_text() -> None:
    with pytest.raises(ProfileParseError, match="no 'Flat profile:' section"):
        parse_gprof("hello\n")


def test_perf_shares_by_dso_symbol_and_layer() -> None:
    profile = parse_perf(
        (FIXTURES / "perf_large_stride_direct.txt").read_text(), "benchmarker_large_stride_torch"
    )
    assert profile.samples is not None and profile.samples > 1000
    assert list(profile.by_layer) == list(LAYERS)
    # profile.sh drops symbols under 0.01 % of the samples: a little is unaccounted
    assert 98.0 < sum(profile.by_layer.values()) <= 100.01
    assert profile.by_layer["libtorch"] > 30 and profile.by_layer["Python"] == 0
    assert profile.by_layer["Fortran"] > 0 and profile.by_layer["coupling shim"] > 0
    assert profile.by_dso["libtorch_cpu.so"] == pytest.approx(
        sum(r["percent"] for r in profile.rows if r["dso"] == "libtorch_cpu.so")
    )
    shim = [r for r in profile.rows if r["layer"] == "coupling shim"]
    assert any("torch_c_" in r["symbol"] for r in shim)


def test_perf_embedded_path_has_a_python_layer() -> None:
    profile = parse_perf(
        (FIXTURES / "perf_cgdrag_embedded.txt").read_text(), "benchmarker_cgdrag_forpy"
    )
    assert profile.by_layer["Python"] > 5 and profile.by_layer["libtorch"] > 30
    assert any(r["dso"].startswith("libpython3.11") for r in profile.rows)


def test_perf_malformed_row_is_named() -> None:
    lines = (FIXTURES / "perf_large_stride_direct.txt").read_text().splitlines()
    number = next(
        i
        for i, line in enumerate(lines)
        if line.strip().endswith("%") is False and "%" in line and not line.startswith("#")
    )
    lines[number] = "    12.34%  only-a-dso"
    with pytest.raises(ProfileParseError, match=rf"perf:{number + 1}: not a perf report row"):
        parse_perf("\n".join(lines), "x", "perf")


@pytest.mark.parametrize(
    ("dso", "symbol", "layer"),
    [
        ("benchmarker_cgdrag_torch", "__cgdrag_case_MOD_cgdrag_read", "Fortran"),
        ("benchmarker_cgdrag_torch", "MAIN__", "Fortran"),
        ("benchmarker_cgdrag_torch", "torch_c_model_forward", "coupling shim"),
        ("benchmarker_cgdrag_torch", "(anonymous namespace)::copy_result(...)", "coupling shim"),
        ("libtorch_cpu.so", "mkl_blas_def_dgemm_kernel_zen", "libtorch"),
        ("libc10.so", "c10::TensorImpl::~TensorImpl()", "libtorch"),
        ("libgomp-a34b3233.so.1", "gomp_barrier_wait", "libtorch"),
        ("libpython3.11.so.1.0", "_PyEval_EvalFrameDefault", "Python"),
        ("_multiarray_umath.cpython-311-x86_64-linux-gnu.so", "PyArray_New", "Python"),
        ("[kernel.kallsyms]", "clear_page_erms", "kernel"),
        (
            "ccu6yticwnicywsl5ubmxwpvxsgkqr22idbt3mtjlikup5r6idv4.wrapper.so",
            "cpp_fused_0",
            "libtorch",
        ),
        ("libc.so.6", "_int_malloc", "other"),
    ],
)
def test_layers(dso: str, symbol: str, layer: str) -> None:
    assert layer_of(dso, symbol, "benchmarker_cgdrag_torch") == layer


def test_demangle_fortran() -> None:
    assert demangle_fortran("__cg_drag_torch_mod_MOD_cg_drag_ml") == "cg_drag_torch_mod::cg_drag_ml"
    assert demangle_fortran("MAIN__") == "(main program)"
    assert demangle_fortran("torch_c_model_load") == "torch_c_model_load"


def test_driver_output_ours() -> None:
    parsed = parse_driver_output((FIXTURES / "output_cgdrag_direct.log").read_text())
    assert len(parsed["checks"]) == 6 and parsed["passed"]
    assert all(c["max_error_ratio"] == 0.0 for c in parsed["checks"])
    assert parsed["checks"][0]["warmup"] and not parsed["checks"][1]["warmup"]
    assert parsed["checks"][1]["iteration"] == 1
    assert set(parsed["summary"]) >= {"forward", "loop", "reshape", "array allocation"}
    assert parsed["summary"]["loop"]["median"] > 0.1
    assert set(parsed["once"]) == {"model load", "model delete"}


def test_driver_output_published_format() -> None:
    text = (
        "PASSED :: [check iteration 1 (3.237 s)] maximum relative error = 0.0000E+00\n"
        "FAILED :: [check iteration 2 (3.301 s)] maximum relative error = 1.2000E-03\n"
        "min time taken (s): 3.237\n"
        "max time taken (s): 3.301\n"
        "mean time taken (s): 3.269\n"
    )
    parsed = parse_driver_output(text)
    assert [c["passed"] for c in parsed["checks"]] == [True, False] and not parsed["passed"]
    assert parsed["checks"][0]["seconds"] == 3.237
    assert parsed["checks"][1]["max_relative_error"] == 1.2e-3
    assert parsed["published_times"] == {"min": 3.237, "max": 3.301, "mean": 3.269}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("PASSED :: [check iteration one (3 s)]", "not a check line"),
        ("min time taken (s): soon", "not a 'time taken (s): value' line"),
    ],
)
def test_driver_output_malformed_line_is_named(line: str, message: str) -> None:
    text = "PASSED :: [check iteration 1 (3.237 s)] maximum relative error = 0.0000E+00\n" + line
    with pytest.raises(ProfileParseError, match=re.escape(f"out:2: {message}")):
        parse_driver_output(text, "out")


def test_parse_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "parse",
                "perf",
                str(FIXTURES / "perf_cgdrag_embedded.txt"),
                "--executable",
                "benchmarker_cgdrag_forpy",
                "--layers",
            ]
        )
        == 0
    )
    layers = dict(
        re.fullmatch(r"\s+(.+?)\s+([\d.]+) %", line).groups()
        for line in capsys.readouterr().out.splitlines()[1:]
    )
    shares = {name: float(value) for name, value in layers.items()}
    assert shares["Python"] == pytest.approx(26.36) and shares["libtorch"] == pytest.approx(55.94)
    assert main(["parse", "gprof", str(FIXTURES / "perf_cgdrag_embedded.txt")]) == 1
    assert "no 'Flat profile:' section" in capsys.readouterr().err
