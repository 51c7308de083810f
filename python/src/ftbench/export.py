"""Export benchmark models to TorchScript, each checked by a round trip.

Every exported file carries ``metadata.json`` as a TorchScript extra file
(``torch.jit.save(..., _extra_files=...)``): the model name, benchmark,
variant, dtype, torch version and a hash of the model's source file. The
direct coupling layer exposes it (``torch_model_metadata``) so results name
the model they ran, and ``export`` skips a file whose hash is current.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from ftbench import __version__
from ftbench.models import large_stride

METADATA_FILE = "metadata.json"


@dataclass(frozen=True)
class ExportSpec:
    """One TorchScript file to write.

    Attributes:
        file_name: name under the models directory, e.g. ``large_stride_loop_cpu.pt``.
        benchmark: benchmark the model belongs to (``large_stride``, ...).
        variant: variant within the benchmark (``loop``, ``vectorized``, ...).
        build: returns the eager model, in eval mode.
        example_inputs: returns inputs for the round-trip check.
        dtype: dtype of the model's inputs and outputs, e.g. ``float32``.
    """

    file_name: str
    benchmark: str
    variant: str
    build: Callable[[], torch.nn.Module]
    example_inputs: Callable[[], Sequence[torch.Tensor]]
    dtype: str

    @property
    def model_name(self) -> str:
        """``<benchmark>_<variant>``, the name reports use."""
        return f"{self.benchmark}_{self.variant}"


def _large_stride_inputs() -> Sequence[torch.Tensor]:
    # A column-major 7 x 5 view, as the Fortran drivers pass it.
    generator = torch.Generator().manual_seed(0)
    return (torch.rand(5, 7, generator=generator).t(),)


SPECS: tuple[ExportSpec, ...] = tuple(
    ExportSpec(
        file_name=f"large_stride_{variant}_cpu.pt",
        benchmark="large_stride",
        variant=variant,
        build=lambda variant=variant: large_stride.build(variant),
        example_inputs=_large_stride_inputs,
        dtype="float32",
    )
    for variant in large_stride.VARIANTS
)


def source_hash(spec: ExportSpec) -> str:
    """SHA-256 of the source file that defines the model of ``spec``."""
    module = inspect.getmodule(type(spec.build()))
    source = Path(inspect.getfile(module)).read_bytes() if module else b""
    return hashlib.sha256(source).hexdigest()


def metadata_of(spec: ExportSpec) -> dict[str, str]:
    """The metadata stored with an exported model."""
    return {
        "model": spec.model_name,
        "benchmark": spec.benchmark,
        "variant": spec.variant,
        "dtype": spec.dtype,
        "format": "torchscript-scripted",
        "torch_version": torch.__version__,
        "exported_by": f"ftbench {__version__}",
        "source_sha256": source_hash(spec),
    }


def read_metadata(path: Path) -> dict[str, str] | None:
    """Metadata stored in a TorchScript file, or None when absent or unreadable."""
    extra = {METADATA_FILE: ""}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.jit.load(str(path), _extra_files=extra)
        return json.loads(extra[METADATA_FILE]) if extra[METADATA_FILE] else None
    except (RuntimeError, ValueError, OSError):
        return None


class RoundTripError(RuntimeError):
    """The reloaded TorchScript model does not reproduce the eager model."""


def export(spec: ExportSpec, directory: Path) -> Path:
    """Script the model of ``spec``, check a save/load round trip, and write it.

    The scripted model is saved to a temporary file in ``directory``, loaded
    back and run on the example inputs; only if its output equals the eager
    model's exactly is the file renamed to its final name (so a failed export
    never leaves a file behind).

    Raises:
        RoundTripError: the reloaded model's output differs from the eager one.
    """
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / spec.file_name
    eager = spec.build()
    inputs = spec.example_inputs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is deprecated in 2.13
        scripted = torch.jit.script(eager)
        fd, temporary = tempfile.mkstemp(prefix=f".{spec.file_name}.", dir=directory)
        os.close(fd)
        try:
            extra = {METADATA_FILE: json.dumps(metadata_of(spec))}
            torch.jit.save(scripted, temporary, _extra_files=extra)
            loaded = torch.jit.load(temporary)
            with torch.inference_mode():
                expected = eager(*inputs)
                actual = loaded(*inputs)
            if not torch.equal(expected, actual):
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
    directory: Path, force: bool = False, only: Sequence[str] = ()
) -> list[tuple[Path, bool]]:
    """Export every model (or the file names in ``only``) to ``directory``.

    Files exported from the current source and torch version are kept unless
    ``force``. Returns ``(path, written)`` pairs.

    Raises:
        ValueError: a name in ``only`` is not a known model file.
        RoundTripError: see :func:`export`.
    """
    known = {spec.file_name: spec for spec in SPECS}
    unknown = sorted(set(only) - set(known))
    if unknown:
        raise ValueError(f"unknown model file(s) {unknown}; known: {sorted(known)}")
    done = []
    for spec in SPECS:
        if only and spec.file_name not in only:
            continue
        if not force and is_current(spec, directory):
            done.append((directory / spec.file_name, False))
        else:
            done.append((export(spec, directory), True))
    return done
