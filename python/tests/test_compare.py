"""ftbench compare: ratios of medians with bootstrap intervals, regressions flagged."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from ftbench import compare as compare_module
from ftbench.cli import REGRESSION_EXIT_CODE, main
from ftbench.compare import (
    Comparison,
    _key,
    compare,
    markdown,
    process_ratio_interval,
    ratio_interval,
)
from ftbench.results import Result, load, load_all, merge_repeats


def _with_samples(template: dict, samples: np.ndarray, path: Path) -> Path:
    """``template`` as a coupled run (the direct path) with these loop samples: with no
    native baseline in its set, compare judges it on its absolute time."""
    data = copy.deepcopy(template)
    data["coupling_path"] = "direct"
    data.pop("coupling_variant")
    data["ntimes"] = samples.size
    data["phases"]["loop"]["seconds"] = samples.tolist()
    path.write_text(json.dumps(data))
    return path


def test_twenty_percent_slowdown_is_a_regression(native_results: dict, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    a = 1e-3 * (1 + 0.03 * rng.standard_normal(200))
    b = 1.2e-3 * (1 + 0.03 * rng.standard_normal(200))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _with_samples(native_results, a, tmp_path / "a" / "r.json")
    _with_samples(native_results, b, tmp_path / "b" / "r.json")
    out = tmp_path / "compare.md"
    code = main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out)])
    assert code == REGRESSION_EXIT_CODE
    assert "**regression**" in out.read_text() and "1 regression(s)" in out.read_text()
    # and the other way round it is an improvement, with exit 0
    assert main(["compare", str(tmp_path / "b"), str(tmp_path / "a"), "--out", str(out)]) == 0
    assert (
        "| improvement |" in out.read_text()
        and "0 regression(s), 1 improvement(s)" in out.read_text()
    )
    (row,) = compare(load_all([tmp_path / "b"]), load_all([tmp_path / "a"]))
    assert row.verdict == "improvement" and row.high < 1


def test_same_distribution_is_not_flagged(native_results: dict, tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    a = _with_samples(
        native_results, 1e-3 * (1 + 0.1 * rng.standard_normal(100)), tmp_path / "a.json"
    )
    b = _with_samples(
        native_results, 1e-3 * (1 + 0.1 * rng.standard_normal(100)), tmp_path / "b.json"
    )
    rows = compare([load(a)], [load(b)])
    assert len(rows) == 1 and rows[0].verdict == "same"
    assert rows[0].low < 1 < rows[0].high


def test_interval_contains_the_true_ratio() -> None:
    rng = np.random.default_rng(3)
    low, high = ratio_interval(rng.normal(1.0, 0.05, 300), rng.normal(1.5, 0.05, 300))
    assert low < 1.5 < high and high - low < 0.05


def test_unmatched_runs_are_an_error(
    native_results: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = copy.deepcopy(native_results)
    other["threads"] = native_results["threads"] + 1
    (tmp_path / "a.json").write_text(json.dumps(native_results))
    (tmp_path / "b.json").write_text(json.dumps(other))
    assert main(["compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 1
    assert "no run appears in both sets" in capsys.readouterr().err


def test_repeats_are_resampled_as_whole_processes(native_results: dict, tmp_path: Path) -> None:
    """Two sets of the same program whose processes differ by up to 1.6x: resampling
    samples alone would flag a change; resampling whole processes does not."""
    rng = np.random.default_rng(4)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for side, levels in (("a", (1.0, 1.6, 1.1)), ("b", (1.25, 1.0, 1.5))):
        for k, level in enumerate(levels, 1):
            samples = 1e-3 * level * (1 + 0.02 * rng.standard_normal(100))
            _with_samples(native_results, samples, tmp_path / side / f"r_r{k}.json")
    rows = compare(load_all([tmp_path / "a"]), load_all([tmp_path / "b"]))
    assert len(rows) == 1 and rows[0].resampled == "processes"
    assert rows[0].verdict == "same" and rows[0].low < 1 < rows[0].high
    pooled_only = ratio_interval(
        np.concatenate([load(p).seconds() for p in sorted((tmp_path / "a").glob("*.json"))]),
        np.concatenate([load(p).seconds() for p in sorted((tmp_path / "b").glob("*.json"))]),
    )
    assert pooled_only[1] - pooled_only[0] < rows[0].high - rows[0].low
    assert not pooled_only[0] < 1 < pooled_only[1]  # samples alone: a false "change"


def test_threshold_decides_what_counts(native_results: dict, tmp_path: Path) -> None:
    """A clear 8 % slowdown is a regression at the default 5 % threshold, and within
    noise at a 10 % threshold; the single-process row is marked with `*`."""
    rng = np.random.default_rng(5)
    a = _with_samples(
        native_results, 1e-3 * (1 + 0.01 * rng.standard_normal(300)), tmp_path / "a.json"
    )
    b = _with_samples(
        native_results, 1.08e-3 * (1 + 0.01 * rng.standard_normal(300)), tmp_path / "b.json"
    )
    (row,) = compare([load(a)], [load(b)])
    assert row.verdict == "regression" and row.low > 1.05 and row.resampled == "samples"
    (row,) = compare([load(a)], [load(b)], threshold=0.10)
    assert row.verdict == "same"
    out = tmp_path / "c.md"
    assert main(["compare", str(a), str(b), "--threshold", "0.10", "--out", str(out)]) == 0
    text = out.read_text()
    assert "0 regression(s), 0 improvement(s)" in text and "] *" in text


def test_failed_runs_are_left_out(native_results: dict, tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    a = _with_samples(
        native_results, 1e-3 * (1 + 0.01 * rng.standard_normal(100)), tmp_path / "a.json"
    )
    failed = copy.deepcopy(native_results)
    failed["correctness"]["passed"] = False
    b = _with_samples(failed, 5e-3 * (1 + 0.01 * rng.standard_normal(100)), tmp_path / "b.json")
    assert compare([load(a)], [load(b)]) == []


# --- the pieces, one by one -------------------------------------------------------


def _result(template: dict, processes: list[list[float]], **changes: object) -> Result:
    """A merged result of ``template`` over ``processes`` (each a list of loop samples)."""
    runs = []
    for samples in processes:
        data = copy.deepcopy(template)
        data["ntimes"] = len(samples)
        data["phases"]["loop"]["seconds"] = samples
        data["coupling_path"] = "direct"
        data.pop("coupling_variant")
        data.update(changes)
        runs.append(Result(Path("r.json"), data))
    (merged,) = merge_repeats(runs)
    return merged


def test_run_key_names_everything_that_identifies_a_run(native_results: dict) -> None:
    result = Result(Path("r.json"), {**native_results, "model_file": "/x/y/model_cpu.pt"})
    threads = native_results["threads"]
    assert _key(result) == (
        "large_stride",
        "large_stride_vectorized",
        "N=4",
        f"{threads} thread(s)",
        "float32",
        "native-python-eager (inference_mode)",
        "model_cpu.pt",
    )
    assert _key(Result(Path("r.json"), native_results))[-1] == "ftbench.models (large_stride)"


def test_ratio_interval_of_a_single_sample_is_the_ratio() -> None:
    assert ratio_interval(np.array([2.0]), np.array([3.0, 5.0, 4.0])) == (2.0, 2.0)
    assert ratio_interval(np.array([2.0, 4.0, 6.0]), np.array([6.0])) == (1.5, 1.5)


def test_ratio_interval_is_a_reproducible_bootstrap_of_the_median_ratio() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.normal(1.0, 0.1, 40), rng.normal(2.0, 0.2, 25)  # unequal sizes, unpaired
    low, high = ratio_interval(a, b)
    assert (low, high) == ratio_interval(a, b)  # fixed seed
    ratio = np.median(b) / np.median(a)
    assert low < ratio < high and 1.6 < low and high < 2.4
    narrow = ratio_interval(a, b, confidence=0.5)
    assert low < narrow[0] < ratio < narrow[1] < high
    # Each side's spread counts: B's alone makes a wide interval.
    spread = ratio_interval(1 + 1e-9 * rng.random(50), rng.normal(2.0, 0.5, 50))
    assert spread[1] - spread[0] > 0.2
    two = ratio_interval(np.array([1.0, 1.2]), np.array([2.0, 2.2]))  # the smallest bootstrapped
    assert two[0] < two[1]


def test_process_interval_resamples_whole_processes() -> None:
    rng = np.random.default_rng(8)
    a = [rng.normal(level, 0.01, 30) for level in (1.0, 1.3, 1.1)]
    b = [rng.normal(level, 0.01, 20) for level in (2.0, 2.4)]
    low, high = process_ratio_interval(a, b)
    assert (low, high) == process_ratio_interval(a, b)  # fixed seed
    pooled = np.median(np.concatenate(b)) / np.median(np.concatenate(a))
    assert low <= pooled <= high
    # The extremes are whole processes against whole processes.
    assert low == pytest.approx(2.0 / 1.3, rel=0.02) and high == pytest.approx(2.4 / 1.0, rel=0.02)
    narrow = process_ratio_interval(a, b, confidence=0.5)
    assert low < narrow[0] <= narrow[1] < high


@pytest.mark.parametrize(
    ("processes_a", "processes_b", "resampled"),
    [(2, 2, "processes"), (3, 2, "processes"), (2, 1, "samples"), (1, 2, "samples")],
)
def test_processes_are_resampled_only_when_both_sides_have_several(
    native_results: dict, processes_a: int, processes_b: int, resampled: str
) -> None:
    rng = np.random.default_rng(9)

    def side(n: int) -> list[Result]:  # n processes, not merged yet
        runs = []
        for _ in range(n):
            data = copy.deepcopy(native_results)
            data["phases"]["loop"]["seconds"] = list(1 + 0.01 * rng.random(10))
            runs.append(Result(Path("r.json"), data))
        return runs

    (row,) = compare(side(processes_a), side(processes_b))
    assert row.resampled == resampled


def test_compare_row_values(native_results: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    a = _result(native_results, [[1.0, 2.0, 4.0]])
    b = _result(native_results, [[3.0, 5.0, 9.0]])
    monkeypatch.setattr(compare_module, "ratio_interval", lambda x, y: (2.4, 2.6))
    (row,) = compare([a], [b])
    assert (row.median_a, row.median_b, row.ratio) == (2.0, 5.0, 2.5)
    assert (row.low, row.high, row.verdict, row.resampled) == (2.4, 2.6, "regression", "samples")
    assert row.key == _key(a)


@pytest.mark.parametrize(
    ("interval", "verdict"),
    [
        ((1.05, 1.2), "same"),  # touching 1 + threshold is not beyond it
        ((1.0500001, 1.2), "regression"),
        ((0.8, 0.95), "same"),
        ((0.8, 0.9499999), "improvement"),
        ((0.9, 1.1), "same"),
    ],
)
def test_verdict_needs_the_whole_interval_beyond_the_threshold(
    native_results: dict, monkeypatch: pytest.MonkeyPatch, interval: tuple, verdict: str
) -> None:
    monkeypatch.setattr(compare_module, "ratio_interval", lambda x, y: interval)
    run = _result(native_results, [[1.0, 1.1]])
    (row,) = compare([run], [run], threshold=0.05)
    assert row.verdict == verdict


def test_compare_only_runs_in_both_sets_in_key_order(native_results: dict) -> None:
    def run(threads: int) -> Result:
        return _result(native_results, [[1.0, 1.1, 1.2]], threads=threads)

    rows = compare([run(4), run(1), run(2)], [run(2), run(3), run(4)])
    assert [row.key[3] for row in rows] == ["2 thread(s)", "4 thread(s)"]


def test_markdown_table() -> None:
    key = ("cgdrag", "cgdrag_wavenet2", "ncol=8192", "1 thread(s)", "float64", "direct", "m.pt")
    rows = [
        Comparison(key, 0.25, 0.3, 1.2, "native", 1.1, 1.07, 1.12, "regression", "passes"),
        Comparison((*key[:5], "embedded-python", "m.py"), 1e-3, 9e-4, 0.9, "time", 0.9, 0.85,
                   0.95, "improvement", "samples"),
        Comparison((*key[:5], "native-cpp", "m.pt"), 2e-6, 3e-6, 1.5, "time", 1.5, 1.4, 1.6,
                   "machine changed", "processes"),
    ]  # fmt: skip
    text = markdown(rows, 0.05)
    assert text.startswith("3 runs in both sets; threshold 5 %: 1 regression(s), 1 improvement")
    table = [line.split("|")[1:-1] for line in text.splitlines() if line.startswith("| ")]
    assert [cell.strip() for cell in table[0]] == [
        "benchmark", "model", "sizes", "threads", "path", "model file", "median A",
        "median B", "B / A", "judged on", "ratio [95 % CI]", "verdict",
    ]  # fmt: skip
    cells = [[cell.strip() for cell in row] for row in table[1:]]
    assert cells[0] == [
        "cgdrag", "cgdrag_wavenet2", "ncol=8192", "1 thread(s)", "direct", "`m.pt`",
        "250.000 ms", "300.000 ms", "1.200", "× native", "1.100 [1.070, 1.120]",
        "**regression**",
    ]  # fmt: skip
    assert cells[1][8:] == ["0.900", "time", "0.900 [0.850, 0.950] *", "improvement"]
    assert cells[2][8:] == ["1.500", "time", "1.500 [1.400, 1.600]", "machine changed"]
    assert text.endswith(
        "\n\n1 native baseline(s) moved beyond the threshold: the machine changed between "
        "the two sets, so absolute times (B / A) are not comparable; coupled paths are judged "
        "on their ratio to their own set's native baseline (× native), which such a change "
        "leaves alone.\n"
        "\n\\* 1 row(s) with one process or one pass on a side: the interval covers the noise "
        "of the samples at most, not the variation between processes (up to 2x on a shared "
        "machine); rerun with `ftbench suite --repeat 3` before trusting a verdict.\n"
    )
    one_pass = Comparison(key, 1.0, 1.0, 1.0, "native", 1.0, 1.0, 1.0, "same", "one pass")
    assert "1.000 [1.000, 1.000] *" in markdown([one_pass], 0.05)
    assert "\\* 1 row(s) with one process or one pass on a side" in markdown([one_pass], 0.05)
    one = markdown([rows[0]], 0.7)  # judged over passes, no native moved: no notes
    assert one.startswith("1 runs in both sets; threshold 70 %: 1 regression(s), 0 improvement")
    assert one.endswith("| **regression** |\n")


def _passes(template: dict, directory: Path, path: list[float], native: list[float]) -> Path:
    """A results set: the direct path and its native baseline, pass k at the k-th medians
    (20 samples each, 1 % noise), files ``<name>_r<k>.json``."""
    rng = np.random.default_rng(len(path) + int(1000 * path[0]))
    directory.mkdir()
    for k, (p, n) in enumerate(zip(path, native, strict=True), 1):
        _with_samples(
            template, p * (1 + 0.01 * rng.standard_normal(20)), directory / f"d_r{k}.json"
        )
        _with_samples(
            template, n * (1 + 0.01 * rng.standard_normal(20)), directory / f"n_r{k}.json"
        )
        data = json.loads((directory / f"n_r{k}.json").read_text())
        data.update(coupling_path="native-python-eager", coupling_variant="inference_mode")
        (directory / f"n_r{k}.json").write_text(json.dumps(data))
    return directory


def test_a_slower_machine_is_not_a_regression(native_results: dict, tmp_path: Path) -> None:
    """Set B ran on a machine 1.5x slower (and drifting between passes): the direct path
    keeps its ratio to its own native baseline, so nothing is flagged; the native
    baseline's move is reported as a changed machine, and the exit status is 0."""
    a = _passes(native_results, tmp_path / "a", [1.2, 1.26, 1.14], [1.0, 1.05, 0.95])
    slower = [1.5, 1.7, 1.4]
    b = _passes(
        native_results, tmp_path / "b", [1.2 * s for s in slower], [1.0 * s for s in slower]
    )
    direct, native = compare(load_all([a]), load_all([b]))
    assert (direct.key[5], direct.basis, direct.resampled) == ("direct", "native", "passes")
    assert direct.ratio > 1.3 and direct.judged == pytest.approx(1.0, abs=0.03)
    assert direct.verdict == "same"
    assert native.basis == "time" and native.verdict == "machine changed"
    out = tmp_path / "c.md"
    assert main(["compare", str(a), str(b), "--out", str(out)]) == 0
    assert "0 regression(s), 0 improvement(s)" in out.read_text()
    assert "the machine changed between the two sets" in out.read_text()


def test_a_slower_path_on_a_slower_machine_is_a_regression(
    native_results: dict, tmp_path: Path
) -> None:
    a = _passes(native_results, tmp_path / "a", [1.2, 1.26, 1.14], [1.0, 1.05, 0.95])
    b = _passes(native_results, tmp_path / "b", [2.4, 2.52, 2.28], [1.5, 1.575, 1.425])
    direct, native = compare(load_all([a]), load_all([b]))
    assert direct.judged == pytest.approx((2.4 / 1.5) / (1.2 / 1.0), rel=0.02)  # 1.33
    assert direct.verdict == "regression" and direct.low > 1.05
    assert main(["compare", str(a), str(b)]) == REGRESSION_EXIT_CODE


def test_one_pass_a_side_is_judged_without_an_interval(
    native_results: dict, tmp_path: Path
) -> None:
    a = _passes(native_results, tmp_path / "a", [1.2], [1.0])
    b = _passes(native_results, tmp_path / "b", [1.3], [1.0])
    direct, _ = compare(load_all([a]), load_all([b]))
    assert direct.basis == "native" and direct.resampled == "one pass"
    assert direct.low == direct.judged == direct.high


def test_same_sets_flag_nothing(native_results: dict, tmp_path: Path) -> None:
    """A/A: the same medians on both sides, two passes each: every verdict is "same"
    (the native baseline too) and rows are judged over passes."""
    a = _passes(native_results, tmp_path / "a", [1.2, 1.25], [1.0, 1.02])
    b = _passes(native_results, tmp_path / "b", [1.2, 1.25], [1.0, 1.02])
    rows = compare(load_all([a]), load_all([b]))
    assert [(r.key[5], r.verdict) for r in rows] == [
        ("direct", "same"),
        ("native-python-eager (inference_mode)", "same"),
    ]
    assert rows[0].resampled == "passes"


def test_a_side_without_a_baseline_is_judged_on_time(native_results: dict, tmp_path: Path) -> None:
    a = _passes(native_results, tmp_path / "a", [1.2, 1.25], [1.0, 1.02])
    b = _passes(native_results, tmp_path / "b", [1.2, 1.25], [1.0, 1.02])
    for native in b.glob("n_*.json"):
        native.unlink()
    (direct,) = compare(load_all([a]), load_all([b]))
    assert direct.basis == "time" and direct.judged == direct.ratio
