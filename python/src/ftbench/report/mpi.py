"""The report's section on MPI runs (``ftbench suite --mpi N``, :func:`ftbench.suite.mpi_suite`).

An MPI result's ``loop`` samples are, step by step, the slowest rank's step (the
drivers' bench_mpi_teams), so a speed-up here is what a coupled model whose ranks
meet every step would see. Ratios are paired pass by pass (:mod:`ftbench.paired`):
speed-up = step time on 1 rank ÷ step time on R ranks, each pass's two runs back to
back; efficiency = speed-up ÷ R (strong scaling) or the speed-up itself (weak
scaling, where the work grows with R).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import EngFormatter, MaxNLocator  # noqa: E402

from ftbench.paired import RatioSummary, paired_summary  # noqa: E402
from ftbench.results import HEADLINE_PHASE, Result, merge_repeats  # noqa: E402

STARTUP_PARTS = ("interpreter start", "imports", "model load")
"""Once-only phases that make up a rank's start-up (the embedded path has all three)."""
READY = "start-up to first step"
"""Once-only phase from MPI_Init to the first step, on each rank."""


def is_mpi(result: Result) -> bool:
    """True for the results of an MPI driver (they carry ``mpi``)."""
    return "mpi" in result.data


@dataclass(frozen=True)
class MpiRun:
    """One configuration of the MPI suite, its processes merged.

    Attributes:
        result: the merged result (:func:`ftbench.results.merge_repeats`).
        path: ``direct`` or ``embedded-python``.
        ranks, threads, columns: ranks, intra-op threads per rank, grid columns in all.
        bound: each rank bound to its own core (``--bind-to core``).
        oversubscribed: ranks × threads exceeded the cores of a node.
    """

    result: Result
    path: str
    ranks: int
    threads: int
    columns: int
    bound: bool
    oversubscribed: bool

    @property
    def label(self) -> str:
        """``2 × 1, bound`` style: ranks × threads per rank, and placement."""
        placement = "bound" if self.bound else "unbound"
        if self.oversubscribed:
            placement += ", oversubscribed"
        return f"{self.ranks} × {self.threads}, {placement}"

    @property
    def median(self) -> float:
        """Median step time (the slowest rank's, per step), s."""
        return float(self.result.statistics()["median"])

    def once(self, name: str) -> float:
        """Median over processes of the slowest rank's once-only phase ``name``, s (NaN if
        the path has no such phase)."""
        return float(self.result.data.get("once", {}).get(name, float("nan")))


def mpi_runs(results: Sequence[Result]) -> list[MpiRun]:
    """The MPI results, the processes of each configuration (same file name but the
    ``_r<k>`` pass suffix) merged, in path, columns, ranks, threads order."""
    by_name: dict[str, list[Result]] = defaultdict(list)
    for result in results:
        if is_mpi(result):
            by_name[re.sub(r"_r\d+$", "", result.path.stem)].append(result)
    runs = []
    for processes in by_name.values():
        merged = merge_repeats(processes)[0]
        mpi = merged.data["mpi"]
        runs.append(
            MpiRun(
                merged,
                str(merged.data["coupling_path"]),
                int(mpi["ranks"]),
                int(merged.data["threads"]),
                int(merged.data["sizes"]["columns"]),
                "--bind-to core" in str(mpi.get("launcher", "")),
                bool(mpi["oversubscribed"]),
            )
        )
    return sorted(runs, key=lambda r: (r.path, r.columns, r.ranks, r.threads, not r.bound))


def _find(
    runs: Sequence[MpiRun], path: str, ranks: int, threads: int, columns: int
) -> MpiRun | None:
    """The run of that configuration, the bound one first."""
    for run in sorted(runs, key=lambda r: not r.bound):
        if (run.path, run.ranks, run.threads, run.columns) == (path, ranks, threads, columns):
            return run
    return None


@dataclass(frozen=True)
class ScalingPoint:
    """One rank count of a scaling series: speed-up (1-rank step ÷ this step, paired per
    pass) and efficiency."""

    ranks: int
    speedup: RatioSummary
    efficiency: float


def scaling(runs: Sequence[MpiRun], path: str, weak: bool) -> list[ScalingPoint]:
    """Strong scaling (the whole grid on every rank count; efficiency = speed-up ÷ ranks)
    or weak scaling (the 1-rank run's columns per rank; efficiency = speed-up) of
    ``path``, 1 thread per rank; empty without the runs."""
    single = [r for r in runs if r.path == path and r.ranks == 1 and r.threads == 1]
    if not single:
        return []
    columns = min(r.columns for r in single) if weak else max(r.columns for r in single)
    if weak and columns == max(r.columns for r in single):
        return []  # no weak-scaling runs: only the whole grid ran on one rank
    base = _find(runs, path, 1, 1, columns)
    points = []
    for ranks in sorted({r.ranks for r in runs if r.path == path}):
        run = _find(runs, path, ranks, 1, columns * ranks if weak else columns)
        if run is None or base is None:
            continue
        speedup = paired_summary(base.result, run.result)
        points.append(ScalingPoint(ranks, speedup, speedup.ratio / (1 if weak else ranks)))
    return points


def _seconds(value: float) -> str:
    if not np.isfinite(value):
        return "–"
    return f"{value * 1e3:.1f} ms" if value < 1 else f"{value:.2f} s"


def mpi_section(results: Sequence[Result], plot_dir: Path) -> list[str]:
    """Markdown lines of the MPI section (nothing without MPI results) and its plots
    ``mpi_scaling.png`` and ``mpi_startup.png`` in ``plot_dir``."""
    runs = mpi_runs(results)
    if not runs:
        return []
    paths = sorted({r.path for r in runs})
    max_ranks = max(r.ranks for r in runs)
    lines = [
        "## Many ranks (MPI): WaveNet-2 on the T42 grid split in latitude bands",
        "",
        "Each rank computes, checks and times its own band of latitude rows (uneven splits "
        "give the first ranks one row more); every step starts with a barrier, and the step "
        f"time of a run is, step by step, its **slowest rank's** `{HEADLINE_PHASE}` "
        "(medians below pool the processes of a configuration). Speed-up = step time "
        "on 1 rank ÷ step time on R ranks, paired pass by pass (95 % interval; **bold**: "
        "the interval excludes 1); strong scaling keeps the whole grid (8192 columns), "
        "weak scaling the 1-rank run's columns per rank. Imbalance = the slowest rank's "
        "median step ÷ the mean of the ranks' medians. Start-up is measured on each rank "
        "from `MPI_Init` and shown for the slowest rank (docs/mpi.md).",
        "",
        "| path | ranks × threads | columns (per rank) | step (median) | imbalance | "
        "start-up to first step | check |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        per_rank = "/".join(str(c) for c in run.result.data["mpi"]["columns_per_rank"])
        imbalance = run.result.data["mpi"]["phases"][HEADLINE_PHASE]["imbalance"]
        lines.append(
            f"| {run.path} | {run.label} | {run.columns} ({per_rank}) | {_seconds(run.median)} | "
            f"{imbalance:.3f} | {_seconds(run.once(READY))} | "
            f"{'passed' if run.result.passed else '**FAILED**'} |"
        )
    lines += ["", "Scaling (1 thread per rank, each rank bound to a core):", ""]
    lines += ["| path | scaling | ranks | speed-up | efficiency |", "|---|---|---|---|---|"]
    series: dict[str, list[ScalingPoint]] = {}
    for path in paths:
        for weak in (False, True):
            points = scaling(runs, path, weak)
            kind = "weak" if weak else "strong"
            if points:
                series[f"{path}, {kind}"] = points
            for point in points[1:]:  # 1 rank: 1 by definition
                lines.append(
                    f"| {path} | {kind} | {point.ranks} | {point.speedup.text()} | "
                    f"{point.efficiency:.2f} |"
                )
    lines += ["", *_placement_lines(runs, paths, max_ranks), ""]
    lines += _startup_table(runs)
    _plot_scaling(series, plot_dir / "mpi_scaling.png")
    _plot_startup(runs, plot_dir / "mpi_startup.png")
    lines += [
        "",
        "![speed-up and efficiency against ranks](plots/mpi_scaling.png)",
        "![start-up per rank against ranks](plots/mpi_startup.png)",
        "",
    ]
    return lines


def _placement_lines(runs: Sequence[MpiRun], paths: Sequence[str], max_ranks: int) -> list[str]:
    """Ranks against threads, and what oversubscription cost, on the whole grid."""
    lines = [
        f"Placement on the whole grid ({max_ranks} ranks; ratio of step times, paired per "
        "pass; above 1: the first is slower):",
        "",
        "| path | compared | step time ratio |",
        "|---|---|---|",
    ]
    for path in paths:
        ranks_1t = _find(runs, path, max_ranks, 1, 8192)
        one_rank = _find(runs, path, 1, max_ranks, 8192)
        crowded = [r for r in runs if r.path == path and r.ranks == max_ranks and r.oversubscribed]
        if ranks_1t is not None and one_rank is not None and max_ranks > 1:
            ratio = paired_summary(ranks_1t.result, one_rank.result)
            lines.append(f"| {path} | {ranks_1t.label} ÷ {one_rank.label} | {ratio.text()} |")
        if ranks_1t is not None and crowded:
            ratio = paired_summary(crowded[0].result, ranks_1t.result)
            lines.append(
                f"| {path} | {crowded[0].label} ÷ {ranks_1t.label} (cost of oversubscription) | "
                f"{ratio.text()} |"
            )
    return lines if len(lines) > 4 else []


def _startup_table(runs: Sequence[MpiRun]) -> list[str]:
    """Start-up parts of the slowest rank, 1 thread per rank, bound, whole grid."""
    lines = [
        "Start-up of the slowest rank (whole grid, 1 thread per rank; medians over processes):",
        "",
        "| path | ranks | interpreter start | imports | model load | start-up to first step |",
        "|---|---|---|---|---|---|",
    ]
    for run in _startup_runs(runs):
        parts = " | ".join(_seconds(run.once(name)) for name in (*STARTUP_PARTS, READY))
        lines.append(f"| {run.path} | {run.ranks} | {parts} |")
    return lines


def _startup_runs(runs: Sequence[MpiRun]) -> list[MpiRun]:
    return [r for r in runs if r.threads == 1 and r.columns == 8192 and not r.oversubscribed]


def _plot_scaling(series: dict[str, list[ScalingPoint]], path: Path) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    top = 1
    for label, points in series.items():
        ranks = [p.ranks for p in points]
        top = max(top, *ranks)
        if label.endswith("strong"):
            speedup = np.array([p.speedup.ratio for p in points])
            errors = np.array(
                [
                    [p.speedup.ratio - p.speedup.low for p in points],
                    [p.speedup.high - p.speedup.ratio for p in points],
                ]
            )
            left.errorbar(ranks, speedup, yerr=errors, marker="o", capsize=3, label=label)
        right.plot(ranks, [p.efficiency for p in points], marker="o", label=label)
    left.plot([1, top], [1, top], color="grey", ls="--", lw=1, label="ideal")
    left.set_xlabel("ranks")
    left.set_ylabel("speed-up (1 rank ÷ R ranks)")
    left.set_title("strong scaling, whole grid, 1 thread per rank", fontsize=9)
    right.axhline(1, color="grey", ls="--", lw=1)
    right.set_xlabel("ranks")
    right.set_ylabel("efficiency")
    right.set_ylim(0, 1.2)
    right.set_title("efficiency: strong (speed-up ÷ R) and weak", fontsize=9)
    for ax in (left, right):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def _plot_startup(runs: Sequence[MpiRun], path: Path) -> None:
    chosen = _startup_runs(runs)
    fig, ax = plt.subplots(figsize=(8, 4))
    labels = [f"{r.path}\n{r.ranks} rank{'s' if r.ranks > 1 else ''}" for r in chosen]
    bottom = np.zeros(len(chosen))
    for name in STARTUP_PARTS:
        values = np.nan_to_num([r.once(name) for r in chosen])
        ax.bar(labels, values, bottom=bottom, label=name)
        bottom += values
    rest = np.maximum(np.nan_to_num([r.once(READY) for r in chosen]) - bottom, 0)
    ax.bar(labels, rest, bottom=bottom, label="rest (reading inputs, set-up)", color="lightgrey")
    ax.yaxis.set_major_formatter(EngFormatter(unit="s", sep=" "))
    ax.set_ylabel("slowest rank, from MPI_Init")
    ax.set_title("start-up to the first step against ranks", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(True, axis="y", alpha=0.3)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
