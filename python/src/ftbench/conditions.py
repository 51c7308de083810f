"""Run conditions: how busy the machine was while a benchmark process ran.

``ftbench suite`` samples the machine before and after every process it runs
and records in that process's results file (``run_conditions``,
docs/results-schema.md):

- the load averages (1, 5 and 15 minutes) before and after, from ``os.getloadavg``;
- the CPU time the *other* processes of the machine used during the run, in
  cores: all busy time of ``/proc/stat`` (user, nice, system, irq, softirq)
  minus the run's own CPU time (``resource.getrusage(RUSAGE_CHILDREN)``),
  over the wall time. Unlike the load average, which lags by minutes and counts
  the suite's own previous process, this is what competed with the run;
- the CPU time stolen by the hypervisor (``steal`` of ``/proc/stat``), as a
  fraction of all CPU time in the interval;
- the CPU frequency governors, where ``/sys/devices/system/cpu`` exposes them;
- the CPUs the process was pinned to.

A run is **busy** when the others used more than :data:`BUSY_OTHER_CORES` cores
or the hypervisor stole more than :data:`BUSY_STEAL` of the CPU time; the suite
warns, and the report lists such runs. Where ``/proc/stat`` is not readable
(not Linux) the CPU figures are None and nothing is judged.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BUSY_OTHER_CORES = 0.25
"""Other processes' CPU use, in cores, above which a run counts as busy."""
BUSY_STEAL = 0.05
"""Fraction of CPU time stolen by the hypervisor above which a run counts as busy."""
_BUSY_FIELDS = (0, 1, 2, 5, 6)  # user nice system irq softirq (of "cpu" in /proc/stat)
_STEAL_FIELD = 7


@dataclass(frozen=True)
class Sample:
    """The machine at one moment.

    Attributes:
        wall: ``time.monotonic()``, s.
        load: load averages over 1, 5 and 15 minutes.
        busy, steal, total: CPU time of ``/proc/stat`` (all CPUs), s; None when unreadable.
        children: CPU time (user + system) of this process's finished children, s.
    """

    wall: float
    load: tuple[float, float, float]
    busy: float | None
    steal: float | None
    total: float | None
    children: float


def _cpu_times(stat: Path = Path("/proc/stat")) -> tuple[float, float, float] | None:
    """Busy, stolen and total CPU time of all CPUs in seconds, or None when unreadable."""
    try:
        first = stat.read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    if first[0] != "cpu" or len(first) < 9:
        return None
    ticks = [int(v) for v in first[1:9]]  # guest time is already in user
    hertz = os.sysconf("SC_CLK_TCK")
    busy = sum(ticks[k] for k in _BUSY_FIELDS) / hertz
    return busy, ticks[_STEAL_FIELD] / hertz, sum(ticks) / hertz


def sample() -> Sample:
    """The machine now."""
    times = _cpu_times()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Sample(
        wall=time.monotonic(),
        load=os.getloadavg(),
        busy=times[0] if times else None,
        steal=times[1] if times else None,
        total=times[2] if times else None,
        children=usage.ru_utime + usage.ru_stime,
    )


def governors(root: Path = Path("/sys/devices/system/cpu")) -> list[str]:
    """The distinct CPU frequency governors, or [] where they are not exposed (most VMs)."""
    found = set()
    for path in root.glob("cpu[0-9]*/cpufreq/scaling_governor"):
        try:
            found.add(path.read_text().strip())
        except OSError:
            continue
    return sorted(found)


def between(before: Sample, after: Sample, cpus: list[int] | None) -> dict[str, Any]:
    """The ``run_conditions`` of a run that went from ``before`` to ``after``, pinned to
    ``cpus`` (None: not pinned)."""
    wall = max(after.wall - before.wall, 1e-9)
    other = steal = None
    if before.busy is not None and after.busy is not None:
        own = after.children - before.children
        other = max(0.0, (after.busy - before.busy - own) / wall)
    if before.steal is not None and after.steal is not None and before.total is not None:
        total = (after.total or 0.0) - before.total
        steal = (after.steal - before.steal) / total if total > 0 else 0.0
    conditions: dict[str, Any] = {
        "wall_seconds": wall,
        "load_average_before": list(before.load),
        "load_average_after": list(after.load),
        "other_cpu_cores": other,
        "steal_fraction": steal,
        "governors": governors(),
        "pinned_cpus": cpus,
    }
    conditions["busy"] = is_busy(conditions)
    return conditions


def is_busy(conditions: dict[str, Any]) -> bool:
    """True when other processes or the hypervisor took more than the thresholds."""
    other, steal = conditions.get("other_cpu_cores"), conditions.get("steal_fraction")
    return (other is not None and other > BUSY_OTHER_CORES) or (
        steal is not None and steal > BUSY_STEAL
    )


def describe(conditions: dict[str, Any]) -> str:
    """One line: others' CPU use, steal and load average of a run."""
    other, steal = conditions.get("other_cpu_cores"), conditions.get("steal_fraction")
    parts = [
        f"others used {other:.2f} cores" if other is not None else "others' CPU use unknown",
        f"steal {100 * steal:.1f} %" if steal is not None else "steal unknown",
        f"load average {conditions['load_average_before'][0]:.2f} before, "
        f"{conditions['load_average_after'][0]:.2f} after",
    ]
    return ", ".join(parts)
