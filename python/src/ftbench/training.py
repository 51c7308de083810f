"""Online training of WaveNet-2 (benchmark ``cgdrag_train``): one definition for every path.

Each step of the benchmark runs inference on the whole T42 grid (both wind
components, as ``cgdrag``) and then one training step of the model on a fixed
sample of columns: every ``sample_stride``-th column from the first (Fortran
columns 1, 9, 17, ...: 1024 of the 8192), with the zonal wind as input and
``target_scale`` × the reference drag ``gwfu_ref`` of those columns as target (the
network learns to give 10 % more drag, a target the starting weights miss, so
the loss falls), the mean squared error over the sample's 1024 × 40 values as
loss, and Adam (``torch.optim`` defaults but the learning rate) over every
parameter. The model stays in eval mode (batch-norm statistics frozen, as when
fine-tuning). The gradient of the loss with respect to the sample's wind is read
back every step (what an online scheme that adjusts its inputs would use).

The numbers live in ``checks.json`` (``cgdrag_train``), which CMake turns into the
Fortran and C++ constants, so every path trains the same way. ``ftbench inputs``
writes the reference loss of each of the first ``reference_steps`` steps
(:func:`reference_losses`, native Python on 1 thread) into the inputs, and
every path checks each step's loss against it (tolerance: ``checks.json``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ftbench import checks

PHASES = (
    "inference",
    "sample",
    "training forward",
    "loss",
    "backward",
    "optimiser step",
    "gradient read",
    "loop",
)
"""Phases of one cgdrag_train step, on every path (docs/training.md)."""
TRAINING_PHASES = ("training forward", "loss", "backward", "optimiser step", "gradient read")
"""The phases :func:`train_step` times itself."""


@dataclass(frozen=True)
class Settings:
    """The training every path runs (``checks.json``, ``cgdrag_train``)."""

    learning_rate: float
    sample_stride: int
    target_scale: float
    reference_steps: int


def settings() -> Settings:
    """The training settings from ``checks.json``."""
    entry = checks._definitions()["cgdrag_train"]
    return Settings(
        learning_rate=float(entry["learning_rate"]),
        sample_stride=int(entry["sample_stride"]),
        target_scale=float(entry["target_scale"]),
        reference_steps=int(entry["reference_steps"]),
    )


def sample_columns(ncol: int = 8192) -> np.ndarray:
    """Indices (from 0) of the sampled columns among ``ncol`` Fortran-ordered columns."""
    return np.arange(0, ncol, settings().sample_stride)


def make_optimizer(model: torch.nn.Module) -> torch.optim.Optimizer:
    """Adam over the model's parameters at the settings' learning rate."""
    return torch.optim.Adam(model.parameters(), lr=settings().learning_rate)


def train_step(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    wind: torch.Tensor,
    lat: torch.Tensor,
    psfc: torch.Tensor,
    target: torch.Tensor,
    gradient: torch.Tensor | None = None,
) -> tuple[float, dict[str, float]]:
    """One training step on a sample: forward with autograd, MSE loss, backward, an
    optimiser step (then the gradients cleared), and the gradient of the loss with
    respect to ``wind`` copied into ``gradient``.

    Args:
        wind: (nsample, 40) float64, m/s (made to require grad here, then released).
        lat: (nsample, 1) float64, degrees; psfc: (nsample, 1) float64, Pa.
        target: (nsample, 40) float64, m/s^2.
        gradient: (nsample, 40) float64, overwritten with d loss / d wind (or None).
    Returns:
        The loss (before the update) and the seconds of each of :data:`TRAINING_PHASES`.
    """
    stamps = [time.perf_counter()]
    wind.requires_grad_(True)
    prediction = model(wind, lat, psfc)
    stamps.append(time.perf_counter())
    loss = F.mse_loss(prediction, target)
    value = loss.item()
    stamps.append(time.perf_counter())
    loss.backward()
    stamps.append(time.perf_counter())
    optimizer.step()
    optimizer.zero_grad()
    stamps.append(time.perf_counter())
    if gradient is not None:
        gradient.copy_(wind.grad)
    wind.grad = None
    wind.requires_grad_(False)
    stamps.append(time.perf_counter())
    return value, dict(zip(TRAINING_PHASES, np.diff(stamps).tolist(), strict=True))


def sample_arrays(
    wind: np.ndarray, lat: np.ndarray, psfc: np.ndarray, reference: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The sample's (nsample, 40) wind, (nsample, 1) lat and psfc and (nsample, 40)
    target from (ncol, ...) column arrays, as contiguous C-ordered copies."""
    rows = sample_columns(wind.shape[0])
    return (
        np.ascontiguousarray(wind[rows]),
        np.ascontiguousarray(lat[rows]),
        np.ascontiguousarray(psfc[rows]),
        np.ascontiguousarray(settings().target_scale * reference[rows]),
    )


def reference_losses(
    model: torch.nn.Module,
    wind: np.ndarray,
    lat: np.ndarray,
    psfc: np.ndarray,
    reference: np.ndarray,
    steps: int,
) -> np.ndarray:
    """The loss of each of ``steps`` training steps of ``model`` (trained in place),
    from (ncol, ...) column arrays of the whole grid and the reference drag."""
    optimizer = make_optimizer(model)
    sample = [torch.from_numpy(a) for a in sample_arrays(wind, lat, psfc, reference)]
    losses = [train_step(model, optimizer, *sample)[0] for _ in range(steps)]
    return np.array(losses)


def mse(actual: np.ndarray, target: np.ndarray) -> float:
    """Mean squared difference (the loss as every path computes it, for the checks)."""
    return float(np.mean((np.asarray(actual) - np.asarray(target)) ** 2))
