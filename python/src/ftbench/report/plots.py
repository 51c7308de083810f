"""The report's plots (PNG, matplotlib): per-iteration times and per-phase medians of
each group, and median time against size."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import EngFormatter, MaxNLocator, NullFormatter  # noqa: E402

from ftbench.report.stats import GroupKey, group_title, labels  # noqa: E402
from ftbench.results import HEADLINE_PHASE, Result  # noqa: E402

_AXIS_SECONDS = EngFormatter(unit="s", sep=" ")


def plot_iterations(runs: Sequence[Result], key: GroupKey, path: Path) -> None:
    """The headline phase of every measured iteration of each run of a group."""
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
    counts = {tuple(len(p) for p in r.data.get("process_seconds", [])) for r in runs}
    label = "measured iteration (warm-up excluded"
    if len(counts) == 1 and len(sizes := next(iter(counts))) > 1:
        # Processes pooled one after another: mark where each begins.
        for start in np.cumsum(sizes)[:-1]:
            ax.axvline(start + 0.5, color="grey", lw=0.8, ls=":")
        label += f"; {len(sizes)} processes, split by dotted lines"
    ax.set_xlabel(label + ")")
    ax.set_ylabel(f"{HEADLINE_PHASE} time per iteration")
    ax.set_title(group_title(key), fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    legend_below(ax, len(runs))
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def legend_below(ax: plt.Axes, n: int) -> None:
    """A legend under the axes, two columns when there are more than three entries."""
    ax.legend(
        fontsize=8,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.18),
        ncol=3 if n <= 3 else 2,
        frameon=False,
    )


def plot_phases(runs: Sequence[Result], key: GroupKey, path: Path) -> None:
    """Median time of each phase of each run of a group (log scale)."""
    phases: list[str] = []
    for r in runs:
        phases += [p for p in r.data["phase_order"] if p not in phases]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    width = 0.8 / max(len(runs), 1)
    positions = np.arange(len(phases))
    for k, (r, label) in enumerate(zip(runs, labels(runs), strict=True)):
        medians = [r.statistics(p)["median"] if p in r.data["phases"] else np.nan for p in phases]
        ax.bar(positions + (k - (len(runs) - 1) / 2) * width, medians, width, label=label)
    ax.set_xticks(positions, phases, fontsize=8, rotation=20, ha="right")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(_AXIS_SECONDS)
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylabel("median time (log scale)")
    ax.set_title(group_title(key), fontsize=9)
    ax.grid(True, axis="y", which="both", alpha=0.3)
    legend_below(ax, len(runs))
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def plot_scaling(
    title: str, unit: str, curves: dict[str, list[tuple[float, float]]], path: Path
) -> None:
    """Median time against size (log-log), one curve per path (``stats.scaling_series``)."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for label, points in curves.items():
        ax.loglog([p[0] for p in points], [p[1] for p in points], marker="o", lw=1, label=label)
    ax.yaxis.set_major_formatter(_AXIS_SECONDS)
    ax.set_xlabel(f"problem size: {unit}")
    ax.set_ylabel(f"median {HEADLINE_PHASE} time")
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    legend_below(ax, len(curves))
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
