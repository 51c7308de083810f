"""Comparing two sets of results: did a change make things faster or slower?

Absolute times are not comparable across days on a shared machine (its speed
drifts up to 2x), so a coupled path is judged by its **ratio to its own run's
native baseline** (the like-for-like baseline of the report,
:func:`ftbench.report.stats.native_reference`): per pass of the suite, path / native
(:mod:`ftbench.paired`), then the ratio of those per-pass ratios, B's geometric
mean over A's, with Welch's t interval on their logarithms
(:func:`ftbench.paired.ratio_of_ratios`). A machine that became uniformly slower
moves both path and baseline and leaves that ratio alone.

The native baselines themselves (and runs without a baseline) are compared by
their absolute ratio of medians B / A: when both sides ran in several
processes (``ftbench suite --repeat``) whole processes are resampled (a cluster
bootstrap); otherwise only the samples, and the row says so. A native baseline
whose interval lies wholly outside 1 ± threshold means **the machine changed**:
it is reported as such, never as a regression or an improvement.

A coupled row whose whole interval lies above ``1 + threshold`` is a
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

from ftbench.paired import paired_ratios, ratio_of_ratios
from ftbench.report.markdown import fmt_seconds
from ftbench.report.stats import native_reference
from ftbench.results import Result, merge_repeats

RESAMPLES = 2000
SEED = 20261122
VERDICT_CELLS = {
    "regression": "**regression**",
    "improvement": "improvement",
    "same": "",
    "machine changed": "machine changed",
}
"""How each verdict reads in the table."""
BASIS_CELLS = {"native": "× native", "time": "time"}
"""How the table names what a verdict is on."""


@dataclass(frozen=True)
class Comparison:
    """One run in both sets.

    Attributes:
        key: what identifies the run (benchmark, model, sizes, threads, dtype, path, file).
        median_a, median_b: medians of the headline phase, seconds.
        ratio: median_b / median_a.
        basis: what the verdict is on: ``native`` (the ratio to the run's own native
            baseline, B's over A's) or ``time`` (the absolute ratio of medians).
        judged: the ratio the verdict is on (``ratio`` when ``basis`` is ``time``).
        low, high: the 95 % confidence interval of ``judged``.
        verdict: ``regression``, ``improvement``, ``same``, or ``machine changed``
            (a native baseline that moved: never counted as either).
        resampled: what the interval resampled: ``passes``, ``processes`` or ``samples``.
    """

    key: tuple[str, ...]
    median_a: float
    median_b: float
    ratio: float
    basis: str
    judged: float
    low: float
    high: float
    verdict: str
    resampled: str


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


def _native_ratios(run: Result, runs: Sequence[Result]) -> np.ndarray | None:
    """Per-pass ratios of ``run`` to its like-for-like native baseline among ``runs``
    (None for a native run, or one without a baseline)."""
    if run.is_native:
        return None
    native = native_reference(run, [r for r in runs if r.group_key == run.group_key])
    return paired_ratios(run, native) if native is not None else None


def compare(a: Sequence[Result], b: Sequence[Result], threshold: float = 0.05) -> list[Comparison]:
    """Compare every run found in both sets (passing runs only), in key order."""
    merged_a = [r for r in merge_repeats(a) if r.passed]
    merged_b = [r for r in merge_repeats(b) if r.passed]
    runs_a = {_key(r): r for r in merged_a}
    runs_b = {_key(r): r for r in merged_b}
    rows = []
    for key in sorted(runs_a.keys() & runs_b.keys()):
        run_a, run_b = runs_a[key], runs_b[key]
        xa, xb = run_a.seconds(), run_b.seconds()
        ratio = float(np.median(xb) / np.median(xa))
        ratios_a, ratios_b = _native_ratios(run_a, merged_a), _native_ratios(run_b, merged_b)
        if ratios_a is not None and ratios_b is not None and ratios_a.size and ratios_b.size:
            basis = "native"
            resampled = "passes" if min(ratios_a.size, ratios_b.size) > 1 else "one pass"
            judged, low, high = ratio_of_ratios(ratios_a, ratios_b)
        else:
            basis, judged = "time", ratio
            pa, pb = run_a.data["process_seconds"], run_b.data["process_seconds"]  # merge_repeats
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
        if verdict != "same" and run_a.is_native:
            verdict = "machine changed"
        rows.append(
            Comparison(
                key,
                float(np.median(xa)),
                float(np.median(xb)),
                ratio,
                basis,
                judged,
                low,
                high,
                verdict,
                resampled,
            )
        )
    return rows


def markdown(rows: Sequence[Comparison], threshold: float) -> str:
    """The comparison as a markdown table, with a summary and the notes its rows need."""
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
            BASIS_CELLS[r.basis],
            f"{r.judged:.3f} [{r.low:.3f}, {r.high:.3f}]"
            + (" *" if r.resampled in ("samples", "one pass") else ""),
            VERDICT_CELLS[r.verdict],
        ]
        for r in rows
    ]
    single = sum(r.resampled in ("samples", "one pass") for r in rows)
    counts = {v: sum(r.verdict == v for r in rows) for v in VERDICT_CELLS}
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
        "judged on",
        "ratio [95 % CI]",
        "verdict",
    ]
    notes = []
    if counts["machine changed"]:
        notes.append(
            f"{counts['machine changed']} native baseline(s) moved beyond the threshold: the "
            "machine changed between the two sets, so absolute times (B / A) are not "
            "comparable; coupled paths are judged on their ratio to their own set's native "
            "baseline (× native), which such a change leaves alone.\n"
        )
    if single:
        notes.append(
            f"\\* {single} row(s) with one process or one pass on a side: the interval covers "
            "the noise of the samples at most, not the variation between processes (up to 2x "
            "on a shared machine); rerun with `ftbench suite --repeat 3` before trusting a "
            "verdict.\n"
        )
    return (
        f"{len(rows)} runs in both sets; threshold {100 * threshold:.0f} %: "
        f"{counts['regression']} regression(s), {counts['improvement']} improvement(s).\n\n"
        + tabulate(table, headers=headers, tablefmt="github", disable_numparse=True)
        + "\n"
        + "".join("\n" + note for note in notes)
    )
