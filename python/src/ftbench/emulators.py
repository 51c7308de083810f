"""What the embedded path's Python modules (models/*_emulator.py) share.

Those modules hand models to Fortran as opaque objects; this module loads them
(TorchScript files, AOTInductor packages, ``torch.compile``), and remembers
what each model is, so that their ``metadata(model)`` can describe it for the
results file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from ftbench.export import load_with_metadata, read_metadata

COMPILE_MODE = "default"
"""``torch.compile`` mode of the compiled models (backend: Inductor, torch's default)."""

_METADATA: dict[int, dict[str, Any]] = {}


def remember(model: Any, metadata: dict[str, Any]) -> Any:
    """Record ``metadata`` for ``model`` and return the model."""
    _METADATA[id(model)] = metadata
    return model


def load_torchscript(path: str | Path) -> torch.jit.ScriptModule:
    """Load a TorchScript file (``ftbench export``) in eval mode and remember its metadata.

    Raises:
        ValueError: the file does not exist.
        RuntimeError: the file is not TorchScript.
    """
    model, metadata = load_with_metadata(path)
    return remember(model, metadata)


class CheckedPackage:
    """An AOTInductor package that checks every call's inputs against the signature
    ``ftbench export`` stored in it, as the direct coupling layer does.

    The package's compiled code checks nothing: a C-ordered (row-major) input, a
    wrong dtype or a size outside the exported range would give a silently wrong
    answer or a crash. Calling this object raises ``ValueError`` instead.
    """

    def __init__(self, path: str | Path) -> None:
        """Load the package at ``path``.

        Raises:
            FileNotFoundError: no such file.
            ValueError: no ftbench signature, another torch version, or not column-major.
        """
        from torch._inductor import aoti_load_package

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist (create it with `ftbench export`)")
        metadata = read_metadata(path)
        if not metadata or "inputs" not in metadata:
            raise ValueError(
                f"{path} has no input signature (metadata 'ftbench'): "
                "export it with `ftbench export`"
            )
        if metadata.get("torch_version") != torch.__version__:
            raise ValueError(
                f"{path} was compiled by torch {metadata.get('torch_version')} but this is torch "
                f"{torch.__version__}: re-export it with `ftbench export`"
            )
        if metadata.get("layout") != "column-major":
            raise ValueError(f"{path} was not compiled for column-major (Fortran) inputs")
        self.path = path
        self.metadata = metadata
        self.inputs = metadata["inputs"]
        # Per input, what the fast check compares: torch dtype and (min, max) per dimension.
        self._expected = [
            (
                getattr(torch, spec["dtype"]),
                tuple(tuple(d) if isinstance(d, list) else (d, d) for d in spec["shape"]),
            )
            for spec in self.inputs
        ]
        self.package = aoti_load_package(str(path))

    def _explain(self, k: int, tensor: torch.Tensor) -> None:
        """Raise ValueError saying how input ``k`` differs from the signature."""
        spec = self.inputs[k]
        which = f"input {k + 1} ({spec['name']})"
        sizes = ", ".join(
            f"{d[0]}..{d[1]}" if isinstance(d, list) else str(d) for d in spec["shape"]
        )
        wanted = f"; the package expects {spec['dtype']} [{sizes}]"
        dtype, bounds = self._expected[k]
        if tensor.dtype != dtype:
            raise ValueError(
                f"{which} has dtype {str(tensor.dtype).removeprefix('torch.')}{wanted}"
            )
        if tensor.dim() != len(bounds):
            raise ValueError(f"{which} has rank {tensor.dim()}{wanted}")
        if not all(low <= size <= high for size, (low, high) in zip(tensor.shape, bounds)):  # noqa: B905
            raise ValueError(f"{which} has shape {list(tensor.shape)}{wanted}")
        raise ValueError(
            f"{which} has strides {list(tensor.stride())}: the package was compiled for "
            "contiguous column-major (Fortran) arrays"
        )

    def __call__(self, *inputs: torch.Tensor) -> torch.Tensor:
        """Check the inputs (dtype, rank, sizes within the exported range, dense
        column-major strides; a size-1 dimension's stride does not matter), then run
        the package: its one output (a tensor).

        Raises:
            ValueError: an input does not match the package's signature.
        """
        if len(inputs) != len(self._expected):
            raise ValueError(
                f"{len(inputs)} input(s) given but the package takes {len(self._expected)}"
            )
        for k, tensor in enumerate(inputs):
            dtype, bounds = self._expected[k]
            shape = tensor.shape
            ok = tensor.dtype == dtype and len(shape) == len(bounds)
            if ok:
                expected_stride = 1
                for size, stride, (low, high) in zip(shape, tensor.stride(), bounds):  # noqa: B905
                    if not low <= size <= high or (size != 1 and stride != expected_stride):
                        ok = False
                        break
                    expected_stride *= size
            if not ok:
                self._explain(k, tensor)
        return self.package(*inputs)


def load_aoti(path: str | Path) -> CheckedPackage:
    """Load an AOTInductor package (``ftbench export``) that checks its inputs, and
    remember its metadata. Raises as :class:`CheckedPackage`."""
    package = CheckedPackage(path)
    return remember(package, package.metadata)


def compiled(model: torch.nn.Module, metadata: dict[str, str]) -> torch.nn.Module:
    """``torch.compile(model)`` (mode :data:`COMPILE_MODE`, backend Inductor), remembered
    with ``metadata`` whose format becomes ``python-torch.compile``. Compiling happens
    on the first call (the drivers' warm-up), not here."""
    return remember(
        torch.compile(model, mode=COMPILE_MODE, backend="inductor"),
        {**metadata, "format": "python-torch.compile", "compile_mode": COMPILE_MODE},
    )


def metadata_json(model: torch.nn.Module) -> str:
    """JSON text describing ``model`` (``"{}"`` for a model never remembered)."""
    return json.dumps(_METADATA.get(id(model), {}))
