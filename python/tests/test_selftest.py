"""ftbench selftest: the drivers' injected cost (--inject-ns), the plan of runs, the
verdicts, and one whole (tiny) self-test through the real drivers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import run
from ftbench.results import load, load_all
from ftbench.selftest import Outcome, markdown, plan, resolved_from, rows, run_selftest


def test_plan_runs_every_set_in_every_pass_shuffled() -> None:
    row = rows(columns=128, cgdrag_steps=2)[0]
    runs = plan(row, step_seconds=0.25, passes=2)
    names = [r.name for r in runs]
    assert len(names) == len(set(names)) == 2 * 5 * 2
    assert {n.rsplit("_r", 1)[1] for n in names[:10]} == {"1"}  # pass 1 first, all of it
    assert names == [r.name for r in plan(row, 0.25, 2)]  # seeded
    assert names[:10] != sorted(names[:10])
    injected = {r.name: r.args[-1] for r in runs if r.name.endswith("_path_r1")}
    assert injected == {
        "cgdrag_A_path_r1": "0",
        "cgdrag_A2_path_r1": "0",
        "cgdrag_d2_path_r1": "5000000",  # 2 % of 0.25 s, in nanoseconds
        "cgdrag_d5_path_r1": "12500000",
        "cgdrag_d10_path_r1": "25000000",
    }
    assert all("--inject-ns" not in r.args for r in runs if "_native_" in r.name)


def test_report_names_the_smallest_detected_cost() -> None:
    found = [
        Outcome("cgdrag", "A2", 0.0, 0.0, 1.004, 0.99, 1.02, False),
        Outcome("cgdrag", "d2", 0.005, 0.02, 1.012, 0.995, 1.03, False),
        Outcome("cgdrag", "d5", 0.0125, 0.05, 1.049, 1.03, 1.07, True),
        Outcome("cgdrag", "d10", 0.025, 0.10, 1.101, 1.08, 1.12, True),
        Outcome("fixed cost", "A2", 0.0, 0.0, 0.96, 0.94, 0.98, True),
    ]
    text = markdown(found, 3)
    cells = [
        [cell.strip() for cell in line.split("|")[1:-1]]
        for line in text.splitlines()
        if line.startswith("| ") and "---" not in line
    ]
    assert cells[0] == [
        "row", "set", "injected", "of a step", "expected", "measured", "verdict"
    ]  # fmt: skip
    assert cells[1] == [
        "cgdrag",
        "A/A",
        "0",
        "0.0 %",
        "1.000",
        "1.004 [0.990, 1.020]",
        "not flagged",
    ]
    assert cells[2] == [
        "cgdrag",
        "d2",
        "5000.000 µs",
        "2.0 %",
        "1.020",
        "1.012 [0.995, 1.030]",
        "missed",
    ]
    assert cells[3][-1] == "detected" and cells[5][-1] == "**false positive**"
    assert (
        "- **cgdrag**: resolves an added cost of 5.0 % of a step or more (every larger one "
        "tried was detected); missed: 2.0 %; A/A not flagged." in text
    )
    assert (
        "- **fixed cost**: resolves none of the added costs tried (the largest, none, was "
        "missed); missed: none; A/A flagged (a false positive)." in text
    )
    assert "**false positive**" in text


def test_drivers_busy_wait_the_injected_cost(
    build_dir: Path, model_dir: Path, tmp_path: Path
) -> None:
    results = tmp_path / "r.json"
    out = run(
        [build_dir / "bin" / "benchmarker_large_stride_torch", model_dir]
        + ["large_stride_vectorized_cpu.pt", 3, 4, "--inject-ns", 3000000, "--json", results]
    )
    assert out.returncode == 0, out.stdout + out.stderr
    result = load(results)
    assert result.data["injected_seconds_per_step"] == pytest.approx(0.003)
    assert result.seconds().min() >= 0.003  # the busy wait is inside the loop phase
    assert np.median(result.seconds("forward")) < 0.003  # and in no other phase
    plain = tmp_path / "plain.json"
    run([build_dir / "bin" / "benchmarker_large_stride_torch", model_dir]
        + ["large_stride_vectorized_cpu.pt", 3, 4, "--json", plain])  # fmt: skip
    assert "injected_seconds_per_step" not in json.loads(plain.read_text())
    bad = run(
        [build_dir / "bin" / "benchmarker_large_stride_torch", model_dir]
        + ["large_stride_vectorized_cpu.pt", 3, 4, "--inject-ns", -1]
    )
    assert bad.returncode == 2 and "--inject-ns" in bad.stderr


def test_whole_selftest_on_small_sizes(build_dir: Path, model_dir: Path, tmp_path: Path) -> None:
    """Through the real drivers (2 passes, 128 columns, 2 steps, 50 calls): every set
    ran and was compared; the numbers themselves are not checked (no timing assertions)."""
    report = run_selftest(
        build_dir,
        model_dir,
        tmp_path,
        passes=2,
        selected=rows(columns=128, cgdrag_steps=2, calls=50),
        progress=False,
    )
    assert len(load_all([tmp_path / "raw.tar.xz"])) == 2 * 5 * 2 * 2
    text = report.read_text()
    assert "\nRun on " in text and " at commit " in text and "(UTC)." in text
    for row in ("cgdrag", "fixed cost"):
        assert f"- **{row}**: resolves " in text
        for name in ("A/A", "d2", "d5", "d10"):
            assert f"| {row}" in text and f"| {name} " in text


def test_resolution_needs_every_larger_cost_detected() -> None:
    def outcome(fraction: float, flagged: bool) -> Outcome:
        return Outcome("cgdrag", f"d{fraction}", fraction, fraction, 1.0, 1.0, 1.0, flagged)

    assert resolved_from([outcome(0.02, False), outcome(0.05, True), outcome(0.1, True)]) == 0.05
    assert resolved_from([outcome(0.02, True), outcome(0.05, True), outcome(0.1, False)]) is None
    assert resolved_from([outcome(0.02, True), outcome(0.05, False), outcome(0.1, True)]) == 0.1
    assert resolved_from([]) is None
