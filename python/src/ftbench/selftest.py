"""``ftbench selftest``: does the harness detect a difference of known size, and only then?

For two rows of the default suite, WaveNet-2 on the T42 grid (``cgdrag``) and
the fixed cost per call (large-stride, N = 4), a coupled path (direct,
TorchScript) and its native baseline (C++, TorchScript) are run as five
*sets*, each with its own native baseline, as two runs on two days would be:

- ``A`` and ``A2``: the path unchanged (an A/A comparison: nothing may be flagged);
- ``d2``, ``d5``, ``d10``: the path with a known cost added to every step, a
  busy wait of 2, 5 and 10 % of the step's median (the drivers' ``--inject-ns``).

Every pass runs all ten processes of a row in a shuffled order (seeded, and
recorded in the log), so drifts of the machine spread over every set. Each set
is then compared with ``A`` by :func:`ftbench.compare.compare`, which judges the
path on its ratio to its own set's native baseline. A set counts as
**detected** when the interval of that ratio lies wholly above 1, and the A/A
comparison as a **false positive** when its interval excludes 1 on either side.
``selftest.md`` gives every comparison and the smallest injected cost detected.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tabulate import tabulate

from ftbench.compare import compare
from ftbench.results import Result, load_all
from ftbench.suite import Run, run_suite

DELTAS = (0.02, 0.05, 0.10)
"""Injected costs, as fractions of the path's median step."""
SEED = 20261123


@dataclass(frozen=True)
class Row:
    """One row under test: a coupled path and its native baseline.

    Attributes:
        name: ``cgdrag`` or ``fixed cost``.
        path: driver and arguments of the coupled path (``--inject-ns`` is appended).
        native: driver and arguments of its native baseline.
    """

    name: str
    path: tuple[str, tuple[str, ...]]
    native: tuple[str, tuple[str, ...]]


def rows(columns: int = 8192, cgdrag_steps: int = 10, calls: int = 1000) -> tuple[Row, ...]:
    """The rows under test: cgdrag on ``columns`` columns (``cgdrag_steps`` steps per
    process) and the fixed cost per call (``calls`` calls of a 4 x 4 array)."""
    sized = ("--columns", str(columns))
    return (
        Row(
            "cgdrag",
            (
                "benchmarker_cgdrag_torch",
                ("{models}", "cgdrag_cpu.pt", str(cgdrag_steps), *sized),
            ),
            (
                "benchmarker_native_cpp",
                ("{models}", "cgdrag_cpu.pt", str(cgdrag_steps), "cgdrag", *sized),
            ),
        ),
        Row(
            "fixed cost",
            (
                "benchmarker_large_stride_torch",
                ("{models}", "large_stride_vectorized_cpu.pt", str(calls), "4"),
            ),
            (
                "benchmarker_native_cpp",
                ("{models}", "large_stride_vectorized_cpu.pt", str(calls), "large_stride")
                + ("--n", "4"),
            ),
        ),
    )


def _slug(row: Row) -> str:
    return row.name.replace(" ", "_")


def _set_names() -> list[tuple[str, float]]:
    return [("A", 0.0), ("A2", 0.0)] + [(f"d{round(100 * d)}", d) for d in DELTAS]


def plan(row: Row, step_seconds: float, passes: int, threads: int = 1) -> list[Run]:
    """Every run of ``row``: ``passes`` passes of the five sets (path and native each),
    shuffled within each pass (seeded), named ``<row>_<set>_<path|native>_r<k>``."""
    rng = random.Random(SEED)
    runs = []
    for k in range(1, passes + 1):
        one_pass = []
        for name, delta in _set_names():
            injected = str(round(1e9 * delta * step_seconds))
            driver, args = row.path
            one_pass.append(
                Run(
                    f"{_slug(row)}_{name}_path_r{k}",
                    driver,
                    (*args, "--inject-ns", injected),
                    threads,
                )
            )
            driver, args = row.native
            one_pass.append(Run(f"{_slug(row)}_{name}_native_r{k}", driver, args, threads))
        rng.shuffle(one_pass)
        runs += one_pass
    return runs


@dataclass(frozen=True)
class Outcome:
    """One set compared with set A.

    Attributes:
        row: the row's name.
        name: the set (``A2``, ``d2``, ``d5``, ``d10``).
        injected: seconds busy-waited per step.
        fraction: ``injected`` over the path's median step in set A.
        judged, low, high: ratio to the native baseline, B's over A's, and its interval.
        flagged: the interval excludes 1 (above 1 for an injected cost).
    """

    row: str
    name: str
    injected: float
    fraction: float
    judged: float
    low: float
    high: float
    flagged: bool


def outcomes(row: Row, raw: Path) -> list[Outcome]:
    """Compare each set of ``row`` in the raw results archive ``raw`` with its set A."""
    slug = _slug(row)
    results = load_all([raw])

    def named(name: str) -> list[Result]:
        return [r for r in results if r.path.name.startswith(f"{slug}_{name}_")]

    base = named("A")
    base_step = float(np.median(np.concatenate([r.seconds() for r in base if not r.is_native])))
    found = []
    for name, _ in _set_names()[1:]:
        other = named(name)
        (path_row,) = [c for c in compare(base, other, threshold=0.0) if c.basis == "native"]
        injected = float(
            next(r for r in other if not r.is_native).data.get("injected_seconds_per_step", 0.0)
        )
        flagged = not path_row.low <= 1 <= path_row.high if name == "A2" else path_row.low > 1
        found.append(
            Outcome(
                row.name,
                name,
                injected,
                injected / base_step,
                path_row.judged,
                path_row.low,
                path_row.high,
                flagged,
            )
        )
    return found


def resolved_from(injected: Sequence[Outcome]) -> float | None:
    """The smallest injected fraction from which every larger one was detected (None
    when the largest was missed): what the run resolves, not a lucky detection."""
    smallest = None
    for outcome in sorted(injected, key=lambda o: o.fraction, reverse=True):
        if not outcome.flagged:
            break
        smallest = outcome.fraction
    return smallest


def provenance(results: Sequence[Result]) -> str:
    """One line naming where and when the self-test ran: CPU, logical CPUs, commit and
    the UTC times of its runs (the report quotes it, so that verdicts read beside
    another machine's report say whose they are)."""
    environments = [r.data["environment"] for r in results]
    cpus = sorted({f"{e['cpu_model']} ({e['logical_cpus']} logical CPUs)" for e in environments})
    commits = sorted({e["git_commit"][:12] for e in environments})
    times = sorted(e["utc_time"] for e in environments)
    return (
        f"Run on {'; '.join(cpus)} at commit {', '.join(commits)}, {times[0]} to {times[-1]} (UTC)."
    )


def markdown(found: Sequence[Outcome], passes: int, where: str = "") -> str:
    """The self-test's report: every comparison and, per row, the smallest detected
    cost; ``where`` (:func:`provenance`) opens it when given."""
    table = [
        [
            o.row,
            "A/A" if o.name == "A2" else o.name,
            f"{1e6 * o.injected:.3f} µs" if o.injected else "0",
            f"{100 * o.fraction:.1f} %",
            f"{1 + o.fraction:.3f}",
            f"{o.judged:.3f} [{o.low:.3f}, {o.high:.3f}]",
            ("**false positive**" if o.name == "A2" else "detected")
            if o.flagged
            else ("not flagged" if o.name == "A2" else "missed"),
        ]
        for o in found
    ]
    lines = [
        "# ftbench selftest",
        "",
        *([where, ""] if where else []),
        f"{passes} passes; in each, every set ran its path and its own native baseline, in "
        "a shuffled order. Each set is compared with set A on the path's ratio to its native "
        "baseline (`ftbench compare`'s judgement); an injected cost is detected when that "
        "ratio's 95 % interval lies wholly above 1. Expected: 1 + the injected fraction of a "
        "step.",
        "",
        tabulate(
            table,
            headers=["row", "set", "injected", "of a step", "expected", "measured", "verdict"],
            tablefmt="github",
            disable_numparse=True,
        ),
        "",
    ]
    for name in dict.fromkeys(o.row for o in found):
        injected = sorted(
            (o for o in found if o.row == name and o.name != "A2"), key=lambda o: o.fraction
        )
        aa = [o for o in found if o.row == name and o.name == "A2"]
        resolved = resolved_from(injected)
        if resolved is not None:
            what = (
                f"resolves an added cost of {100 * resolved:.1f} % of a step or more (every "
                "larger one tried was detected)"
            )
        else:
            largest = f"{100 * injected[-1].fraction:.1f} %" if injected else "none"
            what = f"resolves none of the added costs tried (the largest, {largest}, was missed)"
        missed = [f"{100 * o.fraction:.1f} %" for o in injected if not o.flagged]
        verdict = "flagged (a false positive)" if any(o.flagged for o in aa) else "not flagged"
        lines.append(f"- **{name}**: {what}; missed: {', '.join(missed) or 'none'}; A/A {verdict}.")
    return "\n".join(lines) + "\n"


def run_selftest(
    build_dir: Path,
    models_dir: Path,
    out_dir: Path,
    passes: int = 3,
    selected: Sequence[Row] | None = None,
    progress: bool = True,
) -> Path:
    """Run the self-test and write ``out_dir/selftest.md`` (raw results in
    ``out_dir/raw.tar.xz``).

    A pilot run of each path (nothing injected, part of no set; kept in
    ``out_dir/pilot.tar.xz``) gives the median step the injected costs are fractions of.

    Raises:
        SuiteError: a run failed (see :func:`ftbench.suite.run_suite`).
    """
    selected = rows() if selected is None else selected
    pilots = [
        Run(f"{_slug(row)}_pilot", row.path[0], (*row.path[1], "--inject-ns", "0"))
        for row in selected
    ]
    pilot_archive = out_dir / "pilot.tar.xz"
    run_suite(pilots, build_dir, models_dir, pilot_archive, progress=False, seed=-1)
    steps = {r.path.stem: float(np.median(r.seconds())) for r in load_all([pilot_archive])}
    runs = []
    for row in selected:
        runs += plan(row, steps[f"{_slug(row)}_pilot"], passes)
    # plan() shuffles each pass itself: the suite keeps that order.
    run_suite(runs, build_dir, models_dir, out_dir / "raw.tar.xz", progress=progress, seed=-1)
    found = [o for row in selected for o in outcomes(row, out_dir / "raw.tar.xz")]
    report = out_dir / "selftest.md"
    where = provenance(load_all([out_dir / "raw.tar.xz"]))
    report.write_text(markdown(found, passes, where))
    return report
