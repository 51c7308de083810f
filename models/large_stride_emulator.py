"""Embedded-Python emulator module for the large-stride benchmark (the forpy path).

``benchmarker_large_stride_forpy`` puts this directory on ``sys.path``, imports
this module by name and calls:

* ``initialize(variant)`` -> the model built in Python (``loop`` or ``vectorized``);
* ``initialize_ts(path)`` -> the model loaded from a TorchScript file;
* ``initialize_aoti(path)`` -> the model loaded from an AOTInductor package
  (``.pt2``), checking every call's inputs against the package's signature;
* ``initialize_compiled(variant)`` -> the model built in Python and wrapped in
  ``torch.compile`` (compiled on its first call: the drivers' warm-up);
* ``metadata(model)`` -> JSON text describing the model, for the results file;
* ``compute(model, x, y)`` every iteration.

``x`` and ``y`` are NumPy arrays that wrap the driver's Fortran arrays without
copying (float32, shape (N, N), Fortran order). ``compute`` turns them into
tensors with ``torch.from_numpy`` (views, no copy) and writes the result into
``y`` in place.
"""

from __future__ import annotations

import json

import numpy as np
import torch

from ftbench.emulators import compiled, load_aoti, load_torchscript, metadata_json, remember
from ftbench.models import large_stride


def initialize(variant: str = "loop") -> torch.nn.Module:
    """Build the large-stride model of ``variant`` in Python, in eval mode.

    Raises:
        ValueError: an unknown variant.
    """
    return remember(
        large_stride.build(variant),
        {
            "model": f"large_stride_{variant}",
            "benchmark": "large_stride",
            "variant": variant,
            "dtype": "float32",
            "format": "python-eager",
            "torch_version": torch.__version__,
        },
    )


def initialize_ts(path: str) -> torch.jit.ScriptModule:
    """Load a TorchScript file (``ftbench export``) in eval mode, with its metadata.

    Raises:
        ValueError: the file does not exist; RuntimeError: it is not TorchScript.
    """
    return load_torchscript(path)


def initialize_aoti(path: str) -> object:
    """Load an AOTInductor package (``ftbench export``) that checks its inputs.

    Raises:
        FileNotFoundError: no such file; ValueError: not a package ``ftbench export`` wrote
        for this torch.
    """
    return load_aoti(path)


def initialize_compiled(variant: str = "vectorized") -> torch.nn.Module:
    """The model of ``initialize(variant)`` wrapped in ``torch.compile`` (mode
    ``default``, Inductor), compiled on its first call.

    Raises:
        ValueError: an unknown variant.
    """
    eager = initialize(variant)
    return compiled(eager, json.loads(metadata_json(eager)))


def metadata(model: torch.nn.Module) -> str:
    """JSON text describing ``model`` (``"{}"`` for a model this module did not create)."""
    return metadata_json(model)


def compute(model: torch.nn.Module, x: np.ndarray, y: np.ndarray) -> None:
    """Write ``model(x)`` into ``y`` in place, without copying ``x`` or ``y``.

    Args:
        model: from ``initialize``, ``initialize_ts``, ``initialize_aoti`` or
            ``initialize_compiled``.
        x: float32 array (N, N), the input.
        y: float32 array (N, N), overwritten with the output.
    Raises:
        RuntimeError: the output's shape or dtype differs from ``y``'s.
    """
    with torch.inference_mode():
        torch.from_numpy(y).copy_(model(torch.from_numpy(x)))
