"""Markdown report and PNG plots from a set of results files.

``write_report`` groups runs that are comparable (same benchmark, model,
sizes, threads and dtype), ranks the coupling paths in each group by the
median of the headline phase (``loop``: one whole coupled step), and writes
``report.md`` with one table per group plus plots of per-iteration times and
per-phase medians.
"""

from __future__ import annotations

import re
import shutil
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import EngFormatter, MaxNLocator, NullFormatter  # noqa: E402
from tabulate import tabulate  # noqa: E402

from ftbench.paired import NO_RATIO, paired_summary  # noqa: E402
from ftbench.profiles import LAYERS, parse_gprof, parse_perf  # noqa: E402
from ftbench.results import (  # noqa: E402
    FORMAT_ORDER,
    HEADLINE_PHASE,
    Result,
    load,
    merge_repeats,
)

_SECONDS = EngFormatter(unit="s", places=3, sep=" ")
_AXIS_SECONDS = EngFormatter(unit="s", sep=" ")

GroupKey = tuple[str, str, str, int, str]
NOISY_CV = 0.10
"""Coefficient of variation (stddev / mean of the loop time) above which a run is flagged noisy."""


def fmt_seconds(value: float) -> str:
    """A duration with an SI prefix, e.g. ``1.234 ms``."""
    return _SECONDS.format_data(value) if np.isfinite(value) else "n/a"


def _slug(key: GroupKey) -> str:
    benchmark, model, sizes, threads, dtype = key
    text = f"{model}_{sizes}_{threads}t_{dtype}"
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()


def _title(key: GroupKey) -> str:
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


def native_reference(run: Result, runs: Sequence[Result]) -> Result | None:
    """The native baseline ``run`` is compared with: the fastest passing native run of
    ``runs`` with the same model format and grad mode (like with like: an
    AOTInductor path against native AOTInductor, inference mode against inference
    mode), or None when there is none."""
    candidates = [
        r
        for r in runs
        if r.passed
        and r.is_native
        and r.model_format == run.model_format
        and r.grad_mode == run.grad_mode
    ]
    return min(candidates, key=lambda r: float(np.median(r.seconds())), default=None)


def summary_rows(runs: Sequence[Result]) -> list[dict[str, object]]:
    """One row per run: model format; median, IQR, min, mean, stddev and coefficient of
    variation of the headline phase; its ratio to the fastest passing run of the group;
    and its ratio to its native baseline (:func:`native_reference`), pass by pass
    (``native``, a :class:`ftbench.paired.RatioSummary`; ``native_ratio`` its median of
    per-pass ratios, NaN when there is no baseline). Failed runs get no ratios and are
    never the reference of one."""
    medians = {id(r): float(np.median(r.seconds())) for r in runs}
    passing = [medians[id(r)] for r in runs if r.passed]
    fastest = min(passing) if passing else float("nan")
    rows = []
    for r, label in zip(runs, labels(runs), strict=True):
        x = r.seconds()
        q1, q3 = np.percentile(x, [25, 75])
        native = paired_summary(r, native_reference(r, runs)) if r.passed else NO_RATIO
        rows.append(
            {
                "path": label,
                "format": r.model_format,
                "model": " + ".join(
                    Path(r.data[k]).name for k in ("model", "model_file") if r.data.get(k)
                ),
                "n": x.size,
                "median": medians[id(r)],
                "iqr": float(q3 - q1),
                "min": float(x.min()),
                "mean": float(x.mean()),
                "stddev": float(x.std(ddof=1)) if x.size > 1 else 0.0,
                "ratio": medians[id(r)] / fastest if r.passed else float("nan"),
                "native_ratio": native.ratio,
                "native": native,
                "cv": float(x.std(ddof=1) / x.mean()) if x.size > 1 else 0.0,
                "passed": r.passed,
                "max_error_ratio": r.data["correctness"]["max_error_ratio"],
                "process_medians": r.data.get("process_medians", [medians[id(r)]]),
            }
        )
    return rows


def _summary_table(rows: Sequence[dict[str, object]]) -> str:
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
            _processes(row["process_medians"]),
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


def _processes(medians: Sequence[float]) -> str:
    """``3: 9.0 µs – 15.2 µs``: how many processes ran, and their lowest and highest medians."""
    if len(medians) == 1:
        return "1"
    return f"{len(medians)}: {fmt_seconds(min(medians))} – {fmt_seconds(max(medians))}"


def _phase_table(runs: Sequence[Result]) -> str:
    phases: list[str] = []
    for r in runs:
        phases += [p for p in r.data["phase_order"] if p not in phases]
    once: list[str] = []
    for r in runs:
        once += [p for p in r.data.get("once", {}) if p not in once]
    table = []
    for phase in phases:
        cells = [
            fmt_seconds(float(np.median(r.seconds(phase)))) if phase in r.data["phases"] else ""
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


def _plot_iterations(runs: Sequence[Result], key: GroupKey, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 4.5))
    low, high = np.inf, 0.0
    for r, label in zip(runs, labels(runs), strict=True):
        x = r.seconds()
        low, high = min(low, float(x.min())), max(high, float(x.max()))
        ax.plot(
            np.arange(1, x.size + 1),
            x,
            marker="." if x.size <= 200 else "",
            lw=1,
            label=label,
        )
    if high > 20 * low:  # several decades: log scale
        ax.set_yscale("log")
        ax.yaxis.set_minor_formatter(NullFormatter())
    else:
        ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(_AXIS_SECONDS)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("measured iteration (warm-up excluded)")
    ax.set_ylabel(f"{HEADLINE_PHASE} time per iteration")
    ax.set_title(_title(key), fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    _legend_below(ax, len(runs))
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def _legend_below(ax: plt.Axes, n: int) -> None:
    """A legend under the axes, two columns when there are more than three entries."""
    ax.legend(
        fontsize=8,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.18),
        ncol=3 if n <= 3 else 2,
        frameon=False,
    )


def _plot_phases(runs: Sequence[Result], key: GroupKey, path: Path) -> None:
    phases: list[str] = []
    for r in runs:
        phases += [p for p in r.data["phase_order"] if p not in phases]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    width = 0.8 / max(len(runs), 1)
    positions = np.arange(len(phases))
    for k, (r, label) in enumerate(zip(runs, labels(runs), strict=True)):
        medians = [
            float(np.median(r.seconds(p))) if p in r.data["phases"] else np.nan for p in phases
        ]
        ax.bar(positions + (k - (len(runs) - 1) / 2) * width, medians, width, label=label)
    ax.set_xticks(positions, phases, fontsize=8, rotation=20, ha="right")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(_AXIS_SECONDS)
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylabel("median time (log scale)")
    ax.set_title(_title(key), fontsize=9)
    ax.grid(True, axis="y", which="both", alpha=0.3)
    _legend_below(ax, len(runs))
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def _environment_section(results: Sequence[Result]) -> list[str]:
    fields = [
        "hostname",
        "cpu_model",
        "logical_cpus",
        "os",
        "cpu_capability",
        "blas",
        "torch_version",
        "fortran_compiler",
        "cxx_compiler",
        "build_type",
        "python_version",
        "numpy_version",
        "git_commit",
    ]
    lines = ["## Environment", ""]
    for field in fields:
        values = sorted(
            {
                str(r.data["environment"].get(field))
                for r in results
                if field in r.data["environment"]
            }
        )
        if values:
            lines.append(f"- {field.replace('_', ' ')}: " + "; ".join(f"`{v}`" for v in values))
    variables = sorted(
        {f"{k}={v}" for r in results for k, v in r.data["environment"].get("variables", {}).items()}
    )
    lines.append(
        "- timing-related environment variables: "
        + (", ".join(f"`{v}`" for v in variables) if variables else "none set")
    )
    times = sorted(r.data["environment"]["utc_time"] for r in results)
    lines.append(f"- runs between {times[0]} and {times[-1]} (UTC)")
    return lines + [""] + _checks_section(results)


def _checks_section(results: Sequence[Result]) -> list[str]:
    """How every iteration was checked: the rule, each benchmark's tolerance and the
    largest error found, and the conditions the cgdrag references were made under."""
    lines = [
        "## Correctness checks",
        "",
        "Every iteration of every run compared its outputs with references, element by "
        "element: |actual − expected| ≤ rtol·|expected| + atol, atol = atol_fraction · "
        "max|expected| per output component (basis: docs/checks.md). "
        "*largest error* is the worst |actual − expected| ÷ (rtol·|expected| + atol) "
        "over all iterations and runs (≤ 1 passes).",
        "",
    ]
    table = []
    for benchmark in sorted({r.data["benchmark"] for r in results}):
        runs = [r for r in results if r.data["benchmark"] == benchmark]
        ratios = [r.data["correctness"]["max_error_ratio"] for r in runs]
        worst = None if None in ratios else max(ratios)
        differences = [r.data["correctness"]["max_abs_error"] for r in runs]
        worst_difference = None if None in differences else max(differences)
        first = runs[0].data["correctness"]
        table.append(
            [
                benchmark,
                f"{first['rtol']:.3g}",
                f"{first['atol_fraction']:.3g}",
                "inf/NaN" if worst is None else f"{worst:.2g}",
                "inf/NaN" if worst_difference is None else f"{worst_difference:.2g}",
                f"{sum(r.passed for r in runs)} of {len(runs)}",
            ]
        )
    lines.append(
        tabulate(
            table,
            headers=[
                "benchmark",
                "rtol",
                "atol_fraction",
                "largest error",
                "largest absolute difference",
                "configurations passed",
            ],
            tablefmt="github",
            disable_numparse=True,
        )
    )
    conditions = sorted(
        {
            ", ".join(f"{k} {v}" for k, v in r.data["correctness"]["reference_conditions"].items())
            for r in results
            if "reference_conditions" in r.data["correctness"]
        }
    )
    if conditions:
        lines += ["", "cgdrag references made with: " + "; ".join(f"`{c}`" for c in conditions)]
    return lines + [""]


FIXED_COST_MODEL, FIXED_COST_SIZE = "large_stride_vectorized", "N=4"
"""The group whose medians are each path's fixed cost per call (2 x a 4 x 4 array)."""


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


def _one_off_table(runs: Sequence[Result]) -> str:
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


def _resolution_lines(rows: dict[GroupKey, list[dict[str, object]]]) -> list[str]:
    """What the paired ratios could resolve: the median half-width of the × native
    intervals of the rows (:func:`summary_rows` of each group) that are not their own
    baseline."""
    summaries = [
        row["native"]
        for group_rows in rows.values()
        for row in group_rows
        if row["passed"] and row["native"].passes > 1 and row["native"].high > row["native"].low
    ]
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


def _selftest_lines(selftest: Path) -> list[str]:
    """The verdicts of the last ``ftbench selftest`` kept beside the report, if any."""
    if not selftest.is_file():
        return []
    verdicts = [line for line in selftest.read_text().splitlines() if line.startswith("- **")]
    return [
        "**Self-test** (`ftbench selftest`, a separate run on this machine: injected costs of "
        "2, 5 and 10 % of a step, and an A/A comparison; "
        "[selftest/selftest.md](selftest/selftest.md)):",
        "",
        *verdicts,
        "",
    ]


def _fixed_cost_section(rows: dict[GroupKey, list[dict[str, object]]]) -> list[str]:
    """The fixed-cost section, from the :func:`summary_rows` of each group."""
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


def _scaling_section(results: Sequence[Result], plot_dir: Path) -> list[str]:
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
        series[key][label].append((size[1], float(np.median(r.seconds()))))
    lines: list[str] = []
    for key in sorted(series):
        curves = {k: sorted(v) for k, v in series[key].items() if len({x for x, _ in v}) >= 3}
        if not curves:
            continue
        benchmark, model, threads = key
        slug = re.sub(r"[^A-Za-z0-9]+", "_", f"scaling_{model}_{threads}t").lower()
        fig, ax = plt.subplots(figsize=(8, 4.5))
        table = []
        for label, points in sorted(curves.items()):
            x = np.array([p[0] for p in points])
            t = np.array([p[1] for p in points])
            ax.loglog(x, t, marker="o", lw=1, label=label)
            fixed, per_unit = fit_scaling(x, t)
            table.append([label, len(points), fmt_seconds(fixed), fmt_seconds(per_unit)])
        ax.yaxis.set_major_formatter(_AXIS_SECONDS)
        ax.set_xlabel(f"problem size: {units[key]}")
        ax.set_ylabel(f"median {HEADLINE_PHASE} time")
        ax.set_title(
            f"{model} ({benchmark}), {threads} thread{'s' if threads != 1 else ''}", fontsize=9
        )
        ax.grid(True, which="both", alpha=0.3)
        _legend_below(ax, len(curves))
        fig.savefig(plot_dir / f"{slug}.png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        lines += [
            f"### {model} ({benchmark}), {threads} thread{'s' if threads != 1 else ''}",
            "",
            tabulate(
                table,
                headers=["path", "sizes", "fixed cost", f"per unit of {units[key]}"],
                tablefmt="github",
                disable_numparse=True,
            ),
            "",
            f"![median time against size](plots/{slug}.png)",
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


def _step_share(result: Result, directory: Path) -> str:
    """Share of the profiled run's wall time spent in its timed steps."""
    try:
        run_seconds = float((directory / "run_seconds.txt").read_text())
    except (OSError, ValueError):
        return "n/a"
    loop = result.data["phases"][HEADLINE_PHASE]
    steps = sum(loop["seconds"]) + sum(loop["warmup_seconds"])
    return f"{100 * steps / run_seconds:.0f} %" if run_seconds > 0 else "n/a"


def _profiles_section(profiles_dir: Path | None, plot_dir: Path) -> list[str]:
    """'Where the time goes' from results/profiles/<name>/ (scripts/profile.sh)."""
    if profiles_dir is None or not profiles_dir.is_dir():
        return []
    profiles = [
        d
        for d in sorted(profiles_dir.iterdir())
        if (d / "result.json").exists() and (d / "gprof.txt").exists()
    ]
    if not profiles:
        return []
    layer_rows, details = [], []
    for directory in profiles:
        result = load(directory / "result.json")
        executable = Path(result.data["command_line"].split()[0]).name
        gprof = parse_gprof((directory / "gprof.txt").read_text(), str(directory / "gprof.txt"))
        title = (
            f"{directory.name}: {result.model_name}, {result.path_label}, "
            f"{result.data['threads']} thread(s)"
        )
        perf = None
        if (directory / "perf.txt").exists():
            perf = parse_perf(
                (directory / "perf.txt").read_text(), executable, str(directory / "perf.txt")
            )
            layer_rows.append(
                [
                    directory.name,
                    result.model_name,
                    result.path_label,
                    _step_share(result, directory),
                ]
                + [f"{perf.by_layer[layer]:.1f} %" for layer in LAYERS]
            )
        top = [
            [
                f"{row.percent:.1f} %",
                f"{row.self_seconds:.2f}",
                row.calls or "",
                f"`{row.readable}`",
            ]
            for row in gprof.flat[:8]
        ]
        details += [
            f"### {title}",
            "",
            f"gprof (samples in the executable only: {gprof.total_seconds:.2f} s):",
            "",
            tabulate(
                top,
                headers=["self %", "self s", "calls", "function"],
                tablefmt="github",
                disable_numparse=True,
            ),
            "",
        ]
        if perf is not None:
            symbols = sorted(perf.by_symbol.items(), key=lambda kv: -kv[1])[:8]
            details += [
                "perf (every shared object), top symbols:",
                "",
                tabulate(
                    [[f"{pct:.1f} %", f"`{name[:90]}`"] for name, pct in symbols],
                    headers=["samples", "symbol"],
                    tablefmt="github",
                    disable_numparse=True,
                ),
                "",
            ]
        if (directory / "callgraph.png").exists():
            image = f"profile_{directory.name}_callgraph.png"
            shutil.copy(directory / "callgraph.png", plot_dir / image)
            details += [f"![gprof call graph of {directory.name}](plots/{image})", ""]
    lines = [
        "## Where the time goes",
        "",
        "Profiles from `scripts/profile.sh` (a Profile build: RelWithDebInfo + `-pg`). gprof "
        "samples only code inside the executable (the Fortran and the statically linked shims), "
        "so time in libtorch or libpython is invisible to it; `perf record -e cpu-clock` sees "
        "every shared object. Share of perf samples by layer (see `ftbench.profiles.layer_of`); "
        "the samples cover the whole run, of which the timed steps (warm-up included) took the "
        "share in *steps / run*: the rest is start-up (loading the model, starting Python and "
        "importing torch), reading inputs and the checks.",
        "",
    ]
    if layer_rows:
        lines += [
            tabulate(
                layer_rows,
                headers=["profile", "model", "path", "steps / run", *LAYERS],
                tablefmt="github",
                disable_numparse=True,
            ),
            "",
        ]
    else:
        lines += ["(no perf profiles: perf was missing or not permitted)", ""]
    return lines + details


def write_report(
    results: Sequence[Result], out_dir: Path, profiles_dir: Path | None = None
) -> Path:
    """Write ``report.md`` and ``plots/*.png`` under ``out_dir``; return the report's path.

    Sections: the fixed cost per call of each path (when the 4 x 4 large-stride
    runs are present); scaling plots and fits (when a path ran at three sizes or
    more); then every group of comparable runs with a summary table (coupling
    path, median, IQR, min, mean ± stddev of the ``loop`` phase, ratios to the
    fastest passing run and, pass by pass with an interval, to the native
    baseline of the same format and grad mode, coefficient of variation, check
    verdict), a per-phase median table and two plots; and the environment; and,
    when ``profiles_dir`` holds profiles (scripts/profile.sh), where the time
    goes. The run's resolution (the width of its × native intervals) opens the
    report, with the verdicts of ``out_dir/selftest/selftest.md`` when ``ftbench
    selftest`` left one there. Runs whose correctness check failed are listed but
    excluded from the ratios. Plots left from an earlier report in
    ``out_dir/plots`` are removed.
    """
    processes = len(results)
    results = merge_repeats(results)
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_dir = out_dir / "plots"
    plot_dir.mkdir(exist_ok=True)
    for stale in plot_dir.glob("*.png"):
        stale.unlink()
    groups = group(results)
    rows = {key: summary_rows(runs) for key, runs in groups.items()}  # bootstraps: once
    warmups = sorted({r.data["warmup"] for r in results})
    noisy = [row for group_rows in rows.values() for row in group_rows if row["cv"] > NOISY_CV]
    lines = [
        "# fortran-torch-bench report",
        "",
        f"{len(results)} configurations ({processes} runs) in {len(groups)} group(s) of comparable "
        "configurations. Times are wall-clock "
        f"seconds per iteration; `{HEADLINE_PHASE}` is one whole coupled step (see each "
        "driver's phases in docs/benchmarks.md). Statistics exclude the first "
        f"{' or '.join(map(str, warmups))} warm-up iteration(s) of each run; IQR is the 75th minus "
        "the 25th percentile; × fastest is the median divided by the fastest passing median of the "
        "same table; × native compares with the native baseline of the same model format and "
        "grad mode (`native-*`: the same model called from C++ or Python without Fortran; the "
        "fastest such run of the table) pass by pass: in each pass of the suite the two ran "
        "back to back, the ratio of their medians is taken, and the cell gives the median of "
        "those per-pass ratios and its bootstrap 95 % interval over the passes, **in bold where "
        "the interval excludes 1** (a difference the run resolved; see `ftbench.paired`); "
        "CV is stddev / mean. Rows are grouped by model format: eager "
        "(built in Python), TorchScript, AOTInductor (`.pt2`), torch.compile; each table is "
        "followed by what each format cost once (export and compile, load, first call) and "
        "after how many steps it pays that back against TorchScript. A "
        "configuration run in several processes (`ftbench suite --repeat`) is one row: its "
        "samples pooled, and the lowest and highest of its processes' medians shown, because on "
        "a shared machine two processes of the same program can differ more than two paths do. "
        "Every iteration's output was checked against a reference.",
        "",
    ]
    lines += _resolution_lines(rows)
    lines += _selftest_lines(out_dir / "selftest" / "selftest.md")
    if noisy:
        lines += [
            f"> ⚠ **Noisy machine**: {len(noisy)} of {len(results)} configurations have a "
            "coefficient of "
            f"variation above {100 * NOISY_CV:.0f} % (marked ⚠). Compare medians, not means, and "
            "treat differences smaller than the IQR as noise.",
            "",
        ]
    lines += _fixed_cost_section(rows)
    lines += _scaling_section(results, plot_dir)
    for key, runs in groups.items():
        slug = _slug(key)
        _plot_iterations(runs, key, plot_dir / f"{slug}_iterations.png")
        _plot_phases(runs, key, plot_dir / f"{slug}_phases.png")
        lines += [
            f"## {_title(key)}",
            "",
            _summary_table(rows[key]),
            "",
            _phase_table(runs),
            "",
            "One-off costs by model format (median over processes; see `one_off_rows`):",
            "",
            _one_off_table(runs),
            "",
            f"![{HEADLINE_PHASE} time per iteration](plots/{slug}_iterations.png)",
            f"![median time per phase](plots/{slug}_phases.png)",
            "",
        ]
    lines += _profiles_section(profiles_dir, plot_dir)
    lines += _environment_section(results)
    report = out_dir / "report.md"
    report.write_text("\n".join(lines))
    return report
