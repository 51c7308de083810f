"""ftbench.results: loading and validating results files, the properties reports group
and label runs by, the statistics block, and merging repeats made in separate processes.
In-process tests on a real results document (the native Python baseline), no build."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from ftbench.results import Result, ResultsError, load, load_all, merge_repeats, statistics


def _write(data: dict, path: Path) -> Path:
    path.write_text(json.dumps(data))
    return path


def _run(template: dict, loop: list[float], **changes: object) -> Result:
    """A copy of ``template`` whose every phase has the samples ``loop`` (and warm-up 9.0)."""
    data = copy.deepcopy(template)
    data["ntimes"] = len(loop)
    for phase in data["phase_order"]:
        data["phases"][phase] = {
            "seconds": list(loop),
            "warmup_seconds": [9.0],
            "statistics": statistics(np.asarray(loop)),
        }
    data.update(changes)
    return Result(Path(f"{id(data)}.json"), data)


def test_load_reads_a_valid_file(native_results: dict, tmp_path: Path) -> None:
    path = _write(native_results, tmp_path / "r.json")
    result = load(path)
    assert result.path == path and result.data == native_results


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read: No such file or directory"),
        ("{not json", "not JSON: Expecting property name enclosed in double quotes"),
        ("[]", "field (top level): [] is not of type 'object'"),
    ],
)
def test_load_errors_name_the_file_and_the_cause(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "r.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ResultsError) as error:
        load(path)
    assert str(error.value).startswith(f"{path}: {message}")


def test_load_names_the_nested_field(native_results: dict, tmp_path: Path) -> None:
    data = copy.deepcopy(native_results)
    data["phases"]["loop"]["seconds"] = ["fast"]
    with pytest.raises(ResultsError) as error:
        load(_write(data, tmp_path / "r.json"))
    assert str(error.value) == (
        f"{tmp_path / 'r.json'}: field phases/loop/seconds/0: 'fast' is not of type 'number'"
    )


def test_load_refuses_phases_without_data(native_results: dict, tmp_path: Path) -> None:
    data = copy.deepcopy(native_results)
    data["phase_order"] = [*data["phase_order"], "reshape", "copy"]
    with pytest.raises(ResultsError) as error:
        load(_write(data, tmp_path / "r.json"))
    assert str(error.value) == (
        f"{tmp_path / 'r.json'}: phase_order names phases with no data: ['reshape', 'copy']"
    )


def test_load_all_expands_directories_in_name_order(native_results: dict, tmp_path: Path) -> None:
    (tmp_path / "raw").mkdir()
    for name in ("b.json", "a.json"):
        _write(native_results, tmp_path / "raw" / name)
    (tmp_path / "raw" / "notes.txt").write_text("not a results file")
    single = _write(native_results, tmp_path / "single.json")
    loaded = load_all([tmp_path / "raw", single])
    assert [r.path.name for r in loaded] == ["a.json", "b.json", "single.json"]


def test_load_all_with_nothing_found(tmp_path: Path) -> None:
    with pytest.raises(
        ResultsError, match=r"^no results files found \(run the benchmarks first\)$"
    ):
        load_all([tmp_path])


def test_statistics_block() -> None:
    x = np.array([4.0, 1.0, 10.0, 2.0, 3.0])
    assert statistics(x) == {
        "count": 5,
        "min": 1.0,
        "median": 3.0,
        "mean": 4.0,
        "stddev": pytest.approx(np.sqrt(50 / 4), rel=1e-15),  # sample (n - 1) deviation
        "max": 10.0,
    }
    assert statistics(np.array([1.0, 3.0]))["stddev"] == pytest.approx(np.sqrt(2.0), rel=1e-15)
    assert statistics(np.array([2.5])) == {
        "count": 1,
        "min": 2.5,
        "median": 2.5,
        "mean": 2.5,
        "stddev": 0.0,
        "max": 2.5,
    }


def test_properties_reports_group_and_label_by(native_results: dict) -> None:
    data = copy.deepcopy(native_results)
    result = Result(Path("r.json"), data)
    assert result.model_name == "large_stride_vectorized"
    assert result.path_label == "native-python-eager (inference_mode)"
    assert result.group_key == (
        "large_stride",
        "large_stride_vectorized",
        "N=4",
        data["threads"],
        "float32",
    )
    assert result.model_format == "eager" and result.grad_mode == "inference_mode"
    assert result.is_native and result.passed
    np.testing.assert_array_equal(result.seconds(), data["phases"]["loop"]["seconds"])
    np.testing.assert_array_equal(result.seconds("forward"), data["phases"]["forward"]["seconds"])

    data.update(
        model="/models/cgdrag_cpu.pt",
        model_metadata=None,
        coupling_path="direct",
        coupling_variant=None,
        sizes={"ncol": 8192, "nlev": 40},
    )
    data["correctness"]["passed"] = False
    assert result.model_name == "cgdrag_cpu"  # no metadata: the file stem
    assert result.path_label == "direct"
    assert result.group_key[2] == "ncol=8192, nlev=40"  # sorted by name
    assert result.model_format == "unknown" and not result.is_native and not result.passed
    data.update(coupling_variant="no_grad", model_metadata={"format": "aoti"})
    assert result.grad_mode == "no_grad" and result.model_format == "AOTInductor"


def test_merge_repeats_pools_processes_of_one_configuration(native_results: dict) -> None:
    first = _run(native_results, [1.0, 2.0, 3.0])
    second = _run(native_results, [4.0, 5.0])
    third = _run(native_results, [6.0])
    first.data["once"] = {"model load": 1.0, "model delete": 0.5}
    second.data["once"] = {"model load": 3.0}
    third.data["once"] = {"model load": 2.0, "model delete": 0.7}
    for run, ratio, failed, time in (
        (first, 0.25, 0, "2026-01-02T00:00:00Z"),
        (second, 0.5, 1, "2026-01-01T00:00:00Z"),
        (third, 0.125, 2, "2026-01-03T00:00:00Z"),
    ):
        run.data["correctness"].update(
            max_error_ratio=ratio,
            max_abs_error=ratio / 10,
            error_ratios=[ratio] * len(run.data["phases"]["loop"]["seconds"]),
            failed_iterations=failed,
            passed=failed == 0,
        )
        run.data["environment"]["utc_time"] = time
    other_threads = _run(native_results, [7.0], threads=native_results["threads"] + 1)

    merged = merge_repeats([first, second, other_threads, third])
    assert len(merged) == 2
    pooled, alone = merged
    assert pooled.path == first.path and alone.path == other_threads.path
    data = pooled.data
    assert data["processes"] == 3 and data["ntimes"] == 6
    assert data["process_medians"] == [2.0, 4.5, 6.0]
    assert data["process_seconds"] == [[1.0, 2.0, 3.0], [4.0, 5.0], [6.0]]
    for phase in data["phase_order"]:
        assert data["phases"][phase]["seconds"] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        assert data["phases"][phase]["warmup_seconds"] == [9.0, 9.0, 9.0]
        assert data["phases"][phase]["statistics"] == statistics(np.arange(1.0, 7.0))
    assert data["once"] == {"model load": 2.0, "model delete": pytest.approx(0.6)}
    assert data["correctness"]["max_error_ratio"] == 0.5
    assert data["correctness"]["max_abs_error"] == 0.05
    assert data["correctness"]["error_ratios"] == [0.25] * 3 + [0.5] * 2 + [0.125]
    assert data["correctness"]["failed_iterations"] == 3
    assert data["correctness"]["passed"] is False
    assert data["environment"]["utc_time"] == "2026-01-01T00:00:00Z"
    assert alone.data["processes"] == 1 and alone.data["process_medians"] == [7.0]
    assert alone.data["phases"] == other_threads.data["phases"]
    assert first.data["phases"]["loop"]["seconds"] == [1.0, 2.0, 3.0]  # inputs untouched


def test_merge_repeats_keeps_nan_errors_as_null(native_results: dict) -> None:
    runs = [_run(native_results, [1.0]), _run(native_results, [2.0])]
    for run in runs:
        del run.data["once"]  # optional in the schema
    runs[1].data["correctness"].update(max_error_ratio=None, max_abs_error=None)
    (merged,) = merge_repeats(runs)
    assert merged.data["correctness"]["max_error_ratio"] is None
    assert merged.data["correctness"]["max_abs_error"] is None
    assert merged.data["correctness"]["passed"] is True
    assert merged.data["once"] == {}  # no one-off costs recorded, none merged


@pytest.mark.parametrize(
    "change",
    [
        {"coupling_variant": "no_grad"},
        {"model_file": "/elsewhere/other_model.pt"},
        {"dtype": "float64"},
        {"benchmark": "cgdrag"},
        {"sizes": {"N": 8}},
    ],
)
def test_merge_repeats_keeps_other_configurations_apart(native_results: dict, change: dict) -> None:
    merged = merge_repeats([_run(native_results, [1.0]), _run(native_results, [2.0], **change)])
    assert [r.data["processes"] for r in merged] == [1, 1]


def test_merge_repeats_matches_model_files_by_name(native_results: dict) -> None:
    """The same model file in another directory (another clone, say) is the same run."""
    runs = [
        _run(native_results, [1.0], model_file="/a/large_stride_vectorized_cpu.pt"),
        _run(native_results, [2.0], model_file="/b/large_stride_vectorized_cpu.pt"),
    ]
    (merged,) = merge_repeats(runs)
    assert merged.data["processes"] == 2
