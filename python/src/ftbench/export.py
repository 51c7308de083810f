"""Export benchmark models to TorchScript, each checked by a round trip.

Every exported file carries ``metadata.json`` as a TorchScript extra file
(``torch.jit.save(..., _extra_files=...)``): the model name, benchmark,
variant, dtype, format, torch version, a hash of the model's source file and,
for WaveNet-2, of the checkpoint. The coupling layers expose it so results
name the model they ran, and ``export`` skips files that are current.

Formats: ``scripted`` (``torch.jit.script``) and ``traced-frozen``
(``torch.jit.trace`` on example inputs, then ``torch.jit.freeze``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import torch

from ftbench import __version__
from ftbench.models import large_stride, wavenet

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
        fmt: ``scripted`` or ``traced-frozen``.
        extra: more metadata, e.g. the checkpoint's hash.
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


def specs(checkpoint: Path | None = None) -> tuple[ExportSpec, ...]:
    """Every file ``export`` writes; WaveNet-2's weights come from ``checkpoint``.

    Without a checkpoint only the large-stride models are listed.
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
    if checkpoint is not None:
        digest = file_sha256(checkpoint)
        for file_name, fmt in (
            ("cgdrag_cpu.pt", "scripted"),
            ("cgdrag_traced_cpu.pt", "traced-frozen"),
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
                )
            )
    return tuple(listed)


SPECS: tuple[ExportSpec, ...] = specs()
"""The specs that need no checkpoint (the large-stride models)."""


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def source_hash(spec: ExportSpec) -> str:
    """SHA-256 of the source file that defines the model of ``spec``."""
    return file_sha256(Path(spec.source.__file__ or ""))


def metadata_of(spec: ExportSpec) -> dict[str, str]:
    """The metadata stored with an exported model."""
    return {
        "model": spec.model_name,
        "benchmark": spec.benchmark,
        "variant": spec.variant,
        "dtype": spec.dtype,
        "format": f"torchscript-{spec.fmt}",
        "torch_version": torch.__version__,
        "exported_by": f"ftbench {__version__}",
        "source_sha256": source_hash(spec),
        **spec.extra,
    }


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


def read_metadata(path: Path) -> dict[str, str] | None:
    """Metadata stored in a TorchScript file, or None when absent or unreadable."""
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


def export(spec: ExportSpec, directory: Path) -> Path:
    """Convert the model of ``spec`` to TorchScript, check a save/load round trip, write it.

    The TorchScript module is saved to a temporary file in ``directory`` and
    loaded back. Its output on the example inputs must equal the in-memory
    TorchScript module's exactly, and the eager model's to 1e-12 (relative);
    only then is the file renamed to its final name, so a failed export never
    leaves a file behind.

    Raises:
        RoundTripError: the reloaded model's output differs.
    """
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / spec.file_name
    eager = spec.build()
    inputs = spec.example_inputs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is deprecated in 2.13
        scripted = _to_torchscript(spec, eager)
        fd, temporary = tempfile.mkstemp(prefix=f".{spec.file_name}.", dir=directory)
        os.close(fd)
        try:
            extra = {METADATA_FILE: json.dumps(metadata_of(spec))}
            torch.jit.save(scripted, temporary, _extra_files=extra)
            loaded = torch.jit.load(temporary)
            with torch.inference_mode():
                expected = eager(*inputs)
                in_memory = scripted(*inputs)
                actual = loaded(*inputs)
            if not torch.equal(in_memory, actual) or not torch.allclose(
                expected, actual, rtol=1e-12, atol=0.0
            ):
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
    """True when ``directory`` holds the file of ``spec`` exported from the current source."""
    metadata = read_metadata(directory / spec.file_name)
    return bool(metadata) and metadata == metadata_of(spec)


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
