"""What reports compute from results: groups of comparable runs, summary rows with
ratios (fastest, native baseline pass by pass), one-off costs, the run's
resolution and scaling fits. No Markdown and no plots here (``ftbench.report``
assembles; ``report.markdown`` and ``report.plots`` render)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ftbench.paired import NO_RATIO, RatioSummary, paired_summary
from ftbench.results import FORMAT_ORDER, HEADLINE_PHASE, Result

GroupKey = tuple[str, str, str, int, str]

NOISY_CV = 0.10
"""Coefficient of variation (stddev / mean of the loop time) above which a run is flagged noisy."""

FIXED_COST_MODEL, FIXED_COST_SIZE = "large_stride_vectorized", "N=4"
"""The group whose medians are each path's fixed cost per call (2 x a 4 x 4 array)."""


def group_slug(key: GroupKey) -> str:
    """File-name stem of a group's plots."""
    benchmark, model, sizes, threads, dtype = key
    text = f"{model}_{sizes}_{threads}t_{dtype}"
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()


def group_title(key: GroupKey) -> str:
    """Heading of a group: model, benchmark, sizes, threads, dtype."""
    benchmark, model, sizes, threads, dtype = key
    return f"{model} ({benchmark}), {sizes}, {threads} thread{'s' if threads != 1 else ''}, {dtype}"


def group(results: Sequence[Result]) -> dict[GroupKey, list[Result]]:
    """Comparable runs, keyed by (benchmark, model, sizes, threads, dtype), in sorted order."""
    groups: dict[GroupKey, list[Result]] = defaultdict(list)
    for result in results:
        groups[result.group_key].append(result)
    return {
        key: sorted(groups[key], key=lambda r: (FORMAT_ORDER.index(r.model_format), r.path_label))
        for key in sorted(groups)
    }


def labels(runs: Sequence[Result]) -> list[str]:
    """Display names of the runs of one group: the path label, plus the model file
    where two runs of the group would otherwise share a name."""
    names = [r.path_label for r in runs]
    return [
        f"{name} [{Path(r.data.get('model_file') or r.data['model']).name}]"
        if names.count(name) > 1
        else name
        for name, r in zip(names, runs, strict=True)
    ]


NATIVE_OF_PATH = {
    "direct": "native-cpp",
    "embedded-python": "native-python",
    "f2py": "native-python",
}
"""The native baseline family each coupled path is compared with first: the direct
path against the same model called from C++, the embedded and f2py paths (whose
models run in Python) from Python."""


def native_reference(run: Result, runs: Sequence[Result]) -> Result | None:
    """The native baseline ``run`` is compared with: a passing native run of ``runs``
    with the same model format and grad mode (like with like: an AOTInductor path
    against native AOTInductor, inference mode against inference mode), from the
    family of :data:`NATIVE_OF_PATH` when the group has one (else any), the fastest
    when several qualify; None when there is none."""
    candidates = [
        r
        for r in runs
        if r.passed
        and r.is_native
        and r.model_format == run.model_format
        and r.grad_mode == run.grad_mode
    ]
    family = NATIVE_OF_PATH.get(str(run.data["coupling_path"]), "")
    preferred = [r for r in candidates if str(r.data["coupling_path"]).startswith(family)]
    return min(
        preferred if family and preferred else candidates,
        key=lambda r: r.statistics()["median"],
        default=None,
    )


def summary_rows(runs: Sequence[Result]) -> list[dict[str, object]]:
    """One row per run: model format; median, IQR, min, mean, stddev and coefficient of
    variation of the headline phase; its ratio to the fastest passing run of the group;
    and its ratio to its native baseline (:func:`native_reference`), pass by pass
    (``native``, a :class:`ftbench.paired.RatioSummary`; ``native_ratio`` its geometric mean of
    per-pass ratios, NaN when there is no baseline). Failed runs get no ratios and are
    never the reference of one."""
    statistics = {id(r): r.statistics() for r in runs}  # once per run
    medians = {key: stats["median"] for key, stats in statistics.items()}
    passing = [medians[id(r)] for r in runs if r.passed]
    fastest = min(passing) if passing else float("nan")
    rows = []
    for r, label in zip(runs, labels(runs), strict=True):
        stats = statistics[id(r)]
        q1, q3 = np.percentile(r.seconds(), [25, 75])
        native = paired_summary(r, native_reference(r, runs)) if r.passed else NO_RATIO
        rows.append(
            {
                "path": label,
                "format": r.model_format,
                "model": " + ".join(
                    Path(r.data[k]).name for k in ("model", "model_file") if r.data.get(k)
                ),
                "n": stats["count"],
                "median": stats["median"],
                "iqr": float(q3 - q1),
                "min": stats["min"],
                "mean": stats["mean"],
                "stddev": stats["stddev"],
                "ratio": medians[id(r)] / fastest if r.passed else float("nan"),
                "native_ratio": native.ratio,
                "native": native,
                "cv": stats["stddev"] / stats["mean"] if stats["mean"] > 0 else 0.0,
                "passed": r.passed,
                "max_error_ratio": r.data["correctness"]["max_error_ratio"],
                "process_medians": r.data.get("process_medians", [medians[id(r)]]),
            }
        )
    return rows


def one_off_rows(runs: Sequence[Result]) -> list[dict[str, object]]:
    """What each run of a group paid once, beside its median step: ``compile``
    (``compile_seconds`` of the export metadata: torch.export + AOTInductor, or
    scripting/tracing; torch.compile compiles in its first call instead), ``load``
    (the ``model load`` phase), ``first call`` (the first warm-up step minus the
    median step: the profiling passes of TorchScript, torch.compile's compilation),
    their sum, and ``break_even``: after how many steps the run's format has paid
    for its larger one-off cost against the fastest passing TorchScript run of the
    same coupling path family (0 when it costs no more; inf when its steps are not
    faster; NaN for TorchScript runs themselves and when there is no such run)."""

    def family(r: Result) -> str:  # direct, embedded-python, native-cpp, native-python
        path = str(r.data["coupling_path"])
        return "-".join(path.split("-")[:2]) if r.is_native else path

    def costs(r: Result) -> tuple[float, float, float, float]:
        median = float(np.median(r.seconds()))
        metadata = r.data.get("model_metadata") or {}
        compile_seconds = float(metadata.get("compile_seconds", 0.0))
        load = float(r.data.get("once", {}).get("model load", 0.0))
        warmup = r.data["phases"][HEADLINE_PHASE]["warmup_seconds"]
        first = max(float(np.median(warmup)) - median, 0.0) if warmup else float("nan")
        return compile_seconds, load, first, median

    rows = []
    for r, label in zip(runs, labels(runs), strict=True):
        compile_seconds, load, first, median = costs(r)
        total = compile_seconds + load + (first if np.isfinite(first) else 0.0)
        references = [
            t
            for t in runs
            if t.passed and t.model_format == "TorchScript" and family(t) == family(r)
        ]
        break_even = float("nan")  # TorchScript runs are the reference: no pay-off
        if references and r.passed and r.model_format != "TorchScript":
            reference = min(references, key=lambda t: float(np.median(t.seconds())))
            ref_compile, ref_load, ref_first, ref_median = costs(reference)
            extra = total - (ref_compile + ref_load + (ref_first if np.isfinite(ref_first) else 0))
            saved = ref_median - median
            if extra <= 0:
                break_even = 0.0
            elif saved <= 0:
                break_even = float("inf")
            else:
                break_even = float(np.ceil(extra / saved))
        rows.append(
            {
                "path": label,
                "format": r.model_format,
                "compile": compile_seconds,
                "load": load,
                "first": first,
                "total": total,
                "median": median,
                "break_even": break_even,
            }
        )
    return rows


def resolution(rows: dict[GroupKey, list[dict[str, object]]]) -> list[RatioSummary]:
    """The × native summaries of the rows (:func:`summary_rows` of each group) that have
    an interval: passed, not their own baseline, more than one pass."""
    return [
        row["native"]
        for group_rows in rows.values()
        for row in group_rows
        if row["passed"] and row["native"].passes > 1 and row["native"].high > row["native"].low
    ]


def _size(result: Result) -> tuple[str, float] | None:
    """The problem size that scaling plots use: N² elements or columns."""
    sizes = result.data["sizes"]
    if "N" in sizes:
        return "elements (N²)", float(sizes["N"]) ** 2
    if "columns" in sizes:
        return "columns", float(sizes["columns"])
    return None


def fit_scaling(sizes: np.ndarray, medians: np.ndarray) -> tuple[float, float]:
    """Fit ``median = fixed + per_unit * size`` by least squares weighted by 1/median
    (so small and large sizes count alike, in relative terms); returns (fixed, per_unit)."""
    per_unit, fixed = np.polyfit(sizes, medians, 1, w=1.0 / medians)
    return float(fixed), float(per_unit)


def scaling_series(
    results: Sequence[Result],
) -> dict[tuple[str, str, int], tuple[str, dict[str, list[tuple[float, float]]]]]:
    """Median step against problem size, for every path that ran at three sizes or
    more: {(benchmark, model, threads): (size unit, {path label: [(size, median)]})}."""
    series: dict[tuple[str, str, int], dict[str, list[tuple[float, float]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    units: dict[tuple[str, str, int], str] = {}
    for r in results:
        size = _size(r)
        if size is None or not r.passed:
            continue
        key = (r.data["benchmark"], r.model_name, r.data["threads"])
        units[key] = size[0]
        label = r.path_label
        if r.data["benchmark"] == "cgdrag" and "traced" in Path(r.data["model"]).name:
            label += " [traced]"
        series[key][label].append((size[1], r.statistics()["median"]))
    found = {}
    for key in sorted(series):
        curves = {k: sorted(v) for k, v in series[key].items() if len({x for x, _ in v}) >= 3}
        if curves:
            found[key] = (units[key], dict(sorted(curves.items())))
    return found
