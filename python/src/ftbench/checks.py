"""The correctness check every benchmark applies to every iteration.

One rule, with tolerances defined once in ``checks.json`` (beside this module):
CMake turns the same file into the Fortran module ``bench_tolerances`` and the C
header ``bench_tolerances.h``, and the Fortran drivers and the native C++
baseline compare through the same C function (``fortran/common/bench_check_c.h``).
An element passes when::

    |actual - expected| <= rtol * |expected| + atol,  atol = atol_fraction * max|expected|

with ``max|expected|`` taken over one output component (one drag field, say).
A check records the largest ratio ``|actual - expected| / (rtol |expected| + atol)``
(pass: <= 1) and the largest absolute difference. A NaN, or an infinity the
reference does not have, gives an infinite ratio. See docs/checks.md for the
basis of each tolerance and the measurements behind it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import torch


@dataclass(frozen=True)
class Tolerance:
    """The tolerance of one benchmark's check (an entry of ``checks.json``).

    Attributes:
        benchmark: ``cgdrag`` or ``large_stride``.
        dtype: dtype of the outputs (``float64``, ``float32``).
        rounding_units: the tolerance in unit roundoffs of ``dtype``.
        rtol: relative part (``rounding_units * u``).
        atol_fraction: absolute part as a fraction of ``max|expected|`` per component.
        basis: where the number comes from.
    """

    benchmark: str
    dtype: str
    rounding_units: int
    rtol: float
    atol_fraction: float
    basis: str

    def atol(self, expected: np.ndarray) -> float:
        """Absolute tolerance for one output component: ``atol_fraction * max|expected|``
        over its finite references (0 when none is finite), as ``bench_check_c.h``: an
        infinite reference must not make atol infinite and let every error pass."""
        finite = np.abs(expected[np.isfinite(expected)])
        return self.atol_fraction * float(finite.max()) if finite.size else 0.0


@cache
def _definitions() -> dict[str, Any]:
    """The parsed ``checks.json``."""
    return json.loads(resources.files("ftbench").joinpath("checks.json").read_text())


@cache
def tolerance(benchmark: str) -> Tolerance:
    """The tolerance of ``benchmark`` from ``checks.json``.

    Raises:
        ValueError: no such benchmark in checks.json.
    """
    definitions = _definitions()
    fixed = [k for k, v in definitions.items() if isinstance(v, dict) and "rtol" in v]
    if benchmark not in fixed:
        known = ", ".join(fixed)
        raise ValueError(f"no tolerance for benchmark {benchmark!r} in checks.json ({known})")
    entry = definitions[benchmark]
    return Tolerance(
        benchmark=benchmark, **{k: entry[k] for k in Tolerance.__annotations__ if k != "benchmark"}
    )


def large_stride_input_rule() -> dict[str, int]:
    """The large-stride input rule's integers from ``checks.json`` (``row_step``,
    ``column_step``, ``iteration_step``, ``modulus``); used by
    :func:`ftbench.inputs.large_stride_input`."""
    definitions = _definitions()
    rule = definitions["large_stride"]["input"]
    return {k: int(rule[k]) for k in ("row_step", "column_step", "iteration_step", "modulus")}


def model_input_rule() -> dict[str, int]:
    """The generic drivers' input rule's integers from ``checks.json`` (``model.input``:
    ``element_step``, ``input_step``, ``modulus``); used by
    :func:`ftbench.signature.model_input`."""
    rule = _definitions()["model"]["input"]
    return {k: int(rule[k]) for k in ("element_step", "input_step", "modulus")}


def model_basis() -> str:
    """How the tolerance of a model run through the generic drivers is set (``model.basis``)."""
    return str(_definitions()["model"]["basis"])


def unit_roundoff(dtype: str) -> float:
    """Unit roundoff u = eps / 2 of a floating dtype (2^-53 for float64, 2^-24 for float32)."""
    return float(np.finfo(np.dtype(dtype)).eps) / 2


def compare(
    actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float
) -> tuple[float, float]:
    """Largest error ratio and largest absolute difference of ``actual`` against ``expected``.

    The rule of ``bench_check_c.h``: ratio ``|a - e| / (rtol |e| + atol)`` element by
    element (0 where both are the same infinity; infinite for a NaN or an unexpected
    infinity; where the tolerance is 0, 0 when equal and infinite otherwise). Both
    arrays are compared in float64, element by element (same shape, any memory order).

    Returns:
        ``(max_ratio, max_abs_error)``; the check passes when ``max_ratio <= 1``.
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        raise ValueError(f"actual has shape {a.shape}, expected {e.shape}")
    if a.size == 0:
        return 0.0, 0.0
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        difference = np.abs(a - e)
        bound = rtol * np.abs(e) + atol
        ratio = np.where(bound > 0, difference / bound, np.where(difference == 0, 0.0, np.inf))
    finite = np.isfinite(a) & np.isfinite(e)
    same = ~finite & (a == e)
    ratio = np.where(finite, ratio, np.where(same, 0.0, np.inf))
    difference = np.where(finite, difference, np.where(same, 0.0, np.inf))
    return float(ratio.max()), float(difference.max())


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (``unknown`` where it is not readable)."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def rounding_conditions() -> dict[str, str | int]:
    """What the rounding of a float result depends on, here and now: the CPU model,
    the CPU capability torch dispatches its kernels to
    (``torch.backends.cpu.get_cpu_capability()``), the BLAS torch was built with
    (``BLAS_INFO`` of ``torch.__config__.show()``), torch's version and its
    intra-op thread count."""
    blas = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    return {
        "cpu_model": cpu_model(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "blas": blas.group(1) if blas else "unknown",
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
    }
