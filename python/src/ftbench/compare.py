"""Comparing two sets of results: did a change make things faster or slower?

For every run present in both sets (same benchmark, model, sizes, threads,
dtype, coupling path and model file; repeats in several processes pooled),
the ratio of medians B / A of the headline phase, with a 95 % bootstrap confidence interval
(``scipy.stats.bootstrap``, percentile method, both sides resampled
independently, fixed seed). When both sides ran in several processes
(``ftbench suite --repeat``), whole processes are resampled (a cluster
bootstrap), so the interval covers the variation between processes, which on
a shared machine exceeds the variation within one; with a single process per
side only the samples are resampled and the interval covers sample noise only
(the row says so). A row whose whole interval lies above ``1 + threshold`` is a
regression; wholly below ``1 - threshold``, an improvement; anything else is
within noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats
from tabulate import tabulate

from ftbench.report import fmt_seconds
from ftbench.results import Result, merge_repeats

RESAMPLES = 2000
SEED = 20261122
VERDICT_CELLS = {"regression": "**regression**", "improvement": "improvement", "same": ""}
"""How each verdict reads in the table."""


@dataclass(frozen=True)
class Comparison:
    """One run in both sets.

    Attributes:
        key: what identifies the run (benchmark, model, sizes, threads, dtype, path, file).
        median_a, median_b: medians of the headline phase, seconds.
        ratio: median_b / median_a.
        low, high: the 95 % confidence interval of the ratio.
        verdict: ``regression``, ``improvement`` or ``same``.
        resampled: ``processes`` (cluster bootstrap) or ``samples``.
    """

    key: tuple[str, ...]
    median_a: float
    median_b: float
    ratio: float
    low: float
    high: float
    verdict: str
    resampled: str = "samples"


def _key(result: Result) -> tuple[str, ...]:
    benchmark, model, sizes, threads, dtype = result.group_key
    file = Path(result.data.get("model_file") or result.data["model"]).name
    return (benchmark, model, sizes, f"{threads} thread(s)", dtype, result.path_label, file)


def ratio_interval(a: np.ndarray, b: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Bootstrap confidence interval of median(b) / median(a)."""
    if a.size < 2 or b.size < 2:
        ratio = float(np.median(b) / np.median(a))
        return ratio, ratio
    result = stats.bootstrap(
        (a, b),
        lambda x, y, axis: np.median(y, axis=axis) / np.median(x, axis=axis),
        vectorized=True,
        paired=False,
        confidence_level=confidence,
        n_resamples=RESAMPLES,
        method="percentile",
        rng=np.random.default_rng(SEED),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def process_ratio_interval(
    a: Sequence[np.ndarray], b: Sequence[np.ndarray], confidence: float = 0.95
) -> tuple[float, float]:
    """Cluster-bootstrap interval of median(pooled b) / median(pooled a), resampling
    whole processes (each a sample array) on each side."""

    def ratio(ia: np.ndarray, ib: np.ndarray) -> float:
        pooled_a = np.concatenate([a[int(i)] for i in ia])
        pooled_b = np.concatenate([b[int(i)] for i in ib])
        return float(np.median(pooled_b) / np.median(pooled_a))

    result = stats.bootstrap(
        (np.arange(len(a)), np.arange(len(b))),  # process indices
        ratio,
        vectorized=False,
        paired=False,
        confidence_level=confidence,
        n_resamples=RESAMPLES,
        method="percentile",
        rng=np.random.default_rng(SEED),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def compare(a: Sequence[Result], b: Sequence[Result], threshold: float = 0.05) -> list[Comparison]:
    """Compare every run found in both sets (passing runs only), in key order."""
    runs_a = {_key(r): r for r in merge_repeats(a) if r.passed}
    runs_b = {_key(r): r for r in merge_repeats(b) if r.passed}
    rows = []
    for key in sorted(runs_a.keys() & runs_b.keys()):
        xa, xb = runs_a[key].seconds(), runs_b[key].seconds()
        pa = runs_a[key].data["process_seconds"]  # set by merge_repeats
        pb = runs_b[key].data["process_seconds"]
        if len(pa) > 1 and len(pb) > 1:
            resampled = "processes"
            low, high = process_ratio_interval(
                [np.asarray(p) for p in pa], [np.asarray(p) for p in pb]
            )
        else:
            resampled = "samples"
            low, high = ratio_interval(xa, xb)
        verdict = "same"
        if low > 1 + threshold:
            verdict = "regression"
        elif high < 1 - threshold:
            verdict = "improvement"
        rows.append(
            Comparison(
                key,
                float(np.median(xa)),
                float(np.median(xb)),
                float(np.median(xb) / np.median(xa)),
                low,
                high,
                verdict,
                resampled,
            )
        )
    return rows


def markdown(rows: Sequence[Comparison], threshold: float) -> str:
    """The comparison as a markdown table, with a one-line summary."""
    table = [
        [
            *r.key[:2],
            r.key[2],
            r.key[3],
            r.key[5],
            f"`{r.key[6]}`",
            fmt_seconds(r.median_a),
            fmt_seconds(r.median_b),
            f"{r.ratio:.3f}",
            f"[{r.low:.3f}, {r.high:.3f}]" + (" *" if r.resampled == "samples" else ""),
            VERDICT_CELLS[r.verdict],
        ]
        for r in rows
    ]
    single = sum(r.resampled == "samples" for r in rows)
    counts = {v: sum(r.verdict == v for r in rows) for v in ("regression", "improvement")}
    headers = [
        "benchmark",
        "model",
        "sizes",
        "threads",
        "path",
        "model file",
        "median A",
        "median B",
        "B / A",
        "95 % CI",
        "verdict",
    ]
    return (
        f"{len(rows)} runs in both sets; threshold {100 * threshold:.0f} %: "
        f"{counts['regression']} regression(s), {counts['improvement']} improvement(s).\n\n"
        + tabulate(table, headers=headers, tablefmt="github", disable_numparse=True)
        + "\n"
        + (
            f"\n\\* {single} row(s) with one process on a side: the interval covers the noise "
            "of the samples only, not the variation between processes (up to 2x on a shared "
            "machine); rerun with `ftbench suite --repeat 3` before trusting a verdict.\n"
            if single
            else ""
        )
    )
