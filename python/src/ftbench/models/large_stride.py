"""The large-stride N x N synthetic model.

``forward(x)`` returns ``2 * x`` with element ``[0, 1]`` negated. The
asymmetry exposes any row-/column-major mix-up between Fortran and PyTorch:
a transposed array would negate ``[1, 0]`` instead. Inputs are 2-D float32
tensors (any strides; the Fortran drivers pass column-major views), outputs
have the same shape and dtype.

Two variants, as in the published harness:

* ``loop``: element-by-element Python loops. Scripted, every element costs a
  few TorchScript interpreter instructions, so the forward is deliberately
  bound by the interpreter (its time grows as N**2 interpreter steps).
* ``vectorized``: one multiplication over the whole tensor.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class LargeStrideLoop(nn.Module):
    """``2 * x`` with ``[0, 1]`` negated, computed one element at a time."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``y`` with ``y[i, j] = 2 * x[i, j]`` and ``y[0, 1] = -2 * x[0, 1]``.

        Args:
            x: float tensor of shape (N, M), N >= 1, M >= 2.
        Returns:
            A new tensor of the same shape and dtype as ``x``.
        """
        y = torch.empty_like(x)
        for i in range(x.shape[0]):
            for j in range(x.shape[1]):
                y[i, j] = 2.0 * x[i, j]
        y[0, 1] = -y[0, 1]
        return y


class LargeStrideVectorized(nn.Module):
    """``2 * x`` with ``[0, 1]`` negated, in one tensor operation."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``y`` with ``y[i, j] = 2 * x[i, j]`` and ``y[0, 1] = -2 * x[0, 1]``.

        Args:
            x: float tensor of shape (N, M), N >= 1, M >= 2.
        Returns:
            A new tensor of the same shape, dtype and memory layout as ``x``.
        """
        y = 2.0 * x
        y[0, 1] = -y[0, 1]
        return y


VARIANTS: dict[str, type[nn.Module]] = {
    "loop": LargeStrideLoop,
    "vectorized": LargeStrideVectorized,
}


def build(variant: str) -> nn.Module:
    """Return the model of the given variant (``"loop"`` or ``"vectorized"``) in eval mode.

    Raises:
        ValueError: for an unknown variant.
    """
    try:
        return VARIANTS[variant]().eval()
    except KeyError:
        raise ValueError(
            f"unknown large-stride variant {variant!r}; choose one of {sorted(VARIANTS)}"
        ) from None


def reference(x: np.ndarray) -> np.ndarray:
    """The analytic answer for input ``x`` (shape (N, M), M >= 2): ``2 * x``, ``[0, 1]`` negated."""
    y = 2 * np.asarray(x)
    y[0, 1] = -y[0, 1]
    return y
