"""ftbench.paired: each path against its native baseline, pass by pass, with a t
interval over the passes. In-process tests, no build."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from ftbench.paired import NO_RATIO, RatioSummary, paired_ratios, pass_medians, summarise
from ftbench.results import Result, merge_repeats, pass_number


def _passes(template: dict, name: str, medians: dict[int, float], path: str) -> list[Result]:
    """One run per pass k of ``medians``, file ``<name>_r<k>.json``, loop samples around
    that pass's median."""
    runs = []
    for k, median in medians.items():
        data = copy.deepcopy(template)
        data["coupling_path"] = path
        data["phases"]["loop"]["seconds"] = [0.9 * median, median, 1.1 * median]
        runs.append(Result(Path(f"{name}_r{k}.json"), data))
    return runs


def test_pass_number_from_the_file_name() -> None:
    assert pass_number(Path("raw/cgdrag_C8192_T1_direct_r3.json")) == 3
    assert pass_number(Path("raw/x_r12.json")) == 12
    assert pass_number(Path("raw/cgdrag_C8192_T1_direct.json")) == 1
    assert pass_number(Path("raw/rerun_r2x.json")) == 1


def test_ratios_pair_the_same_pass(native_results: dict) -> None:
    """A machine twice as slow in pass 2 cancels out; a pass only one run has is left out."""
    path = _passes(native_results, "p", {1: 3.0, 2: 6.0, 3: 3.3, 4: 9.0}, "direct")
    native = _passes(native_results, "n", {3: 3.0, 1: 2.0, 2: 4.0}, "native-cpp-torchscript")
    merged_path, merged_native = merge_repeats([*path, *native])
    assert merged_path.data["process_passes"] == [1, 2, 3, 4]
    assert pass_medians(merged_native) == {3: 3.0, 1: 2.0, 2: 4.0}
    np.testing.assert_allclose(paired_ratios(merged_path, merged_native), [1.5, 1.5, 1.1])
    single = Result(Path("single.json"), copy.deepcopy(native_results))  # not merged
    assert list(pass_medians(single)) == [1]


def test_summary_of_per_pass_ratios() -> None:
    assert summarise(np.array([])) == NO_RATIO and NO_RATIO.text() == "n/a"
    one = summarise(np.array([1.25]))
    assert one == RatioSummary(1.25, 1.25, 1.25, 1) and not one.resolved
    assert one.text() == "1.250"
    same = summarise(np.array([1.0, 1.0, 1.0]))
    assert (same.low, same.high, same.resolved) == (1.0, 1.0, False)
    ratios = np.array([1.10, 1.14, 1.12, 1.20, 1.08])
    summary = summarise(ratios)
    logs = np.log(ratios)
    assert summary.ratio == pytest.approx(np.exp(logs.mean())) and summary.passes == 5
    # Student's t with 4 degrees of freedom on the logs: mean +- 2.776 s / sqrt(5)
    half = 2.7764451 * logs.std(ddof=1) / np.sqrt(5)
    assert summary.low == pytest.approx(np.exp(logs.mean() - half), rel=1e-6)
    assert summary.high == pytest.approx(np.exp(logs.mean() + half), rel=1e-6)
    assert summary.resolved and summary.text().startswith("**1.127** [1.072, 1.185]")
    narrow = summarise(ratios, confidence=0.5)
    assert summary.low < narrow.low < narrow.ratio < narrow.high < summary.high
    # Two passes: 1 degree of freedom (t = 12.7), far wider than the two ratios.
    two = summarise(np.array([1.02, 1.06]))
    assert two.passes == 2 and two.low < 0.9 and two.high > 1.2 and not two.resolved
    assert two.text() == f"{two.ratio:.3f} [{two.low:.3f}, {two.high:.3f}]"
    # Symmetric in the logs: a ratio and its inverse are equally far from 1.
    assert summarise(np.array([0.8, 1.25])).ratio == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("ratios", "resolved"),
    [([0.90, 0.95, 0.93], True), ([0.95, 1.02, 0.99], False), ([1.05, 1.06, 1.055], True)]
    + [([1.01, 1.03, 1.02], False)],  # a percentile bootstrap of 3 would call it resolved
)
def test_resolved_when_the_interval_excludes_one(ratios: list[float], resolved: bool) -> None:
    summary = summarise(np.array(ratios))
    assert summary.resolved is resolved
    assert summary.text().startswith("**") is resolved


def test_report_gives_intervals_and_the_resolution(native_results: dict, tmp_path: Path) -> None:
    from ftbench.report import write_report

    runs = _passes(native_results, "direct", {1: 3.0, 2: 3.3, 3: 3.15}, "direct")
    runs += _passes(native_results, "native", {1: 2.0, 2: 2.2, 3: 2.0}, "native-python-eager")
    text = write_report(runs, tmp_path).read_text()
    assert "6 runs" in text and "**Resolution.** Over 3 passes, the × native intervals" in text
    direct = next(line for line in text.splitlines() if line.startswith("| direct"))
    # per-pass ratios 1.5, 1.5, 1.575: geometric mean 1.525, t interval with 2 df
    assert "| **1.525** [1.422, 1.635] |" in direct


def test_report_quotes_the_selftest_verdicts(native_results: dict, tmp_path: Path) -> None:
    from ftbench.report import write_report

    runs = _passes(native_results, "direct", {1: 3.0, 2: 3.3}, "direct")
    runs += _passes(native_results, "native", {1: 2.0, 2: 2.2}, "native-python-eager")
    assert "**Self-test**" not in write_report(runs, tmp_path).read_text()
    (tmp_path / "selftest").mkdir()
    verdict = "- **cgdrag**: smallest injected cost detected: 5.0 % of a step; A/A not flagged."
    where = "Run on AMD EPYC (2 logical CPUs) at commit 0123456789ab, t0 to t1 (UTC)."
    (tmp_path / "selftest" / "selftest.md").write_text(
        f"# ftbench selftest\n\n{where}\n\n| x |\n\n{verdict}\n"
    )
    text = write_report(runs, tmp_path).read_text()
    assert "**Self-test** (`ftbench selftest`" in text and f"\n{verdict}\n" in text
    assert "; run on AMD EPYC (2 logical CPUs) at commit 0123456789ab, t0 to t1 (UTC)):" in text


def test_ratio_of_ratios_is_welchs_interval_on_the_logs() -> None:
    """B's geometric mean over A's, with Welch's (unequal variances) t interval of the
    difference of mean logs: computed here by hand."""
    from scipy import stats

    from ftbench.paired import ratio_of_ratios

    a, b = np.array([1.0, 1.02, 0.98]), np.array([1.3, 1.1, 1.5, 1.2, 1.4])
    la, lb = np.log(a), np.log(b)
    va, vb = la.var(ddof=1) / la.size, lb.var(ddof=1) / lb.size
    df = (va + vb) ** 2 / (va**2 / (la.size - 1) + vb**2 / (lb.size - 1))
    half = stats.t.ppf(0.975, df) * np.sqrt(va + vb)
    difference = lb.mean() - la.mean()
    ratio, low, high = ratio_of_ratios(a, b)
    assert ratio == pytest.approx(np.exp(difference))
    assert low == pytest.approx(np.exp(difference - half))
    assert high == pytest.approx(np.exp(difference + half))
    # Two passes a side already give an interval; one pass a side gives none.
    two = ratio_of_ratios(np.array([1.0, 1.1]), np.array([1.2, 1.25]))
    assert two[1] < two[0] < two[2]
    assert ratio_of_ratios(np.array([1.0]), b) == (pytest.approx(np.exp(lb.mean())),) * 3
    # No variation on either side: no interval; variation on one side: an interval.
    assert ratio_of_ratios(np.ones(3), 2 * np.ones(3)) == (2.0, 2.0, 2.0)
    one_varies = ratio_of_ratios(np.ones(3), b)
    assert one_varies[1] < one_varies[0] < one_varies[2]
