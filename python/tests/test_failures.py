"""What a user sees when a run goes wrong: NaN outputs, failed checks and Python
exceptions in the timed loop, missing inputs, and results files that are invalid.
Every failed run exits non-zero; a run that failed its checks writes a complete,
valid results file recording it, a run that failed otherwise writes none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run
from ftbench.results import ResultsError, load


@pytest.mark.parametrize(
    ("program", "args"),
    [
        ("benchmarker_large_stride_torch", ["nan_output.pt", 2, 4]),
        (
            "benchmarker_large_stride_forpy",
            ["large_stride_emulator", 2, 4, "--torchscript", "nan_output.pt"],
        ),
        ("benchmarker_native_cpp", ["nan_output.pt", 2, "large_stride", "--n", 4]),
    ],
)
def test_nan_outputs_fail_and_are_recorded_as_null(
    build_dir: Path, model_dir: Path, tmp_path: Path, program: str, args: list
) -> None:
    """A model that returns NaN fails every iteration; JSON has no NaN, so the errors
    are written as null, and the file still validates against the schema."""
    results = tmp_path / "r.json"
    out = run([build_dir / "bin" / program, model_dir, *args, "--json", results])
    assert out.returncode == 1, out.stdout + out.stderr
    assert "FAILED :: [check iteration 2" in out.stdout + out.stderr
    correctness = load(results).data["correctness"]
    assert correctness["passed"] is False and correctness["failed_iterations"] == 3
    assert correctness["max_error_ratio"] is None and correctness["error_ratios"] == [None, None]
    assert "NaN" not in results.read_text()


def test_python_exception_inside_the_timed_loop(
    build_dir: Path, model_dir: Path, tmp_path: Path
) -> None:
    results = tmp_path / "r.json"
    out = run(
        [build_dir / "bin" / "benchmarker_large_stride_forpy", model_dir, "raising_emulator"]
        + [2, 4, "--json", results]
    )
    assert out.returncode == 1
    first, *rest = out.stderr.splitlines()
    assert first.startswith("py_call: calling 'compute' of module 'raising_emulator' failed: ")
    assert "ArithmeticError: compute failed inside the model" in first
    assert "Traceback (most recent call last):" in rest
    assert not results.exists()


def test_missing_data_file_writes_no_results(
    build_dir: Path, model_dir: Path, tmp_path: Path
) -> None:
    results = tmp_path / "r.json"
    out = run(
        [build_dir / "bin" / "benchmarker_cgdrag_torch", model_dir, "cgdrag_cpu.pt", 1]
        + ["--data", tmp_path / "none.nc", "--json", results]
    )
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    assert f"cgdrag_read: cannot open '{tmp_path / 'none.nc'}'" in out.stderr
    assert list(tmp_path.iterdir()) == []


def test_quiet_prints_only_the_summary(build_dir: Path, model_dir: Path) -> None:
    args = [model_dir, "large_stride_vectorized_cpu.pt", 3, 4]
    quiet = run([build_dir / "bin" / "benchmarker_large_stride_torch", *args, "--quiet"])
    loud = run([build_dir / "bin" / "benchmarker_large_stride_torch", *args])
    assert quiet.returncode == loud.returncode == 0
    assert "PASSED ::" not in quiet.stdout and loud.stdout.count("PASSED ::") == 4
    assert "Timing summary" in quiet.stdout and "All 4 checks PASSED" in quiet.stdout


@pytest.fixture
def valid(build_dir: Path, model_dir: Path, tmp_path: Path) -> dict:
    results = tmp_path / "valid.json"
    out = run(
        [build_dir / "bin" / "benchmarker_large_stride_torch", model_dir]
        + ["large_stride_vectorized_cpu.pt", 2, 4, "--json", results, "--quiet"]
    )
    assert out.returncode == 0, out.stderr
    return json.loads(results.read_text())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("correctness"), "field (top level): 'correctness' is a required property"),
        (lambda d: d.update(threads="1"), "field threads: '1' is not of type 'integer'"),
        (lambda d: d.update(schema_version=1), "field schema_version: 2 was expected"),
        (lambda d: d["correctness"].pop("rtol"), "field correctness: 'rtol' is a required"),
        (lambda d: d["phase_order"].append("reshape"), "phase_order names phases with no data"),
    ],
)
def test_invalid_results_files_name_the_field(
    valid: dict, tmp_path: Path, change: object, message: str
) -> None:
    change(valid)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(valid))
    with pytest.raises(ResultsError, match=f"^{path}: .*") as error:
        load(path)
    assert message in str(error.value)


def test_unreadable_results_file(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="missing.json: cannot read: No such file"):
        load(tmp_path / "missing.json")


def test_failed_suite_names_the_run_and_keeps_the_previous_results(
    build_dir: Path, model_dir: Path, tmp_path: Path
) -> None:
    from ftbench.suite import Run, SuiteError, run_suite

    raw = tmp_path / "raw.tar.xz"
    raw.write_bytes(b"previous")
    runs = [
        Run(
            "ok",
            "benchmarker_large_stride_torch",
            ("{models}", "large_stride_vectorized_cpu.pt", "2", "4"),
        ),
        Run("broken", "benchmarker_large_stride_torch", ("{models}", "missing.pt", "2", "4")),
    ]
    with pytest.raises(SuiteError) as error:
        run_suite(runs, build_dir, model_dir, raw, progress=False)
    message = str(error.value)
    assert message.startswith("broken: benchmarker_large_stride_torch exited with 1: ")
    assert "missing.pt': no such file" in message and "raw.partial/broken.log" in message
    assert raw.read_bytes() == b"previous"  # untouched
    assert (tmp_path / "raw.partial" / "broken.log").exists()  # kept to read


def test_suite_records_threads_and_malloc_settings(
    build_dir: Path, model_dir: Path, tmp_path: Path
) -> None:
    from ftbench.results import load_all
    from ftbench.suite import PINNED_MALLOC, PYTHON_BASELINE, Run, pinned_cpus, run_suite

    runs = [
        Run(
            "direct",
            "benchmarker_large_stride_torch",
            ("{models}", "large_stride_vectorized_cpu.pt", "2", "4"),
            threads=2,
        ),
        Run("python", PYTHON_BASELINE, ("large_stride", "2", "--n", "4"), threads=2),
    ]
    raw = tmp_path / "raw.tar.xz"
    names = run_suite(runs, build_dir, model_dir, raw, progress=False, seed=-1)
    assert names == ["direct.json", "python.json"]
    for result in load_all([raw]):
        data = result.data
        variables = data["environment"]["variables"]
        assert variables["OMP_NUM_THREADS"] == "2" and data["threads"] == 2
        assert {k: variables[k] for k in PINNED_MALLOC} == PINNED_MALLOC
        conditions = data["run_conditions"]
        assert conditions["pass"] == 1 and conditions["order_seed"] == -1
        assert conditions["wall_seconds"] > 0 and len(conditions["load_average_before"]) == 3
        assert conditions["pinned_cpus"] == pinned_cpus(2)


@pytest.mark.parametrize(
    "args",
    [
        ["benchmarker_large_stride_forpy", "large_stride_emulator", 100000, 64],
        ["benchmarker_large_stride_torch", "large_stride_vectorized_cpu.pt", 1000000, 256],
    ],
)
def test_ctrl_c_stops_the_program_and_leaves_no_results(
    build_dir: Path, model_dir: Path, tmp_path: Path, args: list
) -> None:
    """SIGINT ends the program and no results file appears. The direct driver dies
    of the signal itself. On the embedded path Python's default handler is in place
    (measured: already when the driver's module is imported, although the layer
    starts the interpreter without signal handlers): the signal becomes a KeyboardInterrupt
    in the running Python call, and the driver stops there with exit 1 and the
    traceback (docs/embedded-python.md)."""
    import os
    import signal
    import subprocess

    program, model, *rest = args
    results = tmp_path / "r.json"
    process = subprocess.Popen(
        [str(build_dir / "bin" / program), str(model_dir), model, *map(str, rest)]
        + ["--json", str(results)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "GFORTRAN_UNBUFFERED_PRECONNECTED": "y"},
    )
    # Signal once the first timed iteration has been checked (the runs asked for take
    # minutes): a fixed sleep raced the start-up of a loaded machine's coverage build.
    assert process.stdout is not None and process.stderr is not None
    while "check iteration 1 " not in (line := process.stdout.readline()):
        assert line, f"ended before its first timed iteration: {process.stderr.read()}"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    if program.endswith("forpy"):
        assert process.returncode == 1
        first = stderr.splitlines()[0]
        assert first.startswith("py_call: calling 'compute' of module 'large_stride_emulator'")
        assert "KeyboardInterrupt" in stderr
    else:
        assert process.returncode == -signal.SIGINT
    assert not results.exists()


def test_results_file_is_written_atomically_by_the_drivers(
    build_dir: Path, model_dir: Path, tmp_path: Path
) -> None:
    """The drivers write a temporary file beside the target and rename it: when the
    rename fails (the target is a directory) the run fails with one line naming the
    file, and neither the target nor a temporary file is left behind."""
    target = tmp_path / "r.json"
    target.mkdir()
    out = run(
        [build_dir / "bin" / "benchmarker_large_stride_torch", model_dir]
        + ["large_stride_vectorized_cpu.pt", 2, 4, "--json", target, "--quiet"]
    )
    assert out.returncode == 1
    assert out.stderr.strip() == (
        f"json_write: cannot write results file: '{target}': Is a directory"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"] and not any(target.iterdir())


def test_results_file_is_written_atomically_by_native_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ftbench.native.write_json replaces the file whole or not at all: a failure while
    writing leaves the previous file as it was and no temporary file."""
    from ftbench import native

    target = tmp_path / "r.json"
    native.write_json({"run": 1}, target)
    assert json.loads(target.read_text()) == {"run": 1}

    def broken_dump(document: object, out: object, **kwargs: object) -> None:
        out.write('{"run": ')  # type: ignore[attr-defined]
        raise OSError("disk full")

    monkeypatch.setattr(native.json, "dump", broken_dump)
    with pytest.raises(OSError, match="disk full"):
        native.write_json({"run": 2}, target)
    assert json.loads(target.read_text()) == {"run": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
