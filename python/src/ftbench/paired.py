"""Paired ratios: each path against its native baseline, pass by pass.

``ftbench suite --repeat K`` runs the whole list of configurations K times, one
pass after the other, each configuration in its own process (results files
``<name>_r<k>.json``). A path and its native baseline in the same pass ran
minutes apart on the same machine, so the ratio of their medians cancels most of
what drifts between passes (the machine's speed, another tenant's load), while
absolute times between passes, processes or days do not. For each pass found
in both runs the ratio of medians of the headline phase is taken; the summary is
the median of those per-pass ratios with a percentile bootstrap 95 % interval
over the passes (``scipy.stats.bootstrap``, fixed seed). A difference is
*resolved* when the interval excludes 1. With K passes the interval can be no
finer than the spread of K numbers: with 3 it is about their range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ftbench.results import Result, pass_number

RESAMPLES = 2000
SEED = 20261123


@dataclass(frozen=True)
class RatioSummary:
    """Per-pass ratios of a path to its baseline, summarised.

    Attributes:
        ratio: median of the per-pass ratios.
        low, high: bootstrap 95 % interval of that median (both ``ratio`` with one pass).
        passes: how many passes the two runs share.
    """

    ratio: float
    low: float
    high: float
    passes: int

    @property
    def resolved(self) -> bool:
        """True when the interval excludes 1 (needs two passes or more)."""
        return self.passes > 1 and (self.low > 1 or self.high < 1)

    def text(self) -> str:
        """``0.932 [0.901, 0.960]``, the ratio in bold when resolved; the ratio alone
        with one pass; ``n/a`` without a ratio."""
        if not np.isfinite(self.ratio):
            return "n/a"
        if self.passes < 2:
            return f"{self.ratio:.3f}"
        ratio = f"**{self.ratio:.3f}**" if self.resolved else f"{self.ratio:.3f}"
        return f"{ratio} [{self.low:.3f}, {self.high:.3f}]"


NO_RATIO = RatioSummary(float("nan"), float("nan"), float("nan"), 0)
"""The summary where there is nothing to compare with."""


def pass_medians(result: Result) -> dict[int, float]:
    """Median of the headline phase of each pass of ``result`` (a result merged by
    :func:`ftbench.results.merge_repeats`, or a single run: pass 1 or its suffix)."""
    seconds = result.data.get("process_seconds") or [result.seconds().tolist()]
    passes = result.data.get("process_passes") or [pass_number(result.path)]
    return {k: float(np.median(s)) for k, s in zip(passes, seconds, strict=True)}


def paired_ratios(run: Result, baseline: Result) -> np.ndarray:
    """Ratio of medians ``run / baseline`` in every pass both have, in pass order."""
    a, b = pass_medians(run), pass_medians(baseline)
    return np.array([a[k] / b[k] for k in sorted(a.keys() & b.keys())])


def summarise(ratios: np.ndarray, confidence: float = 0.95) -> RatioSummary:
    """Median of per-pass ratios with a percentile bootstrap interval over the passes."""
    ratios = np.asarray(ratios, dtype=float)
    if ratios.size == 0:
        return NO_RATIO
    median = float(np.median(ratios))
    if ratios.size < 2:
        return RatioSummary(median, median, median, int(ratios.size))
    interval = stats.bootstrap(
        (ratios,),
        np.median,
        confidence_level=confidence,
        n_resamples=RESAMPLES,
        method="percentile",
        rng=np.random.default_rng(SEED),
    ).confidence_interval
    return RatioSummary(median, float(interval.low), float(interval.high), int(ratios.size))


def paired_summary(run: Result, baseline: Result | None) -> RatioSummary:
    """:func:`summarise` of :func:`paired_ratios`; :data:`NO_RATIO` without a baseline."""
    if baseline is None:
        return NO_RATIO
    return summarise(paired_ratios(run, baseline))
