"""Embedded-Python module of the generic drivers (any model, ``ftbench run-model``).

``benchmarker_model_forpy`` imports this module and calls:

* ``initialize(path)`` -> the model loaded from a TorchScript file, or from an
  AOTInductor package (``.pt2``, checking every call's inputs against its
  signature, as the direct layer does);
* ``metadata(model)`` -> JSON text describing the model, for the results file;
* ``output_signature(model, *inputs)`` -> the outputs of one forward as
  ``SIZExSIZE...:DTYPE`` entries, comma separated (sizes the Fortran outputs);
* ``compute(model, n_inputs, *arrays)`` every iteration.

The arrays are NumPy arrays that wrap the driver's Fortran arrays without
copying (Fortran order, the declared shapes): the first ``n_inputs`` are the
inputs, the rest the outputs, which ``compute`` overwrites in place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ftbench.emulators import load_aoti, load_torchscript, metadata_json, remember


def initialize(path: str) -> Any:
    """Load the model at ``path``: an AOTInductor package when it ends in ``.pt2``,
    else a TorchScript file. A file without ftbench's metadata is described by its
    stem and format.

    Raises:
        FileNotFoundError: no such file; ValueError: a package ``ftbench export`` did
        not write for this torch; RuntimeError: not TorchScript.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path} does not exist")
    if path.endswith(".pt2"):
        return load_aoti(path)
    model = load_torchscript(path)
    if metadata_json(model) == "{}":
        remember(model, {"model": Path(path).stem, "format": "torchscript"})
    return model


def metadata(model: Any) -> str:
    """JSON text describing ``model`` (``"{}"`` for a model this module did not load)."""
    return metadata_json(model)


def _results(model: Any, inputs: tuple[np.ndarray, ...]) -> list[torch.Tensor]:
    with torch.inference_mode():
        result = model(*(torch.from_numpy(x) for x in inputs))
    return list(result) if isinstance(result, tuple | list) else [result]


def output_signature(model: Any, *inputs: np.ndarray) -> str:
    """Run forward once on ``inputs`` and describe its outputs: ``SIZExSIZE...:DTYPE``
    per output (PyTorch order), comma separated, ``scalar:DTYPE`` for a 0-dimensional one.

    Raises:
        TypeError: an output is not a tensor; anything forward raises.
    """
    entries = []
    for k, tensor in enumerate(_results(model, inputs), start=1):
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"model output {k} is a {type(tensor).__name__}, not a tensor")
        sizes = "x".join(str(d) for d in tensor.shape) or "scalar"
        entries.append(f"{sizes}:{str(tensor.dtype).removeprefix('torch.')}")
    return ",".join(entries)


def compute(model: Any, n_inputs: int, *arrays: np.ndarray) -> None:
    """Run ``model`` on ``arrays[:n_inputs]`` and write its outputs into
    ``arrays[n_inputs:]`` in place (no copy of the inputs).

    Raises:
        ValueError: the model returns another number of outputs than arrays given;
        RuntimeError: an output's shape or dtype differs from its array's.
    """
    outputs = arrays[n_inputs:]
    results = _results(model, arrays[:n_inputs])
    if len(results) != len(outputs):
        raise ValueError(f"model returned {len(results)} output(s) for {len(outputs)} array(s)")
    for array, result in zip(outputs, results, strict=True):
        target = torch.from_numpy(array)
        if result.shape != target.shape or result.dtype != target.dtype:
            raise RuntimeError(
                f"model output {tuple(result.shape)} {result.dtype} does not fit array "
                f"{tuple(target.shape)} {target.dtype}"
            )
        target.copy_(result)
