"""The report's "Where the time goes" section, from the profiles scripts/profile.sh
leaves in results/profiles/<name>/ (gprof and perf, parsed by ftbench.profiles)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tabulate import tabulate

from ftbench.profiles import LAYERS, parse_gprof, parse_perf
from ftbench.results import HEADLINE_PHASE, Result, load


def _step_share(result: Result, directory: Path) -> str:
    """Share of the profiled run's wall time spent in its timed steps."""
    try:
        run_seconds = float((directory / "run_seconds.txt").read_text())
    except (OSError, ValueError):
        return "n/a"
    loop = result.data["phases"][HEADLINE_PHASE]
    steps = sum(loop["seconds"]) + sum(loop["warmup_seconds"])
    return f"{100 * steps / run_seconds:.0f} %" if run_seconds > 0 else "n/a"


def profiles_section(profiles_dir: Path | None, plot_dir: Path) -> list[str]:
    """'Where the time goes' from ``profiles_dir``/<name>/ (scripts/profile.sh); call
    graphs are copied into ``plot_dir``. Nothing when there are no profiles."""
    if profiles_dir is None or not profiles_dir.is_dir():
        return []
    profiles = [
        d
        for d in sorted(profiles_dir.iterdir())
        if (d / "result.json").exists() and (d / "gprof.txt").exists()
    ]
    if not profiles:
        return []
    layer_rows, details = [], []
    for directory in profiles:
        result = load(directory / "result.json")
        executable = Path(result.data["command_line"].split()[0]).name
        gprof = parse_gprof((directory / "gprof.txt").read_text(), str(directory / "gprof.txt"))
        title = (
            f"{directory.name}: {result.model_name}, {result.path_label}, "
            f"{result.data['threads']} thread(s)"
        )
        perf = None
        if (directory / "perf.txt").exists():
            perf = parse_perf(
                (directory / "perf.txt").read_text(), executable, str(directory / "perf.txt")
            )
            layer_rows.append(
                [
                    directory.name,
                    result.model_name,
                    result.path_label,
                    _step_share(result, directory),
                ]
                + [f"{perf.by_layer[layer]:.1f} %" for layer in LAYERS]
            )
        top = [
            [
                f"{row.percent:.1f} %",
                f"{row.self_seconds:.2f}",
                row.calls or "",
                f"`{row.readable}`",
            ]
            for row in gprof.flat[:8]
        ]
        details += [
            f"### {title}",
            "",
            f"gprof (samples in the executable only: {gprof.total_seconds:.2f} s):",
            "",
            tabulate(
                top,
                headers=["self %", "self s", "calls", "function"],
                tablefmt="github",
                disable_numparse=True,
            ),
            "",
        ]
        if perf is not None:
            symbols = sorted(perf.by_symbol.items(), key=lambda kv: -kv[1])[:8]
            details += [
                "perf (every shared object), top symbols:",
                "",
                tabulate(
                    [[f"{pct:.1f} %", f"`{name[:90]}`"] for name, pct in symbols],
                    headers=["samples", "symbol"],
                    tablefmt="github",
                    disable_numparse=True,
                ),
                "",
            ]
        if (directory / "callgraph.png").exists():
            image = f"profile_{directory.name}_callgraph.png"
            shutil.copy(directory / "callgraph.png", plot_dir / image)
            details += [f"![gprof call graph of {directory.name}](plots/{image})", ""]
    lines = [
        "## Where the time goes",
        "",
        "Profiles from `scripts/profile.sh` (a Profile build: RelWithDebInfo + `-pg`). gprof "
        "samples only code inside the executable (the Fortran and the statically linked shims), "
        "so time in libtorch or libpython is invisible to it; `perf record -e cpu-clock` sees "
        "every shared object. Share of perf samples by layer (see `ftbench.profiles.layer_of`); "
        "the samples cover the whole run, of which the timed steps (warm-up included) took the "
        "share in *steps / run*: the rest is start-up (loading the model, starting Python and "
        "importing torch), reading inputs and the checks.",
        "",
    ]
    if layer_rows:
        lines += [
            tabulate(
                layer_rows,
                headers=["profile", "model", "path", "steps / run", *LAYERS],
                tablefmt="github",
                disable_numparse=True,
            ),
            "",
        ]
    else:
        lines += ["(no perf profiles: perf was missing or not permitted)", ""]
    return lines + details
