"""The third direction: a Python host calling the project's Fortran through NumPy's f2py.

The time loop and the model live in Python; the Fortran physics side is the
extension module ``ftb_f2py`` (``fortran/f2py/ftb_f2py.f90``, built by CMake
into ``<build>/python/``). Each step of coupling path ``f2py``:

1. ``copy to Fortran order``: with C-ordered host arrays (variant ``c-order``),
   the inputs are copied into new Fortran-ordered arrays (``np.asfortranarray``,
   what f2py itself does, hidden inside the call, for an intent(in) array that
   is not Fortran-ordered; made explicit here so that it is timed); nothing with
   Fortran-ordered arrays (variant ``fortran-order``);
2. ``f2py call before``: Fortran packs the state into the model's inputs
   (cgdrag: ``cgdrag_pack_columns``, the (lon, lat, lev) -> (ncol, lev) reshape
   of the Fortran drivers' ``--explicit-reshape``; large-stride:
   ``large_stride_pack``, an N x N copy);
3. ``tensor creation``, ``forward``, ``tensor deletion``: the model in Python
   on ``torch.from_numpy`` views, as the native Python baseline runs it;
4. ``f2py call after``: Fortran writes the model's outputs into the state
   (``cgdrag_apply_drag``; ``large_stride_unpack``);
5. ``copy from Fortran order``: with C-ordered host arrays, the outputs are
   copied from Fortran-ordered staging arrays into the host's C-ordered ones
   (f2py refuses a C-ordered array for an intent(inout) argument); nothing
   otherwise;

and ``loop``, the whole step. Every iteration is checked by the Fortran check
(``check_real64`` / ``check_real32``: bench_check's rule) through f2py. The
large-stride model at N = 4 gives the f2py path's fixed cost per call: its
``f2py call before`` phase is one f2py call on a 4 x 4 array.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ftbench import native
from ftbench.models import large_stride

PHASES = (
    "copy to Fortran order",
    "f2py call before",
    "tensor creation",
    "forward",
    "tensor deletion",
    "f2py call after",
    "copy from Fortran order",
    "loop",
)
ORDERS = {"F": "fortran-order", "C": "c-order"}
"""Memory order of the host's arrays (``--order``) and the coupling variant it gives."""
EXTENSION = "ftb_f2py"


def load_extension(build: Path) -> ModuleType:
    """Import the f2py extension module from ``<build>/python/``.

    Raises:
        FileNotFoundError: the build tree has no such module (build the project).
    """
    directory = build / "python"
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = directory / f"{EXTENSION}{suffix}"
        if path.exists():
            spec = importlib.util.spec_from_file_location(EXTENSION, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    raise FileNotFoundError(
        f"no f2py module {EXTENSION} in {directory} (build the project: scripts/build.sh)"
    )


def flat(array: np.ndarray) -> np.ndarray:
    """``array``'s values in Fortran (column-major) order as a 1-D array: a view of a
    Fortran-ordered array, a copy of any other."""
    return array.reshape(-1, order="F")


def address(extension: ModuleType, array: np.ndarray) -> int:
    """The address the Fortran side receives for ``array`` (float64 or float32, any
    rank) passed as an intent(in) argument: ``array.ctypes.data`` when f2py passed
    the caller's memory, another address when it copied (``address_real64`` /
    ``address_real32`` of ``ftb_f2py``)."""
    routine = extension.address_real32 if array.dtype == np.float32 else extension.address_real64
    return int(routine(array))


class _F2pyCase:
    """What both f2py cases add to their benchmark's native case: the extension,
    the host arrays' order, the phases, the Fortran check and the zero-copy record."""

    config: native.NativeConfig
    atol: dict[str, float]
    tolerance: Any
    extra: dict[str, Any]

    def _start(self, config: native.NativeConfig) -> None:
        if config.order not in ORDERS:
            raise ValueError(f"unknown order {config.order!r} (F or C)")
        if config.grad != "inference_mode":
            raise ValueError("the f2py path runs under inference_mode only")
        self.fortran = load_extension(config.build)
        self.c_order = config.order == "C"
        self.coupling_path = "f2py"
        self.coupling_variant = ORDERS[config.order]

    def _host(self, array: np.ndarray) -> np.ndarray:
        """A host array of the configured order holding ``array``'s values."""
        return np.ascontiguousarray(array) if self.c_order else np.asfortranarray(array)

    def _record(self, arrays: dict[str, np.ndarray]) -> None:
        """Record, for the results, whether Fortran received each array the step passes
        it without a copy (its address against the array's own)."""
        self.extra["f2py"] = {
            "extension": str(Path(self.fortran.__file__).resolve()),
            "numpy_version": np.__version__,
            "host_order": self.config.order,
            "zero_copy": {
                name: address(self.fortran, a) == a.ctypes.data for name, a in arrays.items()
            },
        }

    def _fortran_error(
        self, pairs: dict[str, tuple[np.ndarray, np.ndarray]]
    ) -> tuple[float, float]:
        """Largest error ratio and absolute difference by the Fortran check, per component."""
        ratio = difference = 0.0
        check = {np.float64: self.fortran.check_real64, np.float32: self.fortran.check_real32}
        for name, (actual, expected) in pairs.items():
            r, a, atol = check[expected.dtype.type](
                flat(actual), flat(expected), self.tolerance.rtol, self.tolerance.atol_fraction
            )
            self.atol[name] = max(self.atol.get(name, 0.0), float(atol))
            ratio, difference = max(ratio, float(r)), max(difference, float(a))
        return ratio, difference


class CgdragF2pyCase(_F2pyCase, native._CgdragCase):
    """WaveNet-2 on the T42 grid with the Fortran side called through f2py."""

    phases = PHASES

    def __init__(self, config: native.NativeConfig) -> None:
        """Read the inputs (as the native case) and lay out the host, staging and
        column arrays.

        Raises:
            FileNotFoundError: no inputs directory or no f2py module; ValueError: a bad
            order, grad mode or column count.
        """
        native._CgdragCase.__init__(self, config)
        self._start(config)
        d = self.data
        self.host = {k: self._host(d[k]) for k in ("uuu", "vvv", "lat", "psfc")}
        self.gwfx, self.gwfy = self._host(self.gwfx), self._host(self.gwfy)
        # Fortran-ordered outputs Fortran writes into: the host's own when they are.
        self.staged = (
            (np.zeros_like(self.gwfx, order="F"), np.zeros_like(self.gwfy, order="F"))
            if self.c_order
            else (self.gwfx, self.gwfy)
        )
        ncol, nlev = config.columns, self.sizes["levels"]
        self.cols = {
            k: np.zeros((ncol, nlev if k in "uvxy" else 1), order="F")
            for k in ("u", "v", "lat", "psfc", "x", "y")
        }
        self._record({**self.host, "gwfcng_x": self.gwfx, "gwfcng_y": self.gwfy})

    def step(self, grad: contextlib.AbstractContextManager, t: list[int]) -> None:
        """One timed step (the phases of :data:`PHASES`): both wind components."""
        h, c, fortran = self.host, self.cols, self.fortran
        if self.c_order:
            fields = [np.asfortranarray(h[k]) for k in ("uuu", "vvv", "lat", "psfc")]
        else:
            fields = [h[k] for k in ("uuu", "vvv", "lat", "psfc")]
        t.append(time.perf_counter_ns())
        fortran.cgdrag_pack_columns(*fields, c["u"], c["v"], c["lat"], c["psfc"])
        t.append(time.perf_counter_ns())
        self.forward_columns([c[k] for k in ("u", "v", "lat", "psfc", "x", "y")], grad, t)
        fortran.cgdrag_apply_drag(c["x"], c["y"], *self.staged)
        t.append(time.perf_counter_ns())
        if self.c_order:
            self.gwfx[...] = self.staged[0]
            self.gwfy[...] = self.staged[1]
        t.append(time.perf_counter_ns())

    def error(self) -> tuple[float, float]:
        """The Fortran check (through f2py) of both drag components."""
        return self._fortran_error(self.pairs())


class LargeStrideF2pyCase(_F2pyCase, native._LargeStrideCase):
    """The large-stride N x N model with the Fortran side called through f2py."""

    phases = PHASES

    def __init__(self, config: native.NativeConfig) -> None:
        """Host, staging and model arrays.

        Raises:
            FileNotFoundError: no f2py module; ValueError: a bad order or grad mode.
        """
        native._LargeStrideCase.__init__(self, config)
        self._start(config)
        self.x, self.y = self._host(self.x), self._host(self.y)
        self.x_in = np.zeros_like(self.x, order="F")
        self.y_out = np.zeros_like(self.y, order="F")
        self.y_staged = np.zeros_like(self.y, order="F") if self.c_order else self.y
        self._record({"x": self.x, "y": self.y})

    def step(self, grad: contextlib.AbstractContextManager, t: list[int]) -> None:
        """One timed step (the phases of :data:`PHASES`)."""
        fortran = self.fortran
        x = np.asfortranarray(self.x) if self.c_order else self.x
        t.append(time.perf_counter_ns())
        fortran.large_stride_pack(x, self.x_in)
        t.append(time.perf_counter_ns())
        self.forward_arrays(self.x_in, self.y_out, grad, t)
        fortran.large_stride_unpack(self.y_out, self.y_staged)
        t.append(time.perf_counter_ns())
        if self.c_order:
            self.y[...] = self.y_staged
        t.append(time.perf_counter_ns())

    def pairs(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``y`` against 2 * input with element (1, 2) negated."""
        return {"y": (self.y, large_stride.reference(self.x))}

    def error(self) -> tuple[float, float]:
        """The Fortran check (through f2py) of ``y``."""
        return self._fortran_error(self.pairs())


CASES: dict[str, type[native._Case]] = {
    "large_stride": LargeStrideF2pyCase,
    "cgdrag": CgdragF2pyCase,
}
"""The benchmarks the f2py path runs."""


def run_f2py(config: native.NativeConfig, json_path: Path | None = None) -> dict[str, Any]:
    """Run the f2py path on ``config.benchmark`` (:func:`ftbench.native.run_native` with
    :data:`CASES`) and return (and optionally write) its results document.

    Raises:
        FileNotFoundError: the f2py module, a model or the data is missing.
        ValueError: an unknown benchmark, mode, order or size.
    """
    return native.run_native(config, json_path, CASES)


if __name__ == "__main__":  # pragma: no cover - run through ftbench f2py
    sys.exit("run it as `ftbench f2py`")
