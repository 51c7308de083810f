"""Parsers for what profiling and the drivers print: gprof, perf and driver output.

* :func:`parse_gprof` reads ``gprof -b`` text (flat profile and call graph);
* :func:`parse_perf` reads ``perf report --stdio --no-children --sort dso,sym``
  text and groups samples by shared object, symbol and layer (Fortran, coupling
  shim, libtorch, Python, kernel, other);
* :func:`parse_driver_output` reads the drivers' text output, ours and the
  published harness's (``PASSED :: [check iteration 1 (3.237 s)] maximum
  relative error = 0.0000E+00``, ``min time taken (s): ...``), so runs kept
  only as text can be read.

Each raises :class:`ProfileParseError` naming the file and line for input it
recognises but cannot parse.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


class ProfileParseError(ValueError):
    """Malformed profiler or driver output; the message names the line."""


def _fail(source: str, number: int, line: str, what: str) -> ProfileParseError:
    return ProfileParseError(f"{source}:{number}: {what}: {line.strip()!r}")


def demangle_fortran(name: str) -> str:
    """Readable name of a gfortran symbol: ``__mod_MOD_proc`` -> ``mod::proc``,
    ``MAIN__`` -> ``(main program)``; other names are returned unchanged."""
    match = re.fullmatch(r"__(\w+?)_MOD_(\w+)", name)
    if match:
        return f"{match.group(1)}::{match.group(2)}"
    return "(main program)" if name == "MAIN__" else name


# --- gprof ------------------------------------------------------------------------


@dataclass
class FlatRow:
    """One row of gprof's flat profile (times in seconds, per-call times in seconds)."""

    percent: float
    cumulative: float
    self_seconds: float
    calls: int | None
    self_per_call: float | None
    total_per_call: float | None
    name: str
    readable: str


@dataclass
class CallEntry:
    """One entry of gprof's call graph: the primary line and its callers and callees."""

    index: int
    percent: float
    self_seconds: float
    children_seconds: float
    called: str
    name: str
    readable: str
    callers: list[str] = field(default_factory=list)
    callees: list[str] = field(default_factory=list)


@dataclass
class GprofProfile:
    """A parsed ``gprof -b`` output."""

    sample_seconds: float
    flat: list[FlatRow]
    call_graph: list[CallEntry]

    @property
    def total_seconds(self) -> float:
        """Self seconds of all functions (what gprof sampled in the executable)."""
        return sum(row.self_seconds for row in self.flat)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, for JSON."""
        return asdict(self) | {"total_seconds": self.total_seconds}


_UNITS = {"s/call": 1.0, "ms/call": 1e-3, "us/call": 1e-6, "ns/call": 1e-9, "Ks/call": 1e3}
_FLAT = re.compile(
    r"^\s*(?P<pct>[\d.]+)\s+(?P<cum>[\d.]+)\s+(?P<self>[\d.]+)"
    r"(?:\s+(?P<calls>\d+)\s+(?P<sper>[\d.]+)\s+(?P<tper>[\d.]+))?\s+(?P<name>\S.*?)\s*$"
)
_PRIMARY = re.compile(
    r"^\[(?P<index>\d+)\]\s+(?P<pct>[\d.]+)\s+(?P<self>[\d.]+)\s+(?P<children>[\d.]+)"
    r"\s+(?P<called>[\d+/]*)\s*(?P<name>\S.*?)\s+\[\d+\]\s*$"
)
_RELATIVE = re.compile(r"^\s+(?:[\d.]+\s+[\d.]+\s+)?(?:[\d+/]+\s+)?(?P<name>\S.*?)\s+\[\d+\]\s*$")


def parse_gprof(text: str, source: str = "gprof output") -> GprofProfile:
    """Parse ``gprof -b`` output (flat profile, then call graph).

    Raises:
        ProfileParseError: no flat profile, or a row that does not parse (names the line).
    """
    lines = text.splitlines()
    if not any(line.startswith("Flat profile:") for line in lines):
        raise ProfileParseError(f"{source}: no 'Flat profile:' section (is this gprof output?)")
    sample = 0.0
    flat: list[FlatRow] = []
    graph: list[CallEntry] = []
    unit = 1e-3
    section = None
    pending: list[str] = []
    entry: CallEntry | None = None
    for number, line in enumerate(lines, 1):
        if line.startswith("Flat profile:"):
            section = "flat-header"
            continue
        if "Call graph" in line and line.strip().startswith("Call graph"):
            section = "graph-header"
            continue
        if line.startswith("Index by function name"):
            section = None
            continue
        if section == "flat-header":
            match = re.search(r"Each sample counts as ([\d.]+) seconds", line)
            if match:
                sample = float(match.group(1))
            if line.lstrip().startswith("time") and "name" in line:
                found = re.search(r"(\w+/call)", line)
                unit = _UNITS.get(found.group(1), 1e-3) if found else 1e-3
                section = "flat"
            continue
        if section == "flat":
            if not line.strip():
                section = None
                continue
            match = _FLAT.match(line)
            if not match:
                raise _fail(source, number, line, "not a flat-profile row")
            calls = match.group("calls")
            flat.append(
                FlatRow(
                    percent=float(match.group("pct")),
                    cumulative=float(match.group("cum")),
                    self_seconds=float(match.group("self")),
                    calls=int(calls) if calls else None,
                    self_per_call=float(match.group("sper")) * unit if calls else None,
                    total_per_call=float(match.group("tper")) * unit if calls else None,
                    name=match.group("name"),
                    readable=demangle_fortran(match.group("name")),
                )
            )
            continue
        if section == "graph-header":
            if line.startswith("index") and "name" in line:
                section = "graph"
            continue
        if section == "graph":
            if not line.strip():
                continue
            if line.startswith("-----"):
                if entry is not None:
                    graph.append(entry)
                entry, pending = None, []
                continue
            if line.startswith("["):
                match = _PRIMARY.match(line)
                if not match:
                    raise _fail(source, number, line, "not a call-graph primary line")
                entry = CallEntry(
                    index=int(match.group("index")),
                    percent=float(match.group("pct")),
                    self_seconds=float(match.group("self")),
                    children_seconds=float(match.group("children")),
                    called=match.group("called"),
                    name=match.group("name"),
                    readable=demangle_fortran(match.group("name")),
                    callers=pending,
                )
                pending = []
                continue
            if line.strip() == "<spontaneous>":
                pending.append("<spontaneous>")
                continue
            match = _RELATIVE.match(line)
            if not match:
                raise _fail(source, number, line, "not a caller or callee line")
            name = demangle_fortran(match.group("name"))
            (entry.callees if entry is not None else pending).append(name)
    if entry is not None:
        graph.append(entry)
    if not flat:
        raise ProfileParseError(f"{source}: the flat profile has no rows")
    return GprofProfile(sample, flat, graph)


# --- perf ---------------------------------------------------------------------------

LAYERS = ("Fortran", "coupling shim", "libtorch", "Python", "kernel", "other")

# libtorch itself, its runtimes, and an AOTInductor package's compiled model (the
# library it extracts and loads: "<hash>.wrapper.so").
_LIBTORCH = re.compile(
    r"^(libtorch|libc10|libgomp|libshm|libmkl|libopenblas|libsleef|libiomp|\w+\.wrapper\.so$)"
)
_PYTHON = re.compile(r"^(libpython|.*\.cpython-\d+|python\d)")


def layer_of(dso: str, symbol: str, executable: str) -> str:
    """The layer a sample belongs to (one of ``LAYERS``).

    Fortran: the driver executable's Fortran symbols (``_MOD_``, ``MAIN__``,
    names with gfortran's trailing underscore); coupling shim: the executable's
    other (C and C++) symbols, which are the shims, linked statically; libtorch:
    libtorch, libc10, the OpenMP/BLAS runtimes it loads and the compiled model of
    an AOTInductor package (``<hash>.wrapper.so``); Python: libpython and
    extension modules (``*.cpython-311-*.so``, torch's own ``_C``); kernel:
    ``[kernel.kallsyms]``; other: everything else (libc, libm, libstdc++, ...).
    """
    if dso == executable:
        fortran = (
            "_MOD_" in symbol or symbol.startswith("MAIN__") or re.fullmatch(r"[a-z]\w*_", symbol)
        )
        return "Fortran" if fortran else "coupling shim"
    if dso.startswith("[kernel"):
        return "kernel"
    if _LIBTORCH.match(dso):
        return "libtorch"
    if _PYTHON.match(dso):
        return "Python"
    return "other"


@dataclass
class PerfProfile:
    """A parsed ``perf report`` with shares (percent of all samples)."""

    samples: int | None
    executable: str
    rows: list[dict[str, Any]]
    by_dso: dict[str, float]
    by_symbol: dict[str, float]
    by_layer: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """Plain data, for JSON."""
        return asdict(self)


_PERF_ROW = re.compile(r"^\s+(?P<pct>[\d.]+)%\s+(?P<dso>\S+)\s+\[(?P<kind>.)\]\s+(?P<sym>.*?)\s*$")


def parse_perf(text: str, executable: str, source: str = "perf report") -> PerfProfile:
    """Parse ``perf report --stdio --no-children --sort dso,sym`` output.

    Args:
        text: the report.
        executable: file name of the profiled program (its samples are Fortran or shim).
    Raises:
        ProfileParseError: no sample rows, or a percentage row that does not parse.
    """
    samples = None
    rows: list[dict[str, Any]] = []
    by_dso: dict[str, float] = defaultdict(float)
    by_symbol: dict[str, float] = defaultdict(float)
    by_layer: dict[str, float] = dict.fromkeys(LAYERS, 0.0)
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("#"):
            match = re.search(r"Samples:\s+(\d+)([KM]?)", line)
            if match:
                samples = int(match.group(1)) * {"": 1, "K": 1000, "M": 1000000}[match.group(2)]
            continue
        if not line.strip():
            continue
        if re.match(r"^\s+[\d.]+%", line):
            match = _PERF_ROW.match(line)
            if not match:
                raise _fail(source, number, line, "not a perf report row (dso, [.] symbol)")
            pct, dso, symbol = float(match.group("pct")), match.group("dso"), match.group("sym")
            readable = demangle_fortran(symbol)
            layer = layer_of(dso, symbol, executable)
            rows.append({"percent": pct, "dso": dso, "symbol": readable, "layer": layer})
            by_dso[dso] += pct
            by_symbol[readable] += pct
            by_layer[layer] += pct
    if not rows:
        raise ProfileParseError(f"{source}: no sample rows (is this `perf report --stdio` output?)")
    return PerfProfile(samples, executable, rows, dict(by_dso), dict(by_symbol), by_layer)


# --- driver output ---------------------------------------------------------------


_CHECK = re.compile(
    r"^(?P<verdict>PASSED|FAILED) :: \[check (?P<kind>iteration|warm-up) (?P<n>\d+) "
    r"\(\s*(?P<seconds>[-+\d.Ee]+) s\)\] "
    r"maximum (?P<measure>relative error|error / tolerance) =\s*(?P<error>\S+)"
)
_PUBLISHED_TIME = re.compile(
    r"^\s*(?P<stat>min|max|mean|median|stddev|total)?\s*time taken "
    r"\(s\):\s*(?P<value>[-+\d.Ee]+)\s*$"
)
_SUMMARY_ROW = re.compile(r"^(?P<phase>\S.*?)\s{2,}(?P<values>(?:\s*[-+\d.]+E[-+]\d+){5})\s*$")
_ONCE_ROW = re.compile(r"^(?P<phase>\S.*?) \(once\)\s+(?P<value>[-+\d.]+E[-+]\d+)\s*$")


def parse_driver_output(text: str, source: str = "driver output") -> dict[str, Any]:
    """Parse a driver's text output: per-iteration checks, the summary table, once-only
    phases and the published ``... time taken (s): X`` lines. Other lines are ignored.

    Returns:
        ``{"checks": [...], "summary": {phase: {min, median, mean, stddev, max}},
        "once": {phase: seconds}, "published_times": {stat: seconds}, "passed": bool}``.
    Raises:
        ProfileParseError: a PASSED/FAILED line, a summary row or a time line that
            does not parse (names the line), or no check at all.
    """
    checks: list[dict[str, Any]] = []
    summary: dict[str, dict[str, float]] = {}
    once: dict[str, float] = {}
    published: dict[str, float] = {}
    in_summary = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith(("PASSED", "FAILED")):
            match = _CHECK.match(line)
            if not match:
                raise _fail(source, number, line, "not a check line")
            try:
                error = float(match.group("error"))
                seconds = float(match.group("seconds"))
            except ValueError:
                raise _fail(source, number, line, "bad number in a check line") from None
            checks.append(
                {
                    "passed": match.group("verdict") == "PASSED",
                    "warmup": match.group("kind") == "warm-up",
                    "iteration": int(match.group("n")),
                    "seconds": seconds,
                    # the published harness prints relative errors; ours, error / tolerance
                    (
                        "max_relative_error"
                        if match.group("measure") == "relative error"
                        else "max_error_ratio"
                    ): error,
                }
            )
            continue
        if "time taken (s)" in line:
            match = _PUBLISHED_TIME.match(line)
            if not match:
                raise _fail(source, number, line, "not a 'time taken (s): value' line")
            published[match.group("stat") or "time"] = float(match.group("value"))
            continue
        if line.startswith("Timing summary"):
            in_summary = True
            continue
        if in_summary:
            if line.startswith("phase ") or not line.strip():
                continue
            once_match = _ONCE_ROW.match(line)
            if once_match:
                once[once_match.group("phase")] = float(once_match.group("value"))
                continue
            if line.startswith(("All ", "Results written", "FAILED:", "cg_drag_ML:")):
                in_summary = False
                continue
            match = _SUMMARY_ROW.match(line)
            if not match:
                raise _fail(source, number, line, "not a summary row (phase and 5 numbers)")
            values = [float(v) for v in match.group("values").split()]
            summary[match.group("phase").strip()] = dict(
                zip(("min", "median", "mean", "stddev", "max"), values, strict=True)
            )
    if not checks and not published:
        raise ProfileParseError(f"{source}: no check lines and no 'time taken' lines")
    return {
        "checks": checks,
        "summary": summary,
        "once": once,
        "published_times": published,
        "passed": all(c["passed"] for c in checks),
    }


def read(kind: str, path: Path, executable: str | None = None) -> dict[str, Any]:
    """Parse the file ``path`` of ``kind`` (``gprof``, ``perf`` or ``output``) to plain data."""
    text = Path(path).read_text(errors="replace")
    if kind == "gprof":
        return parse_gprof(text, str(path)).to_dict()
    if kind == "perf":
        return parse_perf(text, executable or "", str(path)).to_dict()
    if kind == "output":
        return parse_driver_output(text, str(path))
    raise ValueError(f"unknown kind {kind!r} (gprof, perf or output)")
