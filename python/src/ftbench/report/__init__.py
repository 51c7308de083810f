"""Markdown report and PNG plots from a set of results files.

``write_report`` groups runs that are comparable (same benchmark, model,
sizes, threads and dtype), ranks the coupling paths in each group by the
median of the headline phase (``loop``: one whole coupled step), and writes
``report.md`` with one table per group plus plots of per-iteration times and
per-phase medians. Each concern has its module: ``stats`` (what is computed),
``markdown`` (tables and text), ``plots`` (PNG), ``environment`` (machine, run
conditions, checks) and ``profiling`` (where the time goes).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ftbench.report.environment import environment_section
from ftbench.report.markdown import (
    fixed_cost_section,
    fmt_seconds,
    one_off_table,
    phase_table,
    resolution_lines,
    scaling_section,
    scaling_slug,
    scaling_title,
    selftest_lines,
    summary_table,
)
from ftbench.report.mpi import is_mpi, mpi_section
from ftbench.report.plots import plot_iterations, plot_phases, plot_scaling
from ftbench.report.profiling import profiles_section
from ftbench.report.stats import (
    NOISY_CV,
    fit_scaling,
    group,
    group_slug,
    group_title,
    native_reference,
    one_off_rows,
    scaling_series,
    summary_rows,
)
from ftbench.results import HEADLINE_PHASE, Result, merge_repeats

__all__ = [
    "fit_scaling",
    "fmt_seconds",
    "group",
    "native_reference",
    "one_off_rows",
    "summary_rows",
    "write_report",
]


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
    excluded from the ratios. Results of MPI drivers (``ftbench suite --mpi``) get
    their own section (:func:`ftbench.report.mpi.mpi_section`) instead of groups; a
    report without them links to ``out_dir/mpi/report.md`` when that exists. Plots
    left from an earlier report in ``out_dir/plots`` are removed.
    """
    raw = [r for r in results if not is_mpi(r)]
    mpi = [r for r in results if is_mpi(r)]
    processes = len(raw)
    results = merge_repeats(raw)
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_dir = out_dir / "plots"
    plot_dir.mkdir(exist_ok=True)
    for stale in plot_dir.glob("*.png"):
        stale.unlink()
    if mpi and not raw:  # an MPI suite's archive: its section alone
        lines = [
            "# fortran-torch-bench report: many MPI ranks",
            "",
            f"{len(mpi)} runs of the MPI drivers. Times are wall-clock seconds; statistics "
            f"exclude the first {' or '.join(sorted({str(r.data['warmup']) for r in mpi}))} "
            "warm-up step(s) of each run; every step of every rank was checked against the "
            "references.",
            "",
            *mpi_section(mpi, plot_dir),
            *environment_section(mpi),
        ]
        report = out_dir / "report.md"
        report.write_text("\n".join(lines))
        return report
    groups = group(results)
    rows = {key: summary_rows(runs) for key, runs in groups.items()}  # intervals: once
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
        "grad mode (`native-*`: the same model called from C++ or Python without Fortran), "
        "from C++ for the direct path and from Python for the embedded and f2py paths where the "
        "table has one (else the fastest such run), pass by pass: in each pass of the suite the "
        "two ran back to back, the ratio of their medians is taken, and the cell gives the "
        "geometric mean of those per-pass ratios and its 95 % interval (Student's t over the "
        "passes, on the logarithms), **in bold where "
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
    lines += resolution_lines(rows)
    lines += selftest_lines(out_dir / "selftest" / "selftest.md")
    if not mpi and (out_dir / "mpi" / "report.md").exists():
        lines += [
            "Many MPI ranks (strong and weak scaling, start-up per rank, oversubscription): "
            "[mpi/report.md](mpi/report.md).",
            "",
        ]
    lines += mpi_section(mpi, plot_dir)
    if noisy:
        lines += [
            f"> ⚠ **Noisy machine**: {len(noisy)} of {len(results)} configurations have a "
            "coefficient of "
            f"variation above {100 * NOISY_CV:.0f} % (marked ⚠). Compare medians, not means, and "
            "treat differences smaller than the IQR as noise.",
            "",
        ]
    lines += fixed_cost_section(rows, groups)
    series = scaling_series(results)
    for key, (unit, curves) in series.items():
        plot_scaling(scaling_title(key), unit, curves, plot_dir / f"{scaling_slug(key)}.png")
    lines += scaling_section(series)
    for key, runs in groups.items():
        slug = group_slug(key)
        plot_iterations(runs, key, plot_dir / f"{slug}_iterations.png")
        plot_phases(runs, key, plot_dir / f"{slug}_phases.png")
        lines += [
            f"## {group_title(key)}",
            "",
            summary_table(rows[key]),
            "",
            phase_table(runs),
            "",
            "One-off costs by model format (median over processes; see `one_off_rows`):",
            "",
            one_off_table(runs),
            "",
            f"![{HEADLINE_PHASE} time per iteration](plots/{slug}_iterations.png)",
            f"![median time per phase](plots/{slug}_phases.png)",
            "",
        ]
    lines += profiles_section(profiles_dir, plot_dir)
    lines += environment_section(raw + mpi)
    report = out_dir / "report.md"
    report.write_text("\n".join(lines))
    return report
