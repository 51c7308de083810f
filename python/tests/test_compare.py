"""ftbench compare: ratios of medians with bootstrap intervals, regressions flagged."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from ftbench.cli import REGRESSION_EXIT_CODE, main
from ftbench.compare import compare, ratio_interval
from ftbench.results import load, load_all


@pytest.fixture(scope="module")
def template(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A real results document (native Python baseline, quick to make)."""
    path = tmp_path_factory.mktemp("template") / "r.json"
    assert (
        main(
            [
                "native",
                "large_stride",
                "3",
                "--n",
                "4",
                "--models",
                str(model_dir),
                "--json",
                str(path),
                "--quiet",
            ]
        )
        == 0
    )
    return load(path).data


def _with_samples(template: dict, samples: np.ndarray, path: Path) -> Path:
    data = copy.deepcopy(template)
    data["ntimes"] = samples.size
    data["phases"]["loop"]["seconds"] = samples.tolist()
    path.write_text(json.dumps(data))
    return path


def test_twenty_percent_slowdown_is_a_regression(template: dict, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    a = 1e-3 * (1 + 0.03 * rng.standard_normal(200))
    b = 1.2e-3 * (1 + 0.03 * rng.standard_normal(200))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _with_samples(template, a, tmp_path / "a" / "r.json")
    _with_samples(template, b, tmp_path / "b" / "r.json")
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


def test_same_distribution_is_not_flagged(template: dict, tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    a = _with_samples(template, 1e-3 * (1 + 0.1 * rng.standard_normal(100)), tmp_path / "a.json")
    b = _with_samples(template, 1e-3 * (1 + 0.1 * rng.standard_normal(100)), tmp_path / "b.json")
    rows = compare([load(a)], [load(b)])
    assert len(rows) == 1 and rows[0].verdict == "same"
    assert rows[0].low < 1 < rows[0].high


def test_interval_contains_the_true_ratio() -> None:
    rng = np.random.default_rng(3)
    low, high = ratio_interval(rng.normal(1.0, 0.05, 300), rng.normal(1.5, 0.05, 300))
    assert low < 1.5 < high and high - low < 0.05


def test_unmatched_runs_are_an_error(
    template: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = copy.deepcopy(template)
    other["threads"] = template["threads"] + 1
    (tmp_path / "a.json").write_text(json.dumps(template))
    (tmp_path / "b.json").write_text(json.dumps(other))
    assert main(["compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 1
    assert "no run appears in both sets" in capsys.readouterr().err


def test_repeats_are_resampled_as_whole_processes(template: dict, tmp_path: Path) -> None:
    """Two sets of the same program whose processes differ by up to 1.6x: resampling
    samples alone would flag a change; resampling whole processes does not."""
    rng = np.random.default_rng(4)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for side, levels in (("a", (1.0, 1.6, 1.1)), ("b", (1.25, 1.0, 1.5))):
        for k, level in enumerate(levels, 1):
            samples = 1e-3 * level * (1 + 0.02 * rng.standard_normal(100))
            _with_samples(template, samples, tmp_path / side / f"r_r{k}.json")
    rows = compare(load_all([tmp_path / "a"]), load_all([tmp_path / "b"]))
    assert len(rows) == 1 and rows[0].resampled == "processes"
    assert rows[0].verdict == "same" and rows[0].low < 1 < rows[0].high
    pooled_only = ratio_interval(
        np.concatenate([load(p).seconds() for p in sorted((tmp_path / "a").glob("*.json"))]),
        np.concatenate([load(p).seconds() for p in sorted((tmp_path / "b").glob("*.json"))]),
    )
    assert pooled_only[1] - pooled_only[0] < rows[0].high - rows[0].low
    assert not pooled_only[0] < 1 < pooled_only[1]  # samples alone: a false "change"


def test_threshold_decides_what_counts(template: dict, tmp_path: Path) -> None:
    """A clear 8 % slowdown is a regression at the default 5 % threshold, and within
    noise at a 10 % threshold; the single-process row is marked with `*`."""
    rng = np.random.default_rng(5)
    a = _with_samples(template, 1e-3 * (1 + 0.01 * rng.standard_normal(300)), tmp_path / "a.json")
    b = _with_samples(
        template, 1.08e-3 * (1 + 0.01 * rng.standard_normal(300)), tmp_path / "b.json"
    )
    (row,) = compare([load(a)], [load(b)])
    assert row.verdict == "regression" and row.low > 1.05 and row.resampled == "samples"
    (row,) = compare([load(a)], [load(b)], threshold=0.10)
    assert row.verdict == "same"
    out = tmp_path / "c.md"
    assert main(["compare", str(a), str(b), "--threshold", "0.10", "--out", str(out)]) == 0
    text = out.read_text()
    assert "0 regression(s), 0 improvement(s)" in text and "] *" in text


def test_failed_runs_are_left_out(template: dict, tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    a = _with_samples(template, 1e-3 * (1 + 0.01 * rng.standard_normal(100)), tmp_path / "a.json")
    failed = copy.deepcopy(template)
    failed["correctness"]["passed"] = False
    b = _with_samples(failed, 5e-3 * (1 + 0.01 * rng.standard_normal(100)), tmp_path / "b.json")
    assert compare([load(a)], [load(b)]) == []
