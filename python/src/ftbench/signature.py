"""Any model through the generic drivers: declared input signatures, the shared
input rule, the tolerance basis and the reference outputs (docs/run-model.md).

A signature entry is ``SIZExSIZE...:DTYPE`` (``1x3x224x224:float32``), sizes in
PyTorch's dimension order. On the Fortran side input ``[d1, ..., dn]`` is the
array ``a(d1, ..., dn)``: the same index order, column-major, so the tensor
element ``x[i1 - 1, ..., in - 1]`` is ``a(i1, ..., in)`` (the coupling layers wrap
it without copying, with Fortran strides). The values follow one rule,
``model.input`` of ``checks.json``, which the Fortran drivers read through the
generated module ``bench_inputs``: every path feeds the model the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from ftbench import checks

DTYPES = {"float32": np.float32, "float64": np.float64}
"""Input dtypes the generic drivers support (the real kinds of both coupling layers)."""
MAX_RANK = 4
"""Largest input rank the generic drivers support."""
MAX_OUTPUTS = 8
"""Largest number of model outputs the drivers check (bench_check's components)."""


class SignatureError(ValueError):
    """A signature that cannot be run: malformed, unsupported, too large, or not the model's."""


@dataclass(frozen=True)
class TensorSpec:
    """One tensor of a signature.

    Attributes:
        shape: sizes in PyTorch's order (the Fortran array's extents, same order).
        dtype: ``float32`` or ``float64``.
    """

    shape: tuple[int, ...]
    dtype: str

    def __str__(self) -> str:
        """``SIZExSIZE...:DTYPE``, the form :func:`parse` reads."""
        return "x".join(str(d) for d in self.shape) + ":" + self.dtype

    @property
    def nbytes(self) -> int:
        """Bytes of one array of this spec."""
        return int(np.prod(self.shape, dtype=object)) * np.dtype(DTYPES[self.dtype]).itemsize


def parse(text: str) -> TensorSpec:
    """Read one ``SIZExSIZE...:DTYPE`` entry (e.g. ``8192x40:float64``).

    Raises:
        SignatureError: malformed, a size below 1, rank above :data:`MAX_RANK`, or a
            dtype other than those of :data:`DTYPES`.
    """
    shape_text, colon, dtype = text.strip().partition(":")
    if not colon or not shape_text:
        raise SignatureError(f"input {text!r} is not SIZExSIZE...:DTYPE (e.g. 1x3x224x224:float32)")
    if dtype not in DTYPES:
        raise SignatureError(
            f"input {text!r}: dtype {dtype!r} is not supported; use {' or '.join(DTYPES)}"
        )
    try:
        shape = tuple(int(size) for size in shape_text.split("x"))
    except ValueError:
        raise SignatureError(
            f"input {text!r}: sizes must be whole numbers joined by 'x' (e.g. 8192x40)"
        ) from None
    if not 1 <= len(shape) <= MAX_RANK:
        raise SignatureError(f"input {text!r} has rank {len(shape)}; ranks 1 to {MAX_RANK} run")
    if min(shape) < 1:
        raise SignatureError(f"input {text!r}: every size must be at least 1")
    return TensorSpec(shape, dtype)


def parse_all(texts: Sequence[str]) -> list[TensorSpec]:
    """Parse every entry (each may itself hold several, comma separated) and refuse a
    signature whose arrays (inputs twice: references and outputs are of similar size)
    would not fit in the memory available now, before anything is allocated.

    Raises:
        SignatureError: as :func:`parse`, no input, or too large for memory.
    """
    specs = [parse(part) for text in texts for part in text.split(",") if part.strip()]
    if not specs:
        raise SignatureError("no input declared: pass --input SIZExSIZE...:DTYPE per input")
    needed = 2 * sum(spec.nbytes for spec in specs)
    available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    if needed > available:
        raise SignatureError(
            f"inputs {', '.join(map(str, specs))} need {needed / 2**30:.1f} GiB with their "
            f"copies, more than the {available / 2**30:.1f} GiB of memory available"
        )
    return specs


def join(specs: Sequence[TensorSpec]) -> str:
    """Comma-separated signature, as the drivers' ``--inputs`` option reads it."""
    return ",".join(map(str, specs))


def model_input(spec: TensorSpec, index: int) -> np.ndarray:
    """Input ``index`` (counted from 0) of ``spec`` by the rule of ``checks.json``
    (``model.input``): a Fortran-ordered array whose element at column-major linear
    index L is ``((element_step L + input_step index) mod modulus) / modulus``, in
    [0, 1) and exact in float32 and float64."""
    rule = checks.model_input_rule()
    size = int(np.prod(spec.shape))
    linear = np.arange(size, dtype=np.int64)
    numerator = (rule["element_step"] * linear + rule["input_step"] * index) % rule["modulus"]
    dtype = DTYPES[spec.dtype]
    values = numerator.astype(dtype) / dtype(rule["modulus"])
    return values.reshape(spec.shape, order="F")


# Operations whose rounding grows with a reduction length, and how to find it
# from their arguments (input, weight, ...) and result.
def _conv_length(args: Sequence[Any], _: Any) -> int:
    weight = args[1]
    return int(np.prod(weight.shape[1:]))


def _second_argument_last_dim(args: Sequence[Any], _: Any) -> int:
    """linear(input, weight) and addmm/baddbmm(bias, a, b): the inner dimension is
    the last one of the second argument."""
    return int(args[1].shape[-1])


def _reduction_length(args: Sequence[Any], result: Any) -> int:
    out = result.numel() if isinstance(result, torch.Tensor) else 1
    return max(1, args[0].numel() // max(out, 1))


def _last_dim_length(args: Sequence[Any], _: Any) -> int:
    """mm/matmul/bmm (inner dimension), softmax, layer norm: the first argument's last
    dimension."""
    return int(args[0].shape[-1]) if args[0].dim() else 1


def _dim_length(args: Sequence[Any], _: Any) -> int:
    return int(args[0].shape[args[1]]) if args[0].dim() else 1


def _recurrent_length(args: Sequence[Any], _: Any) -> int:
    """aten.lstm/gru/rnn_*(input, hx, params, has_biases, num_layers, dropout, train,
    bidirectional, batch_first): every step of the sequence runs each layer's two
    matrix products (input and hidden weights) and a few gate operations."""
    batched = args[0].dim() == 3
    steps = int(args[0].shape[1] if batched and args[8] else args[0].shape[0])
    weights = [p for p in args[2] if p.dim() == 2]
    return steps * sum(int(w.shape[1]) + ELEMENTWISE_ROUNDINGS for w in weights)


def _attention_length(args: Sequence[Any], _: Any) -> int:
    """Scaled dot-product attention (query, key, value, ...): the products over the
    head dimension and over the keys, and the softmax between them."""
    return int(args[0].shape[-1]) + 2 * int(args[1].shape[-2]) + ELEMENTWISE_ROUNDINGS


_REDUCTIONS: dict[str, Callable[[Sequence[Any], Any], int]] = {
    "conv1d": _conv_length,
    "conv2d": _conv_length,
    "conv3d": _conv_length,
    "convolution": _conv_length,
    "_convolution": _conv_length,
    "linear": _second_argument_last_dim,
    "mm": _last_dim_length,
    "matmul": _last_dim_length,
    "bmm": _last_dim_length,
    "addmm": _second_argument_last_dim,
    "baddbmm": _second_argument_last_dim,
    "sum": _reduction_length,
    "mean": _reduction_length,
    "adaptive_avg_pool1d": _reduction_length,
    "adaptive_avg_pool2d": _reduction_length,
    "avg_pool2d": _reduction_length,
    "softmax": _last_dim_length,
    "_softmax": _last_dim_length,
    "log_softmax": _last_dim_length,
    "layer_norm": _last_dim_length,
    "cumsum": _dim_length,
    "cumprod": _dim_length,
    "lstm": _recurrent_length,
    "gru": _recurrent_length,
    "rnn_tanh": _recurrent_length,
    "rnn_relu": _recurrent_length,
}
ELEMENTWISE_ROUNDINGS = 4
"""Rounding units counted for any other floating-point operation (an elementwise
operation rounds once; batch norm's affine form and the transcendental functions
a few times)."""


class _RoundingCounter(TorchDispatchMode):
    """Counts, over the operations one forward dispatches, the rounding units of
    :func:`rounding_units`."""

    def __init__(self) -> None:
        super().__init__()
        self.units = 0
        self.operations = 0

    def __torch_dispatch__(
        self,
        func: Any,
        types: Any,
        args: Sequence[Any] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        result = func(*args, **(kwargs or {}))
        first = result[0] if isinstance(result, tuple | list) and result else result
        if isinstance(first, torch.Tensor) and first.is_floating_point():
            name = func.overloadpacket.__name__
            length = _REDUCTIONS.get(name)
            if "scaled_dot_product" in name:
                length = _attention_length
            self.units += length(args, first) if length else ELEMENTWISE_ROUNDINGS
            self.operations += 1
        return result


def rounding_units(model: Callable[..., Any], inputs: Sequence[torch.Tensor]) -> tuple[int, int]:
    """The tolerance of a model in unit roundoffs of its dtype, and the number of
    floating-point operations counted, from one forward on ``inputs``.

    The first-order forward-error bound K u of a dot product of length K (Higham,
    *Accuracy and Stability of Numerical Algorithms*, section 3.1), summed over every
    operation one forward dispatches: a convolution, matrix product or reduction
    adds its reduction length (in channels x kernel size, inner dimension, reduced
    elements, the length of a cumulative sum), a recurrent layer (LSTM, GRU, RNN)
    its sequence length times the widths of its weight matrices (plus gates),
    scaled dot-product attention the head dimension plus twice the key count, any
    other floating-point operation :data:`ELEMENTWISE_ROUNDINGS`.
    Summing all operations rather than the deepest path (the cgdrag basis) gives a
    larger K for a branching model, never a smaller one. Seen through PyTorch's
    dispatcher, so it works for eager and TorchScript models alike.
    """
    counter = _RoundingCounter()
    with torch.inference_mode(), counter:
        model(*inputs)
    return counter.units, counter.operations
