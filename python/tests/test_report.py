"""Results files and the report."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

from conftest import run
from ftbench.cli import main
from ftbench.report import fit_scaling, fmt_seconds, group, summary_rows, write_report
from ftbench.results import ResultsError, load, load_all, merge_repeats
from ftbench.suite import PYTHON_BASELINE, Run, run_suite


@pytest.fixture(scope="module")
def driver_results(build_dir: Path, model_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """Two real results files from the driver (loop and vectorized models)."""
    directory = tmp_path_factory.mktemp("raw")
    for name, n in [("large_stride_vectorized_cpu.pt", 64), ("large_stride_loop_cpu.pt", 8)]:
        out = run(
            [build_dir / "bin" / "benchmarker_large_stride_torch", model_dir, name, 5, n]
            + ["--threads", 1, "--json", directory / f"{name}.json", "--quiet"]
        )
        assert out.returncode == 0, out.stderr
    return directory


def table_after(text: str, heading: str) -> list[dict[str, str]]:
    """The rows of the first Markdown table after ``heading``, as {header: cell}."""
    lines = text[text.index(heading) :].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append([cell.strip() for cell in line.strip("|").split("|")])
    headers, rows = table[0], table[2:]
    return [dict(zip(headers, row, strict=True)) for row in rows]


def test_report_from_driver_results(driver_results: Path, tmp_path: Path) -> None:
    report = write_report(load_all([driver_results]), tmp_path)
    text = report.read_text()
    assert "## large_stride_loop (large_stride), N=8, 1 thread, float32" in text
    heading = "## large_stride_vectorized (large_stride), N=64, 1 thread, float32"
    assert heading in text and "1 warm-up iteration(s)" in text
    (row,) = table_after(text, heading)
    data = json.loads(next(driver_results.glob("*vectorized*")).read_text())
    loop = np.array(data["phases"]["loop"]["seconds"])
    q1, q3 = np.percentile(loop, [25, 75])
    assert row["coupling path"] == "direct" and row["format"] == "TorchScript"
    assert row["n"] == str(loop.size) and row["median"] == fmt_seconds(float(np.median(loop)))
    assert row["IQR"] == fmt_seconds(float(q3 - q1)) and row["min"] == fmt_seconds(loop.min())
    assert row["CV"].split()[0] == f"{100 * loop.std(ddof=1) / loop.mean():.0f}"
    assert row["× fastest"] == "1.00" and row["check"] == "passed"
    pngs = sorted(p.name for p in (tmp_path / "plots").glob("*.png"))
    assert len(pngs) == 4
    for name in pngs:
        assert f"(plots/{name})" in text
        assert (tmp_path / "plots" / name).read_bytes()[:4] == b"\x89PNG"


def test_ratio_to_fastest_uses_passing_runs(driver_results: Path, tmp_path: Path) -> None:
    fast = json.loads(next(driver_results.glob("*vectorized*")).read_text())
    slow = json.loads(json.dumps(fast))
    slow["coupling_path"] = "slower"
    slow["phases"]["loop"]["seconds"] = [3 * s for s in fast["phases"]["loop"]["seconds"]]
    failed = json.loads(json.dumps(fast))
    failed["coupling_path"] = "broken"
    failed["phases"]["loop"]["seconds"] = [s / 10 for s in fast["phases"]["loop"]["seconds"]]
    failed["correctness"]["passed"] = False
    for name, data in [("fast", fast), ("slow", slow), ("failed", failed)]:
        (tmp_path / f"{name}.json").write_text(json.dumps(data))
    rows = {r["path"]: r for r in summary_rows(load_all([tmp_path]))}
    assert rows["direct"]["ratio"] == pytest.approx(1.0)
    assert rows["slower"]["ratio"] == pytest.approx(3.0)
    assert not rows["broken"]["passed"]


def test_schema_violation_names_the_field(driver_results: Path, tmp_path: Path) -> None:
    data = json.loads(next(driver_results.glob("*.json")).read_text())
    data["phases"]["forward"]["seconds"] = []
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(ResultsError, match="bad.json: field phases/forward/seconds"):
        load(bad)


def test_report_command_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken.json").write_text("{not json")
    assert main(["report", str(tmp_path / "broken.json"), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ftbench report: ") and "not JSON" in err and err.count("\n") == 1
    assert main(["report", str(tmp_path / "empty"), "--out", str(tmp_path)]) == 1


def test_report_command(driver_results: Path, tmp_path: Path) -> None:
    """`ftbench report` writes the same report as write_report, plots included."""
    shutil.copytree(driver_results, tmp_path / "raw")
    assert main(["report", str(tmp_path / "raw"), "--out", str(tmp_path / "out")]) == 0
    expected = write_report(load_all([tmp_path / "raw"]), tmp_path / "direct").read_text()
    assert (tmp_path / "out" / "report.md").read_text() == expected
    assert len(list((tmp_path / "out" / "plots").glob("*.png"))) == 4


def _variant(data: dict, path: str, factor: float, passed: bool = True, threads: int | None = None):
    out = json.loads(json.dumps(data))
    out["coupling_path"] = path
    out.pop("coupling_variant", None)
    out["phases"]["loop"]["seconds"] = [factor * s for s in data["phases"]["loop"]["seconds"]]
    out["correctness"]["passed"] = passed
    if threads is not None:
        out["threads"] = threads
    return out


def test_times_native_prefers_the_same_host_language_then_the_fastest(
    driver_results: Path, tmp_path: Path
) -> None:
    """The direct path is divided by native C++ even where native Python is faster; a
    native run by the fastest passing native run of its format and grad mode."""
    base = json.loads(next(driver_results.glob("*vectorized*")).read_text())
    runs = {
        "direct": _variant(base, "direct", 3.0),
        "native_cpp": _variant(base, "native-cpp-torchscript", 1.5),
        "native_py": _variant(base, "native-python-eager", 1.0),
        # faster, but failed its check: never the reference
        "native_broken": _variant(base, "native-python-torchscript", 0.1, passed=False),
        # faster, but another thread count: another group
        "native_other": _variant(base, "native-python-eager", 0.2, threads=base["threads"] + 1),
    }
    for name, data in runs.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(data))
    results = load_all([tmp_path])
    group = [r for r in results if r.data["threads"] == base["threads"]]
    rows = {row["path"]: row for row in summary_rows(group)}
    assert rows["direct"]["native_ratio"] == pytest.approx(2.0)
    assert rows["native-cpp-torchscript"]["native_ratio"] == pytest.approx(1.5)
    assert rows["native-python-eager"]["native_ratio"] == pytest.approx(1.0)
    without_cpp = [r for r in group if r.data["coupling_path"] != "native-cpp-torchscript"]
    rows = {row["path"]: row for row in summary_rows(without_cpp)}
    assert rows["direct"]["native_ratio"] == pytest.approx(3.0)  # no C++: the fastest
    text = write_report(results, tmp_path / "out").read_text()
    heading = "## large_stride_vectorized (large_stride), N=64, 1 thread, float32"
    table = {row["coupling path"]: row for row in table_after(text, heading)}
    assert table["direct"]["× native"] == "2.000"  # one pass: no interval
    assert table["native-python-torchscript"]["check"] == "**FAILED**"


def test_scaling_fit_recovers_fixed_and_per_unit_cost() -> None:
    sizes = np.array([64.0, 256.0, 1024.0, 4096.0]) ** 2
    fixed, per_unit = fit_scaling(sizes, 20e-6 + 1e-9 * sizes)
    assert fixed == pytest.approx(20e-6, rel=1e-6) and per_unit == pytest.approx(1e-9, rel=1e-6)


def test_repeats_in_several_processes_become_one_row(driver_results: Path, tmp_path: Path) -> None:
    base = json.loads(next(driver_results.glob("*vectorized*")).read_text())
    fast = _variant(base, "direct", 1.0)
    slow = _variant(base, "direct", 2.0)
    (tmp_path / "a_r1.json").write_text(json.dumps(fast))
    (tmp_path / "a_r2.json").write_text(json.dumps(slow))
    merged = merge_repeats(load_all([tmp_path]))
    assert len(merged) == 1
    data = merged[0].data
    assert data["processes"] == 2 and data["ntimes"] == 2 * base["ntimes"]
    assert len(data["phases"]["loop"]["seconds"]) == 2 * len(base["phases"]["loop"]["seconds"])
    assert data["process_medians"][1] == pytest.approx(2 * data["process_medians"][0])
    text = write_report(load_all([tmp_path]), tmp_path / "out").read_text()
    assert "1 configurations (2 runs) in 1 group(s)" in text and "| 2: " in text


def test_suite_repeat_runs_every_configuration_in_separate_processes(
    build_dir: Path, model_dir: Path, tmp_path: Path
) -> None:
    runs = [Run("tiny", PYTHON_BASELINE, ("large_stride", "2", "--n", "4"), threads=1)]
    raw = tmp_path / "raw.tar.xz"
    files = run_suite(runs, build_dir, model_dir, raw, progress=False, repeat=2)
    assert files == ["tiny_r1.json", "tiny_r2.json"]
    with tarfile.open(raw) as tar:
        names = sorted(tar.getnames())
        assert names == ["tiny_r1.json", "tiny_r1.log", "tiny_r2.json", "tiny_r2.log"]
        assert {m.mtime for m in tar.getmembers()} == {0}  # the same files, the same bytes
    assert not (tmp_path / "raw.partial").exists()
    merged = merge_repeats(load_all([raw]))
    assert len(merged) == 1 and merged[0].data["processes"] == 2
    assert merged[0].data["process_passes"] == [1, 2]


def _formatted(data: dict, path: str, fmt: str, factor: float, **changes: object) -> dict:
    out = _variant(data, path, factor)
    out["model_metadata"] = {**out.get("model_metadata", {}), "format": fmt}
    out["model_metadata"].pop("compile_seconds", None)
    out.update(changes)
    return out


def test_times_native_compares_like_with_like(driver_results: Path, tmp_path: Path) -> None:
    """An AOTInductor path is divided by the native AOTInductor baseline, not by a
    faster native run of another format or grad mode."""
    base = json.loads(next(driver_results.glob("*vectorized*")).read_text())
    runs = {
        "direct_aoti": _formatted(base, "direct", "aoti", 2.0, model="m.pt2"),
        "native_aoti": _formatted(base, "native-cpp-aoti", "aoti", 1.0),
        "native_eager": _formatted(base, "native-python-eager", "python-eager", 0.5),
        "native_ts_no_grad": _formatted(
            base, "native-python-torchscript", "torchscript-scripted", 0.25
        ),
        "direct_ts": _formatted(base, "direct", "torchscript-scripted", 3.0),
    }
    runs["native_ts_no_grad"]["coupling_variant"] = "no_grad"
    for name, data in runs.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(data))
    (runs_of_group,) = group(load_all([tmp_path])).values()  # sorted by model format
    rows = summary_rows(runs_of_group)
    by = {(row["path"], row["format"]): row for row in rows}
    assert by[("direct [m.pt2]", "AOTInductor")]["native_ratio"] == pytest.approx(2.0)
    # the only TorchScript native ran under no_grad: no like-for-like baseline
    assert np.isnan(by[("direct [large_stride_vectorized_cpu.pt]", "TorchScript")]["native_ratio"])
    assert [row["format"] for row in rows] == sorted(
        (row["format"] for row in rows), key=["eager", "TorchScript", "AOTInductor"].index
    )


def test_one_off_costs_and_steps_to_pay_off(driver_results: Path, tmp_path: Path) -> None:
    from ftbench.report import one_off_rows

    base = json.loads(next(driver_results.glob("*vectorized*")).read_text())
    step = float(np.median(base["phases"]["loop"]["seconds"]))

    def run(fmt: str, factor: float, compile_seconds: float, load: float, first: float) -> dict:
        data = _formatted(base, "direct", fmt, factor, model=f"m_{fmt}.pt")
        data["model_metadata"]["compile_seconds"] = compile_seconds
        data["once"] = {"model load": load}
        data["phases"]["loop"]["warmup_seconds"] = [factor * step + first]
        return data

    runs = {
        "ts": run("torchscript-scripted", 1.0, 1.0, 0.1, 0.5),
        "aoti": run("aoti", 0.5, 11.0, 0.1, 0.0),  # 9.5 s more once, step / 2 faster
        "slow": run("python-torch.compile", 2.0, 0.0, 0.1, 5.0),  # never pays off
    }
    for name, data in runs.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(data))
    rows = {row["format"]: row for row in one_off_rows(load_all([tmp_path]))}
    assert np.isnan(rows["TorchScript"]["break_even"])  # the reference itself
    assert rows["AOTInductor"]["total"] == pytest.approx(11.1)
    assert rows["AOTInductor"]["first"] == pytest.approx(0.0, abs=1e-12)
    assert rows["AOTInductor"]["break_even"] == np.ceil(9.5 / (0.5 * step))
    assert rows["torch.compile"]["break_even"] == np.inf
    text = write_report(load_all([tmp_path]), tmp_path / "out").read_text()
    assert "steps to pay off vs TorchScript" in text and "| never " in text


def test_compile_runs_compile_cold() -> None:
    """torch.compile runs get Inductor's caches off, so each process pays the compilation."""
    from ftbench.suite import COLD_COMPILE, default_suite, full_suite, run_environment

    assert not any(r.compiles for r in default_suite())  # compiling is for --full
    compiling = [r for r in full_suite() if r.compiles]
    assert {r.name.split("_T1_")[1] for r in compiling} == {
        "embedded_compile",
        "native_python_compile_inference_mode",
    }
    assert len(compiling) == 6  # three configurations x (embedded, native Python)
    assert run_environment(1, True, cold_compile=True).items() >= COLD_COMPILE.items()
    assert not COLD_COMPILE.keys() & run_environment(1, True).keys()


def _sized(data: dict, n: int, factor: float, cv: float = 0.0) -> dict:
    out = _variant(data, "direct", factor)
    out["sizes"] = {"N": n}
    if cv:
        rng = np.random.default_rng(n)
        seconds = np.array(out["phases"]["loop"]["seconds"])
        out["phases"]["loop"]["seconds"] = (
            (seconds * (1 + cv * rng.standard_normal(seconds.size))).clip(1e-9).tolist()
        )
    return out


def test_fixed_cost_scaling_and_noise_sections(driver_results: Path, tmp_path: Path) -> None:
    """The N = 4 runs make the fixed-cost section, three sizes of one path the scaling
    section (fit recovered), and a run with a large CV the noisy-machine warning."""
    base = json.loads(next(driver_results.glob("*vectorized*")).read_text())
    median = float(np.median(base["phases"]["loop"]["seconds"]))
    runs = {
        "n4": _sized(base, 4, 1.0),
        "n64": _sized(base, 64, 2.0),
        "n256": _sized(base, 256, 5.0, cv=0.5),
    }
    for name, data in runs.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(data))
    text = write_report(load_all([tmp_path]), tmp_path / "out").read_text()
    (row,) = table_after(text, "## Fixed cost per call")
    assert row["path"] == "direct" and row["per call"] == fmt_seconds(median)
    assert "## Scaling" in text and "### large_stride_vectorized (large_stride), 1 thread" in text
    warning = next((line for line in text.splitlines() if "Noisy machine" in line), "")
    assert warning.startswith("> ⚠ **Noisy machine**: ") and " of 3 configurations" in warning
    noisy = table_after(text, "## large_stride_vectorized (large_stride), N=256, 1 thread")
    assert noisy[0]["CV"].endswith("⚠")


def test_profiles_section(driver_results: Path, tmp_path: Path) -> None:
    """A profile directory as scripts/profile.sh writes it gives 'Where the time goes'
    with the layer shares of its perf profile."""
    from conftest import REPO

    fixtures = REPO / "python" / "tests" / "fixtures"
    profile = tmp_path / "profiles" / "large_stride_N4_direct"
    profile.mkdir(parents=True)
    result = next(driver_results.glob("*vectorized*"))
    shutil.copy(result, profile / "result.json")
    shutil.copy(fixtures / "gprof_large_stride_direct.txt", profile / "gprof.txt")
    shutil.copy(fixtures / "perf_large_stride_direct.txt", profile / "perf.txt")
    (profile / "run_seconds.txt").write_text("10.0\n")
    text = write_report(load_all([result]), tmp_path / "out", tmp_path / "profiles").read_text()
    (row,) = table_after(text, "## Where the time goes")
    assert row["profile"] == "large_stride_N4_direct" and row["path"] == "direct"
    shares = {k: float(row[k].split()[0]) for k in ("Fortran", "libtorch", "Python")}
    assert shares["Python"] == 0.0 and shares["libtorch"] > 0
    assert "### large_stride_N4_direct:" in text
