"""Where and how the runs were made, for the report: the machine and versions, the
run conditions the suite recorded (ftbench.conditions) and the correctness checks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tabulate import tabulate

from ftbench import conditions
from ftbench.results import Result


def environment_section(results: Sequence[Result]) -> list[str]:
    """The machine, versions, timing-related variables and times of the runs, then
    :func:`conditions_section` and :func:`checks_section`."""
    fields = [
        "hostname",
        "cpu_model",
        "logical_cpus",
        "os",
        "cpu_capability",
        "blas",
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
    return lines + [""] + conditions_section(results) + checks_section(results)


def conditions_section(results: Sequence[Result]) -> list[str]:
    """How busy the machine was during the runs (``run_conditions``, recorded by
    ``ftbench suite``): the CPUs processes were pinned to, the order, others' CPU use,
    steal time and load averages, and every run that was busy."""
    recorded = [r for r in results if "run_conditions" in r.data]
    if not recorded:
        return []
    found = [r.data["run_conditions"] for r in recorded]
    other = [c["other_cpu_cores"] for c in found if c["other_cpu_cores"] is not None]
    steal = [c["steal_fraction"] for c in found if c["steal_fraction"] is not None]
    pinned = sorted(
        {", ".join(map(str, c["pinned_cpus"])) if c["pinned_cpus"] else "None" for c in found}
    )
    seeds = sorted({c.get("order_seed", -1) for c in found})
    load = [c["load_average_before"][0] for c in found]
    governors = sorted({g for c in found for g in c.get("governors", [])})
    lines = [
        "## Run conditions",
        "",
        f"Recorded by `ftbench suite` around each of {len(recorded)} processes "
        "(`ftbench.conditions`):",
        "",
        "- pinned to CPUs: " + ", ".join(p if p != "None" else "not pinned" for p in pinned),
        "- order within each pass: "
        + ("shuffled, seed " + ", ".join(map(str, seeds)) if min(seeds) >= 0 else "as listed"),
    ]
    if other:
        lines.append(
            f"- other processes' CPU use during a run: median {np.median(other):.2f} cores, "
            f"at most {max(other):.2f} (busy above {conditions.BUSY_OTHER_CORES} cores)"
        )
    if steal:
        lines.append(
            f"- CPU time stolen by the hypervisor: median {100 * np.median(steal):.1f} %, at "
            f"most {100 * max(steal):.1f} % (busy above {100 * conditions.BUSY_STEAL:.0f} %)"
        )
    lines.append(
        f"- 1-minute load average before a run: {min(load):.2f} to {max(load):.2f} (it "
        "lags by minutes and counts the suite's own previous process)"
    )
    lines.append("- CPU frequency governors: " + (", ".join(governors) or "not exposed"))
    busy = [r for r in recorded if r.data["run_conditions"]["busy"]]
    if busy:
        lines += [
            "",
            f"> ⚠ **Busy machine**: {len(busy)} of {len(recorded)} runs had competition:",
            ">",
            *(
                f"> - `{r.path.stem}`: {conditions.describe(r.data['run_conditions'])}"
                for r in busy
            ),
        ]
    else:
        lines.append("- no run was busy")
    return lines + [""]


def checks_section(results: Sequence[Result]) -> list[str]:
    """How every iteration was checked: the rule, each benchmark's tolerance and the
    largest error found, and the conditions the cgdrag references were made under."""
    lines = [
        "## Correctness checks",
        "",
        "Every iteration of every run compared its outputs with references, element by "
        "element: |actual − expected| ≤ rtol·|expected| + atol, atol = atol_fraction · "
        "max|expected| per output component (basis: docs/checks.md). "
        "*largest error* is the worst |actual − expected| ÷ (rtol·|expected| + atol) "
        "over all iterations and runs (≤ 1 passes).",
        "",
    ]
    table = []
    for benchmark in sorted({r.data["benchmark"] for r in results}):
        runs = [r for r in results if r.data["benchmark"] == benchmark]
        ratios = [r.data["correctness"]["max_error_ratio"] for r in runs]
        worst = None if None in ratios else max(ratios)
        differences = [r.data["correctness"]["max_abs_error"] for r in runs]
        worst_difference = None if None in differences else max(differences)
        first = runs[0].data["correctness"]
        table.append(
            [
                benchmark,
                f"{first['rtol']:.3g}",
                f"{first['atol_fraction']:.3g}",
                "inf/NaN" if worst is None else f"{worst:.2g}",
                "inf/NaN" if worst_difference is None else f"{worst_difference:.2g}",
                f"{sum(r.passed for r in runs)} of {len(runs)}",
            ]
        )
    lines.append(
        tabulate(
            table,
            headers=[
                "benchmark",
                "rtol",
                "atol_fraction",
                "largest error",
                "largest absolute difference",
                "configurations passed",
            ],
            tablefmt="github",
            disable_numparse=True,
        )
    )
    conditions = sorted(
        {
            ", ".join(f"{k} {v}" for k, v in r.data["correctness"]["reference_conditions"].items())
            for r in results
            if "reference_conditions" in r.data["correctness"]
        }
    )
    if conditions:
        lines += ["", "cgdrag references made with: " + "; ".join(f"`{c}`" for c in conditions)]
    return lines + [""]
