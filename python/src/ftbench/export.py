"""Export benchmark models to TorchScript and AOTInductor, each checked by a round trip.

Every exported file carries metadata: the model name, benchmark, variant, dtype,
format, torch version, a hash of the model's source file and, for WaveNet-2, of
the checkpoint. The coupling layers expose it so results name the model they
ran, and ``export`` skips files that are current.

Formats:

* ``scripted`` (``torch.jit.script``) and ``traced-frozen`` (``torch.jit.trace``
  on example inputs, then ``torch.jit.freeze``): TorchScript ``.pt`` files, with
  the metadata as the extra file ``metadata.json``. TorchScript is deprecated in
  torch 2.13.
* ``aoti``: ``torch.export.export`` with dynamic sizes (``torch.export.Dim``),
  then ``torch._inductor.aoti_compile_and_package`` with ``freezing`` on (weights
  folded into the compiled code as constants): an AOTInductor ``.pt2`` package,
  with the metadata as package metadata ``ftbench`` (JSON). The example inputs
  are column-major, as the Fortran drivers pass them, and the compiled code
  assumes that layout for every call; the metadata records each input's dtype
  and the range of sizes of each dimension (``inputs``) and ``layout:
  column-major``, so that the coupling layers check every input before they run
  the package (the compiled code checks nothing: a C-ordered input gives a
  silently wrong answer). Compilation takes tens of seconds; ``compile_seconds``
  and ``compiler`` are recorded, and the package is rebuilt only when the
  model's source, its weights, torch or the C++ compiler change.

The large-stride ``loop`` model has no AOTInductor package: ``torch.export``
traces its Python loops into N x M element operations for one fixed N x M, so
the package would accept a single size and hold N x M operations (65,536 at
N = 256; see :data:`NOT_EXPORTABLE`).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import subprocess
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from ftbench import __version__, checks
from ftbench.models import large_stride, resnet, wavenet
from ftbench.signature import rounding_units

METADATA_FILE = "metadata.json"


@dataclass(frozen=True)
class ExportSpec:
    """One TorchScript file to write.

    Attributes:
        file_name: name under the models directory, e.g. ``large_stride_loop_cpu.pt``.
        benchmark: benchmark the model belongs to (``large_stride``, ...).
        variant: variant within the benchmark (``loop``, ``vectorized``, ...).
        build: returns the eager model, in eval mode.
        example_inputs: returns inputs for tracing and the round-trip check.
        dtype: dtype of the model's inputs and outputs, e.g. ``float32``.
        source: the module that defines the model (its file is hashed).
        fmt: ``scripted``, ``traced-frozen`` or ``aoti``.
        extra: more metadata, e.g. the checkpoint's hash.
        dynamic: for ``aoti``, per input, ``{dimension: (name, min, max)}`` of the
            sizes the package accepts (others are fixed at the example's size).
    """

    file_name: str
    benchmark: str
    variant: str
    build: Callable[[], torch.nn.Module]
    example_inputs: Callable[[], Sequence[torch.Tensor]]
    dtype: str
    source: ModuleType
    fmt: str = "scripted"
    extra: dict[str, str] = field(default_factory=dict)
    dynamic: tuple[dict[int, tuple[str, int, int]], ...] = ()

    @property
    def model_name(self) -> str:
        """``<benchmark>_<variant>``, the name reports use."""
        return f"{self.benchmark}_{self.variant}"


def _large_stride_inputs() -> Sequence[torch.Tensor]:
    # A column-major 7 x 5 view, as the Fortran drivers pass it.
    generator = torch.Generator().manual_seed(0)
    return (torch.rand(5, 7, generator=generator).t(),)


def _wavenet_inputs() -> Sequence[torch.Tensor]:
    # 64 columns with column-major strides, as the Fortran drivers pass them.
    generator = torch.Generator().manual_seed(0)
    wind = (torch.randn(40, 64, generator=generator, dtype=torch.float64) * 20).t()
    lat = (torch.rand(1, 64, generator=generator, dtype=torch.float64) * 180 - 90).t()
    pressure = (1e5 + 1e3 * torch.randn(1, 64, generator=generator, dtype=torch.float64)).t()
    return (wind, lat, pressure)


MAX_COLUMNS = 8192
"""Largest column count of the WaveNet-2 package (the whole T42 grid)."""
MAX_N = 1 << 16
"""Largest N x M of the large-stride package (the drivers' limit)."""

NOT_EXPORTABLE = {
    "large_stride_loop_cpu.pt2": (
        "the large-stride loop model has no AOTInductor package: torch.export traces its "
        "Python loops into one operation per element for one fixed N x M, so the package "
        "would accept a single size and hold N x M operations (65,536 at N = 256); use "
        "large_stride_loop_cpu.pt (TorchScript) or the vectorized model"
    )
}
"""Model files that are refused, with the reason."""


def specs(checkpoint: Path | None = None) -> tuple[ExportSpec, ...]:
    """Every file ``export`` writes; WaveNet-2's weights come from ``checkpoint``.

    Without a checkpoint only the large-stride models and ResNet-18 are listed.
    """
    listed = [
        ExportSpec(
            file_name=f"large_stride_{variant}_cpu.pt",
            benchmark="large_stride",
            variant=variant,
            build=lambda variant=variant: large_stride.build(variant),
            example_inputs=_large_stride_inputs,
            dtype="float32",
            source=large_stride,
        )
        for variant in large_stride.VARIANTS
    ]
    listed.append(
        ExportSpec(
            file_name="large_stride_vectorized_cpu.pt2",
            benchmark="large_stride",
            variant="vectorized",
            build=lambda: large_stride.build("vectorized"),
            example_inputs=_large_stride_inputs,
            dtype="float32",
            source=large_stride,
            fmt="aoti",
            dynamic=({0: ("rows", 2, MAX_N), 1: ("cols", 2, MAX_N)},),
        )
    )
    listed.append(
        ExportSpec(
            file_name="resnet18_cpu.pt",
            benchmark="resnet18",
            variant="seeded",
            build=resnet.build,
            example_inputs=lambda: (torch.rand(1, *resnet.IMAGE),),
            dtype="float32",
            source=resnet,
        )
    )
    if checkpoint is not None:
        digest = file_sha256(checkpoint)
        columns = {0: ("columns", 1, MAX_COLUMNS)}
        for file_name, fmt, dynamic in (
            ("cgdrag_cpu.pt", "scripted", ()),
            ("cgdrag_traced_cpu.pt", "traced-frozen", ()),
            ("cgdrag_cpu.pt2", "aoti", (columns, columns, columns)),
        ):
            listed.append(
                ExportSpec(
                    file_name=file_name,
                    benchmark="cgdrag",
                    variant="wavenet2",
                    build=lambda: wavenet.build(Path(checkpoint)),
                    example_inputs=_wavenet_inputs,
                    dtype="float64",
                    source=wavenet,
                    fmt=fmt,
                    extra={"checkpoint": Path(checkpoint).name, "checkpoint_sha256": digest},
                    dynamic=dynamic,
                )
            )
    return tuple(listed)


SPECS: tuple[ExportSpec, ...] = specs()
"""The specs that need no checkpoint (the large-stride models, ResNet-18)."""


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def source_hash(spec: ExportSpec) -> str:
    """SHA-256 of the source file that defines the model of ``spec``."""
    return file_sha256(Path(spec.source.__file__ or ""))


def metadata_of(spec: ExportSpec) -> dict[str, Any]:
    """The metadata stored with an exported model, without the ``compile_seconds``
    that only exporting can tell (seconds to script or trace; for ``aoti``, to
    run torch.export and compile the package)."""
    metadata: dict[str, Any] = {
        "model": spec.model_name,
        "benchmark": spec.benchmark,
        "variant": spec.variant,
        "dtype": spec.dtype,
        "format": "aoti" if spec.fmt == "aoti" else f"torchscript-{spec.fmt}",
        "torch_version": torch.__version__,
        "exported_by": f"ftbench {__version__}",
        "source_sha256": source_hash(spec),
        **spec.extra,
    }
    if spec.fmt == "aoti":
        metadata.update(
            compiler=cpp_compiler(),
            layout="column-major",
            inputs=signature(spec),
        )
    return metadata


def cpp_compiler() -> str:
    """The C++ compiler Inductor compiles packages with: its command and first line of
    ``--version`` (``unknown`` if it does not run)."""
    from torch._inductor.cpp_builder import get_cpp_compiler

    command = get_cpp_compiler()
    try:
        version = subprocess.run(
            [command, "--version"], capture_output=True, text=True, check=True, timeout=60
        ).stdout.splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        version = "unknown"
    return f"{command}: {version}"


def signature(spec: ExportSpec) -> list[dict[str, Any]]:
    """Each input of an ``aoti`` spec: ``name``, ``dtype`` and ``shape``, one entry per
    dimension, an int (fixed size) or ``[min, max]`` (a dynamic size)."""
    names = list(inspect.signature(spec.build().forward).parameters)
    listed = []
    for k, tensor in enumerate(spec.example_inputs()):
        dynamic = spec.dynamic[k] if k < len(spec.dynamic) else {}
        shape: list[Any] = [
            [dynamic[d][1], dynamic[d][2]] if d in dynamic else int(size)
            for d, size in enumerate(tensor.shape)
        ]
        listed.append(
            {"name": names[k], "dtype": str(tensor.dtype).removeprefix("torch."), "shape": shape}
        )
    return listed


def load_with_metadata(path: Path | str) -> tuple[torch.jit.ScriptModule, dict[str, str]]:
    """Load a TorchScript file in eval mode with the metadata stored in it ({} if none).

    Raises:
        ValueError: the file does not exist.
        RuntimeError: the file is not TorchScript.
    """
    extra = {METADATA_FILE: ""}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is deprecated in 2.13
        model = torch.jit.load(str(path), _extra_files=extra).eval()
    return model, json.loads(extra[METADATA_FILE]) if extra[METADATA_FILE] else {}


def read_metadata(path: Path) -> dict[str, Any] | None:
    """Metadata stored in a TorchScript file or an AOTInductor package (``.pt2``),
    or None when absent or unreadable."""
    if Path(path).suffix == ".pt2":
        if not Path(path).is_file():
            return None
        try:
            stored = torch._C._aoti.AOTIModelPackageLoader.load_metadata_from_package(
                str(path), "model"
            )
            return json.loads(stored["ftbench"])
        except (RuntimeError, KeyError, ValueError, OSError):
            return None
    try:
        return load_with_metadata(path)[1] or None
    except (RuntimeError, ValueError, OSError):
        return None


class RoundTripError(RuntimeError):
    """The reloaded TorchScript model does not reproduce the eager model."""


def _to_torchscript(spec: ExportSpec, eager: torch.nn.Module) -> torch.jit.ScriptModule:
    if spec.fmt == "scripted":
        return torch.jit.script(eager)
    if spec.fmt == "traced-frozen":
        return torch.jit.freeze(torch.jit.trace(eager, tuple(spec.example_inputs())))
    raise ValueError(f"{spec.file_name}: unknown TorchScript format {spec.fmt!r}")


def set_package_metadata(path: Path, text: str) -> None:
    """Set the package metadata entry ``ftbench`` of an AOTInductor package to ``text``.

    A package is a zip archive whose ``*_metadata.json`` files hold the metadata
    that ``AOTIModelPackageLoader`` reads (``get_metadata``,
    ``load_metadata_from_package``); they are rewritten, every other member is
    copied unchanged (stored, as AOTInductor writes them).
    """
    rewritten = path.with_name(path.name + ".new")
    with (
        zipfile.ZipFile(path) as source,
        zipfile.ZipFile(rewritten, "w", zipfile.ZIP_STORED) as out,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("_metadata.json") and "/aotinductor/" in info.filename:
                stored = json.loads(data)
                stored["ftbench"] = text
                data = json.dumps(stored).encode()
            out.writestr(info, data)
    os.replace(rewritten, path)


def export_aoti(spec: ExportSpec, directory: Path) -> Path:
    """Export the model of ``spec`` with ``torch.export`` and compile it into an
    AOTInductor package, check it, and write it.

    The package is written to a temporary name in ``directory``, loaded back and
    run on the column-major example inputs: its output must pass the benchmark's
    correctness check (:mod:`ftbench.checks`) against the eager model before the
    file is renamed to its final name.

    Raises:
        RoundTripError: the package's output differs.
    """
    from torch._inductor import aoti_compile_and_package, aoti_load_package

    directory.mkdir(parents=True, exist_ok=True)
    target = directory / spec.file_name
    eager = spec.build()
    inputs = tuple(spec.example_inputs())
    dims: dict[str, torch.export.Dim] = {}
    dynamic_shapes = []
    for k in range(len(inputs)):
        per_input = {}
        for d, (name, low, high) in (spec.dynamic[k] if k < len(spec.dynamic) else {}).items():
            per_input[d] = dims.setdefault(name, torch.export.Dim(name, min=low, max=high))
        dynamic_shapes.append(per_input)
    metadata = metadata_of(spec)
    start = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix=f".{spec.file_name}.", dir=directory))
    try:
        temporary = work / spec.file_name
        # Inductor's on-disk caches off: compile_seconds is what a cold compile costs.
        with warnings.catch_warnings(), torch.compiler.config.patch(force_disable_caches=True):
            # torch 2.13's own pytree code warns about its own deprecated LeafSpec.
            warnings.filterwarnings("ignore", "`isinstance\\(treespec, LeafSpec\\)`", FutureWarning)
            program = torch.export.export(eager, inputs, dynamic_shapes=tuple(dynamic_shapes))
            aoti_compile_and_package(
                program,
                package_path=str(temporary),
                inductor_configs={"freezing": True, "aot_inductor.metadata": {"ftbench": "{}"}},
            )
        metadata["compile_seconds"] = round(time.perf_counter() - start, 3)
        set_package_metadata(temporary, json.dumps(metadata))
        package = aoti_load_package(str(temporary))
        t = checks.tolerance(spec.benchmark)
        with torch.inference_mode():
            expected = eager(*inputs)
            actual = package(*inputs)
        ratio, difference = checks.compare(
            actual.numpy(), expected.numpy(), t.rtol, t.atol(expected.numpy())
        )
        if not ratio <= 1:
            raise RoundTripError(
                f"{spec.file_name}: the AOTInductor package's output differs from the eager "
                f"model (max abs difference {difference:.3g}, {ratio:.3g} x the tolerance)"
            )
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _round_trip_rtol(
    spec: ExportSpec, eager: torch.nn.Module, inputs: Sequence[torch.Tensor]
) -> float:
    """Tolerance (rtol = atol_fraction) of a round-trip check: the benchmark's from
    checks.json, or, for a benchmark run through the generic drivers (ResNet-18),
    the one counted from the model (:func:`ftbench.signature.rounding_units`)."""
    try:
        return checks.tolerance(spec.benchmark).rtol
    except ValueError:
        units, _ = rounding_units(eager, inputs)
        return units * checks.unit_roundoff(spec.dtype)


def export(spec: ExportSpec, directory: Path) -> Path:
    """Convert the model of ``spec`` to TorchScript, check a save/load round trip, write it.

    The TorchScript module is saved to a temporary file in ``directory`` and
    loaded back. Its output on the example inputs must equal the in-memory
    TorchScript module's exactly, and pass the benchmark's correctness check
    (:mod:`ftbench.checks`) against the eager model's; only then is the file
    renamed to its final name, so a failed export never leaves a file behind.
    The seconds spent scripting or tracing are stored as ``compile_seconds``.

    Raises:
        RoundTripError: the reloaded model's output differs.
    """
    if spec.fmt == "aoti":
        return export_aoti(spec, directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / spec.file_name
    eager = spec.build()
    inputs = spec.example_inputs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is deprecated in 2.13
        start = time.perf_counter()
        scripted = _to_torchscript(spec, eager)
        metadata = {**metadata_of(spec), "compile_seconds": round(time.perf_counter() - start, 3)}
        fd, temporary = tempfile.mkstemp(prefix=f".{spec.file_name}.", dir=directory)
        os.close(fd)
        try:
            extra = {METADATA_FILE: json.dumps(metadata)}
            torch.jit.save(scripted, temporary, _extra_files=extra)
            loaded = torch.jit.load(temporary)
            with torch.inference_mode():
                expected = eager(*inputs)
                in_memory = scripted(*inputs)
                actual = loaded(*inputs)
            rtol = _round_trip_rtol(spec, eager, inputs)
            reference = expected.numpy()
            atol = rtol * float(abs(reference).max())
            ratio, _ = checks.compare(actual.numpy(), reference, rtol, atol)
            if not torch.equal(in_memory, actual) or not ratio <= 1:
                raise RoundTripError(
                    f"{spec.file_name}: the reloaded TorchScript output differs from the eager "
                    f"model (max abs difference {(expected - actual).abs().max().item():.3g})"
                )
            os.chmod(temporary, 0o644)  # mkstemp creates it private
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
    return target


def is_current(spec: ExportSpec, directory: Path) -> bool:
    """True when ``directory`` holds the file of ``spec`` exported from the current
    source, weights, torch and (for a package) C++ compiler."""
    metadata = read_metadata(directory / spec.file_name)
    if not metadata:
        return False
    metadata.pop("compile_seconds", None)
    return metadata == metadata_of(spec)


def export_all(
    directory: Path,
    checkpoint: Path | None = None,
    force: bool = False,
    only: Sequence[str] = (),
) -> list[tuple[Path, bool]]:
    """Export every model (or the file names in ``only``) to ``directory``.

    WaveNet-2 files are exported only when a ``checkpoint`` is given. Files
    exported from the current source, checkpoint and torch version are kept
    unless ``force``. Returns ``(path, written)`` pairs.

    Raises:
        ValueError: a name in ``only`` is not a known model file.
        RoundTripError: see :func:`export`.
    """
    all_specs = specs(checkpoint)
    known = {spec.file_name: spec for spec in all_specs}
    refused = sorted(set(only) & set(NOT_EXPORTABLE))
    if refused:
        raise ValueError(f"{refused[0]}: {NOT_EXPORTABLE[refused[0]]}")
    unknown = sorted(set(only) - set(known))
    if unknown:
        raise ValueError(f"unknown model file(s) {unknown}; known: {sorted(known)}")
    done = []
    for spec in all_specs:
        if only and spec.file_name not in only:
            continue
        if not force and is_current(spec, directory):
            done.append((directory / spec.file_name, False))
        else:
            done.append((export(spec, directory), True))
    return done
