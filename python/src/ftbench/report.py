"""Markdown report and PNG plots from a set of results files.

``write_report`` groups runs that are comparable (same benchmark, model,
sizes, threads and dtype), ranks the coupling paths in each group by the
median of the headline phase (``loop``: one whole coupled step), and writes
``report.md`` with one table per group plus plots of per-iteration times and
per-phase medians.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import EngFormatter, MaxNLocator, NullFormatter  # noqa: E402
from tabulate import tabulate  # noqa: E402

from ftbench.results import HEADLINE_PHASE, Result  # noqa: E402

_SECONDS = EngFormatter(unit="s", places=3, sep=" ")
_AXIS_SECONDS = EngFormatter(unit="s", sep=" ")

GroupKey = tuple[str, str, str, int, str]


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
    return {key: sorted(groups[key], key=lambda r: r.path_label) for key in sorted(groups)}


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


def summary_rows(runs: Sequence[Result]) -> list[dict[str, object]]:
    """One row per run: median, IQR, min, mean, stddev of the headline phase and
    the ratio to the fastest passing run of the group (failed runs get none)."""
    medians = {id(r): float(np.median(r.seconds())) for r in runs}
    passing = [medians[id(r)] for r in runs if r.passed]
    fastest = min(passing) if passing else float("nan")
    rows = []
    for r, label in zip(runs, labels(runs), strict=True):
        x = r.seconds()
        q1, q3 = np.percentile(x, [25, 75])
        rows.append(
            {
                "path": label,
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
                "passed": r.passed,
                "max_error": r.data["correctness"]["max_relative_error"],
            }
        )
    return rows


def _summary_table(runs: Sequence[Result]) -> str:
    table = [
        [
            row["path"],
            f"`{row['model']}`",
            row["n"],
            fmt_seconds(row["median"]),
            fmt_seconds(row["iqr"]),
            fmt_seconds(row["min"]),
            f"{fmt_seconds(row['mean'])} ± {fmt_seconds(row['stddev'])}",
            f"{row['ratio']:.2f}" if row["passed"] else "excluded",
            "passed" if row["passed"] else "**FAILED**",
        ]
        for row in summary_rows(runs)
    ]
    headers = [
        "coupling path",
        "model",
        "n",
        "median",
        "IQR",
        "min",
        "mean ± stddev",
        "× fastest",
        "check",
    ]
    return tabulate(table, headers=headers, tablefmt="github", disable_numparse=True)


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
    return lines + [""]


def write_report(results: Sequence[Result], out_dir: Path) -> Path:
    """Write ``report.md`` and ``plots/*.png`` under ``out_dir``; return the report's path.

    Every group of comparable runs gets a summary table (coupling path, median,
    IQR, min, mean ± stddev of the ``loop`` phase, ratio to the fastest passing
    run, check verdict), a per-phase median table and two plots. Runs whose
    correctness check failed are listed but excluded from the ratios.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_dir = out_dir / "plots"
    plot_dir.mkdir(exist_ok=True)
    groups = group(results)
    warmups = sorted({r.data["warmup"] for r in results})
    lines = [
        "# fortran-torch-bench report",
        "",
        f"{len(results)} runs in {len(groups)} group(s) of comparable runs. Times are wall-clock "
        f"seconds per iteration; `{HEADLINE_PHASE}` is one whole coupled step (see each "
        "driver's phases in docs/benchmarks.md). Statistics exclude the first "
        f"{' or '.join(map(str, warmups))} warm-up iteration(s) of each run; IQR is the 75th minus "
        "the 25th percentile; × fastest is the median divided by the fastest passing median of the "
        "same table. Every iteration's output was checked against a reference.",
        "",
    ]
    for key, runs in groups.items():
        slug = _slug(key)
        _plot_iterations(runs, key, plot_dir / f"{slug}_iterations.png")
        _plot_phases(runs, key, plot_dir / f"{slug}_phases.png")
        lines += [
            f"## {_title(key)}",
            "",
            _summary_table(runs),
            "",
            _phase_table(runs),
            "",
            f"![{HEADLINE_PHASE} time per iteration](plots/{slug}_iterations.png)",
            f"![median time per phase](plots/{slug}_phases.png)",
            "",
        ]
    lines += _environment_section(results)
    report = out_dir / "report.md"
    report.write_text("\n".join(lines))
    return report
