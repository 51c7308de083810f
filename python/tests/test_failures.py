"""What a user sees when a run goes wrong: NaN outputs, failed checks and Python
exceptions in the timed loop, missing inputs, and results files that are invalid.
Every failed run exits non-zero; a run that failed its checks writes a complete,
valid results file recording it, a run that failed otherwise writes none."""

from __future__ import annotations

import json
import re
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
        + ["--data", tmp_path / "none", "--json", results]
    )
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    assert f"cgdrag_read: npy_read: '{tmp_path / 'none' / 'uuu.npy'}'" in out.stderr
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


SIGNALLED_RUNS = {
    "direct": (
        "benchmarker_large_stride_torch",
        "large_stride_vectorized_cpu.pt",
        "1000000",
        "256",
    ),
    "embedded": ("benchmarker_large_stride_forpy", "large_stride_emulator", "100000", "64"),
    "python": ("ftbench native", "large_stride", "1000000", "--n", "64"),
}


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("path", sorted(SIGNALLED_RUNS))
def test_signal_stops_the_program_and_leaves_no_results(
    build_dir: Path, model_dir: Path, tmp_path: Path, path: str, signal_name: str
) -> None:
    """SIGINT or SIGTERM in the middle of the timed loop ends the program and no
    results file appears (every path writes it atomically at the end). The direct
    driver dies of the signal itself, as does the embedded one of SIGTERM. On the
    embedded path Python's default SIGINT handler is in place (measured: already
    when the driver's module is imported, although the layer starts the
    interpreter without signal handlers): SIGINT becomes a KeyboardInterrupt in the
    running Python call, and the driver stops there with exit 1 and the traceback
    (docs/embedded-python.md). ``ftbench`` (here the native Python baseline) turns
    both into one line and exit 130."""
    import functools
    import os
    import signal
    import subprocess

    from ftbench.suite import PYTHON_BASELINE, Run

    driver, *args = SIGNALLED_RUNS[path]
    if driver != PYTHON_BASELINE:
        args.insert(0, "{models}")
    results = tmp_path / "r.json"
    command = Run(path, driver, tuple(args)).command(build_dir, model_dir, results)
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "GFORTRAN_UNBUFFERED_PRECONNECTED": "y", "PYTHONUNBUFFERED": "1"},
        # As from a terminal: a test run started in the background by a shell without
        # job control inherits SIGINT ignored, and so would the program (seen: the
        # direct and embedded drivers ran on), as Unix means for background jobs.
        preexec_fn=functools.partial(signal.signal, signal.SIGINT, signal.SIG_DFL),
    )
    # Signal once the first timed iteration has been checked (the runs asked for take
    # minutes): a fixed sleep raced the start-up of a loaded machine's coverage build.
    assert process.stdout is not None and process.stderr is not None
    while "check iteration 1 " not in (line := process.stdout.readline()):
        assert line, f"ended before its first timed iteration: {process.stderr.read()}"
    signum = getattr(signal, signal_name)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    if path == "python":
        assert process.returncode == 130
        assert stderr.strip().splitlines() == [f"ftbench native: interrupted by {signal_name}"]
    elif path == "embedded" and signum == signal.SIGINT:
        assert process.returncode == 1
        first = stderr.splitlines()[0]
        assert first.startswith("py_call: calling 'compute' of module 'large_stride_emulator'")
        assert "KeyboardInterrupt" in stderr
    else:
        assert process.returncode == -signum
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path", [*sorted(SIGNALLED_RUNS), "suite"])
def test_unwritable_results_directory_is_refused_before_the_run(
    build_dir: Path, model_dir: Path, path: str
) -> None:
    """A results file in a directory where no file can be created (/proc/self: even
    root cannot) is refused before anything runs, with one line naming the
    directory: the drivers as a usage error (exit 2), ``ftbench`` with exit 1."""
    import sys

    from ftbench.suite import PYTHON_BASELINE, Run

    target = Path("/proc/self/r.json")
    if path == "suite":
        command = [sys.executable, "-m", "ftbench.cli", "suite", "--build", str(build_dir)]
        command += ["--models", str(model_dir), "--raw", "/proc/self/raw.tar.xz"]
    else:
        driver, *args = SIGNALLED_RUNS[path]
        if driver != PYTHON_BASELINE:
            args.insert(0, "{models}")
        command = Run(path, driver, tuple(args)).command(build_dir, model_dir, target)
    out = run(command)
    assert out.returncode == (2 if path in ("direct", "embedded") else 1), out.stderr
    first = out.stderr.splitlines()[0]
    if path == "suite":
        assert first.startswith("ftbench suite: cannot create /proc/self/raw.partial"), first
    else:
        assert "--json: cannot create files in directory '/proc/self'" in first, first
    assert "check iteration" not in out.stdout


def test_interrupted_suite_kills_its_run_keeps_the_archive_and_reruns_cleanly(
    build_dir: Path, model_dir: Path, tmp_path: Path
) -> None:
    """SIGTERM to ``ftbench suite`` alone (as a batch system's kill may be) while a
    run is in progress: the running driver is killed with it (no orphan keeps
    writing), the previous archive is untouched, the message says where the
    finished runs are, exit 130; running the suite again starts over and
    completes, removing what the interrupted one left."""
    import signal
    import subprocess
    import sys
    import time

    from ftbench.results import load_all
    from ftbench.suite import Run, run_suite

    raw = tmp_path / "raw.tar.xz"
    raw.write_bytes(b"the previous results")
    partial = tmp_path / "raw.partial"
    process = subprocess.Popen(
        [sys.executable, "-m", "ftbench.cli", "suite", "--build", str(build_dir)]
        + ["--models", str(model_dir), "--raw", str(raw), "--no-progress", "--repeat", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not list(partial.glob("*.log")):
        assert process.poll() is None and time.monotonic() < deadline, "no run started"
        time.sleep(0.1)
    time.sleep(0.5)  # the run's program has started (or, rarely, the next one)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    line = stderr.strip().splitlines()[-1]
    assert re.match(r"ftbench suite: interrupted by SIGTERM during run \d+ of \d+: ", line), line
    assert f"{raw} is unchanged" in line and str(partial) in line
    assert raw.read_bytes() == b"the previous results"
    orphans = [
        pid
        for pid in (p for p in Path("/proc").iterdir() if p.name.isdigit())
        if str(partial).encode() in _cmdline(pid)
    ]
    assert orphans == [], "a run of the interrupted suite is still running"

    runs = [
        Run(
            "direct",
            "benchmarker_large_stride_torch",
            ("{models}", "large_stride_vectorized_cpu.pt", "2", "4"),
        )
    ]
    assert run_suite(runs, build_dir, model_dir, raw, progress=False) == ["direct.json"]
    assert not partial.exists()
    assert [r.data["coupling_path"] for r in load_all([raw])] == ["direct"]


def test_a_signal_whose_exception_was_lost_still_stops_the_suite(
    build_dir: Path, model_dir: Path, tmp_path: Path
) -> None:
    """Python prints and ignores an exception raised where it cannot propagate (CI
    saw SIGTERM land in the logging module's after-fork hook inside
    ``subprocess.Popen``, and the suite ran on). Here the exception is lost by
    catching it; the suite must still stop before its next run, as interrupted by
    that signal, leaving the previous archive alone."""
    import os
    import signal
    import time

    from ftbench.interrupts import stop_on_signals
    from ftbench.suite import Run, SuiteInterrupted, run_suite

    raw = tmp_path / "raw.tar.xz"
    raw.write_bytes(b"the previous results")
    runs = [
        Run(
            "direct",
            "benchmarker_large_stride_torch",
            ("{models}", "large_stride_vectorized_cpu.pt", "2", "4"),
        )
    ]
    with stop_on_signals():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises before this ends
        except KeyboardInterrupt:
            pass  # lost, as in an after-fork hook
        with pytest.raises(SuiteInterrupted, match=r"^interrupted by SIGTERM during run 1 of 1"):
            run_suite(runs, build_dir, model_dir, raw, progress=False)
    assert raw.read_bytes() == b"the previous results"
    assert list((tmp_path / "raw.partial").iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def _cmdline(process: Path) -> bytes:
    """A process's command line from /proc, or nothing if it has gone."""
    try:
        return (process / "cmdline").read_bytes()
    except OSError:
        return b""


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


def test_an_error_caused_by_a_signal_is_reported_as_the_interruption(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGTERM landing inside a TorchScript forward comes out as a RuntimeError
    ("KeyboardInterrupt: ..." or empty; seen when the suite's signature check was
    interrupted): ``ftbench`` reports the interruption and exits 130, not the
    reworded error with exit 1."""
    import argparse
    import os
    import signal
    import time

    from ftbench import cli

    def forward_that_rewords(args: argparse.Namespace) -> None:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises before this ends
        except KeyboardInterrupt as interrupt:
            raise RuntimeError(f"KeyboardInterrupt: {interrupt}") from None

    parser = argparse.ArgumentParser()
    parser.set_defaults(command="suite", run=forward_that_rewords)
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    assert cli.main([]) == 130
    assert capsys.readouterr().err == "ftbench suite: interrupted by SIGTERM\n"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
