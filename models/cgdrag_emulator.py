"""Embedded-Python emulator module for WaveNet-2 gravity-wave drag (MiMA cg_drag, forpy path).

The cgdrag drivers and ``cg_drag_forpy_mod`` put this directory on ``sys.path``,
import this module by name and call, with the published signatures:

* ``initialize(path_weights_stats=None)`` -> WaveNet-2 built in Python from a
  checkpoint in the published layout (``{"weights", "means", "stds"}``), or
  from the synthetic weights when None;
* ``initialize_ts(path)`` -> WaveNet-2 loaded from a TorchScript file;
* ``initialize_aoti(path)`` -> WaveNet-2 loaded from an AOTInductor package
  (``.pt2``), checking every call's inputs against the package's signature;
* ``initialize_compiled(path_weights_stats=None)`` -> ``initialize``'s model
  wrapped in ``torch.compile`` (compiled on its first call: the warm-up);
* ``compute_reshape_drag(model, wind, lat, p_surf, Y_out, num_col)`` every
  step and wind component;
* ``metadata(model)`` -> JSON text describing the model, for results files;
* ``initialize_training(model)`` -> the optimiser of the online-training
  benchmark, and ``train_step(model, optimizer, wind, lat, p_surf, target,
  gradient, out)`` every step (:mod:`ftbench.training`).

All arrays are float64 NumPy arrays that wrap the caller's Fortran arrays
without copying (Fortran order): ``wind`` and ``Y_out`` are (lon, lat, 40) or
already (num_col, 40), ``lat`` (degrees) and ``p_surf`` (Pa) are (lon, lat) or
(num_col, 1). They are viewed as columns (column c = i + nlon*(j-1)), never
copied: a layout that would need a copy raises ValueError instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from ftbench import training
from ftbench.emulators import compiled, load_aoti, load_torchscript, metadata_json, remember
from ftbench.export import file_sha256
from ftbench.models import wavenet


def initialize(path_weights_stats: str | None = None) -> torch.nn.Module:
    """WaveNet-2 in eval mode from a checkpoint file, or the synthetic weights if None.

    Raises:
        FileNotFoundError: the checkpoint does not exist.
        ValueError, RuntimeError: the file is not a WaveNet-2 checkpoint.
    """
    path = Path(path_weights_stats) if path_weights_stats else None
    return remember(
        wavenet.build(path),
        {
            "model": "cgdrag_wavenet2",
            "benchmark": "cgdrag",
            "variant": "wavenet2",
            "dtype": "float64",
            "format": "python-eager",
            "torch_version": torch.__version__,
            "checkpoint": path.name if path else "synthetic",
            "checkpoint_sha256": file_sha256(path) if path else "",
        },
    )


def initialize_ts(path: str) -> torch.jit.ScriptModule:
    """WaveNet-2 from a TorchScript file (``ftbench export``), in eval mode, with its metadata.

    Raises:
        ValueError: the file does not exist; RuntimeError: it is not TorchScript.
    """
    return load_torchscript(path)


def initialize_aoti(path: str) -> object:
    """WaveNet-2 from an AOTInductor package (``ftbench export``) that checks its inputs.

    Raises:
        FileNotFoundError: no such file; ValueError: not a package ``ftbench export`` wrote
        for this torch.
    """
    return load_aoti(path)


def initialize_compiled(path_weights_stats: str | None = None) -> torch.nn.Module:
    """``initialize(path_weights_stats)`` wrapped in ``torch.compile`` (mode ``default``,
    Inductor), compiled on its first call.

    Raises:
        As ``initialize``.
    """
    eager = initialize(path_weights_stats)
    return compiled(eager, json.loads(metadata_json(eager)))


def metadata(model: torch.nn.Module) -> str:
    """JSON text describing ``model`` (``"{}"`` for a model this module did not create)."""
    return metadata_json(model)


def _columns(array: np.ndarray, num_col: int) -> torch.Tensor:
    """A (num_col, k) tensor viewing ``array`` in Fortran column order, never a copy."""
    return torch.from_numpy(np.reshape(array, (num_col, -1), order="F", copy=False))


def compute_reshape_drag(
    model: torch.nn.Module,
    wind: np.ndarray,
    lat: np.ndarray,
    p_surf: np.ndarray,
    Y_out: np.ndarray,
    num_col: int,
) -> None:
    """Write WaveNet-2's drag for ``wind`` into ``Y_out`` in place.

    Args:
        model: from ``initialize``, ``initialize_ts``, ``initialize_aoti`` or
            ``initialize_compiled``.
        wind: float64 (lon, lat, 40) or (num_col, 40), m/s.
        lat: float64 (lon, lat) or (num_col, 1), degrees.
        p_surf: float64 (lon, lat) or (num_col, 1), Pa.
        Y_out: float64 like ``wind``, overwritten with the drag in m/s^2.
        num_col: number of columns (lon * lat).
    Raises:
        ValueError: an array cannot be viewed as (num_col, k) without a copy.
    """
    with torch.inference_mode():
        drag = model(_columns(wind, num_col), _columns(lat, num_col), _columns(p_surf, num_col))
        _columns(Y_out, num_col).copy_(drag)


def initialize_training(model: torch.nn.Module) -> torch.optim.Optimizer:
    """The optimiser of the online-training benchmark over ``model``'s parameters
    (:func:`ftbench.training.make_optimizer`: Adam); the model stays in eval mode.

    Raises:
        TypeError: a model that cannot be trained (an AOTInductor package).
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(
            f"cannot train a {type(model).__name__}: an AOTInductor package runs forward only; "
            "train the model built in Python or its TorchScript file"
        )
    return training.make_optimizer(model)


def train_step(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    wind: np.ndarray,
    lat: np.ndarray,
    p_surf: np.ndarray,
    target: np.ndarray,
    gradient: np.ndarray,
    out: np.ndarray,
) -> None:
    """One training step on the NumPy views of the caller's sample arrays
    (:func:`ftbench.training.train_step`: forward, MSE loss, backward, Adam step).

    Args:
        wind: float64 (nsample, 40), m/s; lat, p_surf: float64 (nsample, 1).
        target: float64 (nsample, 40), m/s^2.
        gradient: float64 (nsample, 40), overwritten with d loss / d wind.
        out: float64 (6,), overwritten with the loss and the seconds of the training
            forward, loss, backward, optimiser step and gradient read.
    """
    tensors = [torch.from_numpy(a) for a in (wind, lat, p_surf, target)]
    loss, seconds = training.train_step(model, optimizer, *tensors, torch.from_numpy(gradient))
    out[0] = loss
    out[1:] = [seconds[name] for name in training.TRAINING_PHASES]
