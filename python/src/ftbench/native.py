"""Native Python baselines: the benchmark models called from Python, no Fortran.

The same models, inputs, sizes and checks as the Fortran drivers, so every
report can say how far each coupling path is from calling the model natively:

* ``native-python-eager``: the ``nn.Module`` built in Python;
* ``native-python-torchscript``: the exported TorchScript file;
* ``native-python-aoti``: the exported AOTInductor package (``.pt2``), through
  the same input-checking wrapper as the embedded path
  (:class:`ftbench.emulators.CheckedPackage`);
* ``native-python-compile``: the ``nn.Module`` under ``torch.compile`` (mode
  ``default``, Inductor), compiled on its first call (the warm-up);

each under ``torch.inference_mode()`` (variant ``inference_mode``) or
``torch.no_grad()`` (variant ``no_grad``). Arrays are NumPy arrays in Fortran
order, as the coupled paths see them, preallocated outside the timed loop.
Phases per iteration: ``tensor creation`` (``torch.from_numpy`` views),
``forward`` (forward and copy into the output array), ``tensor deletion`` and
``loop``. Results follow docs/results-schema.md. The C++ baseline
(``native-cpp-torchscript``) is ``build/bin/benchmarker_native_cpp``. The
Python-hosted f2py path (:mod:`ftbench.f2py_host`) runs through the same
:func:`run_native` with cases of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ftbench import checks, emulators, inputs, run_model, signature, training
from ftbench.export import load_with_metadata
from ftbench.models import large_stride, wavenet
from ftbench.results import statistics

PHASES = ("tensor creation", "forward", "tensor deletion", "loop")
MODES = ("eager", "torchscript", "aoti", "compile")
"""How the native Python baseline gets its model (coupling path ``native-python-<mode>``)."""
REPO = Path(__file__).resolve().parents[3]
TIMING_VARIABLES = (
    "OMP_",
    "MKL_",
    "OPENBLAS_",
    "MALLOC_",
    "GLIBC_TUNABLES",
    "KMP_",
    "TORCHINDUCTOR_",
    "TORCH_COMPILE_",
)
"""Prefixes of the environment variables that change timings (as bench_json_c.cpp records)."""


@dataclass(frozen=True)
class NativeConfig:
    """One native run.

    Attributes:
        benchmark: ``large_stride`` or ``cgdrag``.
        mode: ``eager`` (model built in Python), ``torchscript`` (exported file),
            ``aoti`` (exported package) or ``compile`` (built in Python, torch.compile).
        grad: ``inference_mode`` or ``no_grad``.
        ntimes: measured iterations; warmup: warm-up iterations before them.
        threads: torch intra-op threads (0: torch's default).
        models: directory of the exported models, the checkpoint and data/.
        variant: large_stride model (``loop`` or ``vectorized``); n: its size N.
        columns: cgdrag columns (a multiple of 128, at most 8192).
        quiet: print only failed checks and the summary.
        write_input: large_stride: write the first iteration's input there (raw
            float32, column-major), to compare the paths' inputs.
        case: benchmark ``model``: the ``case.json`` of ``ftbench run-model`` (any
            TorchScript model on a declared signature; :mod:`ftbench.run_model`).
        order: the f2py path only (:mod:`ftbench.f2py_host`): memory order of the
            Python host's arrays, ``F`` (Fortran) or ``C``.
        build: the f2py path only: the build tree holding ``python/ftb_f2py*.so``.
    """

    benchmark: str
    mode: str
    grad: str
    ntimes: int
    warmup: int = 1
    threads: int = 0
    models: Path = Path("models")
    variant: str = "vectorized"
    n: int = 4
    columns: int = 8192
    quiet: bool = False
    write_input: Path | None = None
    case: Path | None = None
    order: str = "F"
    build: Path = Path("build")


def git_commit() -> str:
    """Commit of the repository, ``-dirty`` with tracked changes outside results/,
    docs/ and Markdown files (which change no result; as cmake/WriteBuildInfo.cmake).

    ``unknown`` outside a git checkout.
    """
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        changes = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":!results",
                ":!docs",
                ":!*.md",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if changes else "")


def environment() -> dict[str, Any]:
    """The machine and run conditions, as the drivers record them."""
    conditions = checks.rounding_conditions()
    return {
        "hostname": socket.gethostname(),
        "cpu_model": conditions["cpu_model"],
        "logical_cpus": os.cpu_count() or 0,
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "utc_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_commit": git_commit(),
        "torch_version": torch.__version__,
        "cpu_capability": conditions["cpu_capability"],
        "blas": conditions["blas"],
        "python_version": platform.python_version(),
        "numpy_version": np.__version__,
        "variables": {
            k: v for k, v in sorted(os.environ.items()) if k.startswith(TIMING_VARIABLES)
        },
    }


class _Case:
    """The model, buffers, step and check of one benchmark: what every benchmark's
    case provides to :func:`run_native` (one subclass per benchmark, in :data:`CASES`).

    Attributes (set by the subclass): ``benchmark`` (results name), ``sizes``,
    ``dtype``, ``reference`` (what outputs are compared with), ``tolerance``,
    ``reference_conditions`` (or None), ``model``, ``metadata``, ``file`` (the model
    file, or None when built in Python), ``atol`` (largest atol used per output
    component) and ``once`` (one-off times besides ``model load``); set here and
    changed by other paths' cases: ``phases`` (the timed phases, ``loop`` last),
    ``coupling_path``, ``coupling_variant`` and ``extra`` (more top-level results).
    """

    phases: tuple[str, ...] = PHASES

    def __init__(self, config: NativeConfig, benchmark: str) -> None:
        self.config = config
        self.benchmark = benchmark
        self.coupling_path = f"native-python-{config.mode}"
        self.coupling_variant = config.grad
        self.extra: dict[str, Any] = {}
        self.model: Callable[..., Any] | None = None
        self.metadata: dict[str, Any] = {}
        self.file: Path | None = None
        self.reference_conditions: dict[str, Any] | None = None
        self.atol: dict[str, float] = {}
        self.once: dict[str, float] = {}

    def load(self) -> None:
        """Get the model (the timed ``model load``)."""
        raise NotImplementedError

    def size_outputs(self) -> None:
        """After the load, before the steps: nothing unless the outputs' sizes come
        from the model (:class:`_ModelCase`)."""

    def prepare(self, iteration: int) -> None:
        """Inputs and NaN outputs of ``iteration`` (counted from 0), outside the timed step."""
        raise NotImplementedError

    def step(self, grad: contextlib.AbstractContextManager, t: list[int]) -> None:
        """One timed step; appends one time stamp after the start stamp in ``t`` at
        the end of each phase but ``loop`` (here: tensors created, forward done,
        tensors deleted)."""
        raise NotImplementedError

    def pairs(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """This iteration's outputs and their references, by output component."""
        raise NotImplementedError

    def error(self) -> tuple[float, float]:
        """Largest error ratio and absolute difference of this iteration's outputs
        (:func:`ftbench.checks.compare`, per output component)."""
        ratio = difference = 0.0
        for name, (actual, expected) in self.pairs().items():
            atol = self.tolerance.atol(expected)
            self.atol[name] = max(self.atol.get(name, 0.0), atol)
            r, a = checks.compare(actual, expected, self.tolerance.rtol, atol)
            ratio, difference = max(ratio, r), max(difference, a)
        return ratio, difference

    def _model(
        self, build: Callable[[], torch.nn.Module], file_name: str, metadata: dict[str, str]
    ) -> tuple[Callable[..., torch.Tensor], dict[str, Any], Path | None]:
        """The model of ``config.mode``: built by ``build`` (eager, compile) or loaded
        from ``file_name`` in the models directory (TorchScript, its ``.pt2`` package).

        Raises:
            FileNotFoundError: the exported file is missing.
        """
        if self.config.mode == "eager":
            return build(), {**metadata, "format": "python-eager"}, None
        if self.config.mode == "compile":
            model = emulators.compiled(build(), metadata)
            return model, json.loads(emulators.metadata_json(model)), None
        path = self.config.models / file_name
        if self.config.mode == "aoti":
            path = path.with_suffix(".pt2")
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist (create it with `ftbench export`)")
        if self.config.mode == "aoti":
            package = emulators.load_aoti(path)
            return package, package.metadata, path
        model, stored = load_with_metadata(path)
        return model, stored, path


class _LargeStrideCase(_Case):
    """The large-stride N x N model: inputs by the shared rule, analytic reference."""

    def __init__(self, config: NativeConfig) -> None:
        super().__init__(config, "large_stride")
        n = config.n
        self.x = np.asfortranarray(np.zeros((n, n), dtype=np.float32))
        self.y = np.asfortranarray(np.zeros((n, n), dtype=np.float32))
        self.sizes = {"N": n}
        self.dtype = "float32"
        self.reference = "analytic: 2 * input with element (1, 2) negated"
        self.tolerance = checks.tolerance("large_stride")

    def load(self) -> None:
        """The model of ``config.variant`` as ``config.mode`` says.

        Raises:
            FileNotFoundError: the exported file is missing.
        """
        variant = self.config.variant
        self.model, self.metadata, self.file = self._model(
            lambda: large_stride.build(variant),
            f"large_stride_{variant}_cpu.pt",
            {
                "model": f"large_stride_{variant}",
                "benchmark": "large_stride",
                "variant": variant,
                "dtype": "float32",
            },
        )

    def prepare(self, iteration: int) -> None:
        """New input (:func:`ftbench.inputs.large_stride_input` of ``iteration``) and NaN
        output; with ``config.write_input`` the first input is written there."""
        self.x[...] = inputs.large_stride_input(self.config.n, iteration)
        self.y[...] = np.nan
        if iteration == 0 and self.config.write_input is not None:
            self.x.ravel(order="F").tofile(self.config.write_input)

    def step(self, grad: contextlib.AbstractContextManager, t: list[int]) -> None:
        """One timed step (see :meth:`_Case.step`)."""
        self.forward_arrays(self.x, self.y, grad, t)

    def forward_arrays(
        self, x: np.ndarray, y: np.ndarray, grad: contextlib.AbstractContextManager, t: list[int]
    ) -> None:
        """Tensor creation, forward and tensor deletion (a time stamp after each) on the
        input array ``x`` and the output array ``y`` (written)."""
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        t.append(time.perf_counter_ns())
        with grad:
            yt.copy_(self.model(xt))
        t.append(time.perf_counter_ns())
        del xt, yt
        t.append(time.perf_counter_ns())

    def pairs(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``y`` against 2 * input with element (1, 2) negated."""
        return {"y": (self.y, large_stride.reference(self.x))}


class _CgdragCase(_Case):
    """WaveNet-2 on the first ``config.columns`` columns of the T42 grid: inputs and
    references read from the inputs directory (as the Fortran drivers read them)."""

    def __init__(self, config: NativeConfig) -> None:
        """Read the inputs and references: the work the Fortran drivers do before their timer.

        Raises:
            ValueError: a column count that is not a multiple of 128 in 128..8192.
            FileNotFoundError: no inputs directory or a file of it missing.
        """
        super().__init__(config, "cgdrag")
        if config.columns % inputs.N_LON or not 0 < config.columns <= 8192:
            raise ValueError("columns must be a multiple of 128 between 128 and 8192")
        rows = config.columns // inputs.N_LON
        data = inputs.read_inputs(config.models / "data" / "cgdrag_t42")
        block = {
            k: np.asfortranarray(data[k][:, :rows])
            for k in ("uuu", "vvv", "psfc", "gwfu_ref", "gwfv_ref")
        }
        block["lat"] = np.asfortranarray(
            np.broadcast_to(data["lat"][np.newaxis, :rows], block["psfc"].shape)
        )
        self.data = block
        self.file_data = data  # everything read, for subclasses' own variables
        self.reference_conditions = data["reference_conditions"]
        self.gwfx = np.asfortranarray(np.zeros_like(block["uuu"]))
        self.gwfy = np.asfortranarray(np.zeros_like(block["uuu"]))
        self.sizes = {"columns": config.columns, "levels": wavenet.N_LEVELS}
        self.dtype = "float64"
        self.reference = (
            "WaveNet-2 drag of both wind components (gwfu from uuu, gwfv from vvv) computed "
            "in Python (eager, float64) by `ftbench inputs`"
        )
        self.tolerance = checks.tolerance("cgdrag")

    def load(self) -> None:
        """WaveNet-2 as ``config.mode`` says.

        Raises:
            FileNotFoundError: the exported file or the checkpoint is missing.
        """
        checkpoint = self.config.models / "wavenet_checkpoint.pt"
        self.model, self.metadata, self.file = self._model(
            lambda: wavenet.build(checkpoint),
            "cgdrag_cpu.pt",
            {
                "model": "cgdrag_wavenet2",
                "benchmark": "cgdrag",
                "variant": "wavenet2",
                "dtype": "float64",
            },
        )

    def prepare(self, iteration: int) -> None:
        """NaN outputs (the inputs stay the same every iteration)."""
        self.gwfx[...] = np.nan
        self.gwfy[...] = np.nan

    def step(self, grad: contextlib.AbstractContextManager, t: list[int]) -> None:
        """One timed step (see :meth:`_Case.step`): both wind components."""
        d = self.data
        fields = (d["uuu"], d["vvv"], d["lat"], d["psfc"], self.gwfx, self.gwfy)
        self.forward_columns([inputs.columns(f) for f in fields], grad, t)

    def forward_columns(
        self, columns: list[np.ndarray], grad: contextlib.AbstractContextManager, t: list[int]
    ) -> None:
        """Tensor creation, forward and tensor deletion (a time stamp after each) on the
        (ncol, ...) column arrays u, v, lat, psfc (inputs) and x, y (the drag written)."""
        u, v, la, ps, x, y = (torch.from_numpy(c) for c in columns)
        t.append(time.perf_counter_ns())
        with grad:
            x.copy_(self.model(u, la, ps))
            y.copy_(self.model(v, la, ps))
        t.append(time.perf_counter_ns())
        del u, v, la, ps, x, y
        t.append(time.perf_counter_ns())

    def pairs(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Both drag components against their references."""
        d = self.data
        return {"gwfu": (self.gwfx, d["gwfu_ref"]), "gwfv": (self.gwfy, d["gwfv_ref"])}


class _CgdragTrainCase(_CgdragCase):
    """WaveNet-2 trained online on the whole grid (:mod:`ftbench.training`): each step
    inference on the grid as :class:`_CgdragCase`, then a training step on the
    sample; checked every step against ``train_loss_ref`` (the loss of the training
    step, and the same loss computed from the inference's drag on the sample)."""

    phases = training.PHASES

    def __init__(self, config: NativeConfig) -> None:
        """Read the inputs, references and reference losses.

        Raises:
            ValueError: columns other than the whole grid; more steps than references.
        """
        if config.columns != 8192:
            raise ValueError("cgdrag_train runs on the whole grid (8192 columns)")
        super().__init__(config)
        self.benchmark = "cgdrag_train"
        self.coupling_variant = "training"
        if config.mode not in ("eager", "torchscript"):
            raise ValueError(
                f"cgdrag_train trains the model built in Python (eager) or its TorchScript "
                f"file, not {config.mode!r} (an AOTInductor package runs forward only)"
            )
        self.loss_references = self.file_data["train_loss_ref"]
        if config.warmup + config.ntimes > self.loss_references.size:
            raise ValueError(
                f"cgdrag_train has reference losses for {self.loss_references.size} steps, "
                f"asked for {config.warmup + config.ntimes} (warm-up included)"
            )
        d = self.data
        cols = [inputs.columns(d[k]) for k in ("uuu", "lat", "psfc", "gwfu_ref")]
        self.rows = training.sample_columns(config.columns)
        self.wind, self.lat, self.psfc, self.target = (
            np.zeros((self.rows.size, c.shape[1])) for c in cols
        )
        self.gradient = np.zeros_like(self.wind)
        self.columns = cols
        self.sizes = {
            "columns": config.columns,
            "levels": wavenet.N_LEVELS,
            "training_columns": int(self.rows.size),
        }
        self.tolerance = checks.tolerance("cgdrag_train")
        self.reference = (
            "loss of each training step (and the same loss from the inference's drag on the "
            "sample) against the native Python reference losses of `ftbench inputs`"
        )
        self.iteration = 0
        self.loss = float("nan")
        self.losses: list[float] = []
        self.extra = {"training": training_record()}

    def load(self) -> None:
        """The model (as :class:`_CgdragCase`) and its Adam optimiser."""
        super().load()
        assert isinstance(self.model, torch.nn.Module)
        self.model.eval()
        start = time.perf_counter()
        self.optimizer = training.make_optimizer(self.model)
        self.once["optimiser creation"] = time.perf_counter() - start

    def prepare(self, iteration: int) -> None:
        """NaN outputs, and this step's number."""
        super().prepare(iteration)
        self.iteration = iteration
        self.gradient[...] = np.nan

    def step(self, grad: contextlib.AbstractContextManager, t: list[int]) -> None:
        """Inference on the grid, the sample gathered, then one training step."""
        d = self.data
        fields = (d["uuu"], d["vvv"], d["lat"], d["psfc"], self.gwfx, self.gwfy)
        stamps: list[int] = []
        self.forward_columns([inputs.columns(f) for f in fields], grad, stamps)
        t.append(stamps[-1])  # inference: tensor creation, forwards, tensor deletion
        wind, lat, psfc, reference = self.columns
        np.take(wind, self.rows, axis=0, out=self.wind)
        np.take(lat, self.rows, axis=0, out=self.lat)
        np.take(psfc, self.rows, axis=0, out=self.psfc)
        np.multiply(training.settings().target_scale, reference[self.rows], out=self.target)
        sample = [torch.from_numpy(a) for a in (self.wind, self.lat, self.psfc, self.target)]
        t.append(time.perf_counter_ns())
        assert isinstance(self.model, torch.nn.Module)
        self.loss, phases = training.train_step(
            self.model, self.optimizer, *sample, torch.from_numpy(self.gradient)
        )
        elapsed = t[-1]  # the phases timed inside train_step; the last ends now
        for name in training.TRAINING_PHASES[:-1]:
            elapsed += round(phases[name] * 1e9)
            t.append(elapsed)
        t.append(time.perf_counter_ns())
        self.losses.append(self.loss)
        self.extra["training"]["losses"] = self.losses

    def pairs(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The training loss and the inference's loss on the sample, each against the
        reference loss of this step."""
        expected = np.array([self.loss_references[self.iteration]])
        inference = training.mse(inputs.columns(self.gwfx)[self.rows], self.target)
        return {
            "loss": (np.array([self.loss]), expected),
            "inference loss": (np.array([inference]), expected),
        }


def training_record() -> dict[str, Any]:
    """The ``training`` block of a cgdrag_train result: the settings every path runs."""
    s = training.settings()
    return {
        "optimizer": "adam",
        "learning_rate": s.learning_rate,
        "sample_stride": s.sample_stride,
        "target_scale": s.target_scale,
        "losses": [],
    }


class _ModelCase(_Case):
    """Any TorchScript model on a declared signature (``ftbench run-model``): the
    inputs of the shared rule, Fortran-ordered as the coupled paths pass them,
    checked against the case's references with its tolerance."""

    def __init__(self, config: NativeConfig) -> None:
        """Inputs, outputs and references of ``config.case``.

        Raises:
            ValueError: no case given; FileNotFoundError: the case or a reference is missing.
        """
        if config.case is None:
            raise ValueError("benchmark 'model' needs --case (the case.json of ftbench run-model)")
        case = run_model.load_case(config.case)
        super().__init__(config, case.name)
        self.case = case
        self.inputs = [signature.model_input(s, k) for k, s in enumerate(case.input_specs)]
        self.outputs = [
            np.zeros(s.shape, dtype=signature.DTYPES[s.dtype], order="F") for s in case.output_specs
        ]
        self.references = [
            np.fromfile(path, dtype=signature.DTYPES[s.dtype]).reshape(s.shape, order="F")
            for path, s in zip(case.references, case.output_specs, strict=True)
        ]
        self.sizes: dict[str, str] = {
            **{f"input_{k}": text for k, text in enumerate(case.inputs, start=1)},
            **{f"output_{k}": text for k, text in enumerate(case.outputs, start=1)},
        }
        dtypes = {s.dtype for s in case.input_specs}
        self.dtype = dtypes.pop() if len(dtypes) == 1 else "mixed"
        self.reference = "outputs of native Python on the same inputs"
        self.tolerance = checks.Tolerance(
            benchmark=case.name,
            dtype=case.output_specs[0].dtype,
            rounding_units=case.rounding_units,
            rtol=case.rtol,
            atol_fraction=case.rtol,
            basis=case.basis,
        )
        self.reference_conditions = case.reference_conditions
        self.file = Path(case.model)

    def load(self) -> None:
        """Load the TorchScript file (the timed ``model load``); without ftbench's
        metadata it is described by its stem and format.

        Raises:
            ValueError: a mode other than ``torchscript``.
        """
        if self.config.mode != "torchscript":
            raise ValueError("benchmark 'model' runs the TorchScript file: use --mode torchscript")
        self.model, self.metadata = load_with_metadata(self.case.model)
        if not self.metadata:
            self.metadata = {"model": Path(self.case.model).stem, "format": "torchscript"}

    def size_outputs(self) -> None:
        """One forward, timed once as ``output sizing``: the generic drivers size their
        outputs with it, so every path has run the same forwards before its first
        measured step (TorchScript's profiling executor optimises a graph after its
        first runs)."""
        start = time.perf_counter()
        with torch.inference_mode():
            self.model(*(torch.from_numpy(x) for x in self.inputs))
        self.once["output sizing"] = time.perf_counter() - start

    def prepare(self, iteration: int) -> None:
        """NaN outputs (the inputs stay the same every iteration)."""
        for output in self.outputs:
            output[...] = np.nan

    def step(self, grad: contextlib.AbstractContextManager, t: list[int]) -> None:
        """One timed step (see :meth:`_Case.step`): every output copied into its array."""
        xs = [torch.from_numpy(x) for x in self.inputs]
        ys = [torch.from_numpy(y) for y in self.outputs]
        t.append(time.perf_counter_ns())
        with grad:
            result = self.model(*xs)
            results = result if isinstance(result, tuple | list) else (result,)
            for y, r in zip(ys, results, strict=True):
                y.copy_(r)
        t.append(time.perf_counter_ns())
        del xs, ys, result, results
        t.append(time.perf_counter_ns())

    def pairs(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Every output against its reference ("output 1", ...)."""
        return {
            f"output {k}": pair
            for k, pair in enumerate(zip(self.outputs, self.references, strict=True), start=1)
        }


CASES: dict[str, type[_Case]] = {
    "large_stride": _LargeStrideCase,
    "cgdrag": _CgdragCase,
    "cgdrag_train": _CgdragTrainCase,
    "model": _ModelCase,
}
"""Each benchmark's case: adding a benchmark to the native Python baseline means adding one."""


def run_native(
    config: NativeConfig, json_path: Path | None = None, cases: dict[str, type[_Case]] = CASES
) -> dict[str, Any]:
    """Run one native baseline (or, with other ``cases``, another Python-hosted path),
    print its checks and summary, and return (and optionally write, atomically) its
    results document.

    Raises:
        FileNotFoundError: a model, checkpoint or data file is missing.
        ValueError: an unknown benchmark, mode, grad mode or size.
    """
    if config.mode not in MODES:
        raise ValueError(f"unknown mode {config.mode!r} ({', '.join(MODES)})")
    if json_path is not None:
        check_writable(json_path)
    grads = {"inference_mode": torch.inference_mode, "no_grad": torch.no_grad}
    if config.grad not in grads:
        raise ValueError(f"unknown grad mode {config.grad!r} (inference_mode or no_grad)")
    if config.threads > 0:
        torch.set_num_threads(config.threads)
    document: dict[str, Any] = {"schema_version": 2, "environment": environment()}
    if config.benchmark not in cases:
        raise ValueError(f"unknown benchmark {config.benchmark!r} ({', '.join(cases)})")
    case = cases[config.benchmark](config)
    phases = case.phases
    start = time.perf_counter()
    case.load()
    load_seconds = time.perf_counter() - start
    case.size_outputs()
    total = config.warmup + config.ntimes
    seconds = np.zeros((total, len(phases)))
    ratios = np.zeros(total)
    differences = np.zeros(total)
    for it in range(total):
        case.prepare(it)
        stamps = [time.perf_counter_ns()]
        case.step(grads[config.grad](), stamps)
        t = np.array(stamps, dtype=np.int64)
        seconds[it] = np.append(np.diff(t), t[-1] - t[0]) * 1e-9
        ratios[it], differences[it] = case.error()
        ok = ratios[it] <= 1
        label = f"warm-up {it + 1}" if it < config.warmup else f"iteration {it - config.warmup + 1}"
        line = (
            f"{'PASSED' if ok else 'FAILED'} :: [check {label} ({seconds[it, -1]:9.3E} s)] "
            f"maximum error / tolerance = {ratios[it]:10.4E}"
        )
        if not ok:
            print(line, file=sys.stderr)
        elif not config.quiet:
            print(line)
    measured = seconds[config.warmup :]
    failed = int(np.sum(~(ratios <= 1)))
    measured_ratios = ratios[config.warmup :]
    worst_difference = differences[config.warmup :].max()
    document.update(
        {
            "benchmark": case.benchmark,
            "coupling_path": case.coupling_path,
            "coupling_variant": case.coupling_variant,
            "model": str(case.file) if case.file else f"ftbench.models ({config.benchmark})",
            "model_metadata": case.metadata,
            "ntimes": config.ntimes,
            "warmup": config.warmup,
            "threads_requested": config.threads,
            "threads": torch.get_num_threads(),
            "sizes": case.sizes,
            "dtype": case.dtype,
            "device": "cpu",
            "command_line": " ".join(sys.argv),
            "phase_order": list(phases),
            "phases": {
                phase: {
                    "seconds": measured[:, k].tolist(),
                    "warmup_seconds": seconds[: config.warmup, k].tolist(),
                    "statistics": statistics(measured[:, k]),
                }
                for k, phase in enumerate(phases)
            },
            "once": {"model load": load_seconds, **case.once},
            "correctness": {
                "reference": case.reference,
                "rtol": case.tolerance.rtol,
                "atol_fraction": case.tolerance.atol_fraction,
                "atol": case.atol,
                "max_error_ratio": _finite_or_none(measured_ratios.max()),
                "max_abs_error": _finite_or_none(worst_difference),
                "error_ratios": [_finite_or_none(r) for r in measured_ratios],
                **(
                    {"reference_conditions": case.reference_conditions}
                    if case.reference_conditions
                    else {}
                ),
                "failed_iterations": failed,
                "passed": failed == 0,
            },
            **case.extra,
        }
    )
    print(
        f"Timing summary (wall clock): {config.ntimes} measured iterations; "
        f"{config.warmup} warm-up iteration(s) excluded."
    )
    for phase in phases:
        s = document["phases"][phase]["statistics"]
        print(
            f"{phase:31s}"
            + "".join(f"{s[k]:13.4E}" for k in ("min", "median", "mean", "stddev", "max"))
        )
    if json_path is not None:
        write_json(document, json_path)
    return document


def _finite_or_none(value: float) -> float | None:
    """JSON has no infinity: non-finite values are written as null, as the drivers do."""
    return float(value) if np.isfinite(value) else None


def check_writable(path: Path) -> None:
    """Fail before a run whose results file could not be written: create and
    delete a temporary file beside ``path``, as :func:`write_json` will. (A disk
    that fills up during the run is still reported by :func:`write_json`.)

    Raises:
        OSError: the directory does not exist or files cannot be created in it.
    """
    try:
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as error:
        raise OSError(
            f"--json: cannot create files in directory '{path.parent}' "
            f"({error.strerror}; choose a writable one)"
        ) from None


def write_json(document: dict[str, Any], path: Path) -> None:
    """Write a results document atomically (temporary file in the same directory, then rename)."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(document, out, indent=2)
            out.write("\n")
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
