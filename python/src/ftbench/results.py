"""Reading and validating results files (docs/results-schema.md).

Drivers write one JSON file per run; this module loads them, validates each
against ``results.schema.json`` (jsonschema) and exposes what reports need.
"""

from __future__ import annotations

import copy
import json
import re
import tarfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np

HEADLINE_PHASE = "loop"
"""The phase that tables rank paths by: one whole coupled step."""
FORMATS = {
    "python-eager": "eager",
    "torchscript-scripted": "TorchScript",
    "torchscript-traced-frozen": "TorchScript",
    "torchscript": "TorchScript",
    "aoti": "AOTInductor",
    "python-torch.compile": "torch.compile",
}
"""Export metadata ``format`` -> the model format reports show."""
FORMAT_ORDER = ("eager", "TorchScript", "AOTInductor", "torch.compile", "unknown")
"""Order of the formats in report tables."""


PASS_SUFFIX = re.compile(r"_r(\d+)$")
"""How a results file names its pass: ``<name>_r<k>.json`` (``ftbench suite --repeat``)."""


def pass_number(path: Path) -> int:
    """The pass a results file belongs to: ``k`` of ``<name>_r<k>.json``, else 1."""
    found = PASS_SUFFIX.search(Path(path).stem)
    return int(found.group(1)) if found else 1


class ResultsError(ValueError):
    """A results file is missing, unreadable or does not follow the schema."""


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of results files."""
    text = resources.files("ftbench").joinpath("results.schema.json").read_text()
    return json.loads(text)


@dataclass(frozen=True)
class Result:
    """One validated results file.

    Attributes:
        path: where it was read from.
        data: the parsed JSON document.
    """

    path: Path
    data: dict[str, Any]

    @property
    def model_name(self) -> str:
        """Name of the model: its export metadata's ``model``, else the file stem."""
        metadata = self.data.get("model_metadata") or {}
        return str(metadata.get("model") or Path(self.data["model"]).stem)

    @property
    def path_label(self) -> str:
        """Coupling path, with its variant when there is one: ``embedded-python (torchscript)``."""
        variant = self.data.get("coupling_variant")
        return (
            f"{self.data['coupling_path']} ({variant})" if variant else self.data["coupling_path"]
        )

    @property
    def group_key(self) -> tuple[str, str, str, int, str]:
        """Runs comparable with each other: benchmark, model, sizes, threads, dtype."""
        sizes = ", ".join(f"{k}={v}" for k, v in sorted(self.data["sizes"].items()))
        return (
            self.data["benchmark"],
            self.model_name,
            sizes,
            self.data["threads"],
            self.data["dtype"],
        )

    @property
    def model_format(self) -> str:
        """How the model was given: ``eager`` (built in Python), ``TorchScript`` (scripted
        or traced), ``AOTInductor`` (a .pt2 package), ``torch.compile``, or ``unknown``
        (from the export metadata's ``format``)."""
        metadata = self.data.get("model_metadata") or {}
        return FORMATS.get(str(metadata.get("format", "")), "unknown")

    @property
    def grad_mode(self) -> str:
        """``no_grad`` for the native Python baselines run that way, else
        ``inference_mode`` (every coupling path and the C++ baseline)."""
        return "no_grad" if self.data.get("coupling_variant") == "no_grad" else "inference_mode"

    @property
    def is_native(self) -> bool:
        """True for a native baseline (no coupling): ``native-*`` paths."""
        return str(self.data["coupling_path"]).startswith("native")

    @property
    def passed(self) -> bool:
        """True when every iteration passed its correctness check."""
        return bool(self.data["correctness"]["passed"])

    def statistics(self, phase: str = HEADLINE_PHASE) -> dict[str, float | int]:
        """:func:`statistics` of the measured durations of ``phase`` (count, min, median,
        mean, stddev, max), computed from the samples themselves."""
        return statistics(self.seconds(phase))

    def seconds(self, phase: str = HEADLINE_PHASE) -> np.ndarray:
        """Measured durations of ``phase`` (warm-up excluded), in seconds."""
        return np.asarray(self.data["phases"][phase]["seconds"], dtype=float)


def load(path: Path) -> Result:
    """Load and validate one results file.

    Raises:
        ResultsError: unreadable file, malformed JSON, or a schema violation
            (the message names the file and the offending field).
    """
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise ResultsError(f"{path}: cannot read: {error.strerror}") from None
    return _parse(text, Path(path))


def _parse(text: str, path: Path) -> Result:
    """Validate the text of a results file read from ``path``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ResultsError(f"{path}: not JSON: {error}") from None
    try:
        jsonschema.validate(data, schema())
    except jsonschema.ValidationError as error:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ResultsError(f"{path}: field {where}: {error.message}") from None
    missing = [p for p in data["phase_order"] if p not in data["phases"]]
    if missing:
        raise ResultsError(f"{path}: phase_order names phases with no data: {missing}")
    return Result(Path(path), data)


ARCHIVE_SUFFIX = ".tar.xz"
"""A suite's raw results: one xz-compressed tar of its ``*.json`` and ``*.log`` files
(``ftbench suite``), small in git history."""


def load_archive(archive: Path) -> list[Result]:
    """Load every ``*.json`` member of a raw results archive (``<name>.tar.xz``), in name
    order; each result's ``path`` is ``<archive>/<member>``.

    Raises:
        ResultsError: the archive is unreadable or a member is not a valid results file.
    """
    try:
        with tarfile.open(archive, "r:xz") as tar:
            members = sorted(
                (m for m in tar.getmembers() if m.isfile() and m.name.endswith(".json")),
                key=lambda m: m.name,
            )
            texts = [(m.name, tar.extractfile(m).read().decode()) for m in members]  # type: ignore[union-attr]
    except (OSError, tarfile.TarError, EOFError) as error:
        raise ResultsError(f"{archive}: cannot read the archive: {error}") from None
    return [_parse(text, Path(archive) / name) for name, text in texts]


def load_all(paths: Iterable[Path]) -> list[Result]:
    """Load every results file named, expanding directories to their ``*.json`` files
    and raw results archives (``*.tar.xz``) to their members.

    Raises:
        ResultsError: as :func:`load`, or when no file is found at all.
    """
    results: list[Result] = []
    for path in map(Path, paths):
        if path.name.endswith(ARCHIVE_SUFFIX):
            results += load_archive(path)
        elif path.is_dir():
            results += [load(f) for f in sorted(path.glob("*.json"))]
        else:
            results.append(load(path))
    if not results:
        raise ResultsError("no results files found (run the benchmarks first)")
    return results


def statistics(x: np.ndarray) -> dict[str, float | int]:
    """The ``statistics`` block of a phase: count, min, median, mean, stddev (n - 1), max."""
    return {
        "count": int(x.size),
        "min": float(x.min()),
        "median": float(np.median(x)),
        "mean": float(x.mean()),
        "stddev": float(x.std(ddof=1)) if x.size > 1 else 0.0,
        "max": float(x.max()),
    }


def merge_repeats(results: Sequence[Result]) -> list[Result]:
    """Merge runs of one configuration made in separate processes (``ftbench suite --repeat``).

    Runs with the same benchmark, model, sizes, threads, dtype, coupling path and
    model file become one result whose samples are all of theirs, concatenated
    (statistics recomputed), whose check passed only if every run's did, and
    which records ``processes`` (how many runs), ``process_medians`` (each
    run's median of the headline phase), ``process_seconds`` (each run's
    headline samples) and ``process_passes`` (each run's pass, from its file
    name ``<name>_r<k>.json``, else 1): on a shared machine two processes of the
    same program can differ more than two coupling paths do.
    """
    by_key: dict[tuple[object, ...], list[Result]] = defaultdict(list)
    for r in results:
        file = Path(r.data.get("model_file") or r.data["model"]).name
        by_key[(*r.group_key, r.path_label, file)].append(r)
    merged = []
    for runs in by_key.values():
        data = copy.deepcopy(runs[0].data)
        data["processes"] = len(runs)
        data["process_medians"] = [float(np.median(r.seconds())) for r in runs]
        data["process_seconds"] = [r.seconds().tolist() for r in runs]
        data["process_passes"] = [pass_number(r.path) for r in runs]
        if len(runs) > 1:
            for phase in data["phase_order"]:
                seconds = np.concatenate([r.seconds(phase) for r in runs])
                warmup = sum((r.data["phases"][phase]["warmup_seconds"] for r in runs), [])
                data["phases"][phase] = {
                    "seconds": seconds.tolist(),
                    "warmup_seconds": warmup,
                    "statistics": statistics(seconds),
                }
            data["ntimes"] = sum(r.data["ntimes"] for r in runs)
            data["once"] = {
                name: float(
                    np.median([r.data["once"][name] for r in runs if name in r.data["once"]])
                )
                for name in data.get("once", {})
            }
            ratios = [r.data["correctness"]["max_error_ratio"] for r in runs]
            differences = [r.data["correctness"]["max_abs_error"] for r in runs]
            data["correctness"].update(
                max_error_ratio=None if None in ratios else max(ratios),
                max_abs_error=None if None in differences else max(differences),
                error_ratios=sum((r.data["correctness"]["error_ratios"] for r in runs), []),
                failed_iterations=sum(r.data["correctness"]["failed_iterations"] for r in runs),
                passed=all(r.passed for r in runs),
            )
            data["environment"]["utc_time"] = min(r.data["environment"]["utc_time"] for r in runs)
        merged.append(Result(runs[0].path, data))
    return merged
