"""The report's tables and text (GitHub Markdown via tabulate), from what
``report.stats`` computes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.ticker import EngFormatter
from tabulate import tabulate

from ftbench.report.stats import (
    FIXED_COST_MODEL,
    FIXED_COST_SIZE,
    NOISY_CV,
    GroupKey,
    fit_scaling,
    labels,
    one_off_rows,
    resolution,
)
from ftbench.results import Result

_SECONDS = EngFormatter(unit="s", places=3, sep=" ")


def fmt_seconds(value: float) -> str:
    """A duration with an SI prefix, e.g. ``1.234 ms``."""
    return _SECONDS.format_data(value) if np.isfinite(value) else "n/a"


def summary_table(rows: Sequence[dict[str, object]]) -> str:
    """The summary table of one group, from its :func:`summary_rows`."""
    table = [
        [
            row["path"],
            row["format"],
            f"`{row['model']}`",
            row["n"],
            fmt_seconds(row["median"]),
            fmt_seconds(row["iqr"]),
            fmt_seconds(row["min"]),
            f"{fmt_seconds(row['mean'])} ± {fmt_seconds(row['stddev'])}",
            f"{row['ratio']:.2f}" if row["passed"] else "excluded",
            row["native"].text() if row["passed"] else "excluded",
            f"{100 * row['cv']:.0f} %" + (" ⚠" if row["cv"] > NOISY_CV else ""),
            processes_cell(row["process_medians"]),
            "passed" if row["passed"] else "**FAILED**",
        ]
        for row in rows
    ]
    headers = [
        "coupling path",
        "format",
        "model",
        "n",
        "median",
        "IQR",
        "min",
        "mean ± stddev",
        "× fastest",
        "× native",
        "CV",
        "processes: medians",
        "check",
    ]
    return tabulate(table, headers=headers, tablefmt="github", disable_numparse=True)


def processes_cell(medians: Sequence[float]) -> str:
    """``3: 9.0 µs – 15.2 µs``: how many processes ran, and their lowest and highest medians."""
    if len(medians) == 1:
        return "1"
    return f"{len(medians)}: {fmt_seconds(min(medians))} – {fmt_seconds(max(medians))}"


def phase_table(runs: Sequence[Result]) -> str:
    """Median of every phase, and the once-timed phases, of each run of a group; a
    phase only some runs have comes right after the phase that precedes it in those
    runs' own order (so ``loop``, last everywhere, stays last)."""
    phases: list[str] = []
    for r in runs:
        previous = -1
        for phase in r.data["phase_order"]:
            if phase not in phases:
                phases.insert(previous + 1, phase)
            previous = phases.index(phase)
    once: list[str] = []
    for r in runs:
        once += [p for p in r.data.get("once", {}) if p not in once]
    table = []
    for phase in phases:
        cells = [
            fmt_seconds(r.statistics(phase)["median"]) if phase in r.data["phases"] else ""
            for r in runs
        ]
        table.append([phase] + cells)
    for phase in once:
        cells = [
            fmt_seconds(r.data["once"][phase]) if phase in r.data.get("once", {}) else ""
            for r in runs
        ]
        table.append([f"{phase} (once)"] + cells)
    headers = ["phase (median)", *labels(runs)]
    return tabulate(table, headers=headers, tablefmt="github", disable_numparse=True)


def one_off_table(runs: Sequence[Result]) -> str:
    """What each model format of a group cost once (``stats.one_off_rows``)."""

    def steps(value: float) -> str:
        if np.isnan(value):
            return "—"
        return "never" if np.isinf(value) else f"{value:.0f}"

    table = [
        [
            row["path"],
            row["format"],
            fmt_seconds(row["compile"]) if row["compile"] else "—",
            fmt_seconds(row["load"]),
            fmt_seconds(row["first"]),
            fmt_seconds(row["total"]),
            fmt_seconds(row["median"]),
            steps(row["break_even"]),
        ]
        for row in one_off_rows(runs)
        if row["format"] != "eager"
    ]
    return tabulate(
        table,
        headers=[
            "coupling path",
            "format",
            "export + compile",
            "load",
            "first call − median",
            "one-off total",
            "median step",
            "steps to pay off vs TorchScript",
        ],
        tablefmt="github",
        disable_numparse=True,
    )


def resolution_lines(rows: dict[GroupKey, list[dict[str, object]]]) -> list[str]:
    """What the paired ratios could resolve: the median half-width of the × native
    intervals of the rows (:func:`summary_rows` of each group) that are not their own
    baseline."""
    summaries = resolution(rows)
    if not summaries:
        return []
    half = [100 * (s.high - s.low) / 2 / s.ratio for s in summaries]
    passes = sorted({s.passes for s in summaries})
    resolved = sum(s.resolved for s in summaries)
    return [
        f"**Resolution.** Over {' or '.join(map(str, passes))} passes, the × native intervals "
        f"are ±{np.median(half):.1f} % wide (median half-width; from ±{min(half):.1f} % to "
        f"±{max(half):.1f} %): differences from the native baseline smaller than that are "
        f"within this run's noise. {resolved} of {len(summaries)} such ratios are resolved.",
        "",
    ]


def selftest_lines(selftest: Path) -> list[str]:
    """The verdicts of the last ``ftbench selftest`` kept beside the report, if any,
    with the line saying where and when it ran (``selftest.provenance``)."""
    if not selftest.is_file():
        return []
    lines = selftest.read_text().splitlines()
    verdicts = [line for line in lines if line.startswith("- **")]
    where = [line for line in lines if line.startswith("Run on ")]
    return [
        "**Self-test** (`ftbench selftest`, a separate run: injected costs of 2, 5 and 10 % "
        "of a step, and an A/A comparison; [selftest/selftest.md](selftest/selftest.md)"
        + (f"; {where[0][0].lower()}{where[0][1:].removesuffix('.')}" if where else "")
        + "):",
        "",
        *verdicts,
        "",
    ]


F2PY_CALL_PHASE = "f2py call before"
"""The f2py path's phase that is one f2py call (on a 4 x 4 array in the fixed-cost group)."""


def fixed_cost_section(
    rows: dict[GroupKey, list[dict[str, object]]], groups: dict[GroupKey, list[Result]]
) -> list[str]:
    """The fixed-cost section, from the :func:`summary_rows` of each group, with the
    median of one f2py call (:data:`F2PY_CALL_PHASE`) of each passing f2py run."""
    calls = [
        f"{fmt_seconds(r.statistics(F2PY_CALL_PHASE)['median'])} for {r.path_label} "
        f"({key[3]} thread{'s' if key[3] != 1 else ''})"
        for key, runs in groups.items()
        if key[1] == FIXED_COST_MODEL and key[2] == FIXED_COST_SIZE
        for r in runs
        if r.passed and F2PY_CALL_PHASE in r.data["phases"]
    ]
    table = []
    for key, group_rows in rows.items():
        if key[1] != FIXED_COST_MODEL or key[2] != FIXED_COST_SIZE:
            continue
        for row in group_rows:
            if row["passed"]:
                table.append(
                    [
                        key[3],
                        row["path"],
                        row["format"],
                        fmt_seconds(row["median"]),
                        row["native"].text(),
                    ]
                )
    if not table:
        return []
    return [
        "## Fixed cost per call",
        "",
        "Median time of one whole step on a 4 × 4 float32 array (`large_stride_vectorized`, "
        "N = 4): what a call through each path costs when the model itself does almost nothing.",
        "",
        tabulate(
            table,
            headers=["threads", "path", "format", "per call", "× native"],
            tablefmt="github",
            disable_numparse=True,
        ),
        "",
        *(
            [
                "The f2py rows are a Python host calling the model in Python and the Fortran "
                "side twice per step through f2py (docs/f2py.md). One f2py call on the 4 × 4 "
                f"array alone (the `{F2PY_CALL_PHASE}` phase, median) takes "
                + "; ".join(calls)
                + ".",
                "",
            ]
            if calls
            else []
        ),
    ]


def scaling_section(
    series: dict[tuple[str, str, int], tuple[str, dict[str, list[tuple[float, float]]]]],
) -> list[str]:
    """The scaling section: per model and thread count, the fit of each path's curve
    (``stats.fit_scaling``) and its plot ``plots/<slug>.png`` (:func:`scaling_slug`)."""
    lines: list[str] = []
    for key, (unit, curves) in series.items():
        benchmark, model, threads = key
        table = []
        for label, points in curves.items():
            x = np.array([p[0] for p in points])
            t = np.array([p[1] for p in points])
            fixed, per_unit = fit_scaling(x, t)
            table.append([label, len(points), fmt_seconds(fixed), fmt_seconds(per_unit)])
        lines += [
            f"### {scaling_title(key)}",
            "",
            tabulate(
                table,
                headers=["path", "sizes", "fixed cost", f"per unit of {unit}"],
                tablefmt="github",
                disable_numparse=True,
            ),
            "",
            f"![median time against size](plots/{scaling_slug(key)}.png)",
            "",
        ]
    if not lines:
        return []
    return [
        "## Scaling",
        "",
        "Median step time against problem size (log-log), and a fit of "
        "`time = fixed cost + per-unit cost × size` (least squares weighted by 1/time). "
        "A negative fixed cost means the fit cannot separate it from the noise.",
        "",
        *lines,
    ]


def scaling_slug(key: tuple[str, str, int]) -> str:
    """File-name stem of the scaling plot of (benchmark, model, threads)."""
    return re.sub(r"[^A-Za-z0-9]+", "_", f"scaling_{key[1]}_{key[2]}t").lower()


def scaling_title(key: tuple[str, str, int]) -> str:
    """Heading of the scaling plot and fit of (benchmark, model, threads)."""
    benchmark, model, threads = key
    return f"{model} ({benchmark}), {threads} thread{'s' if threads != 1 else ''}"
