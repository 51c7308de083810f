"""Paired ratios: each path against its native baseline, pass by pass.

``ftbench suite --repeat K`` runs the whole list of configurations K times, one
pass after the other, each configuration in its own process (results files
``<name>_r<k>.json``). A path and its native baseline in the same pass ran
minutes apart on the same machine, so the ratio of their medians cancels most of
what drifts between passes (the machine's speed, another tenant's load), while
absolute times between passes, processes or days do not. For each pass found
in both runs the ratio of medians of the headline phase is taken.

The summary works on the logarithms of those per-pass ratios (a timing ratio is
multiplicative: 0.8 and 1.25 are equally far from 1): the ratio shown is their
geometric mean, and its 95 % interval is Student's t interval of the mean log
ratio (``scipy.stats.ttest_1samp``), exponentiated. With K passes the interval
has K - 1 degrees of freedom, so it stays honest with 3 passes (t = 4.30),
where a percentile bootstrap of 3 numbers is only their range and covers the
true ratio about 75 % of the time instead of 95 % (that under-coverage showed as
A/A false positives in ``ftbench selftest``). A difference is *resolved* when
the interval excludes 1. :func:`ratio_of_ratios` compares two such sets of
per-pass ratios (Welch's t interval of the difference of mean logs), as
``ftbench compare`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ftbench.results import Result, pass_number

SAME = 1e-12
"""Spread of log ratios below which the passes count as identical (no interval:
Student's t is undefined without variation)."""


@dataclass(frozen=True)
class RatioSummary:
    """Per-pass ratios of a path to its baseline, summarised.

    Attributes:
        ratio: geometric mean of the per-pass ratios.
        low, high: its t interval (95 % unless asked otherwise; both ``ratio`` with
            one pass, or when every pass gave the same ratio, within :data:`SAME`).
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
    """Geometric mean of per-pass ratios with Student's t interval over the passes
    (on the logarithms; see the module's docstring)."""
    logs = np.log(np.asarray(ratios, dtype=float))
    if logs.size == 0:
        return NO_RATIO
    center = float(np.exp(logs.mean()))
    if logs.size < 2 or np.ptp(logs) <= SAME:
        return RatioSummary(center, center, center, int(logs.size))
    interval = stats.ttest_1samp(logs, 0.0).confidence_interval(confidence)
    return RatioSummary(
        center, float(np.exp(interval.low)), float(np.exp(interval.high)), int(logs.size)
    )


def ratio_of_ratios(
    a: np.ndarray, b: np.ndarray, confidence: float = 0.95
) -> tuple[float, float, float]:
    """How the per-pass ratios ``b`` of one set compare with those ``a`` of another:
    the ratio of their geometric means and Welch's t interval of the difference of
    their mean logarithms (``scipy.stats.ttest_ind``, unequal variances),
    exponentiated: ``(ratio, low, high)``; no interval (all three equal) when a side
    has one pass or neither side varies (within :data:`SAME`)."""
    log_a, log_b = np.log(np.asarray(a, dtype=float)), np.log(np.asarray(b, dtype=float))
    ratio = float(np.exp(log_b.mean() - log_a.mean()))
    if min(log_a.size, log_b.size) < 2 or max(np.ptp(log_a), np.ptp(log_b)) <= SAME:
        return ratio, ratio, ratio
    interval = stats.ttest_ind(log_b, log_a, equal_var=False).confidence_interval(confidence)
    return ratio, float(np.exp(interval.low)), float(np.exp(interval.high))


def paired_summary(run: Result, baseline: Result | None) -> RatioSummary:
    """:func:`summarise` of :func:`paired_ratios`; :data:`NO_RATIO` without a baseline."""
    if baseline is None:
        return NO_RATIO
    return summarise(paired_ratios(run, baseline))
