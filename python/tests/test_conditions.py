"""Run conditions (ftbench.conditions), their place in results files and the report,
and the raw results archive."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

import pytest

from ftbench import conditions
from ftbench.report import write_report
from ftbench.results import ResultsError, load_all
from ftbench.suite import Run, pack, pinned_cpus, shuffled_passes


def _sample(wall: float, busy: float, steal: float, total: float, children: float):
    return conditions.Sample(wall, (0.5, 0.4, 0.3), busy, steal, total, children)


def test_others_cpu_use_excludes_the_run_itself() -> None:
    """Over 10 s the machine was busy for 12 CPU-seconds, 9 of them the run's own:
    the others used 0.3 cores; 1 of 40 CPU-seconds was stolen."""
    found = conditions.between(_sample(0, 100, 5, 1000, 2), _sample(10, 112, 6, 1040, 11), [1])
    assert found["other_cpu_cores"] == pytest.approx(0.3)
    assert found["steal_fraction"] == pytest.approx(1 / 40)
    assert found["busy"] and found["pinned_cpus"] == [1]
    assert "others used 0.30 cores, steal 2.5 %" in conditions.describe(found)


def test_quiet_run_and_unreadable_proc_stat() -> None:
    quiet = conditions.between(_sample(0, 100, 5, 1000, 2), _sample(10, 110, 5, 1020, 12), None)
    assert quiet["other_cpu_cores"] == pytest.approx(0.0) and not quiet["busy"]
    unknown = conditions.between(
        conditions.Sample(0, (0, 0, 0), None, None, None, 0),
        conditions.Sample(1, (0, 0, 0), None, None, None, 0),
        None,
    )
    assert unknown["other_cpu_cores"] is None and unknown["steal_fraction"] is None
    assert not unknown["busy"] and "unknown" in conditions.describe(unknown)


def test_cpu_times_from_proc_stat(tmp_path: Path) -> None:
    hertz = os.sysconf("SC_CLK_TCK")
    stat = tmp_path / "stat"
    #                  user nice system idle iowait irq softirq steal guest guest_nice
    stat.write_text(f"cpu  {hertz} 0 {hertz} {5 * hertz} 0 0 0 {hertz} 0 0\ncpu0 1 2 3\n")
    assert conditions._cpu_times(stat) == (2.0, 1.0, 8.0)
    stat.write_text("intr 1 2 3\n")
    assert conditions._cpu_times(stat) is None
    assert conditions._cpu_times(tmp_path / "missing") is None
    assert conditions.sample().children >= 0


def test_governors_where_exposed(tmp_path: Path) -> None:
    for cpu, governor in (("cpu0", "performance"), ("cpu1", "powersave"), ("cpu2", "powersave")):
        (tmp_path / cpu / "cpufreq").mkdir(parents=True)
        (tmp_path / cpu / "cpufreq" / "scaling_governor").write_text(governor + "\n")
    assert conditions.governors(tmp_path) == ["performance", "powersave"]
    assert conditions.governors(tmp_path / "none") == []


def test_pinning_leaves_a_cpu_free_and_order_is_shuffled_per_pass() -> None:
    allowed = sorted(os.sched_getaffinity(0))
    assert pinned_cpus(len(allowed)) is None
    if len(allowed) > 1:
        assert pinned_cpus(1) == [allowed[-1]]
    runs = [Run(f"r{k}", "d", ()) for k in range(8)]
    order = shuffled_passes(runs, 2, seed=7)
    assert [k for k, _ in order] == [1] * 8 + [2] * 8
    first, second = ([r.name for k, r in order if k == p] for p in (1, 2))
    assert sorted(first) == [f"r{k}_r1" for k in range(8)]
    assert [n[:-3] for n in first] != [n[:-3] for n in second]  # each pass its own order
    assert order == shuffled_passes(runs, 2, seed=7)  # reproducible
    assert [r.name for _, r in shuffled_passes(runs, 1, seed=-1)] == [r.name for r in runs]


def test_archive_round_trip_and_errors(native_results: dict, tmp_path: Path) -> None:
    directory = tmp_path / "raw.partial"
    directory.mkdir()
    for k in (1, 2):
        data = json.loads(json.dumps(native_results))
        data["run_conditions"] = conditions.between(
            _sample(0, 100, 5, 1000, 2), _sample(10, 111 + 3 * (k - 1), 5, 1020, 12), [1]
        )
        (directory / f"x_r{k}.json").write_text(json.dumps(data))
        (directory / f"x_r{k}.log").write_text("log\n")
    archive = tmp_path / "raw.tar.xz"
    pack(directory, archive)
    results = load_all([archive])
    assert [r.path.name for r in results] == ["x_r1.json", "x_r2.json"]
    assert results[0].path.parent == archive
    text = write_report(results, tmp_path / "out").read_text()
    assert "## Run conditions" in text and "pinned to CPUs: 1" in text
    assert "**Busy machine**: 1 of 2 runs" in text and "`x_r2`: others used 0.40 cores" in text
    copy = tmp_path / "copy.tar.xz"
    copy.write_bytes(archive.read_bytes())
    assert len(load_all([archive, copy, tmp_path / "raw.partial"])) == 6  # every source
    archive.write_bytes(b"not xz")
    with pytest.raises(ResultsError, match="cannot read the archive"):
        load_all([archive])
    with tarfile.open(archive, "w:xz"):
        pass
    with pytest.raises(ResultsError, match="no results files found"):
        load_all([archive])


def test_suite_refuses_an_archive_name_without_the_suffix(tmp_path: Path) -> None:
    from ftbench.suite import run_suite

    with pytest.raises(ValueError, match=r"must end in \.tar\.xz"):
        run_suite([], tmp_path, tmp_path, tmp_path / "raw")
